// SPDX-License-Identifier: EUPL-1.2
#include "integration/entries_service.h"

#include <chrono>
#include <utility>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "audit/answer.h"
#include "directory/decision.h"
#include "integration/entries.h"
#include "logging/logging.h"
#include "niss/niss.h"

namespace carrefour::integration {
namespace json = boost::json;
namespace {

using SteadyClock = std::chrono::steady_clock;

json::object EntryJson(const directory::Entry& entry, bool with_institution) {
  json::object out;
  out["niss"] = entry.niss;
  if (with_institution) out["institution"] = entry.institution;
  out["capacity"] = entry.capacity;
  out["from"] = entry.period.from.ToString();
  if (entry.period.to) {
    out["to"] = entry.period.to->ToString();
  } else {
    out["to"] = nullptr;
  }
  return out;
}

api::Reply EntriesAnswer(const std::string& niss, const std::vector<directory::Entry>& entries,
                         bool with_institution) {
  json::array list;
  for (const directory::Entry& entry : entries) list.push_back(EntryJson(entry, with_institution));
  json::object answer;
  answer["niss"] = niss;
  answer["entries"] = std::move(list);
  return api::Reply{200, json::serialize(answer)};
}

// The ?niss= of a read, required and normalized.
Result<std::string> PersonParam(std::optional<std::string_view> niss, Date today) {
  if (!niss) return Error(InvalidRequest("the query parameter 'niss' is required"));
  return niss::Normalize(*niss, today);
}

}  // namespace

void EntriesService::Post(const network::Institution& caller, std::string_view body,
                          std::function<void(api::Reply)> done) {
  const SteadyClock::time_point start = SteadyClock::now();
  audit::Record record;
  record.kind = audit::Kind::kIntegration;
  record.request_id = audit::NewRequestId();
  record.requester = caller.id;
  auto finish = [this, start, &record, &done](api::Reply reply) {
    record.latency_us =
        std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count();
    audit::AuditThenAnswer(
        audit_, std::move(record), std::move(reply),
        [] { return api::ErrorReply(Unavailable("the audit log could not be written; try again")); },
        std::move(done));
  };
  auto refuse = [&](const Status& status) {
    record.outcome = status.code();
    record.reason = status.message();
    finish(api::ErrorReply(status));
  };

  Result<EntriesBatch> batch = ReadEntries(body, *engine_()->definition(), caller, clock_.Today());
  if (!batch) return refuse(batch.error());
  if (Status applied = ApplyEntries(&*batch, directory_); !applied.ok()) {
    return refuse(logging::StoreFailed("write directory entries", applied,
                                       "the person directory could not be written: "));
  }
  const size_t entries = batch->results.size();
  const size_t rejected = RejectedCount(*batch);
  record.reason = rejected == 0 ? "applied" : "applied with rejections";
  record.detail = fmt::format("entries={} ok={} rejected={}", entries, entries - rejected, rejected);
  // One person per batch is the common case for an institution declaring a
  // file; record the number then, so the transparency view can show it.
  if (batch->valid.size() == 1) record.niss = batch->valid.front().entry.niss;
  finish(api::Reply{200, WriteEntriesAnswer(*batch)});
}

api::Reply EntriesService::OwnEntries(const network::Institution& caller,
                                      std::optional<std::string_view> niss) {
  Result<std::string> person = PersonParam(niss, clock_.Today());
  if (!person) return api::ErrorReply(person.error());
  Result<std::vector<directory::Entry>> entries = directory_.EntriesOf(caller.id, *person);
  if (!entries) return api::ErrorReply(logging::StoreFailed("read the caller's entries", entries.error()));
  return EntriesAnswer(*person, *entries, /*with_institution=*/false);
}

api::Reply EntriesService::PersonEntries(std::optional<std::string_view> niss) {
  Result<std::string> person = PersonParam(niss, clock_.Today());
  if (!person) return api::ErrorReply(person.error());
  Result<std::vector<directory::Entry>> entries = directory_.EntriesOfPerson(*person);
  if (!entries) return api::ErrorReply(logging::StoreFailed("read a person's entries", entries.error()));
  return EntriesAnswer(*person, *entries, /*with_institution=*/true);
}

}  // namespace carrefour::integration
