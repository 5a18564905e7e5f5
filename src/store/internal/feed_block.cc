// SPDX-License-Identifier: EUPL-1.2
#include "store/internal/feed_block.h"

#include <charconv>

#include <boost/json.hpp>

namespace carrefour::store::internal {
namespace json = boost::json;

void FeedBlock::Add(int64_t mid, const std::optional<std::vector<std::string>>& fields) {
  Entry entry{mid, -1};
  if (fields) {
    for (size_t k = 0; k < field_lists.size(); ++k) {
      if (field_lists[k] == *fields) entry.fields = static_cast<int>(k);
    }
    if (entry.fields < 0) {
      entry.fields = static_cast<int>(field_lists.size());
      field_lists.push_back(*fields);
    }
  }
  entries.push_back(entry);
}

std::string FeedBlock::EncodeFields() const {
  json::array lists;
  for (const std::vector<std::string>& list : field_lists) {
    json::array names;
    for (const std::string& name : list) names.emplace_back(name);
    lists.emplace_back(std::move(names));
  }
  return json::serialize(lists);
}

std::string FeedBlock::EncodeEntries() const {
  std::string out;
  out.reserve(entries.size() * 10);
  char buffer[32];
  for (const Entry& entry : entries) {
    if (!out.empty()) out += ' ';
    out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, entry.mid).ptr);
    if (entry.fields >= 0) {
      out += '/';
      out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, entry.fields).ptr);
    }
  }
  return out;
}

Result<FeedBlock> FeedBlock::Decode(std::string_view fields, std::string_view entries) {
  CARREFOUR_ASSIGN_OR_RETURN(FeedBlock block, DecodeEntries(entries));
  boost::system::error_code ec;
  json::value lists = json::parse(fields, ec);
  if (ec || !lists.is_array()) return Error(Internal("a feed block's field lists are not JSON"));
  for (const json::value& list : lists.as_array()) {
    if (!list.is_array()) return Error(Internal("a feed block's field list is not an array"));
    std::vector<std::string>& names = block.field_lists.emplace_back();
    for (const json::value& name : list.as_array()) {
      if (!name.is_string()) return Error(Internal("a feed block's field name is not a string"));
      names.emplace_back(name.as_string());
    }
  }
  for (const Entry& entry : block.entries) {
    if (entry.fields >= 0 && static_cast<size_t>(entry.fields) >= block.field_lists.size()) {
      return Error(Internal("a feed block's entry names no field list"));
    }
  }
  return block;
}

Result<FeedBlock> FeedBlock::DecodeEntries(std::string_view entries) {
  FeedBlock block;
  const char* at = entries.data();
  const char* end = at + entries.size();
  while (at < end) {
    if (*at == ' ') {
      ++at;
      continue;
    }
    Entry entry;
    auto [next, error] = std::from_chars(at, end, entry.mid);
    if (error != std::errc()) return Error(Internal("a feed block's entry is not a number"));
    at = next;
    if (at < end && *at == '/') {
      auto [after, bad] = std::from_chars(at + 1, end, entry.fields);
      if (bad != std::errc() || entry.fields < 0) {
        return Error(Internal("a feed block's entry has a bad field list number"));
      }
      at = after;
    }
    block.entries.push_back(entry);
  }
  return block;
}

Result<std::string> CutPayload(std::string_view payload, const std::vector<std::string>* fields) {
  if (fields == nullptr) return std::string(payload);
  boost::system::error_code ec;
  json::value data = json::parse(payload, ec);
  if (ec || !data.is_object()) return Error(Internal("a stored payload is not a JSON object"));
  json::object out;
  for (const std::string& field : *fields) {
    if (const json::value* value = data.as_object().if_contains(field)) out[field] = *value;
  }
  return json::serialize(out);
}

}  // namespace carrefour::store::internal
