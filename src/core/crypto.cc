// SPDX-License-Identifier: EUPL-1.2
#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <cstring>

namespace carrefour::crypto {
namespace {

using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

}  // namespace

// The digest state is OpenSSL's plain SHA256_CTX, not an EVP_MD_CTX: the
// same code (SHA extensions where the CPU has them) without the provider
// dispatch of each EVP call, and a plain struct, so that an HMAC's padded
// key states are copied by assignment instead of EVP_MD_CTX_copy_ex (which
// frees, allocates and cleanses a provider context every time). The audit
// log hashes several times per record (chain, leaf, tree, person index) and
// MACs each number it indexes: with EVP this was most of its CPU. The
// low-level SHA-256 calls are deprecated in OpenSSL 3 but kept (the EVP
// layer itself is built on them); this file is their only user.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
struct Sha256::State {
  SHA256_CTX ctx;
};

Sha256::Sha256() : state_(std::make_unique<State>()) { SHA256_Init(&state_->ctx); }

Sha256::~Sha256() = default;

Sha256& Sha256::Update(const void* data, size_t size) {
  SHA256_Update(&state_->ctx, data, size);
  return *this;
}

Digest Sha256::Final() {
  Digest out{};
  SHA256_Final(out.data(), &state_->ctx);
  SHA256_Init(&state_->ctx);
  return out;
}

Digest Sha256Of(std::string_view bytes) {
  thread_local Sha256 sha;
  return sha.Update(bytes).Final();
}

HmacSha256::HmacSha256(std::string_view key) {
  unsigned char block[64] = {};
  if (key.size() > sizeof block) {
    Digest digest = Sha256Of(key);
    std::memcpy(block, digest.data(), digest.size());
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  unsigned char pad[64];
  for (size_t i = 0; i < sizeof pad; ++i) pad[i] = block[i] ^ 0x36;
  inner_.Update(pad, sizeof pad);
  for (size_t i = 0; i < sizeof pad; ++i) pad[i] = block[i] ^ 0x5c;
  outer_.Update(pad, sizeof pad);
}

HmacSha256::~HmacSha256() = default;

Digest HmacSha256::Mac(std::string_view message) {
  SHA256_CTX& scratch = scratch_.state_->ctx;
  Digest digest{};
  scratch = inner_.state_->ctx;
  SHA256_Update(&scratch, message.data(), message.size());
  SHA256_Final(digest.data(), &scratch);
  scratch = outer_.state_->ctx;
  SHA256_Update(&scratch, digest.data(), digest.size());
  SHA256_Final(digest.data(), &scratch);
  return digest;
}
#pragma GCC diagnostic pop

Digest HmacSha256Of(std::string_view key, std::string_view message) {
  Digest out{};
  unsigned int size = static_cast<unsigned int>(out.size());
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), Bytes(message), message.size(),
           out.data(), &size) == nullptr) {
    // HMAC-SHA-256 cannot fail short of memory exhaustion: a MAC that
    // silently is not one would be far worse than a crash.
    std::abort();
  }
  return out;
}

bool RandomBytes(std::span<uint8_t> out) {
  return RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool ConstantTimeEquals(const Digest& a, const Digest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), Bytes(bytes),
                             static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(size));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || (c == '=' && i + 2 >= text.size());
    if (!ok) return std::nullopt;
  }
  std::string out(text.size() / 4 * 3, '\0');
  int size = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), Bytes(text),
                             static_cast<int>(text.size()));
  if (size < 0) return std::nullopt;
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  if (padding == 1 && text.back() != '=') return std::nullopt;
  out.resize(static_cast<size_t>(size) - padding);
  return out;
}

namespace internal {

struct Pkey {
  explicit Pkey(EVP_PKEY* key) : pkey(key) {}
  ~Pkey() { EVP_PKEY_free(pkey); }
  Pkey(const Pkey&) = delete;
  Pkey& operator=(const Pkey&) = delete;
  EVP_PKEY* const pkey;
};

}  // namespace internal

namespace {

// nullptr when OpenSSL refused the key (or its size was not 32 bytes).
std::shared_ptr<const internal::Pkey> Ed25519Key(std::string_view raw, bool private_key) {
  if (raw.size() != 32) return nullptr;
  EVP_PKEY* key =
      private_key ? EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, Bytes(raw), raw.size())
                  : EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(raw), raw.size());
  if (key == nullptr) return nullptr;
  return std::make_shared<const internal::Pkey>(key);
}

}  // namespace

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(std::string_view seed) {
  std::shared_ptr<const internal::Pkey> key = Ed25519Key(seed, /*private_key=*/true);
  if (!key) return Error(InvalidRequest("not an Ed25519 private key"));
  return Ed25519PrivateKey(std::move(key));
}

std::string Ed25519PrivateKey::PublicKey() const {
  unsigned char raw[32];
  size_t size = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key_->pkey, raw, &size) != 1) std::abort();
  return std::string(reinterpret_cast<const char*>(raw), size);
}

std::string Ed25519PrivateKey::Sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char signature[64];
  size_t size = sizeof signature;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey) != 1 ||
      EVP_DigestSign(ctx.get(), signature, &size, Bytes(message), message.size()) != 1) {
    std::abort();  // a valid Ed25519 key always signs
  }
  return std::string(reinterpret_cast<const char*>(signature), size);
}

Result<Ed25519PublicKey> Ed25519PublicKey::FromRaw(std::string_view raw) {
  std::shared_ptr<const internal::Pkey> key = Ed25519Key(raw, /*private_key=*/false);
  if (!key) return Error(InvalidRequest("not an Ed25519 public key"));
  return Ed25519PublicKey(std::move(key));
}

bool Ed25519PublicKey::Verify(std::string_view message, std::string_view signature) const {
  MdCtxPtr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey) == 1 &&
         EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(message),
                          message.size()) == 1;
}

}  // namespace carrefour::crypto
