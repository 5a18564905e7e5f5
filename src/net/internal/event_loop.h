// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The io_context behind a net::EventLoop, for server.cc and client.cc only.

#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "net/event_loop.h"

namespace carrefour::net {

struct EventLoop::Impl {
  // Lets the threads return once nothing is queued (`stop`: at once, leaving
  // what is queued), and joins them. Idempotent; never from a loop thread.
  void Join(bool stop) {
    work.reset();
    if (stop) ioc.stop();
    for (std::thread& thread : threads) {
      if (thread.joinable()) thread.join();
    }
  }

  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
};

}  // namespace carrefour::net
