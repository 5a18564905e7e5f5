// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The demo's network definition: examples/network.toml, compiled into the
// binary at build time (src/demo/embed_text.cmake) so that `carrefour demo`
// runs from any folder, with each institution's endpoint pointed at the port
// its connector listens on.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace carrefour::demo {

// examples/network.toml as it was when the binary was built.
std::string_view DemoNetworkTemplate();

// The template with the `endpoint` of each institution named in
// `provide_ports` replaced by "https://127.0.0.1:<port>"; the other
// institutions keep theirs. Comments and layout are kept, so that
// diagnostics point at the same lines as in examples/network.toml.
std::string DemoNetworkToml(const std::map<std::string, uint16_t>& provide_ports);

}  // namespace carrefour::demo
