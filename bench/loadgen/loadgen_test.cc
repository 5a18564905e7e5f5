// SPDX-License-Identifier: EUPL-1.2
// The carrefour_loadgen binary against an in-process net::Server over mutual
// TLS on 127.0.0.1: what it counts, how it exits, what it refuses. Counts
// only, never timings: the open loop's number of requests is fixed by its
// schedule (rate x duration), whatever the machine's speed.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "net/server.h"
#include "pki/testing.h"

namespace carrefour::bench {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

Outcome RunLoadgen(const std::string& arguments) {
  Outcome outcome;
  const std::string command = fmt::format("{} {} 2>&1", CARREFOUR_LOADGEN_BINARY, arguments);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return outcome;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) outcome.out.append(buffer, n);
  int status = pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return outcome;
}

// The value of "key" in the loadgen's flat JSON line, as text.
std::string Field(const std::string& json, const std::string& key) {
  const std::string marker = "\"" + key + "\": ";
  size_t at = json.find(marker);
  if (at == std::string::npos) return "";
  at += marker.size();
  size_t end = json.find_first_of(",}", at);
  return json.substr(at, end - at);
}

class LoadgenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = pki::TestPki::New({"nr", "hub"}); }
  static void TearDownTestSuite() {
    pki::TestPki::Delete(pki_);
  }

  void SetUp() override {
    net::ServerOptions options;
    options.tls = net::TlsFiles{pki::CertPath(pki_->dir, "nr"), pki::KeyPath(pki_->dir, "nr"),
                                pki::CaCertPath(pki_->dir)};
    server_ = std::make_unique<net::Server>(options, [this](net::Request&& request, net::Responder respond) {
      ++requests_;
      last_body_ = request.body;
      {
        std::lock_guard lock(bodies_mu_);
        bodies_.push_back(request.body);
      }
      if (request.path == "/fail") return respond(net::Response::Json(500, R"({"error": {}})"));
      if (request.path == "/slow") {
        // Answered later: the requests of a closed loop's connections are
        // all in flight at once, whatever the machine's load.
        std::thread([respond] {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          respond(net::Response::Json(200, R"({"data": {"x": 1}})"));
        }).detach();
        return;
      }
      respond(net::Response::Json(200, R"({"data": {"x": 1}})"));
    });
    ASSERT_TRUE(server_->Start().ok());
  }

  std::string Common() const {
    return fmt::format("--url https://127.0.0.1:{} --cert {} --key {} --ca {}", server_->port(),
                       pki::CertPath(pki_->dir, "hub").string(), pki::KeyPath(pki_->dir, "hub").string(),
                       pki::CaCertPath(pki_->dir).string());
  }

  static inline pki::TestPki* pki_ = nullptr;
  std::unique_ptr<net::Server> server_;
  std::atomic<int> requests_{0};
  std::string last_body_;
  std::mutex bodies_mu_;
  std::vector<std::string> bodies_;  // guarded by bodies_mu_
};

TEST_F(LoadgenTest, OnceSendsTheBodyAndPrintsTheAnswer) {
  Outcome outcome = RunLoadgen(Common() + " --expect-cn nr --once --target /v1/provide --body '{\"a\": 1}'");
  EXPECT_EQ(outcome.exit_code, 0) << outcome.out;
  EXPECT_NE(outcome.out.find(R"({"data": {"x": 1}})"), std::string::npos) << outcome.out;
  EXPECT_EQ(requests_, 1);
  EXPECT_EQ(last_body_, R"({"a": 1})");
}

TEST_F(LoadgenTest, OpenLoopSendsExactlyRateTimesDuration) {
  Outcome outcome = RunLoadgen(Common() +
                               " --expect-cn nr --target /v1/provide --body '{}' --rate 200 --duration 0.5"
                               " --warmup 0 --connections 4 --json");
  EXPECT_EQ(outcome.exit_code, 0) << outcome.out;
  EXPECT_EQ(Field(outcome.out, "requests"), "100") << outcome.out;
  EXPECT_EQ(Field(outcome.out, "ok"), "100");
  EXPECT_EQ(Field(outcome.out, "errors"), "0");
  EXPECT_EQ(Field(outcome.out, "mode"), "\"open\"");
  EXPECT_EQ(requests_, 100);
}

TEST_F(LoadgenTest, WarmupRequestsAreSentButNotCounted) {
  Outcome outcome = RunLoadgen(Common() +
                               " --expect-cn nr --target /v1/provide --body '{}' --rate 100 --duration 0.3"
                               " --warmup 0.2 --connections 2 --json");
  EXPECT_EQ(outcome.exit_code, 0) << outcome.out;
  EXPECT_EQ(Field(outcome.out, "requests"), "30") << outcome.out;
  EXPECT_EQ(Field(outcome.out, "answered_with_warmup"), "50");
  EXPECT_EQ(requests_, 50);
}

// Three connections, each with its request in flight (a quick answer
// could let a loaded machine's second chain find the first connection idle
// and reuse it).
TEST_F(LoadgenTest, ClosedLoopStopsAtMaxRequests) {
  Outcome outcome = RunLoadgen(Common() +
                               " --expect-cn nr --target /slow --body '{}' --duration 60 --warmup 0"
                               " --connections 3 --max-requests 40 --json");
  EXPECT_EQ(outcome.exit_code, 0) << outcome.out;
  EXPECT_EQ(Field(outcome.out, "requests"), "40") << outcome.out;
  EXPECT_EQ(Field(outcome.out, "mode"), "\"closed\"");
  EXPECT_EQ(Field(outcome.out, "connections_opened"), "3");
  EXPECT_EQ(requests_, 40);
}

TEST_F(LoadgenTest, BodiesFileSendsItsLinesInTurn) {
  const fs::path file = pki_->dir / "bodies.txt";
  {
    std::ofstream out(file);
    out << "{\"n\": 1}\n{\"n\": 2}\n\n{\"n\": 3}\n";
  }
  Outcome outcome = RunLoadgen(Common() + " --expect-cn nr --target /v1/provide --bodies-file " + file.string() +
                               " --duration 60 --warmup 0 --connections 1 --max-requests 7 --json");
  fs::remove(file);
  EXPECT_EQ(outcome.exit_code, 0) << outcome.out;
  std::lock_guard lock(bodies_mu_);
  EXPECT_EQ(bodies_, (std::vector<std::string>{R"({"n": 1})", R"({"n": 2})", R"({"n": 3})", R"({"n": 1})",
                                               R"({"n": 2})", R"({"n": 3})", R"({"n": 1})"}));
}

TEST_F(LoadgenTest, Non2xxAnswersAreCountedApartAndFailTheRun) {
  Outcome outcome = RunLoadgen(Common() +
                               " --expect-cn nr --target /fail --body '{}' --rate 100 --duration 0.2"
                               " --warmup 0 --json");
  EXPECT_EQ(outcome.exit_code, 1) << outcome.out;
  EXPECT_EQ(Field(outcome.out, "requests"), "20") << outcome.out;
  EXPECT_EQ(Field(outcome.out, "non_2xx"), "20");
  EXPECT_EQ(Field(outcome.out, "ok"), "0");
  EXPECT_EQ(Field(outcome.out, "errors"), "0");
  EXPECT_NE(outcome.out.find("HTTP 500"), std::string::npos) << outcome.out;
}

TEST_F(LoadgenTest, AServerWithAnotherCnIsAnErrorAndNeverSeesARequest) {
  Outcome outcome = RunLoadgen(Common() +
                               " --expect-cn hub --target /v1/provide --body '{}' --max-requests 5"
                               " --duration 60 --warmup 0 --connections 1 --json");
  EXPECT_EQ(outcome.exit_code, 1) << outcome.out;
  EXPECT_EQ(Field(outcome.out, "errors"), "5") << outcome.out;
  EXPECT_NE(outcome.out.find("CN=nr"), std::string::npos) << outcome.out;
  EXPECT_EQ(requests_, 0);
}

TEST_F(LoadgenTest, UsageErrorsExitTwo) {
  struct Row {
    std::string arguments;
    std::string message;
  };
  const std::vector<Row> rows = {
      {"--url https://192.0.2.1:443 --body x", "only loopback"},
      {"--url https://example.org:443 --body x", "only loopback"},
      {"--url https://127.0.0.1:1/path --body x", "--url"},
      {"--url https://127.0.0.1:1 --connections 0", "connections"},
      {"--url https://127.0.0.1:1 --rate -5", "rate"},
      {"--url https://127.0.0.1:1 --no-such-flag", "no-such-flag"},
      {"--body x", "url"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.arguments);
    Outcome outcome = RunLoadgen(row.arguments);
    EXPECT_EQ(outcome.exit_code, 2) << outcome.out;
    EXPECT_NE(outcome.out.find(row.message), std::string::npos) << outcome.out;
  }
  EXPECT_EQ(requests_, 0);
}

}  // namespace
}  // namespace carrefour::bench
