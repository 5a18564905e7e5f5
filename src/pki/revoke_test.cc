// SPDX-License-Identifier: EUPL-1.2
// Revocation: `pki revoke` and `pki crl` as the library does them, checked
// with OpenSSL's own verifier (the one the hub and connectors use).

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "pki/pki.h"
#include "pki/testing.h"
#include "pki/testing_openssl.h"

namespace carrefour::pki {
namespace {

namespace fs = std::filesystem;

using testing::Deleter;
using testing::ReadAll;
using testing::StoreCtxPtr;
using testing::StorePtr;
using testing::X509Ptr;
using CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL_free>>;

X509Ptr LoadCert(const fs::path& path) { return testing::ReadPem<X509Ptr, PEM_read_bio_X509>(path); }

CrlPtr LoadCrl(const fs::path& path) { return testing::ReadPem<CrlPtr, PEM_read_bio_X509_CRL>(path); }

// What OpenSSL says of `cert` against the CA and crl.pem of `dir`, with CRL
// checking on: X509_V_OK or the error.
int VerifyWithCrl(const fs::path& dir, const fs::path& cert_path) {
  StorePtr store{X509_STORE_new()};
  X509Ptr ca = LoadCert(CaCertPath(dir));
  X509_STORE_add_cert(store.get(), ca.get());
  CrlPtr crl = LoadCrl(CrlPath(dir));
  EXPECT_NE(crl, nullptr);
  X509_STORE_add_crl(store.get(), crl.get());
  X509_STORE_set_flags(store.get(), X509_V_FLAG_CRL_CHECK | X509_V_FLAG_X509_STRICT);
  X509Ptr cert = LoadCert(cert_path);
  StoreCtxPtr ctx{X509_STORE_CTX_new()};
  X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr);
  X509_verify_cert(ctx.get());
  return X509_STORE_CTX_get_error(ctx.get());
}

class RevokeTest : public ::testing::Test {
 protected:
  void SetUp() override { pki_ = TestPki::Create({"hub", "mut-100", "mut-200"}); }
  void TearDown() override { fs::remove_all(pki_.dir); }

  Status Reissue(const std::string& name) {
    IssueOptions options;
    options.name = name;
    options.hosts = {"127.0.0.1"};
    options.force = true;
    return IssueCertificate(pki_.dir, options);
  }

  TestPki pki_;
};

TEST_F(RevokeTest, RevokesEveryCertificateEverIssuedToTheName) {
  Result<std::string> first = SerialOf(CertPath(pki_.dir, "mut-100"));
  ASSERT_TRUE(first.has_value());
  // The first certificate kept aside: it is what a thief would hold.
  fs::copy_file(CertPath(pki_.dir, "mut-100"), pki_.dir / "old.crt");
  ASSERT_TRUE(Reissue("mut-100").ok());
  Result<std::string> second = SerialOf(CertPath(pki_.dir, "mut-100"));
  ASSERT_TRUE(second.has_value());
  ASSERT_NE(*first, *second);

  Result<std::vector<std::string>> revoked = RevokeCertificates(pki_.dir, "mut-100");
  ASSERT_TRUE(revoked.has_value()) << revoked.error().ToString();
  EXPECT_EQ(*revoked, (std::vector<std::string>{*first, *second}));

  EXPECT_EQ(VerifyWithCrl(pki_.dir, pki_.dir / "old.crt"), X509_V_ERR_CERT_REVOKED);
  EXPECT_EQ(VerifyWithCrl(pki_.dir, CertPath(pki_.dir, "mut-100")), X509_V_ERR_CERT_REVOKED);
  EXPECT_EQ(VerifyWithCrl(pki_.dir, CertPath(pki_.dir, "mut-200")), X509_V_OK);
  EXPECT_EQ(VerifyWithCrl(pki_.dir, CertPath(pki_.dir, "hub")), X509_V_OK);

  // A certificate issued after the revocation is good again.
  ASSERT_TRUE(Reissue("mut-100").ok());
  EXPECT_EQ(VerifyWithCrl(pki_.dir, CertPath(pki_.dir, "mut-100")), X509_V_OK);
}

TEST_F(RevokeTest, TheCrlIsSignedByTheCaAndNumberedAndDated) {
  ASSERT_TRUE(RevokeCertificates(pki_.dir, "mut-100", {.days = 3}).has_value());
  CrlPtr crl = LoadCrl(CrlPath(pki_.dir));
  ASSERT_NE(crl, nullptr);
  X509Ptr ca = LoadCert(CaCertPath(pki_.dir));
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(ca.get())), 1);
  EXPECT_EQ(X509_CRL_get_version(crl.get()), X509_CRL_VERSION_2);
  EXPECT_EQ(X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(ca.get())), 0);
  int days = 0, seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, nullptr, X509_CRL_get0_nextUpdate(crl.get())), 1);
  EXPECT_TRUE(days == 3 || (days == 2 && seconds > 86000)) << days << " " << seconds;
  std::unique_ptr<ASN1_INTEGER, Deleter<ASN1_INTEGER_free>> number{static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, nullptr, nullptr))};
  ASSERT_NE(number, nullptr);
  EXPECT_EQ(ASN1_INTEGER_get(number.get()), 1);

  // Renewal keeps the entries, counts up, moves next-update.
  ASSERT_TRUE(RenewCrl(pki_.dir, {.days = 7}).ok());
  crl = LoadCrl(CrlPath(pki_.dir));
  ASSERT_NE(crl, nullptr);
  number.reset(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, nullptr, nullptr)));
  EXPECT_EQ(ASN1_INTEGER_get(number.get()), 2);
  EXPECT_EQ(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.get())), 1);
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, nullptr, X509_CRL_get0_nextUpdate(crl.get())), 1);
  EXPECT_GE(days, 6);
  EXPECT_EQ(VerifyWithCrl(pki_.dir, CertPath(pki_.dir, "mut-100")), X509_V_ERR_CERT_REVOKED);
}

TEST_F(RevokeTest, RevokingTwiceListsEachSerialOnce) {
  ASSERT_TRUE(RevokeCertificates(pki_.dir, "mut-100").has_value());
  ASSERT_TRUE(RevokeCertificates(pki_.dir, "mut-100").has_value());
  ASSERT_TRUE(RevokeCertificates(pki_.dir, "mut-200").has_value());
  CrlPtr crl = LoadCrl(CrlPath(pki_.dir));
  ASSERT_NE(crl, nullptr);
  EXPECT_EQ(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.get())), 2);
}

TEST_F(RevokeTest, RenewWithoutRevocationsWritesAnEmptyCrl) {
  ASSERT_TRUE(RenewCrl(pki_.dir).ok());
  CrlPtr crl = LoadCrl(CrlPath(pki_.dir));
  ASSERT_NE(crl, nullptr);
  // An empty CRL has no list at all (OpenSSL's num() of it is -1).
  EXPECT_LE(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.get())), 0);
  EXPECT_EQ(VerifyWithCrl(pki_.dir, CertPath(pki_.dir, "mut-100")), X509_V_OK);
}

TEST_F(RevokeTest, RefusesUnknownNamesBadInputAndAForeignCrl) {
  EXPECT_EQ(RevokeCertificates(pki_.dir, "nobody").error().code(), StatusCode::kNotFound);
  EXPECT_EQ(RevokeCertificates(pki_.dir, "../etc").error().code(), StatusCode::kInvalidRequest);
  EXPECT_EQ(RevokeCertificates(pki_.dir, "mut-100", {.days = 0}).error().code(),
            StatusCode::kInvalidRequest);
  EXPECT_EQ(RenewCrl(pki_.dir / "missing").code(), StatusCode::kNotFound);

  // Another CA's CRL in the way is never overwritten: it may be the only
  // record of a revocation.
  TestPki other = TestPki::Create({"mut-100"});
  ASSERT_TRUE(RenewCrl(other.dir).ok());
  fs::copy_file(CrlPath(other.dir), CrlPath(pki_.dir));
  std::string before = ReadAll(CrlPath(pki_.dir));
  Result<std::vector<std::string>> refused = RevokeCertificates(pki_.dir, "mut-100");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidRequest);
  EXPECT_NE(refused.error().message().find("not signed by the CA"), std::string::npos);
  EXPECT_EQ(ReadAll(CrlPath(pki_.dir)), before);

  std::ofstream(CrlPath(pki_.dir)) << "garbage";
  EXPECT_EQ(RenewCrl(pki_.dir).code(), StatusCode::kInvalidRequest);
  fs::remove_all(other.dir);
}

}  // namespace
}  // namespace carrefour::pki
