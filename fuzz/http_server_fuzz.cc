// SPDX-License-Identifier: EUPL-1.2
// HTTP requests through the real net::Server (plain HTTP on loopback: the
// parsing, limits and keep-alive logic are the same as over TLS). Each input
// is written on a fresh connection, the write side is closed, and the answer
// read to the end. Whatever the bytes, the server answers or closes, never
// crashes, and keeps serving the next input.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "net/server.h"

namespace {

carrefour::net::Server& TheServer() {
  static carrefour::net::Server* server = [] {
    carrefour::net::ServerOptions options;
    options.threads = 1;
    options.max_body_bytes = 4096;
    options.header_timeout = std::chrono::milliseconds(1000);
    options.body_timeout = std::chrono::milliseconds(1000);
    options.idle_timeout = std::chrono::milliseconds(1000);
    auto* s = new carrefour::net::Server(options, [](carrefour::net::Request&& request,
                                                      carrefour::net::Responder respond) {
      std::string echo = request.method + " " + request.path;
      for (const auto& [name, value] : request.query) echo += " " + name + "=" + value;
      echo += " " + std::to_string(request.body.size());
      if (request.path == "/later") {
        // Answered from another copy of the responder, after the handler.
        carrefour::net::Responder later = respond;
        later(carrefour::net::Response::Text(202, echo));
        return;
      }
      respond(carrefour::net::Response::Text(200, echo));
    });
    if (!s->Start().ok()) std::abort();
    return s;
  }();
  return *server;
}

// Waits until `fd` is readable (data, end of stream or error) or `deadline`
// passes. poll() is resumed when a signal interrupts it: libFuzzer's own
// SIGALRM (its -timeout watchdog, every few seconds) lands in a wait now and
// then, and taking that EINTR for a timeout is what once looked like a
// server that neither answered nor closed (docs/fuzzing.md).
bool WaitReadable(int fd, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd ready{fd, POLLIN, 0};
    const int n = poll(&ready, 1, static_cast<int>(left.count()) + 1);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) {
      std::perror("http_server_fuzz: poll");
      std::abort();
    }
  }
}

// connect() that a signal may interrupt: the connection then goes on in the
// background, and its outcome is read once the socket is writable.
bool Connect(int fd, const sockaddr_in& address) {
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) return true;
  if (errno != EINTR) return false;
  for (;;) {
    pollfd ready{fd, POLLOUT, 0};
    const int n = poll(&ready, 1, 10000);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return false;
    errno = error;
    return error == 0;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  carrefour::net::Server& server = TheServer();
  static uint64_t inputs = 0;
  ++inputs;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) std::abort();
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(server.port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Each connection from its own loopback address (127.1.0.1 to
  // 127.1.254.255, in turn): the client half-closes first, so each
  // connection leaves a TIME_WAIT behind, and from one address a campaign
  // would run out of local ports within a minute (connect fails).
  static uint32_t next = 0;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | (next++ % 65024u + 257u));
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      !Connect(fd, address)) {
    std::perror("http_server_fuzz: bind or connect");
    std::abort();
  }
  size_t sent = 0;
  while (sent < size) {
    ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server may close early (a 400 or 413)
    sent += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  char buffer[4096];
  size_t received = 0;
  // Generous: the server's own timeouts are 1 s; a hang here is a finding.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    if (!WaitReadable(fd, deadline)) {
      const carrefour::net::ServerStats stats = server.stats();
      std::fprintf(stderr,
                   "http_server_fuzz: no answer nor close in 10 s (sent %zu of %zu bytes, received %zu; "
                   "server: %llu open, %llu accepted, %llu rejected, %llu requests, %llu in flight, "
                   "%llu bad, %llu timeouts, %llu accept failures; this is input %llu)\n",
                   sent, size, received, static_cast<unsigned long long>(stats.connections_open),
                   static_cast<unsigned long long>(stats.connections_accepted),
                   static_cast<unsigned long long>(stats.connections_rejected),
                   static_cast<unsigned long long>(stats.requests),
                   static_cast<unsigned long long>(stats.requests_in_flight),
                   static_cast<unsigned long long>(stats.bad_requests),
                   static_cast<unsigned long long>(stats.timeouts),
                   static_cast<unsigned long long>(stats.accept_failures),
                   static_cast<unsigned long long>(inputs));
      // CARREFOUR_FUZZ_GDB=1: the kernel's view of the connection (is it in
      // the listener's accept queue, Recv-Q of the LISTEN line?), then every
      // thread's stack (gdb attaches).
      if (std::getenv("CARREFOUR_FUZZ_GDB") != nullptr) {
        std::string sockets = "ss -tanei '( sport = :" + std::to_string(server.port()) +
                              " or dport = :" + std::to_string(server.port()) + " )' 1>&2";
        (void)std::system(sockets.c_str());
        std::string command = "gdb -p " + std::to_string(getpid()) +
                              " -batch -ex 'thread apply all bt' 1>&2 2>/dev/null";
        (void)std::system(command.c_str());
      }
      std::abort();
    }
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    received += static_cast<size_t>(n);
  }
  close(fd);
  return 0;
}
