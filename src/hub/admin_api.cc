// SPDX-License-Identifier: EUPL-1.2
#include "hub/admin_api.h"

#include <algorithm>
#include <charconv>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "api/json.h"
#include "audit/answer.h"
#include "audit/merkle.h"
#include "core/timestamp.h"
#include "hub/console_api.h"
#include "logging/logging.h"
#include "niss/niss.h"
#include "store/store.h"

namespace carrefour::hub {
namespace json = boost::json;
namespace {

json::object RecordJson(const audit::Record& record) {
  json::object out;
  out["node"] = record.node;
  out["seq"] = record.seq;
  out["time"] = FormatRfc3339(record.time_us);
  out["kind"] = audit::KindName(record.kind);
  out["request_id"] = record.request_id;
  out["requester"] = record.requester;
  out["niss"] = record.niss;
  out["data_type"] = record.data_type;
  out["capacity"] = record.capacity;
  out["legal_basis"] = record.legal_basis;
  out["outcome"] = SpecCode(record.outcome);
  out["reason"] = record.reason;
  out["providers"] = record.providers;
  out["latency_us"] = record.latency_us;
  out["answer_sha256"] = record.answer_sha256;
  out["detail"] = record.detail;
  out["hash"] = record.hash;
  out["index"] = record.seq - 1;
  out["leaf_hash"] = audit::ToHex(audit::LeafHash(record));
  return out;
}

// A query parameter that must be a whole number.
Result<uint64_t> CountParam(const net::Request& request, std::string_view name) {
  std::optional<std::string_view> text = request.QueryParam(name);
  if (!text || text->empty()) {
    return Error(InvalidRequest(fmt::format("the query parameter '{}' is required", name)));
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) {
    return Error(InvalidRequest(fmt::format("'{}' must be a whole number", name)));
  }
  return value;
}

json::array HexList(const std::vector<audit::Hash>& hashes) {
  json::array out;
  for (const audit::Hash& hash : hashes) out.push_back(json::string(audit::ToHex(hash)));
  return out;
}

}  // namespace

std::optional<net::Response> AdminApi::Handle(const net::Request& request) {
  const std::string& path = request.path;
  if (path == "/v1/admin/network") return Network();
  if (path == "/v1/admin/audit") return AuditPersonRead(request, Audit(request));
  if (path == "/v1/admin/audit/verify") return Verify();
  if (path == "/v1/admin/audit/checkpoint" || path == "/v1/admin/audit/key" ||
      path == "/v1/admin/audit/proof" || path == "/v1/admin/audit/consistency") {
    return AuditTree(request);
  }
  return std::nullopt;
}

// An administrator's read that names a person (?niss=) is audited, as BIS
// look-ups are: who looked at whom is what oversight of the hub's own staff
// needs. The record is durable before the answer leaves; a refused read
// (which showed nothing) is not traced.
net::Response AdminApi::AuditPersonRead(const net::Request& request, net::Response response) {
  if (response.status != 200) return response;
  std::optional<std::string_view> niss = request.QueryParam("niss");
  if (!niss || niss->empty()) return response;
  Result<std::string> normalized = niss::Normalize(*niss, clock_.Today());
  if (!normalized) return response;
  audit::Record record;
  record.kind = audit::Kind::kAdmin;
  record.request_id = audit::NewRequestId();
  record.requester = "admin";
  record.niss = *normalized;
  record.reason = fmt::format("admin read of {}", request.path);
  return audit::AuditThenAnswerAndWait(audit_, std::move(record), std::move(response), [] {
    return net::ErrorResponse(Unavailable("the audit log could not be written; try again"));
  });
}

net::Response AdminApi::Network() const {
  std::shared_ptr<const network::Definition> definition = engine_()->definition();
  json::object out;
  out["source"] = definition->source();
  json::array types;
  for (const auto& type : definition->institution_types()) {
    json::array capacities;
    for (const auto& capacity : type.capacities) capacities.emplace_back(capacity);
    types.push_back(json::object{{"id", type.id}, {"capacities", std::move(capacities)}});
  }
  out["institution_types"] = std::move(types);
  json::array institutions;
  for (const auto& institution : definition->institutions()) {
    institutions.push_back(json::object{{"id", institution.id}, {"type", institution.type},
                                        {"name", institution.name}, {"endpoint", institution.endpoint}});
  }
  out["institutions"] = std::move(institutions);
  json::array data_types;
  for (const auto& data_type : definition->data_types()) {
    json::array fields;
    for (const auto& field : data_type.fields) fields.emplace_back(field);
    data_types.push_back(json::object{{"id", data_type.id}, {"fields", std::move(fields)}});
  }
  out["data_types"] = std::move(data_types);
  json::array availability;
  for (const auto& row : definition->availability()) {
    json::object item{{"data_type", row.data_type}, {"provider_type", row.provider_type}};
    item["capacity"] = row.capacity ? json::value(*row.capacity) : json::value(nullptr);
    availability.push_back(std::move(item));
  }
  out["availability"] = std::move(availability);
  json::array authorizations;
  for (const auto& row : definition->authorizations()) {
    json::array fields;
    for (const auto& field : row.fields) fields.emplace_back(field);
    json::object item{{"data_type", row.data_type}, {"capacity", row.capacity},
                      {"fields", std::move(fields)}, {"legal_basis", row.legal_basis},
                      {"period", api::PeriodJson(row.validity)}};
    if (row.requester.empty()) {
      item["requester_type"] = row.requester_type;
    } else {
      item["requester"] = row.requester;
    }
    authorizations.push_back(std::move(item));
  }
  out["authorizations"] = std::move(authorizations);
  json::array subscriptions;
  for (const auto& row : definition->subscriptions()) {
    json::object item{{"data_type", row.data_type}, {"capacity", row.capacity}};
    if (row.institution.empty()) {
      item["institution_type"] = row.institution_type;
    } else {
      item["institution"] = row.institution;
    }
    subscriptions.push_back(std::move(item));
  }
  out["subscriptions"] = std::move(subscriptions);
  return net::Response::Json(200, json::serialize(out));
}


net::Response AdminApi::Audit(const net::Request& request) const {
  audit::Query query;
  if (auto niss = request.QueryParam("niss"); niss && !niss->empty()) {
    Result<std::string> normalized = niss::Normalize(*niss, clock_.Today());
    if (!normalized) return net::ErrorResponse(normalized.error());
    query.niss = *normalized;
  }
  if (auto requester = request.QueryParam("requester")) query.requester = std::string(*requester);
  if (auto kind = request.QueryParam("kind"); kind && !kind->empty()) {
    query.kind = KindFromName(*kind);
    if (!query.kind) {
      return net::ErrorResponse(InvalidRequest(fmt::format("no audit record kind '{}'", *kind)));
    }
  }
  if (auto limit = request.QueryParam("limit")) {
    try {
      query.limit = std::min<size_t>(std::stoul(std::string(*limit)), 10000);
    } catch (const std::exception&) {
      return net::ErrorResponse(InvalidRequest("'limit' must be a number"));
    }
  }
  Result<std::vector<audit::Record>> records = store_.audit().QueryAudit(query);
  if (!records) return net::ErrorResponse(logging::StoreFailed("query the audit log", records.error()));
  json::array list;
  for (const audit::Record& record : *records) list.push_back(RecordJson(record));
  json::object answer;
  answer["records"] = std::move(list);
  return net::Response::Json(200, json::serialize(answer));
}

// docs/api.md 6.1: a node's checkpoint, key, and proofs over its tree (this
// node's unless ?node= names another).
net::Response AdminApi::AuditTree(const net::Request& request) const {
  const std::string& path = request.path;
  std::string node = node_id_;
  if (auto named = request.QueryParam("node"); named && !named->empty()) node = std::string(*named);
  if (Status valid = audit::CheckNodeId(node); !valid.ok()) return net::ErrorResponse(valid);
  if (path == "/v1/admin/audit/checkpoint") {
    if (node == node_id_) {
      // Covering every record written before the call (docs/api.md 6.1).
      if (Status integrated = audit_.Integrate(); !integrated.ok()) return net::ErrorResponse(integrated);
      return net::Response::Text(200, audit_.checkpoint().note);
    }
    Result<std::vector<audit::Checkpoint>> latest = store_.audit().AuditCheckpoints();
    if (!latest) return net::ErrorResponse(Unavailable(latest.error().message()));
    for (const audit::Checkpoint& checkpoint : *latest) {
      if (checkpoint.node == node) return net::Response::Text(200, checkpoint.note);
    }
    return net::ErrorResponse(NotFound(fmt::format("no checkpoint of node {}", node)));
  }
  if (path == "/v1/admin/audit/key") {
    if (node == node_id_) return net::Response::Text(200, audit_.verifier_key() + "\n");
    Result<std::vector<audit::NodeKey>> keys = store_.audit().AuditKeys();
    if (!keys) return net::ErrorResponse(Unavailable(keys.error().message()));
    for (const audit::NodeKey& key : *keys) {
      if (key.node == node) return net::Response::Text(200, key.verifier_key + "\n");
    }
    return net::ErrorResponse(NotFound(fmt::format("no published key of node {}", node)));
  }
  if (path == "/v1/admin/audit/proof") {
    Result<uint64_t> index = CountParam(request, "index");
    if (!index) return net::ErrorResponse(index.error());
    Result<uint64_t> size = CountParam(request, "size");
    if (!size) return net::ErrorResponse(size.error());
    Result<audit::AuditTrees::Inclusion> proof = trees_.InclusionProof(node, *index, *size);
    if (!proof) return net::ErrorResponse(proof.error());
    json::object answer;
    answer["index"] = proof->index;
    answer["tree_size"] = proof->size;
    answer["leaf_hash"] = audit::ToHex(proof->leaf);
    answer["proof"] = HexList(proof->proof);
    return net::Response::Json(200, json::serialize(answer));
  }
  Result<uint64_t> from = CountParam(request, "from");
  if (!from) return net::ErrorResponse(from.error());
  Result<uint64_t> to = CountParam(request, "to");
  if (!to) return net::ErrorResponse(to.error());
  Result<std::vector<audit::Hash>> proof = trees_.ConsistencyProof(node, *from, *to);
  if (!proof) return net::ErrorResponse(proof.error());
  json::object answer;
  answer["from"] = *from;
  answer["to"] = *to;
  answer["proof"] = HexList(*proof);
  return net::Response::Json(200, json::serialize(answer));
}

net::Response AdminApi::Verify() const {
  audit::VerifyOptions verify_options;
  verify_options.expected_nodes = {node_id_};
  verify_options.remembered = audit::KeptCheckpoints(data_dir_);
  verify_options.remembered.push_back(audit_.checkpoint().note);
  Result<audit::VerifyReport> report = audit::Verify(store_.audit(), verify_options);
  if (!report) return net::ErrorResponse(logging::StoreFailed("verify the audit log", report.error()));
  json::object answer;
  answer["ok"] = report->ok;
  answer["records"] = report->records;
  std::string head;
  json::array chains;
  for (const audit::ChainSummary& chain : report->chains) {
    if (chain.node == node_id_) head = chain.head;
    chains.push_back(json::object{
        {"node", chain.node}, {"records", chain.records}, {"head", chain.head}, {"root", chain.root}});
  }
  answer["head"] = head;
  answer["chains"] = std::move(chains);
  answer["verdict"] = report->verdict == audit::Verdict::kIntact   ? "intact"
                      : report->verdict == audit::Verdict::kBroken ? "broken"
                                                                   : "not-verifiable";
  if (report->verdict == audit::Verdict::kBroken) answer["first_bad"] = report->first_bad;
  if (!report->unsigned_tails.empty()) {
    json::array tails;
    for (const std::string& tail : report->unsigned_tails) tails.push_back(json::string(tail));
    answer["unsigned"] = std::move(tails);
  }
  if (!report->not_verified.empty()) {
    json::array reasons;
    for (const std::string& why : report->not_verified) reasons.push_back(json::string(why));
    answer["not_verified"] = std::move(reasons);
  }
  return net::Response::Json(200, json::serialize(answer));
}

}  // namespace carrefour::hub
