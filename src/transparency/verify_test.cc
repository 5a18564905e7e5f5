// SPDX-License-Identifier: EUPL-1.2
// VerifyView (`carrefour transparency verify`): a saved answer checks out
// only with the node's key, every leaf in the signed tree at its index.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "audit/audit_log.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "audit/person_index.h"
#include "transparency/transparency.h"

namespace carrefour::transparency {
namespace {

namespace json = boost::json;

class VerifyViewTest : public testing::Test {
 protected:
  void SetUp() override {
    signer_ = *audit::NoteSigner::Generate(audit::CheckpointOrigin("hub-1"));
    audit::CompactRange range;
    // Records 0, 2 and 5 are about the person, the others about two others.
    audit::PersonIndex person_index{std::string(kIndexKey)};
    for (int i = 0; i < 7; ++i) {
      audit::Hash leaf = audit::HashLeaf("record " + std::to_string(i));
      audit::Record record;
      record.kind = audit::Kind::kConsultation;
      record.niss = i == 0 || i == 2 || i == 5 ? kAnna : i % 2 == 1 ? "59010100149" : "72020200264";
      person_index.Add(record, static_cast<uint64_t>(i), leaf);
      tree_.Append(leaf);
      range.Append(leaf);
    }
    audit::Checkpoint signed_head = audit::SignCheckpoint(*signer_, "hub-1", std::string(64, '0'), range, 1, &person_index);
    checkpoint_ = signed_head.note;
    const audit::Hash key = audit::PersonKey(kIndexKey, kAnna);
    audit::PersonIndexProof index_proof = person_index.Prove(key);
    json::array index_path;
    for (const audit::Hash& hash : index_proof.path) index_path.emplace_back(audit::ToHex(hash));
    const audit::PersonValue value = person_index.Get(key);
    json::object entry{
        {"note", signed_head.index_note}, {"tree_size", 7}, {"count", value.count}, {"path", std::move(index_path)}};
    entry["leaf"] = json::object{{"key", audit::ToHex(index_proof.leaf->key)},
                                 {"count", index_proof.leaf->value.count},
                                 {"accumulator", audit::ToHex(index_proof.leaf->value.accumulator)}};
    person_index_ = json::object{{"key", audit::ToHex(key)}, {"nodes", json::object{{"hub-1", std::move(entry)}}}};
    json::array consultations;
    for (uint64_t index : {5u, 2u, 0u}) {
      json::array proof;
      Result<std::vector<audit::Hash>> path = tree_.InclusionProof(index, 7);
      ASSERT_TRUE(path);
      for (const audit::Hash& hash : *path) proof.emplace_back(audit::ToHex(hash));
      consultations.push_back(json::object{{"requester", "mut-100"},
                                           {"index", index},
                                           {"leaf_hash", audit::ToHex(tree_.Leaf(index))},
                                           {"node", "hub-1"},
                                           {"tree_size", 7},
                                           {"inclusion_proof", std::move(proof)}});
    }
    answer_ = json::object{{"niss", kAnna},
                           {"consultations", std::move(consultations)},
                           {"subscriptions", json::array()},
                           {"checkpoint", checkpoint_},
                           {"node", "hub-1"},
                           {"checkpoints", json::object{{"hub-1", checkpoint_}}},
                           {"person_index", person_index_}};
  }

  // A consultation entry for leaf `index` of the tree, with its proof.
  json::object Listed(uint64_t index) {
    json::array proof;
    Result<std::vector<audit::Hash>> path = tree_.InclusionProof(index, 7);
    for (const audit::Hash& hash : *path) proof.emplace_back(audit::ToHex(hash));
    return json::object{{"requester", "mut-100"},
                        {"index", index},
                        {"leaf_hash", audit::ToHex(tree_.Leaf(index))},
                        {"node", "hub-1"},
                        {"tree_size", 7},
                        {"inclusion_proof", std::move(proof)}};
  }

  static constexpr const char* kAnna = "85073003328";
  static constexpr std::string_view kIndexKey = "0123456789abcdef0123456789abcdef";

  Verification Check(const json::object& answer, std::vector<std::string> keys) {
    Result<Verification> verification = VerifyView(json::serialize(answer), keys);
    EXPECT_TRUE(verification) << verification.error().ToString();
    return verification ? *verification : Verification{};
  }

  std::shared_ptr<const audit::NoteSigner> signer_;
  audit::MerkleTree tree_;
  std::string checkpoint_;
  json::object person_index_;
  json::object answer_;
};

TEST_F(VerifyViewTest, AGenuineAnswerVerifiesWithTheNodesKey) {
  Verification verification = Check(answer_, {signer_->verifier_key()});
  EXPECT_TRUE(verification.ok);
  EXPECT_EQ(verification.consultations, 3u);
  EXPECT_EQ(verification.checkpoints, 1u);
  EXPECT_EQ(verification.complete, 1u);
  EXPECT_TRUE(verification.failures.empty()) << testing::PrintToString(verification.failures);
}

// Completeness (docs/transparency.md): a consultation left out, another
// person's record slipped in, or no index at all, each fails by name.
TEST_F(VerifyViewTest, AConsultationLeftOutIsFound) {
  json::object answer = answer_;
  json::array& list = answer["consultations"].as_array();
  list.erase(list.begin() + 1);  // index 2: still every remaining one is in the log
  Verification verification = Check(answer, {signer_->verifier_key()});
  EXPECT_FALSE(verification.ok);
  EXPECT_EQ(verification.consultations, 2u);
  EXPECT_EQ(verification.complete, 0u);
  EXPECT_EQ(verification.failures,
            (std::vector<std::string>{"node hub-1: the answer lists 2 record(s) of the person in its log, its "
                                      "signed person index holds 3: a record was left out"}));

  // Its proof altered to claim two records: it no longer leads to the root.
  json::object& entry = answer["person_index"].as_object()["nodes"].as_object()["hub-1"].as_object();
  entry["leaf"].as_object()["count"] = 2;
  verification = Check(answer, {signer_->verifier_key()});
  EXPECT_EQ(verification.failures,
            (std::vector<std::string>{
                "node hub-1: its person index proof does not lead to the root its node signed"}));
  // Its note signed by another key under the node's name.
  std::shared_ptr<const audit::NoteSigner> impostor = *audit::NoteSigner::Generate("carrefour/hub-1");
  entry["note"] = impostor->Sign(audit::PersonIndexText("hub-1", 7, audit::Hash{}));
  verification = Check(answer, {signer_->verifier_key()});
  ASSERT_EQ(verification.failures.size(), 1u);
  EXPECT_TRUE(verification.failures[0].starts_with("node hub-1: its person index note is not signed by its key"))
      << verification.failures[0];
}

TEST_F(VerifyViewTest, AnotherPersonsRecordOrNoIndexFails) {
  json::object answer = answer_;
  answer["consultations"].as_array().push_back(Listed(1));  // in the log, not the person's
  Verification verification = Check(answer, {signer_->verifier_key()});
  EXPECT_FALSE(verification.ok);
  EXPECT_EQ(verification.consultations, 4u);
  EXPECT_EQ(verification.failures,
            (std::vector<std::string>{"node hub-1: the answer lists 4 record(s) of the person in its log, its "
                                      "signed person index holds 3: a record listed is not the person's (or "
                                      "listed twice)"}));

  answer = answer_;
  answer.erase("person_index");
  verification = Check(answer, {signer_->verifier_key()});
  EXPECT_EQ(verification.failures,
            (std::vector<std::string>{"the answer has no 'person_index': nothing shows that no record was left out"}));

  // A node whose key the portal holds, left out of the answer.
  std::shared_ptr<const audit::NoteSigner> other = *audit::NoteSigner::Generate("carrefour/hub-2");
  verification = Check(answer_, {signer_->verifier_key(), other->verifier_key()});
  EXPECT_EQ(verification.failures,
            (std::vector<std::string>{"node hub-2: a key was given, but the answer holds no checkpoint of it"}));
}

TEST_F(VerifyViewTest, NothingVerifiesWithoutTheRightKey) {
  Verification none = Check(answer_, {});
  EXPECT_FALSE(none.ok);
  ASSERT_FALSE(none.failures.empty());
  EXPECT_EQ(none.failures[0], "checkpoint of node hub-1: no key given for carrefour/hub-1");
  EXPECT_EQ(none.consultations, 0u);

  // Another key under the node's name: not its signature.
  std::shared_ptr<const audit::NoteSigner> impostor = *audit::NoteSigner::Generate("carrefour/hub-1");
  Verification forged = Check(answer_, {impostor->verifier_key()});
  EXPECT_FALSE(forged.ok);
  EXPECT_EQ(forged.consultations, 0u);

  Verification garbage = Check(answer_, {"not a key"});
  EXPECT_FALSE(garbage.ok);
}

TEST_F(VerifyViewTest, EachBadConsultationIsNamed) {
  json::object answer = answer_;
  json::array& list = answer["consultations"].as_array();
  // 0: another leaf's hash at this index.
  list[0].as_object()["leaf_hash"] = list[1].at("leaf_hash");
  // 1: a proof for a tree the checkpoint does not sign.
  list[1].as_object()["tree_size"] = 6;
  Verification verification = Check(answer, {signer_->verifier_key()});
  EXPECT_FALSE(verification.ok);
  EXPECT_EQ(verification.consultations, 1u);
  EXPECT_EQ(verification.failures,
            (std::vector<std::string>{
                "consultation 0 (index 5 of node hub-1): its leaf hash is not in the checkpoint's tree",
                "consultation 1 (index 2 of node hub-1): its proof is for a tree of 6 records, the "
                "checkpoint has 7",
                // The list holds another leaf than the person's at index 5.
                "node hub-1: the 3 record(s) listed of its log are not those its signed person index holds"}));
}

TEST_F(VerifyViewTest, AChangedCheckpointOrAMissingProofFails) {
  json::object answer = answer_;
  std::string changed = checkpoint_;
  changed[changed.find('\n') + 1] = '8';  // the size line: 7 -> 8
  answer["checkpoint"] = changed;
  answer["checkpoints"] = json::object{{"hub-1", changed}};
  Verification verification = Check(answer, {signer_->verifier_key()});
  EXPECT_FALSE(verification.ok);
  EXPECT_EQ(verification.checkpoints, 0u);

  answer = answer_;
  answer["consultations"].as_array()[2].as_object().erase("inclusion_proof");
  verification = Check(answer, {signer_->verifier_key()});
  EXPECT_FALSE(verification.ok);
  EXPECT_EQ(verification.failures,
            (std::vector<std::string>{"consultation 2 (index 0 of node hub-1): no valid 'inclusion_proof'"}));
}

TEST_F(VerifyViewTest, WhatIsNotAnAnswerIsAnError) {
  EXPECT_FALSE(VerifyView("not json", {signer_->verifier_key()}));
  EXPECT_FALSE(VerifyView(R"({"niss": "85073003328"})", {signer_->verifier_key()}));
}

}  // namespace
}  // namespace carrefour::transparency
