// SPDX-License-Identifier: EUPL-1.2
#include "net/worker_pool.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace carrefour::net {

struct WorkerPool::Impl {
  explicit Impl(size_t threads) : pool(threads) {}
  boost::asio::thread_pool pool;
};

WorkerPool::WorkerPool(size_t threads) : impl_(std::make_unique<Impl>(threads)) {}

WorkerPool::~WorkerPool() { Join(); }

void WorkerPool::Post(std::function<void()> task) { boost::asio::post(impl_->pool, std::move(task)); }

void WorkerPool::Join() { impl_->pool.join(); }

}  // namespace carrefour::net
