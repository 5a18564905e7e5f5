// SPDX-License-Identifier: EUPL-1.2
// End to end: the security lifecycle of the network's certificates with a
// real `carrefour hub` process and real mutual TLS (docs/pki.md): revoking
// an institution that holds open connections, re-issuing the hub's own
// certificate, broken files on reload, expiry and stale-CRL reporting, and
// a provider whose certificate is revoked.

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <string>
#include <thread>

#include "net/server.h"
#include "tests/integration/hub_fixture.h"
#include "tests/integration/log_lines.h"

namespace carrefour::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The serial (upper-case hex) of the certificate a TLS server presents,
// read with a plain OpenSSL handshake as `name`.
std::string ServedSerial(const fs::path& pki, const std::string& name, uint16_t port) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_use_certificate_file(ctx, (pki / (name + ".crt")).c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_use_PrivateKey_file(ctx, (pki / (name + ".key")).c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_load_verify_locations(ctx, (pki / "ca.crt").c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  BIO* bio = BIO_new_ssl_connect(ctx);
  BIO_set_conn_hostname(bio, fmt::format("127.0.0.1:{}", port).c_str());
  std::string serial;
  if (BIO_do_connect(bio) == 1 && BIO_do_handshake(bio) == 1) {
    SSL* ssl = nullptr;
    BIO_get_ssl(bio, &ssl);
    if (X509* cert = SSL_get0_peer_certificate(ssl)) {
      BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
      char* hex = BN_bn2hex(number);
      serial = hex;
      OPENSSL_free(hex);
      BN_free(number);
    }
  }
  ERR_clear_error();
  BIO_free_all(bio);
  SSL_CTX_free(ctx);
  return serial;
}

// A CRL of the CA in `pki` whose next-update passed yesterday (what an
// operator who forgot `pki crl` for a week has). `pki crl` itself never
// writes one, so the test signs it with the CA key directly.
void WriteStaleCrl(const fs::path& pki, const fs::path& out) {
  FILE* f = fopen((pki / "ca.crt").c_str(), "r");
  X509* ca = PEM_read_X509(f, nullptr, nullptr, nullptr);
  fclose(f);
  f = fopen((pki / "ca.key").c_str(), "r");
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  fclose(f);
  ASSERT_NE(ca, nullptr);
  ASSERT_NE(key, nullptr);
  X509_CRL* crl = X509_CRL_new();
  X509_CRL_set_version(crl, X509_CRL_VERSION_2);
  X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca));
  ASN1_TIME* last = X509_gmtime_adj(nullptr, -8 * 86400);
  ASN1_TIME* next = X509_gmtime_adj(nullptr, -86400);
  X509_CRL_set1_lastUpdate(crl, last);
  X509_CRL_set1_nextUpdate(crl, next);
  ASSERT_GT(X509_CRL_sign(crl, key, EVP_sha256()), 0);
  f = fopen(out.c_str(), "w");
  PEM_write_X509_CRL(f, crl);
  fclose(f);
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  X509_CRL_free(crl);
  EVP_PKEY_free(key);
  X509_free(ca);
}

class LifecycleE2E : public HubFixture {
 protected:
  // Every test revokes or re-issues: each gets a PKI of its own.
  void SetUp() override {
    HubFixture::SetUp();
    fs::remove_all(pki_->dir);
    *pki_ = pki::TestPki::Create({"hub", "nr", "mut-100", "mut-200", "mut-300", "cpas", "fund"});
    ASSERT_TRUE(pki::RenewCrl(pki_->dir).ok());
  }

  fs::path Crl() const { return pki::CrlPath(pki_->dir); }
  // Whether hub `n` logged `text` (waiting up to `guard` for it).
  bool HubSaid(const std::string& text, size_t n = 0, seconds guard = seconds(30)) {
    return Logged(*hubs_[n].process, dir_ / fmt::format("hub-{}.log", n), text, 1, guard);
  }

  std::pair<int, std::string> AdminPost(const std::string& target, size_t hub = 0) {
    auto client = net::Client::Create({.timeout = std::chrono::seconds(60)});
    Result<net::ClientResponse> response = (*client)->SendSync(
        *net::Endpoint::Parse(fmt::format("http://127.0.0.1:{}", hubs_[hub].admin)),
        {.method = "POST", .target = target});
    if (!response) return {0, response.error().ToString()};
    return {response->status, response->body};
  }

  // The value of a metric line starting with `name` ("" when absent).
  std::string Metric(const std::string& name, size_t hub = 0) {
    std::string text = AdminGet("/metrics", hub);
    size_t at = text.find("\n" + name + " ");
    if (at == std::string::npos) return "";
    size_t start = at + name.size() + 2;
    return text.substr(start, text.find('\n', start) - start);
  }

  static Result<net::ClientResponse> Entries(net::Client& client, const net::Endpoint& api) {
    return client.GetSync(api, std::string("/v1/directory/entries?niss=") + kAnna);
  }
  // The HTTP status of a call, 0 when it failed.
  static int StatusOf(const Result<net::ClientResponse>& response) {
    return response ? response->status : 0;
  }
};

TEST_F(LifecycleE2E, RevokedInstitutionIsCutOffWhileOthersNeverNotice) {
  StartHub(0, "", {"--crl", Crl().string()});
  auto revoked = Client("mut-100");
  auto other = Client("mut-200");
  // Both hold a kept-alive connection; mut-100 also a long poll in flight.
  ASSERT_EQ(StatusOf(Entries(*revoked, Api())), 200);
  ASSERT_EQ(StatusOf(Entries(*other, Api())), 200);
  ASSERT_EQ(other->stats().connections_opened, 1u);
  auto poller = Client("mut-100");
  std::promise<Result<net::ClientResponse>> polled;
  poller->Send(Api(), {.method = "GET", .target = "/v1/mutations/feed?after=0&wait=60"},
               [&polled](Result<net::ClientResponse> r) { polled.set_value(std::move(r)); });
  std::future<Result<net::ClientResponse>> poll = polled.get_future();
  // The poll is being served (no answer yet: nothing to deliver for a minute).
  ASSERT_EQ(poll.wait_for(seconds(1)), std::future_status::timeout);

  Result<std::string> serial = pki::SerialOf(pki::CertPath(pki_->dir, "mut-100"));
  ASSERT_TRUE(serial.has_value());
  Result<std::vector<std::string>> serials = pki::RevokeCertificates(pki_->dir, "mut-100");
  ASSERT_TRUE(serials.has_value()) << serials.error().ToString();
  auto [status, body] = AdminPost("/v1/admin/reload");
  ASSERT_EQ(status, 200) << body;

  // The long poll's connection is closed rather than answered.
  ASSERT_EQ(poll.wait_for(seconds(50)), std::future_status::ready);
  Result<net::ClientResponse> poll_result = poll.get();
  EXPECT_FALSE(poll_result.has_value()) << poll_result->status << " " << poll_result->body;

  // It cannot come back: neither on its pooled client nor a fresh one.
  Result<net::ClientResponse> again = Entries(*revoked, Api());
  EXPECT_FALSE(again.has_value()) << again->status;
  Result<net::ClientResponse> fresh = Entries(*Client("mut-100"), Api());
  EXPECT_FALSE(fresh.has_value()) << fresh->status;

  // The other institution goes on, on the same connection as before.
  Result<net::ClientResponse> still = Entries(*other, Api());
  ASSERT_TRUE(still.has_value()) << still.error().ToString();
  EXPECT_EQ(still->status, 200);
  EXPECT_EQ(other->stats().connections_opened, 1u);
  EXPECT_EQ(StatusOf(Entries(*Client("mut-300"), Api())), 200);

  // Counted and logged with the CN and the serial.
  EXPECT_GE(std::stoi(Metric("carrefour_connections_revoked_total")), 1);
  EXPECT_GE(std::stoi(Metric("carrefour_handshakes_revoked_total")), 1);
  EXPECT_TRUE(HubSaid("refused a revoked certificate"));
  EXPECT_TRUE(HubSaid("CN=mut-100 serial=" + *serial));
  EXPECT_TRUE(HubSaid("closing the connection"));
}

TEST_F(LifecycleE2E, ReissuedHubCertificateServesNewHandshakesWhileRequestsInFlightFinish) {
  StartHub(0, "", {"--crl", Crl().string()});
  Result<std::string> old_serial = pki::SerialOf(pki::CertPath(pki_->dir, "hub"));
  ASSERT_TRUE(old_serial.has_value());
  EXPECT_EQ(ServedSerial(pki_->dir, "mut-100", hubs_[0].api), *old_serial);

  auto client = Client("mut-200");
  ASSERT_EQ(StatusOf(Entries(*client, Api())), 200);
  // A request in flight across the reload: a long poll answered after 3 s.
  auto poller = Client("mut-100");
  std::promise<Result<net::ClientResponse>> polled;
  poller->Send(Api(), {.method = "GET", .target = "/v1/mutations/feed?after=0&wait=3"},
               [&polled](Result<net::ClientResponse> r) { polled.set_value(std::move(r)); });

  pki::IssueOptions reissue;
  reissue.name = "hub";
  reissue.hosts = {"127.0.0.1", "localhost"};
  reissue.force = true;
  ASSERT_TRUE(pki::IssueCertificate(pki_->dir, reissue).ok());
  Result<std::string> new_serial = pki::SerialOf(pki::CertPath(pki_->dir, "hub"));
  ASSERT_TRUE(new_serial.has_value());
  ASSERT_NE(*new_serial, *old_serial);
  hubs_[0].process->Signal(SIGHUP);
  ASSERT_TRUE(hubs_[0].process->WaitForLine(
      [](const std::string& l) { return l.find("TLS files reloaded") != std::string::npos; }));

  EXPECT_EQ(ServedSerial(pki_->dir, "mut-100", hubs_[0].api), *new_serial);
  Result<net::ClientResponse> answered = polled.get_future().get();
  ASSERT_TRUE(answered.has_value()) << answered.error().ToString();
  EXPECT_EQ(answered->status, 200) << answered->body;
  // The kept-alive connection made before the reload still works.
  EXPECT_EQ(StatusOf(Entries(*client, Api())), 200);
  EXPECT_EQ(client->stats().connections_opened, 1u);
  EXPECT_EQ(StatusOf(Entries(*Client("mut-300"), Api())), 200);
}

TEST_F(LifecycleE2E, BrokenTlsFilesAreRefusedOnReloadAndTheOldOnesKept) {
  StartHub(0, "", {"--crl", Crl().string()});
  const std::string good_crl = ReadAll(Crl());

  std::ofstream(Crl()) << "not a CRL";
  auto [garbage, garbage_body] = AdminPost("/v1/admin/reload");
  EXPECT_EQ(garbage, 400) << garbage_body;
  EXPECT_NE(garbage_body.find("CRL"), std::string::npos) << garbage_body;

  // A CRL of another CA: it would make every handshake fail.
  pki::TestPki other = pki::TestPki::Create({});
  ASSERT_TRUE(pki::RenewCrl(other.dir).ok());
  fs::copy_file(pki::CrlPath(other.dir), Crl(), fs::copy_options::overwrite_existing);
  auto [foreign, foreign_body] = AdminPost("/v1/admin/reload");
  EXPECT_EQ(foreign, 400) << foreign_body;
  EXPECT_NE(foreign_body.find("not signed by the CA"), std::string::npos) << foreign_body;
  fs::remove_all(other.dir);

  // A key that does not match the certificate.
  std::ofstream(Crl()) << good_crl;
  fs::copy_file(pki_->dir / "mut-100.key", pki_->dir / "hub.key", fs::copy_options::overwrite_existing);
  auto [mismatch, mismatch_body] = AdminPost("/v1/admin/reload");
  EXPECT_EQ(mismatch, 400) << mismatch_body;

  // The hub serves on with the files it had.
  EXPECT_EQ(StatusOf(Entries(*Client("mut-100"), Api())), 200);
  EXPECT_EQ(Metric("carrefour_reload_failures_total"), "3");
}

TEST_F(LifecycleE2E, ExpiringCertificateIsReportedFromThirtyDaysBefore) {
  pki::IssueOptions soon;
  soon.name = "hub";
  soon.hosts = {"127.0.0.1"};
  soon.days = 10;
  soon.force = true;
  ASSERT_TRUE(pki::IssueCertificate(pki_->dir, soon).ok());
  StartHub(0, "", {"--crl", Crl().string()});
  std::string metrics = AdminGet("/metrics");
  std::string hub_line = "carrefour_certificate_expiry_seconds{certificate=\"hub\"} ";
  size_t at = metrics.find(hub_line);
  ASSERT_NE(at, std::string::npos) << metrics;
  long seconds_left = std::stol(metrics.substr(at + hub_line.size()));
  EXPECT_GT(seconds_left, 9 * 86400);
  EXPECT_LE(seconds_left, 10 * 86400);
  // Logged before the hub says it listens, by the logger's own thread: it
  // may reach the file a little later.
  EXPECT_TRUE(HubSaid("expires in", 0, seconds(10)));
  EXPECT_EQ(Metric("carrefour_crl_stale"), "0");

  // A certificate far from expiry is not reported.
  soon.days = 400;
  ASSERT_TRUE(pki::IssueCertificate(pki_->dir, soon).ok());
  StartHub(1, "", {"--crl", Crl().string()});
  // Positive barrier: "hub started" is logged after the expiry check, by
  // the same logger thread, in order; once it is in the log, a warning
  // would be there too.
  ASSERT_TRUE(HubSaid("hub started", 1)) << "hub 1 never logged that it started";
  EXPECT_FALSE(HubSaid("expires in", 1, seconds(0)));
}

TEST_F(LifecycleE2E, StaleCrlIsReportedAndRefusedOnlyWhenAsked) {
  WriteStaleCrl(pki_->dir, Crl());
  StartHub(0, "", {"--crl", Crl().string()});
  EXPECT_EQ(Metric("carrefour_crl_stale"), "1");
  EXPECT_LT(std::stol(Metric("carrefour_crl_next_update_seconds")), 0);
  EXPECT_TRUE(HubSaid("past its next-update", 0, seconds(10)));
  EXPECT_EQ(StatusOf(Entries(*Client("mut-100"), Api())), 200);

  StartHub(1, "", {"--crl", Crl().string(), "--refuse-stale-crl"});
  EXPECT_FALSE(Entries(*Client("mut-100"), Api(1)).has_value());
  // A fresh CRL and a reload open the door again.
  ASSERT_TRUE(pki::RenewCrl(pki_->dir).ok());
  hubs_[1].process->Signal(SIGHUP);
  ASSERT_TRUE(hubs_[1].process->WaitForLine(
      [](const std::string& l) { return l.find("TLS files reloaded") != std::string::npos; }));
  EXPECT_EQ(StatusOf(Entries(*Client("mut-100"), Api(1))), 200);
  EXPECT_EQ(Metric("carrefour_crl_stale", 1), "0");
}

// The hub calls a provider whose certificate is revoked: an error result
// for that provider, never its data.
TEST_F(LifecycleE2E, RevokedProviderGivesAnErrorResult) {
  net::ServerOptions options;
  options.tls = net::TlsFiles{pki_->dir / "nr.crt", pki_->dir / "nr.key", pki_->dir / "ca.crt"};
  net::Server provider(options, [](net::Request&&, net::Responder respond) {
    respond(net::Response::Json(
        200, R"({"data": {"street": "Rue Neuve 1", "postal_code": "5000", "municipality": "Namur"}})"));
  });
  ASSERT_TRUE(provider.Start().ok());
  std::string network = kMutationsNetwork;
  std::string nr = "id = \"nr\"\ntype = \"national-register\"\nname = \"National register\"\n"
                   "endpoint = \"https://127.0.0.1:1\"";
  size_t at = network.find(nr);
  ASSERT_NE(at, std::string::npos);
  network.replace(at, nr.size(),
                  fmt::format("id = \"nr\"\ntype = \"national-register\"\nname = \"National "
                              "register\"\nendpoint = \"https://127.0.0.1:{}\"",
                              provider.port()));
  std::ofstream(dir_ / "network.toml") << network;
  StartHub(0, "", {"--crl", Crl().string()});
  Integrate("mut-100", "insured");
  const std::string consult =
      fmt::format(R"({{"data_type": "person.address", "niss": "{}"}})", kAnna);

  auto [before, before_body] = Post("mut-100", "/v1/consultations", consult);
  ASSERT_EQ(before, 200) << before_body;
  EXPECT_EQ(before_body.at("results").at(0).at("status"), "ok") << before_body;

  ASSERT_TRUE(pki::RevokeCertificates(pki_->dir, "nr").has_value());
  auto [reloaded, reload_body] = AdminPost("/v1/admin/reload");
  ASSERT_EQ(reloaded, 200) << reload_body;
  auto [after, after_body] = Post("mut-100", "/v1/consultations", consult);
  EXPECT_EQ(after, 503) << after_body;
  EXPECT_EQ(after_body.at("results").at(0).at("status"), "error") << after_body;
  EXPECT_EQ(after_body.at("results").at(0).as_object().if_contains("data"), nullptr) << after_body;
  // The requester gets the generic message; the hub's log says why.
  EXPECT_TRUE(HubSaid("provider failed"));
  EXPECT_TRUE(HubSaid("certificate revoked"));
  provider.Stop();
}

// [[quota]]: an institution flooding the hub is refused 429 rate-limited
// (with Retry-After) while another institution's requests are all served.
TEST_F(LifecycleE2E, FloodingInstitutionGets429WhileAnotherIsServed) {
  std::ofstream(dir_ / "network.toml", std::ios::app)
      << "\n[[quota]]\ninstitution = \"mut-100\"\nrequests_per_second = 2\nburst = 4\n";
  StartHub(0);
  auto flooder = Client("mut-100");
  auto honest = Client("mut-200");
  const std::string target = std::string("/v1/directory/entries?niss=") + kAnna;

  // The honest institution works all through the flood, from its own thread.
  std::atomic<bool> flooding{true};
  std::vector<int> honest_statuses;
  std::thread honest_thread([&] {
    while (flooding.load() || honest_statuses.size() < 20) {
      Result<net::ClientResponse> r = honest->GetSync(Api(), target);
      honest_statuses.push_back(r ? r->status : 0);
      if (honest_statuses.size() >= 200) break;
    }
  });
  // Batches of 20 at once until refusals come (they must: at 2 a second,
  // a burst of 4 is soon spent).
  int ok = 0, limited = 0;
  std::string retry_after, refusal;
  for (int round = 0; round < 50 && limited < 10; ++round) {
    std::vector<std::pair<net::Endpoint, net::ClientRequest>> calls;
    for (int i = 0; i < 20; ++i) calls.push_back({Api(), {.method = "GET", .target = target}});
    std::promise<std::vector<Result<net::ClientResponse>>> done;
    flooder->SendAll(std::move(calls), [&done](std::vector<Result<net::ClientResponse>> results) {
      done.set_value(std::move(results));
    });
    for (const Result<net::ClientResponse>& r : done.get_future().get()) {
      ASSERT_TRUE(r.has_value()) << r.error().ToString();
      if (r->status == 200) ++ok;
      if (r->status == 429) {
        ++limited;
        retry_after = r->retry_after;
        refusal = r->body;
      }
    }
  }
  flooding = false;
  honest_thread.join();

  EXPECT_GE(limited, 10);
  EXPECT_GE(ok, 4) << "the burst is served";
  EXPECT_NE(refusal.find("\"rate-limited\""), std::string::npos) << refusal;
  ASSERT_FALSE(retry_after.empty());
  EXPECT_GE(std::stoi(retry_after), 1);
  ASSERT_GE(honest_statuses.size(), 20u);
  for (int status : honest_statuses) EXPECT_EQ(status, 200);
  std::string metrics = AdminGet("/metrics");
  EXPECT_NE(metrics.find(fmt::format("carrefour_rate_limited_total{{institution=\"mut-100\"}} {}", limited)),
            std::string::npos)
      << metrics;
}

// The admin listener serves the audit trail: off loopback it needs a token,
// or an explicit --admin-insecure.
TEST_F(LifecycleE2E, AdminOffLoopbackNeedsATokenOrAdminInsecure) {
  auto hub = [&](const std::string& data, std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        Env("CARREFOUR_BINARY"), "hub", "--network", (dir_ / "network.toml").string(), "--data",
        (dir_ / data).string(), "--listen", "127.0.0.1:0", "--admin", "0.0.0.0:0", "--cert",
        (pki_->dir / "hub.crt").string(), "--key", (pki_->dir / "hub.key").string(), "--ca",
        (pki_->dir / "ca.crt").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Process::Start(argv, (dir_ / (data + ".log")).string());
  };
  auto refused = hub("refused", {});
  EXPECT_EQ(refused->WaitFor(std::chrono::seconds(60)), std::optional<int>(1)) << "the hub did not stop";
  std::string why = ReadAll(dir_ / "refused.log");
  EXPECT_NE(why.find("without a token"), std::string::npos) << why;
  EXPECT_NE(why.find("--admin-insecure"), std::string::npos) << why;

  for (const auto& extra : std::vector<std::vector<std::string>>{
           {"--admin-insecure"}, {"--admin-token", "s3cret"}}) {
    auto started = hub(extra.front().substr(2), extra);
    EXPECT_TRUE(started->WaitForLine(
        [](const std::string& l) { return l.find("API on") != std::string::npos; }))
        << extra.front();
    started->Signal(SIGTERM);
    EXPECT_EQ(started->Wait(), 0);
  }
}

}  // namespace
}  // namespace carrefour::testing
