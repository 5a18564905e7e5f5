// SPDX-License-Identifier: EUPL-1.2
// The API's JSON bodies through the real code the hub calls for them
// (docs/api.md sections 4.1-4.5): directory entries, consultations and batch
// consultations (with the provider's answer, status and body, taken from the
// input too: section 5 as the hub interprets it), mutations, and the BIS
// register. SQLite store on /dev/shm (fsync there is free), a fixed network,
// one declared file so that consultations get past the decision to the
// providers.
//
// Input: byte 0 picks the endpoint; bytes 1-2 are the providers' HTTP status
// and the rest is "request body \0 provider body" (the provider body is used
// by consultations and batches; for the BIS register, byte 1 picks POST
// /v1/bis, PUT /v1/bis/{niss} or POST /v1/bis/{niss}/replacement, and the
// text after the NUL, when there is one, is the number of the path). Every answer must be JSON with an HTTP
// status the API uses.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "api/json.h"
#include "audit/audit_log.h"
#include "bis/service.h"
#include "core/clock.h"
#include "directory/decision.h"
#include "exchange/consultation.h"
#include "integration/entries.h"
#include "mutations/mutations.h"
#include "network/loader.h"
#include "store/store.h"

namespace {

using namespace carrefour;

constexpr std::string_view kNetwork = R"(
[[institution_type]]
id = "bis-register"
[[institution_type]]
id = "national-register"
[[institution_type]]
id = "mutuality"
capacities = ["insured"]
[[institution_type]]
id = "social-welfare-centre"
capacities = ["beneficiary"]
[[institution]]
id = "bis"
type = "bis-register"
[[institution]]
id = "nr"
type = "national-register"
endpoint = "https://127.0.0.1:9101"
[[institution]]
id = "mut-100"
type = "mutuality"
endpoint = "https://127.0.0.1:9104"
[[institution]]
id = "mut-200"
type = "mutuality"
endpoint = "https://127.0.0.1:9105"
[[institution]]
id = "cpas"
type = "social-welfare-centre"
endpoint = "https://127.0.0.1:9108"
[[data_type]]
id = "person.address"
fields = ["street", "postal_code", "municipality"]
[[data_type]]
id = "person.identity"
fields = ["last_name", "first_names", "birth_date", "sex", "nationality"]
[[data_type]]
id = "person.niss-replaced"
fields = ["new_niss"]
[[availability]]
data_type = "person.address"
provider_type = "national-register"
[[availability]]
data_type = "person.identity"
provider_type = "bis-register"
[[availability]]
data_type = "person.niss-replaced"
provider_type = "bis-register"
[[authorization]]
data_type = "person.address"
requester_type = "mutuality"
capacity = "insured"
legal_basis = "ISC/24/001"
from = 2020-01-01
[[subscription]]
institution_type = "mutuality"
data_type = "person.address"
capacity = "insured"
[bis_register]
institution = "bis"
[[bis_authorization]]
requester_type = "social-welfare-centre"
legal_basis = "ISC/18/203"
from = 2018-06-01
[[bis_authorization]]
requester = "cpas"
legal_basis = "ISC/18/203"
from = 2018-06-01
)";

// Answers every provide call with what the current input says.
class FuzzGateway : public exchange::ProviderGateway {
 public:
  void Provide(const network::Institution&, std::string, Done done) override {
    done(exchange::ProviderReply{status, body});
  }
  int status = 200;
  std::string body;
};

struct World {
  ManualClock clock{*Date::Parse("2026-06-15")};
  std::shared_ptr<const directory::DecisionEngine> engine;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<audit::AuditLog> audit;
  FuzzGateway gateway;
  std::unique_ptr<exchange::ConsultationService> consultations;
  std::unique_ptr<mutations::MutationService> mutations;
  std::unique_ptr<bis::Service> bis;
  std::vector<std::string> bis_numbers;

  World() {
    // Every malformed provider answer is logged as a warning: millions of
    // lines, and time, for nothing here.
    spdlog::set_level(spdlog::level::err);
    auto definition = network::ParseDefinitionWithDiagnostics(kNetwork, "fuzz.toml");
    if (!definition) std::abort();
    engine = std::make_shared<directory::DecisionEngine>(
        std::make_shared<const network::Definition>(std::move(*definition)));
    std::filesystem::path dir =
        std::filesystem::path("/dev/shm") / ("carrefour-fuzz-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    auto opened = store::OpenStore("sqlite:" + (dir / "hub.db").string(), clock);
    if (!opened) std::abort();
    store = std::move(*opened);
    auto log = audit::AuditLog::Open(store->audit(), {.node = "fuzz"}, clock);
    if (!log) std::abort();
    audit = std::move(*log);
    directory::EntryChange change;
    change.entry.institution = "mut-100";
    change.entry.niss = "85073003328";
    change.entry.capacity = "insured";
    change.entry.period.from = *Date::Parse("2020-01-01");
    if (!store->directory().ApplyEntryChanges(std::span(&change, 1))) std::abort();
    auto source = [this] { return engine; };
    mutations = std::make_unique<mutations::MutationService>(source, *store, *audit, clock);
    bis = std::make_unique<bis::Service>(
        source, *store, *audit,
        [this](std::string_view from, std::string_view body,
               std::function<void(mutations::Reply)> done) {
          mutations->Publish(from, body, std::move(done));
        },
        gateway, clock);
    consultations = std::make_unique<exchange::ConsultationService>(source, *store, *audit,
                                                                    bis->gateway(), clock);
    // Two persons in the BIS register: the PUT calls change the first, the
    // replacements replace the second (once replaced, a number's identity
    // no longer changes), unless the input names another number.
    for (const char* identity :
         {R"({"last_name": "Fuzz", "first_names": "Ada", "birth_date": "1990-01-01", "sex": "f", "nationality": "FR"})",
          R"({"last_name": "Zuff", "first_names": "Bob", "birth_date": "1970-12-31", "sex": "m", "nationality": "NL"})"}) {
      std::promise<bis::Reply> created;
      bis->HandleApi("cpas", "POST", "/v1/bis", identity,
                     [&](bis::Reply reply) { created.set_value(std::move(reply)); });
      bis::Reply reply = created.get_future().get();
      if (reply.status != 201) std::abort();
      bis_numbers.emplace_back(boost::json::parse(reply.body).at("niss").as_string());
    }
  }
};

void Check(int status, const std::string& body) {
  static const int kStatuses[] = {200, 201, 202, 400, 403, 404, 409, 413, 503, 504};
  bool known = false;
  for (int s : kStatuses) known = known || s == status;
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(body, ec);
  if (!known || ec || !parsed.is_object()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();
  if (size < 3) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 3, size - 3);
  const size_t cut = rest.find('\0');
  const std::string_view request = rest.substr(0, cut);
  world->gateway.body = cut == std::string_view::npos ? "" : std::string(rest.substr(cut + 1));
  world->gateway.status = (data[1] << 8 | data[2]) % 600;
  std::promise<std::pair<int, std::string>> answered;
  auto answer = answered.get_future();
  switch (data[0] % 6) {
    case 0:  // POST /v1/consultations, the provider's answer from the input
      world->consultations->Consult("mut-100", request, [&](exchange::Reply reply) {
        answered.set_value({reply.status, std::move(reply.body)});
      });
      break;
    case 1:  // POST /v1/consultations/batch, every provider answering the same
      world->consultations->ConsultBatch("mut-100", request, [&](exchange::Reply reply) {
        answered.set_value({reply.status, std::move(reply.body)});
      });
      break;
    case 2: {  // POST /v1/directory/entries, as the hub reads, applies and answers it
      // Declared by another mutuality, so that mut-100's file (which the
      // consultations need) stays as it is.
      const network::Definition& definition = *world->engine->definition();
      const network::Institution* caller = definition.FindInstitution("mut-200");
      Result<integration::EntriesBatch> batch =
          integration::ReadEntries(request, definition, *caller, world->clock.Today());
      if (!batch) {
        answered.set_value({HttpStatus(batch.error().code()), api::ErrorBody(batch.error())});
        break;
      }
      if (!integration::ApplyEntries(&*batch, world->store->directory()).ok()) std::abort();
      answered.set_value({200, integration::WriteEntriesAnswer(*batch)});
      break;
    }
    case 3:  // POST /v1/mutations
      world->mutations->Publish("nr", request, [&](mutations::Reply reply) {
        answered.set_value({reply.status, std::move(reply.body)});
      });
      break;
    case 4: {  // the BIS register's API; byte 1 picks the call, the text after the NUL is the number
      static const char* const kMethods[] = {"POST", "PUT", "POST"};
      const size_t call = data[1] % 3;
      const std::string number = cut != std::string_view::npos ? world->gateway.body
                                 : call == 2                    ? world->bis_numbers[1]
                                                                : world->bis_numbers[0];
      const std::string paths[] = {"/v1/bis", "/v1/bis/" + number, "/v1/bis/" + number + "/replacement"};
      world->bis->HandleApi("cpas", kMethods[call], paths[call], request, [&](bis::Reply reply) {
        answered.set_value({reply.status, std::move(reply.body)});
      });
      break;
    }
    default:  // a BIS number's identity through the register's own provide
      answered.set_value({200, R"({"provide":)" + boost::json::serialize(boost::json::value(
                                                       world->bis->Provide(request).body)) + "}"});
      break;
  }
  auto [status, body] = answer.get();
  // CARREFOUR_FUZZ_PRINT=1 shows each answer (to read a seed or a finding).
  static const bool print = std::getenv("CARREFOUR_FUZZ_PRINT") != nullptr;
  if (print) std::fprintf(stderr, "endpoint %d: %d %s\n", data[0] % 6, status, body.c_str());
  Check(status, body);
  return 0;
}
