// SPDX-License-Identifier: EUPL-1.2
#include "directory/internal/id_index.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace carrefour::directory::internal {
namespace {

TEST(IdIndex, FindsEveryIdAndNothingElse) {
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back("inst-" + std::to_string(i));
  ids.push_back("");                                        // the empty id
  ids.push_back("a-rather-long-institution-identifier-x");  // several words
  std::vector<std::string_view> views(ids.begin(), ids.end());
  IdIndex index(views);
  for (uint32_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(ids[i]);
    EXPECT_EQ(index.Find(ids[i]), i);
  }
  for (const std::string& missing : std::vector<std::string>{
           "inst-1000", "inst-", "inst-00", "INST-1", "a-rather-long-institution-identifier-y",
           "a-rather-long-institution-identifier-x ", std::string("inst-1\0", 7)}) {
    SCOPED_TRACE(missing);
    EXPECT_EQ(index.Find(missing), IdIndex::kNotFound);
  }
}

TEST(IdIndex, KeepsTheFirstOfRepeatedIds) {
  IdIndex index({"a", "b", "a"});
  EXPECT_EQ(index.Find("a"), 0u);
  EXPECT_EQ(index.Find("b"), 1u);
}

TEST(IdIndex, EmptyFindsNothing) {
  EXPECT_EQ(IdIndex().Find("a"), IdIndex::kNotFound);
  EXPECT_EQ(IdIndex(std::vector<std::string_view>{}).Find(""), IdIndex::kNotFound);
}

TEST(HashId, DependsOnEveryByteAndTheLength) {
  EXPECT_NE(HashId("inst-1"), HashId("inst-2"));
  EXPECT_NE(HashId("abcdefgh1"), HashId("abcdefgh2"));
  EXPECT_NE(HashId(std::string_view("a\0", 2)), HashId("a"));
  EXPECT_EQ(HashId("person.address"), HashId(std::string("person.address")));
}

TEST(SameId, ComparesEveryByteOfEverySize) {
  // Every size up to 40, with a difference at each position in turn.
  for (size_t size = 0; size <= 40; ++size) {
    std::string a(size, 'x');
    for (size_t i = 0; i < size; ++i) a[i] = static_cast<char>('a' + i % 26);
    SCOPED_TRACE(a);
    EXPECT_TRUE(SameId(a, std::string(a)));
    EXPECT_FALSE(SameId(a, a + "z"));
    for (size_t at = 0; at < size; ++at) {
      std::string b = a;
      b[at] = '#';
      EXPECT_FALSE(SameId(a, b)) << "differs at " << at;
    }
  }
}

}  // namespace
}  // namespace carrefour::directory::internal
