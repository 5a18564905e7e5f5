// SPDX-License-Identifier: EUPL-1.2
#include "directory/person_directory.h"

#include <algorithm>
#include <cstdlib>

#include "directory/internal/huge_pages.h"

namespace carrefour::directory {
namespace {

using internal::AdviseHugePages;

constexpr size_t kInitialSlots = 16;

}  // namespace

PersonDirectory::PersonDirectory(std::shared_ptr<const network::Definition> definition)
    : definition_(std::move(definition)),
      ids_(*definition_),
      unknown_institutions_(ids_.institution_count()),
      unknown_capacities_(ids_.capacity_count()),
      slots_(kInitialSlots),
      shift_(64 - 4) {}

size_t PersonDirectory::bytes() const {
  return slots_.capacity() * sizeof(Slot) + entries_.capacity() * sizeof(CompactEntry);
}

// --- the table: linear probing over slots_ --------------------------------

const PersonDirectory::Slot* PersonDirectory::FindSlot(uint64_t key) const {
  const size_t mask = slots_.size() - 1;
  for (size_t at = Home(key);; at = (at + 1) & mask) {
    const Slot& slot = slots_[at];
    if (slot.key == key) return &slot;
    if (slot.key == kEmpty) return nullptr;
  }
}

PersonDirectory::Slot* PersonDirectory::FindSlot(uint64_t key) {
  return const_cast<Slot*>(std::as_const(*this).FindSlot(key));
}

PersonDirectory::Slot* PersonDirectory::Insert(uint64_t key) {
  if ((persons_ + 1) * 4 > slots_.size() * 3) Grow();
  const size_t mask = slots_.size() - 1;
  size_t at = Home(key);
  while (slots_[at].key != kEmpty) at = (at + 1) & mask;
  slots_[at] = Slot{};
  slots_[at].key = key;
  ++persons_;
  return &slots_[at];
}

// Backward-shift deletion: the slots after the hole that may live in it
// (their home is not between the hole and them) move back, so that no
// tombstones slow later look-ups down.
void PersonDirectory::Erase(Slot* slot) {
  const size_t mask = slots_.size() - 1;
  size_t hole = static_cast<size_t>(slot - slots_.data());
  for (size_t at = (hole + 1) & mask; slots_[at].key != kEmpty; at = (at + 1) & mask) {
    const size_t home = Home(slots_[at].key);
    if (((at - home) & mask) >= ((at - hole) & mask)) {
      slots_[hole] = slots_[at];
      hole = at;
    }
  }
  slots_[hole].key = kEmpty;
  --persons_;
}

void PersonDirectory::Grow() {
  std::vector<Slot> old;
  old.swap(slots_);
  const size_t size = old.size() * 2;
  internal::AssignOnHugePages(&slots_, size, Slot{});
  --shift_;
  const size_t mask = size - 1;
  for (const Slot& slot : old) {
    if (slot.key == kEmpty) continue;
    size_t at = Home(slot.key);
    while (slots_[at].key != kEmpty) at = (at + 1) & mask;
    slots_[at] = slot;
  }
}

// --- names ----------------------------------------------------------------

std::string_view PersonDirectory::InstitutionName(uint32_t institution) const {
  if (institution < ids_.institution_count()) return definition_->institutions()[institution].id;
  return unknown_institutions_.Name(institution);
}

std::string_view PersonDirectory::CapacityName(uint32_t capacity) const {
  if (capacity < ids_.capacity_count()) return ids_.CapacityName(capacity);
  return unknown_capacities_.Name(capacity);
}

// The store's order: (institution, capacity, from), names in byte order.
bool PersonDirectory::Before(const CompactEntry& a, const CompactEntry& b) const {
  if (a.institution != b.institution) {
    return InstitutionName(a.institution) < InstitutionName(b.institution);
  }
  if (a.capacity != b.capacity) return CapacityName(a.capacity) < CapacityName(b.capacity);
  return a.from < b.from;
}

// --- runs -----------------------------------------------------------------

std::span<CompactEntry> PersonDirectory::EntriesIn(Slot& slot) {
  if (slot.count <= kInline) return std::span<CompactEntry>(slot.inline_entries, slot.count);
  return std::span<CompactEntry>(entries_).subspan(slot.offset, slot.count);
}

std::span<const CompactEntry> PersonDirectory::EntriesIn(const Slot& slot) const {
  if (slot.count <= kInline) return std::span<const CompactEntry>(slot.inline_entries, slot.count);
  return std::span<const CompactEntry>(entries_).subspan(slot.offset, slot.count);
}

CompactEntry* PersonDirectory::FindIdentity(Slot& slot, uint32_t institution, uint32_t capacity,
                                            int32_t from) {
  for (CompactEntry& entry : EntriesIn(slot)) {
    if (entry.institution == institution && entry.capacity == capacity && entry.from == from) {
      return &entry;
    }
  }
  return nullptr;
}

// Grows entries_ by doubling, as a vector would, but advises huge pages on
// each new buffer and never lets push_back reallocate behind our back (runs
// are copied within entries_).
void PersonDirectory::ReserveEntries(size_t more) {
  if (entries_.size() + more <= entries_.capacity()) return;
  const size_t capacity = std::max({entries_.capacity() * 2, entries_.size() + more, size_t{64}});
  std::vector<CompactEntry> bigger;
  bigger.reserve(capacity);
  AdviseHugePages(bigger.data(), capacity * sizeof(CompactEntry));
  bigger.assign(entries_.begin(), entries_.end());
  entries_.swap(bigger);
}

// The entry goes last, then rotates into place (a person has a handful:
// the cheapest sort). A person outgrowing its slot gets a run at the end of
// entries_; a run grows in place when it ends entries_ (a person's entries
// arriving together, as in a load), else it moves to the end, and its old
// place becomes garbage, collected by Compact once it outweighs the runs.
void PersonDirectory::InsertInRun(Slot* slot, const CompactEntry& entry) {
  if (slot->count < kInline) {
    slot->inline_entries[slot->count] = entry;
  } else {
    const bool in_place = slot->count > kInline && slot->offset + slot->count == entries_.size();
    ReserveEntries(slot->count + 1);
    if (!in_place) {
      const std::span<const CompactEntry> old = EntriesIn(*slot);
      const uint32_t offset = static_cast<uint32_t>(entries_.size());
      // No reallocation from here on (reserved): `old` stays valid.
      for (const CompactEntry& kept : old) entries_.push_back(kept);
      run_entries_ += slot->count == kInline ? kInline : 0;
      slot->offset = offset;
    }
    entries_.push_back(entry);
    ++run_entries_;
  }
  ++slot->count;
  ++live_entries_;
  const std::span<CompactEntry> run = EntriesIn(*slot);
  auto at = std::upper_bound(run.begin(), run.end() - 1, entry,
                             [this](const auto& a, const auto& b) { return Before(a, b); });
  std::rotate(at, run.end() - 1, run.end());
  CompactIfWasteful();
}

void PersonDirectory::EraseFromRun(Slot* slot, CompactEntry* entry) {
  const std::span<CompactEntry> run = EntriesIn(*slot);
  std::move(entry + 1, run.data() + run.size(), entry);
  if (slot->count > kInline) {
    const bool ends_entries = slot->offset + slot->count == entries_.size();
    if (slot->count - 1 == kInline) {  // back into the slot
      std::copy(run.begin(), run.begin() + kInline, slot->inline_entries);
      run_entries_ -= kInline + 1;
      if (ends_entries) entries_.resize(slot->offset);
    } else {
      --run_entries_;
      if (ends_entries) entries_.pop_back();
    }
  }
  --slot->count;
  --live_entries_;
  if (slot->count == 0) Erase(slot);
  CompactIfWasteful();
}

void PersonDirectory::CompactIfWasteful() {
  if (entries_.size() > 2 * run_entries_ + 1024) Compact();
}

void PersonDirectory::Compact() {
  std::vector<CompactEntry> live;
  live.reserve(run_entries_ + run_entries_ / 2);
  AdviseHugePages(live.data(), live.capacity() * sizeof(CompactEntry));
  for (Slot& slot : slots_) {
    if (slot.key == kEmpty || slot.count <= kInline) continue;
    const uint32_t offset = static_cast<uint32_t>(live.size());
    live.insert(live.end(), entries_.begin() + slot.offset,
                entries_.begin() + slot.offset + slot.count);
    slot.offset = offset;
  }
  entries_.swap(live);
}

// --- changes --------------------------------------------------------------

Status PersonDirectory::Add(uint64_t key, const Entry& entry) {
  CompactEntry compact;
  compact.institution = ids_.Institution(entry.institution);
  if (compact.institution == internal::EntryIds::kNotFound) {
    compact.institution = unknown_institutions_.Intern(entry.institution);
  }
  compact.capacity = ids_.Capacity(entry.capacity);
  if (compact.capacity == internal::EntryIds::kNotFound) {
    compact.capacity = unknown_capacities_.Intern(entry.capacity);
  }
  compact.from = entry.period.from.days_since_epoch();
  if (entry.period.to) compact.to = entry.period.to->days_since_epoch();
  Slot* slot = FindSlot(key);
  if (slot == nullptr) {
    slot = Insert(key);
  } else if (const CompactEntry* existing =
                 FindIdentity(*slot, compact.institution, compact.capacity, compact.from)) {
    return CompareExisting(entry, existing->period().to);
  }
  InsertInRun(slot, compact);
  return OkStatus();
}

Status PersonDirectory::Apply(const EntryChange& change) {
  CARREFOUR_RETURN_IF_ERROR(PrecheckChange(change));
  CARREFOUR_ASSIGN_OR_RETURN(const int64_t key, NissKey(change.entry.niss));
  const Entry& entry = change.entry;
  switch (change.action) {
    case EntryAction::kAdd:
      return Add(static_cast<uint64_t>(key), entry);
    case EntryAction::kClose:
    case EntryAction::kRemove: {
      // A name never interned is on no entry: nothing is interned here.
      uint32_t institution = ids_.Institution(entry.institution);
      if (institution == internal::EntryIds::kNotFound) {
        institution = unknown_institutions_.Find(entry.institution);
      }
      uint32_t capacity = ids_.Capacity(entry.capacity);
      if (capacity == internal::EntryIds::kNotFound) {
        capacity = unknown_capacities_.Find(entry.capacity);
      }
      Slot* slot = FindSlot(static_cast<uint64_t>(key));
      CompactEntry* found =
          slot == nullptr ? nullptr
                          : FindIdentity(*slot, institution, capacity,
                                         entry.period.from.days_since_epoch());
      if (found == nullptr) return EntryNotFound(entry);
      if (change.action == EntryAction::kClose) {
        found->to = entry.period.to->days_since_epoch();  // PrecheckChange: close has a `to`
      } else {
        EraseFromRun(slot, found);
      }
      return OkStatus();
    }
  }
  return InvalidRequest("unknown entry action");
}

std::vector<EntryResult> PersonDirectory::Apply(std::span<const EntryChange> changes) {
  std::vector<EntryResult> results(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) results[i] = {i, Apply(changes[i])};
  return results;
}

std::vector<EntryResult> PersonDirectory::Load(std::span<const Entry> entries) {
  ReserveEntries(entries.size());
  std::vector<EntryResult> rejected;
  for (size_t i = 0; i < entries.size(); ++i) {
    Status status = Apply(EntryChange{EntryAction::kAdd, entries[i]});
    if (!status.ok()) rejected.push_back({i, std::move(status)});
  }
  return rejected;
}

size_t PersonDirectory::Replace(uint64_t niss, std::span<const Entry> entries) {
  if (Slot* slot = FindSlot(niss)) {
    if (slot->count > kInline) {
      run_entries_ -= slot->count;
      if (slot->offset + slot->count == entries_.size()) entries_.resize(slot->offset);
    }
    live_entries_ -= slot->count;
    Erase(slot);
    CompactIfWasteful();
  }
  if (niss >= kNotANiss) return entries.size();
  size_t rejected = 0;
  for (const Entry& entry : entries) {
    if (!Add(niss, entry).ok()) ++rejected;  // the store checked the periods
  }
  return rejected;
}

// --- reads ----------------------------------------------------------------

PersonEntries PersonDirectory::Find(uint64_t niss) const {
  PersonEntries person{{}, unknown_capacities_.views(), definition_.get()};
  if (const Slot* slot = FindSlot(niss)) person.entries = EntriesIn(*slot);
  return person;
}

std::vector<Entry> PersonDirectory::EntriesOf(uint64_t niss) const {
  std::vector<Entry> out;
  const PersonEntries person = Find(niss);
  if (person.entries.empty()) return out;
  const std::string number = NissFromKey(static_cast<int64_t>(niss));
  for (const CompactEntry& entry : person.entries) {
    out.push_back(Entry{number, std::string(InstitutionName(entry.institution)),
                        std::string(CapacityName(entry.capacity)), entry.period()});
  }
  return out;
}

}  // namespace carrefour::directory
