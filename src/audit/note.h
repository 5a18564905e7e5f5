// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "audit/merkle.h"
#include "core/result.h"

namespace carrefour::audit {

// Signed notes (C2SP signed-note) with Ed25519 keys, and the checkpoints
// (C2SP tlog-checkpoint) that each hub node signs over its audit tree
// (docs/api.md 6.1, docs/transparency.md).
//
// A note is UTF-8 text ending in a newline, a blank line, then one line per
// signature: "\u2014 <key name> <base64(4-byte key id || signature)>". The
// key id is the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key),
// big-endian; the verifier key text is "<name>+<8 hex digits of the id>+
// <base64(0x01 || public key)>".

// "carrefour/<node>": the origin line of a node's checkpoints and the name
// of its key.
std::string CheckpointOrigin(std::string_view node);

// A node id that can name a key and a file: 1 to 64 of [A-Za-z0-9._-].
Status CheckNodeId(std::string_view node);

// Where a data folder keeps `node`'s signing key: DIR/audit-<node>.key.
std::filesystem::path SigningKeyFile(const std::filesystem::path& data_dir, std::string_view node);

class NoteSigner {
 public:
  ~NoteSigner();
  NoteSigner(const NoteSigner&) = delete;
  NoteSigner& operator=(const NoteSigner&) = delete;

  // The key of a 32-byte Ed25519 seed.
  static Result<std::shared_ptr<const NoteSigner>> FromSeed(std::string name,
                                                            std::string_view seed);
  // A fresh key (tests, and nodes without a data folder).
  static Result<std::shared_ptr<const NoteSigner>> Generate(std::string name);
  // The key kept in `file` (its 32-byte Ed25519 seed in hex), created when
  // absent: written to a temporary file, synced, then linked into place, so
  // a crash never leaves a half-written key and two processes end up with
  // the same one; mode 0600 (core/secret_file.h). Internal errors name the
  // file: one the group or others may read, one that exists but cannot be
  // opened, one that holds no key.
  static Result<std::shared_ptr<const NoteSigner>> LoadOrCreate(std::string name,
                                                                const std::filesystem::path& file);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  const std::string& verifier_key() const { return verifier_key_; }
  // `text` (ending in a newline), a blank line and this key's signature line.
  std::string Sign(std::string_view text) const;

 private:
  struct Key;
  NoteSigner(std::string name, std::unique_ptr<Key> key);

  std::string name_;
  std::unique_ptr<Key> key_;
  uint32_t key_id_ = 0;
  std::string verifier_key_;
};

class NoteVerifier {
 public:
  ~NoteVerifier();
  NoteVerifier(NoteVerifier&&) noexcept;
  NoteVerifier& operator=(NoteVerifier&&) noexcept;

  // From "<name>+<hex id>+<base64 key>"; an error naming what is wrong.
  static Result<NoteVerifier> Parse(std::string_view verifier_key);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  // The note's text when one of its signature lines is this key's and
  // verifies; an error otherwise ("not signed by ...", "bad signature").
  Result<std::string> Open(std::string_view note) const;

 private:
  struct Key;
  NoteVerifier() = default;
  std::string name_;
  uint32_t key_id_ = 0;
  std::unique_ptr<Key> key_;
};

struct CheckpointBody {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
};

// "<origin>\n<size>\n<base64 root>\n": what a checkpoint signs (docs/api.md
// 6.1). Parsing ignores extension lines after the root.
std::string CheckpointText(const CheckpointBody& body);
Result<CheckpointBody> ParseCheckpointText(std::string_view text);

// "carrefour/<node>/person-index": the origin line of the note that commits
// a node's person index (audit/person_index.h) next to each checkpoint. A
// node id has no '/', so it never reads as a checkpoint's origin.
std::string PersonIndexOrigin(std::string_view node);
// The same three lines as a checkpoint, for the person index: its origin,
// the tree size it covers, the index's base64 root; signed by the node's
// key, under the same key name.
std::string PersonIndexText(std::string_view node, uint64_t size, const Hash& root);

}  // namespace carrefour::audit
