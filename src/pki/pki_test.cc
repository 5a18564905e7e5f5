// SPDX-License-Identifier: EUPL-1.2
#include "pki/pki.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <vector>

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
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;

X509Ptr LoadCert(const fs::path& path) {
  X509Ptr cert = testing::ReadPem<X509Ptr, PEM_read_bio_X509>(path);
  EXPECT_NE(cert, nullptr) << path;
  return cert;
}

EvpPkeyPtr LoadKey(const fs::path& path) {
  EvpPkeyPtr key = testing::ReadPem<EvpPkeyPtr, PEM_read_bio_PrivateKey>(path);
  EXPECT_NE(key, nullptr) << path;
  return key;
}

// OpenSSL's own chain verification, strict (RFC 5280 profile checks), for
// one purpose; returns X509_V_OK or the verification error.
int Verify(const fs::path& ca_cert, const fs::path& cert, int purpose) {
  X509Ptr ca = LoadCert(ca_cert);
  X509Ptr leaf = LoadCert(cert);
  StorePtr store{X509_STORE_new()};
  EXPECT_EQ(X509_STORE_add_cert(store.get(), ca.get()), 1);
  StoreCtxPtr ctx{X509_STORE_CTX_new()};
  EXPECT_EQ(X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr), 1);
  EXPECT_EQ(X509_STORE_CTX_set_purpose(ctx.get(), purpose), 1);
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_X509_STRICT);
  X509_verify_cert(ctx.get());
  return X509_STORE_CTX_get_error(ctx.get());
}

// The subjectAltName entries as "DNS:name" / "IP:address".
std::set<std::string> AltNames(const X509* cert) {
  std::set<std::string> out;
  GeneralNamesPtr names{
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))};
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_STRING* dns = name->d.dNSName;
      out.insert("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                      static_cast<size_t>(ASN1_STRING_length(dns))));
    } else if (name->type == GEN_IPADD) {
      const ASN1_STRING* ip = name->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
      inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof(text));
      out.insert(std::string("IP:") + text);
    } else {
      out.insert("other");
    }
  }
  return out;
}

std::set<std::string> FilesIn(const fs::path& dir) {
  std::set<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.insert(entry.path().filename());
  return files;
}

mode_t ModeOf(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

IssueOptions Issue(std::string name, std::vector<std::string> hosts = {}) {
  IssueOptions options;
  options.name = std::move(name);
  options.hosts = std::move(hosts);
  return options;
}

class PkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "carrefour-pki-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    dir_ = root_ / "pki";
  }
  void TearDown() override { fs::remove_all(root_); }

  void InitCa() { ASSERT_TRUE(InitAuthority(dir_, AuthorityOptions{}).ok()); }

  fs::path root_;
  fs::path dir_;  // not created: InitAuthority creates it
};

TEST_F(PkiTest, IssuedCertificateVerifiesForClientAndServer) {
  InitCa();
  ASSERT_TRUE(IssueCertificate(dir_, Issue("mut-100", {"127.0.0.1", "localhost"})).ok());
  struct Row {
    const char* label;
    int purpose;
  };
  const Row rows[] = {{"ssl client", X509_PURPOSE_SSL_CLIENT},
                      {"ssl server", X509_PURPOSE_SSL_SERVER}};
  for (const Row& row : rows) {
    SCOPED_TRACE(row.label);
    int error = Verify(CaCertPath(dir_), CertPath(dir_, "mut-100"), row.purpose);
    EXPECT_EQ(error, X509_V_OK) << X509_verify_cert_error_string(error);
  }
}

TEST_F(PkiTest, IssuedCertificateCarriesTheNameAndHostsAskedFor) {
  InitCa();
  ASSERT_TRUE(IssueCertificate(dir_, Issue("hub", {"127.0.0.1", "LocalHost", "hub.example.org",
                                                   "::1", "[fe80::1]", "127.0.0.1"}))
                  .ok());
  X509Ptr cert = LoadCert(CertPath(dir_, "hub"));
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(AltNames(cert.get()),
            (std::set<std::string>{"IP:127.0.0.1", "DNS:localhost", "DNS:hub.example.org", "IP:::1",
                                   "IP:fe80::1"}));
  // And OpenSSL's own host matching (what a TLS client does) agrees.
  EXPECT_EQ(X509_check_host(cert.get(), "hub.example.org", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  EXPECT_NE(X509_check_host(cert.get(), "other.example.org", 0, 0, nullptr), 1);

  Result<std::string> cn = CommonNameOf(CertPath(dir_, "hub"));
  ASSERT_TRUE(cn.has_value()) << cn.error().ToString();
  EXPECT_EQ(*cn, "hub");
}

TEST_F(PkiTest, CertificatesHaveTheExtensionsOfTheirRole) {
  InitCa();
  ASSERT_TRUE(IssueCertificate(dir_, Issue("onem", {"localhost"})).ok());
  X509Ptr ca = LoadCert(CaCertPath(dir_));
  X509Ptr leaf = LoadCert(CertPath(dir_, "onem"));
  ASSERT_NE(ca, nullptr);
  ASSERT_NE(leaf, nullptr);

  for (X509* cert : {ca.get(), leaf.get()}) {
    EXPECT_EQ(X509_get_version(cert), X509_VERSION_3);
    EXPECT_EQ(X509_get_signature_nid(cert), NID_ecdsa_with_SHA256);
    EXPECT_NE(X509_get0_subject_key_id(cert), nullptr);
    const EVP_PKEY* key = X509_get0_pubkey(cert);
    ASSERT_NE(key, nullptr);
    char curve[64] = {};
    size_t length = 0;
    ASSERT_EQ(EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof(curve), &length), 1);
    EXPECT_STREQ(curve, "prime256v1");
    // 128-bit positive serial.
    BignumPtr serial{ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)};
    EXPECT_FALSE(BN_is_negative(serial.get()));
    EXPECT_EQ(BN_num_bits(serial.get()), 128);
  }

  EXPECT_TRUE(X509_get_extension_flags(ca.get()) & EXFLAG_CA);
  // One level: nothing the CA signs may sign in turn.
  EXPECT_EQ(X509_get_pathlen(ca.get()), 0);
  EXPECT_EQ(X509_get_key_usage(ca.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));

  EXPECT_FALSE(X509_get_extension_flags(leaf.get()) & EXFLAG_CA);
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_EQ(X509_get_key_usage(leaf.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()),
            static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  EXPECT_NE(X509_get0_authority_key_id(leaf.get()), nullptr);
  // Valid from a little while ago (clock skew between peers).
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(leaf.get())), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(leaf.get())), 0);
}

TEST_F(PkiTest, KeyMatchesItsCertificate) {
  InitCa();
  ASSERT_TRUE(IssueCertificate(dir_, Issue("mut-100")).ok());
  ASSERT_TRUE(IssueCertificate(dir_, Issue("mut-200")).ok());
  X509Ptr cert = LoadCert(CertPath(dir_, "mut-100"));
  EvpPkeyPtr key = LoadKey(KeyPath(dir_, "mut-100"));
  EvpPkeyPtr other_key = LoadKey(KeyPath(dir_, "mut-200"));
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_NE(X509_check_private_key(cert.get(), other_key.get()), 1);

  X509Ptr ca = LoadCert(CaCertPath(dir_));
  EvpPkeyPtr ca_key = LoadKey(KeyPath(dir_, "ca"));
  EXPECT_EQ(X509_check_private_key(ca.get(), ca_key.get()), 1);
}

TEST_F(PkiTest, CertificateFromAnotherCaDoesNotVerify) {
  InitCa();
  fs::path other = root_ / "other";
  ASSERT_TRUE(InitAuthority(other, AuthorityOptions{}).ok());
  ASSERT_TRUE(IssueCertificate(other, Issue("mut-100")).ok());
  int error = Verify(CaCertPath(dir_), CertPath(other, "mut-100"), X509_PURPOSE_SSL_CLIENT);
  EXPECT_NE(error, X509_V_OK);
  EXPECT_EQ(error, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
      << X509_verify_cert_error_string(error);
}

TEST_F(PkiTest, RefusesToOverwriteWithoutForce) {
  InitCa();
  ASSERT_TRUE(IssueCertificate(dir_, Issue("mut-100")).ok());
  const std::string ca_before = ReadAll(CaCertPath(dir_));
  const std::string cert_before = ReadAll(CertPath(dir_, "mut-100"));
  const std::string key_before = ReadAll(KeyPath(dir_, "mut-100"));

  Status init_again = InitAuthority(dir_, AuthorityOptions{});
  EXPECT_EQ(init_again.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(init_again.message().find(CaCertPath(dir_).string()), std::string::npos)
      << init_again.message();

  Status issue_again = IssueCertificate(dir_, Issue("mut-100"));
  EXPECT_EQ(issue_again.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(issue_again.message().find(CertPath(dir_, "mut-100").string()), std::string::npos)
      << issue_again.message();

  // A lone key (a crash, a hand copy) is protected as well.
  fs::remove(CertPath(dir_, "mut-100"));
  Status lone_key = IssueCertificate(dir_, Issue("mut-100"));
  EXPECT_EQ(lone_key.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(lone_key.message().find(KeyPath(dir_, "mut-100").string()), std::string::npos);

  EXPECT_EQ(ReadAll(CaCertPath(dir_)), ca_before);
  EXPECT_EQ(ReadAll(KeyPath(dir_, "mut-100")), key_before);
  // issued.txt records the first issue (pki revoke reads it); the refused
  // ones left nothing.
  EXPECT_EQ(FilesIn(dir_),
            (std::set<std::string>{"ca.crt", "ca.key", "issued.txt", "mut-100.key"}));
  const std::string issued = ReadAll(dir_ / "issued.txt");
  EXPECT_EQ(std::count(issued.begin(), issued.end(), '\n'), 1) << issued;
  (void)cert_before;
}

TEST_F(PkiTest, OverwritesWithForce) {
  InitCa();
  ASSERT_TRUE(IssueCertificate(dir_, Issue("mut-100")).ok());
  const std::string cert_before = ReadAll(CertPath(dir_, "mut-100"));
  const std::string key_before = ReadAll(KeyPath(dir_, "mut-100"));

  IssueOptions options = Issue("mut-100");
  options.force = true;
  ASSERT_TRUE(IssueCertificate(dir_, options).ok());
  EXPECT_NE(ReadAll(CertPath(dir_, "mut-100")), cert_before);
  EXPECT_NE(ReadAll(KeyPath(dir_, "mut-100")), key_before);
  EXPECT_EQ(Verify(CaCertPath(dir_), CertPath(dir_, "mut-100"), X509_PURPOSE_SSL_SERVER),
            X509_V_OK);
  EXPECT_EQ(ModeOf(KeyPath(dir_, "mut-100")), 0600u);

  const std::string ca_before = ReadAll(CaCertPath(dir_));
  AuthorityOptions authority;
  authority.force = true;
  ASSERT_TRUE(InitAuthority(dir_, authority).ok());
  EXPECT_NE(ReadAll(CaCertPath(dir_)), ca_before);
  // A new CA: what the old one issued no longer verifies.
  EXPECT_NE(Verify(CaCertPath(dir_), CertPath(dir_, "mut-100"), X509_PURPOSE_SSL_SERVER),
            X509_V_OK);
}

TEST_F(PkiTest, FilesHaveTheirModesAndNoTempFileRemains) {
  fs::path nested = root_ / "a" / "b" / "pki";
  ASSERT_TRUE(InitAuthority(nested, AuthorityOptions{}).ok());
  ASSERT_TRUE(IssueCertificate(nested, Issue("hub", {"localhost"})).ok());
  EXPECT_EQ(ModeOf(nested), 0700u);
  EXPECT_EQ(ModeOf(KeyPath(nested, "ca")), 0600u);
  EXPECT_EQ(ModeOf(KeyPath(nested, "hub")), 0600u);
  EXPECT_EQ(ModeOf(CaCertPath(nested)), 0644u);
  EXPECT_EQ(ModeOf(CertPath(nested, "hub")), 0644u);
  EXPECT_EQ(ModeOf(nested / "issued.txt"), 0644u);
  EXPECT_EQ(FilesIn(nested),
            (std::set<std::string>{"ca.crt", "ca.key", "hub.crt", "hub.key", "issued.txt"}));
}

TEST_F(PkiTest, KeysArePrivateWhateverTheUmask) {
  mode_t previous = ::umask(0);
  Status status = InitAuthority(dir_, AuthorityOptions{});
  ::umask(previous);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(ModeOf(KeyPath(dir_, "ca")), 0600u);
  EXPECT_EQ(ModeOf(dir_), 0700u);
}

TEST_F(PkiTest, RefusesInvalidNames) {
  InitCa();
  const std::string too_long(65, 'a');
  const char* invalid[] = {"",   "../x", "x/y", "Hub", "mut 100",   ".hidden",
                           "..", ".",    "-x",  "ca",  "h\xc3\xa9", "a\n"};
  for (const std::string name : invalid) {
    SCOPED_TRACE("name \"" + name + "\"");
    Status status = IssueCertificate(dir_, Issue(name));
    EXPECT_EQ(status.code(), StatusCode::kInvalidRequest);
    EXPECT_NE(status.message().find("name"), std::string::npos) << status.message();
    EXPECT_EQ(status.message().find('\n'), std::string::npos) << "one line";
  }
  {
    SCOPED_TRACE("65 characters");
    EXPECT_EQ(IssueCertificate(dir_, Issue(too_long)).code(), StatusCode::kInvalidRequest);
  }
  EXPECT_EQ(FilesIn(dir_), (std::set<std::string>{"ca.crt", "ca.key"}));

  const std::string longest(64, 'z');
  for (const std::string& name :
       {std::string("hub"), std::string("mut-100"), std::string("a.b_c-9"), longest}) {
    SCOPED_TRACE("name \"" + name + "\"");
    Status status = IssueCertificate(dir_, Issue(name));
    EXPECT_TRUE(status.ok()) << status.ToString();
  }
}

TEST_F(PkiTest, RefusesInvalidHostsAndDays) {
  InitCa();
  const char* invalid[] = {"",    "a..b",        "-a.example",   "300.1.1.1",
                           "a b", "under_score", "a,IP:1.2.3.4", "1.2.3"};
  std::vector<std::string> hosts(std::begin(invalid), std::end(invalid));
  hosts.push_back(std::string("127.0.0.1\0evil", 14));
  for (const std::string& host : hosts) {
    SCOPED_TRACE("host \"" + host + "\"");
    Status status = IssueCertificate(dir_, Issue("hub", {host}));
    EXPECT_EQ(status.code(), StatusCode::kInvalidRequest);
    EXPECT_NE(status.message().find("host"), std::string::npos) << status.message();
  }
  for (int days : {0, -1, 36501}) {
    SCOPED_TRACE(days);
    IssueOptions options = Issue("hub");
    options.days = days;
    EXPECT_EQ(IssueCertificate(dir_, options).code(), StatusCode::kInvalidRequest);
    AuthorityOptions authority;
    authority.days = days;
    authority.force = true;
    EXPECT_EQ(InitAuthority(dir_, authority).code(), StatusCode::kInvalidRequest);
  }
  EXPECT_EQ(FilesIn(dir_), (std::set<std::string>{"ca.crt", "ca.key"}));
}

TEST_F(PkiTest, IssueWithoutCaIsRefused) {
  Status status = IssueCertificate(dir_, Issue("hub"));
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_NE(status.message().find("pki init"), std::string::npos) << status.message();
  EXPECT_FALSE(fs::exists(dir_));

  // A directory with only half a CA is refused too.
  InitCa();
  fs::remove(KeyPath(dir_, "ca"));
  EXPECT_EQ(IssueCertificate(dir_, Issue("hub")).code(), StatusCode::kNotFound);
}

TEST_F(PkiTest, LeafValidityIsCappedAtTheCas) {
  AuthorityOptions authority;
  authority.days = 30;
  ASSERT_TRUE(InitAuthority(dir_, authority).ok());
  ASSERT_TRUE(IssueCertificate(dir_, Issue("hub")).ok());  // asks for 825 days
  X509Ptr ca = LoadCert(CaCertPath(dir_));
  X509Ptr leaf = LoadCert(CertPath(dir_, "hub"));
  EXPECT_EQ(ASN1_TIME_compare(X509_get0_notAfter(leaf.get()), X509_get0_notAfter(ca.get())), 0);
}

TEST_F(PkiTest, CommonNameOf) {
  AuthorityOptions authority;
  authority.common_name = "test network CA";
  ASSERT_TRUE(InitAuthority(dir_, authority).ok());
  ASSERT_TRUE(IssueCertificate(dir_, Issue("mut-100")).ok());

  Result<std::string> ca = CommonNameOf(CaCertPath(dir_));
  ASSERT_TRUE(ca.has_value()) << ca.error().ToString();
  EXPECT_EQ(*ca, "test network CA");
  Result<std::string> leaf = CommonNameOf(CertPath(dir_, "mut-100"));
  ASSERT_TRUE(leaf.has_value()) << leaf.error().ToString();
  EXPECT_EQ(*leaf, "mut-100");

  EXPECT_EQ(CommonNameOf(dir_ / "missing.crt").error().code(), StatusCode::kNotFound);
  // Not a certificate (a key, garbage): a Status, never a crash.
  EXPECT_EQ(CommonNameOf(KeyPath(dir_, "mut-100")).error().code(), StatusCode::kInvalidRequest);
  std::ofstream(root_ / "garbage.crt") << "-----BEGIN CERTIFICATE-----\nnot base64\n";
  EXPECT_EQ(CommonNameOf(root_ / "garbage.crt").error().code(), StatusCode::kInvalidRequest);
}

TEST_F(PkiTest, PathsAreInTheDirectory) {
  EXPECT_EQ(CaCertPath("/x/pki"), fs::path("/x/pki/ca.crt"));
  EXPECT_EQ(CertPath("/x/pki", "hub"), fs::path("/x/pki/hub.crt"));
  EXPECT_EQ(KeyPath("/x/pki", "mut-100"), fs::path("/x/pki/mut-100.key"));
}

TEST(TestPki, CreatesACaAndACertificatePerName) {
  TestPki pki = TestPki::Create({"hub", "mut-100"});
  for (const char* name : {"hub", "mut-100"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(Verify(CaCertPath(pki.dir), CertPath(pki.dir, name), X509_PURPOSE_SSL_SERVER),
              X509_V_OK);
    X509Ptr cert = LoadCert(CertPath(pki.dir, name));
    EXPECT_EQ(AltNames(cert.get()), (std::set<std::string>{"IP:127.0.0.1", "DNS:localhost"}));
  }
  fs::remove_all(pki.dir);
}

}  // namespace
}  // namespace carrefour::pki
