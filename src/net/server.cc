// SPDX-License-Identifier: EUPL-1.2
// The HTTP(S) server on Boost.Beast. The structure follows Beast's
// advanced_server_flex example: an acceptor on its own strand, one session
// object per connection on its own strand, kept alive by the completion
// handlers of its pending operations (shared_from_this) and, while a handler
// holds its Responder, by that Responder. docs/net.md has the full picture.

#include "net/server.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <future>
#include <iterator>
#include <list>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include "net/internal/text.h"
#include "net/internal/event_loop.h"
#include "net/internal/tls.h"

namespace carrefour::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace internal {

// What a Responder points at; implemented by SessionResponder below.
class ResponderState {
 public:
  virtual ~ResponderState() = default;
  virtual void Answer(Response response) = 0;
  virtual bool answered() const = 0;
  virtual bool abandoned() const = 0;
};

}  // namespace internal

Responder::Responder(std::shared_ptr<internal::ResponderState> state) : state_(std::move(state)) {}

void Responder::operator()(Response response) const { state_->Answer(std::move(response)); }
bool Responder::answered() const { return state_->answered(); }
bool Responder::abandoned() const { return state_->abandoned(); }

namespace {

// Big enough for any real request header (client certificates are not in
// it); Beast's default of 8 KiB is tight for long bearer tokens.
constexpr uint32_t kHeaderLimit = 16 * 1024;
// How long a closing TLS connection waits for the peer's close_notify.
constexpr std::chrono::seconds kTlsShutdownTimeout{2};
// After refusing a body as too large, read and discard at most this much of
// what the client is still sending, so that it gets to read the 413 instead
// of a connection reset.
constexpr uint64_t kMaxLingerBytes = 64 << 20;
// Pause before accepting again after accept() itself failed (out of file
// descriptors): retrying at once would spin.
constexpr std::chrono::milliseconds kAcceptBackoff{100};

class SessionBase;

ServerOptions WithoutLoop(ServerOptions options) {
  options.loop.reset();
  return options;
}

// Everything the sessions share with the server. Owned jointly by the Server
// and by every live session, so that a session kept alive by a Responder
// after the server is gone still has its io_context (sockets must be
// destroyed before the io_context that they were created on).
struct Core : std::enable_shared_from_this<Core> {
  Core(ServerOptions server_options, Handler request_handler)
      : shared_loop(server_options.loop.get()),
        options(WithoutLoop(std::move(server_options))),
        handler(std::move(request_handler)),
        own_loop(shared_loop ? nullptr : EventLoop::Start(std::max(options.threads, 1))),
        ioc((shared_loop ? *shared_loop : *own_loop).impl().ioc),
        acceptor(asio::make_strand(ioc)),
        accept_backoff(acceptor.get_executor()) {}

  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);

  // The loop given in the options, not owned: its owner keeps it beyond the
  // server (the last session may let the Core go on one of the loop's
  // threads, which must not join them).
  EventLoop* const shared_loop;
  const ServerOptions options;  // without the loop
  const Handler handler;
  // The server's own threads, unless the loop is shared. Declared before everything that holds sockets or
  // timers on it.
  const std::shared_ptr<EventLoop> own_loop;
  asio::io_context& ioc;
  // Null on a plain-HTTP server. Swapped whole by ReloadTls (atomic_load /
  // atomic_store): each session keeps the context it was accepted with.
  std::shared_ptr<ssl::context> tls;
  tcp::acceptor acceptor;
  asio::steady_timer accept_backoff;

  std::atomic<uint64_t> connections_open{0};
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_rejected{0};
  std::atomic<uint64_t> handshake_failures{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> requests_in_flight{0};
  std::atomic<uint64_t> bad_requests{0};
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> handshakes_revoked{0};
  std::atomic<uint64_t> connections_revoked{0};
  std::atomic<uint64_t> connections_shed{0};
  std::atomic<uint64_t> accept_failures{0};
  // The last accept error logged, and when (on the acceptor's strand): a
  // lasting failure (out of file descriptors) is said once, then every
  // minute, not ten times a second.
  beast::error_code last_accept_error;
  std::chrono::steady_clock::time_point last_accept_log;

  // Set when Stop() begins: no new requests are read.
  std::atomic<bool> draining{false};

  std::mutex mu;
  // Live sessions, so that Stop() can reach them. Guarded by mu.
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
  // TLS sessions still in their handshake, oldest first (the budget of
  // ServerOptions::max_handshaking). Guarded by mu.
  std::list<std::weak_ptr<SessionBase>> handshaking;
  // Set once the threads are about to be joined: responders may no longer
  // post work to the io_context (nobody would run it). Guarded by mu.
  bool stopped = false;
  // Notified (under mu) when requests_in_flight drops to zero while draining.
  std::condition_variable idle;

  void RequestDone() {
    if (requests_in_flight.fetch_sub(1) == 1 && draining.load()) {
      std::lock_guard lock(mu);
      idle.notify_all();
    }
  }
};

// The part of a session that does not depend on the stream type: what the
// Core and the Responder need.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  // `strand` is the executor of the accepted socket: a strand of its own, on
  // which every completion handler of the connection runs.
  SessionBase(std::shared_ptr<Core> core, asio::any_io_executor strand)
      : core_(std::move(core)), strand_(std::move(strand)) {
    core_->connections_open.fetch_add(1);
  }
  virtual ~SessionBase() {
    if (counted_in_flight_) core_->RequestDone();
    core_->connections_open.fetch_sub(1);
    std::lock_guard lock(core_->mu);
    core_->sessions.erase(this);
    if (handshaking_at_) core_->handshaking.erase(*handshaking_at_);
  }

  // Called with core_->mu held: the session's place in core_->handshaking.
  std::optional<std::list<std::weak_ptr<SessionBase>>::iterator> handshaking_at_;

  // The handshake is over (either way): the session leaves the budget.
  void EndHandshake() {
    std::lock_guard lock(core_->mu);
    if (handshaking_at_) core_->handshaking.erase(*handshaking_at_);
    handshaking_at_.reset();
  }
  SessionBase(const SessionBase&) = delete;
  SessionBase& operator=(const SessionBase&) = delete;

  // From any thread: hand the response to the session's strand.
  void Deliver(Response response) {
    std::lock_guard lock(core_->mu);
    if (core_->stopped) return;
    asio::post(strand_, [self = shared_from_this(), response = std::move(response)]() mutable {
      self->Write(std::move(response));
    });
  }

  // From any thread: close now (force), or once the request in progress is
  // answered.
  void Shutdown(bool force) {
    asio::post(strand_, [self = shared_from_this(), force] { self->DoShutdown(force); });
  }

  bool abandoned() const { return closed_.load() || core_->draining.load(); }

  // From any thread, after a TLS reload: close at once if `context` no
  // longer accepts the peer's certificate (revoked, or no longer issued by a
  // trusted CA).
  virtual void Recheck(std::shared_ptr<ssl::context> context) = 0;

 protected:
  // Only ever touched on the strand, apart from the constructor/destructor.
  virtual void Write(Response response) = 0;
  virtual void DoShutdown(bool force) = 0;

  // Declared first: destroyed last, after the stream that lives on its
  // io_context.
  std::shared_ptr<Core> core_;
  const asio::any_io_executor strand_;
  // The current request was handed to the handler and not yet answered.
  bool counted_in_flight_ = false;
  std::atomic<bool> closed_{false};
};

// The state behind a Responder: answers once; answers 500 if dropped.
class SessionResponder final : public internal::ResponderState {
 public:
  explicit SessionResponder(std::shared_ptr<SessionBase> session) : session_(std::move(session)) {}
  ~SessionResponder() override {
    if (!answered_.load()) {
      session_->Deliver(ErrorResponse(Internal("the request was dropped without an answer")));
    }
  }

  void Answer(Response response) override {
    if (answered_.exchange(true)) return;
    session_->Deliver(std::move(response));
  }
  bool answered() const override { return answered_.load(); }
  bool abandoned() const override { return session_->abandoned(); }

 private:
  std::shared_ptr<SessionBase> session_;
  std::atomic<bool> answered_{false};
};

bool IsTimeout(const beast::error_code& ec) { return ec == beast::error::timeout; }

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

// One connection. kTls selects the stream: TLS over TCP, or TCP alone.
template <bool kTls>
class Session final : public SessionBase {
 public:
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

  Session(std::shared_ptr<Core> core, tcp::socket&& socket)
      : SessionBase(std::move(core), socket.get_executor()),
        context_(kTls ? std::atomic_load(&core_->tls) : nullptr),
        stream_(MakeStream(std::move(socket))) {
    beast::error_code ec;
    // An answer leaves in several writes (TLS records, a header, a body
    // larger than a segment): with Nagle's algorithm the last one would wait
    // for the peer's delayed acknowledgement, up to 40 ms on Linux.
    Tcp().socket().set_option(tcp::no_delay(true), ec);
    tcp::endpoint remote = Tcp().socket().remote_endpoint(ec);
    if (!ec) remote_address_ = remote.address().to_string() + ":" + std::to_string(remote.port());
  }

  void Start() {
    asio::dispatch(strand_, [self = Self()] { self->Begin(); });
  }

 private:
  enum class State { kHandshake, kIdle, kReading, kHandling, kWriting, kClosing };

  Stream MakeStream(tcp::socket&& socket) {
    if constexpr (kTls) {
      return Stream(beast::tcp_stream(std::move(socket)), *context_);
    } else {
      return Stream(std::move(socket));
    }
  }

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }
  const ServerOptions& options() const { return core_->options; }

  void Begin() {
    if (core_->draining.load()) return CloseNow();
    if constexpr (kTls) {
      state_ = State::kHandshake;
      Tcp().expires_after(options().handshake_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = Self()](beast::error_code ec) { self->OnHandshake(ec); });
    } else {
      ReadRequest(/*fresh=*/true);
    }
  }

  void OnHandshake(beast::error_code ec) {
    EndHandshake();
    if (ec) {
      // A client without an acceptable certificate ends here; so does a
      // port scanner. Neither deserves more than a counter.
      core_->handshake_failures.fetch_add(1);
      if (IsTimeout(ec)) core_->timeouts.fetch_add(1);
      if constexpr (kTls) {
        // A revoked certificate is worth a line: it is either a mistake to
        // fix or an attack to know about.
        std::string revoked = internal::RevokedPeer(stream_.native_handle());
        if (!revoked.empty()) {
          core_->handshakes_revoked.fetch_add(1);
          spdlog::warn("refused a revoked certificate from {}: {}", remote_address_, revoked);
        }
      }
      return CloseNow();
    }
    if constexpr (kTls) peer_ = internal::VerifiedPeerCommonName(stream_.native_handle());
    ReadRequest(/*fresh=*/true);
  }

  // A fresh connection owes us a header within header_timeout. A kept-alive
  // one may stay silent for idle_timeout, but once the first byte of the
  // next request arrives, the rest of the header must follow within
  // header_timeout: a slow client cannot hold the connection open forever.
  void ReadRequest(bool fresh) {
    if (core_->draining.load()) return CloseNow();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // Checked in OnHeader instead: Beast would fail the header read itself
    // on a large Content-Length, before we know how much upload to drop.
    parser_->body_limit(boost::none);
    if (fresh || buffer_.size() > 0) return ReadHeader();
    state_ = State::kIdle;
    Tcp().expires_after(options().idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = Self()](beast::error_code ec, size_t n) {
                              self->OnFirstBytes(ec, n);
                            });
  }

  void OnFirstBytes(beast::error_code ec, size_t n) {
    if (ec) {
      if (IsTimeout(ec)) core_->timeouts.fetch_add(1);
      return CloseNow();  // idle connection closed by either side
    }
    buffer_.commit(n);
    ReadHeader();
  }

  void ReadHeader() {
    state_ = State::kReading;
    Tcp().expires_after(options().header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = Self()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    const auto& header = parser_->get();
    if (boost::optional<uint64_t> length = parser_->content_length();
        length && *length > options().max_body_bytes) {
      return RejectTooLarge(*length);
    }
    // For chunked bodies (no body octet has been parsed yet).
    parser_->body_limit(options().max_body_bytes);
    auto expect = header.find(http::field::expect);
    if (expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
      // The client waits for this before sending its body (curl does so for
      // large bodies); answering 413 above spares it the upload.
      continue_.emplace(http::status::continue_, header.version());
      Tcp().expires_after(options().write_timeout);
      return http::async_write(stream_, *continue_,
                               [self = Self()](beast::error_code write_ec, size_t) {
                                 if (write_ec) return self->CloseNow();
                                 self->ReadBody();
                               });
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return Dispatch();
    Tcp().expires_after(options().body_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = Self()](beast::error_code ec, size_t) {
      if (ec) return self->OnReadError(ec);
      self->Dispatch();
    });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return Close();  // the client hung up between requests
    if (ec == http::error::body_limit) return RejectTooLarge(0);
    if (ec == http::error::header_limit) {
      return Reject(InvalidRequest("request header larger than " + std::to_string(kHeaderLimit) +
                                   " bytes"));
    }
    if (IsHttpParseError(ec)) return Reject(InvalidRequest("malformed HTTP request: " + ec.message()));
    if (IsTimeout(ec)) core_->timeouts.fetch_add(1);
    CloseNow();
  }

  // Answers 413 and closes: the rest of the body is never parsed. `declared`
  // is the Content-Length, 0 for a chunked body (whose remaining size is
  // unknown: that connection is closed right after the answer).
  void RejectTooLarge(uint64_t declared) {
    uint64_t buffered = buffer_.size();
    linger_bytes_ = declared > buffered ? std::min(declared - buffered, kMaxLingerBytes) : 0;
    buffer_.clear();
    Reject(BodyTooLarge("request body larger than the limit of " +
                        std::to_string(options().max_body_bytes) + " bytes"));
  }

  // The server's own error answer to a request it could not parse: sent,
  // then the connection is closed (its stream position is unknown).
  void Reject(const Status& status) {
    core_->bad_requests.fetch_add(1);
    close_after_response_ = true;
    state_ = State::kHandling;
    Write(ErrorResponse(status));
  }

  void Dispatch() {
    state_ = State::kHandling;
    // The handler may take its time (a long poll): no timer runs meanwhile.
    Tcp().expires_never();
    auto& message = parser_->get();
    keep_alive_ = message.keep_alive();

    Request request;
    Status parsed = internal::ParseTarget(message.target(), &request.path, &request.query);
    if (!parsed.ok()) {
      core_->bad_requests.fetch_add(1);
      return Write(ErrorResponse(parsed));
    }
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    request.headers.reserve(std::distance(message.begin(), message.end()));
    for (const auto& field : message) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.peer = peer_;
    request.remote_address = remote_address_;

    core_->requests.fetch_add(1);
    core_->requests_in_flight.fetch_add(1);
    counted_in_flight_ = true;
    Responder responder(std::make_shared<SessionResponder>(shared_from_this()));
    // The handler belongs to another module; whatever it throws stops here
    // and becomes a 500 rather than a terminated process.
    try {
      core_->handler(std::move(request), responder);
    } catch (const std::exception& e) {
      responder(ErrorResponse(Internal(std::string("request handler failed: ") + e.what())));
    } catch (...) {
      responder(ErrorResponse(Internal("request handler failed")));
    }
  }

  void Write(Response response) override {
    if (state_ != State::kHandling) return;  // the connection failed meanwhile
    state_ = State::kWriting;
    if (options().finish_answer) options().finish_answer(response);
    response_ = {};
    int status = response.status >= 100 && response.status <= 599 ? response.status : 500;
    response_.result(static_cast<unsigned>(status));
    response_.version(11);
    if (!response.content_type.empty()) {
      response_.set(http::field::content_type, response.content_type);
    }
    for (const auto& [name, value] : response.headers) {
      // A CR or LF would let a value smuggle extra headers into the answer.
      if (name.find_first_of("\r\n") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        continue;
      }
      response_.set(name, value);
    }
    response_.body() = std::move(response.body);
    response_.keep_alive(keep_alive_ && !close_after_response_ && !core_->draining.load());
    response_.prepare_payload();
    Tcp().expires_after(options().write_timeout);
    http::async_write(stream_, response_, [self = Self()](beast::error_code ec, size_t) {
      self->OnWrite(ec);
    });
  }

  void OnWrite(beast::error_code ec) {
    if (counted_in_flight_) {
      counted_in_flight_ = false;
      core_->RequestDone();
    }
    if (ec) {
      if (IsTimeout(ec)) core_->timeouts.fetch_add(1);
      return CloseNow();
    }
    if (linger_bytes_ > 0) {
      // One deadline for the whole discard, set once: re-arming it for each
      // chunk let a client trickling a byte at a time hold the connection
      // for ever.
      Tcp().expires_after(options().body_timeout);
      return Linger();
    }
    if (!response_.keep_alive()) return Close();
    ReadRequest(/*fresh=*/false);
  }

  // Reads and drops the rest of a declared body after a 413 (bounded in size,
  // and in time by the one deadline OnWrite set), then closes. Closing at once would make the
  // kernel reset the connection, and the client would see the reset rather
  // than our answer.
  void Linger() {
    state_ = State::kClosing;
    buffer_.clear();
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(linger_bytes_, 64 * 1024));
    stream_.async_read_some(buffer_.prepare(chunk), [self = Self()](beast::error_code ec, size_t n) {
      self->linger_bytes_ -= std::min<uint64_t>(n, self->linger_bytes_);
      if (ec || self->linger_bytes_ == 0) return self->Close();
      self->Linger();
    });
  }

  // Orderly close: TLS close_notify (bounded wait for the peer's), then TCP.
  void Close() {
    if (state_ == State::kClosing && closed_.load()) return;
    state_ = State::kClosing;
    closed_ = true;
    if constexpr (kTls) {
      Tcp().expires_after(kTlsShutdownTimeout);
      stream_.async_shutdown([self = Self()](beast::error_code) { self->CloseNow(); });
    } else {
      beast::error_code ignored;
      Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
      CloseNow();
    }
  }

  void CloseNow() {
    state_ = State::kClosing;
    closed_ = true;
    Tcp().close();
  }

  void Recheck([[maybe_unused]] std::shared_ptr<ssl::context> context) override {
    if constexpr (kTls) {
      asio::post(strand_, [self = Self(), context = std::move(context)] {
        if (self->state_ == State::kHandshake || self->state_ == State::kClosing) return;
        std::string refused =
            internal::PeerTrustedBy(self->stream_.native_handle(), context->native_handle());
        if (refused.empty()) return;
        self->core_->connections_revoked.fetch_add(1);
        spdlog::warn("closing the connection of {} after a reload: {}", self->remote_address_,
                     refused);
        // At once, even mid-request: a revoked institution must not get
        // even the answer it is waiting for.
        self->DoShutdown(/*force=*/true);
      });
    }
  }

  void DoShutdown(bool force) override {
    if (force) return CloseNow();
    switch (state_) {
      case State::kHandshake:
      case State::kIdle:
      case State::kReading:
        // Nothing was handed to the handler: the client may safely retry.
        return CloseNow();
      case State::kHandling:
      case State::kWriting:
        close_after_response_ = true;
        return;
      case State::kClosing:
        return;
    }
  }

  // Declared before the stream that uses it.
  std::shared_ptr<ssl::context> context_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  http::response<http::string_body> response_;
  std::string peer_;
  std::string remote_address_;
  State state_ = State::kHandshake;
  bool keep_alive_ = false;
  bool close_after_response_ = false;
  uint64_t linger_bytes_ = 0;
};

void Core::Accept() {
  // The Core is kept by the handler: on a shared loop, an accept aborted by
  // Stop() may complete after the server is gone.
  acceptor.async_accept(asio::make_strand(ioc),
                        [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                          self->OnAccept(ec, std::move(socket));
                        });
}

// Runs on the acceptor's strand.
void Core::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (!acceptor.is_open() || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Typically EMFILE: back off instead of spinning on accept(). The
    // connection waits in the kernel's queue and is taken at the retry.
    accept_failures.fetch_add(1);
    const auto now = std::chrono::steady_clock::now();
    if (ec != last_accept_error || now - last_accept_log >= std::chrono::minutes(1)) {
      beast::error_code ignored;
      spdlog::error("cannot accept connections on port {}: {} (retrying every {} ms)",
                    acceptor.local_endpoint(ignored).port(), ec.message(), kAcceptBackoff.count());
      last_accept_error = ec;
      last_accept_log = now;
    }
    accept_backoff.expires_after(kAcceptBackoff);
    accept_backoff.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec && self->acceptor.is_open()) self->Accept();
    });
    return;
  }
  if (connections_open.load() >= options.max_connections) {
    // Closed without a word: answering 503 over TLS would cost a full
    // handshake for a client we refuse, exactly when we are overloaded.
    connections_rejected.fetch_add(1);
    beast::error_code ignored;
    socket.close(ignored);
  } else {
    connections_accepted.fetch_add(1);
    auto start = [this](auto session) {
      {
        std::lock_guard lock(mu);
        sessions.emplace(session.get(), session);
      }
      session->Start();
    };
    if (options.tls) {
      auto session = std::make_shared<Session<true>>(shared_from_this(), std::move(socket));
      // Into the handshake budget; over it, the oldest handshake makes room
      // (declared out here: released after the lock).
      std::shared_ptr<SessionBase> shed;
      {
        std::lock_guard lock(mu);
        session->handshaking_at_ = handshaking.insert(handshaking.end(), session);
        const size_t budget = options.max_handshaking > 0
                                  ? options.max_handshaking
                                  : std::max<size_t>(options.max_connections / 4, 1);
        // An expired entry belongs to a session being destroyed: its
        // destructor removes it, so it is skipped here, not erased.
        for (auto it = handshaking.begin(); handshaking.size() > budget && it != handshaking.end();
             ++it) {
          std::shared_ptr<SessionBase> oldest = it->lock();
          if (!oldest || oldest == session) continue;
          oldest->handshaking_at_.reset();
          handshaking.erase(it);
          shed = std::move(oldest);
          break;
        }
      }
      if (shed) {
        connections_shed.fetch_add(1);
        shed->Shutdown(/*force=*/true);
      }
      start(std::move(session));
    } else {
      start(std::make_shared<Session<false>>(shared_from_this(), std::move(socket)));
    }
  }
  Accept();
}

// Listening sockets handed down by the parent process (InheritedListenersEnv
// in server.h): read once, marked close-on-exec so that they go no further,
// and taken by the first Start() whose address is exactly theirs.
std::mutex inherited_mu;
bool inherited_read = false;
std::vector<int> inherited_fds;

std::optional<int> TakeInheritedListener(const tcp::endpoint& wanted) {
  std::lock_guard lock(inherited_mu);
  if (!inherited_read) {
    inherited_read = true;
    if (const char* list = std::getenv(kInheritedListenersEnv)) {
      std::string_view rest = list;
      while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        int fd = 0;
        bool digits = !item.empty() && item.size() < 8;
        for (char c : item) {
          digits &= c >= '0' && c <= '9';
          fd = fd * 10 + (c - '0');
        }
        if (digits && fd > 2 && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0) inherited_fds.push_back(fd);
      }
    }
  }
  for (auto it = inherited_fds.begin(); it != inherited_fds.end(); ++it) {
    int type = 0, listening = 0;
    socklen_t size = sizeof type;
    if (getsockopt(*it, SOL_SOCKET, SO_TYPE, &type, &size) != 0 || type != SOCK_STREAM) continue;
    size = sizeof listening;
    if (getsockopt(*it, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || !listening) continue;
    tcp::endpoint bound;
    socklen_t length = static_cast<socklen_t>(bound.capacity());
    if (getsockname(*it, bound.data(), &length) != 0) continue;
    bound.resize(length);
    if (bound != wanted) continue;
    int fd = *it;
    inherited_fds.erase(it);
    return fd;
  }
  return std::nullopt;
}

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, Handler handler)
      : core_(std::make_shared<Core>(std::move(options), std::move(handler))) {}

  Status Start() {
    std::lock_guard lock(lifecycle_mu_);
    if (started_) return Internal("server already started");
    const ServerOptions& options = core_->options;
    if (!core_->shared_loop && options.threads < 1) {
      return InvalidRequest("a server needs at least one thread");
    }
    if (options.tls) {
      CARREFOUR_ASSIGN_OR_RETURN(ssl::context context,
                                 internal::MakeTlsContext(*options.tls, internal::TlsRole::kServer));
      std::atomic_store(&core_->tls, std::make_shared<ssl::context>(std::move(context)));
    }
    beast::error_code ec;
    asio::ip::address address = asio::ip::make_address(options.address, ec);
    if (ec) return InvalidRequest("bad listen address '" + options.address + "': " + ec.message());
    tcp::endpoint endpoint(address, options.port);
    std::string where = options.address + ":" + std::to_string(options.port);
    tcp::acceptor& acceptor = core_->acceptor;
    std::optional<int> inherited;
    if (options.port != 0) inherited = TakeInheritedListener(endpoint);
    if (inherited) {
      acceptor.assign(endpoint.protocol(), *inherited, ec);
    } else {
      acceptor.open(endpoint.protocol(), ec);
      if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) acceptor.bind(endpoint, ec);
      if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
      beast::error_code ignored;
      acceptor.close(ignored);
      return Unavailable("cannot listen on " + where + ": " + ec.message());
    }
    port_ = acceptor.local_endpoint(ec).port();
    asio::post(acceptor.get_executor(), [core = core_] { core->Accept(); });
    started_ = true;
    return OkStatus();
  }

  void Stop() {
    std::lock_guard lifecycle_lock(lifecycle_mu_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    core_->draining = true;

    // 1. No new connections. Waiting for the close to run on the acceptor's
    // strand guarantees that every accepted session is registered by now.
    std::promise<void> closed;
    asio::post(core_->acceptor.get_executor(), [core = core_.get(), &closed] {
      beast::error_code ignored;
      core->acceptor.close(ignored);
      core->accept_backoff.cancel();
      closed.set_value();
    });
    closed.get_future().wait();

    // 2. Idle connections go now; busy ones after their answer.
    for (const auto& session : LiveSessions()) session->Shutdown(/*force=*/false);

    // 3. Bounded drain of the requests in flight.
    {
      std::unique_lock lock(core_->mu);
      core_->idle.wait_for(lock, core_->options.drain_timeout,
                           [this] { return core_->requests_in_flight.load() == 0; });
      // From here on, a late Responder posts nothing: no thread will run it.
      core_->stopped = true;
    }

    // 4. Whatever is left is closed. The server's own threads return once
    // every pending operation has completed (they all fail fast on a closed
    // socket); a shared loop's threads go on (the sessions keep the Core).
    for (const auto& session : LiveSessions()) session->Shutdown(/*force=*/true);
    if (core_->own_loop) core_->own_loop->impl().Join(/*stop=*/false);
  }

  Status ReloadTls(const TlsFiles& files) {
    if (!core_->options.tls) return InvalidRequest("a plain-HTTP server has no TLS to reload");
    CARREFOUR_ASSIGN_OR_RETURN(ssl::context context,
                               internal::MakeTlsContext(files, internal::TlsRole::kServer));
    auto shared = std::make_shared<ssl::context>(std::move(context));
    std::atomic_store(&core_->tls, shared);
    for (const auto& session : LiveSessions()) session->Recheck(shared);
    return OkStatus();
  }

  uint16_t port() const { return port_; }

  ServerStats stats() const {
    ServerStats stats;
    stats.connections_open = core_->connections_open.load();
    stats.connections_accepted = core_->connections_accepted.load();
    stats.connections_rejected = core_->connections_rejected.load();
    stats.handshake_failures = core_->handshake_failures.load();
    stats.requests = core_->requests.load();
    stats.requests_in_flight = core_->requests_in_flight.load();
    stats.bad_requests = core_->bad_requests.load();
    stats.timeouts = core_->timeouts.load();
    stats.handshakes_revoked = core_->handshakes_revoked.load();
    stats.connections_revoked = core_->connections_revoked.load();
    stats.connections_shed = core_->connections_shed.load();
    stats.accept_failures = core_->accept_failures.load();
    return stats;
  }

 private:
  std::vector<std::shared_ptr<SessionBase>> LiveSessions() {
    std::vector<std::shared_ptr<SessionBase>> live;
    std::lock_guard lock(core_->mu);
    live.reserve(core_->sessions.size());
    for (const auto& [raw, weak] : core_->sessions) {
      if (std::shared_ptr<SessionBase> session = weak.lock()) live.push_back(std::move(session));
    }
    return live;
  }

  std::shared_ptr<Core> core_;
  std::mutex lifecycle_mu_;
  bool started_ = false;
  bool stopped_ = false;
  std::atomic<uint16_t> port_{0};
};

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}
Server::~Server() { Stop(); }
Status Server::Start() { return impl_->Start(); }
uint16_t Server::port() const { return impl_->port(); }
void Server::Stop() { impl_->Stop(); }
Status Server::ReloadTls(const TlsFiles& files) { return impl_->ReloadTls(files); }
ServerStats Server::stats() const { return impl_->stats(); }

}  // namespace carrefour::net
