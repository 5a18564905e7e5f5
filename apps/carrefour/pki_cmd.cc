// SPDX-License-Identifier: EUPL-1.2
// `carrefour pki init|issue|revoke|crl`: the network's PKI (docs/api.md section 2). The work
// is in src/pki; this file maps flags to options and a Status to an exit code.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "apps/carrefour/commands.h"
#include "pki/pki.h"

namespace carrefour::cli {
namespace {

// Flag values live here, owned by the callbacks, because CLI11 writes them
// after AddPkiCommands has returned.
struct PkiFlags {
  std::string dir;
  pki::AuthorityOptions authority;
  pki::IssueOptions issue;
  std::string revoke_name;
  pki::CrlOptions crl;
};

// An error is exit 1 (usage errors are 2, raised by CLI11 before we run).
int Report(const Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "carrefour pki: %s\n", status.message().c_str());
  return 1;
}

std::string JoinHosts(const std::vector<std::string>& hosts) {
  if (hosts.empty()) return "none: client authentication only";
  return fmt::format("{}", fmt::join(hosts, ", "));
}

}  // namespace

void AddPkiCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<PkiFlags>();

  CLI::App* pki = app.add_subcommand(
      "pki", "The network's PKI: its certificate authority and the certificates it issues");
  pki->require_subcommand(1);
  pki->footer(
      "Identity is the certificate's CN: an institution's id (as in the network\n"
      "definition), or \"hub\" for the hub. See docs/pki.md.\n");

  CLI::App* init = pki->add_subcommand(
      "init", "Create the network CA: DIR/ca.key (private, 0600) and DIR/ca.crt");
  init->add_option("--dir", flags->dir, "Directory of the PKI (created 0700 if missing)")
      ->required();
  init->add_option("--days", flags->authority.days, "Validity of the CA certificate, in days")
      ->capture_default_str();
  init->add_flag("--force", flags->authority.force,
                 "Replace an existing CA (every certificate it issued stops verifying)");
  init->callback([flags, exit_code] {
    Status status = pki::InitAuthority(flags->dir, flags->authority);
    if (status.ok()) {
      std::printf("wrote %s (CA private key, mode 0600: keep it offline)\n",
                  pki::KeyPath(flags->dir, "ca").c_str());
      std::printf("wrote %s (network CA certificate: give it to the hub and every institution)\n",
                  pki::CaCertPath(flags->dir).c_str());
    }
    *exit_code = Report(status);
  });

  CLI::App* issue = pki->add_subcommand(
      "issue",
      "Issue DIR/NAME.key + DIR/NAME.crt (CN = NAME) signed by the CA in DIR, for TLS client "
      "and server authentication");
  issue->add_option("--dir", flags->dir, "Directory of the PKI, holding ca.crt and ca.key")
      ->required();
  issue
      ->add_option("--name", flags->issue.name,
                   "Institution id or \"hub\": [a-z0-9._-], 1 to 64 characters")
      ->required();
  issue
      ->add_option("--host", flags->issue.hosts,
                   "Host name or IP address the holder serves on (subjectAltName); repeatable")
      ->allow_extra_args(false);
  issue->add_option("--days", flags->issue.days, "Validity in days (capped at the CA's own expiry)")
      ->capture_default_str();
  issue->add_flag("--force", flags->issue.force, "Replace an existing NAME.key and NAME.crt");
  issue->callback([flags, exit_code] {
    Status status = pki::IssueCertificate(flags->dir, flags->issue);
    if (status.ok()) {
      std::printf("wrote %s (private key, mode 0600)\n",
                  pki::KeyPath(flags->dir, flags->issue.name).c_str());
      std::printf("wrote %s (CN=%s, hosts: %s)\n",
                  pki::CertPath(flags->dir, flags->issue.name).c_str(), flags->issue.name.c_str(),
                  JoinHosts(flags->issue.hosts).c_str());
    }
    *exit_code = Report(status);
  });

  CLI::App* revoke = pki->add_subcommand(
      "revoke",
      "Revoke every certificate issued to NAME: DIR/crl.pem (signed by the CA) lists them; "
      "prints their serials");
  revoke->add_option("--dir", flags->dir, "Directory of the PKI, holding ca.crt and ca.key")
      ->required();
  revoke->add_option("--name", flags->revoke_name, "Institution id (or \"hub\") to revoke")
      ->required();
  revoke->add_option("--days", flags->crl.days, "Days until the CRL's next update")
      ->capture_default_str();
  revoke->callback([flags, exit_code] {
    Result<std::vector<std::string>> serials =
        pki::RevokeCertificates(flags->dir, flags->revoke_name, flags->crl);
    if (!serials) {
      *exit_code = Report(serials.error());
      return;
    }
    for (const std::string& serial : *serials) {
      std::printf("revoked %s serial %s\n", flags->revoke_name.c_str(), serial.c_str());
    }
    std::printf("wrote %s (next update in %d days): reload the hub and connectors to apply it\n",
                pki::CrlPath(flags->dir).c_str(), flags->crl.days);
    *exit_code = 0;
  });

  CLI::App* crl = pki->add_subcommand(
      "crl", "Sign DIR/crl.pem again with a fresh next-update time (an empty CRL if none yet)");
  crl->add_option("--dir", flags->dir, "Directory of the PKI, holding ca.crt and ca.key")
      ->required();
  crl->add_option("--days", flags->crl.days, "Days until the CRL's next update")
      ->capture_default_str();
  crl->callback([flags, exit_code] {
    Status status = pki::RenewCrl(flags->dir, flags->crl);
    if (status.ok()) {
      std::printf("wrote %s (next update in %d days)\n", pki::CrlPath(flags->dir).c_str(),
                  flags->crl.days);
    }
    *exit_code = Report(status);
  });
}

}  // namespace carrefour::cli
