// SPDX-License-Identifier: EUPL-1.2
// VerifyView (`carrefour transparency verify`): a saved answer checks out
// only with the node's key, every leaf in the signed tree at its index.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "audit/audit_log.h"
#include "audit/merkle.h"
#include "audit/note.h"
#include "transparency/transparency.h"

namespace carrefour::transparency {
namespace {

namespace json = boost::json;

class VerifyViewTest : public testing::Test {
 protected:
  void SetUp() override {
    signer_ = *audit::NoteSigner::Generate(audit::CheckpointOrigin("hub-1"));
    audit::CompactRange range;
    for (int i = 0; i < 7; ++i) {
      audit::Hash leaf = audit::HashLeaf("record " + std::to_string(i));
      tree_.Append(leaf);
      range.Append(leaf);
    }
    checkpoint_ = audit::SignCheckpoint(*signer_, "hub-1", std::string(64, '0'), range, 1).note;
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
    answer_ = json::object{{"niss", "85073003328"},
                           {"consultations", std::move(consultations)},
                           {"subscriptions", json::array()},
                           {"checkpoint", checkpoint_},
                           {"node", "hub-1"},
                           {"checkpoints", json::object{{"hub-1", checkpoint_}}}};
  }

  Verification Check(const json::object& answer, std::vector<std::string> keys) {
    Result<Verification> verification = VerifyView(json::serialize(answer), keys);
    EXPECT_TRUE(verification) << verification.error().ToString();
    return verification ? *verification : Verification{};
  }

  std::shared_ptr<const audit::NoteSigner> signer_;
  audit::MerkleTree tree_;
  std::string checkpoint_;
  json::object answer_;
};

TEST_F(VerifyViewTest, AGenuineAnswerVerifiesWithTheNodesKey) {
  Verification verification = Check(answer_, {signer_->verifier_key()});
  EXPECT_TRUE(verification.ok);
  EXPECT_EQ(verification.consultations, 3u);
  EXPECT_EQ(verification.checkpoints, 1u);
  EXPECT_TRUE(verification.failures.empty()) << testing::PrintToString(verification.failures);
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
                "checkpoint has 7"}));
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
