// SPDX-License-Identifier: EUPL-1.2
#include "demo/demo_network.h"

#include <fmt/format.h>

#include <optional>
#include <vector>

namespace carrefour::demo {
namespace internal {
extern const std::string_view kEmbeddedNetworkToml;  // embedded_network.cc (generated)
}  // namespace internal

namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// The value of a `key = "value"` line, or nullopt when the line is not that
// key with a plain string.
std::optional<std::string_view> StringValue(std::string_view line, std::string_view key) {
  line = Trim(line);
  if (!line.starts_with(key)) return std::nullopt;
  line = Trim(line.substr(key.size()));
  if (!line.starts_with('=')) return std::nullopt;
  line = Trim(line.substr(1));
  if (line.size() < 2 || line.front() != '"') return std::nullopt;
  size_t close = line.find('"', 1);
  if (close == std::string_view::npos) return std::nullopt;
  return line.substr(1, close - 1);
}

}  // namespace

std::string_view DemoNetworkTemplate() { return internal::kEmbeddedNetworkToml; }

std::string DemoNetworkToml(const std::map<std::string, uint16_t>& provide_ports) {
  const std::string_view text = DemoNetworkTemplate();
  std::vector<std::string> lines;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }

  // Each [[institution]] block: find its id and its endpoint line, wherever
  // they are in the block, then rewrite that one line.
  std::optional<std::string> id;
  std::optional<size_t> endpoint_line;
  auto finish_block = [&] {
    if (id && endpoint_line) {
      auto port = provide_ports.find(*id);
      if (port != provide_ports.end()) {
        std::string& line = lines[*endpoint_line];
        const size_t indent = line.find_first_not_of(" \t");
        line = fmt::format("{}endpoint = \"https://127.0.0.1:{}\"", line.substr(0, indent),
                           port->second);
      }
    }
    id.reset();
    endpoint_line.reset();
  };
  bool in_institution = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = Trim(lines[i]);
    if (line.starts_with('[')) {
      finish_block();
      in_institution = line.starts_with("[[institution]]");
      continue;
    }
    if (!in_institution) continue;
    if (auto value = StringValue(line, "id")) id = std::string(*value);
    if (StringValue(line, "endpoint")) endpoint_line = i;
  }
  finish_block();

  std::string out;
  out.reserve(text.size() + 64);
  for (size_t i = 0; i < lines.size(); ++i) {
    out += lines[i];
    if (i + 1 < lines.size() || (!text.empty() && text.back() == '\n')) out += '\n';
  }
  return out;
}

}  // namespace carrefour::demo
