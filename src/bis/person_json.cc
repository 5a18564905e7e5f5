// SPDX-License-Identifier: EUPL-1.2
#include "bis/person_json.h"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

namespace carrefour::bis {
namespace json = boost::json;

json::object CandidateJson(const Candidate& candidate) {
  json::object out;
  out["niss"] = candidate.person.niss;
  out["score"] = candidate.match.score;
  json::array reasons;
  for (const std::string& reason : candidate.match.reasons) reasons.emplace_back(reason);
  out["reasons"] = std::move(reasons);
  if (candidate.person.replaced_by) out["replaced_by"] = *candidate.person.replaced_by;
  return out;
}

json::object PersonJson(const Person& person) {
  json::object out;
  out["niss"] = person.niss;
  for (auto& [key, value] : IdentityToJson(person.identity)) out[key] = value;
  out["created_by"] = person.created_by;
  out["created_us"] = person.created_us;
  out["updated_us"] = person.updated_us;
  out["forced"] = person.forced;
  out["replaced_by"] = person.replaced_by ? json::value(*person.replaced_by) : json::value(nullptr);
  return out;
}

}  // namespace carrefour::bis
