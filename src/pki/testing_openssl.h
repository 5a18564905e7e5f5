// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test-only: OpenSSL handles that free themselves and PEM files read back,
// for the tests that check the pki's output with OpenSSL's own parser and
// verifier (pki_test, revoke_test).

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "core/free_deleter.h"

namespace carrefour::pki::testing {

template <auto kFree>
using Deleter = FreeWith<kFree>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;

inline std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The PEM file at `path`, read by `read` (PEM_read_bio_X509,
// PEM_read_bio_PrivateKey, ...); null when it holds none.
template <typename Handle, auto kRead>
Handle ReadPem(const std::filesystem::path& path) {
  std::string pem = ReadAll(path);
  BioPtr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  return Handle{kRead(bio.get(), nullptr, nullptr, nullptr)};
}

}  // namespace carrefour::pki::testing
