// SPDX-License-Identifier: EUPL-1.2
#pragma once

// TLS settings shared by the server and the client (only .cc files of this
// module include this: it pulls in Asio and OpenSSL).

#include <string>

#include <boost/asio/ssl/context.hpp>

#include "core/result.h"
#include "net/tls_files.h"

namespace carrefour::net::internal {

enum class TlsRole { kServer, kClient };

// A context with TLS 1.2+ and forward-secret AEAD ciphers only, this side's
// certificate and key, and peer verification against the CA (for a server:
// a client certificate is required). Errors: kInvalidRequest naming the file
// that is missing, unreadable, or does not match.
Result<boost::asio::ssl::context> MakeTlsContext(const TlsFiles& files, TlsRole role);

// The CN of the peer's certificate once the handshake verified it; empty if
// there is no verified certificate or it has no CN.
std::string VerifiedPeerCommonName(SSL* ssl);

// After a failed handshake: "CN=x serial=y" if it failed because the peer's
// certificate is revoked, else empty.
std::string RevokedPeer(SSL* ssl);

// Whether the peer certificate of an established connection would still be
// accepted by `context` (after a reload: a new CRL, a new CA). Empty if so,
// else "CN=x serial=y: reason". Call on the connection's own thread.
std::string PeerTrustedBy(SSL* ssl, SSL_CTX* context);

}  // namespace carrefour::net::internal
