#include "net/internal/tls.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <system_error>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

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

}  // namespace

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
  X509_NAME* subject = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return {};
  // Exactly one CN: with several, which one is "the" identity would depend
  // on who reads the certificate.
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
  // A NUL or a control character makes a name that prints as another one
  // (and forges log lines): not an identity.
  for (char c : cn) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return {};
  }
  return cn;
}

}  // namespace carrefour::net::internal
