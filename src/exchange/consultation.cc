#include "exchange/consultation.h"


#include <chrono>
#include <mutex>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "api/json.h"
#include "niss/niss.h"
#include "store/store.h"

namespace carrefour::exchange {
namespace json = boost::json;
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t MicrosSince(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count();
}

// What became of one provider call, ready to be written into the answer.
struct ProviderResult {
  std::string provider;
  enum class Kind { kOk, kNoData, kError } kind = Kind::kError;
  json::value data;  // kOk: the filtered object or list of objects
  Status error;      // kError

  const char* Name() const {
    switch (kind) {
      case Kind::kOk: return "ok";
      case Kind::kNoData: return "no-data";
      case Kind::kError: return "error";
    }
    return "error";
  }
};

// Keeps only `fields` of `object`: providers may send more than the requester
// is authorized to see, and what is not authorized never leaves the hub.
json::object Filter(const json::object& object, const std::vector<std::string>& fields) {
  json::object out;
  for (const std::string& field : fields) {
    if (const json::value* value = object.if_contains(field)) out[field] = *value;
  }
  return out;
}

ProviderResult Interpret(std::string provider, Result<ProviderReply> reply,
                         const std::vector<std::string>& fields) {
  ProviderResult result;
  result.provider = std::move(provider);
  if (!reply) {
    result.error = reply.error();
    return result;
  }
  auto malformed = [&](std::string_view why) {
    result.kind = ProviderResult::Kind::kError;
    result.error = Unavailable(fmt::format("the provider's answer {}", why));
    return result;
  };
  boost::system::error_code ec;
  json::value body = json::parse(reply->body, ec);
  if (reply->status == 404) {
    const json::object* object = ec ? nullptr : body.if_object();
    const json::value* error = object ? object->if_contains("error") : nullptr;
    const json::value* code =
        error && error->is_object() ? error->as_object().if_contains("code") : nullptr;
    if (code && code->is_string() && code->as_string() == "no-data") {
      result.kind = ProviderResult::Kind::kNoData;
      return result;
    }
    return malformed("was HTTP 404 without the no-data code");
  }
  if (reply->status != 200) return malformed(fmt::format("was HTTP {}", reply->status));
  if (ec) return malformed("is not JSON");
  const json::value* data = body.is_object() ? body.as_object().if_contains("data") : nullptr;
  if (data == nullptr) return malformed("has no 'data'");
  if (data->is_object()) {
    result.data = Filter(data->as_object(), fields);
  } else if (data->is_array()) {
    json::array list;
    for (const json::value& item : data->as_array()) {
      if (!item.is_object()) return malformed("holds a list with something else than objects");
      list.push_back(Filter(item.as_object(), fields));
    }
    result.data = std::move(list);
  } else {
    return malformed("has a 'data' that is neither an object nor a list of objects");
  }
  result.kind = ProviderResult::Kind::kOk;
  return result;
}

Result<directory::ConsultationRequest> ParseRequest(std::string_view caller,
                                                    std::string_view body, Date today,
                                                    audit::Record* record) {
  CARREFOUR_ASSIGN_OR_RETURN(json::object object, api::ParseObject(body));
  CARREFOUR_RETURN_IF_ERROR(
      api::RejectUnknownKeys(object, {"data_type", "niss", "period", "capacity", "fields"}));
  directory::ConsultationRequest request;
  request.requester = std::string(caller);
  CARREFOUR_ASSIGN_OR_RETURN(request.data_type, api::RequiredString(object, "data_type"));
  record->data_type = request.data_type;
  CARREFOUR_ASSIGN_OR_RETURN(std::string niss, api::RequiredString(object, "niss"));
  Result<std::string> normalized = niss::Normalize(niss, today);
  if (!normalized) return Error(normalized.error().WithContext("'niss'"));
  request.niss = *normalized;
  record->niss = request.niss;
  CARREFOUR_ASSIGN_OR_RETURN(request.period, api::OptionalPeriod(object, "period"));
  CARREFOUR_ASSIGN_OR_RETURN(request.capacity, api::OptionalString(object, "capacity"));
  if (request.capacity) record->capacity = *request.capacity;
  CARREFOUR_ASSIGN_OR_RETURN(request.fields, api::OptionalStringList(object, "fields"));
  return request;
}

// One consultation in flight: shared by the provider callbacks; the last one
// to complete writes the answer.
struct Fanout {
  std::shared_ptr<const directory::DecisionEngine> engine;  // keeps the grant's pointers alive
  std::string request_id;
  std::string data_type;
  std::string niss;
  Period period;
  std::string legal_basis;
  std::vector<std::string> fields;
  audit::Record record;
  SteadyClock::time_point start;
  std::function<void(Reply)> done;

  std::mutex mu;
  std::vector<ProviderResult> results;  // one per provider, in routing order
  size_t remaining = 0;
};

}  // namespace

ConsultationService::ConsultationService(EngineSource engine, store::Store& store,
                                         audit::AuditLog& audit, ProviderGateway& gateway,
                                         const Clock& clock)
    : engine_(std::move(engine)), store_(store), audit_(audit), gateway_(gateway), clock_(clock) {}

void ConsultationService::Consult(std::string_view caller, std::string_view body,
                                  std::function<void(Reply)> done) {
  const SteadyClock::time_point start = SteadyClock::now();
  const Date today = clock_.Today();
  std::shared_ptr<const directory::DecisionEngine> engine = engine_();

  audit::Record record;
  record.kind = audit::Kind::kConsultation;
  record.request_id = audit::NewRequestId();
  record.requester = std::string(caller);

  // The record is committed before the answer leaves: an answered
  // consultation with no trace would break the oversight promise. Refusals
  // are recorded too: they are what oversight looks for first.
  auto finish = [this, start](audit::Record trace, Reply reply, std::function<void(Reply)> reply_to) {
    trace.latency_us = MicrosSince(start);
    reply.data_type = trace.data_type;
    trace.answer_sha256 = audit::Sha256Hex(reply.body);
    audit_.Append(std::move(trace), [reply = std::move(reply), reply_to = std::move(reply_to)](
                                        const Status& written) mutable {
      if (!written.ok()) {
        reply_to(Reply{503, api::ErrorBody(Unavailable(
                            "the audit log could not be written, so the consultation is not "
                            "answered; try again later"))});
        return;
      }
      reply_to(std::move(reply));
    });
  };
  auto refuse = [&](const Status& status) {
    counters_.refused.fetch_add(1, std::memory_order_relaxed);
    record.outcome = status.code();
    record.reason = status.message();
    finish(std::move(record), Reply{HttpStatus(status.code()), api::ErrorBody(status)},
           std::move(done));
  };

  Result<directory::ConsultationRequest> request = ParseRequest(caller, body, today, &record);
  if (!request) return refuse(request.error());

  Result<std::vector<directory::Entry>> entries =
      store_.directory().EntriesOfPerson(request->niss);
  if (!entries) {
    return refuse(Unavailable(
        fmt::format("the person directory could not be read: {}", entries.error().message())));
  }
  Result<directory::Grant> grant = engine->Decide(*request, *entries, today);
  if (!grant) return refuse(grant.error());

  auto fanout = std::make_shared<Fanout>();
  fanout->engine = engine;
  fanout->request_id = record.request_id;
  fanout->data_type = request->data_type;
  fanout->niss = request->niss;
  fanout->period = grant->period;
  fanout->legal_basis = grant->authorization->legal_basis;
  fanout->fields.assign(grant->fields.begin(), grant->fields.end());
  record.legal_basis = fanout->legal_basis;
  record.capacity = grant->authorization->capacity;
  fanout->record = std::move(record);
  fanout->start = start;
  fanout->done = std::move(done);
  fanout->results.resize(grant->providers.size());
  fanout->remaining = grant->providers.size();

  auto complete = [this, finish](std::shared_ptr<Fanout> state) {
    size_t ok = 0, no_data = 0, errors = 0;
    json::array results;
    std::string providers;
    for (ProviderResult& result : state->results) {
      json::object item;
      item["provider"] = result.provider;
      item["status"] = result.Name();
      switch (result.kind) {
        case ProviderResult::Kind::kOk:
          ++ok;
          item["data"] = std::move(result.data);
          break;
        case ProviderResult::Kind::kNoData:
          ++no_data;
          break;
        case ProviderResult::Kind::kError:
          ++errors;
          item["error"] = api::ErrorObject(result.error).at("error");
          break;
      }
      results.push_back(std::move(item));
      providers += fmt::format("{}{}:{}", providers.empty() ? "" : ",", result.provider,
                               result.Name());
    }
    counters_.provider_errors.fetch_add(errors, std::memory_order_relaxed);
    counters_.answered.fetch_add(1, std::memory_order_relaxed);

    const size_t total = state->results.size();
    std::string status = "ok";
    int http = 200;
    if (total == 0 || no_data == total) {
      status = "no-data-in-network";
    } else if (errors == total) {
      status = "unavailable";
      http = 503;
    } else if (errors > 0) {
      status = "partial";
    }
    json::object answer;
    answer["request_id"] = state->request_id;
    answer["status"] = status;
    answer["data_type"] = state->data_type;
    answer["niss"] = state->niss;
    answer["period"] = api::PeriodJson(state->period);
    answer["legal_basis"] = state->legal_basis;
    answer["results"] = std::move(results);
    if (http == 503) {
      answer["error"] = api::ErrorObject(Unavailable("no provider could answer")).at("error");
    }
    audit::Record trace = std::move(state->record);
    trace.outcome = http == 503 ? StatusCode::kUnavailable : StatusCode::kOk;
    trace.reason = status;
    trace.providers = std::move(providers);
    finish(std::move(trace), Reply{http, json::serialize(answer)}, std::move(state->done));
  };

  if (grant->providers.empty()) return complete(fanout);

  json::object provide;
  provide["request_id"] = fanout->request_id;
  provide["data_type"] = fanout->data_type;
  provide["niss"] = fanout->niss;
  provide["period"] = api::PeriodJson(fanout->period);
  json::array fields;
  for (const std::string& field : fanout->fields) fields.emplace_back(field);
  provide["fields"] = std::move(fields);
  provide["requester"] = std::string(caller);
  provide["legal_basis"] = fanout->legal_basis;
  const std::string provide_body = json::serialize(provide);

  for (size_t i = 0; i < grant->providers.size(); ++i) {
    const network::Institution& provider = *grant->providers[i];
    counters_.provider_calls.fetch_add(1, std::memory_order_relaxed);
    gateway_.Provide(provider, provide_body,
                     [fanout, i, complete, id = provider.id](Result<ProviderReply> reply) {
                       ProviderResult result = Interpret(id, std::move(reply), fanout->fields);
                       bool last = false;
                       {
                         std::lock_guard lock(fanout->mu);
                         fanout->results[i] = std::move(result);
                         last = --fanout->remaining == 0;
                       }
                       if (last) complete(fanout);
                     });
  }
}

}  // namespace carrefour::exchange
