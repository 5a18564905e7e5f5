// SPDX-License-Identifier: EUPL-1.2
// `carrefour niss check` and `carrefour niss generate` (docs/api.md section 2):
// the command-line face of the niss module. All rules live in niss/niss.h;
// this file reads arguments and standard input and prints.

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/carrefour/commands.h"
#include "core/clock.h"
#include "core/date.h"
#include "niss/niss.h"

namespace carrefour::cli {
namespace {

// Far more than any test population, and still a bounded amount of memory
// (the generator remembers every number it gave to avoid repeats).
constexpr uint64_t kMaxGenerateCount = 10'000'000;
constexpr uint64_t kDefaultSeed = 1;

struct CheckOptions {
  std::vector<std::string> numbers;
  bool json = false;
  std::string today;  // empty: the system clock's
};

struct GenerateOptions {
  // Kept as text and read by ParseDecimal (see there).
  std::string count;
  std::string seed = std::to_string(kDefaultSeed);
  bool bis = false;
};

std::string_view KindName(niss::Kind kind) { return kind == niss::Kind::kBis ? "bis" : "nr"; }

std::string_view SexName(niss::Sex sex) {
  switch (sex) {
    case niss::Sex::kMale: return "m";
    case niss::Sex::kFemale: return "f";
    case niss::Sex::kUnknown: return "unknown";
  }
  return "unknown";
}

// Boost.JSON writes strings byte for byte; arguments need not be UTF-8, and
// JSON lines must be. Invalid sequences become U+FFFD.
std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    auto lead = static_cast<unsigned char>(text[i]);
    size_t length = lead < 0x80           ? 1
                    : (lead >> 5) == 0x6  ? 2
                    : (lead >> 4) == 0xE  ? 3
                    : (lead >> 3) == 0x1E ? 4
                                          : 0;
    bool ok = length != 0 && i + length <= text.size();
    for (size_t k = 1; ok && k < length; ++k) {
      ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (ok) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

std::string CheckLine(std::string_view input, const Result<niss::Number>& number, bool json) {
  if (json) {
    boost::json::object line;
    line["input"] = ValidUtf8(input);
    line["valid"] = static_cast<bool>(number);
    if (number) {
      line["niss"] = number->digits;
      line["kind"] = KindName(number->kind);
      line["birth_date"] = number->BirthDateText();
      line["sex"] = SexName(number->sex);
    } else {
      line["reason"] = number.error().message();
    }
    return boost::json::serialize(line) + "\n";
  }
  if (!number) return std::string(input) + " invalid: " + number.error().message() + "\n";
  return number->digits + " valid " + std::string(KindName(number->kind)) + " born " +
         number->BirthDateText() + " sex " + std::string(SexName(number->sex)) + "\n";
}

int RunCheck(const CheckOptions& options) {
  const Date today = options.today.empty() ? SystemClock().Today() : *Date::Parse(options.today);
  // `-` stands for standard input, one number per line (blank lines skipped,
  // so that a trailing newline or a spaced-out list does not count).
  std::vector<std::string> inputs;
  for (const std::string& argument : options.numbers) {
    if (argument != "-") {
      inputs.push_back(argument);
      continue;
    }
    std::string line;
    while (std::getline(std::cin, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      inputs.push_back(line);
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "carrefour: niss check: no numbers given (see --help)\n");
    return 2;
  }

  bool all_valid = true;
  std::string out;
  for (const std::string& input : inputs) {
    Result<niss::Number> number = niss::Parse(input, today);
    all_valid = all_valid && number;
    out += CheckLine(input, number, options.json);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return all_valid ? 0 : 1;
}

// Plain decimal, every character a digit. CLI11's own integer conversion
// reads "010" as octal and wraps "-1" into 2^64-1, which would make distinct
// seeds give the same numbers.
std::optional<uint64_t> ParseDecimal(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

CLI::Validator DecimalUpTo(uint64_t max) {
  return CLI::Validator(
      [max](const std::string& text) {
        std::optional<uint64_t> value = ParseDecimal(text);
        if (!value)
          return "'" + text + "' is not a decimal integer from 0 to " + std::to_string(max);
        if (*value > max) return "'" + text + "' is larger than " + std::to_string(max);
        return std::string();
      },
      "");
}

int RunGenerate(const GenerateOptions& options) {
  // The validators have accepted both.
  const uint64_t count = *ParseDecimal(options.count);
  niss::Generator generator(*ParseDecimal(options.seed));
  std::string out;
  out.reserve(4096);
  for (uint64_t i = 0; i < count; ++i) {
    out += (options.bis ? generator.NextBis() : generator.Next()).digits;
    out += '\n';
    if (out.size() >= 4000) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

std::string CheckDate(const std::string& text) {
  Result<Date> date = Date::Parse(text);
  return date ? std::string() : date.error().message();
}

}  // namespace

void AddNissCommands(CLI::App& app, int* exit_code) {
  CLI::App* niss = app.add_subcommand(
      "niss", "National register numbers (NISS/INSZ) and BIS numbers: validate, generate");
  niss->require_subcommand(1);

  auto check_options = std::make_shared<CheckOptions>();
  CLI::App* check = niss->add_subcommand(
      "check",
      "Validate numbers (separators . - and spaces allowed). One line per number:\n"
      "  <11 digits> valid <nr|bis> born <YYYY-MM-DD, ?? for unknown parts, or unknown> "
      "sex <m|f|unknown>\n"
      "  <input> invalid: <reason>\n"
      "Exit 0 if all are valid, 1 if any is invalid, 2 on a usage error.");
  check
      ->add_option("numbers", check_options->numbers,
                   "Numbers to check; '-' reads more from standard input, one per line")
      ->required();
  check->add_flag("--json", check_options->json,
                  "JSON lines: {\"input\",\"valid\":true,\"niss\",\"kind\",\"birth_date\",\"sex\"} "
                  "or {\"input\",\"valid\":false,\"reason\"}");
  check
      ->add_option("--today", check_options->today,
                   "Check as of this day (YYYY-MM-DD; default: today). The year bounds births in "
                   "the 2000s.")
      ->check(CLI::Validator(CheckDate, "YYYY-MM-DD", "date"));
  check->callback([check_options, exit_code] { *exit_code = RunCheck(*check_options); });

  auto generate_options = std::make_shared<GenerateOptions>();
  CLI::App* generate = niss->add_subcommand(
      "generate",
      "Print N distinct valid synthetic numbers, one per line. The same seed gives the same "
      "numbers on every machine and every day.");
  generate->add_option("--count", generate_options->count, "How many numbers (at most 10000000)")
      ->required()
      ->type_name("N")
      ->check(DecimalUpTo(kMaxGenerateCount));
  generate->add_option("--seed", generate_options->seed, "Seed of the generator (0 to 2^64-1)")
      ->type_name("S")
      ->capture_default_str()
      ->check(DecimalUpTo(std::numeric_limits<uint64_t>::max()));
  generate->add_flag("--bis", generate_options->bis,
                     "BIS numbers (month + 20 or + 40, some with unknown birth-date parts) "
                     "instead of National Register numbers");
  generate->callback(
      [generate_options, exit_code] { *exit_code = RunGenerate(*generate_options); });
}

}  // namespace carrefour::cli
