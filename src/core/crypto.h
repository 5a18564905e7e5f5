// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The cryptography the modules above need, and the one place outside net
// (TLS) and pki (certificates) where OpenSSL's libcrypto is called: SHA-256,
// HMAC-SHA-256, random bytes, constant-time comparison, Base64 and Ed25519.
// No OpenSSL header here: the modules that use it compile without it.
//
//   crypto::Digest d = crypto::Sha256Of("abc");
//   crypto::Sha256 sha;  sha.Update(a).Update(b);  crypto::Digest d = sha.Final();
//
// Failures of libcrypto itself (no SHA-256, no memory) abort: nothing above
// can answer sensibly without hashes. Untrusted input (a key, a signature,
// Base64 text) gets false, nullopt or a Status, never an abort.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"

namespace carrefour::crypto {

// A SHA-256 or HMAC-SHA-256 value.
using Digest = std::array<uint8_t, 32>;

// Incremental SHA-256. One object per thread (it holds a digest state);
// reusable: Final() readies it for the next message, so a hot path keeps one
// (thread_local) instead of allocating a state per hash.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Sha256& Update(std::string_view bytes) { return Update(bytes.data(), bytes.size()); }
  Sha256& Update(const void* data, size_t size);
  // The digest of everything updated since the last Final (or construction).
  Digest Final();

 private:
  friend class HmacSha256;
  struct State;
  std::unique_ptr<State> state_;
};

// SHA-256 of `bytes`, on the calling thread's own state (no allocation).
Digest Sha256Of(std::string_view bytes);

// HMAC-SHA-256 (RFC 2104) under one key, the key's two padded blocks hashed
// once: a MAC then costs two copies of a digest state and two finals. One
// object per thread (Mac uses a scratch state).
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  Digest Mac(std::string_view message);

 private:
  Sha256 inner_, outer_, scratch_;
};

// HMAC-SHA-256 of `message` under `key`, once.
Digest HmacSha256Of(std::string_view key, std::string_view message);

// Fills `out` from the system's cryptographically secure generator; false
// when it has no entropy to give (the caller says what it needed it for).
[[nodiscard]] bool RandomBytes(std::span<uint8_t> out);

// Whether `a` and `b` are equal, in a time that depends on their size only
// (which is not secret: compare digests of secrets to hide it too).
bool ConstantTimeEquals(std::string_view a, std::string_view b);
bool ConstantTimeEquals(const Digest& a, const Digest& b);

// Base64 (RFC 4648 section 4, with padding). Decoding is strict: nullopt for
// a size that is not a multiple of 4, a character outside the alphabet, or
// padding anywhere but at the end.
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

namespace internal {
struct Pkey;  // an OpenSSL key, shared and immutable
}  // namespace internal

// An Ed25519 (RFC 8032) signing key. Immutable: copies share it, and it is
// thread-safe.
class Ed25519PrivateKey {
 public:
  // `seed`: the 32-byte private key. invalid-request otherwise.
  static Result<Ed25519PrivateKey> FromSeed(std::string_view seed);

  std::string PublicKey() const;                   // 32 bytes
  std::string Sign(std::string_view message) const;  // 64 bytes

 private:
  explicit Ed25519PrivateKey(std::shared_ptr<const internal::Pkey> key) : key_(std::move(key)) {}
  std::shared_ptr<const internal::Pkey> key_;
};

// An Ed25519 public key. Immutable, as above.
class Ed25519PublicKey {
 public:
  // `raw`: the 32-byte public key. invalid-request otherwise.
  static Result<Ed25519PublicKey> FromRaw(std::string_view raw);

  // Whether `signature` is this key's over `message`.
  bool Verify(std::string_view message, std::string_view signature) const;

 private:
  explicit Ed25519PublicKey(std::shared_ptr<const internal::Pkey> key) : key_(std::move(key)) {}
  std::shared_ptr<const internal::Pkey> key_;
};

}  // namespace carrefour::crypto
