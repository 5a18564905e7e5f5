// SPDX-License-Identifier: EUPL-1.2
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
  // A single consultation's body is small: parsed into a stack arena, from
  // which the request's strings are copied (api::ParseObject's checks and
  // messages).
  unsigned char arena[2048];
  json::monotonic_resource resource(arena, sizeof arena);
  json::parse_options options;
  options.max_depth = 64;
  boost::system::error_code ec;
  json::value value = json::parse(body, ec, &resource, options);
  if (ec) return InvalidJson(fmt::format("the body is not valid JSON: {}", ec.message()));
  if (!value.is_object()) return InvalidRequest("the body must be a JSON object");
  return ReadObject(value.as_object(), today, request);
}

Result<std::vector<BatchItem>> ReadBatch(std::string_view body, Date today) {
  CARREFOUR_ASSIGN_OR_RETURN(json::object object, api::ParseObject(body));
  CARREFOUR_ASSIGN_OR_RETURN(const json::array* list,
                             api::BatchList(object, "consultations", kMaxConsultationsPerBatch));
  const json::array& items = *list;
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

namespace {

// A JSON string, escaped as Boost.JSON's serializer does.
void AppendString(std::string* out, std::string_view text) {
  out->push_back('"');
  for (char c : text) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(*out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// "key": — after a comma unless first.
void AppendKey(std::string* out, std::string_view key, bool first = false) {
  if (!first) out->push_back(',');
  AppendString(out, key);
  out->push_back(':');
}

void AppendPeriod(std::string* out, const Period& period) {
  *out += "{\"from\":\"";
  *out += period.from.ToString();
  *out += "\",\"to\":";
  if (period.to) {
    out->push_back('"');
    *out += period.to->ToString();
    out->push_back('"');
  } else {
    *out += "null";
  }
  out->push_back('}');
}

void AppendError(std::string* out, const Status& status) {
  *out += "{\"code\":";
  AppendString(out, SpecCode(status.code()));
  *out += ",\"message\":";
  AppendString(out, status.message());
  out->push_back('}');
}

// ,"data_type":…,"niss":…,"period":{…}: what a consultation is about, in
// the order both the answer and the provide request give it.
void AppendSubject(std::string* out, const ConsultationAnswer& answer) {
  AppendKey(out, "data_type");
  AppendString(out, answer.data_type);
  AppendKey(out, "niss");
  AppendString(out, answer.niss);
  AppendKey(out, "period");
  AppendPeriod(out, answer.period);
}

}  // namespace

// Written straight into one string (the same bytes as building a
// boost::json::object and serializing it, without the object's nodes).
std::string WriteAnswer(const ConsultationAnswer& answer) {
  std::string out;
  out.reserve(384 + 160 * answer.results.size());
  out.push_back('{');
  AppendKey(&out, "request_id", true);
  AppendString(&out, answer.request_id);
  AppendKey(&out, "status");
  AppendString(&out, answer.status);
  AppendSubject(&out, answer);
  AppendKey(&out, "legal_basis");
  AppendString(&out, answer.legal_basis);
  AppendKey(&out, "results");
  out.push_back('[');
  bool first = true;
  for (const ProviderResult& result : answer.results) {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('{');
    AppendKey(&out, "provider", true);
    AppendString(&out, result.provider);
    AppendKey(&out, "status");
    AppendString(&out, result.Name());
    if (result.kind == ProviderResult::Kind::kOk) {
      AppendKey(&out, "data");
      out += json::serialize(result.data);
    } else if (result.kind == ProviderResult::Kind::kError) {
      AppendKey(&out, "error");
      AppendError(&out, result.error);
    }
    out.push_back('}');
  }
  out.push_back(']');
  if (answer.http_status == 503) {
    AppendKey(&out, "error");
    AppendError(&out, Unavailable("no provider could answer"));
  }
  out.push_back('}');
  return out;
}

std::string WriteProvideRequest(const ConsultationAnswer& answer, std::span<const std::string> fields,
                                std::string_view requester) {
  std::string out;
  out.reserve(320);
  out.push_back('{');
  AppendKey(&out, "request_id", true);
  AppendString(&out, answer.request_id);
  AppendSubject(&out, answer);
  AppendKey(&out, "fields");
  out.push_back('[');
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendString(&out, fields[i]);
  }
  out.push_back(']');
  AppendKey(&out, "requester");
  AppendString(&out, requester);
  AppendKey(&out, "legal_basis");
  AppendString(&out, answer.legal_basis);
  out.push_back('}');
  return out;
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
