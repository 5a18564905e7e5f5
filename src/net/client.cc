// SPDX-License-Identifier: EUPL-1.2
// The HTTP(S) client on Boost.Beast: per-endpoint pools of kept-alive
// connections, each connection on its own strand and serving one call at a
// time. The structure follows Beast's http_client_async_ssl example, with
// the connection object reused across calls instead of living for one.
// docs/net.md has the full picture.

#include "net/client.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/x509.h>

#include "net/internal/event_loop.h"
#include "net/internal/tls.h"
#include "version/version.h"

namespace carrefour::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

// One call: the request, who to tell, and until when.
struct Call {
  http::request<http::string_body> request;
  Callback callback;
  SteadyClock::time_point deadline;
  std::chrono::milliseconds timeout{0};
  bool retried = false;
  // A call waiting for a free connection is claimed either by the
  // connection that takes it or by its wait timer, never both.
  std::atomic<bool> claimed{false};
  std::optional<asio::steady_timer> wait_timer;
};

class Pool;

class ConnectionBase : public std::enable_shared_from_this<ConnectionBase> {
 public:
  virtual ~ConnectionBase() = default;
  // From any thread: serve `call` on this connection's strand.
  virtual void Run(std::shared_ptr<Call> call) = 0;
  // From any thread: close now; a call in progress fails.
  virtual void Close() = 0;
  // Guarded by the pool's mutex (set before the connection goes idle).
  SteadyClock::time_point idle_since;
};

}  // namespace

// Shared by the pools and connections; owned by Client.
ClientOptions WithoutLoop(ClientOptions options) {
  options.loop.reset();
  return options;
}

// Shared by the Client, its pools and connections (and the handlers queued
// for them): on a shared EventLoop a handler may run after the Client is
// gone, so it keeps what it touches.
class Client::Impl : public std::enable_shared_from_this<Client::Impl> {
 public:
  explicit Impl(ClientOptions options)
      : shared_loop_(options.loop.get()),
        options_(WithoutLoop(std::move(options))),
        own_loop_(shared_loop_ ? nullptr : EventLoop::Start(std::max(options_.threads, 1))),
        ioc((shared_loop_ ? *shared_loop_ : *own_loop_).impl().ioc) {}

  Status Start();
  Status ReloadTls(const TlsFiles& files);
  void Send(const Endpoint& endpoint, ClientRequest request, Callback callback);
  bool OnClientThread() const;

  // Gives `callback` its error on a client thread (callbacks never run on
  // the caller's stack: that would surprise code holding a lock).
  void FailLater(Callback callback, Status status) {
    failures.fetch_add(1);
    asio::post(ioc, [callback = std::move(callback), status = std::move(status)]() mutable {
      callback(Error(std::move(status)));
    });
  }

  void Register(const std::shared_ptr<ConnectionBase>& connection) {
    std::lock_guard lock(mu_);
    connections_.emplace(connection.get(), connection);
  }
  void Unregister(ConnectionBase* connection) {
    std::lock_guard lock(mu_);
    connections_.erase(connection);
  }

  // Closes everything: calls in flight fail with "client shut down". With
  // its own threads, returns once they are joined; on a shared loop, what
  // is left completes there.
  void Shutdown();

  // The loop given in the options, not owned: its owner keeps it beyond
  // the client (a handler of the client's may be the last to let the
  // client go, on one of the loop's threads, which must not join them).
  EventLoop* const shared_loop_;
  const ClientOptions options_;  // without the loop
  // The client's own threads, unless the loop is shared. Declared before
  // everything that holds sockets or timers on it.
  const std::shared_ptr<EventLoop> own_loop_;
  asio::io_context& ioc;
  // Null without TLS. Swapped whole by ReloadTls (atomic_load/atomic_store);
  // a connection keeps the one it was opened with.
  std::shared_ptr<ssl::context> tls;
  std::atomic<bool> stopping{false};

  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> connections_opened{0};
  std::atomic<uint64_t> connections_reused{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> failures{0};

 private:
  std::shared_ptr<Pool> PoolFor(const Endpoint& endpoint);

  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Pool>> pools_;
  std::unordered_map<ConnectionBase*, std::weak_ptr<ConnectionBase>> connections_;
  // On a shared loop: calls whose callback has not returned yet, and the
  // destructor's wait for none (notified under mu_ only when it reaches 0).
  std::atomic<size_t> outstanding_{0};
  std::condition_variable settled_;
};

namespace {

// The connections to one endpoint (host, port, expected CN): idle ones ready
// for reuse, a cap on how many exist, and the calls waiting for one.
class Pool : public std::enable_shared_from_this<Pool> {
 public:
  Pool(std::shared_ptr<Client::Impl> impl, Endpoint endpoint)
      : impl_(std::move(impl)), endpoint_(std::move(endpoint)) {}

  const Endpoint& endpoint() const { return endpoint_; }

  void Submit(std::shared_ptr<Call> call);
  // The connection finished a call and may be reused.
  void Release(std::shared_ptr<ConnectionBase> connection);
  // The connection is closed and gone.
  void Discard();
  // Client shutdown: fail the waiters, close the idle connections.
  void Shutdown();
  // After a TLS reload: idle connections (made with the old identity and
  // CA/CRL) are closed; busy ones finish their call, then the next call
  // opens a fresh one.
  void DropIdle();

 private:
  std::shared_ptr<ConnectionBase> NewConnection();
  void WaitForConnection(std::shared_ptr<Call> call);

  const std::shared_ptr<Client::Impl> impl_;
  const Endpoint endpoint_;
  std::mutex mu_;
  // Most recently used last: reusing the warmest connection lets the others
  // age out.
  std::vector<std::shared_ptr<ConnectionBase>> idle_;
  size_t open_ = 0;  // idle + busy
  std::deque<std::shared_ptr<Call>> waiters_;
};

bool IsTimeout(const beast::error_code& ec) { return ec == beast::error::timeout; }

template <bool kTls>
class Connection final : public ConnectionBase {
 public:
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

  Connection(std::shared_ptr<Client::Impl> impl, std::shared_ptr<Pool> pool)
      : impl_(std::move(impl)), pool_(std::move(pool)), strand_(asio::make_strand(impl_->ioc)),
        resolver_(strand_) {}
  ~Connection() override { impl_->Unregister(this); }

  void Run(std::shared_ptr<Call> call) override {
    asio::post(strand_, [self = Self(), call = std::move(call)]() mutable {
      self->Begin(std::move(call));
    });
  }

  void Close() override {
    asio::post(strand_, [self = Self()] {
      self->resolver_.cancel();
      if (self->stream_) self->Tcp().close();
      self->connected_ = false;
    });
  }

 private:
  std::shared_ptr<Connection> Self() {
    return std::static_pointer_cast<Connection>(shared_from_this());
  }
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(*stream_); }
  const Endpoint& endpoint() const { return pool_->endpoint(); }

  void Begin(std::shared_ptr<Call> call) {
    call_ = std::move(call);
    if (impl_->stopping.load()) return FailWith(Unavailable("client shut down"));
    if (connected_ && !IdleConnectionBroken()) {
      reused_ = true;
      impl_->connections_reused.fetch_add(1);
      return Write();
    }
    Connect();
  }

  // A pooled connection that the server closed while it sat idle has its
  // FIN (or a TLS close_notify) waiting in the socket: detected here for the
  // price of one non-blocking peek, instead of failing the call and
  // retrying. Any unread byte means the same: an idle HTTP connection
  // receives nothing.
  bool IdleConnectionBroken() {
    if (buffer_.size() > 0) return true;
    char byte;
    ssize_t n = ::recv(Tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    return true;
  }

  void Connect() {
    reused_ = false;
    connected_ = false;
    buffer_.clear();
    if constexpr (kTls) {
      context_ = std::atomic_load(&impl_->tls);
      stream_.emplace(beast::tcp_stream(strand_), *context_);
    } else {
      stream_.emplace(strand_);
    }
    impl_->connections_opened.fetch_add(1);
    beast::error_code ec;
    asio::ip::address address = asio::ip::make_address(endpoint().host, ec);
    if (!ec) {
      endpoints_ = {tcp::endpoint(address, endpoint().port)};
      return ConnectTo();
    }
    // Host names are resolved on each new connection (they are rare here:
    // network definitions name IP addresses). The call's timeout does not
    // cover resolution.
    resolver_.async_resolve(endpoint().host, std::to_string(endpoint().port),
                            [self = Self()](beast::error_code resolve_ec,
                                            tcp::resolver::results_type results) {
                              if (resolve_ec) return self->Fail(resolve_ec, "resolve");
                              self->endpoints_.assign(results.begin(), results.end());
                              self->ConnectTo();
                            });
  }

  void ConnectTo() {
    Tcp().expires_at(call_->deadline);
    Tcp().async_connect(endpoints_, [self = Self()](beast::error_code ec, const tcp::endpoint&) {
      self->OnConnect(ec);
    });
  }

  void OnConnect(beast::error_code ec) {
    if (ec) return Fail(ec, "connect to");
    // Requests are small and latency matters more than packet count.
    Tcp().socket().set_option(tcp::no_delay(true), ec);
    if constexpr (kTls) {
      beast::error_code not_an_address;
      asio::ip::make_address(endpoint().host, not_an_address);
      if (not_an_address) {
        // SNI carries host names only, never IP literals (RFC 6066).
        SSL_set_tlsext_host_name(stream_->native_handle(), endpoint().host.c_str());
      }
      Tcp().expires_at(call_->deadline);
      stream_->async_handshake(ssl::stream_base::client,
                               [self = Self()](beast::error_code handshake_ec) {
                                 self->OnHandshake(handshake_ec);
                               });
    } else {
      connected_ = true;
      Write();
    }
  }

  void OnHandshake(beast::error_code ec) {
    if constexpr (kTls) {
      if (ec) {
        std::string reason = ec.message();
        long verify = SSL_get_verify_result(stream_->native_handle());
        if (verify != X509_V_OK) reason += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
        return FailWith(IsTimeout(ec) ? TimeoutStatus()
                                      : Unavailable("TLS handshake with " + endpoint().ToString() +
                                                    " failed: " + reason));
      }
      // The chain is valid; now it must also be the institution we meant to
      // call, not any member of the network.
      std::string cn = internal::VerifiedPeerCommonName(stream_->native_handle());
      if (cn != endpoint().expected_cn) {
        return FailWith(Unavailable(endpoint().ToString() + " presented certificate CN=" + cn +
                                    ", expected " + endpoint().expected_cn));
      }
      connected_ = true;
      Write();
    }
  }

  void Write() {
    Tcp().expires_at(call_->deadline);
    http::async_write(*stream_, call_->request, [self = Self()](beast::error_code ec, size_t) {
      self->OnWrite(ec);
    });
  }

  void OnWrite(beast::error_code ec) {
    if (ec) {
      if (CanRetry(ec)) return Retry();
      return Fail(ec, "write to");
    }
    parser_.emplace();
    parser_->body_limit(impl_->options_.max_response_bytes);
    Tcp().expires_at(call_->deadline);
    http::async_read(*stream_, buffer_, *parser_, [self = Self()](beast::error_code read_ec, size_t n) {
      self->OnRead(read_ec, n);
    });
  }

  void OnRead(beast::error_code ec, size_t bytes) {
    if (ec) {
      if (bytes == 0 && CanRetry(ec)) return Retry();
      return Fail(ec, "read from");
    }
    auto& message = parser_->get();
    ClientResponse response;
    response.status = static_cast<int>(message.result_int());
    auto content_type = message.find(http::field::content_type);
    if (content_type != message.end()) response.content_type = std::string(content_type->value());
    // Only the one header callers act on (docs/api.md section 4: 429's
    // Retry-After); copying every header would cost each call.
    auto retry_after = message.find(http::field::retry_after);
    if (retry_after != message.end()) response.retry_after = std::string(retry_after->value());
    response.body = std::move(message.body());
    // Leftover bytes after a complete response mean the stream is out of
    // step: such a connection is not reused.
    bool reusable = message.keep_alive() && buffer_.size() == 0;
    Finish(std::move(response), reusable);
  }

  // A pooled connection can fail on first use because the server closed it
  // just as we picked it. Nothing was received, so the server did not act on
  // the request: one fresh attempt is safe. A timeout is not retried (the
  // time is used up), nor is a fresh connection (the failure is real).
  bool CanRetry(const beast::error_code& ec) const {
    return reused_ && !call_->retried && !IsTimeout(ec) && !impl_->stopping.load();
  }

  void Retry() {
    call_->retried = true;
    impl_->retries.fetch_add(1);
    Tcp().close();
    Connect();
  }

  Status TimeoutStatus() const {
    return Timeout("no answer from " + endpoint().ToString() + " within " +
                   std::to_string(call_->timeout.count()) + " ms");
  }

  void Fail(beast::error_code ec, const char* what) {
    if (IsTimeout(ec)) return FailWith(TimeoutStatus());
    if (impl_->stopping.load()) return FailWith(Unavailable("client shut down"));
    FailWith(Unavailable(std::string(what) + " " + endpoint().ToString() + ": " + ec.message()));
  }

  void FailWith(Status status) {
    impl_->failures.fetch_add(1);
    Finish(Error(std::move(status)), false);
  }

  // Hands the connection back (or closes it), then the result to the caller:
  // in that order, so that a callback that calls again can reuse it.
  void Finish(Result<ClientResponse> result, bool reusable) {
    std::shared_ptr<Call> call = std::move(call_);
    parser_.reset();
    if (reusable) {
      pool_->Release(shared_from_this());
    } else {
      if (stream_) Tcp().close();
      connected_ = false;
      pool_->Discard();
    }
    call->callback(std::move(result));
  }

  const std::shared_ptr<Client::Impl> impl_;
  const std::shared_ptr<Pool> pool_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::resolver resolver_;
  std::vector<tcp::endpoint> endpoints_;
  // Recreated for each new TCP connection: an SSL stream cannot be reused
  // once shut down.
  std::shared_ptr<ssl::context> context_;  // outlives stream_ (declared before)
  std::optional<Stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::shared_ptr<Call> call_;
  bool connected_ = false;
  bool reused_ = false;
};

std::shared_ptr<ConnectionBase> Pool::NewConnection() {
  std::shared_ptr<ConnectionBase> connection;
  if (endpoint_.tls) {
    connection = std::make_shared<Connection<true>>(impl_, shared_from_this());
  } else {
    connection = std::make_shared<Connection<false>>(impl_, shared_from_this());
  }
  impl_->Register(connection);
  return connection;
}

void Pool::Submit(std::shared_ptr<Call> call) {
  std::shared_ptr<ConnectionBase> connection;
  std::vector<std::shared_ptr<ConnectionBase>> expired;
  {
    std::lock_guard lock(mu_);
    SteadyClock::time_point now = SteadyClock::now();
    while (!idle_.empty() && !connection) {
      std::shared_ptr<ConnectionBase> candidate = std::move(idle_.back());
      idle_.pop_back();
      if (now - candidate->idle_since > impl_->options_.max_idle) {
        // Older than the server's patience: likely closed on the other end.
        --open_;
        expired.push_back(std::move(candidate));
      } else {
        connection = std::move(candidate);
      }
    }
    if (!connection) {
      if (open_ < impl_->options_.max_connections_per_endpoint) {
        ++open_;
      } else {
        waiters_.push_back(call);
        WaitForConnection(std::move(call));
        call = nullptr;
      }
    }
  }
  for (const auto& old : expired) old->Close();
  if (!call) return;
  if (!connection) connection = NewConnection();
  connection->Run(std::move(call));
}

// Under mu_. The timer gives the waiting call its timeout even if no
// connection ever comes free.
void Pool::WaitForConnection(std::shared_ptr<Call> call) {
  call->wait_timer.emplace(asio::make_strand(impl_->ioc));
  call->wait_timer->expires_at(call->deadline);
  call->wait_timer->async_wait([self = shared_from_this(), call](beast::error_code) {
    if (call->claimed.exchange(true)) return;
    {
      std::lock_guard lock(self->mu_);
      auto it = std::find(self->waiters_.begin(), self->waiters_.end(), call);
      if (it != self->waiters_.end()) self->waiters_.erase(it);
    }
    self->impl_->failures.fetch_add(1);
    Status status = self->impl_->stopping.load()
                        ? Unavailable("client shut down")
                        : Timeout("no connection to " + self->endpoint_.ToString() +
                                  " came free within " + std::to_string(call->timeout.count()) +
                                  " ms");
    call->callback(Error(std::move(status)));
  });
}

// A claimed waiter's timer would otherwise stay armed until the deadline,
// keeping the io_context busy (and the client's destructor waiting).
void CancelWait(const std::shared_ptr<Call>& call) {
  asio::post(call->wait_timer->get_executor(), [call] { call->wait_timer->cancel(); });
}

void Pool::Release(std::shared_ptr<ConnectionBase> connection) {
  std::shared_ptr<Call> next;
  {
    std::lock_guard lock(mu_);
    if (impl_->stopping.load()) {
      --open_;
    } else {
      while (!waiters_.empty() && !next) {
        std::shared_ptr<Call> waiter = std::move(waiters_.front());
        waiters_.pop_front();
        if (!waiter->claimed.exchange(true)) next = std::move(waiter);
      }
      if (!next) {
        connection->idle_since = SteadyClock::now();
        idle_.push_back(connection);
        return;
      }
    }
  }
  if (next) {
    CancelWait(next);
    connection->Run(std::move(next));
  } else {
    connection->Close();
  }
}

void Pool::Discard() {
  std::shared_ptr<Call> next;
  {
    std::lock_guard lock(mu_);
    --open_;
    if (impl_->stopping.load()) return;
    while (!waiters_.empty() && !next) {
      std::shared_ptr<Call> waiter = std::move(waiters_.front());
      waiters_.pop_front();
      if (!waiter->claimed.exchange(true)) next = std::move(waiter);
    }
    if (!next) return;
    ++open_;
  }
  CancelWait(next);
  NewConnection()->Run(std::move(next));
}

void Pool::DropIdle() {
  std::vector<std::shared_ptr<ConnectionBase>> idle;
  {
    std::lock_guard lock(mu_);
    idle.swap(idle_);
    open_ -= idle.size();
  }
  for (const auto& connection : idle) connection->Close();
}

void Pool::Shutdown() {
  std::vector<std::shared_ptr<ConnectionBase>> idle;
  std::deque<std::shared_ptr<Call>> waiters;
  {
    std::lock_guard lock(mu_);
    idle.swap(idle_);
    open_ -= idle.size();
    waiters.swap(waiters_);
  }
  for (const auto& connection : idle) connection->Close();
  // Their timers fire now and report the shutdown.
  for (const auto& waiter : waiters) CancelWait(waiter);
}

}  // namespace

Status Client::Impl::Start() {
  if (!shared_loop_ && options_.threads < 1) {
    return InvalidRequest("a client needs at least one thread");
  }
  if (options_.tls) {
    CARREFOUR_ASSIGN_OR_RETURN(ssl::context context,
                               internal::MakeTlsContext(*options_.tls, internal::TlsRole::kClient));
    std::atomic_store(&tls, std::make_shared<ssl::context>(std::move(context)));
  }
  return OkStatus();
}

Status Client::Impl::ReloadTls(const TlsFiles& files) {
  if (!options_.tls) return InvalidRequest("a client without TLS has none to reload");
  CARREFOUR_ASSIGN_OR_RETURN(ssl::context context,
                             internal::MakeTlsContext(files, internal::TlsRole::kClient));
  std::atomic_store(&tls, std::make_shared<ssl::context>(std::move(context)));
  std::vector<std::shared_ptr<Pool>> pools;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, pool] : pools_) pools.push_back(pool);
  }
  for (const auto& pool : pools) pool->DropIdle();
  return OkStatus();
}

void Client::Impl::Shutdown() {
  stopping = true;
  std::vector<std::shared_ptr<Pool>> pools;
  std::vector<std::shared_ptr<ConnectionBase>> live;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, pool] : pools_) pools.push_back(pool);
    for (const auto& [raw, weak] : connections_) {
      if (auto connection = weak.lock()) live.push_back(std::move(connection));
    }
  }
  for (const auto& pool : pools) pool->Shutdown();
  // Busy connections fail their call with "client shut down".
  for (const auto& connection : live) connection->Close();
  live.clear();
  // Idle connections hold their pool, the pool holds them and this: the
  // pools' Shutdown emptied the idle lists, so dropping the pools frees
  // them.
  pools.clear();
  {
    std::lock_guard lock(mu_);
    pools_.clear();
  }
  // Every pending operation now completes promptly; then the client's own
  // threads return, or (on a shared loop) the last callback.
  if (own_loop_) {
    own_loop_->impl().Join(/*stop=*/false);
  } else if (!shared_loop_->OnLoopThread()) {
    std::unique_lock lock(mu_);
    settled_.wait(lock, [this] { return outstanding_ == 0; });
  }
}

bool Client::Impl::OnClientThread() const {
  return (shared_loop_ ? *shared_loop_ : *own_loop_).OnLoopThread();
}

std::shared_ptr<Pool> Client::Impl::PoolFor(const Endpoint& endpoint) {
  std::string key = endpoint.ToString() + " " + endpoint.expected_cn;
  std::lock_guard lock(mu_);
  std::shared_ptr<Pool>& pool = pools_[key];
  if (!pool) pool = std::make_shared<Pool>(shared_from_this(), endpoint);
  return pool;
}

void Client::Impl::Send(const Endpoint& endpoint, ClientRequest request, Callback callback) {
  calls.fetch_add(1);
  if (shared_loop_) {
    // On a shared loop the client's destructor waits for its callbacks (its
    // user's objects may go right after it), so it counts them.
    outstanding_.fetch_add(1);
    callback = [self = shared_from_this(), callback = std::move(callback)](
                   Result<ClientResponse> result) {
      callback(std::move(result));
      if (self->outstanding_.fetch_sub(1) == 1) {
        std::lock_guard lock(self->mu_);
        self->settled_.notify_all();
      }
    };
  }
  if (stopping.load()) return FailLater(std::move(callback), Unavailable("client shut down"));
  if (endpoint.tls && !options_.tls) {
    return FailLater(std::move(callback),
                     InvalidRequest("cannot call " + endpoint.ToString() +
                                    ": this client has no TLS identity"));
  }
  if (endpoint.tls && endpoint.expected_cn.empty()) {
    return FailLater(std::move(callback),
                     InvalidRequest("cannot call " + endpoint.ToString() +
                                    ": no expected certificate CN given"));
  }
  http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) {
    return FailLater(std::move(callback),
                     InvalidRequest("unknown HTTP method '" + request.method + "'"));
  }
  if (request.target.empty() || request.target.front() != '/') {
    return FailLater(std::move(callback),
                     InvalidRequest("request target '" + request.target + "' must start with '/'"));
  }

  auto call = std::make_shared<Call>();
  call->callback = std::move(callback);
  call->timeout = request.timeout.value_or(options_.timeout);
  call->deadline = SteadyClock::now() + call->timeout;
  auto& message = call->request;
  message.method(verb);
  message.target(request.target);
  message.version(11);
  bool ipv6 = endpoint.host.find(':') != std::string::npos;
  message.set(http::field::host, (ipv6 ? "[" + endpoint.host + "]" : endpoint.host) + ":" +
                                     std::to_string(endpoint.port));
  static const std::string user_agent = version::UserAgent();  // "carrefour/0.2.0 (rev)"
  message.set(http::field::user_agent, user_agent);
  if (!request.body.empty() || verb == http::verb::post || verb == http::verb::put) {
    message.set(http::field::content_type, request.content_type);
  }
  for (const auto& [name, value] : request.headers) {
    if (name.find_first_of("\r\n:") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      return FailLater(std::move(call->callback),
                       InvalidRequest("header '" + name + "' has a forbidden character"));
    }
    message.set(name, value);
  }
  message.body() = std::move(request.body);
  message.keep_alive(true);
  message.prepare_payload();
  PoolFor(endpoint)->Submit(std::move(call));
}

Client::Client(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() { impl_->Shutdown(); }

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  auto impl = std::make_shared<Impl>(std::move(options));
  CARREFOUR_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

void Client::Send(const Endpoint& endpoint, ClientRequest request, Callback callback) {
  impl_->Send(endpoint, std::move(request), std::move(callback));
}

void Client::Post(const Endpoint& endpoint, std::string target, std::string body,
                  Callback callback) {
  ClientRequest request;
  request.target = std::move(target);
  request.body = std::move(body);
  Send(endpoint, std::move(request), std::move(callback));
}

void Client::SendAll(std::vector<std::pair<Endpoint, ClientRequest>> calls,
                     std::function<void(std::vector<Result<ClientResponse>>)> done) {
  struct Gather {
    std::mutex mu;
    std::vector<Result<ClientResponse>> results;
    size_t remaining = 0;
    std::function<void(std::vector<Result<ClientResponse>>)> done;
  };
  auto gather = std::make_shared<Gather>();
  gather->results.resize(calls.size(), Error(Internal("not completed")));
  gather->remaining = calls.size();
  gather->done = std::move(done);
  if (calls.empty()) {
    asio::post(impl_->ioc, [gather] { gather->done({}); });
    return;
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    Send(calls[i].first, std::move(calls[i].second), [gather, i](Result<ClientResponse> result) {
      bool last = false;
      {
        std::lock_guard lock(gather->mu);
        gather->results[i] = std::move(result);
        last = --gather->remaining == 0;
      }
      if (last) gather->done(std::move(gather->results));
    });
  }
}

Result<ClientResponse> Client::SendSync(const Endpoint& endpoint, ClientRequest request) {
  if (impl_->OnClientThread()) {
    return Error(Internal("a synchronous call from a client callback would deadlock"));
  }
  std::promise<Result<ClientResponse>> promise;
  std::future<Result<ClientResponse>> future = promise.get_future();
  Send(endpoint, std::move(request),
       [&promise](Result<ClientResponse> result) { promise.set_value(std::move(result)); });
  return future.get();
}

Result<ClientResponse> Client::PostSync(const Endpoint& endpoint, std::string target,
                                        std::string body) {
  ClientRequest request;
  request.target = std::move(target);
  request.body = std::move(body);
  return SendSync(endpoint, std::move(request));
}

Result<ClientResponse> Client::GetSync(const Endpoint& endpoint, std::string target) {
  ClientRequest request;
  request.method = "GET";
  request.target = std::move(target);
  return SendSync(endpoint, std::move(request));
}

Status Client::ReloadTls(const TlsFiles& files) { return impl_->ReloadTls(files); }

ClientStats Client::stats() const {
  ClientStats stats;
  stats.calls = impl_->calls.load();
  stats.connections_opened = impl_->connections_opened.load();
  stats.connections_reused = impl_->connections_reused.load();
  stats.retries = impl_->retries.load();
  stats.failures = impl_->failures.load();
  return stats;
}

}  // namespace carrefour::net
