// SPDX-License-Identifier: EUPL-1.2
#include "integration/entries.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "api/json.h"
#include "directory/integration.h"

namespace carrefour::integration {
namespace json = boost::json;
namespace {

// One entry of the batch.
Result<directory::EntryChange> ReadEntryChange(const json::value& value) {
  if (!value.is_object()) return Error(InvalidRequest("an entry must be a JSON object"));
  const json::object& object = value.as_object();
  CARREFOUR_RETURN_IF_ERROR(
      api::RejectUnknownKeys(object, {"action", "niss", "capacity", "from", "to"}));
  directory::EntryChange change;
  CARREFOUR_ASSIGN_OR_RETURN(std::string action, api::RequiredString(object, "action"));
  if (action == "add") {
    change.action = directory::EntryAction::kAdd;
  } else if (action == "close") {
    change.action = directory::EntryAction::kClose;
  } else if (action == "remove") {
    change.action = directory::EntryAction::kRemove;
  } else {
    return Error(InvalidRequest(fmt::format("'action' must be add, close or remove, not '{}'", action)));
  }
  CARREFOUR_ASSIGN_OR_RETURN(change.entry.niss, api::RequiredString(object, "niss"));
  CARREFOUR_ASSIGN_OR_RETURN(change.entry.capacity, api::RequiredString(object, "capacity"));
  CARREFOUR_ASSIGN_OR_RETURN(change.entry.period.from, api::RequiredDate(object, "from"));
  CARREFOUR_ASSIGN_OR_RETURN(change.entry.period.to, api::OptionalDate(object, "to"));
  return change;
}

}  // namespace

Result<EntriesBatch> ReadEntries(std::string_view body, const network::Definition& definition,
                                 const network::Institution& caller, Date today) {
  CARREFOUR_ASSIGN_OR_RETURN(json::object object, api::ParseObject(body));
  CARREFOUR_RETURN_IF_ERROR(api::RejectUnknownKeys(object, {"entries"}));
  const json::value* entries = object.if_contains("entries");
  if (entries == nullptr || !entries->is_array()) return Error(InvalidRequest("'entries' must be a list"));
  const json::array& list = entries->as_array();
  if (list.size() > kMaxEntriesPerBatch) {
    return Error(InvalidRequest(fmt::format("{} entries in one batch; the limit is {}", list.size(),
                                            kMaxEntriesPerBatch)));
  }
  EntriesBatch batch;
  batch.results.resize(list.size());
  batch.valid.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    Result<directory::EntryChange> change = ReadEntryChange(list[i]);
    batch.results[i] = change ? directory::ValidateEntryChange(definition, caller, today, &*change)
                              : change.error();
    if (batch.results[i].ok()) {
      batch.valid.push_back(std::move(*change));
      batch.valid_index.push_back(i);
    }
  }
  return batch;
}

Status ApplyEntries(EntriesBatch* batch, store::DirectoryStore& directory) {
  if (batch->valid.empty()) return OkStatus();
  Result<std::vector<directory::EntryResult>> applied = directory.ApplyEntryChanges(batch->valid);
  if (!applied) return applied.error();
  for (const directory::EntryResult& result : *applied) {
    batch->results[batch->valid_index[result.index]] = result.status;
  }
  return OkStatus();
}

std::string WriteEntriesAnswer(const EntriesBatch& batch) {
  json::array out;
  for (size_t i = 0; i < batch.results.size(); ++i) {
    json::object item;
    item["index"] = i;
    if (batch.results[i].ok()) {
      item["status"] = "ok";
    } else {
      item["status"] = "rejected";
      item["error"] = api::ErrorObject(batch.results[i]).at("error");
    }
    out.push_back(std::move(item));
  }
  json::object answer;
  answer["results"] = std::move(out);
  return json::serialize(answer);
}

size_t RejectedCount(const EntriesBatch& batch) {
  size_t rejected = 0;
  for (const Status& result : batch.results) rejected += result.ok() ? 0 : 1;
  return rejected;
}

}  // namespace carrefour::integration
