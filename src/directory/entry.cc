// SPDX-License-Identifier: EUPL-1.2
#include "directory/entry.h"

#include <cstring>

#include <fmt/format.h>

namespace carrefour::directory {
namespace {

std::string EndText(std::optional<Date> to) {
  return to ? "until " + to->ToString() : std::string("with no end");
}

}  // namespace

uint64_t NissNumber(std::string_view niss) {
  if (niss.size() != 11) return kNotANiss;
  // Every decision over a PersonDirectory starts here, so the first eight
  // digits are checked and converted eight at a time, in one word (a loop
  // of a compare and a multiply-add per character was a tenth of a
  // decision's instructions).
  uint64_t word;
  std::memcpy(&word, niss.data(), 8);
  // Each byte is 0x30-0x39: high nibble 3, and still 3 after adding 6 (no
  // byte carries into the next one unless the first test already failed).
  constexpr uint64_t kHigh = 0xF0F0F0F0F0F0F0F0ULL;
  constexpr uint64_t kThrees = 0x3030303030303030ULL;
  if ((word & kHigh) != kThrees || ((word + 0x0606060606060606ULL) & kHigh) != kThrees) {
    return kNotANiss;
  }
  // The digits (the first in the lowest byte) combined pairwise, then by
  // fours, then by eights, each step one multiply.
  word = (word & 0x0F0F0F0F0F0F0F0FULL) * 2561 >> 8;
  word = (word & 0x00FF00FF00FF00FFULL) * 6553601 >> 16;
  uint64_t number = (word & 0x0000FFFF0000FFFFULL) * 42949672960001ULL >> 32;
  for (char c : niss.substr(8)) {
    if (c < '0' || c > '9') return kNotANiss;
    number = number * 10 + static_cast<uint64_t>(c - '0');
  }
  return number;
}

Result<int64_t> NissKey(std::string_view niss) {
  // The directory module normalizes numbers before they get here; this is
  // the store (or PersonDirectory) protecting its key, not user-facing
  // validation.
  const uint64_t number = NissNumber(niss);
  if (number == kNotANiss) {
    return Error(InvalidNiss(fmt::format("'{}' is not an 11-digit number", niss)));
  }
  return static_cast<int64_t>(number);
}

std::string NissFromKey(int64_t key) { return fmt::format("{:011}", key); }

Status PrecheckChange(const EntryChange& change) {
  const Period& period = change.entry.period;
  if (change.action == EntryAction::kClose && !period.to) {
    return InvalidRequest("close needs the end of the entry ('to')");
  }
  if (change.action != EntryAction::kRemove && period.to && *period.to < period.from) {
    return InvalidPeriod(fmt::format("the entry would end ({}) before it starts ({})",
                                     period.to->ToString(), period.from.ToString()));
  }
  return OkStatus();
}

Status CompareExisting(const Entry& wanted, std::optional<Date> existing_to) {
  if (wanted.period.to == existing_to) return OkStatus();
  return InvalidRequest(fmt::format(
      "an entry for this person in capacity '{}' starting {} already exists {}; to change "
      "its end, close it (or remove it and add it again)",
      wanted.capacity, wanted.period.from.ToString(), EndText(existing_to)));
}

Status EntryNotFound(const Entry& entry) {
  return NotFound(fmt::format("{} has no entry for this person in capacity '{}' starting {}",
                              entry.institution, entry.capacity, entry.period.from.ToString()));
}

}  // namespace carrefour::directory
