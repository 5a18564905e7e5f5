// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test support: what a child process logged, wherever its logger writes
// (stdout lines, read by Process, or the stderr file it appends to).

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "tests/integration/process.h"

namespace carrefour::testing {

// How many times `text` appears in what `process` logged so far.
inline int LoggedCount(Process& process, const std::filesystem::path& stderr_file,
                       const std::string& text) {
  int count = 0;
  process.WaitForLine(
      [&](const std::string& line) {
        if (line.find(text) != std::string::npos) ++count;
        return false;
      },
      std::chrono::seconds(0));
  std::ifstream in(stderr_file, std::ios::binary);
  std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (size_t at = err.find(text); at != std::string::npos; at = err.find(text, at + text.size())) {
    ++count;
  }
  return count;
}

// Whether `text` has been logged at least `times` times, waiting up to
// `guard` (a guard against a broken test, not a timing assumption).
inline bool Logged(Process& process, const std::filesystem::path& stderr_file,
                   const std::string& text, int times = 1,
                   std::chrono::seconds guard = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + guard;
  for (;;) {
    if (LoggedCount(process, stderr_file, text) >= times) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace carrefour::testing
