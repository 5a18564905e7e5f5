// SPDX-License-Identifier: EUPL-1.2
#pragma once

// A subscriber's deliveries of one accepting transaction, as both engines
// store them in one mutation_block row (docs/mutations.md, "Schema"): the
// cursors first_cursor, first_cursor + 1, ... each name a mutation (its
// mid) and which of its payload's fields the copy gets. Engine-independent.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace carrefour::store::internal {

struct FeedBlock {
  struct Entry {
    int64_t mid = 0;
    int fields = -1;  // index in field_lists; -1 = every field of the payload
  };
  // The distinct field lists of the block's copies (usually one or none).
  std::vector<std::vector<std::string>> field_lists;
  std::vector<Entry> entries;  // in cursor order

  // Appends a copy of mutation `mid` with `fields` (nullopt = all).
  void Add(int64_t mid, const std::optional<std::vector<std::string>>& fields);

  // The column texts: field_lists as a JSON array of arrays of strings;
  // entries as "mid" or "mid/k" separated by spaces.
  std::string EncodeFields() const;
  std::string EncodeEntries() const;
  static Result<FeedBlock> Decode(std::string_view fields, std::string_view entries);
  // The entries alone (their field lists unread, not checked): for who only
  // needs the mutations.
  static Result<FeedBlock> DecodeEntries(std::string_view entries);
};

// `payload` (a JSON object text) cut to `fields` (nullptr = all of it);
// kInternal when the stored payload is not a JSON object.
Result<std::string> CutPayload(std::string_view payload, const std::vector<std::string>* fields);

}  // namespace carrefour::store::internal
