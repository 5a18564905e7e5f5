// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Test-only helpers for server_test.cc and client_test.cc: certificates from
// the pki module, and raw sockets (POSIX and OpenSSL, no Asio) for clients
// that misbehave on purpose.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "net/tls_files.h"
#include "pki/testing.h"

namespace carrefour::net::testing {

// Two PKIs, made once per test process: the network's ("hub", "mut-100",
// "mut-200") and a foreign one whose "mut-100" the network must refuse.
class Certs {
 public:
  static const Certs& Get() {
    static const Certs* certs = new Certs();
    return *certs;
  }

  // NAME's identity in the network PKI.
  TlsFiles Identity(const std::string& name) const {
    return TlsFiles{pki::CertPath(network_.dir, name), pki::KeyPath(network_.dir, name),
                    pki::CaCertPath(network_.dir)};
  }
  // A certificate from the foreign CA, trusting the network CA (so that
  // only the server's judgement of the client is tested).
  TlsFiles ForeignIdentity() const {
    return TlsFiles{pki::CertPath(foreign_.dir, "mut-100"), pki::KeyPath(foreign_.dir, "mut-100"),
                    pki::CaCertPath(network_.dir)};
  }
  std::filesystem::path NetworkCa() const { return pki::CaCertPath(network_.dir); }

 private:
  Certs()
      : network_(pki::TestPki::Create({"hub", "mut-100", "mut-200"})),
        foreign_(pki::TestPki::Create({"mut-100"})) {
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(Get().network_.dir, ignored);
      std::filesystem::remove_all(Get().foreign_.dir, ignored);
    });
  }

  pki::TestPki network_;
  pki::TestPki foreign_;
};

// A blocking TCP connection to 127.0.0.1:port, closed on destruction.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  explicit RawSocket(int fd) : fd_(fd), connected_(true) {}
  ~RawSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  bool Send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Everything until the peer closes (or resets) the connection: returning
  // at all proves the server closed it.
  std::string ReadUntilClosed() {
    std::string out;
    char buffer[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return out;
      out.append(buffer, static_cast<size_t>(n));
    }
  }

  // Reads until `marker` has been seen (or the connection ends).
  std::string ReadUntil(const std::string& marker) {
    std::string out;
    char c;
    while (out.find(marker) == std::string::npos) {
      if (::recv(fd_, &c, 1, 0) != 1) break;
      out.push_back(c);
    }
    return out;
  }

 private:
  int fd_;
  bool connected_ = false;
};

// A TLS client on raw OpenSSL: trusts `ca`, presents `cert`/`key` if given.
// Exchange() sends `request` and returns what comes back before the server
// closes, or nullopt if the handshake or the exchange failed at the TLS level.
class RawTlsClient {
 public:
  RawTlsClient(const std::filesystem::path& ca, std::optional<TlsFiles> identity)
      : ctx_(SSL_CTX_new(TLS_client_method())) {
    SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (identity) {
      SSL_CTX_use_certificate_chain_file(ctx_, identity->cert.c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, identity->key.c_str(), SSL_FILETYPE_PEM);
    }
  }
  ~RawTlsClient() { SSL_CTX_free(ctx_); }
  RawTlsClient(const RawTlsClient&) = delete;
  RawTlsClient& operator=(const RawTlsClient&) = delete;

  std::optional<std::string> Exchange(uint16_t port, const std::string& request) {
    RawSocket socket(port);
    if (!socket.connected()) return std::nullopt;
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, socket.fd());
    std::optional<std::string> result;
    if (SSL_connect(ssl) == 1 &&
        SSL_write(ssl, request.data(), static_cast<int>(request.size())) > 0) {
      // With TLS 1.3 the server's verdict on our certificate arrives after
      // our side of the handshake is done: as an alert on the first read.
      std::string out;
      char buffer[4096];
      int n;
      while ((n = SSL_read(ssl, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<size_t>(n));
      int error = SSL_get_error(ssl, n);
      if (error == SSL_ERROR_ZERO_RETURN || !out.empty()) result = out;
    }
    ERR_clear_error();
    SSL_free(ssl);
    return result;
  }

 private:
  SSL_CTX* ctx_;
};

}  // namespace carrefour::net::testing
