// SPDX-License-Identifier: EUPL-1.2
#include "audit/note.h"

#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "core/crypto.h"
#include "core/secret_file.h"

namespace carrefour::audit {
namespace {

constexpr uint8_t kEd25519 = 0x01;  // the signed-note signature type
constexpr std::string_view kDash = "\xE2\x80\x94";  // U+2014, opening a signature line

uint32_t KeyId(std::string_view name, std::string_view public_key) {
  std::string material(name);
  material.push_back('\n');
  material.push_back(static_cast<char>(kEd25519));
  material.append(public_key);
  const crypto::Digest digest = crypto::Sha256Of(material);
  return uint32_t{digest[0]} << 24 | uint32_t{digest[1]} << 16 | uint32_t{digest[2]} << 8 |
         uint32_t{digest[3]};
}

bool ValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c == '+' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  return true;
}

std::string HexBytes(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

std::optional<std::string> BytesFromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
    if (ec != std::errc() || end != hex.data() + i + 2) return std::nullopt;
    out.push_back(static_cast<char>(value));
  }
  return out;
}

}  // namespace

std::string CheckpointOrigin(std::string_view node) { return fmt::format("carrefour/{}", node); }

Status CheckNodeId(std::string_view node) {
  if (node.empty() || node.size() > 64) {
    return InvalidRequest("a node id has 1 to 64 characters");
  }
  for (char c : node) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return InvalidRequest(fmt::format(
          "node id '{}': only letters, digits, '.', '_' and '-' are allowed", node));
    }
  }
  return OkStatus();
}

std::filesystem::path SigningKeyFile(const std::filesystem::path& data_dir, std::string_view node) {
  return data_dir / fmt::format("audit-{}.key", node);
}

struct NoteSigner::Key {
  crypto::Ed25519PrivateKey key;
};

NoteSigner::NoteSigner(std::string name, std::unique_ptr<Key> key)
    : name_(std::move(name)), key_(std::move(key)) {
  const std::string raw = key_->key.PublicKey();
  key_id_ = KeyId(name_, raw);
  verifier_key_ = fmt::format("{}+{:08x}+{}", name_, key_id_,
                              ToBase64(std::string(1, static_cast<char>(kEd25519)) + raw));
}

NoteSigner::~NoteSigner() = default;

Result<std::shared_ptr<const NoteSigner>> NoteSigner::FromSeed(std::string name,
                                                               std::string_view seed) {
  if (!ValidKeyName(name)) return Error(InvalidRequest(fmt::format("bad key name '{}'", name)));
  Result<crypto::Ed25519PrivateKey> key = crypto::Ed25519PrivateKey::FromSeed(seed);
  if (!key) return Error(Internal("not an Ed25519 private key"));
  return std::shared_ptr<const NoteSigner>(
      new NoteSigner(std::move(name), std::make_unique<Key>(Key{std::move(*key)})));
}

Result<std::shared_ptr<const NoteSigner>> NoteSigner::Generate(std::string name) {
  uint8_t seed[32];
  if (!crypto::RandomBytes(seed)) return Error(Internal("no randomness for a signing key"));
  return FromSeed(std::move(name), std::string_view(reinterpret_cast<const char*>(seed), 32));
}

Result<std::shared_ptr<const NoteSigner>> NoteSigner::LoadOrCreate(
    std::string name, const std::filesystem::path& file) {
  // Written to a temporary file and linked (core/secret_file.h): two
  // processes creating the key at once end up with the same key, and a
  // crash never leaves it half written.
  Result<std::string> hex = LoadOrCreateSecret(
      file, "audit signing key",
      [](std::string_view text) {
        std::optional<std::string> seed = BytesFromHex(text);
        return seed && seed->size() == 32;
      },
      []() -> Result<std::string> {
        uint8_t seed[32];
        if (!crypto::RandomBytes(seed)) return Error(Internal("no randomness for a signing key"));
        return HexBytes(std::string_view(reinterpret_cast<const char*>(seed), sizeof seed));
      });
  if (!hex) return Error(Internal(hex.error().message()));
  return FromSeed(std::move(name), *BytesFromHex(*hex));
}

std::string NoteSigner::Sign(std::string_view text) const {
  std::string blob;
  for (int shift = 24; shift >= 0; shift -= 8) blob.push_back(static_cast<char>(key_id_ >> shift));
  blob.append(key_->key.Sign(text));
  return fmt::format("{}\n{} {} {}\n", text, kDash, name_, ToBase64(blob));
}

struct NoteVerifier::Key {
  crypto::Ed25519PublicKey key;
};

NoteVerifier::~NoteVerifier() = default;
NoteVerifier::NoteVerifier(NoteVerifier&&) noexcept = default;
NoteVerifier& NoteVerifier::operator=(NoteVerifier&&) noexcept = default;

Result<NoteVerifier> NoteVerifier::Parse(std::string_view text) {
  size_t first = text.find('+');
  size_t second = first == std::string_view::npos ? first : text.find('+', first + 1);
  if (second == std::string_view::npos) {
    return Error(InvalidRequest("a verifier key reads <name>+<hex key id>+<base64 key>"));
  }
  NoteVerifier verifier;
  verifier.name_ = std::string(text.substr(0, first));
  std::string_view id = text.substr(first + 1, second - first - 1);
  if (!ValidKeyName(verifier.name_)) {
    return Error(InvalidRequest(fmt::format("bad key name '{}'", verifier.name_)));
  }
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), verifier.key_id_, 16);
  if (id.size() != 8 || ec != std::errc() || end != id.data() + id.size()) {
    return Error(InvalidRequest("the key id of a verifier key is 8 hex digits"));
  }
  std::optional<std::string> key = FromBase64(text.substr(second + 1));
  if (!key || key->size() != 33 || static_cast<uint8_t>((*key)[0]) != kEd25519) {
    return Error(InvalidRequest("the verifier key is not an Ed25519 key"));
  }
  std::string raw = key->substr(1);
  if (KeyId(verifier.name_, raw) != verifier.key_id_) {
    return Error(InvalidRequest("the verifier key's id does not match its name and key"));
  }
  Result<crypto::Ed25519PublicKey> public_key = crypto::Ed25519PublicKey::FromRaw(raw);
  if (!public_key) return Error(InvalidRequest("the verifier key is not an Ed25519 key"));
  verifier.key_ = std::make_unique<Key>(Key{std::move(*public_key)});
  return verifier;
}

Result<std::string> NoteVerifier::Open(std::string_view note) const {
  size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos || note.empty() || note.back() != '\n') {
    return Error(InvalidRequest("not a signed note (text, a blank line, signature lines)"));
  }
  std::string_view text = note.substr(0, split + 1);
  std::string_view signatures = note.substr(split + 2);
  bool named = false;
  while (!signatures.empty()) {
    size_t end = signatures.find('\n');
    if (end == std::string_view::npos) break;
    std::string_view line = signatures.substr(0, end);
    signatures.remove_prefix(end + 1);
    if (line.substr(0, kDash.size()) != kDash || line.size() <= kDash.size() + 1 ||
        line[kDash.size()] != ' ') {
      return Error(InvalidRequest("a signature line starts with '\u2014 '"));
    }
    line.remove_prefix(kDash.size() + 1);
    size_t space = line.find(' ');
    if (space == std::string_view::npos) return Error(InvalidRequest("a signature line has no signature"));
    if (line.substr(0, space) != name_) continue;
    std::optional<std::string> blob = FromBase64(line.substr(space + 1));
    if (!blob || blob->size() < 4) return Error(InvalidRequest("a signature is not base64"));
    uint32_t id = uint32_t{static_cast<uint8_t>((*blob)[0])} << 24 |
                  uint32_t{static_cast<uint8_t>((*blob)[1])} << 16 |
                  uint32_t{static_cast<uint8_t>((*blob)[2])} << 8 |
                  uint32_t{static_cast<uint8_t>((*blob)[3])};
    if (id != key_id_) continue;
    named = true;
    if (key_->key.Verify(text, std::string_view(*blob).substr(4))) return std::string(text);
  }
  if (named) return Error(InvalidRequest(fmt::format("the signature by {} does not verify", name_)));
  return Error(InvalidRequest(fmt::format("the note is not signed by {}+{:08x}", name_, key_id_)));
}

std::string CheckpointText(const CheckpointBody& body) {
  return fmt::format("{}\n{}\n{}\n", body.origin, body.size, ToBase64(body.root));
}

std::string PersonIndexOrigin(std::string_view node) { return fmt::format("carrefour/{}/person-index", node); }

std::string PersonIndexText(std::string_view node, uint64_t size, const Hash& root) {
  return CheckpointText({PersonIndexOrigin(node), size, root});
}

Result<CheckpointBody> ParseCheckpointText(std::string_view text) {
  auto line = [&text]() -> std::optional<std::string_view> {
    size_t end = text.find('\n');
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view out = text.substr(0, end);
    text.remove_prefix(end + 1);
    return out;
  };
  std::optional<std::string_view> origin = line(), size = line(), root = line();
  if (!origin || !size || !root || origin->empty()) {
    return Error(InvalidRequest("a checkpoint has an origin, a tree size and a root hash line"));
  }
  CheckpointBody body;
  body.origin = std::string(*origin);
  auto [end, ec] = std::from_chars(size->data(), size->data() + size->size(), body.size);
  if (size->empty() || ec != std::errc() || end != size->data() + size->size() ||
      (size->size() > 1 && (*size)[0] == '0')) {
    return Error(InvalidRequest("a checkpoint's tree size is a decimal number"));
  }
  std::optional<std::string> hash = FromBase64(*root);
  if (!hash || hash->size() != 32) {
    return Error(InvalidRequest("a checkpoint's root hash is 32 bytes in base64"));
  }
  std::memcpy(body.root.data(), hash->data(), 32);
  return body;
}

}  // namespace carrefour::audit
