// SPDX-License-Identifier: EUPL-1.2
// `carrefour demo` starts every time: the addresses it announces (in the
// network definition and the connector configurations) are held from the
// moment they are chosen until the process that serves them has them
// (docs/demo.md, "Ports"). And `carrefour hub` / `carrefour connector` name
// the address they cannot bind, in one line, and exit non-zero by themselves.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/testing/temp_dir.h"
#include "tests/integration/process.h"

namespace carrefour {
namespace {

namespace fs = std::filesystem;
using testing::Env;
using testing::Process;

std::string ReadFile(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A listening socket on 127.0.0.1:port (0: any); -1 when the port is taken.
int ListenOn(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd, 16) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t PortOf(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

// Every 127.0.0.1:PORT (PORT > 0) named in the demo's network definition and
// connector configurations written so far.
std::set<uint16_t> AnnouncedPorts(const fs::path& dir) {
  static const std::regex kAddress(R"(127\.0\.0\.1:(\d+))");
  std::set<uint16_t> ports;
  std::vector<fs::path> files = {dir / "network.toml"};
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir / "institutions", ec)) {
    if (entry.path().extension() == ".toml") files.push_back(entry.path());
  }
  for (const fs::path& file : files) {
    const std::string text = ReadFile(file);
    for (std::sregex_iterator it(text.begin(), text.end(), kAddress), end; it != end; ++it) {
      int port = std::stoi((*it)[1].str());
      if (port > 0 && port < 65536) ports.insert(static_cast<uint16_t>(port));
    }
  }
  return ports;
}

class DemoStart : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("carrefour-demo-start");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(dir_, ec);
  }

  // Runs a small demo for one second of traffic. Until it says it is
  // running, a squatter binds every address the demo announces as soon as it
  // appears in a file — the worst an outgoing connection's ephemeral port or
  // another program could do. Returns the demo's exit code; `squatted`
  // counts the addresses the squatter managed to take (it must take none),
  // `tried` those it tried.
  int RunDemoAgainstSquatter(const fs::path& data, int* squatted, int* tried,
                             const std::string& listen = "127.0.0.1:0",
                             const std::string& admin = "127.0.0.1:0",
                             std::vector<std::string>* output = nullptr) {
    fs::remove_all(data);
    fs::create_directories(data);
    std::atomic<bool> running{false};
    std::vector<int> taken;
    std::set<uint16_t> attempted;
    std::thread squatter([&] {
      while (!running) {
        for (uint16_t port : AnnouncedPorts(data)) {
          if (!attempted.insert(port).second) continue;
          int fd = ListenOn(port);
          if (fd >= 0) taken.push_back(fd);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    auto demo = Process::Start(
        {Env("CARREFOUR_BINARY"), "demo", "--persons", "100", "--run-seconds", "1", "--rate", "5",
         "--move-every", "0", "--listen", listen, "--admin", admin, "--data",
         data.string()},
        (data / "demo.stderr").string());
    // Once it runs, every announced address is served by its process.
    demo->WaitForLine([](const std::string& line) { return line.find("carrefour demo is running") != std::string::npos; },
                      std::chrono::seconds(120));
    running = true;
    squatter.join();
    if (output) *output = demo->Lines();  // up to "running" at least
    std::optional<int> code = demo->WaitFor(std::chrono::seconds(120));
    if (!code) {
      ADD_FAILURE() << "the demo did not stop after its second of traffic";
      demo->Signal(SIGKILL);
      code = demo->Wait();
    }
    *squatted = static_cast<int>(taken.size());
    *tried = static_cast<int>(attempted.size());
    for (int fd : taken) close(fd);
    return *code;
  }

  fs::path dir_;
};

TEST_F(DemoStart, StartsEveryTimeAndNoAnnouncedAddressCanBeTaken) {
  constexpr int kRuns = 4;
  for (int run = 0; run < kRuns; ++run) {
    SCOPED_TRACE(fmt::format("run {}", run));
    const fs::path data = dir_ / fmt::format("run-{}", run);
    int squatted = 0, tried = 0;
    int code = RunDemoAgainstSquatter(data, &squatted, &tried);
    EXPECT_EQ(squatted, 0) << "an address the demo had announced was free to take";
    ASSERT_EQ(code, 0) << ReadFile(data / "demo.stderr");
    // The squatter did try: the hub's address and the 8 connectors'.
    EXPECT_GE(tried, 9);
  }
}

// The hub's addresses given on the command line (as a user would:
// --admin 127.0.0.1:18080) and already taken: the demo says so in one line
// each, takes another port on the same host, announces that one, and runs.
TEST_F(DemoStart, AHubAddressAlreadyTakenIsReplacedAndSaid) {
  int busy_api = ListenOn(0), busy_admin = ListenOn(0);
  ASSERT_GE(busy_api, 0);
  ASSERT_GE(busy_admin, 0);
  const std::string api = fmt::format("127.0.0.1:{}", PortOf(busy_api));
  const std::string admin = fmt::format("127.0.0.1:{}", PortOf(busy_admin));
  const fs::path data = dir_ / "taken";
  int squatted = 0, tried = 0;
  std::vector<std::string> lines;
  const int code = RunDemoAgainstSquatter(data, &squatted, &tried, api, admin, &lines);
  std::string output;
  for (const std::string& line : lines) output += line + "\n";
  EXPECT_EQ(code, 0) << output << ReadFile(data / "demo.stderr");
  EXPECT_EQ(squatted, 0);
  int said = 0;
  for (const std::string& line : lines) {
    for (const std::string& taken : {"--listen " + api, "--admin " + admin}) {
      if (line.find(taken + " is not free") != std::string::npos) {
        ++said;
        EXPECT_NE(line.find("taking another port"), std::string::npos) << line;
      }
    }
  }
  EXPECT_EQ(said, 2) << output;
  // What the demo announces (the connectors' hub address among it) is the
  // port it took, never the taken one.
  const std::set<uint16_t> announced = AnnouncedPorts(data);
  EXPECT_GE(announced.size(), 9u);
  EXPECT_EQ(announced.count(PortOf(busy_api)), 0u);
  const std::string connector = ReadFile(data / "institutions" / "mut-100" / "connector.toml");
  std::smatch hub;
  ASSERT_TRUE(std::regex_search(connector, hub, std::regex(R"(https://(127\.0\.0\.1:\d+))"))) << connector;
  EXPECT_NE(hub[1].str(), api);
  close(busy_api);
  close(busy_admin);
}

// Hub and connector: the address that could not be bound, in one line on
// stderr, and a non-zero exit without being asked to stop.
TEST_F(DemoStart, HubAndConnectorNameTheAddressTheyCannotBindAndExit) {
  // A demo's files (definition, PKI, connector configurations) to start from.
  const fs::path data = dir_ / "files";
  int squatted = 0, tried = 0;
  ASSERT_EQ(RunDemoAgainstSquatter(data, &squatted, &tried), 0) << ReadFile(data / "demo.stderr");

  int busy = ListenOn(0);
  ASSERT_GE(busy, 0);
  const std::string address = fmt::format("127.0.0.1:{}", PortOf(busy));
  const fs::path pki = data / "pki";
  struct Case {
    std::string name;
    std::vector<std::string> argv;
    std::string what;
  };
  const std::string self = Env("CARREFOUR_BINARY");
  const std::vector<Case> cases = {
      {"hub API", {self, "hub", "--network", (data / "network.toml").string(), "--data", (dir_ / "hub-api").string(),
                   "--listen", address, "--admin", "", "--cert", (pki / "hub.crt").string(), "--key",
                   (pki / "hub.key").string(), "--ca", (pki / "ca.crt").string()},
       "API listener"},
      {"hub admin", {self, "hub", "--network", (data / "network.toml").string(), "--data", (dir_ / "hub-admin").string(),
                     "--listen", "127.0.0.1:0", "--admin", address, "--cert", (pki / "hub.crt").string(), "--key",
                     (pki / "hub.key").string(), "--ca", (pki / "ca.crt").string()},
       "admin listener"},
  };
  std::vector<Case> all = cases;
  // The connector of mut-100, its provide listener moved onto the busy port.
  {
    const fs::path original = data / "institutions" / "mut-100" / "connector.toml";
    std::string config = ReadFile(original);
    ASSERT_FALSE(config.empty()) << original;
    std::smatch match;
    ASSERT_TRUE(std::regex_search(config, match, std::regex(R"(\[provide\][^\[]*listen = "(127\.0\.0\.1:\d+)\")")))
        << config;
    const std::string old_address = match[1].str();
    config.replace(config.find(old_address, match.position(0)), old_address.size(), address);
    const fs::path moved = data / "institutions" / "mut-100" / "busy.toml";
    std::ofstream(moved) << config;
    all.push_back({"connector provide", {self, "connector", "--config", moved.string()}, "provide listener"});
  }
  for (const Case& c : all) {
    SCOPED_TRACE(c.name);
    const fs::path err = dir_ / (c.name + ".stderr");
    auto process = Process::Start(c.argv, err.string());
    std::optional<int> code = process->WaitFor(std::chrono::seconds(60));
    ASSERT_TRUE(code.has_value()) << "still running with its address taken";
    EXPECT_NE(*code, 0);
    const std::string text = ReadFile(err);
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(line);
    }
    ASSERT_EQ(lines.size(), 1u) << text;
    EXPECT_NE(lines[0].find(c.what), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("cannot listen on " + address), std::string::npos) << lines[0];
  }
  close(busy);
}

}  // namespace
}  // namespace carrefour
