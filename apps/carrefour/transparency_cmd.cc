// SPDX-License-Identifier: EUPL-1.2
// carrefour transparency verify FILE --key K (docs/transparency.md).

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "apps/carrefour/commands.h"
#include "transparency/transparency.h"

namespace carrefour::cli {
namespace {

// A key given on the command line: the verifier key itself, or a file
// holding one per line.
std::vector<std::string> KeysOf(const std::string& given) {
  std::ifstream file(given);
  if (!file) return {given};
  std::vector<std::string> keys;
  for (std::string line; std::getline(file, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) keys.push_back(line);
  }
  return keys;
}

int Verify(const std::string& path, const std::vector<std::string>& given) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "carrefour transparency verify: cannot read %s\n", path.c_str());
    return 1;
  }
  std::stringstream text;
  text << file.rdbuf();
  std::vector<std::string> keys;
  for (const std::string& key : given) {
    for (std::string& one : KeysOf(key)) keys.push_back(std::move(one));
  }
  Result<transparency::Verification> verification = transparency::VerifyView(text.str(), keys);
  if (!verification) {
    std::printf("transparency answer FAILS: %s\n", verification.error().message().c_str());
    return 1;
  }
  if (!verification->ok) {
    std::printf("transparency answer FAILS (%zu problem(s)):\n", verification->failures.size());
    for (const std::string& failure : verification->failures) std::printf("  %s\n", failure.c_str());
    return 1;
  }
  std::printf("transparency answer verified: %zu consultation(s) included in %zu signed checkpoint(s), the "
              "list complete in the person index of %zu node(s)\n",
              verification->consultations, verification->checkpoints, verification->complete);
  return 0;
}

}  // namespace

void AddTransparencyCommands(CLI::App& app, int* exit_code) {
  CLI::App* transparency = app.add_subcommand("transparency", "Citizens' transparency views (GET /v1/transparency).");
  transparency->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto keys = std::make_shared<std::vector<std::string>>();
  CLI::App* verify = transparency->add_subcommand(
      "verify", "Check a saved transparency answer offline: every checkpoint's signature, every listed record's inclusion proof, and that the list is complete (each node's signed person index); exit 0 if all hold, 1 naming what fails.");
  verify->add_option("FILE", *file, "The saved answer (JSON)")->required();
  verify->add_option("--key", *keys, "A node's verifier key (as /v1/admin/audit/key gives it), or a file of such keys one per line; repeat for several nodes")->required();
  verify->callback([file, keys, exit_code] { *exit_code = Verify(*file, *keys); });
}

}  // namespace carrefour::cli
