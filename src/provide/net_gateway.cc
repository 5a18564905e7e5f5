// SPDX-License-Identifier: EUPL-1.2
#include "provide/net_gateway.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <utility>

namespace carrefour::provide {

void NetGateway::Provide(const network::Institution& provider, std::string body, Done done) {
  if (provider.endpoint.empty()) {
    done(Error(Unavailable(fmt::format("{} has no endpoint in the network definition", provider.id))));
    return;
  }
  net::Endpoint endpoint;
  endpoint.tls = true;
  endpoint.host = provider.endpoint_host;
  endpoint.port = provider.endpoint_port;
  // The provider must present its own institution's certificate.
  endpoint.expected_cn = provider.id;
  client_.Post(endpoint, "/v1/provide", std::move(body),
               [done = std::move(done), id = provider.id,
                errors = errors_](Result<net::ClientResponse> response) {
                 if (response) {
                   done(exchange::ProviderReply{response->status, std::move(response->body)});
                   return;
                 }
                 if (errors == Errors::kAsIs) {
                   done(Error(response.error()));
                   return;
                 }
                 spdlog::warn("provide call to {} failed: {}", id, response.error().ToString());
                 const StatusCode code = response.error().code();
                 done(Error(Status(code, code == StatusCode::kTimeout
                                             ? fmt::format("{} did not answer in time", id)
                                             : fmt::format("{} could not be reached or could not "
                                                           "prove its identity",
                                                           id))));
               });
}

}  // namespace carrefour::provide
