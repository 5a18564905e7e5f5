// SPDX-License-Identifier: EUPL-1.2
#include "hub/console_api.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <set>
#include <string>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "api/json.h"
#include "console/console.h"
#include "core/timestamp.h"
#include "niss/niss.h"
#include "store/store.h"

namespace carrefour::hub {
namespace json = boost::json;
namespace {

constexpr int kDefaultSeconds = 300;
// A person's lists are bounded: the console shows the latest, and says so.
constexpr size_t kPersonListLimit = 200;

// "ok", "refused" (the hub said no: a 4xx code) or "failed" (5xx: a provider
// or the hub itself could not serve).
std::string_view OutcomeClass(StatusCode code) {
  if (code == StatusCode::kOk) return "ok";
  return HttpStatus(code) >= 500 ? "failed" : "refused";
}

json::value Milliseconds(std::optional<double> ms) {
  if (!ms) return nullptr;
  return std::round(*ms * 1000.0) / 1000.0;
}

json::object KeyJson(const LiveStats::Key& key) {
  return json::object{{"kind", audit::KindName(key.kind)},
                      {"data_type", key.data_type},
                      {"outcome", SpecCode(key.outcome)},
                      {"class", OutcomeClass(key.outcome)}};
}

json::array InstitutionsJson(const network::Definition& definition) {
  json::array out;
  for (const network::Institution& institution : definition.institutions()) {
    out.push_back(json::object{
        {"id", institution.id}, {"name", institution.name}, {"type", institution.type}});
  }
  return out;
}

json::value DateOrNull(const std::optional<Date>& date) {
  if (!date) return nullptr;
  return json::value(date->ToString());
}

net::Response Ok(const json::object& body) { return net::Response::Json(200, json::serialize(body)); }

Result<std::string> NissParam(const net::Request& request, Date today) {
  std::optional<std::string_view> niss = request.QueryParam("niss");
  if (!niss) return Error(InvalidRequest("the query parameter 'niss' is required"));
  return niss::Normalize(*niss, today);
}

}  // namespace

std::optional<audit::Kind> KindFromName(std::string_view name) {
  for (audit::Kind kind : {audit::Kind::kIntegration, audit::Kind::kConsultation, audit::Kind::kMutation,
                           audit::Kind::kFeedRead, audit::Kind::kBis, audit::Kind::kResearch,
                           audit::Kind::kAdmin, audit::Kind::kTransparency}) {
    if (name == audit::KindName(kind)) return kind;
  }
  return std::nullopt;
}

std::optional<net::Response> ConsoleApi::Static(const net::Request& request) const {
  if (request.method != "GET") return std::nullopt;
  std::string_view path = request.path;
  constexpr std::string_view kPrefix = "/console";
  if (path.starts_with(kPrefix) && path.size() > kPrefix.size() && path[kPrefix.size()] == '/') {
    path.remove_prefix(kPrefix.size());
  } else if (path != "/") {
    return std::nullopt;
  }
  const console::Asset* asset = console::Lookup(path);
  if (asset == nullptr) {
    return net::ErrorResponse(NotFound(fmt::format("the console has no file {}", request.path)));
  }
  net::Response response;
  // Revalidated at each load (cheap: an ETag), so a new binary's console is
  // never mixed with cached files of the previous one.
  response.headers = {{"Cache-Control", "no-cache"},
                      {"ETag", std::string(asset->etag)},
                      {"X-Content-Type-Options", "nosniff"}};
  if (asset->content_type.starts_with("text/html")) {
    // Scripts and everything else only from the hub itself: the console works
    // offline, and an injected script tag would not run.
    response.headers.emplace_back(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'");
    response.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  if (std::optional<std::string_view> tag = request.Header("if-none-match"); tag && *tag == asset->etag) {
    response.status = 304;
    response.content_type = std::string(asset->content_type);
    return response;
  }
  response.status = 200;
  response.content_type = std::string(asset->content_type);
  response.body = std::string(asset->body);
  return response;
}

std::optional<net::Response> ConsoleApi::Handle(const net::Request& request) const {
  const std::string& path = request.path;
  const bool ours = path == "/v1/admin/stats" || path == "/v1/admin/flows" ||
                    path == "/v1/admin/authorizations" || path == "/v1/admin/queues" ||
                    path == "/v1/admin/person";
  if (!ours) return std::nullopt;
  if (request.method != "GET") return net::ErrorResponse(InvalidRequest("use GET"));
  if (path == "/v1/admin/stats") return Stats(request);
  if (path == "/v1/admin/flows") return Flows();
  if (path == "/v1/admin/authorizations") return Authorizations();
  if (path == "/v1/admin/queues") return Queues();
  return Person(request);
}

net::Response ConsoleApi::Stats(const net::Request& request) const {
  int seconds = kDefaultSeconds;
  if (std::optional<std::string_view> text = request.QueryParam("seconds")) {
    int value = 0;
    bool digits = !text->empty() && text->size() <= 6 &&
                  std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) value = std::stoi(std::string(*text));
    if (!digits || value < 1 || value > stats_.window_seconds()) {
      return net::ErrorResponse(InvalidRequest(
          fmt::format("'seconds' must be a number from 1 to {}", stats_.window_seconds())));
    }
    seconds = value;
  }
  LiveStats::Window window = stats_.Snapshot(seconds);
  json::object out;
  out["now"] = FormatRfc3339(NowMicros(clock_));
  out["started"] = FormatRfc3339(stats_.started_us());
  out["window_seconds"] = stats_.window_seconds();
  out["end"] = window.end_second;
  out["seconds"] = window.seconds;
  json::array series;
  for (const LiveStats::Series& item : window.series) {
    json::object entry = KeyJson(item.key);
    entry["total"] = item.total;
    json::array points;
    for (uint32_t count : item.per_second) points.emplace_back(count);
    entry["per_second"] = std::move(points);
    series.push_back(std::move(entry));
  }
  out["series"] = std::move(series);
  json::array totals;
  for (const auto& [key, count] : window.totals) {
    json::object entry = KeyJson(key);
    entry["count"] = count;
    totals.push_back(std::move(entry));
  }
  out["totals"] = std::move(totals);
  json::array latency;
  for (const LiveStats::Latency& item : window.latency) {
    json::array p50, p99;
    for (const auto& ms : item.p50_ms) p50.push_back(Milliseconds(ms));
    for (const auto& ms : item.p99_ms) p99.push_back(Milliseconds(ms));
    latency.push_back(json::object{
        {"kind", audit::KindName(item.kind)},
        {"p50_ms", std::move(p50)},
        {"p99_ms", std::move(p99)},
        {"window", json::object{{"p50_ms", Milliseconds(item.window_p50_ms)},
                                {"p99_ms", Milliseconds(item.window_p99_ms)},
                                {"samples", item.window_samples}}}});
  }
  out["latency"] = std::move(latency);
  return Ok(out);
}

net::Response ConsoleApi::Flows() const {
  std::shared_ptr<const network::Definition> definition = engine_()->definition();
  json::object out;
  out["since"] = FormatRfc3339(stats_.started_us());
  out["hub"] = kHubNode;
  out["institutions"] = InstitutionsJson(*definition);
  json::array flows;
  for (const LiveStats::Flow& flow : stats_.Flows()) {
    flows.push_back(json::object{{"kind", audit::KindName(flow.kind)},
                                 {"from", flow.from},
                                 {"to", flow.to},
                                 {"messages", flow.messages},
                                 {"refused", flow.refused},
                                 {"failed", flow.failed},
                                 {"last", FormatRfc3339(flow.last_us)}});
  }
  out["flows"] = std::move(flows);
  return Ok(out);
}

net::Response ConsoleApi::Authorizations() const {
  std::shared_ptr<const network::Definition> definition = engine_()->definition();
  const Date today = clock_.Today();
  json::object out;
  out["today"] = today.ToString();
  out["institutions"] = InstitutionsJson(*definition);
  json::array data_types;
  for (const network::DataType& type : definition->data_types()) {
    json::array fields;
    for (const std::string& field : type.fields) fields.emplace_back(field);
    data_types.push_back(json::object{{"id", type.id}, {"fields", std::move(fields)}});
  }
  out["data_types"] = std::move(data_types);
  json::array rows;
  for (const network::Authorization& row : definition->authorizations()) {
    json::object item;
    item["data_type"] = row.data_type;
    if (row.requester.empty()) {
      item["requester_type"] = row.requester_type;
    } else {
      item["requester"] = row.requester;
    }
    json::array institutions;
    for (const network::Institution& institution : definition->institutions()) {
      if (row.Names(institution)) institutions.emplace_back(institution.id);
    }
    item["institutions"] = std::move(institutions);
    item["capacity"] = row.capacity;
    json::array fields;
    for (const std::string& field : row.fields) fields.emplace_back(field);
    item["fields"] = std::move(fields);
    item["legal_basis"] = row.legal_basis;
    item["from"] = row.validity.from.ToString();
    item["to"] = DateOrNull(row.validity.to);
    item["status"] = row.validity.Contains(today)     ? "active"
                     : today < row.validity.from ? "future"
                                                 : "expired";
    rows.push_back(std::move(item));
  }
  out["authorizations"] = std::move(rows);
  return Ok(out);
}

net::Response ConsoleApi::Queues() const {
  std::shared_ptr<const network::Definition> definition = engine_()->definition();
  Result<std::vector<store::FeedBacklog>> backlog = store_.mutations().Backlog();
  if (!backlog) return net::ErrorResponse(Unavailable(backlog.error().message()));
  const int64_t now = NowMicros(clock_);

  // Every institution a subscription names, with or without a backlog, then
  // any other that still has one (a subscription removed by a reload).
  struct Row {
    std::string name;
    std::set<std::string> data_types;
    int64_t pending = 0;
    int64_t oldest_us = 0;
    uint64_t reads = 0;
    int64_t last_read_us = 0;
  };
  std::map<std::string, Row> rows;
  for (const network::Institution& institution : definition->institutions()) {
    for (const network::Subscription& subscription : definition->subscriptions()) {
      if (!subscription.Names(institution)) continue;
      Row& row = rows[institution.id];
      row.name = institution.name;
      row.data_types.insert(subscription.data_type);
    }
  }
  for (const store::FeedBacklog& feed : *backlog) {
    Row& row = rows[feed.subscriber];
    row.pending = feed.pending;
    row.oldest_us = feed.oldest_accepted_us;
    if (row.name.empty()) {
      if (const network::Institution* institution = definition->FindInstitution(feed.subscriber)) {
        row.name = institution->name;
      }
    }
  }
  for (const LiveStats::Flow& flow : stats_.Flows()) {
    if (flow.kind != audit::Kind::kFeedRead) continue;
    auto found = rows.find(flow.to);
    if (found == rows.end()) continue;
    found->second.reads += flow.messages;
    found->second.last_read_us = std::max(found->second.last_read_us, flow.last_us);
  }

  json::array subscribers;
  int64_t total = 0;
  for (const auto& [id, row] : rows) {
    total += row.pending;
    json::array types;
    for (const std::string& type : row.data_types) types.emplace_back(type);
    json::object item{{"subscriber", id}, {"name", row.name}, {"data_types", std::move(types)},
                      {"pending", row.pending}};
    if (row.pending > 0 && row.oldest_us > 0) {
      item["oldest_unacknowledged"] = FormatRfc3339(row.oldest_us);
      item["oldest_age_seconds"] =
          std::round(static_cast<double>(std::max<int64_t>(0, now - row.oldest_us)) / 1e3) / 1e3;
    } else {
      item["oldest_unacknowledged"] = nullptr;
      item["oldest_age_seconds"] = nullptr;
    }
    item["feed_reads"] = row.reads;
    item["last_read"] = row.last_read_us > 0 ? json::value(FormatRfc3339(row.last_read_us)) : json::value(nullptr);
    subscribers.push_back(std::move(item));
  }
  json::object out;
  out["now"] = FormatRfc3339(now);
  out["since"] = FormatRfc3339(stats_.started_us());
  out["pending"] = total;
  out["subscribers"] = std::move(subscribers);
  return Ok(out);
}

net::Response ConsoleApi::Person(const net::Request& request) const {
  const Date today = clock_.Today();
  Result<std::string> niss = NissParam(request, today);
  if (!niss) return net::ErrorResponse(niss.error());
  std::shared_ptr<const network::Definition> definition = engine_()->definition();

  Result<std::vector<directory::Entry>> entries = store_.directory().EntriesOfPerson(*niss);
  if (!entries) return net::ErrorResponse(Unavailable(entries.error().message()));
  Result<std::optional<store::NissReplacement>> replacement = store_.mutations().ReplacementOf(*niss);
  if (!replacement) return net::ErrorResponse(Unavailable(replacement.error().message()));
  Result<std::vector<store::PendingDelivery>> pending =
      store_.mutations().PendingDeliveriesOf(*niss, kPersonListLimit);
  if (!pending) return net::ErrorResponse(Unavailable(pending.error().message()));
  audit::Query query;
  query.niss = *niss;
  query.kind = audit::Kind::kMutation;
  query.limit = kPersonListLimit;
  Result<std::vector<audit::Record>> mutations = store_.audit().QueryAudit(query);
  if (!mutations) return net::ErrorResponse(Unavailable(mutations.error().message()));

  auto name_of = [&](std::string_view id) -> std::string {
    const network::Institution* institution = definition->FindInstitution(id);
    return institution ? institution->name : std::string();
  };
  json::object out;
  out["niss"] = *niss;
  if (replacement->has_value()) {
    out["replaced_by"] = json::object{{"niss", (*replacement)->new_niss},
                                      {"effective", (*replacement)->effective.ToString()}};
  } else {
    out["replaced_by"] = nullptr;
  }
  json::array entry_list;
  for (const directory::Entry& entry : *entries) {
    entry_list.push_back(json::object{{"institution", entry.institution},
                                      {"name", name_of(entry.institution)},
                                      {"capacity", entry.capacity},
                                      {"from", entry.period.from.ToString()},
                                      {"to", DateOrNull(entry.period.to)},
                                      {"active", entry.period.Contains(today)}});
  }
  out["entries"] = std::move(entry_list);

  json::array mutation_list;
  for (const audit::Record& record : *mutations) {
    json::object item;
    item["time"] = FormatRfc3339(record.time_us);
    item["request_id"] = record.request_id;
    item["source"] = record.requester;
    item["data_type"] = record.data_type;
    item["outcome"] = SpecCode(record.outcome);
    item["reason"] = record.reason;
    // The mutations module writes "id=<id> subscribers=<n>" and, for an
    // accepted one, "subscriber:legal basis,..." (audit records hold no data).
    std::string_view detail = record.detail;
    std::string id;
    if (detail.starts_with("id=")) id = std::string(detail.substr(3, detail.find(' ') - 3));
    item["id"] = id;
    json::array subscribers;
    for (std::string_view rest = record.providers; !rest.empty();) {
      size_t comma = rest.find(',');
      std::string_view party = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      size_t colon = party.find(':');
      json::object subscriber{{"institution", party.substr(0, colon)}};
      subscriber["legal_basis"] = colon == std::string_view::npos ? "" : party.substr(colon + 1);
      if (!party.empty()) subscribers.push_back(std::move(subscriber));
    }
    item["subscribers"] = std::move(subscribers);
    mutation_list.push_back(std::move(item));
  }
  out["mutations"] = std::move(mutation_list);

  const int64_t now = NowMicros(clock_);
  json::array pending_list;
  for (const store::PendingDelivery& delivery : *pending) {
    pending_list.push_back(json::object{
        {"subscriber", delivery.subscriber},
        {"cursor", std::to_string(delivery.cursor)},
        {"id", delivery.id},
        {"source", delivery.source},
        {"data_type", delivery.data_type},
        {"effective", delivery.effective.ToString()},
        {"accepted", FormatRfc3339(delivery.accepted_us)},
        {"age_seconds",
         std::round(static_cast<double>(std::max<int64_t>(0, now - delivery.accepted_us)) / 1e3) / 1e3}});
  }
  out["pending"] = std::move(pending_list);
  out["limit"] = kPersonListLimit;
  return Ok(out);
}

}  // namespace carrefour::hub
