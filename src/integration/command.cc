// SPDX-License-Identifier: EUPL-1.2
#include "integration/command.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "integration/import.h"
#include "network/loader.h"
#include "store/store.h"

namespace carrefour::integration {
namespace {

using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

// "1 234 567": counts of millions of lines are read at a glance.
std::string Grouped(uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ' ';
    out += digits[i];
  }
  return out;
}

// Progress on stderr: a bar redrawn in place on a terminal (at most ten times
// a second), a plain line every ten seconds otherwise (logs, CI).
class Progress {
 public:
  Progress(std::FILE* err, uint64_t total_bytes)
      : err_(err), terminal_(isatty(fileno(err)) == 1), total_bytes_(total_bytes) {}

  void Update(const ImportCounts& counts) {
    SteadyClock::time_point now = SteadyClock::now();
    auto interval = terminal_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(10'000);
    if (now - last_ < interval) return;
    last_ = now;
    double rate = counts.lines / std::max(Seconds(now - start_), 1e-9);
    if (!terminal_) {
      fmt::print(err_, "import: {} lines, {} rejected, {:.0f} lines/s\n", counts.lines,
                 counts.rejected, rate);
      return;
    }
    std::string bar;
    if (total_bytes_ > 0) {
      constexpr int kWidth = 30;
      double done = std::min(1.0, static_cast<double>(counts.bytes) / total_bytes_);
      int filled = static_cast<int>(done * kWidth);
      bar = fmt::format("[{}{}] {:3.0f}% ", std::string(filled, '#'),
                        std::string(kWidth - filled, '.'), done * 100);
    }
    fmt::print(err_, "\r{}{} lines, {} rejected, {} lines/s\033[K", bar, Grouped(counts.lines),
               Grouped(counts.rejected), Grouped(static_cast<uint64_t>(rate)));
    std::fflush(err_);
    drawn_ = true;
  }

  // Erases the bar before other output goes to the same terminal.
  void Clear() {
    if (!drawn_) return;
    fmt::print(err_, "\r\033[K");
    std::fflush(err_);
    drawn_ = false;
  }

  double elapsed() const { return Seconds(SteadyClock::now() - start_); }

 private:
  std::FILE* err_;
  bool terminal_;
  uint64_t total_bytes_;
  SteadyClock::time_point start_ = SteadyClock::now();
  SteadyClock::time_point last_ = start_;
  bool drawn_ = false;
};

int Fail(std::FILE* err, const Status& status) {
  fmt::print(err, "carrefour directory import: {}\n", status.ToString());
  return 1;
}

}  // namespace

int RunImportCommand(const ImportCommand& command, std::FILE* out, std::FILE* err,
                     const Clock& clock) {
  Result<network::Definition> definition = network::LoadDefinition(command.network_file);
  if (!definition) return Fail(err, definition.error());

  std::ifstream file;
  std::istream* input = &std::cin;
  uint64_t total_bytes = 0;
  if (command.csv_file != "-") {
    file.open(command.csv_file, std::ios::binary);
    if (!file) return Fail(err, NotFound(fmt::format("cannot open {}", command.csv_file)));
    file.seekg(0, std::ios::end);
    std::streamoff size = file.tellg();
    file.seekg(0, std::ios::beg);
    if (size > 0) total_bytes = static_cast<uint64_t>(size);
    input = &file;
  }

  Result<std::unique_ptr<store::Store>> store = store::OpenStore(command.store_url, clock);
  if (!store) return Fail(err, store.error());

  Progress progress(err, total_bytes);
  uint64_t shown = 0;
  ImportOptions options;
  options.batch_size = command.batch_size;
  options.today = clock.Today();
  options.on_rejection = [&](const Rejection& rejection) {
    if (command.max_errors != 0 && shown >= command.max_errors) return;
    ++shown;
    progress.Clear();
    fmt::print(out, "line {}: {}\n", rejection.line, rejection.status.ToString());
  };
  options.on_progress = [&](const ImportCounts& counts) {
    std::fflush(out);
    progress.Update(counts);
  };

  Result<ImportCounts> counts =
      ImportDirectoryCsv(*input, *definition, (*store)->directory(), options);
  progress.Clear();
  if (!counts) return Fail(err, counts.error());

  if (counts->rejected > shown) {
    fmt::print(out, "... and {} more rejected lines not shown (--max-errors {})\n",
               counts->rejected - shown, command.max_errors);
  }
  double seconds = progress.elapsed();
  fmt::print(out, "{} lines: {} accepted, {} rejected ({:.1f} s, {:.0f} lines/s)\n", counts->lines,
             counts->accepted, counts->rejected, seconds,
             counts->lines / std::max(seconds, 1e-9));
  std::fflush(out);
  return counts->rejected == 0 ? 0 : 1;
}

}  // namespace carrefour::integration
