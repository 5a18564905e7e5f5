// SPDX-License-Identifier: EUPL-1.2
#include "bis/service.h"

#include <chrono>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "api/json.h"
#include "audit/answer.h"
#include "bis/names.h"
#include "bis/person_json.h"
#include "niss/niss.h"
#include "store/store.h"

namespace carrefour::bis {
namespace json = boost::json;
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kApiPrefix = "/v1/bis";
constexpr std::string_view kReplacementSuffix = "/replacement";
// docs/api.md 4.4 and the mutations' identity replacement (docs/mutations.md).
constexpr std::string_view kPersonIdentity = "person.identity";
// The administrator's search: a name alone (score ~0.34) is worth showing.
constexpr double kSearchMinScore = 0.3;
constexpr size_t kSearchDefaultLimit = 20, kSearchMaxLimit = 100;

json::array CandidatesJson(const std::vector<Candidate>& candidates) {
  json::array out;
  for (const Candidate& candidate : candidates) out.push_back(CandidateJson(candidate));
  return out;
}

// "85073003328:0.97,..." for audit records: numbers and scores, never names.
std::string CandidatesDetail(const std::vector<Candidate>& candidates) {
  std::string out;
  for (const Candidate& candidate : candidates) {
    out += fmt::format("{}{}:{:.2f}", out.empty() ? "" : ",", candidate.person.niss,
                       candidate.match.score);
  }
  return out;
}

// The error code (docs/api.md) of a mutation's rejection back to its StatusCode, to answer
// with the same HTTP status.
StatusCode CodeOf(std::string_view spec) {
  for (int i = 0; i <= static_cast<int>(StatusCode::kNoData); ++i) {
    if (SpecCode(static_cast<StatusCode>(i)) == spec) return static_cast<StatusCode>(i);
  }
  return StatusCode::kInternal;
}

// A number the register may hold: valid, and a BIS number.
Result<std::string> BisNumber(std::string_view text, Date today) {
  CARREFOUR_ASSIGN_OR_RETURN(niss::Number number, niss::Parse(text, today));
  if (number.kind != niss::Kind::kBis) {
    return Error(InvalidNiss(fmt::format(
        "{} is a national register number; the BIS register holds only BIS numbers",
        number.digits)));
  }
  return number.digits;
}

// A request body: one JSON object with no other keys than `allowed`.
Result<json::object> Body(std::string_view body, std::initializer_list<std::string_view> allowed) {
  CARREFOUR_ASSIGN_OR_RETURN(json::object object, api::ParseObject(body));
  CARREFOUR_RETURN_IF_ERROR(api::RejectUnknownKeys(object, allowed));
  return object;
}

int64_t MicrosSince(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count();
}

}  // namespace

// Provide calls to the register's institution never leave the process.
class Service::LocalGateway : public exchange::ProviderGateway {
 public:
  LocalGateway(Service& service, exchange::ProviderGateway& network)
      : service_(service), network_(network) {}

  // exchange::ProviderGateway
  void Provide(const network::Institution& provider, std::string body, Done done) override {
    if (provider.id == service_.engine_()->definition()->bis_register().institution) {
      done(service_.Provide(body));
      return;
    }
    network_.Provide(provider, std::move(body), std::move(done));
  }

 private:
  Service& service_;
  exchange::ProviderGateway& network_;
};

// One API call being answered.
struct Service::Call {
  std::string caller;
  std::string body;
  std::function<void(Reply)> done;
  std::shared_ptr<const directory::DecisionEngine> engine;
  Date today;
  SteadyClock::time_point start;
  audit::Record record;
};

Service::Service(EngineSource engine, store::Store& store, audit::AuditLog& audit,
                 Publisher publish, exchange::ProviderGateway& network, const Clock& clock)
    : engine_(std::move(engine)),
      store_(store),
      audit_(audit),
      publish_(std::move(publish)),
      clock_(clock),
      register_(store.bis(), clock),
      gateway_(std::make_unique<LocalGateway>(*this, network)) {}

bool Service::IsApiPath(std::string_view path) {
  return path == kApiPrefix || path.starts_with(std::string(kApiPrefix) + "/");
}

void Service::HandleApi(std::string_view caller, std::string_view method, std::string_view path,
                        std::string_view body, std::function<void(Reply)> done) {
  Call call;
  call.caller = std::string(caller);
  call.body = std::string(body);
  call.done = std::move(done);
  call.engine = engine_();
  call.today = clock_.Today();
  call.start = SteadyClock::now();
  call.record.kind = audit::Kind::kBis;
  call.record.request_id = audit::NewRequestId();
  call.record.requester = call.caller;

  std::string_view rest = path.substr(std::min(path.size(), kApiPrefix.size()));
  if (rest.empty()) {
    if (method != "POST") return Refuse(std::move(call), InvalidRequest("use POST"));
    return Create(std::move(call));
  }
  rest.remove_prefix(1);  // the '/'
  const bool replacement = rest.ends_with(kReplacementSuffix);
  if (replacement) rest.remove_suffix(kReplacementSuffix.size());
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    return Refuse(std::move(call),
                  NotFound(fmt::format("no endpoint {} {}", method, path)));
  }
  Result<std::string> niss = BisNumber(rest, call.today);
  if (!niss) return Refuse(std::move(call), niss.error().WithContext("the path's number"));
  call.record.niss = *niss;
  if (replacement) {
    if (method != "POST") return Refuse(std::move(call), InvalidRequest("use POST"));
    return Replace(std::move(call), *niss);
  }
  if (method != "PUT") return Refuse(std::move(call), InvalidRequest("use PUT"));
  Update(std::move(call), *niss);
}

// The record is committed before the answer leaves, as for every exchange.
void Service::Answer(Call call, Reply reply) {
  call.record.latency_us = MicrosSince(call.start);
  audit::AuditThenAnswer(
      audit_, std::move(call.record), std::move(reply),
      [] { return api::ErrorReply(Unavailable("the audit log could not be written; try again")); },
      std::move(call.done));
}

void Service::Refuse(Call call, const Status& status) {
  call.record.outcome = status.code();
  call.record.reason = status.message();
  Reply reply = api::ErrorReply(status);
  Answer(std::move(call), std::move(reply));
}

Status Service::Authorize(Call& call, bool replacement) const {
  const network::Definition& definition = *call.engine->definition();
  const network::Institution* institution = definition.FindInstitution(call.caller);
  if (institution != nullptr) {
    for (const network::BisAuthorization& authorization : definition.bis_register().authorizations) {
      // A replacement moves every institution's files on the person: a
      // grant to a whole institution type is not enough, the authorization
      // must name the institution itself.
      if (authorization.Names(*institution) && authorization.validity.Contains(call.today) &&
          (!replacement || authorization.requester == institution->id)) {
        call.record.legal_basis = authorization.legal_basis;
        return OkStatus();
      }
    }
  }
  if (replacement) {
    return NotAuthorized(fmt::format(
        "{} may not replace BIS numbers: no [[bis_authorization]] names it (requester = \"{}\"; "
        "one for its type is not enough) today",
        call.caller, call.caller));
  }
  return NotAuthorized(fmt::format(
      "{} may not write to the BIS register: no [[bis_authorization]] names it or its type "
      "today",
      call.caller));
}

// Being allowed to write to the register is not enough to change anybody in
// it: an institution changes (or replaces) the people it registered itself
// or on whom it holds a file, never the others'.
Status Service::CheckConcerned(const Call& call, const Person& person) const {
  if (person.created_by == call.caller) return OkStatus();
  Result<std::vector<directory::Entry>> entries = store_.directory().EntriesOf(call.caller, person.niss);
  if (!entries) return entries.error();
  if (!entries->empty()) return OkStatus();
  return NotAuthorized(fmt::format(
      "{} neither registered {} nor holds a file on it: declare your file first",
      call.caller, person.niss));
}

void Service::Create(Call call) {
  if (Status authorized = Authorize(call); !authorized.ok()) return Refuse(std::move(call), authorized);
  Result<json::object> object = Body(call.body, {"last_name", "first_names", "birth_date", "sex",
                                                 "nationality", "force"});
  if (!object) return Refuse(std::move(call), object.error());
  Result<Identity> identity = IdentityFromJson(*object, call.today);
  if (!identity) return Refuse(std::move(call), identity.error());
  bool force = false;
  if (const json::value* value = object->if_contains("force"); value && !value->is_null()) {
    if (!value->is_bool()) return Refuse(std::move(call), InvalidRequest("'force' must be true or false"));
    force = value->as_bool();
  }

  Result<Assignment> assignment = register_.Assign(*identity, force, call.caller);
  if (!assignment) return Refuse(std::move(call), assignment.error());
  const std::vector<Candidate>& candidates = assignment->candidates;
  if (assignment->niss.empty()) {
    Status status = PossibleDuplicate(fmt::format(
        "the BIS register holds {} person{} who may be this one; use the number of the right "
        "one (declare your file on it and consult its person.identity), or send the request "
        "again with \"force\": true if none is",
        candidates.size(), candidates.size() == 1 ? "" : "s"));
    json::object body = api::ErrorObject(status);
    body["candidates"] = CandidatesJson(candidates);
    call.record.outcome = status.code();
    call.record.reason = "possible duplicate";
    call.record.detail = "candidates=" + CandidatesDetail(candidates);
    return Answer(std::move(call), Reply{409, json::serialize(body)});
  }
  json::object body;
  body["niss"] = assignment->niss;
  const bool forced = !candidates.empty();
  body["forced"] = forced;
  if (forced) body["candidates"] = CandidatesJson(candidates);
  call.record.niss = assignment->niss;
  call.record.reason = forced ? "assigned despite possible duplicates (forced)" : "assigned";
  if (forced) call.record.detail = "forced=true candidates=" + CandidatesDetail(candidates);
  Answer(std::move(call), Reply{201, json::serialize(body)});
}

void Service::Update(Call call, const std::string& niss) {
  call.record.data_type = std::string(kPersonIdentity);
  if (Status authorized = Authorize(call); !authorized.ok()) return Refuse(std::move(call), authorized);
  Result<json::object> object =
      Body(call.body, {"last_name", "first_names", "birth_date", "sex", "nationality"});
  if (!object) return Refuse(std::move(call), object.error());
  Result<Identity> identity = IdentityFromJson(*object, call.today);
  if (!identity) return Refuse(std::move(call), identity.error());
  Result<std::optional<Person>> existing = register_.Find(niss);
  if (!existing) return Refuse(std::move(call), existing.error());
  if (!*existing) return Refuse(std::move(call), NotFound(fmt::format("the BIS register has no {}", niss)));
  if (Status concerned = CheckConcerned(call, **existing); !concerned.ok()) {
    return Refuse(std::move(call), concerned);
  }
  if ((*existing)->replaced_by) {
    return Refuse(std::move(call),
                  InvalidRequest(fmt::format("{} was replaced by {}: its identity is kept as it "
                                             "was; change it under the new number",
                                             niss, *(*existing)->replaced_by)));
  }
  Result<std::optional<Register::Updated>> updated = register_.Update(niss, *identity);
  if (!updated) return Refuse(std::move(call), updated.error());
  if (!*updated) return Refuse(std::move(call), NotFound(fmt::format("the BIS register has no {}", niss)));
  if (!(*updated)->changed) {
    call.record.reason = "identity unchanged";
    return Answer(std::move(call), Reply{200, json::serialize(json::object{{"niss", niss}, {"changed", false}})});
  }

  // The change goes to the subscribers of person.identity as any source's
  // would: the register's institution is its authentic source for BIS
  // numbers. Only the data type's fields travel.
  const network::Definition& definition = *call.engine->definition();
  const network::DataType* type = definition.FindDataType(kPersonIdentity);
  json::object data;
  for (auto& [key, value] : IdentityToJson(*identity)) {
    if (type != nullptr && type->HasField(key)) data[key] = value;
  }
  const std::string id = fmt::format("bis-identity-{}-{}", niss, (*updated)->person.updated_us);
  json::object mutation{{"id", id}, {"data_type", kPersonIdentity}, {"niss", niss},
                        {"effective", call.today.ToString()}, {"data", std::move(data)}};
  json::object batch{{"mutations", json::array{std::move(mutation)}}};
  const std::string source = definition.bis_register().institution;
  auto shared = std::make_shared<Call>(std::move(call));
  publish_(source, json::serialize(batch), [this, shared, id, niss](mutations::Reply published) {
    json::object answer{{"niss", niss}, {"changed", true}};
    json::object outcome{{"id", id}};
    boost::system::error_code ec;
    json::value reply = json::parse(published.body, ec);
    const json::value* result = nullptr;
    if (!ec && reply.is_object()) {
      if (const json::value* results = reply.as_object().if_contains("results");
          results && results->is_array() && !results->as_array().empty()) {
        result = &results->as_array()[0];
      }
    }
    if (result != nullptr && result->is_object()) {
      for (const auto& [key, value] : result->as_object()) {
        if (key != "index") outcome[key] = value;
      }
    } else {
      outcome["status"] = "rejected";
      outcome["error"] = ec || !reply.is_object() || !reply.as_object().contains("error")
                              ? api::ErrorObject(Unavailable("the mutation was not published")).at("error")
                              : reply.as_object().at("error");
    }
    const json::value* status = outcome.if_contains("status");
    shared->record.reason = fmt::format(
        "identity updated, mutation {}",
        status && status->is_string() ? std::string_view(status->as_string()) : "rejected");
    shared->record.detail = "mutation=" + id;
    answer["mutation"] = std::move(outcome);
    Answer(std::move(*shared), Reply{200, json::serialize(answer)});
  });
}

void Service::Replace(Call call, const std::string& niss) {
  call.record.data_type = std::string(mutations::kNissReplaced);
  if (Status authorized = Authorize(call, /*replacement=*/true); !authorized.ok()) {
    return Refuse(std::move(call), authorized);
  }
  Result<json::object> object = Body(call.body, {"new_niss", "effective"});
  if (!object) return Refuse(std::move(call), object.error());
  Result<std::string> new_text = api::RequiredString(*object, "new_niss");
  if (!new_text) return Refuse(std::move(call), new_text.error());
  Result<std::string> new_niss = niss::Normalize(*new_text, call.today);
  if (!new_niss) return Refuse(std::move(call), new_niss.error().WithContext("'new_niss'"));
  if (*new_niss == niss) {
    return Refuse(std::move(call), InvalidRequest("'new_niss' is the number being replaced"));
  }
  Date effective = call.today;
  if (object->contains("effective")) {
    Result<Date> date = api::RequiredDate(*object, "effective");
    if (!date) return Refuse(std::move(call), InvalidRequest("'effective' must be a date YYYY-MM-DD"));
    effective = *date;
  }
  Result<std::optional<Person>> person = register_.Find(niss);
  if (!person) return Refuse(std::move(call), person.error());
  if (!*person) return Refuse(std::move(call), NotFound(fmt::format("the BIS register has no {}", niss)));
  if (Status concerned = CheckConcerned(call, **person); !concerned.ok()) {
    return Refuse(std::move(call), concerned);
  }
  if ((*person)->replaced_by) {
    return Refuse(std::move(call), AlreadyExists(fmt::format("{} was already replaced by {}", niss,
                                                             *(*person)->replaced_by)));
  }

  // One replacement per number: its id is derived from the number, so that
  // a retried call is a duplicate rather than a second replacement.
  const std::string id = fmt::format("bis-replaced-{}", niss);
  json::object mutation{{"id", id},
                        {"data_type", mutations::kNissReplaced},
                        {"niss", niss},
                        {"effective", effective.ToString()},
                        {"data", json::object{{mutations::kNewNissField, *new_niss}}}};
  json::object batch{{"mutations", json::array{std::move(mutation)}}};
  const std::string source = call.engine->definition()->bis_register().institution;
  call.record.detail = fmt::format("new_niss={} mutation={}", *new_niss, id);
  auto shared = std::make_shared<Call>(std::move(call));
  publish_(source, json::serialize(batch),
           [this, shared, niss, replacement = *new_niss](mutations::Reply published) {
             boost::system::error_code ec;
             json::value reply = json::parse(published.body, ec);
             const json::object* result = nullptr;
             if (!ec && reply.is_object()) {
               const json::value* results = reply.as_object().if_contains("results");
               if (results && results->is_array() && !results->as_array().empty()) {
                 result = results->as_array()[0].if_object();
               }
             }
             if (result == nullptr) {
               return Refuse(std::move(*shared),
                             Unavailable("the replacement could not be published; try again"));
             }
             const json::value* status = result->if_contains("status");
             if (status && *status == "accepted") {
               shared->record.reason = "replaced";
               json::object answer{{"niss", niss}, {"new_niss", replacement}};
               if (const json::value* subscribers = result->if_contains("subscribers")) {
                 answer["subscribers"] = *subscribers;
               }
               return Answer(std::move(*shared), Reply{200, json::serialize(answer)});
             }
             if (status && *status == "duplicate") {
               return Refuse(std::move(*shared),
                             AlreadyExists(fmt::format("{} was already replaced", niss)));
             }
             const json::value* error = result->if_contains("error");
             const json::object* why = error ? error->if_object() : nullptr;
             std::string code = why && why->contains("code") && why->at("code").is_string()
                                    ? std::string(why->at("code").as_string())
                                    : "internal";
             std::string message = why && why->contains("message") && why->at("message").is_string()
                                       ? std::string(why->at("message").as_string())
                                       : "the replacement was rejected";
             Refuse(std::move(*shared), Status(CodeOf(code), std::move(message)));
           });
}

Reply Service::HandleAdmin(std::optional<std::string_view> niss_param,
                           std::optional<std::string_view> q,
                           std::optional<std::string_view> birth_date,
                           std::optional<std::string_view> limit_param) {
  const Date today = clock_.Today();
  audit::Record record;
  record.kind = audit::Kind::kAdmin;
  record.request_id = audit::NewRequestId();
  record.requester = "admin";
  auto answer = [&](Reply reply) {
    // A refused look-up reads nothing: only successful reads are traced.
    if (reply.status >= 400) return reply;
    return audit::AuditThenAnswerAndWait(audit_, std::move(record), std::move(reply), [] {
      return api::ErrorReply(Unavailable("the audit log could not be written; try again"));
    });
  };
  auto error = [](const Status& status) {
    return api::ErrorReply(status);
  };

  if (niss_param) {
    Result<std::string> niss = niss::Normalize(*niss_param, today);
    if (!niss) return error(niss.error().WithContext("'niss'"));
    Result<std::optional<Person>> person = register_.Find(*niss);
    if (!person) return error(person.error());
    if (!*person) return error(NotFound(fmt::format("the BIS register has no {}", *niss)));
    record.niss = *niss;
    record.reason = "BIS register look-up";
    return answer(Reply{200, json::serialize(PersonJson(**person))});
  }
  if (!q) return error(InvalidRequest("give 'niss', or 'q' (a name: LAST or LAST, FIRST NAMES)"));
  Identity query;
  size_t comma = q->find(',');
  query.last_name = std::string(q->substr(0, comma));
  if (comma != std::string_view::npos) query.first_names = std::string(q->substr(comma + 1));
  if (FoldName(query.last_name).empty()) {
    return error(InvalidRequest("'q' must start with a last name (LAST or LAST, FIRST NAMES)"));
  }
  if (birth_date && !birth_date->empty()) {
    Result<BirthDate> date = BirthDate::Parse(*birth_date, today);
    if (!date) return error(date.error());
    query.birth_date = *date;
  }
  size_t limit = kSearchDefaultLimit;
  if (limit_param) {
    size_t value = 0;
    bool ok = !limit_param->empty() && limit_param->size() <= 4;
    for (char c : *limit_param) {
      ok = ok && c >= '0' && c <= '9';
      if (ok) value = value * 10 + static_cast<size_t>(c - '0');
    }
    if (!ok || value < 1 || value > kSearchMaxLimit) {
      return error(InvalidRequest(fmt::format("'limit' must be 1 to {}", kSearchMaxLimit)));
    }
    limit = value;
  }
  Result<std::vector<Candidate>> found = register_.Search(query, limit, kSearchMinScore);
  if (!found) return error(found.error());
  json::array persons;
  for (const Candidate& candidate : *found) {
    json::object item = PersonJson(candidate.person);
    json::object match = CandidateJson(candidate);
    item["score"] = match["score"];
    item["reasons"] = match["reasons"];
    persons.push_back(std::move(item));
  }
  record.reason = "BIS register search";
  record.detail = fmt::format("results={}", found->size());
  return answer(Reply{200, json::serialize(json::object{{"persons", std::move(persons)}})});
}

exchange::ProviderReply Service::Provide(std::string_view body) {
  static const std::string kNoData = api::ErrorBody(NoData("the BIS register has no such person"));
  boost::system::error_code ec;
  json::value request = json::parse(body, ec);
  const json::object* object = ec ? nullptr : request.if_object();
  const json::value* data_type = object ? object->if_contains("data_type") : nullptr;
  const json::value* niss = object ? object->if_contains("niss") : nullptr;
  if (data_type == nullptr || niss == nullptr || !niss->is_string() || !data_type->is_string() ||
      data_type->as_string() != kPersonIdentity) {
    return exchange::ProviderReply{404, kNoData};
  }
  Result<std::optional<Person>> person = register_.Find(niss->as_string());
  if (!person) return exchange::ProviderReply{503, api::ErrorBody(person.error())};
  if (!*person) return exchange::ProviderReply{404, kNoData};
  json::object data = IdentityToJson((*person)->identity);
  // The hub keeps only the authorized fields anyway; the register sends no
  // more than was asked either.
  if (const json::value* fields = object->if_contains("fields"); fields && fields->is_array()) {
    json::object asked;
    for (const json::value& field : fields->as_array()) {
      if (!field.is_string()) continue;
      if (const json::value* value = data.if_contains(field.as_string())) {
        asked[field.as_string()] = *value;
      }
    }
    data = std::move(asked);
  }
  return exchange::ProviderReply{200, json::serialize(json::object{{"data", std::move(data)}})};
}

}  // namespace carrefour::bis
