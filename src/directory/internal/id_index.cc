// SPDX-License-Identifier: EUPL-1.2
#include "directory/internal/id_index.h"

#include <cstring>

namespace carrefour::directory::internal {
namespace {

uint64_t Mix(uint64_t value) {
  // The finalizer of MurmurHash3 (public domain): every input bit reaches
  // every output bit, so masking the low bits gives well-spread slots.
  value ^= value >> 33;
  value *= 0xff51afd7ed558ccdULL;
  value ^= value >> 33;
  value *= 0xc4ceb9fe1a85ec53ULL;
  value ^= value >> 33;
  return value;
}

}  // namespace

uint64_t HashId(std::string_view id) {
  const char* data = id.data();
  size_t size = id.size();
  if (size >= 8 && size <= 16) {
    // Most ids ("data.type-12", "person.address", "inst-123"): two
    // overlapping words cover every byte, and one multiply each mixes them
    // (half the instructions of the loop below; a decision hashes two ids).
    uint64_t first;
    uint64_t last;
    std::memcpy(&first, data, 8);
    std::memcpy(&last, data + size - 8, 8);
    return Mix((first ^ 0x9e3779b97f4a7c15ULL) * 0xff51afd7ed558ccdULL ^
               (last + size) * 0xc4ceb9fe1a85ec53ULL);
  }
  // Whole words through a multiply, then the last 0-7 bytes read with
  // fixed-size loads (which compile to single instructions, where a
  // variable-length memcpy is a library call).
  uint64_t hash = 0x9e3779b97f4a7c15ULL ^ size;
  for (; size >= 8; size -= 8, data += 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    hash = (hash ^ word) * 0x9e3779b97f4a7c15ULL;
    hash ^= hash >> 32;
  }
  uint64_t tail = 0;
  if (size >= 4) {
    uint32_t first, last;
    std::memcpy(&first, data, 4);
    std::memcpy(&last, data + size - 4, 4);
    tail = uint64_t{first} << 32 | last;
  } else if (size > 0) {
    tail = uint64_t{static_cast<unsigned char>(data[0])} << 16 |
           uint64_t{static_cast<unsigned char>(data[size / 2])} << 8 |
           static_cast<unsigned char>(data[size - 1]);
  }
  return Mix(hash ^ tail);
}

IdIndex::IdIndex(std::vector<std::string_view> ids) : ids_(std::move(ids)) {
  size_t capacity = 8;
  while (capacity < 2 * ids_.size()) capacity *= 2;
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  for (uint32_t position = 0; position < ids_.size(); ++position) {
    if (Find(ids_[position]) != kNotFound) continue;
    uint64_t hash = HashId(ids_[position]);
    uint64_t at = hash & mask_;
    while (slots_[at].position != 0) at = (at + 1) & mask_;
    slots_[at] = Slot{static_cast<uint32_t>(hash >> 32), position + 1};
  }
}

uint32_t IdIndex::Find(std::string_view id) const {
  if (slots_.empty()) return kNotFound;
  const uint64_t hash = HashId(id);
  const uint32_t high = static_cast<uint32_t>(hash >> 32);
  for (uint64_t at = hash & mask_;; at = (at + 1) & mask_) {
    const Slot& slot = slots_[at];
    if (slot.position == 0) return kNotFound;
    if (slot.hash == high && SameId(ids_[slot.position - 1], id)) return slot.position - 1;
  }
}

}  // namespace carrefour::directory::internal
