// SPDX-License-Identifier: EUPL-1.2
// End to end: `carrefour research extract` and `aggregate` as real processes,
// the hub's admin endpoint and transparency view from a real `carrefour hub`,
// providers answering over real mutual TLS (in-process servers with
// certificates made for the test, answering from the person's number).

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "net/client.h"
#include "net/server.h"
#include "niss/niss.h"
#include "pki/testing.h"
#include "tests/integration/process.h"
#include "core/testing/temp_dir.h"

namespace carrefour {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using testing::Process;

uint64_t Hash(std::string_view text) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

// An authentic source: answers docs/api.md section 5 provide calls from the
// person's number, the same way every time, with more than was asked (names,
// a street) so that the extract has something to leave out. After `budget`
// calls it stops answering (holds the calls) until Open(): an extract is
// then stuck mid-batch, where the test can kill it.
class Provider {
 public:
  Provider(const fs::path& pki, const std::string& name) {
    net::ServerOptions options;
    options.tls = net::TlsFiles{pki / (name + ".crt"), pki / (name + ".key"), pki / "ca.crt"};
    server_ = std::make_unique<net::Server>(options,
                                            [this](net::Request&& request, net::Responder respond) {
                                              Handle(std::move(request), std::move(respond));
                                            });
    if (!server_->Start().ok()) std::abort();
  }
  ~Provider() {
    Open();
    server_->Stop();
  }

  uint16_t port() const { return server_->port(); }
  int calls() const { return calls_.load(); }
  void set_budget(int budget) { budget_ = budget; }
  void Open() {
    std::vector<std::pair<net::Responder, std::string>> held;
    {
      std::lock_guard lock(mu_);
      budget_ = -1;
      held.swap(held_);
    }
    for (auto& [respond, body] : held) respond(net::Response::Json(200, body));
  }
  std::set<std::string> peers() {
    std::lock_guard lock(mu_);
    return peers_;
  }

 private:
  void Handle(net::Request&& request, net::Responder respond) {
    json::object call = json::parse(request.body).as_object();
    std::string niss(call.at("niss").as_string());
    std::string data_type(call.at("data_type").as_string());
    niss::Number number = *niss::Parse(niss);
    uint64_t h = Hash(niss);
    std::string data;
    if (data_type == "person.identity") {
      data = fmt::format(
          R"({{"last_name": "Janssens{}", "first_names": "Marie", "birth_date": "{}", "sex": "{}"}})",
          h % 100, number.BirthDateText(), number.sex == niss::Sex::kMale ? "m" : "f");
    } else if (data_type == "person.address") {
      data = fmt::format(R"({{"street": "Avenue Louise {}", "postal_code": "{}", "spouse": "{}"}})",
                         h % 90, number.birth_year == 1990 ? "9000" : "1000", number.Formatted());
    } else {
      data = fmt::format(
          R"([{{"quarter": "2024Q1", "gross_wage": {}}}, {{"quarter": "2024Q2", "gross_wage": {}}}])",
          2000 + h % 1500, 2500 + h % 1500);
    }
    std::string body = fmt::format(R"({{"data": {}}})", data);
    ++calls_;
    std::lock_guard lock(mu_);
    peers_.insert(request.peer);
    if (budget_ == 0) {
      held_.emplace_back(std::move(respond), std::move(body));
      return;
    }
    if (budget_ > 0) --budget_;
    respond(net::Response::Json(200, body));
  }

  std::unique_ptr<net::Server> server_;
  std::atomic<int> calls_{0};
  std::mutex mu_;
  int budget_ = -1;  // guarded by mu_; -1 = unlimited
  std::vector<std::pair<net::Responder, std::string>> held_;
  std::set<std::string> peers_;
};

class ResearchE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = pki::TestPki::New({"hub", "nr", "onss", "uni-a", "uni-b"});
  }
  static void TearDownTestSuite() {
    pki::TestPki::Delete(pki_);
  }

  void SetUp() override {
    dir_ = testing::MakeTempDir("carrefour-research-e2e");
    fs::create_directories(dir_ / "data");
    nr_ = std::make_unique<Provider>(pki_->dir, "nr");
    onss_ = std::make_unique<Provider>(pki_->dir, "onss");
    WriteNetwork();
    ImportDirectory();
  }

  void TearDown() override {
    hub_.reset();
    nr_.reset();
    onss_.reset();
    fs::remove_all(dir_);
  }

  void WriteNetwork() {
    std::ofstream out(dir_ / "network.toml");
    out << fmt::format(R"(
[[institution_type]]
id = "national-register"
[[institution_type]]
id = "collector"
capacities = ["employee"]
[[institution_type]]
id = "university"
[[institution_type]]
id = "bis-register"

[[institution]]
id = "nr"
type = "national-register"
endpoint = "https://127.0.0.1:{}"
[[institution]]
id = "onss"
type = "collector"
endpoint = "https://127.0.0.1:{}"
[[institution]]
id = "uni-a"
type = "university"
[[institution]]
id = "uni-b"
type = "university"
[[institution]]
id = "bis"
type = "bis-register"

# The hub's own BIS register answers person.identity for BIS numbers (and
# no-data for the others), in the hub's process and in the extract's.
[bis_register]
institution = "bis"
[[bis_authorization]]
requester = "onss"
legal_basis = "ISC/25/B01"
from = 2020-01-01

[[data_type]]
id = "person.identity"
fields = ["last_name", "first_names", "birth_date", "sex"]
research_fields = ["birth_date", "sex"]
quasi_identifiers = ["birth_date"]
[[data_type]]
id = "person.address"
fields = ["street", "postal_code", "spouse"]
research_fields = ["postal_code", "spouse"]
quasi_identifiers = ["postal_code"]
[[data_type]]
id = "employment.wages"
fields = ["quarter", "gross_wage"]
research_fields = ["quarter", "gross_wage"]

[[availability]]
data_type = "person.identity"
provider_type = "national-register"
[[availability]]
data_type = "person.identity"
provider_type = "bis-register"
[[availability]]
data_type = "person.address"
provider_type = "national-register"
[[availability]]
data_type = "employment.wages"
provider_type = "collector"
capacity = "employee"

[[research_project]]
id = "rp-a"
requester = "uni-a"
legal_basis = "ISC/25/R01"
from = 2020-01-01
period = {{ from = 2024-01-01, to = 2024-12-31 }}
k = 5
[research_project.cohort]
institution_type = "collector"
capacity = "employee"
[[research_project.data]]
data_type = "person.identity"
fields = ["birth_date", "sex"]
[[research_project.data]]
data_type = "person.address"
fields = ["postal_code", "spouse"]
[[research_project.data]]
data_type = "employment.wages"
fields = ["quarter", "gross_wage"]
[[research_project.quasi_identifier]]
data_type = "person.identity"
field = "birth_date"
coarsen = "year"
[[research_project.quasi_identifier]]
data_type = "person.identity"
field = "sex"
coarsen = "keep"
[[research_project.quasi_identifier]]
data_type = "person.address"
field = "postal_code"
coarsen = "region"

[[research_project]]
id = "rp-b"
requester = "uni-a"
legal_basis = "ISC/25/R02"
from = 2020-01-01
period = {{ from = 2024-01-01, to = 2024-12-31 }}
cohort = {{ institution = "onss", capacity = "employee" }}
data = [{{ data_type = "person.identity", fields = ["sex"] }}]
)",
                       nr_->port(), onss_->port());
  }

  // 40 employees of 2024 in four groups of ten (birth year x sex), one born
  // in 1931 (alone), and five whose employment ended in 2019.
  void ImportDirectory() {
    niss::Generator generator(7);
    std::ofstream csv(dir_ / "entries.csv");
    csv << "institution,niss,capacity,from,to\n";
    for (int i = 0; i < 40; ++i) {
      std::string niss = generator
                             .NextBornOn(*Date::Parse(i % 2 ? "1985-03-01" : "1990-08-15"),
                                         i % 4 < 2 ? niss::Sex::kMale : niss::Sex::kFemale)
                             ->digits;
      cohort_.push_back(niss);
      csv << "onss," << niss << ",employee,2020-01-01,\n";
    }
    rare_ = generator.NextBornOn(*Date::Parse("1931-02-02"), niss::Sex::kFemale)->digits;
    cohort_.push_back(rare_);
    csv << "onss," << rare_ << ",employee,2024-02-01,2024-03-31\n";
    for (int i = 0; i < 5; ++i) {
      std::string niss = generator.Next().digits;
      outsiders_.push_back(niss);
      csv << "onss," << niss << ",employee,2015-01-01,2019-12-31\n";
    }
    csv.close();
    auto [code, output] = Run({"directory", "import", "--network", (dir_ / "network.toml").string(),
                               "--store", "sqlite:" + (dir_ / "data" / "hub.db").string(), "--file",
                               (dir_ / "entries.csv").string()});
    ASSERT_EQ(code, 0) << output << Stderr();
  }

  static std::string Quote(const std::string& arg) {
    std::string out = "'";
    for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }

  // Runs `carrefour ARGS` to completion; exit code and stdout (stderr goes
  // to dir_/stderr.log, see Stderr()).
  std::pair<int, std::string> Run(const std::vector<std::string>& args) {
    std::string command = Quote(testing::Env("CARREFOUR_BINARY"));
    for (const std::string& arg : args) command += " " + Quote(arg);
    command += " 2>" + Quote((dir_ / "stderr.log").string());
    return testing::RunCommand(command);
  }
  std::string Stderr() {
    std::ifstream in(dir_ / "stderr.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::vector<std::string> ExtractArgs(const std::string& project, const std::string& as,
                                       const std::string& out, const std::string& batch = "7") {
    return {"research",  "extract",
            "--project", project,
            "--as",      as,
            "--network", (dir_ / "network.toml").string(),
            "--data",    (dir_ / "data").string(),
            "--out",     (dir_ / out).string(),
            "--batch",   batch,
            "--cert",    (pki_->dir / "hub.crt").string(),
            "--key",     (pki_->dir / "hub.key").string(),
            "--ca",      (pki_->dir / "ca.crt").string()};
  }

  static std::string Bytes(const fs::path& path) {
    std::string bytes;
    for (const auto& entry : fs::recursive_directory_iterator(path)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      bytes += std::string(std::istreambuf_iterator<char>(in), {});
    }
    return bytes;
  }

  // The first column of a CSV's rows (its header excluded), in order.
  static std::vector<std::string> FirstColumn(const fs::path& file) {
    std::ifstream in(file);
    std::vector<std::string> out;
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) out.push_back(line.substr(0, line.find(',')));
    return out;
  }

  void StartHub() {
    hub_ = Process::Start(
        {testing::Env("CARREFOUR_BINARY"), "hub", "--network", (dir_ / "network.toml").string(),
         "--data", (dir_ / "data").string(), "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
         "--cert", (pki_->dir / "hub.crt").string(), "--key", (pki_->dir / "hub.key").string(),
         "--ca", (pki_->dir / "ca.crt").string()},
        (dir_ / "hub.log").string());
    std::optional<std::string> line = hub_->WaitForLine(
        [](const std::string& l) { return l.find("API on") != std::string::npos; });
    ASSERT_TRUE(line) << "the hub did not start";
    std::smatch match;
    ASSERT_TRUE(std::regex_search(*line, match,
                                  std::regex(R"(port (\d+)\), admin on .* \(port (\d+)\))")))
        << *line;
    api_port_ = static_cast<uint16_t>(std::stoi(match[1]));
    admin_port_ = static_cast<uint16_t>(std::stoi(match[2]));
  }

  std::pair<int, json::value> Admin(const std::string& method, const std::string& target,
                                    const std::string& body = "") {
    auto client = net::Client::Create({.timeout = std::chrono::milliseconds(10000)});
    net::ClientRequest request;
    request.method = method;
    request.target = target;
    request.body = body;
    Result<net::ClientResponse> response = (*client)->SendSync(
        *net::Endpoint::Parse(fmt::format("http://127.0.0.1:{}", admin_port_)), request);
    EXPECT_TRUE(response) << response.error().ToString();
    if (!response) return {0, nullptr};
    return {response->status, json::parse(response->body)};
  }

  // POST to the hub's API as `institution`.
  std::pair<int, json::value> Api(const std::string& institution, const std::string& target,
                                  const std::string& body) {
    auto client = net::Client::Create(
        {.tls = net::TlsFiles{pki_->dir / (institution + ".crt"), pki_->dir / (institution + ".key"),
                              pki_->dir / "ca.crt"},
         .timeout = std::chrono::milliseconds(10000)});
    Result<net::ClientResponse> response = (*client)->PostSync(
        *net::Endpoint::Parse(fmt::format("https://127.0.0.1:{}", api_port_), "hub"), target, body);
    EXPECT_TRUE(response) << response.error().ToString();
    if (!response) return {0, nullptr};
    return {response->status, json::parse(response->body)};
  }

  static inline pki::TestPki* pki_ = nullptr;
  fs::path dir_;
  std::unique_ptr<Provider> nr_, onss_;
  std::unique_ptr<Process> hub_;
  uint16_t api_port_ = 0, admin_port_ = 0;
  std::vector<std::string> cohort_;
  std::string rare_;
  std::vector<std::string> outsiders_;
};

TEST_F(ResearchE2E, TheExtractHoldsNoNationalNumberNorDirectIdentifier) {
  auto [code, output] = Run(ExtractArgs("rp-a", "uni-a", "a"));
  ASSERT_EQ(code, 0) << output << Stderr();
  EXPECT_NE(output.find("complete"), std::string::npos) << output;
  EXPECT_NE(output.find("suppressed for k-anonymity 1"), std::string::npos) << output;
  // Provide calls as the hub, to the sources the availability table names.
  EXPECT_EQ(nr_->peers(), std::set<std::string>{"hub"});
  EXPECT_EQ(nr_->calls(), 2 * 41);
  EXPECT_EQ(onss_->calls(), 41);

  const std::string bytes = Bytes(dir_ / "a");
  for (const std::vector<std::string>* numbers : {&cohort_, &outsiders_}) {
    for (const std::string& niss : *numbers) {
      EXPECT_EQ(bytes.find(niss), std::string::npos) << niss;
      EXPECT_EQ(bytes.find(niss::Parse(niss)->Formatted()), std::string::npos) << niss;
    }
  }
  for (const char* identifier : {"Janssens", "Marie", "Avenue Louise", "last_name", "street"}) {
    EXPECT_EQ(bytes.find(identifier), std::string::npos) << identifier;
  }
  std::ifstream key(dir_ / "data" / "research.key");
  std::string research_key;
  std::getline(key, research_key);
  ASSERT_EQ(research_key.size(), 64u);
  EXPECT_EQ(bytes.find(research_key), std::string::npos);

  // The rare person (born 1931) is not in the files; everybody else once.
  std::vector<std::string> released = FirstColumn(dir_ / "a" / "person.identity.csv");
  EXPECT_EQ(released.size(), 40u);
  EXPECT_EQ(std::set<std::string>(released.begin(), released.end()).size(), 40u);
  EXPECT_EQ(FirstColumn(dir_ / "a" / "employment.wages.csv").size(), 80u);
  EXPECT_TRUE(fs::exists(dir_ / "a" / "dictionary.csv"));

  // Its audit chain is sound, next to the others.
  auto [verify, verified] = Run({"audit", "verify", "--data", (dir_ / "data").string()});
  EXPECT_EQ(verify, 0) << verified;
  EXPECT_NE(verified.find("research"), std::string::npos) << verified;
}

TEST_F(ResearchE2E, PseudonymsAreStableWithinAProjectAndDifferAcrossProjects) {
  ASSERT_EQ(Run(ExtractArgs("rp-a", "uni-a", "a1", "7")).first, 0) << Stderr();
  ASSERT_EQ(Run(ExtractArgs("rp-a", "uni-a", "a2", "100")).first, 0) << Stderr();
  ASSERT_EQ(Run(ExtractArgs("rp-b", "uni-a", "b")).first, 0) << Stderr();
  std::vector<std::string> a1 = FirstColumn(dir_ / "a1" / "person.identity.csv");
  std::vector<std::string> a2 = FirstColumn(dir_ / "a2" / "person.identity.csv");
  std::vector<std::string> b = FirstColumn(dir_ / "b" / "person.identity.csv");
  // Not empty (two empty extracts would agree on everything): the 40
  // persons rp-a releases, each once, in both of its extracts.
  ASSERT_EQ(a1.size(), 40u);
  ASSERT_EQ(a2.size(), 40u);
  EXPECT_EQ(std::set<std::string>(a1.begin(), a1.end()).size(), 40u);
  EXPECT_EQ(std::set<std::string>(a1.begin(), a1.end()),
            std::set<std::string>(a2.begin(), a2.end()));
  ASSERT_EQ(b.size(), 41u);
  std::set<std::string> shared;
  for (const std::string& p : b) {
    if (std::find(a1.begin(), a1.end(), p) != a1.end()) shared.insert(p);
  }
  EXPECT_TRUE(shared.empty());
}

TEST_F(ResearchE2E, AKilledExtractResumesWithoutDuplicates) {
  // Two batches of 5 persons (3 calls each) are answered, then the
  // providers hold every call: the extract is stuck in its third batch.
  nr_->set_budget(2 * 5 * 2 + 3);
  onss_->set_budget(2 * 5 + 1);
  std::vector<std::string> argv = ExtractArgs("rp-a", "uni-a", "a", "5");
  argv.insert(argv.begin(), testing::Env("CARREFOUR_BINARY"));
  auto extract = Process::Start(argv, (dir_ / "stderr.log").string());
  ASSERT_TRUE(extract->WaitForLine([](const std::string& line) {
    return line.find("batch 2 of 9 done") != std::string::npos;
  })) << Stderr();
  extract->Signal(SIGKILL);
  EXPECT_EQ(extract->Wait(), 128 + SIGKILL);
  EXPECT_FALSE(fs::exists(dir_ / "a" / "report.json"));
  nr_->Open();
  onss_->Open();

  auto [code, output] = Run(ExtractArgs("rp-a", "uni-a", "a", "5"));
  ASSERT_EQ(code, 0) << output << Stderr();
  EXPECT_NE(output.find("cohort of 41 persons, 10 done already"), std::string::npos) << output;
  std::vector<std::string> released = FirstColumn(dir_ / "a" / "person.identity.csv");
  EXPECT_EQ(released.size(), 40u);
  EXPECT_EQ(std::set<std::string>(released.begin(), released.end()).size(), released.size());
  std::vector<std::string> wages = FirstColumn(dir_ / "a" / "employment.wages.csv");
  EXPECT_EQ(wages.size(), 80u);
  std::map<std::string, int> per_person;
  for (const std::string& p : wages) ++per_person[p];
  for (const auto& [p, n] : per_person) EXPECT_EQ(n, 2) << p;
}

TEST_F(ResearchE2E, AnInstitutionWithoutTheLegalBasisCannotRunIt) {
  auto [code, output] = Run(ExtractArgs("rp-a", "uni-b", "a"));
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(Stderr().find("not-authorized"), std::string::npos) << Stderr();
  EXPECT_NE(Stderr().find("ISC/25/R01"), std::string::npos) << Stderr();
  EXPECT_EQ(nr_->calls() + onss_->calls(), 0);
  EXPECT_FALSE(fs::exists(dir_ / "a"));
}

TEST_F(ResearchE2E, TransparencyAndTheAdminEndpoint) {
  ASSERT_EQ(Run(ExtractArgs("rp-a", "uni-a", "a")).first, 0) << Stderr();
  StartHub();

  // The person sees the project, never their pseudonym.
  auto [status, view] = Admin("GET", "/v1/admin/transparency?niss=" + cohort_[3]);
  ASSERT_EQ(status, 200) << view;
  const json::array& uses = view.at("research").as_array();
  ASSERT_EQ(uses.size(), 1u) << view;
  EXPECT_EQ(uses[0].at("project"), "rp-a");
  EXPECT_EQ(uses[0].at("use"), "used in research project rp-a");
  EXPECT_EQ(uses[0].at("legal_basis"), "ISC/25/R01");
  EXPECT_EQ(uses[0].at("requester"), "uni-a");
  std::string text = json::serialize(view);
  for (const std::string& pseudonym : FirstColumn(dir_ / "a" / "person.identity.csv")) {
    EXPECT_EQ(text.find(pseudonym), std::string::npos);
  }
  auto [outsider_status, outsider] = Admin("GET", "/v1/admin/transparency?niss=" + outsiders_[0]);
  ASSERT_EQ(outsider_status, 200);
  EXPECT_TRUE(outsider.at("research").as_array().empty());

  // The same extract through the hub, for rp-b.
  auto [refused, refusal] =
      Admin("POST", "/v1/admin/research/extracts", R"({"project": "rp-b", "as": "uni-b"})");
  EXPECT_EQ(refused, 403) << refusal;
  EXPECT_EQ(refusal.at("error").at("code"), "not-authorized");
  auto [unknown, none] =
      Admin("POST", "/v1/admin/research/extracts", R"({"project": "rp-z", "as": "uni-a"})");
  EXPECT_EQ(unknown, 404) << none;
  auto [started, job] =
      Admin("POST", "/v1/admin/research/extracts", R"({"project": "rp-b", "as": "uni-a"})");
  ASSERT_EQ(started, 202) << job;
  json::value state;
  for (int i = 0; i < 600; ++i) {  // a guard: the job ends well before
    state = Admin("GET", "/v1/admin/research/extracts?project=rp-b").second;
    if (state.at("status") != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(state.at("status"), "complete") << state;
  EXPECT_EQ(state.at("cohort_size").to_number<int64_t>(), 41);
  EXPECT_TRUE(fs::exists(dir_ / "data" / "research" / "rp-b" / "report.json"));
  std::vector<std::string> b =
      FirstColumn(dir_ / "data" / "research" / "rp-b" / "person.identity.csv");
  EXPECT_EQ(b.size(), 41u);
  auto [again, conflict] =
      Admin("POST", "/v1/admin/research/extracts", R"({"project": "rp-b", "as": "uni-a"})");
  EXPECT_EQ(again, 409) << conflict;
  auto [verify_status, verify] = Admin("GET", "/v1/admin/audit/verify");
  EXPECT_EQ(verify_status, 200);
  EXPECT_TRUE(verify.at("ok").as_bool()) << verify;
}

TEST_F(ResearchE2E, AggregatesShowNoSmallCellAndNoRecoverableOne) {
  ASSERT_EQ(Run(ExtractArgs("rp-a", "uni-a", "a")).first, 0) << Stderr();
  auto [code, csv] =
      Run({"research", "aggregate", "--project", "rp-a", "--network",
           (dir_ / "network.toml").string(), "--extract", (dir_ / "a").string(), "--by",
           "person.identity.sex,person.address.postal_code,employment.wages.quarter", "--sum",
           "employment.wages.gross_wage", "--k", "12"});
  ASSERT_EQ(code, 0) << csv << Stderr();
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line,
            "person.identity.sex,person.address.postal_code,employment.wages.quarter,persons,sum_"
            "gross_wage,status");
  std::map<std::vector<std::string>, std::pair<std::string, bool>> cells;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::stringstream split(line);
    std::string field;
    while (std::getline(split, field, ',')) fields.push_back(field);
    if (line.back() == ',') fields.push_back("");
    ASSERT_EQ(fields.size(), 6u) << line;
    bool suppressed = fields[5] == "suppressed";
    if (suppressed) {
      EXPECT_TRUE(fields[3].empty() && fields[4].empty()) << line;
    } else {
      EXPECT_GE(std::stoi(fields[3]), 12) << line;
    }
    cells[{fields[0], fields[1], fields[2]}] = {fields[3], suppressed};
  }
  // Groups of ten (sex x region) under k = 12: suppressed, and no line of
  // the table has a single suppressed cell.
  EXPECT_TRUE(cells.at({"m", "Brussels", "2024Q1"}).second);
  std::map<std::pair<size_t, std::vector<std::string>>, int> per_line;
  for (const auto& [key, cell] : cells) {
    for (size_t j = 0; j < 3; ++j) {
      std::vector<std::string> margin = key;
      margin[j] = "(all)";
      per_line[{j, margin}] += cell.second;
    }
  }
  for (const auto& [line_key, suppressed] : per_line) EXPECT_NE(suppressed, 1);
  EXPECT_FALSE(cells.at({"(all)", "(all)", "(all)"}).second);
  EXPECT_EQ(cells.at({"(all)", "(all)", "(all)"}).first, "40");
  EXPECT_NE(Stderr().find("suppressed under k"), std::string::npos);
}

TEST_F(ResearchE2E, ABisPersonIsExtractedFromTheHubsRegister) {
  StartHub();
  auto [created, person] = Api("onss", "/v1/bis",
                               R"({"last_name": "Dupont", "first_names": "Jean", "birth_date": )"
                               R"("1985-05-05", "sex": "m", "nationality": "FR"})");
  ASSERT_EQ(created, 201) << person;
  std::string bis_number(person.at("niss").as_string());
  auto [integrated, entries] = Api(
      "onss", "/v1/directory/entries",
      fmt::format(R"({{"entries": [{{"action": "add", "niss": "{}", "capacity": "employee", )"
                  R"("from": "2020-01-01", "to": null}}]}})",
                  bis_number));
  ASSERT_EQ(integrated, 200) << entries;

  // The command runs beside the hub, on the same store.
  auto [code, output] = Run(ExtractArgs("rp-a", "uni-a", "a"));
  ASSERT_EQ(code, 0) << output << Stderr();
  EXPECT_NE(output.find("cohort 42 persons"), std::string::npos) << output;
  // One identity row came from the register: the BIS person's, coarsened.
  std::ifstream in(dir_ / "a" / "person.identity.csv");
  std::string line;
  std::vector<std::string> from_register;
  while (std::getline(in, line)) {
    if (line.find(",bis,") != std::string::npos) from_register.push_back(line);
  }
  ASSERT_EQ(from_register.size(), 1u);
  EXPECT_NE(from_register[0].find(",bis,1985,m"), std::string::npos) << from_register[0];
  const std::string bytes = Bytes(dir_ / "a");
  EXPECT_EQ(bytes.find(bis_number), std::string::npos);
  EXPECT_EQ(bytes.find("Dupont"), std::string::npos);
}

}  // namespace
}  // namespace carrefour
