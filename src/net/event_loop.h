// SPDX-License-Identifier: EUPL-1.2
#pragma once

// Threads that run the I/O of a server and of the clients it calls out
// with, shared. The hub puts its API listener and the client that calls the
// providers on one EventLoop: a provider's answer is then read, filtered and
// handed to the audit log on the API's own threads, not passed from a client
// thread pool to them (one thread hand-off less per consultation, and two
// fewer threads competing for the cores; docs/net.md).
//
//   std::shared_ptr<net::EventLoop> loop = net::EventLoop::Start(4);
//   net::ServerOptions api_options;  api_options.loop = loop;
//   net::Server api(api_options, handler);
//   auto client = net::Client::Create({.tls = tls, .loop = loop});
//   ...
//   api.Stop();  client.reset();  loop.reset();   // in this order
//
// Order of shutdown: stop the servers and destroy the clients that use a
// loop before the loop's last owner lets it go; that one joins the threads
// (never from one of them).

#include <functional>
#include <memory>

namespace carrefour::net {

class EventLoop {
 public:
  // Starts `threads` threads (at least one) running the loop.
  static std::shared_ptr<EventLoop> Start(int threads);
  // Stops the loop and joins its threads. What is still queued on it is
  // destroyed without running.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  int threads() const;
  // Runs `task` on one of the loop's threads, soon. From any thread.
  void Post(std::function<void()> task);
  // Whether the calling thread is one of the loop's.
  bool OnLoopThread() const;

  // net's own (net/internal/event_loop.h): the io_context behind it.
  struct Impl;
  Impl& impl() const { return *impl_; }

 private:
  explicit EventLoop(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace carrefour::net
