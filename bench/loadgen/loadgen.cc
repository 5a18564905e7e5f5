// SPDX-License-Identifier: EUPL-1.2
// carrefour_loadgen: the project's own HTTP load generator, on net::Client
// (mutual TLS, kept-alive connection pools) like the hub and its callers.
// bench/hub_load/run.sh drives it; docs/benchmarks.md ("Hub throughput")
// explains the measurements.
//
//   carrefour_loadgen --url https://127.0.0.1:8443 --expect-cn hub
//       --cert mut-100.crt --key mut-100.key --ca ca.crt
//       --target /v1/consultations --body-file consult.json
//       --connections 32 --duration 10 --warmup 2 [--rate R] [--json]
//
// --bodies-file FILE: one body per line, the requests taking them in turn
// (many persons instead of one: bench/hub_load/run.sh --persons).
//
// Closed loop (--rate 0, the default): each of the N connections sends its
// next request as soon as the previous answer arrives; this finds the
// maximum throughput. Open loop (--rate R): R requests per second in total
// on a fixed schedule whatever the answers do, each latency measured from
// the request's *scheduled* send time, so that a stall is charged to every
// request that should have gone out during it (no coordinated omission).
//
// --once sends one request, prints the answer's body and exits 0 on 2xx:
// the benchmark script uses it to integrate a person before measuring.
//
// Bounded: only loopback targets, at most 1024 connections, one hour, one
// million requests per second; it stops by itself after warmup + duration
// (plus the last answers, each bounded by --timeout-ms), or as soon as
// --max-errors transport errors have happened.

#include <sys/prctl.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench/loadgen/histogram.h"
#include "core/result.h"
#include "core/status.h"
#include "net/client.h"
#include "net/loopback.h"

namespace carrefour::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string url;
  std::string expect_cn;
  std::string cert, key, ca;
  std::string method = "POST";
  std::string target = "/v1/consultations";
  std::string body;
  std::string body_file;
  std::string bodies_file;  // one body per line, taken in turn
  int connections = 32;
  double duration_s = 10;
  double warmup_s = 2;
  double rate = 0;  // requests/s in total; 0 = closed loop
  uint64_t max_requests = 0;  // 0 = no limit besides the duration
  uint64_t max_errors = 1000;
  int threads = 2;
  int timeout_ms = 10000;
  bool once = false;
  bool json = false;
  std::string label;
};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(InvalidRequest(fmt::format("cannot read {}", path)));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Everything the requests in flight share. Lives in a shared_ptr captured by
// every callback, so that it outlives the last one whatever the order of
// destruction at exit.
struct Shared {
  net::Client* client = nullptr;
  net::Endpoint endpoint;
  net::ClientRequest request;
  // With --bodies-file: the requests' bodies, taken in turn.
  std::vector<std::string> bodies;
  std::atomic<uint64_t> next_body{0};
  // A request counts when its (scheduled) send time is in [measure_from,
  // stop_at): warmup requests run but are not recorded.
  SteadyClock::time_point measure_from;
  SteadyClock::time_point stop_at;
  uint64_t max_requests = 0;
  uint64_t max_errors = 0;

  LatencyHistogram histogram;
  std::atomic<uint64_t> issued{0};
  std::atomic<uint64_t> ok{0};           // measured, 2xx
  std::atomic<uint64_t> non_2xx{0};      // measured, an HTTP answer other than 2xx
  std::atomic<uint64_t> errors{0};       // measured, no HTTP answer (Status)
  std::atomic<uint64_t> all_errors{0};   // including warmup: for --max-errors
  std::atomic<uint64_t> all_answered{0}; // including warmup: for CPU per request
  std::atomic<bool> aborted{false};

  std::mutex mu;
  std::condition_variable idle;
  uint64_t in_flight = 0;  // guarded by mu
  std::string first_failure;  // guarded by mu

  bool Measured(SteadyClock::time_point sent) const { return sent >= measure_from && sent < stop_at; }

  void NoteFailure(const std::string& what) {
    std::lock_guard lock(mu);
    if (first_failure.empty()) first_failure = what;
  }

  // Accounts one answer (or failure) of a request meant to go out at `sent`.
  void Account(SteadyClock::time_point sent, const Result<net::ClientResponse>& response) {
    const SteadyClock::time_point now = SteadyClock::now();
    const bool measured = Measured(sent);
    if (!response) {
      if (all_errors.fetch_add(1) + 1 >= max_errors && max_errors > 0) aborted = true;
      if (measured) errors.fetch_add(1);
      NoteFailure(response.error().ToString());
      return;
    }
    all_answered.fetch_add(1, std::memory_order_relaxed);
    if (!measured) return;
    histogram.Record(now - sent);
    if (response->status >= 200 && response->status < 300) {
      ok.fetch_add(1, std::memory_order_relaxed);
    } else {
      non_2xx.fetch_add(1, std::memory_order_relaxed);
      NoteFailure(fmt::format("HTTP {}: {}", response->status, response->body.substr(0, 300)));
    }
  }

  // The next request to send.
  net::ClientRequest Next() {
    net::ClientRequest next = request;
    if (!bodies.empty()) next.body = bodies[next_body.fetch_add(1, std::memory_order_relaxed) % bodies.size()];
    return next;
  }

  // False once the run is over for new requests sent at `when`.
  bool MaySend(SteadyClock::time_point when) {
    if (aborted || when >= stop_at) return false;
    return max_requests == 0 || issued.fetch_add(1) < max_requests;
  }

  void Started() {
    std::lock_guard lock(mu);
    ++in_flight;
  }
  void Finished() {
    std::lock_guard lock(mu);
    if (--in_flight == 0) idle.notify_all();
  }
  void WaitIdle() {
    std::unique_lock lock(mu);
    idle.wait(lock, [this] { return in_flight == 0; });
  }
};

// Closed loop: one chain per connection; each answer sends the next request
// from the client's callback thread (Send is asynchronous, so the chain
// never recurses).
void SendNextClosed(const std::shared_ptr<Shared>& shared) {
  const SteadyClock::time_point sent = SteadyClock::now();
  if (!shared->MaySend(sent)) {
    shared->Finished();
    return;
  }
  shared->client->Send(shared->endpoint, shared->Next(),
                       [shared, sent](Result<net::ClientResponse> response) {
                         shared->Account(sent, response);
                         SendNextClosed(shared);
                       });
}

void RunClosedLoop(const std::shared_ptr<Shared>& shared, int connections) {
  for (int i = 0; i < connections; ++i) {
    shared->Started();
    SendNextClosed(shared);
  }
  shared->WaitIdle();
}

// Open loop: this thread sends request i at start + i / rate. The latency of
// each runs from that scheduled time, even if this thread, a connection or
// the server was late: the wait is part of what a caller would see.
// Returns the worst lateness of this thread itself, to report a generator
// that could not keep its own schedule.
std::chrono::nanoseconds RunOpenLoop(const std::shared_ptr<Shared>& shared, double rate,
                                     SteadyClock::time_point start) {
  // Wake-ups within microseconds, not the default 50 us slack.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  const double interval_ns = 1e9 / rate;
  std::chrono::nanoseconds worst_lag{0};
  for (uint64_t i = 0;; ++i) {
    const SteadyClock::time_point scheduled =
        start + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(i) * interval_ns));
    if (!shared->MaySend(scheduled)) break;
    if (scheduled > SteadyClock::now()) std::this_thread::sleep_until(scheduled);
    const SteadyClock::time_point now = SteadyClock::now();
    if (shared->Measured(scheduled)) worst_lag = std::max(worst_lag, std::chrono::nanoseconds(now - scheduled));
    shared->Started();
    shared->client->Send(shared->endpoint, shared->Next(),
                         [shared, scheduled](Result<net::ClientResponse> response) {
                           shared->Account(scheduled, response);
                           shared->Finished();
                         });
  }
  shared->WaitIdle();
  return worst_lag;
}

double Ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

// CPU time (user + system) this process has used so far, in microseconds:
// the generator's own cost, which the machine's other processes did not get.
double CpuMicros() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto us = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec); };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

std::string JsonEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  return out;
}

void Report(const Options& options, Shared& shared, std::chrono::nanoseconds worst_lag,
            double measured_s, const net::ClientStats& client_stats) {
  const LatencyHistogram& h = shared.histogram;
  const uint64_t answered = shared.ok + shared.non_2xx;
  const double rps = measured_s > 0 ? static_cast<double>(answered) / measured_s : 0;
  const uint64_t all_answered = shared.all_answered;
  const double cpu_per_request = all_answered > 0 ? CpuMicros() / static_cast<double>(all_answered) : 0;
  const std::string mode = options.rate > 0 ? "open" : "closed";
  std::string first_failure;
  {
    std::lock_guard lock(shared.mu);
    first_failure = shared.first_failure;
  }
  if (options.json) {
    // Flat on purpose: shell scripts pick fields with sed, no JSON tool needed.
    fmt::print(
        "{{\"label\": \"{}\", \"url\": \"{}{}\", \"mode\": \"{}\", \"connections\": {}, "
        "\"rate\": {}, \"duration_s\": {:.3f}, \"requests\": {}, \"requests_per_second\": {:.1f}, "
        "\"ok\": {}, \"non_2xx\": {}, \"errors\": {}, \"p50_ms\": {:.3f}, \"p90_ms\": {:.3f}, "
        "\"p99_ms\": {:.3f}, \"p999_ms\": {:.3f}, \"max_ms\": {:.3f}, \"mean_ms\": {:.3f}, "
        "\"send_lag_max_ms\": {:.3f}, \"connections_opened\": {}, \"answered_with_warmup\": {}, "
        "\"generator_cpu_us_per_request\": {:.1f}, \"aborted\": {}, \"first_failure\": \"{}\"}}\n",
        JsonEscape(options.label), JsonEscape(options.url), JsonEscape(options.target), mode,
        options.connections, options.rate, measured_s, answered, rps, shared.ok.load(),
        shared.non_2xx.load(), shared.errors.load(), Ms(h.Percentile(50)), Ms(h.Percentile(90)),
        Ms(h.Percentile(99)), Ms(h.Percentile(99.9)), Ms(h.max()), Ms(h.mean()), Ms(worst_lag),
        client_stats.connections_opened, all_answered, cpu_per_request,
        shared.aborted.load() ? "true" : "false",
        JsonEscape(first_failure));
    std::fflush(stdout);
    return;
  }
  if (!options.label.empty()) fmt::print("{}\n", options.label);
  fmt::print("  target     {}{} (server CN {})\n", options.url, options.target, options.expect_cn);
  if (options.rate > 0) {
    fmt::print("  mode       open loop, {:.0f} requests/s over {} connections\n", options.rate,
               options.connections);
  } else {
    fmt::print("  mode       closed loop, {} connections\n", options.connections);
  }
  fmt::print("  measured   {:.1f} s after {:.1f} s of warmup\n", measured_s, options.warmup_s);
  fmt::print("  requests   {} answered, {:.1f}/s\n", answered, rps);
  fmt::print("  non-2xx    {}\n", shared.non_2xx.load());
  fmt::print("  errors     {}{}\n", shared.errors.load(), shared.aborted ? " (aborted: --max-errors reached)" : "");
  fmt::print("  latency    p50 {:.3f} ms  p90 {:.3f} ms  p99 {:.3f} ms  p99.9 {:.3f} ms  max {:.3f} ms  mean {:.3f} ms\n",
             Ms(h.Percentile(50)), Ms(h.Percentile(90)), Ms(h.Percentile(99)), Ms(h.Percentile(99.9)),
             Ms(h.max()), Ms(h.mean()));
  if (options.rate > 0) fmt::print("  send lag   max {:.3f} ms (the generator's own lateness)\n", Ms(worst_lag));
  fmt::print("  generator  {} connections opened, {:.1f} us of CPU per request (warmup included)\n",
             client_stats.connections_opened, cpu_per_request);
  if (!first_failure.empty()) fmt::print("  first failure: {}\n", first_failure);
  std::fflush(stdout);
}

// 0: measured without errors; 1: failures or nothing answered.
int Run(const Options& options) {
  Result<net::Endpoint> endpoint = net::Endpoint::Parse(options.url, options.expect_cn);
  if (!endpoint) {
    fmt::print(stderr, "carrefour_loadgen: --url: {}\n", endpoint.error().message());
    return 2;
  }
  // The generator may only load this machine: a benchmark tool must not be
  // usable to flood somebody else's service.
  if (!net::IsLoopbackHost(endpoint->host)) {
    fmt::print(stderr, "carrefour_loadgen: --url: only loopback targets (127.0.0.0/8, ::1, localhost) may be loaded\n");
    return 2;
  }
  std::string body = options.body;
  if (!options.body_file.empty()) {
    Result<std::string> read = ReadFile(options.body_file);
    if (!read) {
      fmt::print(stderr, "carrefour_loadgen: --body-file: {}\n", read.error().message());
      return 2;
    }
    body = std::move(*read);
  }
  std::vector<std::string> bodies;
  if (!options.bodies_file.empty()) {
    Result<std::string> read = ReadFile(options.bodies_file);
    if (!read) {
      fmt::print(stderr, "carrefour_loadgen: --bodies-file: {}\n", read.error().message());
      return 2;
    }
    std::istringstream lines(*read);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) bodies.push_back(std::move(line));
    }
    if (bodies.empty()) {
      fmt::print(stderr, "carrefour_loadgen: --bodies-file: {} holds no body\n", options.bodies_file);
      return 2;
    }
    body = bodies.front();
  }

  net::ClientOptions client_options;
  if (endpoint->tls) client_options.tls = net::TlsFiles{options.cert, options.key, options.ca};
  client_options.threads = options.threads;
  client_options.timeout = std::chrono::milliseconds(options.timeout_ms);
  client_options.max_connections_per_endpoint = static_cast<size_t>(options.connections);
  Result<std::unique_ptr<net::Client>> client = net::Client::Create(client_options);
  if (!client) {
    fmt::print(stderr, "carrefour_loadgen: {}\n", client.error().ToString());
    return 2;
  }

  net::ClientRequest request;
  request.method = options.method;
  request.target = options.target;
  request.body = std::move(body);

  if (options.once) {
    Result<net::ClientResponse> response = (*client)->SendSync(*endpoint, request);
    if (!response) {
      fmt::print(stderr, "carrefour_loadgen: {}\n", response.error().ToString());
      return 1;
    }
    fmt::print("{}\n", response->body);
    std::fflush(stdout);
    if (response->status < 200 || response->status >= 300) {
      fmt::print(stderr, "carrefour_loadgen: HTTP {}\n", response->status);
      return 1;
    }
    return 0;
  }

  auto shared = std::make_shared<Shared>();
  shared->client = client->get();
  shared->endpoint = *endpoint;
  shared->request = std::move(request);
  shared->bodies = std::move(bodies);
  shared->max_requests = options.max_requests;
  shared->max_errors = options.max_errors;
  const SteadyClock::time_point start = SteadyClock::now();
  const auto seconds = [](double s) {
    return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
  };
  shared->measure_from = start + seconds(options.warmup_s);
  shared->stop_at = shared->measure_from + seconds(options.duration_s);

  std::chrono::nanoseconds worst_lag{0};
  if (options.rate > 0) {
    worst_lag = RunOpenLoop(shared, options.rate, start);
  } else {
    RunClosedLoop(shared, options.connections);
  }
  // With --max-requests or --max-errors the run may end before stop_at.
  const SteadyClock::time_point last = std::min(SteadyClock::now(), shared->stop_at);
  const double measured_s =
      last > shared->measure_from ? std::chrono::duration<double>(last - shared->measure_from).count() : 0;
  Report(options, *shared, worst_lag, measured_s, (*client)->stats());
  const bool answered = shared->ok + shared->non_2xx > 0;
  return answered && shared->errors == 0 && shared->non_2xx == 0 && !shared->aborted ? 0 : 1;
}

}  // namespace
}  // namespace carrefour::bench

int main(int argc, char** argv) {
  using carrefour::bench::Options;
  Options options;
  CLI::App app{
      "carrefour_loadgen: HTTP(S) load generator on the project's own client (mutual TLS,\n"
      "kept-alive connections). Closed loop by default; --rate R for an open loop whose\n"
      "latencies run from each request's scheduled send time. Loopback targets only.",
      "carrefour_loadgen"};
  app.add_option("--url", options.url, "https://127.0.0.1:PORT (or http://)")->required();
  app.add_option("--expect-cn", options.expect_cn, "CN the server's certificate must carry (HTTPS)");
  app.add_option("--cert", options.cert, "Client certificate (PEM)")->check(CLI::ExistingFile);
  app.add_option("--key", options.key, "Client private key (PEM)")->check(CLI::ExistingFile);
  app.add_option("--ca", options.ca, "Network CA certificate (PEM)")->check(CLI::ExistingFile);
  app.add_option("--method", options.method, "HTTP method")->capture_default_str();
  app.add_option("--target", options.target, "Request target")->capture_default_str();
  auto* body = app.add_option("--body", options.body, "Request body");
  auto* body_file = app.add_option("--body-file", options.body_file, "Request body from a file")
                        ->check(CLI::ExistingFile)
                        ->excludes(body);
  app.add_option("--bodies-file", options.bodies_file, "Request bodies, one per line, taken in turn")
      ->check(CLI::ExistingFile)
      ->excludes(body)
      ->excludes(body_file);
  app.add_option("--connections", options.connections, "Connections (closed loop: requests in flight)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--duration", options.duration_s, "Seconds measured, after the warmup")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--warmup", options.warmup_s, "Seconds of load before measuring")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  app.add_option("--rate", options.rate, "Requests/s in total (open loop); 0 = closed loop")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  app.add_option("--max-requests", options.max_requests, "Stop after this many requests (0: no limit)")
      ->capture_default_str();
  app.add_option("--max-errors", options.max_errors, "Give up after this many transport errors (0: never)")
      ->capture_default_str();
  app.add_option("--threads", options.threads, "Client threads")->check(CLI::Range(1, 16))->capture_default_str();
  app.add_option("--timeout-ms", options.timeout_ms, "Per-request timeout")
      ->check(CLI::Range(1, 600000))
      ->capture_default_str();
  app.add_option("--label", options.label, "A name for this run in the report");
  app.add_flag("--once", options.once, "Send one request, print the answer's body, exit 0 on 2xx");
  app.add_flag("--json", options.json, "One JSON line instead of the text report");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "carrefour_loadgen: %s (see --help)\n", e.what());
    return 2;
  }
  return carrefour::bench::Run(options);
}
