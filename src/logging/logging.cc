// SPDX-License-Identifier: EUPL-1.2
#include "logging/logging.h"

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>

#include <pthread.h>
#include <signal.h>

#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/json_text.h"
#include "core/timestamp.h"

namespace carrefour::logging {
namespace {

std::atomic<bool> json_format{false};

std::string TimeText(spdlog::log_clock::time_point time) {
  return FormatRfc3339(MicrosSinceEpoch(time), 3);
}

// {"time":…,"level":…,"msg":…} for a plain message; an Event's payload is
// already its members (it starts with '\x1e').
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"time\":\"" + TimeText(msg.time) + "\",\"level\":";
    spdlog::string_view_t name = spdlog::level::to_string_view(msg.level);
    std::string_view level(name.data(), name.size());
    AppendJsonString(level, &line);
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (!payload.empty() && payload.front() == '\x1e') {
      line += ',';
      line += payload.substr(1);
    } else {
      line += ",\"msg\":";
      AppendJsonString(payload, &line);
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

class TextFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = TimeText(msg.time);
    line += ' ';
    spdlog::string_view_t name = spdlog::level::to_string_view(msg.level);
    std::string_view level(name.data(), name.size());
    line.append(level.data(), level.size());
    line += ' ';
    line.append(msg.payload.data(), msg.payload.size());
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<TextFormatter>(); }
};

}  // namespace

Status Setup(std::string_view format, std::string_view level) {
  if (format != "text" && format != "json") {
    return InvalidRequest(fmt::format("log format '{}': use text or json", format));
  }
  spdlog::level::level_enum parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return InvalidRequest(fmt::format("log level '{}': use trace, debug, info, warn or error", level));
  }
  json_format = format == "json";
  // The logger's threads (the queue's worker and the periodic flusher) must
  // never take a process signal: a SIGTERM delivered to one of them would
  // kill the process with the default action before the hub or connector
  // has blocked the signal for its own sigwait. Threads inherit the mask of
  // their creator, so create them with every signal blocked.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  if (!spdlog::thread_pool()) spdlog::init_thread_pool(8192, 1);
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  // A full queue drops the oldest line rather than slowing requests down.
  auto logger = std::make_shared<spdlog::async_logger>("carrefour", sink, spdlog::thread_pool(),
                                                       spdlog::async_overflow_policy::overrun_oldest);
  if (json_format) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_formatter(std::make_unique<TextFormatter>());
  }
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return OkStatus();
}

void Shutdown() {
  if (auto logger = spdlog::default_logger()) logger->flush();
  spdlog::shutdown();
}

void Event(spdlog::level::level_enum level, std::string_view event, const Fields& fields) {
  if (!spdlog::should_log(level)) return;
  std::string line;
  if (json_format) {
    line = "\x1e\"msg\":";
    AppendJsonString(event, &line);
    for (const auto& [key, value] : fields) {
      line += ',';
      AppendJsonString(key, &line);
      line += ':';
      AppendJsonString(value, &line);
    }
  } else {
    line.append(event);
    for (const auto& [key, value] : fields) {
      line += ' ';
      line.append(key);
      line += '=';
      if (value.empty() || value.find_first_of(" \"=") != std::string::npos) {
        AppendJsonString(value, &line);
      } else {
        line += value;
      }
    }
  }
  spdlog::log(level, "{}", line);
}

Status StoreFailed(std::string_view doing, const Status& error, std::string_view prefix) {
  Event(spdlog::level::err, "store error", {{"operation", std::string(doing)}, {"error", error.ToString()}});
  return Unavailable(std::string(prefix) + error.message());
}

}  // namespace carrefour::logging
