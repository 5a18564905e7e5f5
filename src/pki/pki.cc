// SPDX-License-Identifier: EUPL-1.2
#include "pki/pki.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <sstream>
#include <fstream>
#include <iterator>
#include <memory>
#include <system_error>
#include <utility>

#include "core/free_deleter.h"
#include "core/timestamp.h"

namespace carrefour::pki {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// RAII over OpenSSL's C objects: every object is owned by a unique_ptr from
// the moment it exists, so no error path can leak one.

template <auto kFree>
using OpenSslDeleter = FreeWith<kFree>;

using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter<X509_NAME_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<GENERAL_NAMES_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OpenSslDeleter<GENERAL_NAME_free>>;
using Asn1OctetStringPtr =
    std::unique_ptr<ASN1_OCTET_STRING, OpenSslDeleter<ASN1_OCTET_STRING_free>>;
using Asn1StringPtr = std::unique_ptr<ASN1_STRING, OpenSslDeleter<ASN1_STRING_free>>;

constexpr std::string_view kCaName = "ca";
constexpr size_t kMaxNameLength = 64;
// X.509's upper bound for a common name (RFC 5280, ub-common-name).
constexpr size_t kMaxCommonNameLength = 64;
constexpr int kMaxDays = 36500;
// A fresh certificate is valid from a few minutes ago, so that a peer whose
// clock runs slightly behind does not reject it as "not yet valid".
constexpr long kBackdateSeconds = 5 * 60;
constexpr int kSerialBits = 128;

// OpenSSL reports failures on a thread-local queue; this drains it into one
// line a person can read, so the Status carries the actual reason.
std::string DrainOpenSslErrors() {
  std::string errors;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!errors.empty()) errors += "; ";
    errors += buffer;
  }
  return errors.empty() ? "no OpenSSL error reported" : errors;
}

Status OpenSslFailure(std::string_view what) {
  return Internal(fmt::format("{}: {}", what, DrainOpenSslErrors()));
}

std::string ErrnoText(int error) { return std::generic_category().message(error); }

// ---------------------------------------------------------------------------
// Validation of untrusted input (command-line arguments).

// Untrusted text quoted in a message: control bytes (and non-ASCII, which
// both the name and hosts refuse anyway) become '?' so that the message stays
// one printable line.
std::string Printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c < ' ' || c >= 0x7f) c = '?';
  }
  return out;
}

// The name is a network id and a file name at once: the character set keeps it
// both, and the leading-character rule excludes ".", "..", hidden files (our
// temp files start with '.') and names a shell would take for options.
Status ValidateName(std::string_view name) {
  constexpr std::string_view kRule =
      "1-64 characters of a-z, 0-9, '.', '_', '-', not starting with '.' or '-'";
  const std::string shown_name = Printable(name);
  if (name.empty()) return InvalidRequest(fmt::format("the name is empty: expected {}", kRule));
  if (name.size() > kMaxNameLength) {
    return InvalidRequest(fmt::format("the name \"{}\" is {} characters long: expected {}",
                                      shown_name, name.size(), kRule));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool allowed =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!allowed) {
      // Printable characters are named; others (control bytes, UTF-8) only
      // located, so the message stays one clean line.
      std::string shown = (c > ' ' && c < 0x7f) ? fmt::format(" '{}'", c) : std::string();
      return InvalidRequest(
          fmt::format("the name \"{}\" has a forbidden character{} at position "
                      "{}: expected {}",
                      shown_name, shown, i + 1, kRule));
    }
  }
  if (name.front() == '.' || name.front() == '-') {
    return InvalidRequest(fmt::format("the name \"{}\" starts with '{}': expected {}", shown_name,
                                      name.front(), kRule));
  }
  if (name == kCaName) {
    return InvalidRequest("the name \"ca\" is reserved for the network CA's own files");
  }
  return OkStatus();
}

Status ValidateDirectory(const fs::path& dir) {
  if (dir.empty()) return InvalidRequest("the PKI directory is empty: name one (--dir)");
  return OkStatus();
}

Status ValidateDays(int days) {
  if (days < 1 || days > kMaxDays) {
    return InvalidRequest(
        fmt::format("validity of {} days is out of range: expected 1 to {}", days, kMaxDays));
  }
  return OkStatus();
}

// One subjectAltName entry: a DNS name, or an IP address as its 4 or 16 bytes.
struct AltName {
  int type;  // GEN_DNS or GEN_IPADD
  std::string value;
};

bool IsDnsLabelChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

// Accepts an IPv4 or IPv6 address ("[::1]" too, as written in URLs) or a
// host name (RFC 1123 labels; no wildcards: the network names exact hosts).
Result<AltName> ParseHost(std::string_view host) {
  std::string_view text = host;
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  std::string owned(text);
  // a2i_IPADDRESS reads a C string: "127.0.0.1\0junk" must not pass as the
  // address it starts with (it then fails below as a host name).
  bool has_nul = owned.find('\0') != std::string::npos;
  if (Asn1OctetStringPtr ip{has_nul ? nullptr : a2i_IPADDRESS(owned.c_str())}) {
    const unsigned char* bytes = ASN1_STRING_get0_data(ip.get());
    return AltName{GEN_IPADD, std::string(reinterpret_cast<const char*>(bytes),
                                          static_cast<size_t>(ASN1_STRING_length(ip.get())))};
  }
  ERR_clear_error();  // a2i_IPADDRESS failing only means "not an IP address"

  std::string name;
  for (char c : owned) name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  auto invalid = [&](std::string_view why) {
    return Error(InvalidRequest(fmt::format(
        "the host \"{}\" is not an IP address nor a valid host name: {}", Printable(host), why)));
  };
  if (name.empty()) return invalid("it is empty");
  if (name.size() > 253) return invalid("longer than 253 characters");
  size_t start = 0;
  std::string_view last_label;
  while (start <= name.size()) {
    size_t end = name.find('.', start);
    if (end == std::string::npos) end = name.size();
    std::string_view label = std::string_view(name).substr(start, end - start);
    if (label.empty()) return invalid("empty label");
    if (label.size() > 63) return invalid("a label is longer than 63 characters");
    for (char c : label) {
      if (!IsDnsLabelChar(c)) {
        return invalid(fmt::format("forbidden character '{}'", Printable({&c, 1})));
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return invalid("a label starts or ends with '-'");
    }
    last_label = label;
    start = end + 1;
  }
  // "300.1.1.1" would otherwise pass as a host name: a top-level label is
  // never all digits (RFC 3696), so this is a mistyped address.
  if (last_label.find_first_not_of("0123456789") == std::string_view::npos) {
    return invalid("looks like a malformed IP address");
  }
  return AltName{GEN_DNS, std::move(name)};
}

// ---------------------------------------------------------------------------
// Files.

Result<std::string> ReadFile(const fs::path& path, std::string_view what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return Error(NotFound(fmt::format("{} {} not found", what, path.string())));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Internal(fmt::format("cannot open {} {}", what, path.string())));
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error(Internal(fmt::format("cannot read {} {}", what, path.string())));
  return contents;
}

Status SyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Internal(fmt::format("cannot open {}: {}", dir.string(), ErrnoText(errno)));
  int rc = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (rc != 0) return Internal(fmt::format("cannot sync {}: {}", dir.string(), ErrnoText(error)));
  return OkStatus();
}

// A file fully written and synced under a temporary name beside its final
// path, not yet visible there. Commit() makes it appear atomically; if it is
// never committed the destructor removes it, so an error path (or a crash,
// short of the temp name) never leaves a partial key or certificate.
class PendingFile {
 public:
  // The temp file is created by mkstemp, i.e. O_CREAT|O_EXCL and mode 0600
  // whatever the umask: a private key is never readable by others, not even
  // for an instant. Certificates are then widened to `mode` with fchmod.
  static Result<std::unique_ptr<PendingFile>> Write(const fs::path& final_path,
                                                    std::string_view contents, mode_t mode) {
    std::string pattern =
        (final_path.parent_path() / ("." + final_path.filename().string() + ".tmp-XXXXXX"))
            .string();
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) {
      return Error(Internal(fmt::format("cannot create a file in {}: {}",
                                        final_path.parent_path().string(), ErrnoText(errno))));
    }
    auto file = std::unique_ptr<PendingFile>(new PendingFile(final_path, pattern));
    Status written = WriteAll(fd, contents, mode);
    ::close(fd);
    if (!written.ok()) return Error(written.WithContext(final_path.string()));
    return file;
  }

  ~PendingFile() {
    if (!committed_) ::unlink(temp_path_.c_str());
  }
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;

  // With `overwrite`, rename() replaces any existing file atomically. Without,
  // link() refuses an existing one atomically, so two concurrent issuers of
  // the same name cannot both "win" and leave a mismatched key/certificate.
  Status Commit(bool overwrite) {
    if (overwrite) {
      if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
        return Internal(fmt::format("cannot write {}: {}", final_path_.string(), ErrnoText(errno)));
      }
    } else {
      if (::link(temp_path_.c_str(), final_path_.c_str()) != 0) {
        int error = errno;
        if (error == EEXIST) return AlreadyExistsError(final_path_);
        return Internal(fmt::format("cannot write {}: {}", final_path_.string(), ErrnoText(error)));
      }
      ::unlink(temp_path_.c_str());
    }
    committed_ = true;
    return OkStatus();
  }

  const fs::path& final_path() const { return final_path_; }

  static Status AlreadyExistsError(const fs::path& path) {
    return AlreadyExists(fmt::format(
        "{} already exists: refusing to overwrite it without force (--force)", path.string()));
  }

 private:
  PendingFile(fs::path final_path, fs::path temp_path)
      : final_path_(std::move(final_path)), temp_path_(std::move(temp_path)) {}

  static Status WriteAll(int fd, std::string_view contents, mode_t mode) {
    if (::fchmod(fd, mode) != 0) return Internal(fmt::format("chmod: {}", ErrnoText(errno)));
    while (!contents.empty()) {
      ssize_t n = ::write(fd, contents.data(), contents.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return Internal(fmt::format("write: {}", ErrnoText(errno)));
      }
      contents.remove_prefix(static_cast<size_t>(n));
    }
    // Synced before the rename: otherwise a crash could leave the final name
    // pointing at an empty file.
    if (::fsync(fd) != 0) return Internal(fmt::format("fsync: {}", ErrnoText(errno)));
    return OkStatus();
  }

  fs::path final_path_;
  fs::path temp_path_;
  bool committed_ = false;
};

// Checked before any work so that the common mistake gets a quick, clear
// answer; Commit() still re-checks atomically.
Status RefuseExisting(const std::vector<fs::path>& paths, bool force) {
  if (force) return OkStatus();
  for (const fs::path& path : paths) {
    std::error_code ec;
    fs::file_type type = fs::symlink_status(path, ec).type();
    if (type == fs::file_type::not_found) continue;
    if (ec) return Internal(fmt::format("cannot check {}: {}", path.string(), ec.message()));
    return PendingFile::AlreadyExistsError(path);
  }
  return OkStatus();
}

// Key first, then certificate: the certificate is what peers act on, so it
// must never appear before the key that goes with it. Without force, a
// failure on the second file removes the first (which we just created).
Status CommitPair(PendingFile& key, PendingFile& cert, bool force) {
  CARREFOUR_RETURN_IF_ERROR(key.Commit(force));
  Status status = cert.Commit(force);
  if (!status.ok()) {
    if (!force) ::unlink(key.final_path().c_str());
    return status;
  }
  return SyncDirectory(key.final_path().parent_path());
}

Status EnsureDirectory(const fs::path& requested) {
  // "d/" names the directory "d": strip the trailing separator so that
  // mkdir below creates it (with 0700) rather than create_directories.
  fs::path dir = requested.lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return OkStatus();
  if (fs::exists(dir, ec)) {
    return InvalidRequest(fmt::format("{} exists and is not a directory", dir.string()));
  }
  fs::path parent = dir.parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) {
      return Internal(fmt::format("cannot create directory {}: {}", parent.string(), ec.message()));
    }
  }
  // mkdir with 0700 directly rather than create_directories + chmod: the
  // directory holds private keys and is never open to others, even briefly.
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Internal(fmt::format("cannot create directory {}: {}", dir.string(), ErrnoText(errno)));
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------
// PEM.

Result<std::string> ToPem(int (*write)(BIO*, const void*), const void* object,
                          std::string_view what) {
  BioPtr bio{BIO_new(BIO_s_mem())};
  if (!bio) return Error(OpenSslFailure("BIO_new"));
  if (write(bio.get(), object) != 1) return Error(OpenSslFailure(fmt::format("encoding {}", what)));
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

Result<std::string> KeyToPem(const EVP_PKEY* key) {
  return ToPem(
      [](BIO* bio, const void* object) {
        // PKCS#8, unencrypted: protected by its file mode, as TLS servers
        // must read it unattended.
        return PEM_write_bio_PrivateKey(bio, static_cast<const EVP_PKEY*>(object), nullptr, nullptr,
                                        0, nullptr, nullptr);
      },
      key, "private key");
}

Result<std::string> CertToPem(const X509* cert) {
  return ToPem(
      [](BIO* bio, const void* object) {
        return PEM_write_bio_X509(bio, static_cast<const X509*>(object));
      },
      cert, "certificate");
}

// Never prompts: an encrypted key would otherwise make OpenSSL ask for a
// passphrase on the terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

Result<X509Ptr> ParseCertificate(std::string_view pem, const fs::path& path) {
  BioPtr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  if (!bio) return Error(OpenSslFailure("BIO_new_mem_buf"));
  X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr)};
  if (!cert) {
    return Error(InvalidRequest(
        fmt::format("{} is not a PEM certificate: {}", path.string(), DrainOpenSslErrors())));
  }
  return cert;
}

Result<X509Ptr> LoadCertificate(const fs::path& path, std::string_view what) {
  CARREFOUR_ASSIGN_OR_RETURN(std::string pem, ReadFile(path, what));
  return ParseCertificate(pem, path);
}

Result<EvpPkeyPtr> LoadKey(const fs::path& path, std::string_view what) {
  CARREFOUR_ASSIGN_OR_RETURN(std::string pem, ReadFile(path, what));
  BioPtr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  if (!bio) return Error(OpenSslFailure("BIO_new_mem_buf"));
  EvpPkeyPtr key{PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr)};
  if (!key) {
    return Error(InvalidRequest(fmt::format("{} is not an unencrypted PEM private key: {}",
                                            path.string(), DrainOpenSslErrors())));
  }
  return key;
}

// ---------------------------------------------------------------------------
// Certificates.

// P-256: fast handshakes and small certificates, supported by every TLS stack.
Result<EvpPkeyPtr> GenerateKey() {
  EvpPkeyPtr key{EVP_EC_gen("P-256")};
  if (!key) return Error(OpenSslFailure("generating an EC P-256 key"));
  return key;
}

// Random and positive (RFC 5280 section 4.1.2.2): serials never collide even
// if the CA is re-created or several operators issue concurrently, which a
// counter could not guarantee without shared state.
Status SetRandomSerial(X509* cert) {
  BignumPtr serial{BN_new()};
  if (!serial) return OpenSslFailure("BN_new");
  // Top bit forced to 1: exactly kSerialBits long, never zero.
  if (BN_rand(serial.get(), kSerialBits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1) {
    return OpenSslFailure("generating a serial number");
  }
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslFailure("setting the serial number");
  }
  return OkStatus();
}

Result<X509NamePtr> NameWithCommonName(std::string_view common_name) {
  X509NamePtr name{X509_NAME_new()};
  if (!name) return Error(OpenSslFailure("X509_NAME_new"));
  if (X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return Error(OpenSslFailure(fmt::format("setting the common name \"{}\"", common_name)));
  }
  return name;
}

// Extensions given in OpenSSL's config syntax, with constant values only (the
// untrusted hosts go through AddSubjectAltName, so no input is ever parsed
// as config). `issuer` provides authorityKeyIdentifier.
Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtensionPtr extension{X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value)};
  if (!extension) return OpenSslFailure(fmt::format("building extension {}", OBJ_nid2sn(nid)));
  if (X509_add_ext(cert, extension.get(), -1) != 1) {
    return OpenSslFailure(fmt::format("adding extension {}", OBJ_nid2sn(nid)));
  }
  return OkStatus();
}

Status AddSubjectAltName(X509* cert, const std::vector<AltName>& alt_names) {
  if (alt_names.empty()) return OkStatus();
  GeneralNamesPtr names{GENERAL_NAMES_new()};
  if (!names) return OpenSslFailure("GENERAL_NAMES_new");
  for (const AltName& alt_name : alt_names) {
    Asn1StringPtr value{alt_name.type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new()};
    if (!value || ASN1_STRING_set(value.get(), alt_name.value.data(),
                                  static_cast<int>(alt_name.value.size())) != 1) {
      return OpenSslFailure("building a subjectAltName entry");
    }
    GeneralNamePtr name{GENERAL_NAME_new()};
    if (!name) return OpenSslFailure("GENERAL_NAME_new");
    GENERAL_NAME_set0_value(name.get(), alt_name.type, value.release());
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) {
      return OpenSslFailure("building subjectAltName");
    }
    name.release();  // now owned by `names`
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslFailure("adding subjectAltName");
  }
  return OkStatus();
}

struct CertificateSpec {
  const X509_NAME* subject;
  EVP_PKEY* public_key;
  int days;
};

// The fields every certificate shares: v3, serial, subject, validity, key.
Result<X509Ptr> NewCertificate(const CertificateSpec& spec) {
  X509Ptr cert{X509_new()};
  if (!cert) return Error(OpenSslFailure("X509_new"));
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return Error(OpenSslFailure("setting the version"));
  }
  CARREFOUR_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  if (X509_set_subject_name(cert.get(), spec.subject) != 1) {
    return Error(OpenSslFailure("setting the subject"));
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), spec.days, 0, nullptr) == nullptr) {
    return Error(OpenSslFailure("setting the validity"));
  }
  if (X509_set_pubkey(cert.get(), spec.public_key) != 1) {
    return Error(OpenSslFailure("setting the public key"));
  }
  return cert;
}

Status Sign(X509* cert, EVP_PKEY* issuer_key) {
  if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0) return OpenSslFailure("signing");
  return OkStatus();
}

// Writes key + certificate atomically, key first (see CommitPair).
Status WritePair(const fs::path& key_path, const EVP_PKEY* key, const fs::path& cert_path,
                 const X509* cert, bool force) {
  CARREFOUR_ASSIGN_OR_RETURN(std::string key_pem, KeyToPem(key));
  CARREFOUR_ASSIGN_OR_RETURN(std::string cert_pem, CertToPem(cert));
  CARREFOUR_ASSIGN_OR_RETURN(auto key_file, PendingFile::Write(key_path, key_pem, 0600));
  // Scrub the key's PEM copy from memory as soon as it is on disk.
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  CARREFOUR_ASSIGN_OR_RETURN(auto cert_file, PendingFile::Write(cert_path, cert_pem, 0644));
  return CommitPair(*key_file, *cert_file, force);
}


// ---------------------------------------------------------------------------
// Revocation: the issuance record and the CRL.

using X509CrlPtr = std::unique_ptr<X509_CRL, OpenSslDeleter<X509_CRL_free>>;
using X509RevokedPtr = std::unique_ptr<X509_REVOKED, OpenSslDeleter<X509_REVOKED_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, OpenSslDeleter<ASN1_INTEGER_free>>;
using Asn1TimePtr = std::unique_ptr<ASN1_TIME, OpenSslDeleter<ASN1_TIME_free>>;

constexpr std::string_view kIssuedFile = "issued.txt";
constexpr std::string_view kCrlFile = "crl.pem";

Result<std::string> SerialHex(const ASN1_INTEGER* serial) {
  BignumPtr number{ASN1_INTEGER_to_BN(serial, nullptr)};
  if (!number) return Error(OpenSslFailure("reading a serial number"));
  char* hex = BN_bn2hex(number.get());
  if (hex == nullptr) return Error(OpenSslFailure("printing a serial number"));
  std::string text(hex);
  OPENSSL_free(hex);
  return text;
}

Result<Asn1IntegerPtr> SerialFromHex(const std::string& hex) {
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, hex.c_str()) == 0) {
    return Error(InvalidRequest(fmt::format("'{}' is not a hexadecimal serial", Printable(hex))));
  }
  BignumPtr number{raw};
  Asn1IntegerPtr serial{BN_to_ASN1_INTEGER(number.get(), nullptr)};
  if (!serial) return Error(OpenSslFailure("encoding a serial number"));
  return serial;
}

// One line per issued certificate: "SERIAL NAME NOT-AFTER". Appended and
// synced after the certificate is in place: a crash in between loses only
// the record of a certificate that `pki revoke` still finds as NAME.crt.
Status RecordIssued(const fs::path& dir, const X509* cert, std::string_view name) {
  CARREFOUR_ASSIGN_OR_RETURN(std::string serial, SerialHex(X509_get0_serialNumber(cert)));
  std::tm expiry{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &expiry) != 1) {
    return OpenSslFailure("reading the expiry");
  }
  // ASN1_TIME_to_tm gives UTC: timegm, not mktime.
  const int64_t expiry_us = int64_t{timegm(&expiry)} * 1'000'000;
  std::string line = fmt::format("{} {} {}\n", serial, name, FormatRfc3339(expiry_us, 0));
  const fs::path path = dir / kIssuedFile;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Internal(fmt::format("cannot open {}: {}", path.string(), ErrnoText(errno)));
  // Public like the certificates it lists, whatever the umask.
  bool written = ::fchmod(fd, 0644) == 0 &&
                 ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                 ::fsync(fd) == 0;
  int error = errno;
  ::close(fd);
  if (!written) return Internal(fmt::format("cannot write {}: {}", path.string(), ErrnoText(error)));
  return OkStatus();
}

// The serials issued to `name`, in issue order: issued.txt, then NAME.crt if
// it is not recorded there (issued before the record existed).
Result<std::vector<std::string>> SerialsIssuedTo(const fs::path& dir, std::string_view name) {
  std::vector<std::string> serials;
  std::ifstream in(dir / kIssuedFile);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string serial, holder;
    if (fields >> serial >> holder && holder == name &&
        std::find(serials.begin(), serials.end(), serial) == serials.end()) {
      serials.push_back(serial);
    }
  }
  std::error_code ec;
  if (fs::exists(CertPath(dir, name), ec)) {
    CARREFOUR_ASSIGN_OR_RETURN(X509Ptr cert, LoadCertificate(CertPath(dir, name), "certificate"));
    CARREFOUR_ASSIGN_OR_RETURN(std::string serial, SerialHex(X509_get0_serialNumber(cert.get())));
    if (std::find(serials.begin(), serials.end(), serial) == serials.end()) {
      serials.push_back(serial);
    }
  }
  return serials;
}

struct Authority {
  X509Ptr cert;
  EvpPkeyPtr key;
};

Result<Authority> LoadAuthority(const fs::path& dir) {
  const fs::path ca_cert_path = CaCertPath(dir);
  const fs::path ca_key_path = KeyPath(dir, kCaName);
  std::error_code ec;
  if (!fs::exists(ca_cert_path, ec) || !fs::exists(ca_key_path, ec)) {
    return Error(NotFound(fmt::format(
        "no network CA in {} ({} or {} missing): run `carrefour pki init --dir {}` first",
        dir.string(), ca_cert_path.filename().string(), ca_key_path.filename().string(),
        dir.string())));
  }
  Authority authority;
  CARREFOUR_ASSIGN_OR_RETURN(authority.cert, LoadCertificate(ca_cert_path, "CA certificate"));
  CARREFOUR_ASSIGN_OR_RETURN(authority.key, LoadKey(ca_key_path, "CA key"));
  if (X509_check_private_key(authority.cert.get(), authority.key.get()) != 1) {
    ERR_clear_error();
    return Error(InvalidRequest(fmt::format("{} and {} do not belong together",
                                            ca_cert_path.string(), ca_key_path.string())));
  }
  return authority;
}

// What an existing crl.pem says: the revoked serials with their dates, and
// its number. It must be this CA's: a CRL we cannot verify is never
// silently replaced (it may be the only record of a revocation).
struct CrlState {
  std::vector<std::pair<std::string, Asn1TimePtr>> revoked;  // serial hex, date
  long number = 0;
};

Result<CrlState> ReadCrlState(const fs::path& dir, const Authority& authority) {
  CrlState state;
  const fs::path path = dir / kCrlFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) return state;
  CARREFOUR_ASSIGN_OR_RETURN(std::string pem, ReadFile(path, "CRL"));
  BioPtr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  if (!bio) return Error(OpenSslFailure("BIO_new_mem_buf"));
  X509CrlPtr crl{PEM_read_bio_X509_CRL(bio.get(), nullptr, NoPassphrase, nullptr)};
  if (!crl) {
    return Error(InvalidRequest(
        fmt::format("{} is not a PEM CRL: {}", path.string(), DrainOpenSslErrors())));
  }
  if (X509_CRL_verify(crl.get(), X509_get0_pubkey(authority.cert.get())) != 1) {
    ERR_clear_error();
    return Error(InvalidRequest(fmt::format(
        "{} is not signed by the CA in {}: move it aside if it belongs to another CA",
        path.string(), dir.string())));
  }
  STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(entries); ++i) {
    const X509_REVOKED* entry = sk_X509_REVOKED_value(entries, i);
    CARREFOUR_ASSIGN_OR_RETURN(std::string serial,
                               SerialHex(X509_REVOKED_get0_serialNumber(entry)));
    Asn1TimePtr date{ASN1_STRING_dup(X509_REVOKED_get0_revocationDate(entry))};
    if (!date) return Error(OpenSslFailure("copying a revocation date"));
    state.revoked.emplace_back(std::move(serial), std::move(date));
  }
  int critical = 0;
  Asn1IntegerPtr number{static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, &critical, nullptr))};
  if (number) state.number = ASN1_INTEGER_get(number.get());
  return state;
}

// Signs a v2 CRL (authority key identifier, CRL number) holding `state`'s
// entries, valid from now for `days`, and puts it in place atomically.
Status WriteCrl(const fs::path& dir, const Authority& authority, const CrlState& state, int days) {
  X509CrlPtr crl{X509_CRL_new()};
  if (!crl) return OpenSslFailure("X509_CRL_new");
  if (X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(authority.cert.get())) != 1) {
    return OpenSslFailure("setting the CRL's version and issuer");
  }
  Asn1TimePtr last{X509_gmtime_adj(nullptr, 0)};
  Asn1TimePtr next{X509_time_adj_ex(nullptr, days, 0, nullptr)};
  if (!last || !next || X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1) {
    return OpenSslFailure("setting the CRL's update times");
  }
  for (const auto& [serial_hex, date] : state.revoked) {
    CARREFOUR_ASSIGN_OR_RETURN(Asn1IntegerPtr serial, SerialFromHex(serial_hex));
    X509RevokedPtr entry{X509_REVOKED_new()};
    if (!entry || X509_REVOKED_set_serialNumber(entry.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(entry.get(), date.get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), entry.get()) != 1) {
      return OpenSslFailure("adding a revoked serial");
    }
    entry.release();  // owned by the CRL
  }
  if (X509_CRL_sort(crl.get()) != 1) return OpenSslFailure("sorting the CRL");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, authority.cert.get(), nullptr, nullptr, crl.get(), 0);
  X509ExtensionPtr key_id{
      X509V3_EXT_nconf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always")};
  if (!key_id || X509_CRL_add_ext(crl.get(), key_id.get(), -1) != 1) {
    return OpenSslFailure("adding the CRL's authority key identifier");
  }
  Asn1IntegerPtr number{ASN1_INTEGER_new()};
  if (!number || ASN1_INTEGER_set(number.get(), state.number + 1) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslFailure("adding the CRL number");
  }
  if (X509_CRL_sign(crl.get(), authority.key.get(), EVP_sha256()) <= 0) {
    return OpenSslFailure("signing the CRL");
  }
  CARREFOUR_ASSIGN_OR_RETURN(
      std::string pem, ToPem(
                           [](BIO* bio, const void* object) {
                             return PEM_write_bio_X509_CRL(
                                 bio, const_cast<X509_CRL*>(static_cast<const X509_CRL*>(object)));
                           },
                           crl.get(), "CRL"));
  CARREFOUR_ASSIGN_OR_RETURN(auto file, PendingFile::Write(dir / kCrlFile, pem, 0644));
  CARREFOUR_RETURN_IF_ERROR(file->Commit(/*overwrite=*/true));
  return SyncDirectory(dir);
}

}  // namespace

fs::path CaCertPath(const fs::path& dir) { return CertPath(dir, kCaName); }

fs::path CertPath(const fs::path& dir, std::string_view name) {
  return dir / (std::string(name) + ".crt");
}

fs::path KeyPath(const fs::path& dir, std::string_view name) {
  return dir / (std::string(name) + ".key");
}

Status InitAuthority(const fs::path& dir, const AuthorityOptions& options) {
  ERR_clear_error();
  CARREFOUR_RETURN_IF_ERROR(ValidateDirectory(dir));
  if (options.common_name.empty() || options.common_name.size() > kMaxCommonNameLength) {
    return InvalidRequest(
        fmt::format("the CA's common name must be 1 to {} characters long", kMaxCommonNameLength));
  }
  CARREFOUR_RETURN_IF_ERROR(ValidateDays(options.days));
  const fs::path cert_path = CaCertPath(dir);
  const fs::path key_path = KeyPath(dir, kCaName);
  CARREFOUR_RETURN_IF_ERROR(RefuseExisting({cert_path, key_path}, options.force));
  CARREFOUR_RETURN_IF_ERROR(EnsureDirectory(dir));

  CARREFOUR_ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateKey());
  CARREFOUR_ASSIGN_OR_RETURN(X509NamePtr name, NameWithCommonName(options.common_name));
  CARREFOUR_ASSIGN_OR_RETURN(X509Ptr cert, NewCertificate({name.get(), key.get(), options.days}));
  if (X509_set_issuer_name(cert.get(), name.get()) != 1) {
    return OpenSslFailure("setting the issuer");
  }
  // The CA signs certificates (and could sign CRLs), nothing else; pathlen
  // 0: the network has exactly one level below it, so no certificate it
  // signs may act as a CA (the TLS verification allows no intermediate
  // either).
  CARREFOUR_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  CARREFOUR_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  CARREFOUR_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  CARREFOUR_RETURN_IF_ERROR(Sign(cert.get(), key.get()));
  return WritePair(key_path, key.get(), cert_path, cert.get(), options.force);
}

Status IssueCertificate(const fs::path& dir, const IssueOptions& options) {
  ERR_clear_error();
  CARREFOUR_RETURN_IF_ERROR(ValidateDirectory(dir));
  CARREFOUR_RETURN_IF_ERROR(ValidateName(options.name));
  CARREFOUR_RETURN_IF_ERROR(ValidateDays(options.days));
  std::vector<AltName> alt_names;
  for (const std::string& host : options.hosts) {
    CARREFOUR_ASSIGN_OR_RETURN(AltName alt_name, ParseHost(host));
    bool duplicate = false;
    for (const AltName& seen : alt_names) {
      duplicate = duplicate || (seen.type == alt_name.type && seen.value == alt_name.value);
    }
    if (!duplicate) alt_names.push_back(std::move(alt_name));
  }

  const fs::path ca_cert_path = CaCertPath(dir);
  const fs::path ca_key_path = KeyPath(dir, kCaName);
  std::error_code ec;
  if (!fs::exists(ca_cert_path, ec) || !fs::exists(ca_key_path, ec)) {
    return NotFound(
        fmt::format("no network CA in {} ({} or {} missing): run `carrefour pki init "
                    "--dir {}` first",
                    dir.string(), ca_cert_path.filename().string(), ca_key_path.filename().string(),
                    dir.string()));
  }
  const fs::path cert_path = CertPath(dir, options.name);
  const fs::path key_path = KeyPath(dir, options.name);
  CARREFOUR_RETURN_IF_ERROR(RefuseExisting({cert_path, key_path}, options.force));

  CARREFOUR_ASSIGN_OR_RETURN(X509Ptr ca_cert, LoadCertificate(ca_cert_path, "CA certificate"));
  CARREFOUR_ASSIGN_OR_RETURN(EvpPkeyPtr ca_key, LoadKey(ca_key_path, "CA key"));
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    ERR_clear_error();
    return InvalidRequest(fmt::format("{} and {} do not belong together", ca_cert_path.string(),
                                      ca_key_path.string()));
  }
  if (X509_check_ca(ca_cert.get()) == 0) {
    return InvalidRequest(fmt::format("{} is not a CA certificate", ca_cert_path.string()));
  }

  CARREFOUR_ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateKey());
  CARREFOUR_ASSIGN_OR_RETURN(X509NamePtr name, NameWithCommonName(options.name));
  CARREFOUR_ASSIGN_OR_RETURN(X509Ptr cert, NewCertificate({name.get(), key.get(), options.days}));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get())) != 1) {
    return OpenSslFailure("setting the issuer");
  }
  // A certificate outliving its CA would only fail verification later, far
  // from the cause; capping it here keeps the printed dates truthful.
  if (ASN1_TIME_compare(X509_get0_notAfter(cert.get()), X509_get0_notAfter(ca_cert.get())) > 0 &&
      X509_set1_notAfter(cert.get(), X509_get0_notAfter(ca_cert.get())) != 1) {
    return OpenSslFailure("capping the validity at the CA's");
  }
  // Client and server auth in one certificate: an institution's connector
  // both calls the hub and is called by it (docs/api.md sections 4 and 5).
  // digitalSignature is all (EC)DHE with ECDSA needs in TLS 1.2 and 1.3.
  X509* ca = ca_cert.get();
  CARREFOUR_RETURN_IF_ERROR(AddExtension(cert.get(), ca, NID_basic_constraints, "CA:FALSE"));
  CARREFOUR_RETURN_IF_ERROR(
      AddExtension(cert.get(), ca, NID_key_usage, "critical,digitalSignature"));
  CARREFOUR_RETURN_IF_ERROR(
      AddExtension(cert.get(), ca, NID_ext_key_usage, "serverAuth,clientAuth"));
  CARREFOUR_RETURN_IF_ERROR(AddExtension(cert.get(), ca, NID_subject_key_identifier, "hash"));
  CARREFOUR_RETURN_IF_ERROR(
      AddExtension(cert.get(), ca, NID_authority_key_identifier, "keyid:always"));
  CARREFOUR_RETURN_IF_ERROR(AddSubjectAltName(cert.get(), alt_names));
  CARREFOUR_RETURN_IF_ERROR(Sign(cert.get(), ca_key.get()));
  CARREFOUR_RETURN_IF_ERROR(WritePair(key_path, key.get(), cert_path, cert.get(), options.force));
  return RecordIssued(dir, cert.get(), options.name);
}

Result<std::string> CommonNameOf(const fs::path& cert_file) {
  ERR_clear_error();
  CARREFOUR_ASSIGN_OR_RETURN(X509Ptr cert, LoadCertificate(cert_file, "certificate"));
  const X509_NAME* subject = X509_get_subject_name(cert.get());
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) {
    return Error(InvalidRequest(fmt::format("{} has no common name (CN)", cert_file.string())));
  }
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return Error(OpenSslFailure("decoding the common name"));
  std::string common_name(reinterpret_cast<const char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  return common_name;
}

fs::path CrlPath(const fs::path& dir) { return dir / kCrlFile; }

Result<std::vector<std::string>> RevokeCertificates(const fs::path& dir, std::string_view name,
                                                    const CrlOptions& options) {
  ERR_clear_error();
  CARREFOUR_RETURN_IF_ERROR(ValidateDirectory(dir));
  CARREFOUR_RETURN_IF_ERROR(ValidateName(name));
  CARREFOUR_RETURN_IF_ERROR(ValidateDays(options.days));
  CARREFOUR_ASSIGN_OR_RETURN(Authority authority, LoadAuthority(dir));
  CARREFOUR_ASSIGN_OR_RETURN(std::vector<std::string> serials, SerialsIssuedTo(dir, name));
  if (serials.empty()) {
    return Error(NotFound(fmt::format("no certificate was issued to \"{}\" in {}",
                                      Printable(name), dir.string())));
  }
  CARREFOUR_ASSIGN_OR_RETURN(CrlState state, ReadCrlState(dir, authority));
  for (const std::string& serial : serials) {
    bool listed = false;
    for (const auto& [revoked, date] : state.revoked) listed = listed || revoked == serial;
    if (listed) continue;
    Asn1TimePtr now{X509_gmtime_adj(nullptr, 0)};
    if (!now) return Error(OpenSslFailure("reading the time"));
    state.revoked.emplace_back(serial, std::move(now));
  }
  CARREFOUR_RETURN_IF_ERROR(WriteCrl(dir, authority, state, options.days));
  return serials;
}

Status RenewCrl(const fs::path& dir, const CrlOptions& options) {
  ERR_clear_error();
  CARREFOUR_RETURN_IF_ERROR(ValidateDirectory(dir));
  CARREFOUR_RETURN_IF_ERROR(ValidateDays(options.days));
  CARREFOUR_ASSIGN_OR_RETURN(Authority authority, LoadAuthority(dir));
  CARREFOUR_ASSIGN_OR_RETURN(CrlState state, ReadCrlState(dir, authority));
  return WriteCrl(dir, authority, state, options.days);
}

Result<std::string> SerialOf(const fs::path& cert_file) {
  ERR_clear_error();
  CARREFOUR_ASSIGN_OR_RETURN(X509Ptr cert, LoadCertificate(cert_file, "certificate"));
  return SerialHex(X509_get0_serialNumber(cert.get()));
}

}  // namespace carrefour::pki
