// SPDX-License-Identifier: EUPL-1.2
// Change notifications through a running hub's own mutual-TLS API, beside
// Redis Streams in the same run (bench/mutations/run.sh drives it;
// docs/mutations.md, "Performance", has the figures):
//
//   (a) flat out: `nr` publishes batches of 1000 (POST /v1/mutations; each
//       person insured by 3 mutualities, resolved from the hub's directory)
//       while the 3 mutualities read their feeds (GET /v1/mutations/feed,
//       limit 1000, long poll; each read acknowledges the previous one).
//       Redis: the same messages by XADD in pipelines of 1000 through one
//       connection, 3 consumer groups reading with XREADGROUP COUNT 1000
//       BLOCK and acknowledging with XACK. Accepted/s (publisher),
//       delivered/s per subscriber (until it has everything), bytes written
//       per message by the server processes (/proc/PID/io write_bytes);
//   (b) PostgreSQL only (--raw-postgres URL): the same rows the intake
//       writes (mutations with their payload, 3 feed blocks and counters,
//       one audit record per mutation and the signed checkpoint) by COPY, one
//       transaction per batch of 1000, in a database of the store's schema;
//   (c) trickle: one mutation per request at a fixed rate (default 1000/s,
//       open loop; the publisher's connections opened beforehand), the 3
//       subscribers long-polling: publish -> feed delay p50 / p99 / max;
//       Redis: one XADD per message at the same rate.
//
//   mutations_load --hub URL --pki DIR [--redis HOST:PORT] [--raw-postgres URL]
//                  [--label NAME] [--mutations N] [--rounds N] [--persons N]
//                  [--trickle-seconds S] [--trickle-rate R] [--hub-pids PIDS]
//                  [--redis-pids PIDS] [--postgres-pid PID] [--no-integrate]
//                  [--random-ids]
//
// --random-ids: the flat-out mutations' ids scattered over the key space, as
// a source using random ids (UUIDs) would send them, instead of numbered in
// order; the trickle's stay numbered.
//
// Rounds interleave the hub and Redis so that a shared machine's changing
// load weighs on both alike. Prints a table and one JSON line per system.

#include <hiredis/hiredis.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "net/client.h"
#include "niss/niss.h"
#include "store/store.h"

namespace {

namespace json = boost::json;
namespace net = carrefour::net;
using SteadyClock = std::chrono::steady_clock;

constexpr size_t kBatch = 1000;
const std::vector<std::string> kSubscribers = {"mut-100", "mut-200", "mut-300"};

[[noreturn]] void Die(const std::string& message) {
  fmt::print(stderr, "mutations_load: {}\n", message);
  exit(1);
}

int64_t MicrosNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}
double Seconds(int64_t us) { return static_cast<double>(us) / 1e6; }

struct Config {
  std::string hub;
  std::string pki;
  std::string redis;
  std::string raw_postgres;
  std::string label = "hub";
  size_t mutations = 30'000;
  size_t rounds = 3;
  size_t persons = 10'000;
  double trickle_seconds = 5;
  size_t trickle_rate = 1000;
  std::vector<int> hub_pids, redis_pids;
  int postgres_pid = 0;  // the postmaster: its children's writes count for the hub
  bool integrate = true;
  // Flat-out mutation ids: "<prefix>-<i>" (a source numbering its
  // mutations in order), or "<prefix>-<16 hex digits>" scattered over the
  // key space (a source using random ids, UUIDs).
  bool random_ids = false;
};

// --- bytes written by processes (and their children) -----------------------------
int64_t WriteBytes(int pid) {
  std::ifstream io(fmt::format("/proc/{}/io", pid));
  std::string key;
  int64_t value = 0;
  while (io >> key >> value) {
    if (key == "write_bytes:") return value;
  }
  return 0;
}
std::map<int, int64_t> WriteBytesOf(const std::vector<int>& pids, int parent) {
  std::map<int, int64_t> out;
  for (int pid : pids) out[pid] = WriteBytes(pid);
  if (parent > 0) {
    out[parent] = WriteBytes(parent);
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator(
             fmt::format("/proc/{}/task", parent), ec)) {
      std::ifstream children(task.path() / "children");
      int child;
      while (children >> child) out[child] = WriteBytes(child);
    }
  }
  return out;
}
int64_t WrittenSince(const std::map<int, int64_t>& before, const std::map<int, int64_t>& after) {
  int64_t total = 0;
  for (const auto& [pid, bytes] : after) {
    auto found = before.find(pid);
    total += bytes - (found == before.end() ? 0 : found->second);
  }
  return total;
}

// --- what is published ----------------------------------------------------------------
std::string Item(std::string_view id, std::string_view niss, size_t i) {
  return fmt::format(
      R"({{"id": "{}", "data_type": "person.address", "niss": "{}", "effective": "2024-05-01", )"
      R"("data": {{"street": "Rue Neuve {}", "postal_code": "5000", "municipality": "Namur", )"
      R"("country": "BE", "since": "2024-05-01"}}}})",
      id, niss, i);
}
// The id of flat-out mutation i (Config::random_ids): distinct for distinct
// i either way (splitmix64's finalizer is a bijection).
std::string FlatId(bool random, std::string_view prefix, size_t i) {
  if (!random) return fmt::format("{}-{}", prefix, i);
  uint64_t z = i + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return fmt::format("{}-{:016x}", prefix, z ^ (z >> 31));
}
size_t IndexOf(std::string_view id) {
  return std::stoul(std::string(id.substr(id.rfind('-') + 1)));
}

struct Delays {
  std::vector<int64_t> us;
  double At(double q) const {
    if (us.empty()) return 0;
    return static_cast<double>(us[std::min(us.size() - 1, static_cast<size_t>(q * us.size()))]) /
           1000.0;
  }
  void Sort() { std::sort(us.begin(), us.end()); }
};

struct Flat {
  double accepted_per_s = 0;
  double delivered_per_s = 0;  // per subscriber: the slowest of them
  double bytes_per_message = 0;
};

// --- the hub -----------------------------------------------------------------------
class Hub {
 public:
  explicit Hub(const Config& config) : config_(config) {
    auto endpoint = net::Endpoint::Parse(config.hub, "hub");
    if (!endpoint) Die("--hub: " + endpoint.error().ToString());
    endpoint_ = *endpoint;
    for (const std::string& name : std::vector<std::string>{"nr", "mut-100", "mut-200", "mut-300"}) {
      net::ClientOptions options;
      options.tls = net::TlsFiles{fmt::format("{}/{}.crt", config.pki, name),
                                  fmt::format("{}/{}.key", config.pki, name),
                                  fmt::format("{}/ca.crt", config.pki)};
      options.timeout = std::chrono::milliseconds(30'000);
      options.threads = 1;
      auto client = net::Client::Create(options);
      if (!client) Die(fmt::format("client {}: {}", name, client.error().ToString()));
      clients_[name] = std::move(*client);
    }
  }

  net::ClientResponse Call(const std::string& who, std::string method, std::string target,
                           std::string body = {}) {
    net::ClientRequest request;
    request.method = std::move(method);
    request.target = std::move(target);
    request.body = std::move(body);
    auto response = clients_.at(who)->SendSync(endpoint_, std::move(request));
    if (!response) Die(fmt::format("{}: {}", who, response.error().ToString()));
    return *response;
  }

  void Integrate(const std::vector<std::string>& persons) {
    for (const std::string& subscriber : kSubscribers) {
      for (size_t first = 0; first < persons.size(); first += 10'000) {
        std::string body = R"({"entries": [)";
        for (size_t p = first; p < std::min(persons.size(), first + 10'000); ++p) {
          if (p > first) body += ",";
          body += fmt::format(
              R"({{"action": "add", "niss": "{}", "capacity": "insured", "from": "2020-01-01", "to": null}})",
              persons[p]);
        }
        body += "]}";
        net::ClientResponse response = Call(subscriber, "POST", "/v1/directory/entries", body);
        if (response.status != 200 || response.body.find("rejected") != std::string::npos) {
          Die(fmt::format("integration by {}: {} {}", subscriber, response.status,
                          response.body.substr(0, 300)));
        }
      }
    }
  }

  // A feed read; the answer's ids and its next cursor.
  std::pair<std::vector<std::string>, std::string> Read(const std::string& subscriber,
                                                        const std::string& after, int wait) {
    net::ClientResponse response =
        Call(subscriber, "GET",
             fmt::format("/v1/mutations/feed?after={}&limit={}&wait={}", after, kBatch, wait));
    if (response.status != 200) Die("feed: " + response.body.substr(0, 300));
    std::vector<std::string> ids;
    // The ids without parsing the whole answer: "id":"...".
    const std::string_view body = response.body;
    for (size_t at = body.find("\"id\":\""); at != std::string_view::npos;
         at = body.find("\"id\":\"", at)) {
      at += 6;
      const size_t end = body.find('"', at);
      ids.emplace_back(body.substr(at, end - at));
    }
    size_t at = body.rfind("\"next\":\"");
    if (at == std::string_view::npos) Die("feed answer without next: " + response.body.substr(0, 200));
    at += 8;
    return {std::move(ids), std::string(body.substr(at, body.find('"', at) - at))};
  }

  std::string& cursor(const std::string& subscriber) { return cursors_[subscriber]; }

  net::Client& client(const std::string& who) { return *clients_.at(who); }
  const net::Endpoint& endpoint() const { return endpoint_; }

 private:
  const Config& config_;
  net::Endpoint endpoint_;
  std::map<std::string, std::unique_ptr<net::Client>> clients_;
  std::map<std::string, std::string> cursors_ = {{"mut-100", "0"}, {"mut-200", "0"}, {"mut-300", "0"}};
};

Flat HubFlat(Hub& hub, const Config& config, const std::vector<std::string>& persons,
             const std::string& prefix, size_t count) {
  std::vector<std::string> bodies;
  for (size_t first = 0; first < count; first += kBatch) {
    std::string body = R"({"mutations": [)";
    for (size_t i = first; i < std::min(count, first + kBatch); ++i) {
      if (i > first) body += ",";
      body += Item(FlatId(config.random_ids, prefix, i), persons[i % persons.size()], i);
    }
    bodies.push_back(body + "]}");
  }
  const auto before = WriteBytesOf(config.hub_pids, config.postgres_pid);
  const int64_t start = MicrosNow();
  std::vector<int64_t> done_at(kSubscribers.size(), 0);
  std::vector<std::thread> readers;
  for (size_t s = 0; s < kSubscribers.size(); ++s) {
    readers.emplace_back([&, s] {
      size_t got = 0;
      std::string& after = hub.cursor(kSubscribers[s]);
      while (got < count) {
        auto [ids, next] = hub.Read(kSubscribers[s], after, 5);
        for (const std::string& id : ids) got += id.starts_with(prefix) ? 1 : 0;
        after = next;
      }
      done_at[s] = MicrosNow();
    });
  }
  for (const std::string& body : bodies) {
    net::ClientResponse response = hub.Call("nr", "POST", "/v1/mutations", body);
    size_t accepted = 0;
    for (size_t at = response.body.find("\"accepted\""); at != std::string::npos;
         at = response.body.find("\"accepted\"", at + 1)) {
      ++accepted;
    }
    if (response.status != 202 || accepted != std::min(kBatch, count)) {
      Die(fmt::format("publish: {} {}", response.status, response.body.substr(0, 300)));
    }
  }
  const int64_t published = MicrosNow();
  for (std::thread& reader : readers) reader.join();
  const auto after = WriteBytesOf(config.hub_pids, config.postgres_pid);
  Flat out;
  out.accepted_per_s = static_cast<double>(count) / Seconds(published - start);
  out.delivered_per_s =
      static_cast<double>(count) / Seconds(*std::max_element(done_at.begin(), done_at.end()) - start);
  out.bytes_per_message = static_cast<double>(WrittenSince(before, after)) / static_cast<double>(count);
  return out;
}

// Connections the trickle's publisher opens beforehand: at 1000/s, enough
// for any stall under 32 ms without opening one more.
constexpr size_t kTricklePool = 32;

// Opens `count` of `who`'s connections to the hub (empty batches, sent at
// once: each takes a connection of its own), left in its pool.
void WarmPool(Hub& hub, const std::string& who, size_t count) {
  std::vector<std::pair<net::Endpoint, net::ClientRequest>> calls;
  for (size_t i = 0; i < count; ++i) {
    net::ClientRequest request;
    request.method = "POST";
    request.target = "/v1/mutations";
    request.body = R"({"mutations": []})";
    calls.emplace_back(hub.endpoint(), std::move(request));
  }
  std::promise<std::vector<carrefour::Result<net::ClientResponse>>> answered;
  hub.client(who).SendAll(std::move(calls), [&answered](auto responses) {
    answered.set_value(std::move(responses));
  });
  for (const auto& response : answered.get_future().get()) {
    if (!response || response->status != 202) {
      Die(fmt::format("warming {}'s connections: {}", who,
                      response ? response->body : response.error().ToString()));
    }
  }
}

// The trickle's publish -> feed delays, and `publish` the publications' own
// answer times (send -> 202): what the publishing side takes of the delay.
Delays HubTrickle(Hub& hub, const Config& config, const std::vector<std::string>& persons,
                  const std::string& prefix, Delays* publish) {
  const size_t count = static_cast<size_t>(config.trickle_seconds * static_cast<double>(config.trickle_rate));
  std::vector<std::atomic<int64_t>> sent(count);
  std::vector<std::vector<int64_t>> delays(kSubscribers.size());
  std::atomic<bool> failed{false};
  std::vector<std::thread> readers;
  for (size_t s = 0; s < kSubscribers.size(); ++s) {
    readers.emplace_back([&, s] {
      size_t got = 0;
      std::string& after = hub.cursor(kSubscribers[s]);
      while (got < count && !failed) {
        auto [ids, next] = hub.Read(kSubscribers[s], after, 5);
        const int64_t now = MicrosNow();
        for (const std::string& id : ids) {
          if (!id.starts_with(prefix)) continue;
          delays[s].push_back(now - sent[IndexOf(id)].load());
          ++got;
        }
        after = next;
      }
    });
  }
  // The publisher's connections are open before the first measured
  // publication, as a running source's are: opened during the trickle, each
  // is a TLS handshake on both sides, and a short stall then made the client
  // open dozens at once (44 in 5 s, p99 40 ms), whose handshakes slowed
  // every request (docs/mutations.md, "Performance").
  WarmPool(hub, "nr", kTricklePool);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the readers wait
  std::atomic<size_t> answered{0};
  std::vector<int64_t> answer_us(count, 0);  // each written once, read after all answered
  const int64_t start = MicrosNow();
  for (size_t i = 0; i < count; ++i) {
    const int64_t due = start + static_cast<int64_t>(i * 1'000'000 / config.trickle_rate);
    while (MicrosNow() < due) {
      std::this_thread::sleep_for(std::chrono::microseconds(std::max<int64_t>(0, due - MicrosNow() - 50)));
    }
    net::ClientRequest request;
    request.method = "POST";
    request.target = "/v1/mutations";
    request.body = fmt::format(R"({{"mutations": [{}]}})",
                               Item(fmt::format("{}-{}", prefix, i), persons[i % persons.size()], i));
    sent[i] = MicrosNow();
    hub.client("nr").Send(hub.endpoint(), std::move(request),
                          [&answered, &failed, &answer_us, &sent,
                           i](carrefour::Result<net::ClientResponse> response) {
                            answer_us[i] = MicrosNow() - sent[i].load();
                            if (!response || response->status != 202) {
                              fmt::print(stderr, "trickle publish failed: {}\n",
                                         response ? response->body : response.error().ToString());
                              failed = true;
                            }
                            ++answered;
                          });
  }
  while (answered < count) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (std::thread& reader : readers) reader.join();
  if (failed) Die("the hub trickle failed");
  publish->us = std::move(answer_us);
  publish->Sort();
  Delays out;
  for (const auto& some : delays) out.us.insert(out.us.end(), some.begin(), some.end());
  out.Sort();
  return out;
}

// --- Redis Streams ---------------------------------------------------------------------
class Redis {
 public:
  explicit Redis(const std::string& address) {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos) Die("--redis must be HOST:PORT");
    host_ = address.substr(0, colon);
    port_ = std::stoi(address.substr(colon + 1));
  }
  redisContext* Connect() const {
    redisContext* c = redisConnect(host_.c_str(), port_);
    if (c == nullptr || c->err) Die(fmt::format("redis: cannot connect to {}:{}", host_, port_));
    return c;
  }
  static redisReply* Get(redisContext* c) {
    void* reply = nullptr;
    if (redisGetReply(c, &reply) != REDIS_OK || reply == nullptr) Die("redis: no reply");
    auto* r = static_cast<redisReply*>(reply);
    if (r->type == REDIS_REPLY_ERROR) Die(fmt::format("redis: {}", std::string(r->str, r->len)));
    return r;
  }
  // A fresh stream with 3 consumer groups at its start.
  void Reset(const std::string& stream) const {
    redisContext* c = Connect();
    freeReplyObject(redisCommand(c, "DEL %s", stream.c_str()));
    for (size_t s = 0; s < kSubscribers.size(); ++s) {
      const std::string group = fmt::format("g{}", s);
      freeReplyObject(
          Check(redisCommand(c, "XGROUP CREATE %s %s 0 MKSTREAM", stream.c_str(), group.c_str())));
    }
    redisFree(c);
  }
  static void* Check(void* reply) {
    if (reply == nullptr) Die("redis: command failed");
    auto* r = static_cast<redisReply*>(reply);
    if (r->type == REDIS_REPLY_ERROR) Die(fmt::format("redis: {}", std::string(r->str, r->len)));
    return reply;
  }

  // One consumer of group `s`: reads until it has `count` messages of
  // `prefix`, acknowledging each batch (pipelined with the next read).
  // `on` gets each message's id (the mutation id) and the time it arrived.
  template <typename On>
  void Consume(const std::string& stream, size_t s, size_t count, const std::string& prefix,
               On on) const {
    redisContext* c = Connect();
    size_t got = 0;
    std::vector<std::string> to_ack;
    const std::string group = fmt::format("g{}", s);
    while (got < count) {
      if (!to_ack.empty()) {
        std::vector<const char*> argv = {"XACK", stream.c_str(), group.c_str()};
        std::vector<size_t> lens = {4, stream.size(), group.size()};
        for (const std::string& id : to_ack) {
          argv.push_back(id.c_str());
          lens.push_back(id.size());
        }
        redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data());
      }
      // (hiredis' format knows no %zu.)
      redisAppendCommand(c, "XREADGROUP GROUP %s c COUNT %s BLOCK 5000 STREAMS %s >",
                         group.c_str(), std::to_string(kBatch).c_str(), stream.c_str());
      if (!to_ack.empty()) freeReplyObject(Get(c));
      to_ack.clear();
      redisReply* reply = Get(c);
      const int64_t now = MicrosNow();
      if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
        redisReply* entries = reply->element[0]->element[1];
        for (size_t e = 0; e < entries->elements; ++e) {
          redisReply* entry = entries->element[e];
          to_ack.emplace_back(entry->element[0]->str, entry->element[0]->len);
          redisReply* fields = entry->element[1];
          // fields: "id", <mutation id>, "m", <message>
          std::string_view id(fields->element[1]->str, fields->element[1]->len);
          if (id.starts_with(prefix)) {
            on(id, now);
            ++got;
          }
        }
      }
      freeReplyObject(reply);
    }
    if (!to_ack.empty()) {
      std::vector<const char*> argv = {"XACK", stream.c_str(), group.c_str()};
      std::vector<size_t> lens = {4, stream.size(), group.size()};
      for (const std::string& id : to_ack) {
        argv.push_back(id.c_str());
        lens.push_back(id.size());
      }
      freeReplyObject(Check(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
    }
    redisFree(c);
  }

 private:
  std::string host_;
  int port_ = 0;
};

void AppendXadd(redisContext* c, const std::string& stream, const std::string& id,
                const std::string& message) {
  const char* argv[] = {"XADD", stream.c_str(), "*", "id", id.c_str(), "m", message.c_str()};
  const size_t lens[] = {4, stream.size(), 1, 2, id.size(), 1, message.size()};
  redisAppendCommandArgv(c, 7, argv, lens);
}

Flat RedisFlat(const Redis& redis, const Config& config, const std::vector<std::string>& persons,
               const std::string& prefix, size_t count) {
  const std::string stream = "mutations";
  redis.Reset(stream);
  std::vector<std::pair<std::string, std::string>> messages;
  for (size_t i = 0; i < count; ++i) {
    std::string id = FlatId(config.random_ids, prefix, i);
    messages.emplace_back(id, Item(id, persons[i % persons.size()], i));
  }
  const auto before = WriteBytesOf(config.redis_pids, 0);
  const int64_t start = MicrosNow();
  std::vector<int64_t> done_at(kSubscribers.size(), 0);
  std::vector<std::thread> readers;
  for (size_t s = 0; s < kSubscribers.size(); ++s) {
    readers.emplace_back([&, s] {
      redis.Consume(stream, s, count, prefix, [](std::string_view, int64_t) {});
      done_at[s] = MicrosNow();
    });
  }
  redisContext* c = redis.Connect();
  for (size_t first = 0; first < count; first += kBatch) {
    const size_t end = std::min(count, first + kBatch);
    for (size_t i = first; i < end; ++i) AppendXadd(c, stream, messages[i].first, messages[i].second);
    for (size_t i = first; i < end; ++i) freeReplyObject(Redis::Get(c));
  }
  const int64_t published = MicrosNow();
  redisFree(c);
  for (std::thread& reader : readers) reader.join();
  const auto after = WriteBytesOf(config.redis_pids, 0);
  Flat out;
  out.accepted_per_s = static_cast<double>(count) / Seconds(published - start);
  out.delivered_per_s =
      static_cast<double>(count) / Seconds(*std::max_element(done_at.begin(), done_at.end()) - start);
  out.bytes_per_message = static_cast<double>(WrittenSince(before, after)) / static_cast<double>(count);
  return out;
}

Delays RedisTrickle(const Redis& redis, const Config& config, const std::vector<std::string>& persons,
                    const std::string& prefix) {
  const std::string stream = "trickle";
  redis.Reset(stream);
  const size_t count = static_cast<size_t>(config.trickle_seconds * static_cast<double>(config.trickle_rate));
  std::vector<std::atomic<int64_t>> sent(count);
  std::vector<std::vector<int64_t>> delays(kSubscribers.size());
  std::vector<std::thread> readers;
  for (size_t s = 0; s < kSubscribers.size(); ++s) {
    readers.emplace_back([&, s] {
      redis.Consume(stream, s, count, prefix, [&](std::string_view id, int64_t now) {
        delays[s].push_back(now - sent[IndexOf(id)].load());
      });
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  redisContext* c = redis.Connect();
  const int64_t start = MicrosNow();
  // Open loop: every message due is sent (pipelined when late), then the
  // replies are read.
  for (size_t i = 0; i < count;) {
    const int64_t due = start + static_cast<int64_t>(i * 1'000'000 / config.trickle_rate);
    while (MicrosNow() < due) {
      std::this_thread::sleep_for(std::chrono::microseconds(std::max<int64_t>(0, due - MicrosNow() - 50)));
    }
    size_t n = 0;
    const int64_t now = MicrosNow();
    while (i + n < count &&
           start + static_cast<int64_t>((i + n) * 1'000'000 / config.trickle_rate) <= now) {
      const std::string id = fmt::format("{}-{}", prefix, i + n);
      sent[i + n] = MicrosNow();
      AppendXadd(c, stream, id, Item(id, persons[(i + n) % persons.size()], i + n));
      ++n;
    }
    for (size_t k = 0; k < n; ++k) freeReplyObject(Redis::Get(c));
    i += n;
  }
  redisFree(c);
  for (std::thread& reader : readers) reader.join();
  Delays out;
  for (const auto& some : delays) out.us.insert(out.us.end(), some.begin(), some.end());
  out.Sort();
  return out;
}

// --- (b) the same rows by COPY, PostgreSQL -----------------------------------------------
class RawCopy {
 public:
  // `url`: a fresh database of the store's schema.
  RawCopy(const std::string& url, bool random_ids) : connection_(url), random_ids_(random_ids) {}
  // Seconds to write `count` mutations' rows, one transaction per batch.
  double Write(const std::vector<std::string>& persons, const std::string& prefix, size_t count) {
    const int64_t start = MicrosNow();
    for (size_t first = 0; first < count; first += kBatch) {
      const size_t end = std::min(count, first + kBatch);
      const int64_t now = MicrosNow();
      pqxx::work transaction(connection_);
      {
        pqxx::stream_to mutations(transaction, "mutation",
                                  std::vector<std::string>{"source", "id", "data_type", "niss",
                                                           "effective", "accepted_us", "data",
                                                           "pending"});
        for (size_t i = first; i < end; ++i) {
          mutations << std::make_tuple(
              std::string("nr"), FlatId(random_ids_, prefix, i), std::string("person.address"),
              persons[i % persons.size()], 19'844, now,
              fmt::format(R"({{"street":"Rue Neuve {}","postal_code":"5000","municipality":"Namur"}})", i),
              3);
        }
        mutations.complete();
      }
      std::string entries;
      for (size_t i = first; i < end; ++i) {
        if (i > first) entries += ' ';
        entries += std::to_string(1'000'000 + i);
      }
      // The counters first: no other statement while a COPY is open.
      for (const std::string& subscriber : kSubscribers) {
        cursor_[subscriber] += static_cast<int64_t>(end - first);
        transaction.exec_params(
            "INSERT INTO mutation_feed (subscriber, last_cursor) VALUES ($1, $2) ON CONFLICT "
            "(subscriber) DO UPDATE SET last_cursor = mutation_feed.last_cursor + "
            "excluded.last_cursor",
            subscriber, static_cast<int64_t>(end - first));
      }
      {
        pqxx::stream_to blocks(transaction, "mutation_block",
                               std::vector<std::string>{"subscriber", "last_cursor", "first_cursor",
                                                        "acked", "accepted_us", "fields", "entries"});
        for (const std::string& subscriber : kSubscribers) {
          const int64_t last = cursor_[subscriber];
          const int64_t begin = last - static_cast<int64_t>(end - first) + 1;
          blocks << std::make_tuple(subscriber, last, begin, begin - 1, now, std::string("[]"),
                                    entries);
        }
        blocks.complete();
      }
      {
        pqxx::stream_to records(
            transaction, "audit_record",
            std::vector<std::string>{"node", "seq", "time_us", "kind", "request_id", "requester",
                                     "niss", "data_type", "capacity", "legal_basis", "outcome",
                                     "reason", "providers", "latency_us", "answer_sha256",
                                     "detail", "prev_hash", "hash"});
        for (size_t i = first; i < end; ++i) {
          records << std::make_tuple(
              std::string("raw"), static_cast<int64_t>(++seq_), now, 2, std::string(32, 'a'),
              std::string("nr"), persons[i % persons.size()], std::string("person.address"),
              std::string(), std::string(), 0, std::string("accepted"),
              std::string("mut-100:ISC/24/001,mut-200:ISC/24/001,mut-300:ISC/24/001"),
              int64_t{12345}, std::string(64, 'b'), fmt::format("id={}-{} subscribers=3", prefix, i),
              std::string(64, 'c'), std::string(64, 'd'));
        }
        records.complete();
      }
      // The signed checkpoint saved with them (append-only, one per
      // transaction; a signed note is about 200 bytes).
      transaction.exec_params(
          "INSERT INTO audit_tree_head (node, tree_size, hash, root, note, time_us) "
          "VALUES ('raw', $1, $2, $3, $4, $5)",
          static_cast<int64_t>(seq_), std::string(64, 'd'), std::string(64, 'e'),
          std::string(200, 'f'), now);
      transaction.commit();
    }
    return Seconds(MicrosNow() - start);
  }

 private:
  pqxx::connection connection_;
  const bool random_ids_;
  std::map<std::string, int64_t> cursor_;
  size_t seq_ = 0;
};

size_t ParseCount(std::string_view text) {
  size_t value = 0;
  if (text.empty()) Die("an empty count");
  for (char c : text) {
    if (c < '0' || c > '9') Die(fmt::format("not a count: '{}'", text));
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}
std::vector<int> ParsePids(std::string_view text) {
  std::vector<int> out;
  std::istringstream in{std::string(text)};
  for (int pid; in >> pid;) out.push_back(pid);
  return out;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[(values.size() - 1) / 2];
}

Config ParseConfig(int argc, char** argv) {
  Config config;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) Die(fmt::format("{} needs a value", arg));
      return argv[++i];
    };
    if (arg == "--hub") config.hub = value();
    else if (arg == "--pki") config.pki = value();
    else if (arg == "--redis") config.redis = value();
    else if (arg == "--raw-postgres") config.raw_postgres = value();
    else if (arg == "--label") config.label = value();
    else if (arg == "--mutations") config.mutations = ParseCount(value());
    else if (arg == "--rounds") config.rounds = ParseCount(value());
    else if (arg == "--persons") config.persons = ParseCount(value());
    else if (arg == "--trickle-seconds") config.trickle_seconds = std::stod(std::string(value()));
    else if (arg == "--trickle-rate") config.trickle_rate = ParseCount(value());
    else if (arg == "--hub-pids") config.hub_pids = ParsePids(value());
    else if (arg == "--redis-pids") config.redis_pids = ParsePids(value());
    else if (arg == "--postgres-pid") config.postgres_pid = static_cast<int>(ParseCount(value()));
    else if (arg == "--no-integrate") config.integrate = false;
    else if (arg == "--random-ids") config.random_ids = true;
    else Die(fmt::format("unknown argument '{}' (see the comment at the top of mutations_load.cc)", arg));
  }
  if (config.hub.empty() || config.pki.empty()) Die("--hub and --pki are required");
  if (config.mutations < kBatch || config.rounds == 0 || config.persons == 0 ||
      config.trickle_rate == 0) {
    Die("--mutations must be at least 1000, the other counts at least 1");
  }
  return config;
}

// What the rounds measured, one value per round, and the trickles.
struct Results {
  size_t per_round = 0;
  std::vector<double> hub_accepted, hub_delivered, hub_bytes, redis_accepted, redis_delivered,
      redis_bytes, raw_rate;
  Delays hub_trickle, redis_trickle;
  Delays hub_publish;  // the trickle's publications: send -> 202
};

Results RunRounds(const Config& config, Hub& hub, std::optional<Redis>& redis, std::optional<RawCopy>& raw,
                  const std::vector<std::string>& persons) {
  Results results;
  const size_t per_round = std::max(kBatch, config.mutations / config.rounds / kBatch * kBatch);
  results.per_round = per_round;
  const std::string run = fmt::format("{}{}", config.label, MicrosNow() % 1'000'000'000);
  for (size_t r = 0; r < config.rounds; ++r) {
    Flat ours = HubFlat(hub, config, persons, fmt::format("{}-r{}", run, r), per_round);
    results.hub_accepted.push_back(ours.accepted_per_s);
    results.hub_delivered.push_back(ours.delivered_per_s);
    results.hub_bytes.push_back(ours.bytes_per_message);
    if (redis) {
      Flat theirs = RedisFlat(*redis, config, persons, fmt::format("{}-x{}", run, r), per_round);
      results.redis_accepted.push_back(theirs.accepted_per_s);
      results.redis_delivered.push_back(theirs.delivered_per_s);
      results.redis_bytes.push_back(theirs.bytes_per_message);
    }
    if (raw) {
      results.raw_rate.push_back(static_cast<double>(per_round) /
                                 raw->Write(persons, fmt::format("{}-c{}", run, r), per_round));
    }
    fmt::print(stderr, "round {}: hub {:.0f}/s accepted, {:.0f}/s delivered{}\n", r + 1,
               ours.accepted_per_s, ours.delivered_per_s,
               redis ? fmt::format("; redis {:.0f}/s, {:.0f}/s", results.redis_accepted.back(),
                                   results.redis_delivered.back())
                     : std::string());
  }
  results.hub_trickle = HubTrickle(hub, config, persons, run + "-t", &results.hub_publish);
  if (redis) results.redis_trickle = RedisTrickle(*redis, config, persons, run + "-y");
  return results;
}

void PrintTable(const Config& config, const Results& r, bool redis, bool raw) {
  fmt::print("{}: {} mutations in {} rounds of batches of {}, 3 subscribers each, {} persons; "
             "medians of the rounds\n",
             config.label, r.per_round * config.rounds, config.rounds, kBatch, config.persons);
  fmt::print("  {:<28} {:>12} {:>16} {:>12}   trickle {}/s publish -> feed (3 subscribers)\n", "",
             "accepted/s", "delivered/s each", "bytes/msg", config.trickle_rate);
  auto line = [&](std::string_view name, double accepted, double delivered, double bytes,
                  const Delays& delays) {
    fmt::print("  {:<28} {:>12.0f} {:>16.0f} {:>12.0f}   p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms ({})\n",
               name, accepted, delivered, bytes, delays.At(0.5), delays.At(0.99),
               delays.us.empty() ? 0.0 : static_cast<double>(delays.us.back()) / 1000.0,
               delays.us.size());
  };
  line(fmt::format("carrefour hub ({})", config.label), Median(r.hub_accepted), Median(r.hub_delivered),
       Median(r.hub_bytes), r.hub_trickle);
  fmt::print("  {:<28} {:>12} {:>16} {:>12}   of which the 202: p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms\n",
             "", "", "", "", r.hub_publish.At(0.5), r.hub_publish.At(0.99),
             r.hub_publish.us.empty() ? 0.0 : static_cast<double>(r.hub_publish.us.back()) / 1000.0);
  if (redis) {
    line("Redis Streams (fsync always)", Median(r.redis_accepted), Median(r.redis_delivered),
         Median(r.redis_bytes), r.redis_trickle);
    fmt::print("  hub / Redis: accepted {:.2f}x, delivered {:.2f}x, trickle p99 {:.2f}x\n",
               Median(r.hub_accepted) / Median(r.redis_accepted),
               Median(r.hub_delivered) / Median(r.redis_delivered),
               r.hub_trickle.At(0.99) / std::max(1e-9, r.redis_trickle.At(0.99)));
  }
  if (raw) {
    fmt::print("  {:<28} {:>12.0f}   (hub intake / raw COPY = {:.2f})\n",
               "raw COPY of the same rows", Median(r.raw_rate), Median(r.hub_accepted) / Median(r.raw_rate));
  }
}

json::object ResultsJson(const Config& config, const Results& r, bool redis, bool raw) {
  json::object out;
  out["label"] = config.label;
  out["mutations"] = r.per_round * config.rounds;
  out["hub_accepted_per_s"] = Median(r.hub_accepted);
  out["hub_delivered_per_s"] = Median(r.hub_delivered);
  out["hub_bytes_per_mutation"] = Median(r.hub_bytes);
  out["hub_trickle_ms"] = json::array{r.hub_trickle.At(0.5), r.hub_trickle.At(0.99),
                                      r.hub_trickle.us.empty() ? 0.0 : r.hub_trickle.us.back() / 1000.0};
  out["hub_trickle_publish_ms"] =
      json::array{r.hub_publish.At(0.5), r.hub_publish.At(0.99),
                  r.hub_publish.us.empty() ? 0.0 : r.hub_publish.us.back() / 1000.0};
  if (redis) {
    out["redis_accepted_per_s"] = Median(r.redis_accepted);
    out["redis_delivered_per_s"] = Median(r.redis_delivered);
    out["redis_bytes_per_message"] = Median(r.redis_bytes);
    out["redis_trickle_ms"] = json::array{r.redis_trickle.At(0.5), r.redis_trickle.At(0.99),
                                          r.redis_trickle.us.empty() ? 0.0 : r.redis_trickle.us.back() / 1000.0};
  }
  if (raw) out["raw_copy_per_s"] = Median(r.raw_rate);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Config config = ParseConfig(argc, argv);
  carrefour::niss::Generator generator(42);
  std::vector<std::string> persons;
  for (size_t p = 0; p < config.persons; ++p) persons.push_back(generator.Next().digits);

  Hub hub(config);
  if (config.integrate) hub.Integrate(persons);
  std::optional<Redis> redis;
  if (!config.redis.empty()) redis.emplace(config.redis);
  std::optional<RawCopy> raw;
  if (!config.raw_postgres.empty()) {
    // The store's own schema, in a database of its own.
    auto store = carrefour::store::OpenStore(config.raw_postgres);
    if (!store) Die("--raw-postgres: " + store.error().ToString());
    store->reset();
    raw.emplace(config.raw_postgres, config.random_ids);
  }
  const Results results = RunRounds(config, hub, redis, raw, persons);
  PrintTable(config, results, redis.has_value(), raw.has_value());
  fmt::print("{}\n", json::serialize(ResultsJson(config, results, redis.has_value(), raw.has_value())));
  return 0;
}
