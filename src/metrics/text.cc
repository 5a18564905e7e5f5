#include "metrics/text.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
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

}  // namespace carrefour::metrics
