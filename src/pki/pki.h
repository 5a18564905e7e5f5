// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The network's PKI: one certificate authority (the network CA) and, signed by
// it, one key + certificate per institution and one for the hub. Identity is
// the certificate's CN: an institution's id from the network definition, or
// "hub" for the hub. Every leaf certificate is usable for both TLS client and
// server authentication (an institution calls the hub and is called by it).
// See docs/pki.md.
//
// Start here. Files live in one directory (PEM):
//   ca.crt, ca.key          written by InitAuthority
//   NAME.crt, NAME.key      written by IssueCertificate
// Private keys are mode 0600 from creation; certificates 0644; a directory
// created here is 0700. Files are written atomically (temp file + rename): a
// crash never leaves a half-written key or certificate.
//
// Thread safety: all functions may be called concurrently on different
// directories. No function throws.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace carrefour::pki {

struct AuthorityOptions {
  std::string common_name = "carrefour network CA";
  int days = 3650;
  bool force = false;  // overwrite an existing ca.crt / ca.key
};

struct IssueOptions {
  // The identity (CN) and file name: 1-64 characters of [a-z0-9._-], not
  // starting with '.' or '-', not "ca" (reserved for the authority's files).
  std::string name;
  // Host names or IP addresses (IPv4, IPv6, "[::1]" accepted) put in the
  // subjectAltName, for server authentication. May be empty.
  std::vector<std::string> hosts;
  // Capped at the CA's own expiry: a certificate cannot outlive its issuer.
  int days = 825;
  bool force = false;  // overwrite an existing NAME.crt / NAME.key
};

// Creates the network CA in `dir` (created 0700 if missing): an EC P-256 key
// and a self-signed certificate. Errors: kAlreadyExists (ca.crt or ca.key
// exists and !force; the message names the file), kInvalidRequest (bad
// options), kInternal (I/O or OpenSSL failure).
Status InitAuthority(const std::filesystem::path& dir, const AuthorityOptions& options);

// Issues NAME.key + NAME.crt in `dir`, signed by the CA found there. Errors:
// kNotFound (no initialized CA in `dir`), kInvalidRequest (bad name, host or
// days; a CA certificate and key that do not match), kAlreadyExists (NAME.crt
// or NAME.key exists and !force; the message names the file), kInternal.
Status IssueCertificate(const std::filesystem::path& dir, const IssueOptions& options);

// dir/ca.crt, dir/NAME.crt, dir/NAME.key. No validation, no I/O.
std::filesystem::path CaCertPath(const std::filesystem::path& dir);
std::filesystem::path CertPath(const std::filesystem::path& dir, std::string_view name);
std::filesystem::path KeyPath(const std::filesystem::path& dir, std::string_view name);

// --- Revocation (docs/api.md section 2; docs/pki.md). Every certificate that
// IssueCertificate writes is also recorded in dir/issued.txt (one line:
// serial, name, expiry), so that all the certificates ever issued to a name
// can be revoked, not only the one in NAME.crt. dir/crl.pem, signed by the CA,
// lists the revoked serials; it is the revocation state itself (revoking
// reads it, adds to it and signs it again).

struct CrlOptions {
  // The CRL's next-update time, from now. Peers report (or, configured so,
  // refuse) a CRL past it: re-sign it (`pki crl`) well before.
  int days = 7;
};

// Revokes every certificate issued to `name` (those in issued.txt, and the
// current NAME.crt) and writes dir/crl.pem. Returns the serials revoked by
// this call and earlier ones (upper-case hex), in issue order. Errors:
// kNotFound (no CA, or no certificate was ever issued to `name`),
// kInvalidRequest (bad name or days; an existing crl.pem not signed by this
// CA), kInternal.
Result<std::vector<std::string>> RevokeCertificates(const std::filesystem::path& dir,
                                                    std::string_view name,
                                                    const CrlOptions& options = {});

// Signs dir/crl.pem again with a fresh next-update (an empty CRL if there is
// none yet). Errors as RevokeCertificates.
Status RenewCrl(const std::filesystem::path& dir, const CrlOptions& options = {});

// dir/crl.pem
std::filesystem::path CrlPath(const std::filesystem::path& dir);

// The serial of a PEM certificate file, upper-case hex (for tools and tests).
Result<std::string> SerialOf(const std::filesystem::path& cert_file);

// Reads the CN of a PEM certificate file (useful for tools and tests).
// Errors: kNotFound (no such file), kInvalidRequest (not a PEM certificate,
// or no CN).
Result<std::string> CommonNameOf(const std::filesystem::path& cert_file);

}  // namespace carrefour::pki
