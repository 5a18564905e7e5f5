#include "exchange/wire.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "api/json.h"
#include "niss/niss.h"

namespace carrefour::exchange {
namespace json = boost::json;
namespace {

Status ReadObject(const json::object& object, Date today, directory::ConsultationRequest* request) {
  CARREFOUR_RETURN_IF_ERROR(
      api::RejectUnknownKeys(object, {"data_type", "niss", "period", "capacity", "fields"}));
  CARREFOUR_ASSIGN_OR_RETURN(request->data_type, api::RequiredString(object, "data_type"));
  CARREFOUR_ASSIGN_OR_RETURN(std::string niss, api::RequiredString(object, "niss"));
  Result<std::string> normalized = niss::Normalize(niss, today);
  if (!normalized) return normalized.error().WithContext("'niss'");
  request->niss = std::move(*normalized);
  CARREFOUR_ASSIGN_OR_RETURN(request->period, api::OptionalPeriod(object, "period"));
  CARREFOUR_ASSIGN_OR_RETURN(request->capacity, api::OptionalString(object, "capacity"));
  CARREFOUR_ASSIGN_OR_RETURN(request->fields, api::OptionalStringList(object, "fields"));
  return OkStatus();
}

// `{"index":i,"http_status":s,` then the rest of `body` (an object).
void AppendItem(std::string* out, size_t index, int status, std::string_view body) {
  fmt::format_to(std::back_inserter(*out), R"({{"index":{},"http_status":{})", index, status);
  if (body.size() > 2) {  // "{}" has nothing to add
    out->push_back(',');
    out->append(body.substr(1));
  } else {
    out->push_back('}');
  }
}

}  // namespace

Status ReadConsultationRequest(std::string_view body, Date today,
                               directory::ConsultationRequest* request) {
  CARREFOUR_ASSIGN_OR_RETURN(json::object object, api::ParseObject(body));
  return ReadObject(object, today, request);
}

Result<std::vector<BatchItem>> ReadBatch(std::string_view body, Date today) {
  CARREFOUR_ASSIGN_OR_RETURN(json::object object, api::ParseObject(body));
  CARREFOUR_RETURN_IF_ERROR(api::RejectUnknownKeys(object, {"consultations"}));
  const json::value* list = object.if_contains("consultations");
  if (list == nullptr || !list->is_array()) {
    return Error(InvalidRequest("'consultations' must be a list"));
  }
  const json::array& items = list->as_array();
  if (items.size() > kMaxConsultationsPerBatch) {
    return Error(InvalidRequest(fmt::format("{} consultations in one batch; the limit is {}",
                                            items.size(), kMaxConsultationsPerBatch)));
  }
  std::vector<BatchItem> out(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_object()) {
      // What the same body would have got alone (api::ParseObject).
      out[i].read = InvalidRequest("the body must be a JSON object");
      continue;
    }
    out[i].read = ReadObject(items[i].as_object(), today, &out[i].request);
  }
  return out;
}

std::string WriteAnswer(const ConsultationAnswer& answer) {
  json::object out;
  out["request_id"] = answer.request_id;
  out["status"] = answer.status;
  out["data_type"] = answer.data_type;
  out["niss"] = answer.niss;
  out["period"] = api::PeriodJson(answer.period);
  out["legal_basis"] = answer.legal_basis;
  json::array results;
  results.reserve(answer.results.size());
  for (const ProviderResult& result : answer.results) {
    json::object item;
    item["provider"] = result.provider;
    item["status"] = result.Name();
    if (result.kind == ProviderResult::Kind::kOk) item["data"] = result.data;
    if (result.kind == ProviderResult::Kind::kError) {
      item["error"] = api::ErrorObject(result.error).at("error");
    }
    results.push_back(std::move(item));
  }
  out["results"] = std::move(results);
  if (answer.http_status == 503) {
    out["error"] = api::ErrorObject(Unavailable("no provider could answer")).at("error");
  }
  return json::serialize(out);
}

int HttpStatusOf(const Result<ConsultationAnswer>& outcome) {
  return outcome ? outcome->http_status : HttpStatus(outcome.error().code());
}

std::string BodyOf(Result<ConsultationAnswer>&& outcome) {
  return outcome ? std::move(outcome->body) : api::ErrorBody(outcome.error());
}

std::string WriteBatchAnswer(const std::vector<Result<ConsultationAnswer>>& outcomes) {
  std::string out = R"({"results":[)";
  size_t bytes = 0;
  for (const Result<ConsultationAnswer>& outcome : outcomes) bytes += outcome ? outcome->body.size() + 32 : 128;
  out.reserve(out.size() + bytes + 2);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (i > 0) out.push_back(',');
    const Result<ConsultationAnswer>& outcome = outcomes[i];
    if (outcome) {
      AppendItem(&out, i, outcome->http_status, outcome->body);
    } else {
      AppendItem(&out, i, HttpStatus(outcome.error().code()), api::ErrorBody(outcome.error()));
    }
  }
  out += "]}";
  return out;
}

}  // namespace carrefour::exchange
