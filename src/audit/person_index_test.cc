// SPDX-License-Identifier: EUPL-1.2
#include "audit/person_index.h"

#include <algorithm>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "core/crypto.h"

namespace carrefour::audit {
namespace {

Hash Sha256(const std::string& bytes) { return crypto::Sha256Of(bytes); }

std::string Bytes(const Hash& hash) { return std::string(reinterpret_cast<const char*>(hash.data()), 32); }

int KeyBit(const Hash& key, size_t depth) { return (key[depth / 8] >> (7 - depth % 8)) & 1; }

// The map's root straight from its definition (person_index.h), over a
// sorted list of entries: the implementation's incremental tree must agree.
Hash ReferenceRoot(const std::vector<std::pair<Hash, PersonValue>>& entries, size_t depth = 0) {
  if (entries.empty()) return Hash{};
  if (entries.size() == 1) {
    return Sha256(std::string(1, '\0') + Bytes(entries[0].first) + entries[0].second.Bytes());
  }
  std::vector<std::pair<Hash, PersonValue>> left, right;
  for (const auto& entry : entries) (KeyBit(entry.first, depth) == 0 ? left : right).push_back(entry);
  return Sha256("\x01" + Bytes(ReferenceRoot(left, depth + 1)) + Bytes(ReferenceRoot(right, depth + 1)));
}

Record Consultation(const std::string& niss) {
  Record record;
  record.kind = Kind::kConsultation;
  record.niss = niss;
  return record;
}

std::string Niss(int n) {
  std::string digits = std::to_string(85000000000LL + n);
  return digits;
}

TEST(PersonIndex, AnEmptyMapHasAZeroRootAndProvesEveryKeyAbsent) {
  PersonIndex index("key");
  EXPECT_EQ(index.Root(), Hash{});
  const Hash key = PersonKey("key", "85073003328");
  PersonIndexProof proof = index.Prove(key);
  EXPECT_TRUE(proof.path.empty());
  EXPECT_FALSE(proof.leaf);
  EXPECT_TRUE(VerifyPersonIndex(index.Root(), key, PersonValue{}, proof));
  EXPECT_FALSE(VerifyPersonIndex(index.Root(), key, Fold({}, 0, HashLeaf("x")), proof));
}

TEST(PersonIndex, ValuesFoldEachRecordOfThePersonInLogOrder) {
  const Hash a = HashLeaf("a"), b = HashLeaf("b");
  PersonValue one = Fold({}, 3, a);
  EXPECT_EQ(one.count, 1u);
  std::string expected(32, '\0');
  expected += std::string("\0\0\0\0\0\0\0\x03", 8) + Bytes(a);
  EXPECT_EQ(one.accumulator, Sha256(expected));
  PersonValue two = Fold(one, 7, b);
  EXPECT_EQ(two.count, 2u);
  EXPECT_NE(two, Fold(Fold({}, 7, b), 3, a));  // the order counts
  EXPECT_EQ(two.Bytes().size(), 40u);
  EXPECT_EQ(two.Bytes().substr(0, 8), std::string("\0\0\0\0\0\0\0\x02", 8));
}

TEST(PersonIndex, OnlyConsultationsAndResearchWithANumberAreIndexed) {
  Record record = Consultation("85073003328");
  EXPECT_TRUE(IndexedByPerson(record));
  record.kind = Kind::kResearch;
  EXPECT_TRUE(IndexedByPerson(record));
  for (Kind kind : {Kind::kTransparency, Kind::kAdmin, Kind::kMutation}) {
    record.kind = kind;
    EXPECT_FALSE(IndexedByPerson(record));
  }
  EXPECT_FALSE(IndexedByPerson(Consultation("")));
  PersonIndex index("key");
  Record admin;
  admin.kind = Kind::kAdmin;
  admin.niss = "85073003328";
  index.Add(admin, 0, HashLeaf("x"));
  EXPECT_EQ(index.persons(), 0u);
}

TEST(PersonIndex, KeysAreKeyedCommitmentsOfTheNumber) {
  EXPECT_EQ(PersonKey("k1", "85073003328"), PersonKey("k1", "85073003328"));
  EXPECT_NE(PersonKey("k1", "85073003328"), PersonKey("k2", "85073003328"));
  EXPECT_NE(PersonKey("k1", "85073003328"), PersonKey("k1", "85073003329"));
  EXPECT_NE(PersonKey("k1", "85073003328"), Sha256("85073003328"));
}

TEST(PersonIndex, TheRootFollowsTheDefinitionAndEveryProofVerifies) {
  PersonIndex index("secret");
  std::map<Hash, PersonValue> expected;
  std::mt19937 random(7);
  for (uint64_t i = 0; i < 600; ++i) {
    Record record = Consultation(Niss(static_cast<int>(random() % 200)));
    const Hash leaf = HashLeaf(std::to_string(i));
    index.Add(record, i, leaf);
    index.Commit();
    const Hash key = PersonKey("secret", record.niss);
    expected[key] = Fold(expected[key], i, leaf);
    if (i % 97 == 0) {
      EXPECT_EQ(index.Root(), ReferenceRoot({expected.begin(), expected.end()})) << i;
    }
  }
  EXPECT_EQ(index.persons(), expected.size());
  const Hash root = index.Root();
  EXPECT_EQ(root, ReferenceRoot({expected.begin(), expected.end()}));
  for (const auto& [key, value] : expected) {
    EXPECT_EQ(index.Get(key), value);
    PersonIndexProof proof = index.Prove(key);
    EXPECT_TRUE(VerifyPersonIndex(root, key, value, proof));
    // One record fewer, one more, another count: refused.
    PersonValue fewer = value;
    --fewer.count;
    EXPECT_FALSE(VerifyPersonIndex(root, key, fewer, proof));
    EXPECT_FALSE(VerifyPersonIndex(root, key, Fold(value, 9999, HashLeaf("extra")), proof));
    EXPECT_FALSE(VerifyPersonIndex(root, key, PersonValue{}, proof));
  }
  // Absent people: proved absent, and not present with any value.
  for (int n = 200; n < 260; ++n) {
    const Hash key = PersonKey("secret", Niss(n));
    PersonIndexProof proof = index.Prove(key);
    EXPECT_TRUE(VerifyPersonIndex(root, key, PersonValue{}, proof)) << n;
    EXPECT_FALSE(VerifyPersonIndex(root, key, Fold({}, 1, HashLeaf("x")), proof)) << n;
  }
  // A proof of one person does not prove another.
  const Hash first = expected.begin()->first, second = std::next(expected.begin())->first;
  EXPECT_FALSE(VerifyPersonIndex(root, second, expected[first], index.Prove(first)));
  // A changed sibling breaks the proof.
  PersonIndexProof proof = index.Prove(first);
  ASSERT_FALSE(proof.path.empty());
  proof.path.back()[0] ^= 1;
  EXPECT_FALSE(VerifyPersonIndex(root, first, expected[first], proof));
}

TEST(PersonIndex, TheRootDoesNotDependOnTheOrderPeopleArrived) {
  std::vector<std::string> people;
  for (int n = 0; n < 100; ++n) people.push_back(Niss(n));
  PersonIndex forward("k"), backward("k");
  for (size_t i = 0; i < people.size(); ++i) forward.Add(Consultation(people[i]), 0, HashLeaf("x"));
  for (size_t i = people.size(); i-- > 0;) backward.Add(Consultation(people[i]), 0, HashLeaf("x"));
  EXPECT_EQ(forward.Root(), backward.Root());
}

TEST(PersonIndex, RollbackForgetsUncommittedRecords) {
  PersonIndex index("k");
  for (int n = 0; n < 50; ++n) index.Add(Consultation(Niss(n)), static_cast<uint64_t>(n), HashLeaf("a"));
  index.Commit();
  const Hash before = index.Root();
  const size_t persons = index.persons();
  // A transaction that did not commit: new people and known ones.
  for (int n = 25; n < 120; ++n) index.Add(Consultation(Niss(n)), 1000 + static_cast<uint64_t>(n), HashLeaf("b"));
  EXPECT_NE(index.Root(), before);
  index.Rollback();
  EXPECT_EQ(index.persons(), persons);
  EXPECT_EQ(index.Root(), before);
  PersonIndex rebuilt("k");
  for (int n = 0; n < 50; ++n) rebuilt.Add(Consultation(Niss(n)), static_cast<uint64_t>(n), HashLeaf("a"));
  EXPECT_EQ(rebuilt.Root(), before);
  for (int n = 50; n < 120; ++n) {
    const Hash key = PersonKey("k", Niss(n));
    EXPECT_EQ(index.Get(key).count, 0u);
    EXPECT_TRUE(VerifyPersonIndex(before, key, PersonValue{}, index.Prove(key)));
  }
}

}  // namespace
}  // namespace carrefour::audit
