// SPDX-License-Identifier: EUPL-1.2
#include "exchange/consultation.h"

#include <chrono>
#include <mutex>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "api/json.h"
#include "audit/answer.h"
#include "exchange/wire.h"
#include "logging/logging.h"
#include "replica/directory_replica.h"
#include "store/store.h"

namespace carrefour::exchange {
namespace json = boost::json;
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t MicrosSince(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count();
}

// Keeps only `fields` of `object`: providers may send more than the requester
// is authorized to see, and what is not authorized never leaves the hub.
json::object Filter(const json::object& object, const std::vector<std::string>& fields) {
  json::object out(fields.size());
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
  // Parsed into a stack arena (one block, freed at once): only the filtered
  // fields, copied out below, outlive this call.
  unsigned char arena[4096];
  json::monotonic_resource resource(arena, sizeof arena);
  boost::system::error_code ec;
  json::value body = json::parse(reply->body, ec, &resource);
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


// One consultation in flight: shared by the provider callbacks; the last one
// to complete builds the answer.
struct Fanout {
  std::shared_ptr<const directory::DecisionEngine> engine;  // keeps the grant's pointers alive
  ConsultationAnswer answer;  // results: one per provider, in routing order
  std::vector<std::string> fields;
  audit::Record record;
  SteadyClock::time_point start;
  ConsultationDone done;

  std::mutex mu;
  size_t remaining = 0;
};

// A not-integrated refusal on a number that an identity replacement retired
// (docs/api.md 4.3, docs/mutations.md): the directory moved to the new
// number, so say so rather than leave the caller guessing. Only these
// refusals pay for the look-up. The new number is personal data too: only a
// caller with a file on the old or the new number learns it, and the
// refusal's audit record (whose reason names it) keeps the disclosure. Any
// other refusal is `decided` itself.
Status ExplainRefusal(const Status& decided, store::Store& store, std::string_view caller,
                      const std::string& niss) {
  if (decided.code() != StatusCode::kNotIntegrated) return decided;
  Result<std::optional<store::NissReplacement>> replacement = store.mutations().ReplacementOf(niss);
  if (!replacement || !replacement->has_value()) return decided;
  bool has_file = false;
  const std::string& new_niss = (*replacement)->new_niss;
  for (const std::string* number : {&niss, &new_niss}) {
    Result<std::vector<directory::Entry>> files = store.directory().EntriesOf(caller, *number);
    has_file = has_file || (files && !files->empty());
  }
  if (!has_file) return decided;
  return NotIntegrated(fmt::format("this number was replaced by {} on {}; consult the new number",
                                   (*replacement)->new_niss,
                                   (*replacement)->effective.ToString()));
}

// What the providers answered, counted.
struct Tally {
  size_t no_data = 0;
  size_t errors = 0;
  std::string providers;  // "id:outcome,...", for the audit record
};

Tally TallyResults(const std::vector<ProviderResult>& results) {
  Tally tally;
  for (const ProviderResult& result : results) {
    if (result.kind == ProviderResult::Kind::kNoData) ++tally.no_data;
    if (result.kind == ProviderResult::Kind::kError) ++tally.errors;
    if (!tally.providers.empty()) tally.providers += ',';
    tally.providers += result.provider;
    tally.providers += ':';
    tally.providers += result.Name();
  }
  return tally;
}

// The answer's status and HTTP status from its providers' outcomes.
void SetStatus(ConsultationAnswer& answer, const Tally& tally) {
  const size_t total = answer.results.size();
  answer.status = "ok";
  answer.http_status = 200;
  if (total == 0 || tally.no_data == total) {
    answer.status = "no-data-in-network";
  } else if (tally.errors == total) {
    answer.status = "unavailable";
    answer.http_status = 503;
  } else if (tally.errors > 0) {
    answer.status = "partial";
  }
}

// A granted consultation about to be sent to its providers.
std::shared_ptr<Fanout> StartFanout(std::shared_ptr<const directory::DecisionEngine> engine,
                                    const directory::ConsultationRequest& request,
                                    const directory::Grant& grant, audit::Record record,
                                    SteadyClock::time_point start, ConsultationDone done) {
  auto fanout = std::make_shared<Fanout>();
  fanout->engine = std::move(engine);
  ConsultationAnswer& answer = fanout->answer;
  answer.request_id = record.request_id;
  answer.data_type = request.data_type;
  answer.niss = request.niss;
  answer.period = grant.period;
  answer.legal_basis = grant.authorization->legal_basis;
  fanout->fields.assign(grant.fields.begin(), grant.fields.end());
  record.legal_basis = answer.legal_basis;
  record.capacity = grant.authorization->capacity;
  fanout->record = std::move(record);
  fanout->start = start;
  fanout->done = std::move(done);
  answer.results.resize(grant.providers.size());
  fanout->remaining = grant.providers.size();
  return fanout;
}

// Keeps provider `i`'s reply; true when it was the last one awaited.
bool Collect(Fanout& fanout, size_t i, const std::string& id, Result<ProviderReply> reply) {
  ProviderResult result = Interpret(id, std::move(reply), fanout.fields);
  if (result.kind == ProviderResult::Kind::kError) {
    logging::Event(spdlog::level::warn, "provider failed",
                   {{"request_id", fanout.answer.request_id},
                    {"provider", id},
                    {"error", result.error.ToString()}});
  }
  std::lock_guard lock(fanout.mu);
  fanout.answer.results[i] = std::move(result);
  return --fanout.remaining == 0;
}

constexpr const char* kAuditFailed =
    "the audit log could not be written, so the consultation is not answered; try again later";

}  // namespace

std::string_view ProviderResult::Name() const {
  switch (kind) {
    case Kind::kOk: return "ok";
    case Kind::kNoData: return "no-data";
    case Kind::kError: return "error";
  }
  return "error";
}

ConsultationService::ConsultationService(EngineSource engine, store::Store& store,
                                         audit::AuditLog& audit, ProviderGateway& gateway,
                                         const Clock& clock,
                                         const replica::DirectoryReplica* replica)
    : engine_(std::move(engine)),
      store_(store),
      audit_(audit),
      gateway_(gateway),
      clock_(clock),
      replica_(replica) {}

Result<directory::Grant> ConsultationService::Decide(const directory::DecisionEngine& engine,
                                                     const directory::ConsultationRequest& request,
                                                     Date today) {
  if (replica_ != nullptr) {
    std::optional<Result<directory::Grant>> on_copy;
    {
      // Held for the decision only: the grant points into the engine's
      // definition, not into the copy.
      replica::DirectoryReplica::View copy = replica_->Read(engine);
      if (copy) on_copy = engine.DecideCompact(request, *copy, today);
    }
    if (on_copy && *on_copy) return std::move(*on_copy);
    // A refusal for want of a file (or of one of an authorized capacity)
    // is confirmed on the store: a file declared through another hub in the
    // last second may not be in the copy yet, and an institution that
    // declared a file through one hub behind a load balancer must not be
    // refused by the next. Rare in normal traffic; the other refusals do
    // not depend on the person's entries.
    if (on_copy) {
      const StatusCode code = on_copy->error().code();
      if (code != StatusCode::kNotIntegrated && code != StatusCode::kNotAuthorized) {
        return std::move(*on_copy);
      }
    }
  }
  Result<std::vector<directory::Entry>> entries = store_.directory().EntriesOfPerson(request.niss);
  if (!entries) {
    return Error(Unavailable(
        fmt::format("the person directory could not be read: {}", entries.error().message())));
  }
  return engine.Decide(request, *entries, today);
}

// The record is committed before the answer leaves: an answered consultation
// with no trace would break the oversight promise. Refusals are recorded
// too: they are what oversight looks for first. The callback runs on the
// audit writer: it only hands the outcome on.
void ConsultationService::Finish(audit::Record record, Result<ConsultationAnswer> answer,
                                 ConsultationDone done) {
  // A refusal's bytes are its error body, which the edge writes the same way.
  std::string error_body = answer ? std::string() : api::ErrorBody(answer.error());
  std::string_view body = answer ? std::string_view(answer->body) : std::string_view(error_body);
  audit::AuditThenAnswer(
      audit_, std::move(record), body, std::move(answer),
      [](const Status& written) -> Result<ConsultationAnswer> {
        logging::Event(spdlog::level::err, "audit write failed", {{"error", written.ToString()}});
        return Error(Unavailable(kAuditFailed));
      },
      std::move(done));
}

void ConsultationService::Refuse(std::string_view caller,
                                 const directory::ConsultationRequest& read_so_far,
                                 const Status& why, ConsultationDone done) {
  counters_.refused.fetch_add(1, std::memory_order_relaxed);
  audit::Record record;
  record.kind = audit::Kind::kConsultation;
  record.request_id = audit::NewRequestId();
  record.requester = std::string(caller);
  record.data_type = read_so_far.data_type;
  record.niss = read_so_far.niss;
  if (read_so_far.capacity) record.capacity = *read_so_far.capacity;
  record.outcome = why.code();
  record.reason = why.message();
  Finish(std::move(record), Error(why), std::move(done));
}

void ConsultationService::Consult(std::string_view caller,
                                  const directory::ConsultationRequest& asked,
                                  ConsultationDone done) {
  const SteadyClock::time_point start = SteadyClock::now();
  const Date today = clock_.Today();
  std::shared_ptr<const directory::DecisionEngine> engine = engine_();

  // The requester is the caller, whatever the request says.
  const directory::ConsultationRequest* request = &asked;
  directory::ConsultationRequest own;
  if (asked.requester != caller) {
    own = asked;
    own.requester = std::string(caller);
    request = &own;
  }

  audit::Record record;
  record.kind = audit::Kind::kConsultation;
  record.request_id = audit::NewRequestId();
  record.requester = std::string(caller);
  record.data_type = request->data_type;
  record.niss = request->niss;
  if (request->capacity) record.capacity = *request->capacity;

  auto refuse = [&](const Status& status) {
    counters_.refused.fetch_add(1, std::memory_order_relaxed);
    record.outcome = status.code();
    record.reason = status.message();
    record.latency_us = MicrosSince(start);
    Finish(std::move(record), Error(status), std::move(done));
  };

  Result<directory::Grant> grant = Decide(*engine, *request, today);
  if (!grant) return refuse(ExplainRefusal(grant.error(), store_, caller, request->niss));

  std::shared_ptr<Fanout> fanout =
      StartFanout(engine, *request, *grant, std::move(record), start, std::move(done));
  auto complete = [this](Fanout& state) {
    ConsultationAnswer& done_answer = state.answer;
    Tally tally = TallyResults(done_answer.results);
    counters_.provider_errors.fetch_add(tally.errors, std::memory_order_relaxed);
    counters_.answered.fetch_add(1, std::memory_order_relaxed);
    counters_.providers.Add(done_answer.results);
    SetStatus(done_answer, tally);
    done_answer.body = WriteAnswer(done_answer);
    audit::Record trace = std::move(state.record);
    trace.outcome = done_answer.http_status == 503 ? StatusCode::kUnavailable : StatusCode::kOk;
    trace.reason = done_answer.status;
    trace.providers = std::move(tally.providers);
    trace.latency_us = MicrosSince(state.start);
    Finish(std::move(trace), std::move(done_answer), std::move(state.done));
  };

  if (grant->providers.empty()) return complete(*fanout);

  const std::string provide_body = WriteProvideRequest(fanout->answer, fanout->fields, caller);

  for (size_t i = 0; i < grant->providers.size(); ++i) {
    const network::Institution& provider = *grant->providers[i];
    counters_.provider_calls.fetch_add(1, std::memory_order_relaxed);
    gateway_.Provide(provider, provide_body,
                     [fanout, i, complete, id = provider.id](Result<ProviderReply> reply) {
                       if (Collect(*fanout, i, id, std::move(reply))) complete(*fanout);
                     });
  }
}

void ProviderOutcomes::Add(const std::vector<ProviderResult>& results) {
  if (results.empty()) return;
  std::lock_guard lock(mu_);
  for (const ProviderResult& result : results) {
    auto it = counts_.find(result.provider);
    if (it == counts_.end()) it = counts_.emplace(result.provider, std::array<uint64_t, 3>{}).first;
    ++it->second[static_cast<size_t>(result.kind)];
  }
}

std::vector<ProviderOutcomes::Row> ProviderOutcomes::Read() const {
  std::lock_guard lock(mu_);
  std::vector<Row> rows;
  rows.reserve(counts_.size());
  for (const auto& [provider, counts] : counts_) {
    rows.push_back({provider, counts[static_cast<size_t>(ProviderResult::Kind::kOk)],
                    counts[static_cast<size_t>(ProviderResult::Kind::kNoData)],
                    counts[static_cast<size_t>(ProviderResult::Kind::kError)]});
  }
  return rows;
}

void ConsultationService::ConsultBatch(std::string_view caller, std::vector<BatchItem> items,
                                       BatchDone done) {
  counters_.batches.fetch_add(1, std::memory_order_relaxed);
  if (items.empty()) {
    done({});
    return;
  }
  struct Batch {
    std::mutex mu;
    std::vector<Result<ConsultationAnswer>> outcomes;
    size_t remaining = 0;
    BatchDone done;
  };
  auto batch = std::make_shared<Batch>();
  batch->outcomes.resize(items.size());
  batch->remaining = items.size();
  batch->done = std::move(done);
  for (size_t i = 0; i < items.size(); ++i) {
    auto item_done = [batch, i](Result<ConsultationAnswer> outcome) {
      bool last = false;
      {
        std::lock_guard lock(batch->mu);
        batch->outcomes[i] = std::move(outcome);
        last = --batch->remaining == 0;
      }
      if (last) batch->done(std::move(batch->outcomes));
    };
    if (items[i].read.ok()) {
      Consult(caller, items[i].request, std::move(item_done));
    } else {
      Refuse(caller, items[i].request, items[i].read, std::move(item_done));
    }
  }
}

void ConsultationService::Consult(std::string_view caller, std::string_view body,
                                  std::function<void(Reply)> done) {
  directory::ConsultationRequest request;
  request.requester = std::string(caller);
  Status read = ReadConsultationRequest(body, clock_.Today(), &request);
  auto reply = [done = std::move(done)](Result<ConsultationAnswer> outcome) {
    int status = HttpStatusOf(outcome);
    done(Reply{status, BodyOf(std::move(outcome))});
  };
  if (!read.ok()) return Refuse(caller, request, read, std::move(reply));
  Consult(caller, request, std::move(reply));
}

void ConsultationService::ConsultBatch(std::string_view caller, std::string_view body,
                                       std::function<void(Reply)> done) {
  Result<std::vector<BatchItem>> items = ReadBatch(body, clock_.Today());
  if (!items) {
    return Refuse(caller, {}, items.error(), [done = std::move(done)](Result<ConsultationAnswer> outcome) {
      int status = HttpStatusOf(outcome);
      done(Reply{status, BodyOf(std::move(outcome))});
    });
  }
  ConsultBatch(caller, std::move(*items),
               [done = std::move(done)](std::vector<Result<ConsultationAnswer>> outcomes) {
                 done(Reply{200, WriteBatchAnswer(outcomes)});
               });
}

}  // namespace carrefour::exchange
