// SPDX-License-Identifier: EUPL-1.2
#pragma once

// A fixed pool of worker threads for blocking work that must not hold up a
// server's I/O threads (the connector answers provide calls from SQL on
// one). Asio's thread pool underneath, kept in net like the rest of Asio.

#include <cstddef>
#include <functional>
#include <memory>

namespace carrefour::net {

// Thread-safe. Tasks run in submission order as threads free up; the
// destructor waits for the queued ones (Join).
class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Post(std::function<void()> task);
  // Runs what is queued, then stops the threads. Idempotent.
  void Join();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carrefour::net
