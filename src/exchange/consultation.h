// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The consultation pipeline (DESIGN.md element 3, docs/api.md sections 4.2 and
// 4.5). Start here.
//
//   typed request -> the person's entries (store) -> decide (directory) ->
//   ask the providers concurrently (docs/api.md section 5) -> keep only the
//   authorized, requested fields -> audit, durably -> typed answer
//
// The service speaks types: a directory::ConsultationRequest in, a
// Result<ConsultationAnswer> out, a refusal being the error Status (its code
// and explanation). Reading and writing the JSON of the API is the edge's
// job (exchange/wire.h, called by the hub); the service writes the answer's
// bytes once only because the audit record keeps their SHA-256. Providers
// are reached through a ProviderGateway: provide::NetGateway over mutual
// TLS, wrapped by the BIS service's for the register's own answers.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "api/reply.h"
#include "audit/audit_log.h"
#include "core/clock.h"
#include "core/result.h"
#include "directory/decision.h"
#include "directory/engine_source.h"
#include "network/model.h"

namespace carrefour::store {
class Store;
}
namespace carrefour::replica {
class DirectoryReplica;
}

namespace carrefour::exchange {

// What a provider's connector answered: its HTTP status and body.
using ProviderReply = api::Reply;

// Sends provide calls (docs/api.md section 5). Implementations are thread-safe,
// apply the provider timeout, check that the provider presents its own
// institution's certificate, and call `done` exactly once, from any thread.
class ProviderGateway {
 public:
  using Done = std::function<void(Result<ProviderReply>)>;
  virtual ~ProviderGateway() = default;
  virtual void Provide(const network::Institution& provider, std::string body, Done done) = 0;
};

// What became of one provider call (one item of the answer's "results").
struct ProviderResult {
  enum class Kind { kOk, kNoData, kError };
  std::string provider;
  Kind kind = Kind::kError;
  boost::json::value data;  // kOk: the filtered object or list of objects
  Status error;             // kError

  // "ok", "no-data" or "error".
  std::string_view Name() const;
};

// A consultation carried out (docs/api.md section 4.2 step 4): HTTP 200, or 503
// when every provider failed.
struct ConsultationAnswer {
  int http_status = 200;
  std::string request_id;
  std::string status;  // ok | partial | no-data-in-network | unavailable
  std::string data_type;
  std::string niss;
  Period period;  // the served period
  std::string legal_basis;
  std::vector<ProviderResult> results;  // in routing order
  // The JSON the caller receives, written once: the audit record holds its
  // SHA-256.
  std::string body;
};

// A refusal is the error: its code (SpecCode, HttpStatus) and explanation;
// its body is api::ErrorBody(status).
using ConsultationDone = std::function<void(Result<ConsultationAnswer>)>;

// One item of a batch (docs/api.md section 4.5), as the edge read it: when
// `read` is an error the item is refused with it (and audited with what
// `request` holds so far).
struct BatchItem {
  directory::ConsultationRequest request;
  Status read;
};

// Outcomes in the items' order.
using BatchDone = std::function<void(std::vector<Result<ConsultationAnswer>>)>;

// The answer of the string-level entry points: HTTP status and JSON body.
using Reply = api::Reply;

// Provide calls by provider and outcome, for /metrics. One short critical
// section per consultation (not per provider call).
class ProviderOutcomes {
 public:
  struct Row {
    std::string provider;
    uint64_t ok = 0;
    uint64_t no_data = 0;
    uint64_t error = 0;
  };

  void Add(const std::vector<ProviderResult>& results);
  std::vector<Row> Read() const;  // by provider id

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::array<uint64_t, 3>, std::less<>> counts_;  // indexed by Kind
};

// Counters for /metrics. Monotonic; read with relaxed loads.
struct ConsultationCounters {
  std::atomic<uint64_t> answered{0};  // 200 and 503 answers with results
  std::atomic<uint64_t> refused{0};   // 4xx decisions
  std::atomic<uint64_t> provider_calls{0};
  std::atomic<uint64_t> provider_errors{0};
  std::atomic<uint64_t> batches{0};   // batch requests (their items count above)
  ProviderOutcomes providers;
};

using directory::EngineSource;

// docs/api.md section 4.5: a bigger batch is refused whole.
inline constexpr size_t kMaxConsultationsPerBatch = 1000;

// Thread-safe; every dependency must outlive it.
class ConsultationService {
 public:
  // With `replica` (may be null), decisions read the person's entries from
  // the directory's copy in memory whenever it may be used
  // (replica/directory_replica.h), else from the store.
  ConsultationService(EngineSource engine, store::Store& store, audit::AuditLog& audit,
                      ProviderGateway& gateway, const Clock& clock,
                      const replica::DirectoryReplica* replica = nullptr);

  // Carries out `request` for `caller` (which is the requester, whatever
  // request.requester says). `done` is called exactly once — after the
  // audit record is durable — possibly from another thread.
  void Consult(std::string_view caller, const directory::ConsultationRequest& request,
               ConsultationDone done);

  // Refuses, with `why`, a consultation the edge could not read; the audit
  // record holds what `read_so_far` holds (data type, number, capacity).
  void Refuse(std::string_view caller, const directory::ConsultationRequest& read_so_far,
              const Status& why, ConsultationDone done);

  // Each item decided, routed, filtered and audited as if it had come alone;
  // `done` once every item's audit record is durable. At most
  // kMaxConsultationsPerBatch items (the edge refuses bigger batches).
  void ConsultBatch(std::string_view caller, std::vector<BatchItem> items, BatchDone done);

  // POST /v1/consultations from a body: reads it (exchange/wire.h), calls
  // Consult or Refuse, writes the answer. For tools and tests that hold a
  // body; the hub uses the typed call (it labels metrics with what it read).
  void Consult(std::string_view caller, std::string_view body, std::function<void(Reply)> done);

  // POST /v1/consultations/batch from a body (docs/api.md section 4.5):
  // reads it (exchange/wire.h); a batch that cannot be read is refused whole
  // (and audited as a refusal), the others are carried out by ConsultBatch
  // and answered 200 with one result per item.
  void ConsultBatch(std::string_view caller, std::string_view body, std::function<void(Reply)> done);

  const ConsultationCounters& counters() const { return counters_; }

 private:
  void Finish(audit::Record record, Result<ConsultationAnswer> answer, ConsultationDone done);
  // The decision on the person's entries, from the copy or the store.
  Result<directory::Grant> Decide(const directory::DecisionEngine& engine,
                                  const directory::ConsultationRequest& request, Date today);

  EngineSource engine_;
  store::Store& store_;
  audit::AuditLog& audit_;
  ProviderGateway& gateway_;
  const Clock& clock_;
  const replica::DirectoryReplica* replica_;
  ConsultationCounters counters_;
};

}  // namespace carrefour::exchange
