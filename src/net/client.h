// SPDX-License-Identifier: EUPL-1.2
#pragma once

// An HTTP/1.1 client with mutual TLS and kept-alive connection pools: the hub
// calling connectors (docs/api.md section 5), connectors and load generators
// calling the hub. Start here; docs/net.md has the details.
//
//   auto client = net::Client::Create({.tls = net::TlsFiles{cert, key, ca}});
//   auto endpoint = net::Endpoint::Parse("https://127.0.0.1:9101", "mut-100");
//   (*client)->Post(*endpoint, "/v1/provide", body,
//                   [](Result<net::ClientResponse> response) { ... });
//
// Every HTTPS call checks that the server's certificate chains to the network
// CA *and* that its CN is the institution the endpoint belongs to: a provider
// cannot answer in another's name.

#include <chrono>
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

// Where to call, and who must answer there.
struct Endpoint {
  bool tls = true;
  std::string host;  // name or IP literal (IPv6 without brackets)
  uint16_t port = 0;
  // The CN the server's certificate must carry (HTTPS only; required there).
  std::string expected_cn;

  // "https://127.0.0.1:9101" or "http://localhost:8080" (a path is refused).
  // Errors: kInvalidRequest naming what is wrong.
  static Result<Endpoint> Parse(std::string_view url, std::string expected_cn = "");
  // "https://127.0.0.1:9101"
  std::string ToString() const;
};

class EventLoop;

struct ClientOptions {
  // This side's identity and the network CA. Absent: plain HTTP only (an
  // HTTPS endpoint then fails with kInvalidRequest).
  std::optional<TlsFiles> tls;
  int threads = 2;
  // Set: the client runs on this loop (net/event_loop.h; shared with the
  // server whose requests it serves), `threads` is not used, and callbacks
  // run on the loop's threads. The loop must outlive the client.
  std::shared_ptr<EventLoop> loop;
  // Default per-call timeout covering connect, handshake, write and read.
  std::chrono::milliseconds timeout{2000};
  // Connections per endpoint; further calls wait for one to come free
  // (within their timeout).
  size_t max_connections_per_endpoint = 64;
  // An idle pooled connection older than this is closed rather than reused
  // (stay below the servers' idle timeout).
  std::chrono::milliseconds max_idle{30000};
  size_t max_response_bytes = 64 << 20;
};

struct ClientRequest {
  std::string method = "POST";
  std::string target;  // "/v1/provide"
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::chrono::milliseconds> timeout;  // default: ClientOptions::timeout
};

struct ClientResponse {
  int status = 0;
  std::string content_type;
  std::string body;
  std::string retry_after;  // the Retry-After header, if any (429, 503)
};

// Errors given to callbacks: kUnavailable (connection refused or reset, TLS
// failure, wrong certificate CN "presented certificate CN=x, expected y",
// malformed or oversized response, client shutting down) with the reason;
// kTimeout (no complete answer within the timeout); kInvalidRequest (bad
// endpoint). An HTTP error status is not an error here: it is a response.
using Callback = std::function<void(Result<ClientResponse>)>;

struct ClientStats {
  uint64_t calls = 0;
  uint64_t connections_opened = 0;
  uint64_t connections_reused = 0;  // a call served by a pooled connection
  uint64_t retries = 0;             // stale pooled connection, retried fresh
  uint64_t failures = 0;            // calls that ended in an error
};

// Thread safety: every method may be called from any thread. Callbacks run
// on the client's threads (its loop's): they must not block, and must not
// call the *Sync methods (that would wait for the thread it is running on).
class Client {
 public:
  // Loads the TLS files. Errors: kInvalidRequest (unreadable or mismatched
  // files), kInternal.
  static Result<std::unique_ptr<Client>> Create(ClientOptions options);
  // Calls still in flight get kUnavailable "client shut down"; joins threads.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Asynchronous: `callback` is called exactly once.
  void Send(const Endpoint& endpoint, ClientRequest request, Callback callback);
  void Post(const Endpoint& endpoint, std::string target, std::string body, Callback callback);

  // Many calls at once; `done` gets the results in the order of `calls` once
  // all have completed.
  void SendAll(std::vector<std::pair<Endpoint, ClientRequest>> calls,
               std::function<void(std::vector<Result<ClientResponse>>)> done);

  // Blocking conveniences for tools and tests.
  Result<ClientResponse> SendSync(const Endpoint& endpoint, ClientRequest request);
  Result<ClientResponse> PostSync(const Endpoint& endpoint, std::string target, std::string body);
  Result<ClientResponse> GetSync(const Endpoint& endpoint, std::string target);

  // New TLS files (a renewed certificate, a new CA or CRL) for the
  // connections opened from now on; idle pooled connections are closed, so
  // the next call to any endpoint handshakes with them. Calls in flight
  // finish on their connection. On error nothing changes. Errors as Create.
  Status ReloadTls(const TlsFiles& files);

  ClientStats stats() const;

  class Impl;

 private:
  explicit Client(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace carrefour::net
