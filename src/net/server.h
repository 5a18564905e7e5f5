// SPDX-License-Identifier: EUPL-1.2
#pragma once

// An HTTP/1.1 server: HTTPS with mandatory client certificates (the hub's API,
// a connector's provide endpoint), or plain HTTP (the hub's admin listener).
// Start here; docs/net.md explains the threading model and lifetimes.
//
//   net::Server server(options, [](net::Request&& request, net::Responder respond) {
//     respond(net::Response::Json(200, R"({"ok":true})"));
//   });
//   CARREFOUR_RETURN_IF_ERROR(server.Start());
//   ... server.port() ...
//   server.Stop();
//
// The caller's identity is `Request::peer`: the CN of the client certificate,
// verified against the network CA during the handshake. It never comes from
// the request itself.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/status.h"
#include "net/tls_files.h"

namespace carrefour::net {

struct Response;
class EventLoop;

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: the system picks one; port() tells which
  int threads = 2;
  // Set: the server runs on this loop (shared with the clients it calls out
  // with, net/event_loop.h) and `threads` is not used; Stop() then closes
  // everything without waiting for the loop's threads. The loop must
  // outlive the server.
  std::shared_ptr<EventLoop> loop;
  // Absent: plain HTTP (the admin listener). Present: TLS 1.2+ with a client
  // certificate required and verified against `tls->ca`.
  std::optional<TlsFiles> tls;
  // A request body over this gets 413 body-too-large (docs/api.md section 4).
  size_t max_body_bytes = 8 << 20;
  // A fresh connection must deliver a complete request header within
  // header_timeout of its handshake; on a kept-alive connection the first
  // byte of the next request must come within idle_timeout, and the rest of
  // the header within header_timeout. A slow or silent client is disconnected.
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds handshake_timeout{10000};
  // Receiving the body once the header is complete; writing a response.
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  // Stop() waits this long for requests in flight before closing everything.
  std::chrono::milliseconds drain_timeout{5000};
  // Connections beyond this are closed as soon as they are accepted.
  size_t max_connections = 4096;
  // TLS only: how many connections may be in their handshake at once (0:
  // max_connections / 4). Beyond it, the oldest of them is closed to make
  // room: connections that never start TLS (or start it slowly) cannot
  // take the slots that institutions need, and a newcomer is never the
  // first to go.
  size_t max_handshaking = 0;
  // When set, applied to every answer this server writes just before it is
  // sent: the handler's, and the server's own (a malformed request, 413, a
  // handler that threw or dropped its responder). Called on the
  // connection's strand; must be thread-safe. The admin listener adds its
  // headers (hub/admin_guard.h) here, so that no answer goes without them.
  std::function<void(Response&)> finish_answer;
};

// Socket activation: a parent process (the demo) may bind and listen itself
// and hand the listening sockets down, so that the addresses it announced can
// never be taken by anybody else in between. It leaves them open across exec
// and names them in this environment variable ("3,4"); Start() then adopts
// the one bound to exactly its address and port (never for port 0) instead
// of binding. Sockets that match no Start() stay unused.
inline constexpr const char* kInheritedListenersEnv = "CARREFOUR_LISTEN_FDS";

// "HOST:PORT" as ServerOptions wants it (IPv6 as "[::1]:8443"; port 0 = the
// system picks). Errors: kInvalidRequest naming `what` ("--listen").
Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view address,
                                                            std::string_view what);

// One HTTP request, parsed and decoded. Header names are lower case.
struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/v1/mutations/feed?after=0&wait=30"
  std::string path;    // percent-decoded, without the query: "/v1/mutations/feed"
  // Decoded query parameters in order of appearance ('+' is a space).
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // CN of the verified client certificate; empty on a plain-HTTP server.
  std::string peer;
  // "127.0.0.1:53120", for logs.
  std::string remote_address;

  // The first query parameter / header with that name (header names are
  // compared case-insensitively), or nullopt.
  std::optional<std::string_view> QueryParam(std::string_view name) const;
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers (Content-Type, Content-Length and Connection are set by
  // the server).
  std::vector<std::pair<std::string, std::string>> headers;

  static Response Json(int status, std::string body);
  static Response Text(int status, std::string body);
};

// docs/api.md's error shape for `status`: HttpStatus(code) and
// api::ErrorBody(status).
Response ErrorResponse(const Status& status);

namespace internal {
class ResponderState;
}

// Answers one request. Copyable; the first call sends the response (from any
// thread, at any later time: the response is handed back to the connection's
// own strand), later calls are ignored. If every copy is destroyed without
// answering, the client gets 500 internal rather than a hung connection.
// After the server has stopped, answering does nothing.
class Responder {
 public:
  explicit Responder(std::shared_ptr<internal::ResponderState> state);

  void operator()(Response response) const;
  // True once the response was given (by any copy).
  bool answered() const;
  // True when answering is pointless: the server is stopping or the
  // connection has already failed. A long poll may use it to give up early.
  bool abandoned() const;

 private:
  std::shared_ptr<internal::ResponderState> state_;
};

// Called on one of the server's threads for each request. Must not block:
// answer now, or keep the Responder and answer later from anywhere.
using Handler = std::function<void(Request&&, Responder)>;

// Counters for /metrics; a consistent-enough snapshot, read without locks.
struct ServerStats {
  uint64_t connections_open = 0;
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // over max_connections
  uint64_t handshake_failures = 0;    // TLS handshake failed or timed out
  uint64_t requests = 0;              // requests handed to the handler
  uint64_t requests_in_flight = 0;    // handed to the handler, not yet answered
  uint64_t bad_requests = 0;          // malformed (400) or too large (413)
  uint64_t timeouts = 0;              // connections closed by a timeout
  uint64_t handshakes_revoked = 0;    // handshakes refused: revoked certificate
  uint64_t connections_revoked = 0;   // closed by ReloadTls: no longer trusted
  uint64_t connections_shed = 0;      // closed in their handshake: over max_handshaking
  uint64_t accept_failures = 0;       // accept() failed (out of file descriptors): retried
};

// Thread safety: Start, Stop, port and stats may be called from any thread,
// but Stop (and the destructor) not from a handler on the server's threads.
class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the TLS files, binds and starts the threads. Errors:
  // kInvalidRequest (bad address, unreadable or mismatched TLS files),
  // kUnavailable (address in use, permission denied), kInternal.
  Status Start();
  // The bound port (useful with options.port == 0); 0 before Start.
  uint16_t port() const;
  // Stops accepting, closes idle connections, lets requests in flight finish
  // for up to drain_timeout, then closes everything and joins the threads.
  // Idempotent.
  void Stop();

  // Loads new TLS files (a renewed certificate, a new CA bundle or CRL) for
  // the connections accepted from now on; on error the old ones stay. Then
  // every open connection whose peer certificate the new files no longer
  // accept (revoked, or from a CA that is gone) is closed at once, even with
  // a request in progress (its answer is not sent); the others are
  // untouched. Errors as Start().
  Status ReloadTls(const TlsFiles& files);

  ServerStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carrefour::net
