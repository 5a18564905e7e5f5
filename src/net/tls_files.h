#pragma once

#include <filesystem>

namespace carrefour::net {

// The PEM files of one TLS identity (as written by the pki module): this
// side's certificate and private key, and the network CA that the other side's
// certificate must chain to. Used by both the server and the client: every
// connection in the network is mutually authenticated.
struct TlsFiles {
  std::filesystem::path cert;
  std::filesystem::path key;
  std::filesystem::path ca;
};

}  // namespace carrefour::net
