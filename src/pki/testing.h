// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test-only: a throwaway PKI for tests that need real certificates (mutual
// TLS, connectors, integration). Link carrefour::pki.
//
//   pki::TestPki pki = pki::TestPki::Create({"hub", "mut-100"});
//   // pki::CaCertPath(pki.dir), pki::CertPath(pki.dir, "hub"), ...
//   std::filesystem::remove_all(pki.dir);  // the caller cleans up
//
// A test suite's shared PKI:
//   static void SetUpTestSuite() { pki_ = pki::TestPki::New({"hub", "nr"}); }
//   static void TearDownTestSuite() { pki::TestPki::Delete(pki_); }

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "pki/pki.h"

namespace carrefour::pki {

struct TestPki {
  std::filesystem::path dir;

  // A fresh temp dir (mode 0700) holding a CA and NAME.crt/NAME.key for each
  // name, valid for `hosts`. Aborts loudly on failure: it is test code, and a
  // test running without its certificates would only fail obscurely later.
  static TestPki Create(const std::vector<std::string>& names,
                        std::vector<std::string> hosts = {"127.0.0.1", "localhost"}) {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    if (ec) Die("no temp directory: " + ec.message());
    std::string pattern = (base / "carrefour-pki-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) Die("mkdtemp failed for " + pattern);
    TestPki pki{pattern};
    Check(InitAuthority(pki.dir, AuthorityOptions{}), "init");
    for (const std::string& name : names) {
      IssueOptions options;
      options.name = name;
      options.hosts = hosts;
      Check(IssueCertificate(pki.dir, options), "issue " + name);
    }
    return pki;
  }

  // Create() on the heap, for a suite's static member.
  static TestPki* New(const std::vector<std::string>& names) { return new TestPki(Create(names)); }

  // Removes the folder, frees `pki` and clears the pointer (null: nothing).
  static void Delete(TestPki*& pki) {
    if (pki == nullptr) return;
    std::error_code ignored;
    std::filesystem::remove_all(pki->dir, ignored);
    delete pki;
    pki = nullptr;
  }

 private:
  [[noreturn]] static void Die(const std::string& message) {
    std::fprintf(stderr, "TestPki: %s\n", message.c_str());
    std::abort();
  }
  static void Check(const Status& status, const std::string& what) {
    if (!status.ok()) Die(what + ": " + status.ToString());
  }
};

}  // namespace carrefour::pki
