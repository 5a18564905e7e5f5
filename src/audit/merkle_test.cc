// SPDX-License-Identifier: EUPL-1.2
#include "audit/merkle.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "audit/note.h"
#include "core/testing/temp_dir.h"

namespace carrefour::audit {
namespace {

// The leaves of the RFC 6962 test vectors (certificate-transparency's
// merkle_tree_test), and their published roots and proofs.
std::vector<std::string> VectorLeaves() {
  return {std::string(),
          std::string("\x00", 1),
          "\x10",
          "\x20\x21",
          "\x30\x31",
          "\x40\x41\x42\x43",
          "\x50\x51\x52\x53\x54\x55\x56\x57",
          "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
}

const char* const kRoots[] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

std::vector<std::string> Hex(const std::vector<Hash>& hashes) {
  std::vector<std::string> out;
  for (const Hash& hash : hashes) out.push_back(ToHex(hash));
  return out;
}

MerkleTree VectorTree() {
  MerkleTree tree;
  for (const std::string& leaf : VectorLeaves()) tree.Append(HashLeaf(leaf));
  return tree;
}

TEST(Merkle, RootsMatchTheRfc6962Vectors) {
  MerkleTree tree = VectorTree();
  CompactRange range;
  EXPECT_EQ(ToHex(tree.Root(0)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(range.Root(), EmptyRoot());
  for (size_t size = 1; size <= 8; ++size) {
    SCOPED_TRACE(size);
    range.Append(HashLeaf(VectorLeaves()[size - 1]));
    EXPECT_EQ(ToHex(tree.Root(size)), kRoots[size - 1]);
    EXPECT_EQ(ToHex(range.Root()), kRoots[size - 1]);
  }
}

TEST(Merkle, ProofsMatchTheRfc6962Vectors) {
  MerkleTree tree = VectorTree();
  EXPECT_EQ(Hex(*tree.InclusionProof(0, 8)),
            (std::vector<std::string>{
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}));
  EXPECT_EQ(Hex(*tree.InclusionProof(5, 8)),
            (std::vector<std::string>{
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}));
  EXPECT_EQ(Hex(*tree.ConsistencyProof(3, 7)),
            (std::vector<std::string>{
                "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
                "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"}));
  EXPECT_EQ(Hex(*tree.ConsistencyProof(4, 8)),
            (std::vector<std::string>{
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}));
  EXPECT_TRUE(tree.ConsistencyProof(8, 8)->empty());
  EXPECT_FALSE(tree.InclusionProof(8, 8));
  EXPECT_FALSE(tree.InclusionProof(0, 9));
  EXPECT_FALSE(tree.ConsistencyProof(0, 8));
  EXPECT_FALSE(tree.ConsistencyProof(5, 4));
}

// Every proof of every tree up to 70 leaves verifies with the RFC 9162
// algorithms (written apart from the ones that build them), and fails for
// the wrong leaf, index or root.
TEST(Merkle, EveryProofVerifiesAndNoWrongOneDoes) {
  MerkleTree tree;
  for (int i = 0; i < 70; ++i) tree.Append(HashLeaf(std::to_string(i)));
  for (uint64_t size = 1; size <= tree.size(); ++size) {
    Hash root = tree.Root(size);
    for (uint64_t index = 0; index < size; ++index) {
      std::vector<Hash> proof = *tree.InclusionProof(index, size);
      ASSERT_TRUE(VerifyInclusion(index, size, tree.Leaf(index), proof, root)) << index << "/" << size;
      if (size > 1) {
        uint64_t other = (index + 1) % size;
        EXPECT_FALSE(VerifyInclusion(other, size, tree.Leaf(index), proof, root));
        EXPECT_FALSE(VerifyInclusion(index, size, tree.Leaf(other), proof, root));
      }
    }
    for (uint64_t from = 1; from <= size; ++from) {
      std::vector<Hash> proof = *tree.ConsistencyProof(from, size);
      Hash old_root = tree.Root(from);
      ASSERT_TRUE(VerifyConsistency(from, size, old_root, root, proof)) << from << "->" << size;
      if (from < size) {
        EXPECT_FALSE(VerifyConsistency(from, size, tree.Root(from - 1 == 0 ? 2 : from - 1), root, proof));
        EXPECT_FALSE(VerifyConsistency(from, size, old_root, tree.Root(size - 1), proof));
      }
    }
  }
}

TEST(Merkle, TruncateForgetsTheDroppedLeaves) {
  MerkleTree tree;
  for (int i = 0; i < 13; ++i) tree.Append(HashLeaf(std::to_string(i)));
  Hash root = tree.Root(9);
  tree.Truncate(9);
  EXPECT_EQ(tree.size(), 9u);
  EXPECT_EQ(tree.Root(), root);
  tree.Append(HashLeaf("x"));
  MerkleTree fresh;
  for (int i = 0; i < 9; ++i) fresh.Append(HashLeaf(std::to_string(i)));
  fresh.Append(HashLeaf("x"));
  EXPECT_EQ(tree.Root(), fresh.Root());
}

TEST(Base64, RoundTripsAndRefusesGarbage) {
  for (std::string bytes : {std::string(), std::string("a"), std::string("ab"), std::string("abc"),
                            std::string("\x00\xff\x10", 3)}) {
    EXPECT_EQ(FromBase64(ToBase64(bytes)), bytes);
  }
  EXPECT_EQ(ToBase64(std::string("ab")), "YWI=");
  EXPECT_FALSE(FromBase64("YWI"));
  EXPECT_FALSE(FromBase64("Y=WI"));
  EXPECT_FALSE(FromBase64("YW I"));
}

// The example of golang.org/x/mod/sumdb/note, whose keys and signature are
// published: Ed25519 is deterministic, so signing its text with its key
// gives its signature exactly.
TEST(SignedNote, MatchesThePublishedExample) {
  std::optional<std::string> private_key = FromBase64("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz");
  ASSERT_TRUE(private_key);
  auto signer = NoteSigner::FromSeed("PeterNeumann", private_key->substr(1));
  ASSERT_TRUE(signer) << signer.error().ToString();
  EXPECT_EQ((*signer)->verifier_key(), "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  const std::string text =
      "If you think cryptography is the answer to your problem,\n"
      "then you don't know what your problem is.\n";
  const std::string note = (*signer)->Sign(text);
  EXPECT_EQ(note, text +
                      "\n\xE2\x80\x94 PeterNeumann "
                      "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n");
  auto verifier = NoteVerifier::Parse((*signer)->verifier_key());
  ASSERT_TRUE(verifier);
  EXPECT_EQ(verifier->Open(note), text);
}

TEST(SignedNote, RefusesAChangedTextOrAnotherKey) {
  auto signer = NoteSigner::Generate("carrefour/hub-1");
  auto other = NoteSigner::Generate("carrefour/hub-1");
  ASSERT_TRUE(signer && other);
  std::string note = (*signer)->Sign(CheckpointText({"carrefour/hub-1", 3, HashLeaf("x")}));
  auto verifier = NoteVerifier::Parse((*signer)->verifier_key());
  ASSERT_TRUE(verifier);
  auto text = verifier->Open(note);
  ASSERT_TRUE(text);
  auto body = ParseCheckpointText(*text);
  ASSERT_TRUE(body);
  EXPECT_EQ(body->origin, "carrefour/hub-1");
  EXPECT_EQ(body->size, 3u);
  EXPECT_EQ(body->root, HashLeaf("x"));

  std::string changed = note;
  changed[changed.find('\n') + 1] = '4';  // the tree size
  EXPECT_FALSE(verifier->Open(changed));
  EXPECT_FALSE(NoteVerifier::Parse((*other)->verifier_key())->Open(note));
  EXPECT_FALSE(NoteVerifier::Parse("carrefour/hub-1+00000000+AAAA"));
  EXPECT_FALSE(ParseCheckpointText("carrefour/hub-1\n03\nAAAA\n"));
}

// Notes signed in turn with different keys, on one thread and on several
// at once, each carry their own key's signature (the published example's
// exactly). Reusing one signing context per thread, tried to save a tenth
// of a signature on the audit writer, failed this on the other threads
// (OpenSSL 3.0): NoteSigner::Sign makes a context per note.
TEST(SignedNote, NotesSignedInTurnOnSeveralThreadsCarryTheirOwnKeysSignature) {
  std::optional<std::string> private_key = FromBase64("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz");
  ASSERT_TRUE(private_key);
  auto peter = NoteSigner::FromSeed("PeterNeumann", private_key->substr(1));
  auto hub = NoteSigner::Generate("carrefour/hub-1");
  ASSERT_TRUE(peter && hub);
  const std::string text =
      "If you think cryptography is the answer to your problem,\n"
      "then you don't know what your problem is.\n";
  const std::string published =
      text + "\n\xE2\x80\x94 PeterNeumann "
             "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
  auto hub_verifier = NoteVerifier::Parse((*hub)->verifier_key());
  ASSERT_TRUE(hub_verifier);
  auto sign_in_turn = [&](int rounds, std::vector<std::string>* failures) {
    for (int i = 0; i < rounds; ++i) {
      const std::string checkpoint = CheckpointText({"carrefour/hub-1", uint64_t(i), HashLeaf(std::to_string(i))});
      const std::string mine = (*hub)->Sign(checkpoint);
      if (hub_verifier->Open(mine) != checkpoint) failures->push_back("hub note " + std::to_string(i));
      if ((*peter)->Sign(text) != published) failures->push_back("published note " + std::to_string(i));
    }
  };
  std::vector<std::string> failures;
  sign_in_turn(20, &failures);
  EXPECT_TRUE(failures.empty()) << failures.front();
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& thread_failures : per_thread) threads.emplace_back(sign_in_turn, 50, &thread_failures);
  for (std::thread& thread : threads) thread.join();
  for (const auto& thread_failures : per_thread) {
    EXPECT_TRUE(thread_failures.empty()) << thread_failures.front();
  }
}


// The node's signing key is what makes its checkpoints worth anything:
// kept owner-only, created once, and a key file the group or others may
// read, or a dangling link in its place, stops the node rather than being
// used or silently replaced (issue 22, items 3 and 11).
TEST(SignedNote, TheSigningKeyFileIsPrivateAndNeverReplaced) {
  namespace fs = std::filesystem;
  const fs::path dir = carrefour::testing::MakeTempDir("carrefour-note-key");
  const fs::path file = dir / "audit-hub-1.key";
  auto created = NoteSigner::LoadOrCreate("carrefour/hub-1", file);
  ASSERT_TRUE(created) << created.error().ToString();
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  auto again = NoteSigner::LoadOrCreate("carrefour/hub-1", file);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ((*again)->verifier_key(), (*created)->verifier_key());
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);

  fs::permissions(file, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  auto loose = NoteSigner::LoadOrCreate("carrefour/hub-1", file);
  ASSERT_FALSE(loose);
  EXPECT_NE(loose.error().message().find("accessible to group or others"), std::string::npos)
      << loose.error().ToString();

  const fs::path dangling = dir / "audit-hub-2.key";
  fs::create_symlink(dir / "nowhere", dangling);
  auto linked = NoteSigner::LoadOrCreate("carrefour/hub-2", dangling);
  ASSERT_FALSE(linked);
  EXPECT_NE(linked.error().message().find("exists but cannot be opened"), std::string::npos)
      << linked.error().ToString();
  EXPECT_FALSE(fs::exists(dir / "nowhere"));

  std::ofstream(dir / "audit-hub-3.key") << "not hex\n";
  fs::permissions(dir / "audit-hub-3.key", fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
  EXPECT_FALSE(NoteSigner::LoadOrCreate("carrefour/hub-3", dir / "audit-hub-3.key"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace carrefour::audit
