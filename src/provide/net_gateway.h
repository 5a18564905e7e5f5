// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Provide calls over mutual TLS with kept-alive pools (docs/api.md section
// 5): the exchange::ProviderGateway of the hub and of `carrefour research
// extract`, which both call the providers as the hub (CN=hub). Start here.
//
//   net::Client& client = ...;               // the hub's certificate
//   provide::NetGateway gateway(client, provide::NetGateway::Errors::kForRequester);
//   exchange::ConsultationService service(..., gateway, ...);

#include <string>

#include "exchange/consultation.h"
#include "net/client.h"
#include "network/model.h"

namespace carrefour::provide {

// Thread-safe; `client` must outlive it. Each provider must present its own
// institution's certificate (its id as CN); one with no endpoint in the
// network definition is unavailable without a call.
class NetGateway : public exchange::ProviderGateway {
 public:
  // What a failed call's Status says.
  enum class Errors {
    // The code (timeout or unavailable) and who failed, nothing more: the
    // details (addresses, TLS alerts, the CN a server presented) are the
    // network's internals, logged (warning) but not handed to a requester.
    kForRequester,
    // The client's Status as it came: for an operator's own command.
    kAsIs,
  };

  NetGateway(net::Client& client, Errors errors) : client_(client), errors_(errors) {}

  // exchange::ProviderGateway
  void Provide(const network::Institution& provider, std::string body, Done done) override;

 private:
  net::Client& client_;
  const Errors errors_;
};

}  // namespace carrefour::provide
