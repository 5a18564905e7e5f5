// SPDX-License-Identifier: EUPL-1.2
#include "net/client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "net/event_loop.h"
#include "net/server.h"
#include "net/test_support.h"

namespace carrefour::net {
namespace {

using testing::Certs;
using testing::RawSocket;

void Hello(Request&& request, Responder respond) {
  respond(Response::Json(200, R"({"hello":")" + request.peer + R"(","body":")" + request.body + "\"}"));
}

ServerOptions TlsServer(const std::string& name) {
  ServerOptions options;
  options.tls = Certs::Get().Identity(name);
  return options;
}

ClientOptions TlsClientOptions(const std::string& name = "hub") {
  ClientOptions options;
  options.tls = Certs::Get().Identity(name);
  return options;
}

std::unique_ptr<Client> MakeClient(ClientOptions options) {
  auto client = Client::Create(std::move(options));
  EXPECT_TRUE(client.has_value()) << client.error().ToString();
  return std::move(*client);
}

Endpoint Https(uint16_t port, std::string expected_cn) {
  return Endpoint{.tls = true, .host = "127.0.0.1", .port = port, .expected_cn = std::move(expected_cn)};
}

Endpoint Http(uint16_t port) { return Endpoint{.tls = false, .host = "127.0.0.1", .port = port}; }

// A handler that keeps every Responder until the test lets go.
class Holding {
 public:
  Handler handler() {
    return [this](Request&&, Responder respond) {
      std::lock_guard lock(mu_);
      held_.push_back(std::move(respond));
      arrived_.notify_all();
    };
  }
  void WaitFor(size_t count) {
    std::unique_lock lock(mu_);
    arrived_.wait(lock, [&] { return held_.size() >= count; });
  }
  void AnswerAll() {
    std::lock_guard lock(mu_);
    for (const Responder& respond : held_) respond(Response::Json(200, "{}"));
  }

 private:
  std::mutex mu_;
  std::condition_variable arrived_;
  std::vector<Responder> held_;
};

TEST(Client, HubCallsProviderOverMutualTls) {
  Server provider(TlsServer("mut-100"), Hello);
  ASSERT_TRUE(provider.Start().ok());
  auto client = MakeClient(TlsClientOptions("hub"));
  auto response = client->PostSync(Https(provider.port(), "mut-100"), "/v1/provide", "x");
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->content_type, "application/json");
  EXPECT_EQ(response->body, R"({"hello":"hub","body":"x"})");
}

TEST(Client, ErrorStatusIsAResponseNotAnError) {
  Server server(ServerOptions{}, [](Request&&, Responder respond) {
    respond(ErrorResponse(NoData("nothing here")));
  });
  ASSERT_TRUE(server.Start().ok());
  auto client = MakeClient(ClientOptions{});
  auto response = client->PostSync(Http(server.port()), "/v1/provide", "{}");
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, R"({"error":{"code":"no-data","message":"nothing here"}})");
}

TEST(Client, SlowHandlerTimesOut) {
  Holding holding;
  Server server(TlsServer("mut-100"), holding.handler());
  ASSERT_TRUE(server.Start().ok());
  auto client = MakeClient(TlsClientOptions());
  ClientRequest request;
  request.target = "/v1/provide";
  request.timeout = std::chrono::milliseconds(100);
  auto response = client->SendSync(Https(server.port(), "mut-100"), request);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kTimeout) << response.error().ToString();
  EXPECT_NE(response.error().message().find("within 100 ms"), std::string::npos);
  holding.AnswerAll();
}

TEST(Client, ConnectionRefusedIsUnavailable) {
  uint16_t port;
  {
    Server gone(ServerOptions{}, Hello);
    ASSERT_TRUE(gone.Start().ok());
    port = gone.port();
  }
  auto client = MakeClient(TlsClientOptions());
  for (const Endpoint& endpoint : {Https(port, "mut-100"), Http(port)}) {
    SCOPED_TRACE(endpoint.ToString());
    auto response = client->PostSync(endpoint, "/v1/provide", "{}");
    ASSERT_FALSE(response.has_value());
    EXPECT_EQ(response.error().code(), StatusCode::kUnavailable) << response.error().ToString();
    EXPECT_NE(response.error().message().find("refused"), std::string::npos)
        << response.error().ToString();
  }
}

TEST(Client, ServerWithWrongCommonNameIsRefused) {
  bool called = false;
  Server impostor(TlsServer("mut-200"), [&called](Request&&, Responder respond) {
    called = true;
    respond(Response::Json(200, "{}"));
  });
  ASSERT_TRUE(impostor.Start().ok());
  auto client = MakeClient(TlsClientOptions());
  auto response = client->PostSync(Https(impostor.port(), "mut-100"), "/v1/provide", "{}");
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.error().message().find("presented certificate CN=mut-200, expected mut-100"),
            std::string::npos)
      << response.error().ToString();
  impostor.Stop();
  EXPECT_FALSE(called);  // the request was never sent
}

TEST(Client, ServerFromAnotherCaIsRefused) {
  ServerOptions options;
  options.tls = Certs::Get().ForeignIdentity();  // foreign mut-100, trusting the network CA
  Server foreign(options, Hello);
  ASSERT_TRUE(foreign.Start().ok());
  auto client = MakeClient(TlsClientOptions());
  auto response = client->PostSync(Https(foreign.port(), "mut-100"), "/v1/provide", "{}");
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.error().message().find("TLS handshake"), std::string::npos)
      << response.error().ToString();
}

TEST(Client, PoolRecoversWhenServerRestarts) {
  auto server = std::make_unique<Server>(TlsServer("mut-100"), Hello);
  ASSERT_TRUE(server->Start().ok());
  uint16_t port = server->port();
  auto client = MakeClient(TlsClientOptions());
  ASSERT_TRUE(client->PostSync(Https(port, "mut-100"), "/v1/provide", "1").has_value());

  server.reset();  // closes the pooled connection from the server side
  ServerOptions options = TlsServer("mut-100");
  options.port = port;
  server = std::make_unique<Server>(options, Hello);
  ASSERT_TRUE(server->Start().ok());

  auto response = client->PostSync(Https(port, "mut-100"), "/v1/provide", "2");
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(client->stats().connections_opened, 2u);
}

// A plain-HTTP server on raw sockets that answers the first request of its
// first connection, then reads the second request and hangs up without a
// word: what a server does when its idle timeout strikes just as the
// request arrives. The second connection is served normally.
class HangUpAfterOneServer {
 public:
  HangUpAfterOneServer() : listener_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), length), 0);
    EXPECT_EQ(::listen(listener_, 8), 0);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HangUpAfterOneServer() {
    thread_.join();
    ::close(listener_);
  }
  uint16_t port() const { return port_; }

 private:
  void Serve() {
    {
      RawSocket first(::accept(listener_, nullptr, nullptr));
      first.ReadUntil("\r\n\r\n");
      first.Send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
      first.ReadUntil("\r\n\r\n");
    }  // closed: the second request gets no answer
    RawSocket second(::accept(listener_, nullptr, nullptr));
    second.ReadUntil("\r\n\r\n");
    second.Send("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecond");
  }

  int listener_;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(Client, StalePooledConnectionIsRetriedOnceOnAFreshOne) {
  HangUpAfterOneServer server;
  auto client = MakeClient(ClientOptions{});
  auto first = client->GetSync(Http(server.port()), "/");
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  EXPECT_EQ(first->body, "first");
  auto second = client->GetSync(Http(server.port()), "/");
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(second->body, "second");
  EXPECT_EQ(client->stats().retries, 1u);
  EXPECT_EQ(client->stats().connections_opened, 2u);
}

TEST(Client, ManyConcurrentCallsComplete) {
  ServerOptions server_options = TlsServer("mut-100");
  Server server(server_options, Hello);
  ASSERT_TRUE(server.Start().ok());
  ClientOptions options = TlsClientOptions();
  options.max_connections_per_endpoint = 4;
  options.timeout = std::chrono::milliseconds(30000);  // correctness here, not speed
  auto client = MakeClient(options);

  constexpr int kCalls = 300;
  std::vector<std::pair<Endpoint, ClientRequest>> calls;
  for (int i = 0; i < kCalls; ++i) {
    ClientRequest request;
    request.target = "/v1/provide";
    request.body = std::to_string(i);
    calls.emplace_back(Https(server.port(), "mut-100"), std::move(request));
  }
  std::promise<std::vector<Result<ClientResponse>>> done;
  client->SendAll(std::move(calls), [&done](std::vector<Result<ClientResponse>> results) {
    done.set_value(std::move(results));
  });
  std::vector<Result<ClientResponse>> results = done.get_future().get();
  ASSERT_EQ(results.size(), static_cast<size_t>(kCalls));
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(results[i].has_value()) << i << ": " << results[i].error().ToString();
    EXPECT_EQ(results[i]->body, R"({"hello":"hub","body":")" + std::to_string(i) + "\"}");
  }
  EXPECT_LE(client->stats().connections_opened, 4u);
  EXPECT_EQ(server.stats().requests, static_cast<uint64_t>(kCalls));
}

TEST(Client, CallWaitingForAConnectionTimesOut) {
  Holding holding;
  Server server(ServerOptions{}, holding.handler());
  ASSERT_TRUE(server.Start().ok());
  ClientOptions options;
  options.max_connections_per_endpoint = 1;
  auto client = MakeClient(options);
  std::promise<Result<ClientResponse>> first;
  client->Post(Http(server.port()), "/held", "",
               [&first](Result<ClientResponse> response) { first.set_value(std::move(response)); });
  holding.WaitFor(1);  // the only connection is busy

  ClientRequest request;
  request.target = "/waits";
  request.timeout = std::chrono::milliseconds(50);
  auto second = client->SendSync(Http(server.port()), request);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), StatusCode::kTimeout) << second.error().ToString();

  holding.AnswerAll();
  auto answered = first.get_future().get();
  ASSERT_TRUE(answered.has_value()) << answered.error().ToString();
  EXPECT_EQ(answered->status, 200);
}

TEST(Client, DestroyingTheClientFailsCallsInFlight) {
  Holding holding;
  Server server(ServerOptions{}, holding.handler());
  ASSERT_TRUE(server.Start().ok());
  auto client = MakeClient(ClientOptions{});
  std::promise<Result<ClientResponse>> done;
  client->Post(Http(server.port()), "/held", "",
               [&done](Result<ClientResponse> response) { done.set_value(std::move(response)); });
  holding.WaitFor(1);
  client.reset();
  auto response = done.get_future().get();
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(response.error().message(), "client shut down");
  holding.AnswerAll();
}

TEST(Client, RefusesBadCalls) {
  auto plain = MakeClient(ClientOptions{});
  auto tls = MakeClient(TlsClientOptions());
  struct Case {
    std::string name;
    Client* client;
    Endpoint endpoint;
    ClientRequest request;
  };
  const Case cases[] = {
      {"https without identity", plain.get(), Https(1, "mut-100"), ClientRequest{.target = "/"}},
      {"https without expected CN", tls.get(), Https(1, ""), ClientRequest{.target = "/"}},
      {"unknown method", plain.get(), Http(1), ClientRequest{.method = "FROB", .target = "/"}},
      {"relative target", plain.get(), Http(1), ClientRequest{.target = "v1/x"}},
      {"header injection", plain.get(), Http(1),
       ClientRequest{.target = "/", .headers = {{"X-Id", "1\r\nX-Evil: 1"}}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto response = c.client->SendSync(c.endpoint, c.request);
    ASSERT_FALSE(response.has_value());
    EXPECT_EQ(response.error().code(), StatusCode::kInvalidRequest) << response.error().ToString();
  }
}

TEST(Client, SyncCallFromCallbackIsRefusedInsteadOfDeadlocking) {
  Server server(ServerOptions{}, Hello);
  ASSERT_TRUE(server.Start().ok());
  auto client = MakeClient(ClientOptions{});
  std::promise<Status> done;
  client->Post(Http(server.port()), "/", "", [&](Result<ClientResponse>) {
    auto nested = client->GetSync(Http(server.port()), "/");
    done.set_value(nested.has_value() ? OkStatus() : nested.error());
  });
  EXPECT_EQ(done.get_future().get().code(), StatusCode::kInternal);
}

// The hub's arrangement (net/event_loop.h): the API server and the client
// that calls the providers on one loop. A request's handler calls a
// provider; the provider's answer comes back on the loop's own threads and
// is answered from there, over mutual TLS both ways.
TEST(SharedLoop, AServerCallsOutOnItsOwnLoopAndAnswersFromIt) {
  Server provider(TlsServer("mut-100"), Hello);
  ASSERT_TRUE(provider.Start().ok());
  std::shared_ptr<EventLoop> loop = EventLoop::Start(2);
  ClientOptions client_options = TlsClientOptions("hub");
  client_options.loop = loop;
  auto client = MakeClient(client_options);
  std::atomic<int> callbacks_off_loop{0};
  ServerOptions front_options = TlsServer("hub");
  front_options.loop = loop;
  Server front(front_options, [&](Request&& request, Responder respond) {
    client->Post(Https(provider.port(), "mut-100"), "/v1/provide", request.body,
                 [&, respond](Result<ClientResponse> response) {
                   if (!loop->OnLoopThread()) ++callbacks_off_loop;
                   respond(response ? Response::Json(200, response->body)
                                    : ErrorResponse(response.error()));
                 });
  });
  ASSERT_TRUE(front.Start().ok());

  auto outside = MakeClient(TlsClientOptions("mut-200"));
  for (int i = 0; i < 20; ++i) {
    auto answer = outside->PostSync(Https(front.port(), "hub"), "/v1/consultations",
                                    std::to_string(i));
    ASSERT_TRUE(answer.has_value()) << answer.error().ToString();
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(answer->body, R"({"hello":"hub","body":")" + std::to_string(i) + "\"}");
  }
  EXPECT_EQ(callbacks_off_loop.load(), 0);
  EXPECT_EQ(client->stats().connections_opened, 1u);  // kept alive across requests
  EXPECT_EQ(loop->threads(), 2);

  // The documented order: the server, the client, the loop.
  front.Stop();
  client.reset();
  loop.reset();
}

// On a shared loop, destroying the client fails what is in flight and
// returns only once those callbacks have run: what they touch may go right
// after the client.
TEST(SharedLoop, DestroyingTheClientWaitsForItsCallbacks) {
  Holding holding;
  Server server(ServerOptions{}, holding.handler());
  ASSERT_TRUE(server.Start().ok());
  std::shared_ptr<EventLoop> loop = EventLoop::Start(1);
  ClientOptions options;
  options.loop = loop;
  auto client = MakeClient(options);
  std::atomic<bool> called{false};
  Status status;
  client->Post(Http(server.port()), "/held", "", [&](Result<ClientResponse> response) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // still running when asked
    status = response ? OkStatus() : response.error();
    called = true;
  });
  holding.WaitFor(1);
  client.reset();
  EXPECT_TRUE(called.load());
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "client shut down");
  holding.AnswerAll();
}

TEST(SharedLoop, SyncCallFromTheLoopIsRefusedInsteadOfDeadlocking) {
  Server server(ServerOptions{}, Hello);
  ASSERT_TRUE(server.Start().ok());
  std::shared_ptr<EventLoop> loop = EventLoop::Start(1);
  ClientOptions options;
  options.loop = loop;
  auto client = MakeClient(options);
  std::promise<Status> done;
  client->Post(Http(server.port()), "/", "", [&](Result<ClientResponse>) {
    auto nested = client->GetSync(Http(server.port()), "/");
    done.set_value(nested.has_value() ? OkStatus() : nested.error());
  });
  EXPECT_EQ(done.get_future().get().code(), StatusCode::kInternal);
}

TEST(Client, CreateRejectsMissingFiles) {
  ClientOptions options = TlsClientOptions();
  options.tls->ca = "/nonexistent/ca.crt";
  auto client = Client::Create(options);
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().code(), StatusCode::kInvalidRequest);
  EXPECT_NE(client.error().message().find("/nonexistent/ca.crt"), std::string::npos);
}

TEST(Endpoint, Parse) {
  struct Case {
    std::string url;
    bool ok;
    bool tls = false;
    std::string host;
    uint16_t port = 0;
  };
  const Case cases[] = {
      {"https://127.0.0.1:9101", true, true, "127.0.0.1", 9101},
      {"https://127.0.0.1:9101/", true, true, "127.0.0.1", 9101},
      {"http://localhost:8080", true, false, "localhost", 8080},
      {"https://[::1]:9101", true, true, "::1", 9101},
      {"https://example.org", true, true, "example.org", 443},
      {"http://example.org", true, false, "example.org", 80},
      {"ftp://127.0.0.1:21", false},
      {"https://127.0.0.1:9101/v1/provide", false},
      {"https://127.0.0.1:0", false},
      {"https://127.0.0.1:70000", false},
      {"https://127.0.0.1:port", false},
      {"https://:9101", false},
      {"https://[::1", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    auto endpoint = Endpoint::Parse(c.url, "mut-100");
    ASSERT_EQ(endpoint.has_value(), c.ok) << (endpoint ? "" : endpoint.error().ToString());
    if (!c.ok) {
      EXPECT_EQ(endpoint.error().code(), StatusCode::kInvalidRequest);
      continue;
    }
    EXPECT_EQ(endpoint->tls, c.tls);
    EXPECT_EQ(endpoint->host, c.host);
    EXPECT_EQ(endpoint->port, c.port);
    EXPECT_EQ(endpoint->expected_cn, "mut-100");
  }
  EXPECT_EQ(Endpoint::Parse("https://[::1]:9101")->ToString(), "https://[::1]:9101");
}

}  // namespace
}  // namespace carrefour::net
