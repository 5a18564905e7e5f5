// SPDX-License-Identifier: EUPL-1.2
#include "audit/person_index.h"

#include <cstdlib>

#include "core/crypto.h"

namespace carrefour::audit {
namespace {

constexpr size_t kKeyBits = 256;

int Bit(const Hash& key, size_t depth) { return (key[depth / 8] >> (7 - depth % 8)) & 1; }

std::string_view View(const Hash& hash) {
  return {reinterpret_cast<const char*>(hash.data()), hash.size()};
}

void PutBigEndian(uint64_t value, char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

Hash EntryHash(const Hash& key, const PersonValue& value) {
  std::string bytes(View(key));
  bytes += value.Bytes();
  return HashLeaf(bytes);
}

}  // namespace

std::string PersonValue::Bytes() const {
  std::string out(8, '\0');
  PutBigEndian(count, out.data());
  out.append(View(accumulator));
  return out;
}

PersonValue Fold(const PersonValue& value, uint64_t index, const Hash& leaf) {
  thread_local crypto::Sha256 sha;
  char position[8];
  PutBigEndian(index, position);
  PersonValue out;
  out.count = value.count + 1;
  out.accumulator = sha.Update(value.accumulator.data(), value.accumulator.size())
                        .Update(position, sizeof position)
                        .Update(leaf.data(), leaf.size())
                        .Final();
  return out;
}

bool IndexedByPerson(const Record& record) {
  return (record.kind == Kind::kConsultation || record.kind == Kind::kResearch) && !record.niss.empty();
}

Hash PersonKey(std::string_view index_key, std::string_view niss) {
  return PersonIndex(std::string(index_key)).KeyOf(niss);
}

bool VerifyPersonIndex(const Hash& root, const Hash& key, const PersonValue& value,
                       const PersonIndexProof& proof) {
  const size_t depth = proof.path.size();
  if (depth > kKeyBits) return false;
  Hash hash{};  // an empty subtree
  if (value.count > 0) {
    if (!proof.leaf || proof.leaf->key != key || proof.leaf->value != value) return false;
    hash = EntryHash(key, value);
  } else if (proof.leaf) {
    // Absent: the path ends at another key's entry, which must lie on the
    // key's path.
    if (proof.leaf->key == key || proof.leaf->value.count == 0) return false;
    for (size_t d = 0; d < depth; ++d) {
      if (Bit(proof.leaf->key, d) != Bit(key, d)) return false;
    }
    hash = EntryHash(proof.leaf->key, proof.leaf->value);
  }
  for (size_t d = depth; d-- > 0;) {
    hash = Bit(key, d) == 0 ? HashChildren(hash, proof.path[d]) : HashChildren(proof.path[d], hash);
  }
  return hash == root;
}

// A leaf holds one entry; an inner node has at least two entries below it.
struct PersonIndex::Node {
  Hash hash{};
  bool dirty = true;
  bool leaf = false;
  Hash key{};
  PersonValue value;
  std::unique_ptr<Node> child[2];
};

namespace {

using NodePtr = std::unique_ptr<PersonIndex::Node>;

const Hash& Rehash(PersonIndex::Node* node);

Hash HashOf(PersonIndex::Node* node) { return node == nullptr ? Hash{} : Rehash(node); }

// A node's hash, recomputing what changed below it since it was last asked.
const Hash& Rehash(PersonIndex::Node* node) {
  if (node->dirty) {
    node->hash = node->leaf ? EntryHash(node->key, node->value)
                            : HashChildren(HashOf(node->child[0].get()), HashOf(node->child[1].get()));
    node->dirty = false;
  }
  return node->hash;
}

}  // namespace

// The key's HMAC state is built once: a key costs two copies of a digest
// state and two finals (crypto::HmacSha256), not a MAC fetch.
struct PersonIndex::Keyer {
  explicit Keyer(std::string_view key) : hmac(key) {}
  Hash Of(std::string_view niss) { return hmac.Mac(niss); }
  crypto::HmacSha256 hmac;
};

PersonIndex::PersonIndex() = default;
PersonIndex::PersonIndex(std::string index_key) : index_key_(std::move(index_key)) {
  if (!index_key_.empty()) keyer_ = std::make_unique<Keyer>(index_key_);
}
PersonIndex::~PersonIndex() = default;
PersonIndex::PersonIndex(PersonIndex&&) noexcept = default;
PersonIndex& PersonIndex::operator=(PersonIndex&&) noexcept = default;

Hash PersonIndex::KeyOf(std::string_view niss) const {
  if (!keyer_) std::abort();  // an index without a key indexes nothing
  return keyer_->Of(niss);
}

void PersonIndex::Add(const Record& record, uint64_t index, const Hash& leaf) {
  if (!keyer_ || !IndexedByPerson(record)) return;
  const Hash key = keyer_->Of(record.niss);
  Node& entry = Leaf(key);
  undo_.emplace_back(key, entry.value);
  entry.value = Fold(entry.value, index, leaf);
}

PersonValue PersonIndex::Get(const Hash& key) const {
  const Node* node = root_.get();
  for (size_t depth = 0; node != nullptr && !node->leaf; ++depth) node = node->child[Bit(key, depth)].get();
  if (node == nullptr || node->key != key) return {};
  return node->value;
}

PersonIndex::Node& PersonIndex::Leaf(const Hash& key) {
  NodePtr* slot = &root_;
  for (size_t depth = 0;; ++depth) {
    Node* node = slot->get();
    if (node == nullptr) {
      auto leaf = std::make_unique<Node>();
      leaf->leaf = true;
      leaf->key = key;
      *slot = std::move(leaf);
      ++persons_;
      return **slot;
    }
    node->dirty = true;
    if (node->leaf) {
      if (node->key == key) return *node;
      // Another entry here: it moves one level down under a new inner node,
      // and the key goes on from there (the two may share more bits).
      NodePtr existing = std::move(*slot);
      *slot = std::make_unique<Node>();
      const int side = Bit(existing->key, depth);
      (*slot)->child[side] = std::move(existing);
      node = slot->get();
    }
    slot = &node->child[Bit(key, depth)];
  }
}

void PersonIndex::Set(const Hash& key, const PersonValue& value) { Leaf(key).value = value; }

void PersonIndex::Erase(const Hash& key) {
  // The path from the root to the key's leaf.
  std::vector<NodePtr*> path;
  NodePtr* slot = &root_;
  for (size_t depth = 0; *slot != nullptr && !(*slot)->leaf; ++depth) {
    path.push_back(slot);
    slot = &(*slot)->child[Bit(key, depth)];
  }
  if (*slot == nullptr || (*slot)->key != key) return;
  slot->reset();
  --persons_;
  // An inner node left with a single entry below it becomes that entry.
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    Node* node = (*it)->get();
    node->dirty = true;
    Node* left = node->child[0].get();
    Node* right = node->child[1].get();
    if (left == nullptr && right != nullptr && right->leaf) {
      **it = std::move(node->child[1]);
    } else if (right == nullptr && left != nullptr && left->leaf) {
      **it = std::move(node->child[0]);
    }
  }
}

void PersonIndex::Rollback() {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    if (it->second.count == 0) {
      Erase(it->first);
    } else {
      Set(it->first, it->second);
    }
  }
  undo_.clear();
}

Hash PersonIndex::Root() { return HashOf(root_.get()); }

PersonIndexProof PersonIndex::Prove(const Hash& key) {
  Root();
  PersonIndexProof proof;
  Node* node = root_.get();
  for (size_t depth = 0; node != nullptr && !node->leaf; ++depth) {
    const int side = Bit(key, depth);
    proof.path.push_back(HashOf(node->child[1 - side].get()));
    node = node->child[side].get();
  }
  if (node != nullptr) proof.leaf = PersonIndexProof::Leaf{node->key, node->value};
  return proof;
}

}  // namespace carrefour::audit
