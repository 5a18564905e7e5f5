// SPDX-License-Identifier: EUPL-1.2
#include "net/event_loop.h"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>

#include "net/internal/event_loop.h"

namespace carrefour::net {

std::shared_ptr<EventLoop> EventLoop::Start(int threads) {
  auto impl = std::make_unique<Impl>();
  impl->work.emplace(impl->ioc.get_executor());
  Impl* raw = impl.get();
  for (int i = 0; i < std::max(threads, 1); ++i) {
    raw->threads.emplace_back([raw] { raw->ioc.run(); });
  }
  return std::shared_ptr<EventLoop>(new EventLoop(std::move(impl)));
}

EventLoop::EventLoop(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// Servers and clients are gone (see the header): what is left are handlers
// of closed sockets and idle timers; they are not waited for.
EventLoop::~EventLoop() { impl_->Join(/*stop=*/true); }

void EventLoop::Post(std::function<void()> task) { boost::asio::post(impl_->ioc, std::move(task)); }

int EventLoop::threads() const { return static_cast<int>(impl_->threads.size()); }

bool EventLoop::OnLoopThread() const {
  const std::thread::id self = std::this_thread::get_id();
  return std::any_of(impl_->threads.begin(), impl_->threads.end(),
                     [self](const std::thread& thread) { return thread.get_id() == self; });
}

}  // namespace carrefour::net
