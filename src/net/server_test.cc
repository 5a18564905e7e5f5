// SPDX-License-Identifier: EUPL-1.2
#include "net/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <gtest/gtest.h>

#include "net/client.h"
#include "net/test_support.h"
#include "core/testing/temp_dir.h"

namespace carrefour::net {
namespace {

using testing::Certs;
using testing::RawSocket;
using testing::RawTlsClient;

// Answers with what the handler saw, so that tests can check the parsing.
void Echo(Request&& request, Responder respond) {
  std::string seen = "peer=" + request.peer + " method=" + request.method + " path=" + request.path;
  for (const auto& [name, value] : request.query) seen += " q:" + name + "=" + value;
  if (auto id = request.Header("X-Request-Id")) seen += " id=" + std::string(*id);
  seen += " body=" + request.body;
  respond(Response::Text(200, seen));
}

ServerOptions TlsServer(const std::string& name = "hub") {
  ServerOptions options;
  options.tls = Certs::Get().Identity(name);
  return options;
}

std::unique_ptr<Client> TlsClient(const std::string& name = "mut-100") {
  ClientOptions options;
  options.tls = Certs::Get().Identity(name);
  auto client = Client::Create(options);
  EXPECT_TRUE(client.has_value()) << client.error().ToString();
  return std::move(*client);
}

Endpoint Https(uint16_t port, std::string expected_cn = "hub") {
  return Endpoint{.tls = true, .host = "127.0.0.1", .port = port, .expected_cn = std::move(expected_cn)};
}

Endpoint Http(uint16_t port) { return Endpoint{.tls = false, .host = "127.0.0.1", .port = port}; }

// Keeps the Responders that a handler did not use, for tests that answer
// later or never.
class HeldRequests {
 public:
  Handler handler() {
    return [this](Request&& request, Responder respond) {
      std::lock_guard lock(mu_);
      held_.emplace_back(std::move(request), std::move(respond));
      arrived_.notify_all();
    };
  }
  // Blocks until a request has arrived; hands it over.
  std::pair<Request, Responder> Next() {
    std::unique_lock lock(mu_);
    arrived_.wait(lock, [this] { return !held_.empty(); });
    auto next = std::move(held_.front());
    held_.pop_front();
    return next;
  }

 private:
  std::mutex mu_;
  std::condition_variable arrived_;
  std::deque<std::pair<Request, Responder>> held_;
};

TEST(Server, RoundTripShowsPeerCommonName) {
  Server server(TlsServer(), Echo);
  ASSERT_TRUE(server.Start().ok());
  auto client = TlsClient("mut-100");
  ClientRequest request;
  request.target = "/v1/things%20here?niss=85.07.30-033.28&name=a+b%26c&flag";
  request.body = R"({"x":1})";
  request.headers = {{"X-Request-Id", "r-42"}};
  auto response = client->SendSync(Https(server.port()), request);
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(response->body,
            "peer=mut-100 method=POST path=/v1/things here q:niss=85.07.30-033.28 "
            "q:name=a b&c q:flag= id=r-42 body={\"x\":1}");
}

TEST(Server, KeepAliveServesSeveralRequestsOnOneConnection) {
  Server server(TlsServer(), Echo);
  ASSERT_TRUE(server.Start().ok());
  auto client = TlsClient();
  for (int i = 0; i < 5; ++i) {
    auto response = client->PostSync(Https(server.port()), "/v1/x", std::to_string(i));
    ASSERT_TRUE(response.has_value()) << response.error().ToString();
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(server.stats().connections_accepted, 1u);
  EXPECT_EQ(server.stats().requests, 5u);
  EXPECT_EQ(client->stats().connections_opened, 1u);
  EXPECT_EQ(client->stats().connections_reused, 4u);
}

// The accepted sockets of this process on `port` (the server's side of each
// connection), as file descriptors.
std::vector<int> AcceptedSocketsOn(uint16_t port) {
  std::vector<int> found;
  for (int fd = 0; fd < 4096; ++fd) {
    sockaddr_in local{}, peer{};
    socklen_t local_size = sizeof local, peer_size = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0) continue;
    if (local.sin_family != AF_INET || ntohs(local.sin_port) != port) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0) continue;  // the listener
    found.push_back(fd);
  }
  return found;
}

// An answer leaves in several writes; with Nagle's algorithm on, the last
// would wait for the client's delayed acknowledgement (40 ms on Linux):
// a batch of mutations took three times as long.
TEST(Server, AcceptedConnectionsSendWithoutDelay) {
  for (const bool tls : {true, false}) {
    SCOPED_TRACE(tls ? "TLS" : "plain HTTP");
    ServerOptions options = tls ? TlsServer() : ServerOptions{};
    Server server(options, Echo);
    ASSERT_TRUE(server.Start().ok());
    std::unique_ptr<Client> client = tls ? TlsClient() : *Client::Create(ClientOptions{});
    auto response = client->PostSync(tls ? Https(server.port()) : Http(server.port()), "/v1/x", "x");
    ASSERT_TRUE(response.has_value()) << response.error().ToString();
    const std::vector<int> accepted = AcceptedSocketsOn(server.port());
    ASSERT_EQ(accepted.size(), 1u);  // kept alive
    int no_delay = 0;
    socklen_t size = sizeof no_delay;
    ASSERT_EQ(getsockopt(accepted[0], IPPROTO_TCP, TCP_NODELAY, &no_delay, &size), 0);
    EXPECT_NE(no_delay, 0);
  }
}

TEST(Server, RefusesClientWithoutCertificate) {
  bool called = false;
  Server server(TlsServer(), [&called](Request&&, Responder respond) {
    called = true;
    respond(Response::Text(200, "should not happen"));
  });
  ASSERT_TRUE(server.Start().ok());
  RawTlsClient anonymous(Certs::Get().NetworkCa(), std::nullopt);
  auto answer = anonymous.Exchange(server.port(), "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(answer.has_value() && !answer->empty()) << *answer;
  server.Stop();
  EXPECT_FALSE(called);
}

TEST(Server, RefusesClientCertificateFromAnotherCa) {
  bool called = false;
  Server server(TlsServer(), [&called](Request&&, Responder respond) {
    called = true;
    respond(Response::Text(200, "should not happen"));
  });
  ASSERT_TRUE(server.Start().ok());

  ClientOptions options;
  options.tls = Certs::Get().ForeignIdentity();
  auto client = Client::Create(options);
  ASSERT_TRUE(client.has_value());
  auto response = (*client)->PostSync(Https(server.port()), "/v1/x", "{}");
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kUnavailable);

  // The same through raw OpenSSL, in case our client gave up on its own.
  RawTlsClient foreign(Certs::Get().NetworkCa(), Certs::Get().ForeignIdentity());
  auto answer = foreign.Exchange(server.port(), "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(answer.has_value() && !answer->empty()) << *answer;
  server.Stop();
  EXPECT_FALSE(called);
  EXPECT_GE(server.stats().handshake_failures, 1u);
}

TEST(Server, RawTlsClientWithCertificateIsServed) {
  // The positive control for the two refusals above.
  Server server(TlsServer(), Echo);
  ASSERT_TRUE(server.Start().ok());
  RawTlsClient member(Certs::Get().NetworkCa(), Certs::Get().Identity("mut-200"));
  auto answer = member.Exchange(server.port(), "GET /a HTTP/1.1\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(answer->starts_with("HTTP/1.1 200")) << *answer;
  EXPECT_NE(answer->find("peer=mut-200"), std::string::npos) << *answer;
}

// A certificate made here, outside the pki module (which would refuse to
// make it): `common_names` as the subject's CN entries, signed by `issuer`
// (its certificate and key files), a CA itself when `is_ca`. Writes
// NAME.crt (followed by `chain_extra`, the intermediate of a chain) and
// NAME.key into `dir`; returns their identity with the network CA.
TlsFiles ForgedIdentity(const std::filesystem::path& dir, const std::string& name,
                        const std::vector<std::string>& common_names, const TlsFiles& issuer,
                        bool is_ca, const std::filesystem::path& chain_extra = {}) {
  auto read_pem = [](const std::filesystem::path& path, auto reader) {
    FILE* file = std::fopen(path.c_str(), "r");
    EXPECT_NE(file, nullptr) << path;
    auto* object = reader(file, nullptr, nullptr, nullptr);
    std::fclose(file);
    return object;
  };
  // An issuer without a certificate: the new one signs itself (a CA).
  const bool self_signed = issuer.cert.empty();
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509* issuer_cert = self_signed ? cert : read_pem(issuer.cert, PEM_read_X509);
  EVP_PKEY* issuer_key = self_signed ? key : read_pem(issuer.key, PEM_read_PrivateKey);
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), static_cast<long>(std::hash<std::string>()(name) & 0x7fffffff));
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_NAME* subject = X509_get_subject_name(cert);
  for (const std::string& cn : common_names) {
    X509_NAME_add_entry_by_NID(subject, NID_commonName, V_ASN1_UTF8STRING,
                               reinterpret_cast<const unsigned char*>(cn.data()),
                               static_cast<int>(cn.size()), -1, 0);
  }
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  X509_set_pubkey(cert, key);
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer_cert, cert, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair<int, const char*>{NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"},
                            {NID_key_usage, is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature"},
                            {NID_ext_key_usage, "serverAuth,clientAuth"}}) {
    if (is_ca && nid == NID_ext_key_usage) continue;
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
  }
  EXPECT_GT(X509_sign(cert, issuer_key, EVP_sha256()), 0);
  TlsFiles files{dir / (name + ".crt"), dir / (name + ".key"), Certs::Get().NetworkCa()};
  FILE* out = std::fopen(files.cert.c_str(), "w");
  PEM_write_X509(out, cert);
  if (!chain_extra.empty()) {
    X509* extra = read_pem(chain_extra, PEM_read_X509);
    PEM_write_X509(out, extra);
    X509_free(extra);
  }
  std::fclose(out);
  out = std::fopen(files.key.c_str(), "w");
  PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(out);
  std::filesystem::permissions(files.key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  if (!self_signed) {
    X509_free(issuer_cert);
    EVP_PKEY_free(issuer_key);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return files;
}

// The network PKI has one level: the CA signs every certificate. A chain
// through an intermediate, a subject with two CNs, and a CN with a control
// character or a bidirectional override are not identities.
TEST(Server, OnlyOneLevelOneCleanCommonNameIsAnIdentity) {
  const std::filesystem::path dir =
      carrefour::testing::MakeTempDir("carrefour-forged");
  std::filesystem::create_directories(dir);
  const TlsFiles network_ca{Certs::Get().NetworkCa(),
                            Certs::Get().NetworkCa().parent_path() / "ca.key", {}};
  ASSERT_TRUE(std::filesystem::exists(network_ca.key)) << network_ca.key;
  Server server(TlsServer(), Echo);
  ASSERT_TRUE(server.Start().ok());
  auto peer = [&](const TlsFiles& identity) -> std::string {
    RawTlsClient client(Certs::Get().NetworkCa(), identity);
    auto answer = client.Exchange(server.port(), "GET /a HTTP/1.1\r\nConnection: close\r\n\r\n");
    if (!answer || !answer->starts_with("HTTP/1.1 200")) return "<refused>";
    size_t at = answer->find("peer=");
    return answer->substr(at + 5, answer->find(" method=") - at - 5);
  };
  // The positive control: a certificate made the same way, directly by the CA.
  EXPECT_EQ(peer(ForgedIdentity(dir, "plain", {"mut-100"}, network_ca, false)), "mut-100");

  TlsFiles intermediate = ForgedIdentity(dir, "intermediate", {"intermediate"}, network_ca, true);
  TlsFiles below = ForgedIdentity(dir, "below", {"mut-100"}, intermediate, false, intermediate.cert);
  EXPECT_EQ(peer(below), "<refused>");
  EXPECT_EQ(peer(ForgedIdentity(dir, "two", {"mut-200", "mut-100"}, network_ca, false)), "");
  EXPECT_EQ(peer(ForgedIdentity(dir, "control", {std::string("mut-100\nx")}, network_ca, false)), "");
  EXPECT_EQ(peer(ForgedIdentity(dir, "nul", {std::string("mut-100\0x", 9)}, network_ca, false)), "");
  // C1 controls (U+0085 NEXT LINE) and bidirectional overrides (U+202E)
  // print as something else too; other non-ASCII letters are names.
  EXPECT_EQ(peer(ForgedIdentity(dir, "c1", {std::string("mut-100\xc2\x85x")}, network_ca, false)), "");
  EXPECT_EQ(peer(ForgedIdentity(dir, "bidi", {std::string("mut-\xe2\x80\xae" "001")}, network_ca, false)),
            "");
  EXPECT_EQ(peer(ForgedIdentity(dir, "accent", {std::string("mut-\xc3\xa9")}, network_ca, false)),
            "mut-\xc3\xa9");
  std::filesystem::remove_all(dir);
}

// A network CA made before CAs got pathlen 0 does not forbid intermediates
// itself: the verify depth alone keeps its network one level deep.
TEST(Server, AnIntermediateIsRefusedEvenUnderACaWithoutPathlen) {
  const std::filesystem::path dir = carrefour::testing::MakeTempDir("carrefour-old-ca");
  const TlsFiles old_ca = ForgedIdentity(dir, "old-ca", {"carrefour network CA"}, TlsFiles{}, true);
  TlsFiles hub = ForgedIdentity(dir, "hub", {"hub"}, old_ca, false);
  hub.ca = old_ca.cert;
  ServerOptions options;
  options.tls = hub;
  Server server(options, Echo);
  ASSERT_TRUE(server.Start().ok());
  auto peer = [&](TlsFiles identity) -> std::string {
    identity.ca = old_ca.cert;
    RawTlsClient client(old_ca.cert, identity);
    auto answer = client.Exchange(server.port(), "GET /a HTTP/1.1\r\nConnection: close\r\n\r\n");
    if (!answer || !answer->starts_with("HTTP/1.1 200")) return "<refused>";
    size_t at = answer->find("peer=");
    return answer->substr(at + 5, answer->find(" method=") - at - 5);
  };
  EXPECT_EQ(peer(ForgedIdentity(dir, "direct", {"mut-100"}, old_ca, false)), "mut-100");
  TlsFiles intermediate = ForgedIdentity(dir, "intermediate", {"intermediate"}, old_ca, true);
  TlsFiles below = ForgedIdentity(dir, "below", {"mut-100"}, intermediate, false, intermediate.cert);
  EXPECT_EQ(peer(below), "<refused>");
  std::filesystem::remove_all(dir);
}

TEST(Server, BodyOverLimitGets413) {
  ServerOptions options = TlsServer();
  options.max_body_bytes = 1024;
  Server server(options, Echo);
  ASSERT_TRUE(server.Start().ok());
  auto client = TlsClient();

  struct Case {
    std::string name;
    size_t size;
    int status;
  };
  for (const Case& c : {Case{"at the limit", 1024, 200}, Case{"one over", 1025, 413},
                        Case{"far over", 3 << 20, 413}}) {
    SCOPED_TRACE(c.name);
    auto response = client->PostSync(Https(server.port()), "/v1/x", std::string(c.size, 'a'));
    ASSERT_TRUE(response.has_value()) << response.error().ToString();
    EXPECT_EQ(response->status, c.status);
    if (c.status == 413) {
      EXPECT_TRUE(response->body.starts_with(R"({"error":{"code":"body-too-large","message":")"))
          << response->body;
    }
  }
}

TEST(Server, ChunkedBodyOverLimitGets413) {
  ServerOptions options;
  options.max_body_bytes = 16;
  Server server(options, Echo);
  ASSERT_TRUE(server.Start().ok());
  RawSocket socket(server.port());
  ASSERT_TRUE(socket.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "20\r\n0123456789abcdef0123456789abcdef\r\n0\r\n\r\n"));
  std::string answer = socket.ReadUntilClosed();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer;
  EXPECT_NE(answer.find("body-too-large"), std::string::npos) << answer;
}

// After a 413 the server reads and drops what the client still sends, for a
// while: a client trickling a byte at a time must not hold the connection
// beyond that one deadline.
TEST(Server, TrickleAfter413CannotHoldTheConnection) {
  ServerOptions options;
  options.max_body_bytes = 16;
  options.body_timeout = std::chrono::milliseconds(300);
  Server server(options, Echo);
  ASSERT_TRUE(server.Start().ok());
  RawSocket socket(server.port());
  ASSERT_TRUE(socket.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"));
  std::string answer = socket.ReadUntil("}}");
  ASSERT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer;
  // 100 bytes, one every 50 ms: five seconds of trickle, each byte well
  // within the 300 ms timeout of the one before.
  std::atomic<bool> closed{false};
  std::atomic<int> sent{0};
  std::thread trickle([&] {
    for (int i = 0; i < 100 && !closed.load(); ++i) {
      if (!socket.Send("x")) break;
      sent.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  socket.ReadUntilClosed();  // returns once the server has closed
  closed = true;
  const int sent_before_close = sent.load();
  trickle.join();
  EXPECT_LT(sent_before_close, 100) << "the connection stayed open for the whole trickle";
}

// finish_answer sees every answer, the server's own included: the admin
// listener relies on it for headers that no answer may lack (issue 22).
TEST(Server, FinishAnswerReachesTheServersOwnAnswersToo) {
  ServerOptions options;
  options.max_body_bytes = 16;
  options.finish_answer = [](Response& response) { response.headers.emplace_back("X-Finished", "yes"); };
  Server server(options, [](Request&& request, Responder respond) {
    if (request.path == "/throw") throw std::runtime_error("boom");
    if (request.path == "/drop") return;  // the responder is dropped unanswered
    respond(Response::Text(200, "ok\n"));
  });
  ASSERT_TRUE(server.Start().ok());
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 200"},
      {"GET /throw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 500"},
      {"GET /drop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 500"},
      {"GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 400"},
      {"NOT HTTP AT ALL\r\n\r\n", "HTTP/1.1 400"},
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n",
       "HTTP/1.1 413"},
  };
  for (const auto& [request, status] : rows) {
    SCOPED_TRACE(request);
    RawSocket socket(server.port());
    ASSERT_TRUE(socket.Send(request));
    std::string answer = socket.ReadUntil("\r\n\r\n");
    EXPECT_TRUE(answer.starts_with(status)) << answer;
    EXPECT_NE(answer.find("X-Finished: yes\r\n"), std::string::npos) << answer;
  }
}

TEST(Server, ExpectContinueOverLimitIsRefusedBeforeUpload) {
  ServerOptions options;
  options.max_body_bytes = 16;
  Server server(options, Echo);
  ASSERT_TRUE(server.Start().ok());
  RawSocket socket(server.port());
  ASSERT_TRUE(socket.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n"
                          "Expect: 100-continue\r\n\r\n"));
  std::string answer = socket.ReadUntil("}}");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer;
}

TEST(Server, ExpectContinueWithinLimitGets100ThenAnswer) {
  Server server(ServerOptions{}, Echo);
  ASSERT_TRUE(server.Start().ok());
  RawSocket socket(server.port());
  ASSERT_TRUE(socket.Send("POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                          "Expect: 100-continue\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(socket.ReadUntil("\r\n\r\n").starts_with("HTTP/1.1 100"));
  ASSERT_TRUE(socket.Send("hello"));
  std::string answer = socket.ReadUntilClosed();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
  EXPECT_NE(answer.find("body=hello"), std::string::npos) << answer;
}

TEST(Server, SilentClientIsDisconnectedAfterHeaderTimeout) {
  ServerOptions options;
  options.header_timeout = std::chrono::milliseconds(100);
  Server server(options, Echo);
  ASSERT_TRUE(server.Start().ok());
  RawSocket socket(server.port());
  ASSERT_TRUE(socket.connected());
  // Returns only because the server closed the connection.
  EXPECT_EQ(socket.ReadUntilClosed(), "");
  server.Stop();
  EXPECT_EQ(server.stats().timeouts, 1u);
}

TEST(Server, SlowHeaderIsDisconnected) {
  ServerOptions options;
  options.header_timeout = std::chrono::milliseconds(100);
  Server server(options, Echo);
  ASSERT_TRUE(server.Start().ok());
  RawSocket socket(server.port());
  ASSERT_TRUE(socket.Send("GET / HTTP/1.1\r\nHost: x\r\n"));  // never finished
  EXPECT_EQ(socket.ReadUntilClosed(), "");
}

TEST(Server, SilentTlsClientIsDisconnectedAfterHandshakeTimeout) {
  ServerOptions options = TlsServer();
  options.handshake_timeout = std::chrono::milliseconds(100);
  Server server(options, Echo);
  ASSERT_TRUE(server.Start().ok());
  RawSocket socket(server.port());
  ASSERT_TRUE(socket.connected());
  EXPECT_EQ(socket.ReadUntilClosed(), "");
  server.Stop();
  EXPECT_EQ(server.stats().handshake_failures, 1u);
}

TEST(Server, IdleKeptAliveConnectionIsClosed) {
  ServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(100);
  Server server(options, Echo);
  ASSERT_TRUE(server.Start().ok());
  RawSocket socket(server.port());
  ASSERT_TRUE(socket.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string answer = socket.ReadUntilClosed();  // the response, then the idle close
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
}

TEST(Server, MalformedRequestGets400AndClose) {
  struct Case {
    std::string name;
    std::string bytes;
  };
  const Case cases[] = {
      {"binary junk", std::string("\x01\x02\x03 junk\r\n\r\n")},
      {"header without colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n"},
      {"bad content length", "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"},
      {"bad version", "GET / HTTQ/1.1\r\n\r\n"},
      {"header too large", "GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"},
  };
  Server server(ServerOptions{}, Echo);
  ASSERT_TRUE(server.Start().ok());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RawSocket socket(server.port());
    ASSERT_TRUE(socket.Send(c.bytes));
    std::string answer = socket.ReadUntilClosed();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400")) << answer;
    EXPECT_NE(answer.find(R"("code":"invalid-request")"), std::string::npos) << answer;
  }
}

TEST(Server, BadTargetGets400AndConnectionStaysUsable) {
  struct Case {
    std::string name;
    std::string target;
  };
  const Case cases[] = {
      {"bad escape in path", "/a%zz"},
      {"truncated escape in query", "/a?x=%4"},
      {"not origin form", "*"},
  };
  Server server(ServerOptions{}, Echo);
  ASSERT_TRUE(server.Start().ok());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RawSocket socket(server.port());
    ASSERT_TRUE(socket.Send("GET " + c.target + " HTTP/1.1\r\nHost: x\r\n\r\n"
                            "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    std::string answer = socket.ReadUntilClosed();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400")) << answer;
    EXPECT_NE(answer.find("HTTP/1.1 200"), std::string::npos) << answer;
  }
}

TEST(Server, ResponderAnswersLaterFromAnotherThread) {
  HeldRequests held;
  Server server(TlsServer(), held.handler());
  ASSERT_TRUE(server.Start().ok());
  auto client = TlsClient();
  std::promise<Result<ClientResponse>> done;
  client->Post(Https(server.port()), "/v1/mutations/feed", "",
               [&done](Result<ClientResponse> response) { done.set_value(std::move(response)); });

  auto [request, respond] = held.Next();
  EXPECT_EQ(request.path, "/v1/mutations/feed");
  EXPECT_FALSE(respond.answered());
  EXPECT_FALSE(respond.abandoned());
  EXPECT_EQ(server.stats().requests_in_flight, 1u);
  std::thread later([respond = respond] { respond(Response::Json(200, R"({"mutations":[]})")); });
  later.join();
  EXPECT_TRUE(respond.answered());
  respond(Response::Json(500, "ignored: a second answer"));

  auto response = done.get_future().get();
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"mutations":[]})");
}

TEST(Server, DroppedResponderAnswers500) {
  Server server(ServerOptions{}, [](Request&&, Responder) {});
  ASSERT_TRUE(server.Start().ok());
  auto client = Client::Create(ClientOptions{});
  ASSERT_TRUE(client.has_value());
  auto response = (*client)->GetSync(Http(server.port()), "/");
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 500);
  EXPECT_NE(response->body.find(R"("code":"internal")"), std::string::npos);
}

TEST(Server, ThrowingHandlerAnswers500) {
  Server server(ServerOptions{}, [](Request&&, Responder) { throw std::runtime_error("boom"); });
  ASSERT_TRUE(server.Start().ok());
  auto client = Client::Create(ClientOptions{});
  ASSERT_TRUE(client.has_value());
  auto response = (*client)->GetSync(Http(server.port()), "/");
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 500);
  EXPECT_NE(response->body.find("boom"), std::string::npos);
}

TEST(Server, PlainHttpModeServesWithEmptyPeer) {
  Server server(ServerOptions{}, Echo);
  ASSERT_TRUE(server.Start().ok());
  auto client = Client::Create(ClientOptions{});
  ASSERT_TRUE(client.has_value());
  auto response = (*client)->GetSync(Http(server.port()), "/healthz");
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(response->body.starts_with("peer= method=GET path=/healthz")) << response->body;
}

TEST(Server, StopLetsRequestInFlightFinish) {
  HeldRequests held;
  Server server(TlsServer(), held.handler());
  ASSERT_TRUE(server.Start().ok());
  auto client = TlsClient();
  std::promise<Result<ClientResponse>> done;
  client->Post(Https(server.port()), "/slow", "",
               [&done](Result<ClientResponse> response) { done.set_value(std::move(response)); });
  auto [request, respond] = held.Next();
  std::thread stopper([&server] { server.Stop(); });
  respond(Response::Json(200, "{}"));
  stopper.join();
  auto response = done.get_future().get();
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
}

TEST(Server, ResponderOutlivingTheServerIsHarmless) {
  HeldRequests held;
  ServerOptions options;
  options.drain_timeout = std::chrono::milliseconds(0);
  auto server = std::make_unique<Server>(options, held.handler());
  ASSERT_TRUE(server->Start().ok());
  auto client = Client::Create(ClientOptions{});
  ASSERT_TRUE(client.has_value());
  std::promise<Result<ClientResponse>> done;
  (*client)->Send(Http(server->port()), ClientRequest{.method = "GET", .target = "/feed"},
                  [&done](Result<ClientResponse> response) { done.set_value(std::move(response)); });
  auto [request, respond] = held.Next();
  server.reset();  // stops without waiting: drain_timeout is 0
  EXPECT_TRUE(respond.abandoned());
  respond(Response::Json(200, "{}"));  // does nothing, crashes nothing
  auto response = done.get_future().get();
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kUnavailable);
}

TEST(Server, ConnectionsOverTheCapAreClosed) {
  ServerOptions options;
  options.max_connections = 1;
  Server server(options, Echo);
  ASSERT_TRUE(server.Start().ok());
  RawSocket first(server.port());
  ASSERT_TRUE(first.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(first.ReadUntil("body=").starts_with("HTTP/1.1 200"));  // accepted and serving
  RawSocket second(server.port());
  EXPECT_EQ(second.ReadUntilClosed(), "");
  EXPECT_EQ(server.stats().connections_rejected, 1u);
  EXPECT_EQ(server.stats().connections_open, 1u);
}

// Out of file descriptors, accept() fails: the server counts it, retries,
// and takes the waiting connection once descriptors are free again.
TEST(Server, AcceptFailuresAreCountedAndTheConnectionIsTakenLater) {
  Server server(ServerOptions{}, Echo);
  ASSERT_TRUE(server.Start().ok());
  // The client's socket exists before the limit is lowered: connect()
  // needs no new descriptor, the server's accept() does.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  const int lowest_free = ::dup(0);  // every number below it is taken
  ::close(lowest_free);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(server.port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  RawSocket client(fd);
  const timeval guard{.tv_sec = 30, .tv_usec = 0};  // a lost connection fails, not hangs
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof guard);
  for (int i = 0; connected && i < 500 && server.stats().accept_failures == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const ServerStats starved = server.stats();
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_TRUE(connected);
  EXPECT_GT(starved.accept_failures, 0u) << "accept() never failed: the limit did not bite";
  EXPECT_EQ(starved.connections_accepted, 0u);
  ASSERT_TRUE(client.Send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(client.ReadUntil("body=").starts_with("HTTP/1.1 200")) << "not served after the retry";
  EXPECT_EQ(server.stats().connections_accepted, 1u);
}

TEST(Server, StartReportsAddressInUse) {
  Server first(ServerOptions{}, Echo);
  ASSERT_TRUE(first.Start().ok());
  ServerOptions options;
  options.port = first.port();
  Server second(options, Echo);
  Status status = second.Start();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find(std::to_string(first.port())), std::string::npos);
}

// Socket activation (kInheritedListenersEnv): a server adopts the listening
// socket its parent bound to exactly its address, where binding itself would
// fail (the parent's socket holds the port). In a child process, since the
// variable is read once per process.
TEST(Server, AdoptsTheInheritedListenerBoundToItsAddress) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const uint16_t port = ntohs(address.sin_port);

  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // 1: an unrelated server (port 0) does not take it; 2: the matching one
    // does and serves on it; 3: a second one for that address must bind and
    // fails (the socket was taken once).
    setenv(kInheritedListenersEnv, std::to_string(fd).c_str(), 1);
    Server other(ServerOptions{}, Echo);
    if (!other.Start().ok() || other.port() == port) _exit(1);
    ServerOptions options;
    options.port = port;
    Server adopted(options, Echo);
    if (!adopted.Start().ok() || adopted.port() != port) _exit(2);
    auto client = Client::Create({});
    if (!client) _exit(3);
    auto response = (*client)->GetSync(Http(port), "/adopted");
    if (!response || response->status != 200) _exit(4);
    Server again(options, Echo);
    if (again.Start().ok()) _exit(5);
    adopted.Stop();
    other.Stop();
    _exit(0);
  }
  close(fd);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: port 0 took it, 2: not adopted, 3-4: not served, 5: adopted twice";
}

TEST(Server, StartRejectsBadConfiguration) {
  struct Case {
    std::string name;
    ServerOptions options;
  };
  ServerOptions bad_address;
  bad_address.address = "not-an-address";
  ServerOptions missing_key = TlsServer();
  missing_key.tls->key = "/nonexistent/hub.key";
  ServerOptions mismatched_key = TlsServer();
  mismatched_key.tls->key = Certs::Get().Identity("mut-100").key;
  for (const Case& c : {Case{"bad address", bad_address}, Case{"missing key", missing_key},
                        Case{"key of another certificate", mismatched_key}}) {
    SCOPED_TRACE(c.name);
    Server server(c.options, Echo);
    Status status = server.Start();
    EXPECT_EQ(status.code(), StatusCode::kInvalidRequest) << status.ToString();
  }
}

TEST(Server, ErrorResponseHasSpecShape) {
  Response response = ErrorResponse(NotAuthorized("no \"grant\"\nfor you"));
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body,
            R"({"error":{"code":"not-authorized","message":"no \"grant\"\nfor you"}})");
}

}  // namespace
}  // namespace carrefour::net
