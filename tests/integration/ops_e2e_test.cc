// SPDX-License-Identifier: EUPL-1.2
// End to end, what an operator relies on (docs/operations.md, docs/api.md
// sections 2 and 7): `carrefour hub --config FILE`, the request log, the
// served OpenAPI description and the build-info metric, on a real hub
// process over real mutual TLS.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "net/client.h"
#include "net/test_support.h"
#include "pki/testing.h"
#include "tests/integration/process.h"
#include "version/version.h"

namespace carrefour {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::Process;

constexpr const char* kAnna = "85073003328";  // a valid national number

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class OpsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = pki::TestPki::Create({"hub", "mut-100"});
    dir_ = pki_.dir / "work";
    fs::create_directories(dir_);
    std::ofstream(dir_ / "network.toml") << R"(
[[institution_type]]
id = "national-register"
capacities = ["registered"]

[[institution_type]]
id = "mutuality"
capacities = ["insured"]

[[institution]]
id = "nr"
type = "national-register"
name = "National Register"
endpoint = "https://127.0.0.1:1"

[[institution]]
id = "mut-100"
type = "mutuality"
name = "Health insurer 100"

[[data_type]]
id = "person.address"
fields = ["street"]

[[availability]]
data_type = "person.address"
provider_type = "national-register"

[[authorization]]
data_type = "person.address"
requester_type = "mutuality"
capacity = "insured"
fields = ["street"]
legal_basis = "ISC/24/001"
from = 2020-01-01
)";
  }
  void TearDown() override {
    hub_.reset();
    fs::remove_all(pki_.dir);
  }

  // The configuration file of these tests: everything but what `extra` adds.
  fs::path WriteConfig(const std::string& extra) {
    fs::path file = dir_ / "hub.toml";
    std::ofstream(file) << fmt::format(R"(# the hub of the ops test
network = "{}"
data = "{}"
listen = "127.0.0.1:0"
cert = "{}"
key = "{}"
ca = "{}"
{})",
                                       (dir_ / "network.toml").string(), (dir_ / "data").string(),
                                       (pki_.dir / "hub.crt").string(), (pki_.dir / "hub.key").string(),
                                       (pki_.dir / "ca.crt").string(), extra);
    return file;
  }

  // Runs `carrefour args...` to its end: exit code, stderr.
  std::pair<int, std::string> RunCarrefour(std::vector<std::string> args) {
    args.insert(args.begin(), testing::Env("CARREFOUR_BINARY"));
    fs::path err = dir_ / "run.err";
    fs::remove(err);
    auto process = Process::Start(args, err.string());
    int code = process->Wait();
    return {code, ReadAll(err)};
  }

  void StartHub(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::Env("CARREFOUR_BINARY"), "hub"});
    hub_ = Process::Start(args, (dir_ / "hub.log").string());
    std::optional<std::string> line =
        hub_->WaitForLine([](const std::string& l) { return l.find("API on") != std::string::npos; });
    ASSERT_TRUE(line) << "the hub did not start; its log:\n" << ReadAll(dir_ / "hub.log");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(*line, match, std::regex(R"(port (\d+)\), admin on .* \(port (\d+)\))")));
    api_port_ = static_cast<uint16_t>(std::stoi(match[1]));
    admin_port_ = static_cast<uint16_t>(std::stoi(match[2]));
  }

  std::pair<int, std::string> AdminGet(const std::string& target) {
    auto client = net::Client::Create({});
    net::ClientRequest request;
    request.target = target;
    Result<net::ClientResponse> response =
        (*client)->SendSync(*net::Endpoint::Parse(fmt::format("http://127.0.0.1:{}", admin_port_)), request);
    EXPECT_TRUE(response) << response.error().ToString();
    if (!response) return {0, ""};
    return {response->status, response->body};
  }

  pki::TestPki pki_;
  fs::path dir_;
  std::unique_ptr<Process> hub_;
  uint16_t api_port_ = 0, admin_port_ = 0;
};

TEST_F(OpsE2E, AnUnknownCommandIsNamedWithTheCommandsThereAre) {
  auto [code, err] = RunCarrefour({"bogus"});
  EXPECT_EQ(code, 2) << err;
  EXPECT_NE(err.find("carrefour: unknown command 'bogus' (commands: niss, network, pki, directory, hub"),
            std::string::npos)
      << err;
  auto [none, none_err] = RunCarrefour({});
  EXPECT_EQ(none, 2) << none_err;
  EXPECT_NE(none_err.find("A subcommand is required"), std::string::npos) << none_err;
}

TEST_F(OpsE2E, AnUnknownKeyInTheConfigurationIsRefusedWithFileAndLine) {
  fs::path config = WriteConfig("\nlisten-port = 8443\n");
  auto [code, err] = RunCarrefour({"hub", "--config", config.string()});
  EXPECT_EQ(code, 2) << err;
  EXPECT_NE(err.find(config.string() + ":9: unknown key 'listen-port'"), std::string::npos) << err;
}

TEST_F(OpsE2E, BrokenTomlInTheConfigurationIsRefusedWithFileAndLine) {
  fs::path config = WriteConfig("admin = \n");
  auto [code, err] = RunCarrefour({"hub", "--config", config.string()});
  EXPECT_EQ(code, 2) << err;
  EXPECT_NE(err.find(config.string() + ":8:"), std::string::npos) << err;
}

TEST_F(OpsE2E, TheHubRunsFromItsConfigurationAndTheCommandLineWins) {
  // The file's admin address cannot be bound: the hub starts only if the
  // command line's wins.
  fs::path config = WriteConfig("admin = \"192.0.2.1:1\"\nlog-format = \"json\"\n");
  StartHub({"--config", config.string(), "--admin", "127.0.0.1:0"});
  EXPECT_NE(admin_port_, 0);
  auto [status, body] = AdminGet("/readyz");
  EXPECT_EQ(status, 200) << body;
}

TEST_F(OpsE2E, AConsultationsLogLineHasItsRequestIdAndNoNationalNumber) {
  StartHub({"--config", WriteConfig("admin = \"127.0.0.1:0\"\nlog-format = \"json\"\n").string()});
  auto client = net::Client::Create(
      {.tls = net::TlsFiles{pki_.dir / "mut-100.crt", pki_.dir / "mut-100.key", pki_.dir / "ca.crt"}});
  ASSERT_TRUE(client);
  const net::Endpoint api = *net::Endpoint::Parse(fmt::format("https://127.0.0.1:{}", api_port_), "hub");
  Result<net::ClientResponse> declared = (*client)->PostSync(
      api, "/v1/directory/entries",
      R"({"entries": [{"action": "add", "niss": "85.07.30-033.28", "capacity": "insured", "from": "2020-01-01", "to": null}]})");
  ASSERT_TRUE(declared) << declared.error().ToString();
  ASSERT_EQ(declared->status, 200) << declared->body;
  // Granted, routed to the national register, which is down: answered 503
  // with the consultation's request id, and a provider failure logged.
  Result<net::ClientResponse> response = (*client)->PostSync(
      api, "/v1/consultations", R"({"data_type": "person.address", "niss": "85.07.30-033.28"})");
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 503) << response->body;

  auto [status, body] = AdminGet(fmt::format("/v1/admin/audit?niss={}&kind=consultation", kAnna));
  ASSERT_EQ(status, 200) << body;
  json::value audit = json::parse(body);
  ASSERT_EQ(audit.at("records").as_array().size(), 1u) << body;
  const std::string request_id(audit.at("records").at(0).at("request_id").as_string());

  hub_->Signal(SIGTERM);  // the log is flushed at exit
  EXPECT_EQ(hub_->Wait(), 0);
  // Logs go to stdout (the journal under systemd), the hub's errors to stderr.
  std::string log;
  for (const std::string& l : hub_->Lines()) log += l + "\n";
  log += ReadAll(dir_ / "hub.log");
  std::string line, provider_line;
  for (const std::string& l : hub_->Lines()) {
    if (l.find(request_id) == std::string::npos) continue;
    if (l.find("\"msg\":\"request\"") != std::string::npos) line = l;
    if (l.find("\"msg\":\"provider failed\"") != std::string::npos) provider_line = l;
  }
  EXPECT_NE(provider_line.find("\"provider\":\"nr\""), std::string::npos) << log;
  ASSERT_FALSE(line.empty()) << "no log line with request id " << request_id << ":\n" << log;
  json::value entry = json::parse(line);  // --log-format json: one object per line
  EXPECT_EQ(entry.at("msg"), "request") << line;
  EXPECT_EQ(entry.at("request_id").as_string(), request_id) << line;
  EXPECT_EQ(entry.at("caller"), "mut-100") << line;
  EXPECT_EQ(entry.at("method"), "POST") << line;
  EXPECT_EQ(entry.at("route"), "/v1/consultations") << line;
  EXPECT_EQ(entry.at("status"), "503") << line;
  EXPECT_EQ(json::parse(response->body).at("request_id").as_string(), request_id);
  EXPECT_TRUE(entry.as_object().contains("duration_ms")) << line;
  EXPECT_TRUE(entry.as_object().contains("time")) << line;
  // Neither this line nor any other names the person.
  EXPECT_EQ(log.find(kAnna), std::string::npos) << log;
  EXPECT_EQ(log.find("85.07.30-033.28"), std::string::npos) << log;
  EXPECT_NE(log.find("\"msg\":\"hub started\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"msg\":\"stopped\""), std::string::npos) << log;
}

TEST_F(OpsE2E, TheAdminListenerServesTheOpenApiDescriptionAndBuildInfo) {
  StartHub({"--config", WriteConfig("admin = \"127.0.0.1:0\"\n").string()});
  auto [status, served] = AdminGet("/openapi.yaml");
  EXPECT_EQ(status, 200);
  // Not empty: an empty answer would equal a file that cannot be read.
  EXPECT_NE(served.find("openapi:"), std::string::npos) << served;
  EXPECT_EQ(served, ReadAll(fs::path(testing::Env("CARREFOUR_SOURCE_DIR")) / "docs" / "openapi.yaml"));
  auto [metrics_status, metrics] = AdminGet("/metrics");
  EXPECT_EQ(metrics_status, 200);
  EXPECT_NE(metrics.find(fmt::format("carrefour_build_info{{version=\"{}\",revision=\"{}\"}} 1\n",
                                     version::Version(), version::Revision())),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("\nprocess_resident_memory_bytes "), std::string::npos) << metrics;
}


// Every answer of the admin listener carries Cache-Control and nosniff
// (issue 22 item 2): the handler's, its refusals, the console's files and
// the answers the HTTP server writes itself (a malformed request, 413).
TEST_F(OpsE2E, EveryAdminAnswerIsNeitherStoredNorSniffed) {
  StartHub({"--config", WriteConfig("admin = \"127.0.0.1:0\"\n").string()});
  struct Row {
    std::string request;
    std::string status;
    std::string cache_control;
  };
  const std::string host = fmt::format("Host: 127.0.0.1:{}\r\n", admin_port_);
  const std::vector<Row> rows = {
      {"GET /v1/admin/network HTTP/1.1\r\n" + host, "HTTP/1.1 200", "no-store"},
      {"GET /v1/admin/nothing-here HTTP/1.1\r\n" + host, "HTTP/1.1 404", "no-store"},
      {"GET /v1/admin/network HTTP/1.1\r\nHost: evil.example\r\n", "HTTP/1.1 403", "no-store"},
      // The console's files hold no data: revalidated by their ETag.
      {"GET /console/ HTTP/1.1\r\n" + host, "HTTP/1.1 200", "no-cache"},
      {"GET /%zz HTTP/1.1\r\n" + host, "HTTP/1.1 400", "no-store"},
      {"POST /v1/admin/reload HTTP/1.1\r\n" + host + "Content-Type: application/json\r\n"
       "Content-Length: 100000000\r\n", "HTTP/1.1 413", "no-store"},
      {"BROKEN\r\n", "HTTP/1.1 400", "no-store"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.request);
    net::testing::RawSocket socket(admin_port_);
    ASSERT_TRUE(socket.Send(row.request + "Connection: close\r\n\r\n"));
    const std::string answer = socket.ReadUntil("\r\n\r\n");
    EXPECT_TRUE(answer.starts_with(row.status)) << answer;
    EXPECT_NE(answer.find("Cache-Control: " + row.cache_control + "\r\n"), std::string::npos) << answer;
    EXPECT_NE(answer.find("X-Content-Type-Options: nosniff\r\n"), std::string::npos) << answer;
  }
}

}  // namespace
}  // namespace carrefour
