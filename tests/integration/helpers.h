// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test support every end-to-end test may use: the people of the examples, a
// free local port, waiting for a condition, and `{name}` placeholders in the
// text of a network definition or a configuration. Test code.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace carrefour::testing {

// National numbers valid by docs/api.md section 1.
inline constexpr const char* kAnna = "85073003328";
inline constexpr const char* kBruno = "17073003384";

// A port nobody listens on now (the kernel's pick, then released): for a
// process that must be started, or restarted, on a port known in advance.
inline uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// Polls `done` every 50 ms until it holds or `guard` has passed (the guard
// only keeps a broken test from hanging: machines are shared).
inline bool Eventually(const std::function<bool()>& done,
                       std::chrono::seconds guard = std::chrono::seconds(60)) {
  auto deadline = std::chrono::steady_clock::now() + guard;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

// `text` with every `{key}` replaced by its value.
inline std::string Replace(std::string text,
                           const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [key, value] : values) {
    std::string pattern = "{" + key + "}";
    for (size_t at; (at = text.find(pattern)) != std::string::npos;) {
      text.replace(at, pattern.size(), value);
    }
  }
  return text;
}

}  // namespace carrefour::testing
