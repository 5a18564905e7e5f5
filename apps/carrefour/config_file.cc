// SPDX-License-Identifier: EUPL-1.2
#include "apps/carrefour/config_file.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <toml++/toml.h>

namespace carrefour::cli {
namespace {

// The scalar's text as the command line would give it; false for a table.
bool ScalarText(const toml::node& node, std::string* text) {
  if (const auto* s = node.as_string()) {
    *text = s->get();
  } else if (const auto* i = node.as_integer()) {
    *text = std::to_string(i->get());
  } else if (const auto* f = node.as_floating_point()) {
    *text = fmt::format("{}", f->get());
  } else if (const auto* b = node.as_boolean()) {
    *text = b->get() ? "true" : "false";
  } else {
    return false;
  }
  return true;
}

bool OnCommandLine(const std::vector<std::string>& args, const std::string& option) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& arg) {
    return arg == option || arg.starts_with(option + "=");
  });
}

}  // namespace

bool ExpandConfigFile(CLI::App& app, const std::vector<std::string>& commands,
                      std::vector<std::string>* args, std::string* error) {
  if (args->empty() || std::find(commands.begin(), commands.end(), (*args)[0]) == commands.end()) {
    return true;
  }
  std::string file;
  for (size_t i = 1; i < args->size(); ++i) {
    const std::string& arg = (*args)[i];
    if (arg == "--config" && i + 1 < args->size()) file = (*args)[i + 1];
    if (arg.starts_with("--config=")) file = arg.substr(9);
  }
  if (file.empty()) return true;
  CLI::App* command = app.get_subcommand((*args)[0]);

  std::ifstream in(file, std::ios::binary);
  if (!in) {
    *error = fmt::format("--config {}: cannot read the file", file);
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  toml::table root;
  try {
    root = toml::parse(text.str(), std::string_view(file));
  } catch (const toml::parse_error& parse) {
    *error = fmt::format("{}:{}: {}", file, parse.source().begin.line, parse.description());
    return false;
  }

  std::vector<std::string> added;
  for (const auto& [key, node] : root) {
    const std::string name(key.str());
    const int line = static_cast<int>(node.source().begin.line);
    const std::string option = "--" + name;
    const CLI::Option* known = command->get_option_no_throw(option);
    if (known == nullptr || name == "config" || name == "help") {
      *error = fmt::format("{}:{}: unknown key '{}': not an option of carrefour {} (see --help)", file,
                           line, name, command->get_name());
      return false;
    }
    if (OnCommandLine(*args, option)) continue;  // the command line wins
    std::vector<std::string> values;
    std::string value;
    if (const toml::array* list = node.as_array()) {
      for (const toml::node& item : *list) {
        if (!ScalarText(item, &value)) {
          *error = fmt::format("{}:{}: '{}' must hold strings or numbers", file, line, name);
          return false;
        }
        values.push_back(value);
      }
    } else if (ScalarText(node, &value)) {
      values.push_back(value);
    } else {
      *error = fmt::format("{}:{}: '{}' must be a string, a number, a boolean or a list", file, line, name);
      return false;
    }
    const bool flag = known->get_expected_min() == 0;
    for (const std::string& v : values) {
      if (flag) {
        if (v == "true") added.push_back(option);
        else if (v != "false") {
          *error = fmt::format("{}:{}: '{}' is a flag: true or false", file, line, name);
          return false;
        }
      } else {
        added.push_back(option);
        added.push_back(v);
      }
    }
  }
  args->insert(args->end(), added.begin(), added.end());
  return true;
}

}  // namespace carrefour::cli
