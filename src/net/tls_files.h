// SPDX-License-Identifier: EUPL-1.2
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.h"

namespace carrefour::net {

// The PEM files of one TLS identity (as written by the pki module): this
// side's certificate and private key, and the network CA that the other side's
// certificate must chain to. Used by both the server and the client: every
// connection in the network is mutually authenticated.
struct TlsFiles {
  std::filesystem::path cert;
  std::filesystem::path key;
  std::filesystem::path ca;
  // Optional: a CRL (PEM, one per CA of `ca`, signed by it; `carrefour pki
  // revoke` writes it). A peer certificate listed there fails the handshake.
  std::filesystem::path crl;
  // A CRL past its next-update time is always reported (TlsFacts below);
  // with this set, every handshake is refused until a fresh one is loaded
  // (fail closed), instead of going on with the stale list.
  bool refuse_stale_crl = false;
};

// What an operator must watch in a set of TLS files: when this side's
// certificate and the CA expire, and when the CRL is due for renewal.
struct TlsFacts {
  std::string cert_cn;
  std::string cert_serial;  // upper-case hex
  std::chrono::system_clock::time_point cert_not_after;
  std::chrono::system_clock::time_point ca_not_after;  // the earliest, for a bundle
  std::optional<std::chrono::system_clock::time_point> crl_next_update;  // the earliest
};

// Reads the files (nothing else: no verification beyond parsing). Errors:
// kInvalidRequest naming the file that is missing or unreadable.
Result<TlsFacts> InspectTlsFiles(const TlsFiles& files);

}  // namespace carrefour::net
