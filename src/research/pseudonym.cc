// SPDX-License-Identifier: EUPL-1.2
// Pseudonyms, the hub's research key, and who may run a project.

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "core/crypto.h"
#include "core/secret_file.h"
#include "research/research.h"

namespace carrefour::research {
namespace {

constexpr std::string_view kProjectKeyLabel = "carrefour research pseudonym v1";

// HMAC-SHA-256 cannot fail short of memory exhaustion, and then aborts
// (core/crypto.h): a pseudonym that silently is not one would be far worse.
void Hmac(const unsigned char* key, size_t key_size, std::string_view message,
          unsigned char out[32]) {
  const crypto::Digest digest =
      crypto::HmacSha256Of(std::string_view(reinterpret_cast<const char*>(key), key_size), message);
  std::memcpy(out, digest.data(), digest.size());
}

bool IsHexKey(std::string_view key) {
  return key.size() == 64 && key.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

Status CheckMayRun(const network::Definition& definition, const network::ResearchProject& project,
                   std::string_view institution, Date today) {
  if (definition.FindInstitution(institution) == nullptr) {
    return UnknownInstitution(
        fmt::format("'{}' is not an institution of the network definition", institution));
  }
  if (institution != project.requester) {
    return NotAuthorized(
        fmt::format("'{}' does not hold the legal basis {} of research project "
                    "'{}': only its requester '{}' may run it",
                    institution, project.legal_basis, project.id, project.requester));
  }
  if (!project.validity.Contains(today)) {
    return NotAuthorized(fmt::format(
        "the legal basis {} of research project '{}' is valid {}, "
        "not today ({})",
        project.legal_basis, project.id, project.validity.ToString(), today.ToString()));
  }
  return OkStatus();
}

Result<std::string> LoadOrCreateKey(const std::filesystem::path& file) {
  // Written to a temporary file and linked (core/secret_file.h): two
  // processes creating the key at once must not end up with two keys (the
  // pseudonyms of one would be lost), and a key that exists but cannot be
  // opened is an error, not a retry without end.
  Result<std::string> key = LoadOrCreateSecret(
      file, "research key", [](std::string_view text) { return IsHexKey(text); },
      []() -> Result<std::string> {
        uint8_t bytes[32];
        if (!crypto::RandomBytes(bytes)) {
          return Error(Internal("no randomness for the research key"));
        }
        std::string hex;
        for (unsigned char byte : bytes) hex += fmt::format("{:02x}", byte);
        return hex;
      });
  if (!key) return Error(Internal(key.error().message()));
  return key;
}

Pseudonymizer::Pseudonymizer(std::string_view master_key, std::string_view project) {
  std::string message(kProjectKeyLabel);
  message += '\0';
  message += project;
  Hmac(reinterpret_cast<const unsigned char*>(master_key.data()), master_key.size(), message, key_);
}

std::string Pseudonymizer::Pseudonym(std::string_view niss) const {
  unsigned char digest[32];
  Hmac(key_, sizeof key_, niss, digest);
  std::string out(32, 'a');
  for (size_t i = 0; i < 16; ++i) {
    out[2 * i] = static_cast<char>('a' + (digest[i] >> 4));
    out[2 * i + 1] = static_cast<char>('a' + (digest[i] & 0xf));
  }
  return out;
}

std::string Pseudonymizer::KeyFingerprint() const {
  unsigned char digest[32];
  // A label no national number can equal, so the fingerprint is never a
  // pseudonym's prefix.
  Hmac(key_, sizeof key_, "key fingerprint", digest);
  std::string out;
  for (size_t i = 0; i < 8; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

}  // namespace carrefour::research
