// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <openssl/evp.h>

#include <cstdlib>

namespace carrefour::audit::internal {

// SHA-256 fetched once for the process. Passing EVP_sha256() to
// EVP_DigestInit_ex fetches the implementation again at every call (in
// OpenSSL 3, a read lock and a name lookup), which is most of the cost of
// hashing 65 bytes: the audit log hashes a few dozen times per record.
inline const EVP_MD* Sha256Md() {
  static EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) std::abort();  // libcrypto without SHA-256: nothing works
    return fetched;
  }();
  return md;
}

}  // namespace carrefour::audit::internal
