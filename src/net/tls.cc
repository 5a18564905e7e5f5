// SPDX-License-Identifier: EUPL-1.2
#include "net/internal/tls.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <string_view>
#include <system_error>
#include <vector>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/free_deleter.h"

namespace carrefour::net::internal {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 suites are limited to ECDHE + AEAD (forward secrecy, no CBC);
// TLS 1.3 suites are all AEAD and left at OpenSSL's defaults.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";

// A file error names the file: "cannot read TLS key /x/hub.key: ...", which
// tells an operator what to fix, unlike OpenSSL's "PEM lib".
Status CheckReadable(const std::filesystem::path& path, const char* what) {
  std::error_code ec;
  if (path.empty()) return InvalidRequest(std::string("no TLS ") + what + " file given");
  if (!std::filesystem::is_regular_file(path, ec)) {
    return InvalidRequest(std::string("TLS ") + what + " file " + path.string() +
                          " does not exist or is not a file");
  }
  return OkStatus();
}

// A private key that the group or others may read (or replace) is refused
// at load: the identity of the hub or of an institution would be theirs too.
Status CheckPrivate(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return OkStatus();  // loading it will say why
  if ((info.st_mode & 077) == 0) return OkStatus();
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
  return InvalidRequest("TLS key " + path.string() + " is accessible to group or others (mode " +
                        mode + "): chmod 600 " + path.string());
}

Status FromSsl(const boost::system::error_code& ec, const char* what,
               const std::filesystem::path& path) {
  return InvalidRequest(std::string("cannot load TLS ") + what + " " + path.string() + ": " +
                        ec.message());
}

template <auto kFree>
using OpenSslDeleter = FreeWith<kFree>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, OpenSslDeleter<X509_CRL_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX_free>>;

Result<std::string> ReadPem(const std::filesystem::path& path, const char* what) {
  CARREFOUR_RETURN_IF_ERROR(CheckReadable(path, what));
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) {
    return Error(InvalidRequest(std::string("cannot read TLS ") + what + " " + path.string()));
  }
  return text;
}

// Every certificate (or CRL) of a PEM file, in order.
template <typename T, typename Read>
Result<std::vector<std::unique_ptr<T, OpenSslDeleter<Read::kFree>>>> ReadAllPem(
    const std::filesystem::path& path, const char* what) {
  CARREFOUR_ASSIGN_OR_RETURN(std::string pem, ReadPem(path, what));
  BioPtr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  std::vector<std::unique_ptr<T, OpenSslDeleter<Read::kFree>>> all;
  while (T* object = Read::Next(bio.get())) all.emplace_back(object);
  ERR_clear_error();  // the end of the file reads as an error
  if (all.empty()) {
    return Error(InvalidRequest(std::string("TLS ") + what + " file " + path.string() +
                                " holds no PEM " + what));
  }
  return all;
}

struct ReadCert {
  static constexpr auto kFree = X509_free;
  static X509* Next(BIO* bio) { return PEM_read_bio_X509(bio, nullptr, nullptr, nullptr); }
};
struct ReadCrl {
  static constexpr auto kFree = X509_CRL_free;
  static X509_CRL* Next(BIO* bio) { return PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr); }
};

std::chrono::system_clock::time_point TimeOf(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>> number{ASN1_INTEGER_to_BN(serial, nullptr)};
  if (!number) return "?";
  char* hex = BN_bn2hex(number.get());
  if (hex == nullptr) return "?";
  std::string text(hex);
  OPENSSL_free(hex);
  return text;
}

// Whether `text` (valid UTF-8) holds a character that is not seen as
// itself: C0 and C1 controls, DEL, and the bidirectional marks and
// overrides (U+061C, U+200E-F, U+202A-E, U+2066-9) that make a name print
// as another one.
bool HasInvisibleControl(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    uint32_t code = byte;
    size_t length = 1;
    if (byte >= 0xf0) {
      code = byte & 0x07u;
      length = 4;
    } else if (byte >= 0xe0) {
      code = byte & 0x0fu;
      length = 3;
    } else if (byte >= 0xc0) {
      code = byte & 0x1fu;
      length = 2;
    }
    if (i + length > text.size()) return true;  // truncated: not a clean name
    for (size_t k = 1; k < length; ++k) {
      code = (code << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3fu);
    }
    i += length;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code == 0x061c || code == 0x200e ||
        code == 0x200f || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) {
      return true;
    }
  }
  return false;
}

// The certificate's one CN, empty if it has none, several (which one is
// "the" identity would depend on who reads the certificate), or a NUL, a
// control character or a bidirectional override (a name that prints as
// another one, or forges log lines): such a certificate names no identity.
std::string CommonNameOf(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return {};
  if (X509_NAME_get_index_by_NID(subject, NID_commonName, index) >= 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) {
    ERR_clear_error();
    return {};
  }
  std::string cn(reinterpret_cast<const char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  if (HasInvisibleControl(cn)) return {};
  return cn;
}

// Where the verify callback leaves "CN=x serial=y" of a revoked peer, for
// the connection to log once the handshake has failed (OpenSSL keeps no
// peer certificate after a failed verification).
int RevokedIndex() {
  static const int index = SSL_get_ex_new_index(
      0, nullptr, nullptr, nullptr,
      [](void*, void* pointer, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(pointer);
      });
  return index;
}

// Verification with a CRL. A revoked certificate is noted (above); a CRL
// past its next-update is let through unless the files say to refuse it:
// revocation is still checked against it (it lists at least what it did),
// and the hub reports the staleness loudly (TlsFacts, a metric, the log).
int Verify(int ok, X509_STORE_CTX* ctx, bool tolerate_stale_crl) {
  if (ok) return ok;
  int error = X509_STORE_CTX_get_error(ctx);
  if (error == X509_V_ERR_CRL_HAS_EXPIRED && tolerate_stale_crl) {
    X509_STORE_CTX_set_error(ctx, X509_V_OK);
    return 1;
  }
  if (error == X509_V_ERR_CERT_REVOKED) {
    X509* cert = X509_STORE_CTX_get_current_cert(ctx);
    auto* ssl = static_cast<SSL*>(
        X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
    if (cert != nullptr && ssl != nullptr && SSL_get_ex_data(ssl, RevokedIndex()) == nullptr) {
      SSL_set_ex_data(ssl, RevokedIndex(),
                      new std::string("CN=" + CommonNameOf(cert) + " serial=" +
                                      SerialHex(X509_get0_serialNumber(cert))));
    }
  }
  return ok;
}
int VerifyTolerant(int ok, X509_STORE_CTX* ctx) { return Verify(ok, ctx, true); }
int VerifyStrict(int ok, X509_STORE_CTX* ctx) { return Verify(ok, ctx, false); }

// Adds the CRLs of `files.crl` to the context's store and turns CRL checking
// on. Each CRL must be signed by one of the CA certificates: a CRL from
// elsewhere would make every handshake fail, so it is refused at load.
Status LoadCrls(const TlsFiles& files, SSL_CTX* native) {
  CARREFOUR_ASSIGN_OR_RETURN(auto cas, (ReadAllPem<X509, ReadCert>(files.ca, "CA certificate")));
  CARREFOUR_ASSIGN_OR_RETURN(auto crls, (ReadAllPem<X509_CRL, ReadCrl>(files.crl, "CRL")));
  X509_STORE* store = SSL_CTX_get_cert_store(native);
  for (const CrlPtr& crl : crls) {
    bool signed_by_ca = false;
    for (const X509Ptr& ca : cas) {
      if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(ca.get())) == 0 &&
          X509_CRL_verify(crl.get(), X509_get0_pubkey(ca.get())) == 1) {
        signed_by_ca = true;
      }
    }
    ERR_clear_error();
    if (!signed_by_ca) {
      return InvalidRequest("TLS CRL " + files.crl.string() + " is not signed by the CA in " +
                            files.ca.string());
    }
    if (X509_STORE_add_crl(store, crl.get()) != 1) {
      ERR_clear_error();
      return InvalidRequest("cannot load TLS CRL " + files.crl.string());
    }
  }
  // The leaf only: the CA is the trust anchor, and a CRL per CA covers the
  // certificates it issued.
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return OkStatus();
}

}  // namespace

Result<TlsFacts> ReadTlsFacts(const TlsFiles& files) {
  TlsFacts facts;
  CARREFOUR_ASSIGN_OR_RETURN(auto certs, (ReadAllPem<X509, ReadCert>(files.cert, "certificate")));
  X509* leaf = certs.front().get();
  facts.cert_cn = CommonNameOf(leaf);
  facts.cert_serial = SerialHex(X509_get0_serialNumber(leaf));
  facts.cert_not_after = TimeOf(X509_get0_notAfter(leaf));
  CARREFOUR_ASSIGN_OR_RETURN(auto cas, (ReadAllPem<X509, ReadCert>(files.ca, "CA certificate")));
  facts.ca_not_after = TimeOf(X509_get0_notAfter(cas.front().get()));
  for (const X509Ptr& ca : cas) {
    facts.ca_not_after = std::min(facts.ca_not_after, TimeOf(X509_get0_notAfter(ca.get())));
  }
  if (!files.crl.empty()) {
    CARREFOUR_ASSIGN_OR_RETURN(auto crls, (ReadAllPem<X509_CRL, ReadCrl>(files.crl, "CRL")));
    for (const CrlPtr& crl : crls) {
      auto next = TimeOf(X509_CRL_get0_nextUpdate(crl.get()));
      if (!facts.crl_next_update || next < *facts.crl_next_update) facts.crl_next_update = next;
    }
  }
  return facts;
}

Result<ssl::context> MakeTlsContext(const TlsFiles& files, TlsRole role) {
  CARREFOUR_RETURN_IF_ERROR(CheckReadable(files.cert, "certificate"));
  CARREFOUR_RETURN_IF_ERROR(CheckReadable(files.key, "key"));
  CARREFOUR_RETURN_IF_ERROR(CheckPrivate(files.key));
  CARREFOUR_RETURN_IF_ERROR(CheckReadable(files.ca, "CA certificate"));

  ssl::context context(role == TlsRole::kServer ? ssl::context::tls_server
                                                : ssl::context::tls_client);
  SSL_CTX* native = context.native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return Error(Internal("cannot configure the TLS protocol versions or ciphers"));
  }
  // Renegotiation and compression are attack surface that HTTP/1.1 with
  // mutual TLS never needs.
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE);

  boost::system::error_code ec;
  context.use_certificate_chain_file(files.cert.string(), ec);
  if (ec) return Error(FromSsl(ec, "certificate", files.cert));
  context.use_private_key_file(files.key.string(), ssl::context::pem, ec);
  if (ec) return Error(FromSsl(ec, "key", files.key));
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return Error(InvalidRequest("TLS key " + files.key.string() +
                                " does not match certificate " + files.cert.string()));
  }
  context.load_verify_file(files.ca.string(), ec);
  if (ec) return Error(FromSsl(ec, "CA certificate", files.ca));

  // The peer must present a certificate that chains to the network CA: the
  // server learns who is calling, the client who is answering.
  context.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
  if (ec) return Error(Internal("cannot set the TLS verify mode: " + ec.message()));
  // Leaf + network CA, nothing between: depth 0 allows no intermediate CA
  // (the trust anchor does not count). A longer chain is not part of this
  // PKI, whatever a certificate's basic constraints say.
  SSL_CTX_set_verify_depth(native, 0);
  if (!files.crl.empty()) {
    CARREFOUR_RETURN_IF_ERROR(LoadCrls(files, native));
    SSL_CTX_set_verify(native, SSL_CTX_get_verify_mode(native),
                       files.refuse_stale_crl ? VerifyStrict : VerifyTolerant);
  }
  if (role == TlsRole::kServer) {
    // Tell clients which CA we accept, so that a client holding several
    // identities picks the right one.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.ca.string().c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(native, names);
    ERR_clear_error();
    // Our clients keep connections alive instead of resuming sessions:
    // TLS 1.3 session tickets would only cost bytes and a signature each.
    SSL_CTX_set_num_tickets(native, 0);
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
    // No TLS 1.2 tickets either: with client verification and no session id
    // context, a resumption attempt would be refused with internal_error
    // (seen with nginx as a client). Clients do full handshakes instead.
    SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
  }
  return context;
}

std::string VerifiedPeerCommonName(SSL* ssl) {
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return {};
  return CommonNameOf(cert);
}

std::string RevokedPeer(SSL* ssl) {
  if (ssl == nullptr) return {};
  auto* revoked = static_cast<std::string*>(SSL_get_ex_data(ssl, RevokedIndex()));
  return revoked != nullptr ? *revoked : std::string();
}

std::string PeerTrustedBy(SSL* ssl, SSL_CTX* context) {
  if (ssl == nullptr || context == nullptr) return {};
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return {};
  StoreCtxPtr check{X509_STORE_CTX_new()};
  if (!check ||
      X509_STORE_CTX_init(check.get(), SSL_CTX_get_cert_store(context), cert,
                          SSL_get_peer_cert_chain(ssl)) != 1) {
    ERR_clear_error();
    return "cannot check the certificate";
  }
  X509_STORE_CTX_set_purpose(check.get(), X509_PURPOSE_SSL_CLIENT);
  // Only a context with a CRL has a callback; setting a null one would make
  // OpenSSL call through a null pointer (the default is kept instead).
  if (auto callback = SSL_CTX_get_verify_callback(context)) {
    X509_STORE_CTX_set_verify_cb(check.get(), callback);
  }
  int ok = X509_verify_cert(check.get());
  int error = X509_STORE_CTX_get_error(check.get());
  ERR_clear_error();
  if (ok == 1 && error == X509_V_OK) return {};
  return "CN=" + CommonNameOf(cert) + " serial=" + SerialHex(X509_get0_serialNumber(cert)) + ": " +
         X509_verify_cert_error_string(error);
}

}  // namespace carrefour::net::internal

namespace carrefour::net {

Result<TlsFacts> InspectTlsFiles(const TlsFiles& files) { return internal::ReadTlsFacts(files); }

}  // namespace carrefour::net
