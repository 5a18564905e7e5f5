// SPDX-License-Identifier: EUPL-1.2
// The network definition loader (docs/api.md section 3): any text is either a
// definition or a list of file:line diagnostics, never a crash, and a
// definition it accepts can be queried.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "network/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace carrefour::network;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto definition = ParseDefinitionWithDiagnostics(text, "fuzz.toml");
  if (!definition) {
    if (definition.error().empty()) std::abort();
    for (const Diagnostic& diagnostic : definition.error()) {
      if (diagnostic.message.empty() || diagnostic.line < 0) std::abort();
    }
    return 0;
  }
  for (const Institution& institution : definition->institutions()) {
    if (definition->FindInstitution(institution.id) != &institution) std::abort();
    (void)definition->TypeOf(institution);
    (void)definition->QuotaFor(institution);
  }
  return 0;
}
