// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Whether a host names this machine only: "localhost", an IPv4 address of
// 127.0.0.0/8 or the IPv6 loopback ::1 (without brackets, as
// ParseListenAddress gives it). No name resolution: any other name is
// "not loopback". Used where something may run unguarded only on this
// machine (the hub's admin listener without a token, the load generator).

#include <string>

namespace carrefour::net {

bool IsLoopbackHost(const std::string& host);

}  // namespace carrefour::net
