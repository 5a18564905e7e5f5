// SPDX-License-Identifier: EUPL-1.2
#include "net/worker_pool.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

namespace carrefour::net {
namespace {

TEST(WorkerPool, RunsTasksOnItsOwnThreadsAndJoinWaitsForTheQueued) {
  WorkerPool pool(2);
  std::mutex mu;
  std::set<std::thread::id> threads;
  std::atomic<int> done = 0;
  for (int i = 0; i < 100; ++i) {
    pool.Post([&] {
      {
        std::lock_guard lock(mu);
        threads.insert(std::this_thread::get_id());
      }
      done.fetch_add(1);
    });
  }
  pool.Join();
  EXPECT_EQ(done.load(), 100);
  EXPECT_FALSE(threads.contains(std::this_thread::get_id()));
  EXPECT_LE(threads.size(), 2u);
  pool.Join();  // idempotent
}

// Two tasks that each wait for the other can only finish on two threads at
// once: the pool has the threads it was given.
TEST(WorkerPool, RunsAsManyTasksAtOnceAsItHasThreads) {
  WorkerPool pool(2);
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  std::atomic<int> finished = 0;
  for (int i = 0; i < 2; ++i) {
    pool.Post([&] {
      std::unique_lock lock(mu);
      ++arrived;
      cv.notify_all();
      cv.wait(lock, [&] { return arrived == 2; });
      finished.fetch_add(1);
    });
  }
  pool.Join();
  EXPECT_EQ(finished.load(), 2);
}

}  // namespace
}  // namespace carrefour::net
