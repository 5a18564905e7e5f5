// SPDX-License-Identifier: EUPL-1.2
#pragma once

// What the connector's loops share (private to src/connector).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include <boost/json/value.hpp>

#include "connector/config.h"
#include "connector/database.h"
#include "net/client.h"

namespace carrefour::connector::internal {

// Set once, at Stop(); loops sleep on it so that they wake at once.
class StopSignal {
 public:
  void Stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    changed_.notify_all();
  }
  bool stopped() const {
    std::lock_guard lock(mu_);
    return stopped_;
  }
  // Sleeps up to `duration`; false when stopped (before or during).
  bool SleepFor(std::chrono::milliseconds duration) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, duration, [&] { return stopped_; });
    return !stopped_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool stopped_ = false;
};

struct Counters {
  std::atomic<uint64_t> provide_requests{0}, provide_answered{0}, provide_no_data{0},
      provide_errors{0}, feed_applied{0}, feed_unapplied{0}, outbox_accepted{0},
      outbox_rejected{0}, integrations_ok{0}, integrations_rejected{0}, hub_failures{0};
};

// Exponential backoff between retries when the hub cannot be reached: 100 ms
// doubling up to the configured ceiling.
class Backoff {
 public:
  explicit Backoff(std::chrono::milliseconds ceiling) : ceiling_(ceiling) {}
  std::chrono::milliseconds Next() {
    std::chrono::milliseconds out = next_;
    next_ = std::min(ceiling_, next_ * 2);
    return out;
  }
  void Reset() { next_ = std::chrono::milliseconds(100); }

 private:
  std::chrono::milliseconds ceiling_;
  std::chrono::milliseconds next_{100};
};

struct Context {
  const ConnectorConfig& config;
  Database& database;
  net::Client& client;
  net::Endpoint hub;
  Counters& counters;
  StopSignal& stop;

  // One call to the hub; nullopt when the connector stops while waiting.
  std::optional<Result<net::ClientResponse>> CallHub(net::ClientRequest request);
};

// Mutation data and SQL values, both ways: strings, numbers, booleans and
// null map to themselves; objects and arrays travel as JSON text.
SqlValue FromJson(const boost::json::value& value);
boost::json::value ToJson(const SqlValue& value);

// The three loops; each returns when ctx.stop is set.
void RunFeed(Context& ctx);
void RunOutbox(Context& ctx);
void RunIntegrations(Context& ctx);

// The connector's own tables, in the institution's database.
inline constexpr const char* kStateTable =
    "CREATE TABLE IF NOT EXISTS carrefour_connector_state ("
    " name TEXT PRIMARY KEY, value TEXT NOT NULL)";
inline constexpr const char* kUnappliedTable =
    "CREATE TABLE IF NOT EXISTS carrefour_unapplied ("
    " cursor TEXT NOT NULL, id TEXT NOT NULL, source TEXT NOT NULL, data_type TEXT NOT NULL,"
    " niss TEXT NOT NULL, effective TEXT NOT NULL, data TEXT NOT NULL, reason TEXT NOT NULL,"
    " recorded_at TEXT NOT NULL)";
inline constexpr const char* kReadState =
    "SELECT value FROM carrefour_connector_state WHERE name = :name";
inline constexpr const char* kWriteState =
    "INSERT INTO carrefour_connector_state (name, value) VALUES (:name, :value)"
    " ON CONFLICT (name) DO UPDATE SET value = excluded.value";

// The state value `name`, or nullopt.
Result<std::optional<std::string>> ReadState(Session& session, const std::string& name);

}  // namespace carrefour::connector::internal
