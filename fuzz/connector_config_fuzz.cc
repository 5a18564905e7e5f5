// SPDX-License-Identifier: EUPL-1.2
// A connector's configuration: any text is a configuration or diagnostics
// with their line, never a crash.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "connector/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carrefour;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = connector::ParseConfigWithDiagnostics(text, "/fuzz/connector.toml");
  if (!config) {
    if (config.error().empty()) std::abort();
    for (const network::Diagnostic& diagnostic : config.error()) {
      if (diagnostic.message.empty()) std::abort();
    }
    return 0;
  }
  if (config->institution.empty()) std::abort();
  return 0;
}
