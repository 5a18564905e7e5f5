// SPDX-License-Identifier: EUPL-1.2
#include "research/internal/scrub.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "network/model.h"
#include "niss/niss.h"

namespace carrefour::research::internal {
namespace json = boost::json;
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
// What people write between the parts of a number: "85.07.30-033.28",
// "850730 033 28", "85/07/30".
bool IsSeparator(char c) {
  return c == '.' || c == '-' || c == ' ' || c == '/';
}

bool IsValidNumber(std::string_view digits, Date today) {
  return digits.size() == 11 && niss::Parse(digits, today).has_value();
}

// Scrubs text[begin, end): a run of digits and single separators. The whole
// run is one number when it has exactly 11 digits; otherwise each of its
// bare digit runs of exactly 11 is checked (a number glued to another by a
// space must not escape).
void ScrubRun(std::string_view run, const Pseudonymizer& pseudonyms, Date today, std::string* out) {
  std::string digits;
  for (char c : run) {
    if (IsDigit(c)) digits += c;
  }
  if (IsValidNumber(digits, today)) {
    *out += pseudonyms.Pseudonym(digits);
    return;
  }
  size_t i = 0;
  while (i < run.size()) {
    if (!IsDigit(run[i])) {
      *out += run[i++];
      continue;
    }
    size_t j = i;
    while (j < run.size() && IsDigit(run[j])) ++j;
    std::string_view bare = run.substr(i, j - i);
    if (IsValidNumber(bare, today)) {
      *out += pseudonyms.Pseudonym(bare);
    } else {
      *out += bare;
    }
    i = j;
  }
}

}  // namespace

std::string ScrubText(std::string_view text, const Pseudonymizer& pseudonyms, Date today) {
  // Most values hold no 11 digits at all: leave them untouched cheaply.
  size_t digit_count = 0;
  for (char c : text) digit_count += IsDigit(c);
  if (digit_count < 11) return std::string(text);

  std::string out;
  out.reserve(text.size() + 32);
  size_t i = 0;
  while (i < text.size()) {
    if (!IsDigit(text[i])) {
      out += text[i++];
      continue;
    }
    size_t j = i;
    while (j < text.size()) {
      if (IsDigit(text[j])) {
        ++j;
      } else if (IsSeparator(text[j]) && j + 1 < text.size() && IsDigit(text[j + 1])) {
        ++j;
      } else {
        break;
      }
    }
    ScrubRun(text.substr(i, j - i), pseudonyms, today, &out);
    i = j;
  }
  return out;
}

json::value Scrub(const json::value& value, const Pseudonymizer& pseudonyms, Date today) {
  switch (value.kind()) {
    case json::kind::string: {
      const json::string& text = value.get_string();
      return json::value(ScrubText(std::string_view(text.data(), text.size()), pseudonyms, today));
    }
    case json::kind::int64:
    case json::kind::uint64: {
      // A number sent as a JSON number: 10 or 11 digits (a leading zero is
      // lost that way). Smaller integers are amounts and counts, and some
      // of them would pass the check digits by chance.
      uint64_t n = value.is_int64() ? static_cast<uint64_t>(value.get_int64()) : value.get_uint64();
      if (value.is_int64() && value.get_int64() < 0) return value;
      if (n >= 1'000'000'000ULL && n < 100'000'000'000ULL) {
        std::string digits = fmt::format("{:011}", n);
        if (IsValidNumber(digits, today)) return json::value(pseudonyms.Pseudonym(digits));
      }
      return value;
    }
    case json::kind::object: {
      json::object out;
      for (const auto& [key, item] : value.get_object()) {
        if (network::IsDirectIdentifierField(std::string_view(key.data(), key.size()))) continue;
        out[key] = Scrub(item, pseudonyms, today);
      }
      return out;
    }
    case json::kind::array: {
      json::array out;
      for (const json::value& item : value.get_array())
        out.push_back(Scrub(item, pseudonyms, today));
      return out;
    }
    default: return value;
  }
}

std::string CellText(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null: return std::string();
    case json::kind::string: {
      const json::string& text = value.get_string();
      return std::string(text.data(), text.size());
    }
    case json::kind::bool_: return value.get_bool() ? "true" : "false";
    case json::kind::int64: return fmt::format("{}", value.get_int64());
    case json::kind::uint64: return fmt::format("{}", value.get_uint64());
    // Shortest round-trip form ("3100.5"), not Boost.JSON's "3.1005E3".
    case json::kind::double_: return fmt::format("{}", value.get_double());
    default: return json::serialize(value);
  }
}

}  // namespace carrefour::research::internal
