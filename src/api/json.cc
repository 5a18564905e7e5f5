// SPDX-License-Identifier: EUPL-1.2
#include "api/json.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include "api/reply.h"
#include "core/bounded_text.h"

namespace carrefour::api {
namespace json = boost::json;

json::object ErrorObject(std::string_view code, std::string_view message) {
  json::object error;
  error["code"] = code;
  // Messages quote what the caller sent: bounded, so that an answer never
  // echoes megabytes back.
  error["message"] = BoundedText(message);
  json::object body;
  body["error"] = std::move(error);
  return body;
}

json::object ErrorObject(const Status& status) {
  return ErrorObject(SpecCode(status.code()), status.message());
}

std::string ErrorBody(std::string_view code, std::string_view message) {
  return json::serialize(ErrorObject(code, message));
}

std::string ErrorBody(const Status& status) { return json::serialize(ErrorObject(status)); }

Reply ErrorReply(const Status& status) { return Reply{HttpStatus(status.code()), ErrorBody(status)}; }

Result<json::object> ParseObject(std::string_view body, json::storage_ptr storage) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 64;
  json::value value = json::parse(body, ec, std::move(storage), options);
  if (ec) return Error(InvalidJson(fmt::format("the body is not valid JSON: {}", ec.message())));
  if (!value.is_object()) return Error(InvalidRequest("the body must be a JSON object"));
  return std::move(value.as_object());
}

Status RejectUnknownKeys(const json::object& object,
                         std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object) {
    bool known = false;
    for (std::string_view name : allowed) known = known || name == key;
    if (!known) {
      std::string list;
      for (std::string_view name : allowed) {
        if (!list.empty()) list += ", ";
        list += name;
      }
      return InvalidRequest(fmt::format("unknown field '{}' (expected: {})",
                                        std::string_view(key), list));
    }
  }
  return OkStatus();
}

Result<const json::array*> BatchList(const json::object& object, std::string_view key,
                                     size_t limit) {
  CARREFOUR_RETURN_IF_ERROR(RejectUnknownKeys(object, {key}));
  const json::value* list = object.if_contains(key);
  if (list == nullptr || !list->is_array()) {
    return Error(InvalidRequest(fmt::format("'{}' must be a list", key)));
  }
  const json::array& items = list->as_array();
  if (items.size() > limit) {
    return Error(InvalidRequest(
        fmt::format("{} {} in one batch; the limit is {}", items.size(), key, limit)));
  }
  return &items;
}

Result<std::string> RequiredString(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) {
    return Error(InvalidRequest(fmt::format("'{}' is required", key)));
  }
  if (!value->is_string()) return Error(InvalidRequest(fmt::format("'{}' must be a string", key)));
  return std::string(value->as_string());
}

Result<std::optional<std::string>> OptionalString(const json::object& object,
                                                  std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return std::optional<std::string>();
  if (!value->is_string()) return Error(InvalidRequest(fmt::format("'{}' must be a string", key)));
  return std::optional<std::string>(std::string(value->as_string()));
}

Result<std::optional<std::vector<std::string>>> OptionalStringList(const json::object& object,
                                                                   std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return std::optional<std::vector<std::string>>();
  if (!value->is_array()) {
    return Error(InvalidRequest(fmt::format("'{}' must be a list of strings", key)));
  }
  std::vector<std::string> out;
  out.reserve(value->as_array().size());
  for (const json::value& item : value->as_array()) {
    if (!item.is_string()) {
      return Error(InvalidRequest(fmt::format("'{}' must be a list of strings", key)));
    }
    out.emplace_back(item.as_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<Date> RequiredDate(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) {
    return Error(InvalidPeriod(fmt::format("'{}' is required (YYYY-MM-DD)", key)));
  }
  if (!value->is_string()) {
    return Error(InvalidPeriod(fmt::format("'{}' must be a date string (YYYY-MM-DD)", key)));
  }
  Result<Date> date = Date::Parse(value->as_string());
  if (!date) return Error(InvalidPeriod(fmt::format("'{}': {}", key, date.error().message())));
  return *date;
}

Result<std::optional<Date>> OptionalDate(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return std::optional<Date>();
  CARREFOUR_ASSIGN_OR_RETURN(Date date, RequiredDate(object, key));
  return std::optional<Date>(date);
}

Result<Period> ParsePeriod(const json::value& value, std::string_view key) {
  if (!value.is_object()) {
    return Error(InvalidPeriod(fmt::format("'{}' must be an object {{\"from\": d, \"to\": d|null}}", key)));
  }
  const json::object& object = value.as_object();
  for (const auto& [name, item] : object) {
    if (name != "from" && name != "to") {
      return Error(InvalidPeriod(fmt::format("'{}' has an unknown field '{}' (expected: from, to)",
                                             key, std::string_view(name))));
    }
  }
  CARREFOUR_ASSIGN_OR_RETURN(Date from, RequiredDate(object, "from"));
  CARREFOUR_ASSIGN_OR_RETURN(std::optional<Date> to, OptionalDate(object, "to"));
  return Period::Make(from, to);
}

Result<std::optional<Period>> OptionalPeriod(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return std::optional<Period>();
  CARREFOUR_ASSIGN_OR_RETURN(Period period, ParsePeriod(*value, key));
  return std::optional<Period>(period);
}

json::object PeriodJson(const Period& period) {
  json::object out;
  out["from"] = period.from.ToString();
  if (period.to) {
    out["to"] = period.to->ToString();
  } else {
    out["to"] = nullptr;
  }
  return out;
}

std::string Serialize(const json::value& value) { return json::serialize(value); }

}  // namespace carrefour::api
