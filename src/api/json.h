// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The JSON shapes of docs/api.md shared by every endpoint and client: the error
// body, periods, and field readers whose errors name the field. Start here
// when reading or writing a request or an answer.
//
// Every reader returns a Status instead of throwing, so untrusted bodies
// never crash a handler.

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/date.h"
#include "core/result.h"

namespace carrefour::api {

// The error body of docs/api.md, written here and nowhere else:
// {"error": {"code": "<SpecCode>", "message": "..."}} (the message bounded,
// BoundedText). The (code, message) forms are for the one answer that is not
// a Status (429 rate-limited).
std::string ErrorBody(const Status& status);
boost::json::object ErrorObject(const Status& status);
std::string ErrorBody(std::string_view code, std::string_view message);
boost::json::object ErrorObject(std::string_view code, std::string_view message);
// (api::Reply, an endpoint's status and body, is in api/reply.h.)

// Parses a request body that must be one JSON object.
// invalid-json when it is not JSON (with the parser's reason and offset),
// invalid-request when it is JSON but not an object. With `storage`, the
// tree is allocated from it (a boost::json::monotonic_resource that lives as
// long as the tree: one allocation per block instead of one per node).
Result<boost::json::object> ParseObject(std::string_view body,
                                        boost::json::storage_ptr storage = {});

// invalid-request naming the first key of `object` not in `allowed`.
Status RejectUnknownKeys(const boost::json::object& object,
                         std::initializer_list<std::string_view> allowed);

// The list of a batch body, {"<key>": [...]} with no other key and at most
// `limit` elements; invalid-request otherwise ("'<key>' must be a list",
// "N <key> in one batch; the limit is L"). Points into `object`.
Result<const boost::json::array*> BatchList(const boost::json::object& object,
                                            std::string_view key, size_t limit);

// invalid-request when absent or not a string ("'niss' must be a string").
Result<std::string> RequiredString(const boost::json::object& object, std::string_view key);
// nullopt when absent or null.
Result<std::optional<std::string>> OptionalString(const boost::json::object& object,
                                                  std::string_view key);
// A list of strings; nullopt when absent or null.
Result<std::optional<std::vector<std::string>>> OptionalStringList(
    const boost::json::object& object, std::string_view key);

// "YYYY-MM-DD"; invalid-period naming the key when malformed.
Result<Date> RequiredDate(const boost::json::object& object, std::string_view key);
// A date or null (open); absent counts as null.
Result<std::optional<Date>> OptionalDate(const boost::json::object& object, std::string_view key);

// {"from": d, "to": d|null}: invalid-period when malformed or from > to.
Result<Period> ParsePeriod(const boost::json::value& value, std::string_view key = "period");
// nullopt when absent or null.
Result<std::optional<Period>> OptionalPeriod(const boost::json::object& object,
                                             std::string_view key);
boost::json::object PeriodJson(const Period& period);

// Compact serialization.
std::string Serialize(const boost::json::value& value);

}  // namespace carrefour::api
