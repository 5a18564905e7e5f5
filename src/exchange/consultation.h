#pragma once

// The consultation pipeline (DESIGN.md element 3, SPEC.md section 4.2).
// Start here.
//
//   caller's body -> validate -> the person's entries (store) -> decide
//   (directory) -> ask the providers concurrently (SPEC.md section 5) ->
//   keep only the authorized, requested fields -> audit, durably -> answer
//
// No HTTP here: the hub hands in the caller's identity (its certificate's CN)
// and the body, and gets back a status and a body. Providers are reached
// through a ProviderGateway, which the hub implements over mutual TLS.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/result.h"
#include "directory/decision.h"
#include "network/model.h"

namespace carrefour::store {
class Store;
}

namespace carrefour::exchange {

// What a provider's connector answered: its HTTP status and body.
struct ProviderReply {
  int status = 0;
  std::string body;
};

// Sends provide calls (SPEC.md section 5). Implementations are thread-safe,
// apply the provider timeout, check that the provider presents its own
// institution's certificate, and call `done` exactly once, from any thread.
class ProviderGateway {
 public:
  using Done = std::function<void(Result<ProviderReply>)>;
  virtual ~ProviderGateway() = default;
  virtual void Provide(const network::Institution& provider, std::string body, Done done) = 0;
};

// An answer for the caller.
struct Reply {
  int status = 200;
  std::string body;       // JSON
  std::string data_type;  // what was asked for, when the request said (for metrics)
};

// Counters for /metrics. Monotonic; read with relaxed loads.
struct ConsultationCounters {
  std::atomic<uint64_t> answered{0};  // 200 and 503 answers with results
  std::atomic<uint64_t> refused{0};   // 4xx decisions
  std::atomic<uint64_t> provider_calls{0};
  std::atomic<uint64_t> provider_errors{0};
};

// The current decision engine (swapped atomically on reload).
using EngineSource = std::function<std::shared_ptr<const directory::DecisionEngine>()>;

// Thread-safe; every dependency must outlive it.
class ConsultationService {
 public:
  ConsultationService(EngineSource engine, store::Store& store, audit::AuditLog& audit,
                      ProviderGateway& gateway, const Clock& clock);

  // Handles POST /v1/consultations from `caller`. `done` is called exactly
  // once — after the audit record is durable — possibly from another thread.
  void Consult(std::string_view caller, std::string_view body, std::function<void(Reply)> done);

  const ConsultationCounters& counters() const { return counters_; }

 private:
  EngineSource engine_;
  store::Store& store_;
  audit::AuditLog& audit_;
  ProviderGateway& gateway_;
  const Clock& clock_;
  ConsultationCounters counters_;
};

}  // namespace carrefour::exchange
