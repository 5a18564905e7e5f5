// SPDX-License-Identifier: EUPL-1.2
#include "transparency/transparency.h"

#include <time.h>

#include <algorithm>
#include <map>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "api/json.h"
#include "api/reply.h"
#include "audit/answer.h"
#include "audit/note.h"
#include "audit/person_index.h"
#include "core/timestamp.h"
#include "logging/logging.h"
#include "niss/niss.h"
#include "research/research.h"
#include "store/store.h"

namespace carrefour::transparency {
namespace json = boost::json;
namespace {

// More records of one kind about one person than this is not a person's
// history: the view refuses rather than answer incompletely.
constexpr size_t kMaxRecords = 100000;

using CheckpointOf = std::map<std::string, const audit::Checkpoint*>;

json::array HexList(const std::vector<audit::Hash>& hashes) {
  json::array out;
  for (const audit::Hash& hash : hashes) out.emplace_back(audit::ToHex(hash));
  return out;
}

// The person's consultation and research records that the checkpoints read
// cover (a record committed since is left for the next read), newest first;
// one node's records in seq order.
Result<std::vector<audit::Record>> CoveredRecords(store::Store& store, const std::string& niss,
                                                  const CheckpointOf& checkpoint_of) {
  std::vector<audit::Record> records;
  for (audit::Kind kind : {audit::Kind::kConsultation, audit::Kind::kResearch}) {
    audit::Query query;
    query.niss = niss;
    query.kind = kind;
    query.limit = kMaxRecords;
    Result<std::vector<audit::Record>> found = store.audit().QueryAudit(query);
    if (!found) return Error(Unavailable("the audit log could not be read: " + found.error().message()));
    if (found->size() >= kMaxRecords) {
      return Error(Unavailable(fmt::format("more than {} audit records of one kind about the person",
                                           kMaxRecords)));
    }
    for (audit::Record& record : *found) {
      auto covered = checkpoint_of.find(record.node);
      if (covered == checkpoint_of.end() || covered->second->seq < record.seq) continue;
      records.push_back(std::move(record));
    }
  }
  std::sort(records.begin(), records.end(), [](const audit::Record& a, const audit::Record& b) {
    if (a.time_us != b.time_us) return a.time_us > b.time_us;
    if (a.node != b.node) return a.node < b.node;
    return a.seq > b.seq;
  });
  return records;
}

// One item of "consultations" (docs/api.md 4.6).
json::object ConsultationItem(const audit::Record& record, const network::Definition& definition,
                              const audit::Hash& leaf, const audit::Checkpoint& checkpoint,
                              const std::vector<audit::Hash>& inclusion_proof) {
  json::object item;
  item["time"] = FormatRfc3339(record.time_us);
  item["requester"] = record.requester;
  const network::Institution* requester = definition.FindInstitution(record.requester);
  item["requester_name"] = requester != nullptr ? requester->name : record.requester;
  if (record.kind == audit::Kind::kResearch) {
    std::optional<std::string> project = research::ResearchProjectOf(record.detail);
    item["data_type"] = "research:" + project.value_or(record.data_type);
  } else {
    item["data_type"] = record.data_type;
  }
  item["legal_basis"] = record.legal_basis;
  // A granted consultation whose providers all failed (503) was still
  // carried out: the requester was allowed to see the data.
  const bool answered = record.outcome == StatusCode::kOk || record.outcome == StatusCode::kUnavailable;
  item["outcome"] = answered ? "answered" : "refused";
  if (!answered) item["code"] = SpecCode(record.outcome);
  item["index"] = record.seq - 1;
  item["leaf_hash"] = audit::ToHex(leaf);
  // Beyond docs/api.md 4.6: which node's tree holds it, and the proof.
  item["node"] = record.node;
  item["tree_size"] = checkpoint.seq;
  item["inclusion_proof"] = HexList(inclusion_proof);
  return item;
}

// "consultations": each record with its inclusion proof in its node's
// checkpoint.
Result<json::array> Consultations(const std::vector<audit::Record>& records, const CheckpointOf& checkpoint_of,
                                  audit::AuditTrees& trees, const network::Definition& definition) {
  json::array consultations;
  for (const audit::Record& record : records) {
    auto found = checkpoint_of.find(record.node);
    if (found == checkpoint_of.end() || found->second->seq < record.seq) {
      return Error(Internal(fmt::format("record {} of node {} is in no checkpoint", record.seq, record.node)));
    }
    const audit::Checkpoint& checkpoint = *found->second;
    Result<audit::AuditTrees::Inclusion> inclusion = trees.InclusionProof(
        record.node, static_cast<uint64_t>(record.seq - 1), static_cast<uint64_t>(checkpoint.seq));
    if (!inclusion) return Error(Unavailable("an inclusion proof could not be built: " + inclusion.error().message()));
    const audit::Hash leaf = audit::LeafHash(record);
    if (inclusion->leaf != leaf) {
      return Error(Internal(fmt::format("record {} of node {} does not match its tree", record.seq, record.node)));
    }
    consultations.push_back(ConsultationItem(record, definition, leaf, checkpoint, inclusion->proof));
  }
  return consultations;
}

// "subscriptions": docs/api.md 4.3's rule, as a mutation accepted today
// would apply it, for every data type; no source is excluded (any source's
// change counts).
Result<json::array> Subscriptions(store::Store& store, const directory::DecisionEngine& engine,
                                  const std::string& niss, Date today) {
  Result<std::vector<directory::Entry>> entries =
      store.directory().EntriesOfPerson(niss, Period::Day(today));
  if (!entries) return Error(Unavailable("the person directory could not be read: " + entries.error().message()));
  json::array subscriptions;
  for (const network::DataType& data_type : engine.definition()->data_types()) {
    for (const directory::Subscriber& subscriber : engine.SubscribersOf("", data_type.id, *entries, today)) {
      for (const network::Authorization* authorization : subscriber.authorizations) {
        subscriptions.push_back(json::object{{"institution", subscriber.institution->id},
                                             {"institution_name", subscriber.institution->name},
                                             {"data_type", data_type.id},
                                             {"capacity", authorization->capacity},
                                             {"legal_basis", authorization->legal_basis}});
      }
    }
  }
  return subscriptions;
}

// Completeness: every node's person index entry for the person, proved
// against the index root its checkpoint commits; and every node's
// checkpoint, so that a node holding none of the person's records shows it
// too. Nullopt when an index moved past its checkpoint (read again).
struct Completeness {
  json::object checkpoints;   // node -> checkpoint note
  json::object index_proofs;  // node -> person index entry and proof
  std::string person_key;
};

json::object IndexEntry(const audit::Checkpoint& checkpoint, const audit::AuditTrees::PersonProof& proof) {
  json::object entry;
  entry["note"] = checkpoint.index_note;
  entry["tree_size"] = proof.size;
  entry["count"] = proof.value.count;
  entry["path"] = HexList(proof.proof.path);
  if (proof.proof.leaf) {
    entry["leaf"] = json::object{{"key", audit::ToHex(proof.proof.leaf->key)},
                                 {"count", proof.proof.leaf->value.count},
                                 {"accumulator", audit::ToHex(proof.proof.leaf->value.accumulator)}};
  } else {
    entry["leaf"] = nullptr;
  }
  return entry;
}

Result<std::optional<Completeness>> ProveCompleteness(audit::AuditTrees& trees, const std::string& niss,
                                                      const CheckpointOf& checkpoint_of) {
  Completeness out;
  for (const auto& [node, checkpoint] : checkpoint_of) {
    out.checkpoints[node] = checkpoint->note;
    Result<std::optional<audit::AuditTrees::PersonProof>> proved =
        trees.ProvePerson(node, niss, static_cast<uint64_t>(checkpoint->seq));
    if (!proved) return Error(Unavailable("a person index proof could not be built: " + proved.error().message()));
    if (!*proved) return std::optional<Completeness>();
    out.person_key = audit::ToHex((*proved)->key);
    out.index_proofs[node] = IndexEntry(*checkpoint, **proved);
  }
  return std::optional<Completeness>(std::move(out));
}

}  // namespace

Result<json::object> Service::View(const std::string& niss) {
  // This node's records so far signed first (under a continuous load the
  // log signs once per interval): the view lists every consultation
  // answered before the call.
  if (Status integrated = audit_.Integrate(); !integrated.ok()) return Error(std::move(integrated));
  // The person index may move past the checkpoints read (another view
  // asked for later ones meanwhile): read again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    Result<std::optional<json::object>> view = TryView(niss);
    if (!view) return Error(view.error());
    if (*view) return std::move(**view);
  }
  return Error(Unavailable("the audit log moved on while the view was read; try again"));
}

Result<std::optional<json::object>> Service::TryView(const std::string& niss) {
  std::shared_ptr<const directory::DecisionEngine> engine = engine_();
  const Date today = clock_.Today();

  // Every node's latest checkpoint first, then the records: the list is
  // what those checkpoints cover, so that it matches their person index
  // exactly.
  Result<std::vector<audit::Checkpoint>> latest = store_.audit().AuditCheckpoints();
  if (!latest) return Error(Unavailable("the audit checkpoints could not be read: " + latest.error().message()));
  CheckpointOf checkpoint_of;
  for (const audit::Checkpoint& checkpoint : *latest) checkpoint_of[checkpoint.node] = &checkpoint;

  CARREFOUR_ASSIGN_OR_RETURN(std::vector<audit::Record> records, CoveredRecords(store_, niss, checkpoint_of));
  CARREFOUR_ASSIGN_OR_RETURN(json::array consultations,
                             Consultations(records, checkpoint_of, trees_, *engine->definition()));
  CARREFOUR_ASSIGN_OR_RETURN(json::array subscriptions, Subscriptions(store_, *engine, niss, today));
  CARREFOUR_ASSIGN_OR_RETURN(std::optional<Completeness> complete,
                             ProveCompleteness(trees_, niss, checkpoint_of));
  if (!complete) return std::optional<json::object>();  // the index moved on: read again

  // The answering node's checkpoint; every node's is in "checkpoints".
  std::string own = audit_.checkpoint().note;
  if (auto found = checkpoint_of.find(audit_.node()); found != checkpoint_of.end()) {
    own = found->second->note;
  }
  if (!complete->checkpoints.contains(audit_.node())) complete->checkpoints[audit_.node()] = own;

  json::object view;
  view["niss"] = niss;
  view["consultations"] = std::move(consultations);
  view["subscriptions"] = std::move(subscriptions);
  view["checkpoint"] = own;
  view["node"] = audit_.node();
  view["checkpoints"] = std::move(complete->checkpoints);
  view["person_index"] = json::object{{"key", complete->person_key}, {"nodes", std::move(complete->index_proofs)}};
  return std::optional<json::object>(std::move(view));
}

void Service::Handle(std::string_view caller, std::optional<std::string_view> niss,
                     std::function<void(Reply)> done) {
  std::shared_ptr<const directory::DecisionEngine> engine = engine_();
  const Date today = clock_.Today();
  audit::Record record;
  record.kind = audit::Kind::kTransparency;
  record.request_id = audit::NewRequestId();
  record.requester = std::string(caller);

  Reply reply;
  auto decide = [&]() -> Status {
    const network::Institution* institution = engine->definition()->FindInstitution(caller);
    const network::TransparencyAccess* access =
        institution == nullptr ? nullptr : engine->definition()->TransparencyAccessOf(*institution, today);
    if (access == nullptr) {
      return NotAuthorized(fmt::format(
          "no [[transparency_access]] valid today grants '{}' the citizens' transparency view", caller));
    }
    record.legal_basis = access->legal_basis;
    if (!niss || niss->empty()) return InvalidRequest("the query parameter 'niss' is required");
    Result<std::string> normalized = niss::Normalize(*niss, today);
    if (!normalized) return normalized.error();
    record.niss = *normalized;
    Result<json::object> view = View(*normalized);
    if (!view) return view.error();
    record.detail = fmt::format("consultations={} subscriptions={}", view->at("consultations").as_array().size(),
                                view->at("subscriptions").as_array().size());
    reply.body = json::serialize(*view);
    return OkStatus();
  };
  Status decided = decide();
  if (decided.ok()) {
    record.reason = "transparency view read";
  } else {
    record.outcome = decided.code();
    record.reason = decided.message();
    reply = api::ErrorReply(decided);
  }
  audit::AuditThenAnswer(
      audit_, std::move(record), std::move(reply),
      [] { return api::ErrorReply(Unavailable("the audit log could not be written; try again")); },
      std::move(done));
}

Reply Service::AdminView(std::optional<std::string_view> niss) {
  if (!niss) return api::ErrorReply(InvalidRequest("the query parameter 'niss' is required"));
  Result<std::string> normalized = niss::Normalize(*niss, clock_.Today());
  if (!normalized) return api::ErrorReply(normalized.error());
  Result<json::object> view = View(*normalized);
  if (!view) return api::ErrorReply(logging::StoreFailed("build the transparency view", view.error()));
  audit::Query query;
  query.niss = *normalized;
  query.limit = 1000;
  // Research extracts the person was part of (docs/research.md): the
  // project, never the pseudonym.
  query.kind = audit::Kind::kResearch;
  Result<std::vector<audit::Record>> research = store_.audit().QueryAudit(query);
  if (!research) return api::ErrorReply(logging::StoreFailed("read the research records", research.error()));
  json::array uses;
  for (const audit::Record& record : *research) {
    std::optional<std::string> project = research::ResearchProjectOf(record.detail);
    if (!project) continue;
    uses.push_back(json::object{{"time", FormatRfc3339(record.time_us)},
                                {"project", *project},
                                {"requester", record.requester},
                                {"legal_basis", record.legal_basis},
                                {"data_types", record.data_type},
                                {"use", fmt::format("used in research project {}", *project)}});
  }
  (*view)["research"] = std::move(uses);
  return Reply{200, json::serialize(*view)};
}

// --- offline verification -------------------------------------------------------

namespace {

std::optional<audit::Hash> HashField(const json::object& object, std::string_view key) {
  const json::value* field = object.if_contains(key);
  if (field == nullptr || !field->is_string()) return std::nullopt;
  return audit::HashFromHex(field->as_string());
}

std::optional<uint64_t> CountField(const json::object& object, std::string_view key) {
  const json::value* field = object.if_contains(key);
  if (field == nullptr) return std::nullopt;
  if (field->is_uint64()) return field->as_uint64();
  if (field->is_int64() && field->as_int64() >= 0) return static_cast<uint64_t>(field->as_int64());
  return std::nullopt;
}

// A list of hex hashes; nullopt when absent or when any is not 64 hex digits.
std::optional<std::vector<audit::Hash>> HashList(const json::object& object, std::string_view key) {
  const json::value* list = object.if_contains(key);
  if (list == nullptr || !list->is_array()) return std::nullopt;
  std::vector<audit::Hash> out;
  for (const json::value& hex : list->as_array()) {
    std::optional<audit::Hash> hash = hex.is_string() ? audit::HashFromHex(hex.as_string()) : std::nullopt;
    if (!hash) return std::nullopt;
    out.push_back(*hash);
  }
  return out;
}

// One node's entry of "person_index.nodes" as a proof; an error saying what
// is malformed.
Result<audit::PersonIndexProof> ParseIndexProof(const json::object& entry) {
  audit::PersonIndexProof proof;
  std::optional<std::vector<audit::Hash>> path = HashList(entry, "path");
  if (!path) return Error(InvalidRequest("no 'path' list of 64-hex-digit hashes"));
  proof.path = std::move(*path);
  const json::value* leaf = entry.if_contains("leaf");
  if (leaf != nullptr && !leaf->is_null()) {
    std::optional<audit::Hash> key = leaf->is_object() ? HashField(leaf->as_object(), "key") : std::nullopt;
    std::optional<audit::Hash> accumulator =
        leaf->is_object() ? HashField(leaf->as_object(), "accumulator") : std::nullopt;
    std::optional<uint64_t> count = leaf->is_object() ? CountField(leaf->as_object(), "count") : std::nullopt;
    if (!key || !accumulator || !count) {
      return Error(InvalidRequest("'leaf' is null or has a 'key', a 'count' and an 'accumulator'"));
    }
    proof.leaf = audit::PersonIndexProof::Leaf{*key, audit::PersonValue{*count, *accumulator}};
  }
  return proof;
}

void CheckCompleteness(const json::object& view, const std::map<std::string, audit::CheckpointBody, std::less<>>& trees,
                       std::map<std::string, std::vector<std::pair<uint64_t, audit::Hash>>>& listed,
                       const std::vector<audit::NoteVerifier>& verifiers, Verification& out) {
  auto fail = [&out](std::string why) { out.failures.push_back(std::move(why)); };
  // A node whose key the portal holds but whose checkpoint the answer
  // leaves out could hide every record of it.
  for (const audit::NoteVerifier& verifier : verifiers) {
    constexpr std::string_view kPrefix = "carrefour/";
    if (!verifier.name().starts_with(kPrefix)) continue;
    const std::string node = verifier.name().substr(kPrefix.size());
    if (!trees.contains(node)) {
      bool named = false;
      if (const json::value* all = view.if_contains("checkpoints"); all != nullptr && all->is_object()) {
        named = all->as_object().contains(node);
      }
      if (!named) fail(fmt::format("node {}: a key was given, but the answer holds no checkpoint of it", node));
    }
  }
  const json::value* index = view.if_contains("person_index");
  if (index == nullptr || !index->is_object()) {
    fail("the answer has no 'person_index': nothing shows that no record was left out");
    return;
  }
  std::optional<audit::Hash> key = HashField(index->as_object(), "key");
  const json::value* nodes = index->as_object().if_contains("nodes");
  if (!key || nodes == nullptr || !nodes->is_object()) {
    fail("'person_index' has no valid 'key' and 'nodes'");
    return;
  }
  for (const auto& [node, checkpoint] : trees) {
    const json::value* entry = nodes->as_object().if_contains(node);
    if (entry == nullptr || !entry->is_object()) {
      fail(fmt::format("node {}: no person index proof", node));
      continue;
    }
    // The index root, in its own note signed by the node's key.
    const json::value* note = entry->as_object().if_contains("note");
    if (note == nullptr || !note->is_string() || note->as_string().empty()) {
      fail(fmt::format("node {}: no signed person index note (its checkpoint is from before there was one): "
                       "its records cannot be shown complete",
                       node));
      continue;
    }
    const audit::NoteVerifier* verifier = nullptr;
    for (const audit::NoteVerifier& candidate : verifiers) {
      if (candidate.name() == audit::CheckpointOrigin(node)) verifier = &candidate;
    }
    Result<std::string> opened = verifier != nullptr ? verifier->Open(note->as_string())
                                                     : Result<std::string>(Error(NotFound("no key")));
    Result<audit::CheckpointBody> committed =
        opened ? audit::ParseCheckpointText(*opened) : Result<audit::CheckpointBody>(Error(opened.error()));
    if (!committed || committed->origin != audit::PersonIndexOrigin(node)) {
      fail(fmt::format("node {}: its person index note is not signed by its key ({})", node,
                       committed ? "another origin" : committed.error().message()));
      continue;
    }
    std::optional<uint64_t> size = CountField(entry->as_object(), "tree_size");
    if (committed->size != checkpoint.size || !size || *size != checkpoint.size) {
      fail(fmt::format("node {}: its person index is not for the checkpoint's tree of {} records", node,
                       checkpoint.size));
      continue;
    }
    const audit::Hash& index_root = committed->root;
    Result<audit::PersonIndexProof> proof = ParseIndexProof(entry->as_object());
    if (!proof) {
      fail(fmt::format("node {}: its person index proof is malformed ({})", node, proof.error().message()));
      continue;
    }
    // What the listed records of the node fold into, in log order.
    std::vector<std::pair<uint64_t, audit::Hash>>& mine = listed[node];
    std::sort(mine.begin(), mine.end());
    audit::PersonValue value;
    for (const auto& [position, leaf] : mine) value = audit::Fold(value, position, leaf);
    if (audit::VerifyPersonIndex(index_root, *key, value, *proof)) {
      ++out.complete;
      continue;
    }
    // Why: the proof holds for what the index says, and the list differs;
    // or the proof itself does not lead to the signed root.
    audit::PersonValue held;
    if (proof->leaf && proof->leaf->key == *key) held = proof->leaf->value;
    if (!audit::VerifyPersonIndex(index_root, *key, held, *proof)) {
      fail(fmt::format("node {}: its person index proof does not lead to the root its node signed", node));
    } else if (held.count > value.count) {
      fail(fmt::format("node {}: the answer lists {} record(s) of the person in its log, its signed person "
                       "index holds {}: a record was left out",
                       node, value.count, held.count));
    } else if (held.count < value.count) {
      fail(fmt::format("node {}: the answer lists {} record(s) of the person in its log, its signed person "
                       "index holds {}: a record listed is not the person's (or listed twice)",
                       node, value.count, held.count));
    } else {
      fail(fmt::format("node {}: the {} record(s) listed of its log are not those its signed person index "
                       "holds",
                       node, value.count));
    }
  }
}

using Trees = std::map<std::string, audit::CheckpointBody, std::less<>>;
using Listed = std::map<std::string, std::vector<std::pair<uint64_t, audit::Hash>>>;  // by node

std::vector<audit::NoteVerifier> ParseVerifiers(const std::vector<std::string>& keys, Verification& out) {
  std::vector<audit::NoteVerifier> verifiers;
  for (const std::string& key : keys) {
    Result<audit::NoteVerifier> verifier = audit::NoteVerifier::Parse(key);
    if (!verifier) {
      out.failures.push_back(fmt::format("key '{}': {}", key, verifier.error().message()));
      continue;
    }
    verifiers.push_back(std::move(*verifier));
  }
  return verifiers;
}

// Every checkpoint note the answer holds, by node ("checkpoints", and the
// answering node's "checkpoint", which must agree).
std::map<std::string, std::string> CheckpointNotes(const json::object& view, Verification& out) {
  std::map<std::string, std::string> notes;
  if (const json::value* all = view.if_contains("checkpoints"); all != nullptr && all->is_object()) {
    for (const auto& [node, note] : all->as_object()) {
      if (note.is_string()) notes[std::string(node)] = std::string(note.as_string());
    }
  }
  if (const json::value* own = view.if_contains("checkpoint"); own != nullptr && own->is_string()) {
    std::string text(own->as_string());
    std::string origin = text.substr(0, text.find('\n'));
    constexpr std::string_view kPrefix = "carrefour/";
    std::string node = origin.starts_with(kPrefix) ? origin.substr(kPrefix.size()) : origin;
    if (!notes.contains(node)) notes[node] = text;
    if (notes[node] != text) out.failures.push_back(fmt::format("'checkpoint' differs from checkpoints[\"{}\"]", node));
  } else {
    out.failures.push_back("the answer has no 'checkpoint'");
  }
  return notes;
}

// The trees of the checkpoints signed by their node's key, by node.
Trees VerifyCheckpoints(const std::map<std::string, std::string>& notes,
                        const std::vector<audit::NoteVerifier>& verifiers, Verification& out) {
  auto fail = [&out](std::string why) { out.failures.push_back(std::move(why)); };
  Trees trees;
  for (const auto& [node, note] : notes) {
    const std::string name = audit::CheckpointOrigin(node);
    const audit::NoteVerifier* verifier = nullptr;
    for (const audit::NoteVerifier& candidate : verifiers) {
      if (candidate.name() == name) verifier = &candidate;
    }
    if (verifier == nullptr) {
      fail(fmt::format("checkpoint of node {}: no key given for {}", node, name));
      continue;
    }
    Result<std::string> text = verifier->Open(note);
    if (!text) {
      fail(fmt::format("checkpoint of node {}: {}", node, text.error().message()));
      continue;
    }
    Result<audit::CheckpointBody> body = audit::ParseCheckpointText(*text);
    if (!body) {
      fail(fmt::format("checkpoint of node {}: {}", node, body.error().message()));
      continue;
    }
    if (body->origin != name) {
      fail(fmt::format("checkpoint of node {}: its origin is '{}', not '{}'", node, body->origin, name));
      continue;
    }
    ++out.checkpoints;
    trees[node] = *body;
  }
  return trees;
}

// Each listed consultation's leaf, proved in its node's checkpoint; returns
// the leaves listed, by node.
Listed CheckConsultations(const json::object& view, const json::array& consultations, const Trees& trees,
                          Verification& out) {
  auto fail = [&out](std::string why) { out.failures.push_back(std::move(why)); };
  Listed listed;
  size_t position = 0;
  for (const json::value& value : consultations) {
    const std::string where = fmt::format("consultation {}", position++);
    const json::object* item = value.if_object();
    if (item == nullptr) {
      fail(where + ": not an object");
      continue;
    }
    auto text = [item](std::string_view key) -> std::string {
      const json::value* field = item->if_contains(key);
      return field != nullptr && field->is_string() ? std::string(field->as_string()) : std::string();
    };
    const std::string node = text("node").empty() ? view.contains("node") && view.at("node").is_string()
                                                        ? std::string(view.at("node").as_string())
                                                        : std::string()
                                                  : text("node");
    std::optional<uint64_t> index = CountField(*item, "index");
    std::optional<uint64_t> size = CountField(*item, "tree_size");
    std::optional<audit::Hash> leaf = HashField(*item, "leaf_hash");
    if (!index || !leaf) {
      fail(where + ": no valid 'index' and 'leaf_hash'");
      continue;
    }
    listed[node].emplace_back(*index, *leaf);
    auto tree = trees.find(node);
    if (tree == trees.end()) {
      fail(fmt::format("{} (index {} of node {}): no verified checkpoint of its node", where, *index, node));
      continue;
    }
    if (size && *size != tree->second.size) {
      fail(fmt::format("{} (index {} of node {}): its proof is for a tree of {} records, the checkpoint has {}",
                       where, *index, node, *size, tree->second.size));
      continue;
    }
    std::optional<std::vector<audit::Hash>> proof = HashList(*item, "inclusion_proof");
    if (!proof) {
      fail(fmt::format("{} (index {} of node {}): no valid 'inclusion_proof'", where, *index, node));
      continue;
    }
    if (!audit::VerifyInclusion(*index, tree->second.size, *leaf, *proof, tree->second.root)) {
      fail(fmt::format("{} (index {} of node {}): its leaf hash is not in the checkpoint's tree", where,
                       *index, node));
      continue;
    }
    ++out.consultations;
  }
  return listed;
}

}  // namespace

Result<Verification> VerifyView(std::string_view answer, const std::vector<std::string>& keys) {
  Result<json::object> parsed = api::ParseObject(answer);
  if (!parsed) return Error(InvalidRequest("not a transparency answer: " + parsed.error().message()));
  const json::object& view = *parsed;
  const json::value* consultations = view.if_contains("consultations");
  if (consultations == nullptr || !consultations->is_array()) {
    return Error(InvalidRequest("not a transparency answer: no 'consultations' list"));
  }
  Verification out;
  std::vector<audit::NoteVerifier> verifiers = ParseVerifiers(keys, out);
  std::map<std::string, std::string> notes = CheckpointNotes(view, out);
  Trees trees = VerifyCheckpoints(notes, verifiers, out);
  Listed listed = CheckConsultations(view, consultations->as_array(), trees, out);
  CheckCompleteness(view, trees, listed, verifiers, out);
  out.ok = out.failures.empty();
  return out;
}

}  // namespace carrefour::transparency
