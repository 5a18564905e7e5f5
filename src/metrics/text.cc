// SPDX-License-Identifier: EUPL-1.2
#include "metrics/text.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "version/version.h"

namespace carrefour::metrics {
namespace {

void AppendEscaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

std::string Number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  if (value == std::floor(value) && std::fabs(value) < 1e15) return fmt::format("{}", static_cast<int64_t>(value));
  return fmt::format("{}", value);
}

}  // namespace

void TextWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  if (!families_.emplace(name).second) return;
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void TextWriter::Sample(std::string_view name, const Labels& labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [label, text] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += label;
      out_ += "=\"";
      AppendEscaped(out_, text);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += Number(value);
  out_ += '\n';
}

Histogram::Histogram() : Histogram(std::vector<double>(std::begin(kLatencyBounds), std::end(kLatencyBounds))) {}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), cumulative_(bounds_.size(), 0) {}

void Histogram::Observe(double value) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) ++cumulative_[i];
  }
  ++count_;
  sum_ += value;
}

void TextWriter::Write(std::string_view name, const Labels& labels, const Histogram& histogram) {
  const std::string bucket = std::string(name) + "_bucket";
  Labels with_le = labels;
  with_le.emplace_back("le", "");
  for (size_t i = 0; i < histogram.bounds().size(); ++i) {
    const std::string le = Number(histogram.bounds()[i]);
    with_le.back().second = le;
    Sample(bucket, with_le, static_cast<double>(histogram.cumulative()[i]));
  }
  with_le.back().second = "+Inf";
  Sample(bucket, with_le, static_cast<double>(histogram.count()));
  Sample(std::string(name) + "_sum", labels, histogram.sum());
  Sample(std::string(name) + "_count", labels, static_cast<double>(histogram.count()));
}

void TextWriter::Standard() {
  Family("carrefour_build_info", "gauge", "The version and git revision of this binary (always 1).");
  Sample("carrefour_build_info", {{"version", version::Version()}, {"revision", version::Revision()}}, 1);

  // /proc/self/stat: fields 14-15 (utime, stime, in ticks), 22 (start time in
  // ticks after boot), 23 (virtual size), 24 (resident pages).
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream rest(stat.substr(close + 2));
  std::vector<std::string> fields;  // fields[0] is field 3 (state)
  for (std::string field; rest >> field;) fields.push_back(field);
  if (fields.size() < 22) return;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  auto field = [&fields](int number) { return std::stod(fields[static_cast<size_t>(number - 3)]); };

  double boot_time = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string line; std::getline(proc_stat, line);) {
    if (line.starts_with("btime ")) boot_time = std::stod(line.substr(6));
  }
  size_t open_fds = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++open_fds;
  }
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);

  Family("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
  Sample("process_cpu_seconds_total", {}, (field(14) + field(15)) / ticks);
  Family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  Sample("process_resident_memory_bytes", {}, field(24) * page);
  Family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  Sample("process_virtual_memory_bytes", {}, field(23));
  Family("process_open_fds", "gauge", "Open file descriptors.");
  Sample("process_open_fds", {}, static_cast<double>(open_fds));
  Family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
  Sample("process_max_fds", {}, static_cast<double>(limit.rlim_cur));
  Family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.");
  Sample("process_start_time_seconds", {}, boot_time + field(22) / ticks);
}

// --- reading ------------------------------------------------------------------

namespace {

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

// A cursor over one line, with the line's number for errors.
class LineReader {
 public:
  LineReader(std::string_view line, int number) : line_(line), number_(number) {}

  bool AtEnd() const { return at_ == line_.size(); }
  char Peek() const { return AtEnd() ? '\0' : line_[at_]; }
  void SkipBlanks() {
    while (!AtEnd() && (line_[at_] == ' ' || line_[at_] == '\t')) ++at_;
  }
  bool Consume(char c) {
    if (Peek() != c) return false;
    ++at_;
    return true;
  }
  std::string_view Name(bool label) {
    size_t start = at_;
    if (AtEnd() || !IsNameStart(line_[at_]) || (label && line_[at_] == ':')) return {};
    while (!AtEnd() && IsNameChar(line_[at_]) && !(label && line_[at_] == ':')) ++at_;
    return line_.substr(start, at_ - start);
  }
  std::string_view Token() {
    size_t start = at_;
    while (!AtEnd() && line_[at_] != ' ' && line_[at_] != '\t') ++at_;
    return line_.substr(start, at_ - start);
  }
  // A quoted label value, unescaped (\\, \", \n).
  std::optional<std::string> Quoted() {
    if (!Consume('"')) return std::nullopt;
    std::string value;
    while (!AtEnd()) {
      char c = line_[at_++];
      if (c == '"') return value;
      if (c != '\\') {
        value += c;
        continue;
      }
      if (AtEnd()) return std::nullopt;
      char escaped = line_[at_++];
      if (escaped == 'n') {
        value += '\n';
      } else if (escaped == '\\' || escaped == '"') {
        value += escaped;
      } else {
        return std::nullopt;
      }
    }
    return std::nullopt;
  }
  Status Fail(std::string_view what) const {
    return InvalidRequest(fmt::format("metrics line {}, column {}: {}", number_, at_ + 1, what));
  }

 private:
  std::string_view line_;
  int number_;
  size_t at_ = 0;
};

std::optional<double> ParseValue(std::string_view token) {
  if (token == "+Inf" || token == "Inf") return HUGE_VAL;
  if (token == "-Inf") return -HUGE_VAL;
  if (token == "NaN") return std::nan("");
  if (token.empty()) return std::nullopt;
  std::string copy(token);
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || errno == ERANGE) return std::nullopt;
  if (std::isnan(value) || std::isinf(value)) return std::nullopt;  // spelt "nan", "inf"...
  return value;
}

Result<ParsedSample> ParseSampleLine(std::string_view line, int number) {
  LineReader in(line, number);
  ParsedSample sample;
  in.SkipBlanks();
  std::string_view name = in.Name(false);
  if (name.empty()) return tl::unexpected(in.Fail("expected a metric name"));
  sample.name = std::string(name);
  if (in.Consume('{')) {
    for (;;) {
      in.SkipBlanks();
      if (in.Consume('}')) break;
      std::string_view label = in.Name(true);
      if (label.empty()) return tl::unexpected(in.Fail("expected a label name or '}'"));
      in.SkipBlanks();
      if (!in.Consume('=')) return tl::unexpected(in.Fail("expected '=' after the label name"));
      in.SkipBlanks();
      std::optional<std::string> value = in.Quoted();
      if (!value) return tl::unexpected(in.Fail("expected a quoted label value"));
      sample.labels.emplace_back(std::string(label), std::move(*value));
      in.SkipBlanks();
      if (in.Consume(',')) continue;
      if (in.Consume('}')) break;
      return tl::unexpected(in.Fail("expected ',' or '}' after a label"));
    }
  }
  if (in.Peek() != ' ' && in.Peek() != '\t') return tl::unexpected(in.Fail("expected a blank before the value"));
  in.SkipBlanks();
  std::optional<double> value = ParseValue(in.Token());
  if (!value) return tl::unexpected(in.Fail("expected a number, +Inf, -Inf or NaN"));
  sample.value = *value;
  in.SkipBlanks();
  if (!in.AtEnd()) {
    std::string_view token = in.Token();
    int64_t timestamp = 0;
    auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), timestamp);
    if (error != std::errc() || end != token.data() + token.size()) {
      return tl::unexpected(in.Fail("expected a timestamp (milliseconds) or the end of the line"));
    }
    sample.timestamp_ms = timestamp;
    in.SkipBlanks();
    if (!in.AtEnd()) return tl::unexpected(in.Fail("expected the end of the line"));
  }
  return sample;
}

}  // namespace

std::optional<std::string_view> ParsedSample::Label(std::string_view label) const {
  for (const auto& [label_name, label_value] : labels) {
    if (label_name == label) return std::string_view(label_value);
  }
  return std::nullopt;
}

Result<std::vector<ParsedSample>> ParseText(std::string_view text) {
  std::vector<ParsedSample> samples;
  int number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    if (line.back() == '\r') line.remove_suffix(1);
    CARREFOUR_ASSIGN_OR_RETURN(ParsedSample sample, ParseSampleLine(line, number));
    samples.push_back(std::move(sample));
  }
  return samples;
}

double Sum(const std::vector<ParsedSample>& samples, std::string_view name, const Labels& match) {
  double total = 0;
  for (const ParsedSample& sample : samples) {
    if (sample.name != name) continue;
    bool matches = true;
    for (const auto& [label, value] : match) {
      std::optional<std::string_view> has = sample.Label(label);
      if (!has || *has != value) {
        matches = false;
        break;
      }
    }
    if (matches) total += sample.value;
  }
  return total;
}

}  // namespace carrefour::metrics
