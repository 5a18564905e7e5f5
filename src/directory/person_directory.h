// SPDX-License-Identifier: EUPL-1.2
#pragma once

// The person directory in memory, compactly, for decisions over millions of
// persons: each person's entries are 16-byte CompactEntry (compact_entry.h),
// found by the national number in an open-addressing table of 64-byte
// slots that hold up to three of them (most persons: one cache line per
// person); a person with more has a run in one shared vector. Start here for
// decisions without a store read:
//
//   PersonDirectory directory(engine.definition());
//   std::vector<EntryResult> rejected = directory.Load(entries);  // adds
//   Status applied = directory.Apply(change);  // add, close, remove: the store's rules
//   Result<Grant> grant = engine.DecideCompact(request, directory, today);  // request.niss's
//   PersonEntries person = directory.Find(85073003328);  // or one person's entries
//   std::vector<Entry> same = directory.EntriesOf(85073003328);  // as strings again
//
// A person's entries come in the store's order (institution, capacity,
// from; names in byte order), whatever order the changes came in, so that
// a decision's refusal message is the one the store's entries would give.
//
// Ids are numbers given for one definition (the engine deciding over a
// PersonEntries must be built on the same one). Entries naming an
// institution or a capacity the definition does not know are kept, under
// numbers past the definition's, and decided exactly as their strings
// would be.
//
// Thread safety: const methods may run at once from any number of threads;
// Apply and Load need exclusive access (a hub would apply each integrated
// batch after its store committed it, behind a shared mutex). A
// PersonEntries stays valid until the next change.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "directory/compact_entry.h"
#include "directory/entry.h"
#include "directory/internal/entry_ids.h"
#include "directory/internal/extra_names.h"
#include "network/model.h"

namespace carrefour::directory {

class PersonDirectory {
 public:
  // An empty directory for `definition` (non-null), which it shares.
  explicit PersonDirectory(std::shared_ptr<const network::Definition> definition);
  PersonDirectory(const PersonDirectory&) = delete;
  PersonDirectory& operator=(const PersonDirectory&) = delete;

  const std::shared_ptr<const network::Definition>& definition() const { return definition_; }

  // Applies one change with the rules of store::DirectoryStore's
  // ApplyEntryChanges and its messages (docs/api.md section 4.1): add is
  // idempotent and rejects (invalid-request) the same identity (niss,
  // institution, capacity, from) with another end; close sets the end and
  // remove deletes, not-found when the entry is not there; invalid-niss
  // when the number is not 11 digits, invalid-period and invalid-request as
  // the store. A rejected change leaves the directory as it was. The change
  // is expected validated already (directory/integration.h).
  Status Apply(const EntryChange& change);
  // Each change in order; one result per change, as the store answers.
  std::vector<EntryResult> Apply(std::span<const EntryChange> changes);
  // Adds every entry (add's rules); returns the rejected ones only (index
  // in `entries`), nothing when all went in.
  std::vector<EntryResult> Load(std::span<const Entry> entries);
  // Makes `entries` the whole of person `niss`'s entries (none: the person
  // goes), as a store read them; their own numbers are not looked at.
  // Returns how many were rejected by add's rules (none from a store).
  size_t Replace(uint64_t niss, std::span<const Entry> entries);

  // The entries of the person whose number is `niss` (its 11 digits as an
  // integer: directory::NissNumber), for DecisionEngine::DecideCompact; no
  // entries for a person the directory does not hold (nor for kNotANiss).
  PersonEntries Find(uint64_t niss) const;
  // The same entries as strings, in the same order.
  std::vector<Entry> EntriesOf(uint64_t niss) const;
  // Asks the processor for the person's table slot ahead of a Find, so that
  // the look-ups of a batch overlap instead of waiting for one another.
  void Prefetch(uint64_t niss) const { __builtin_prefetch(&slots_[Home(niss)]); }

  size_t persons() const { return persons_; }
  size_t entries() const { return live_entries_; }
  // Memory held by the table and the entries (not the names), in bytes.
  size_t bytes() const;

 private:
  // A person: its number and its entries, in the slot itself when they are
  // at most kInline, else the run entries_[offset, offset + count).
  static constexpr uint32_t kInline = 3;
  struct alignas(64) Slot {
    uint64_t key = kEmpty;
    uint32_t offset = 0;
    uint32_t count = 0;
    CompactEntry inline_entries[kInline];
  };
  static_assert(sizeof(Slot) == 64);
  static constexpr uint64_t kEmpty = UINT64_MAX;  // no national number is
  std::span<CompactEntry> EntriesIn(Slot& slot);
  std::span<const CompactEntry> EntriesIn(const Slot& slot) const;

  size_t Home(uint64_t key) const {
    // Fibonacci hashing: the multiply spreads consecutive numbers (people
    // born the same day) over the whole table; the top bits are the best.
    return static_cast<size_t>((key * 0x9e3779b97f4a7c15ULL) >> shift_);
  }
  const Slot* FindSlot(uint64_t key) const;
  Slot* FindSlot(uint64_t key);
  Slot* Insert(uint64_t key);
  void Erase(Slot* slot);
  void Grow();

  Status Add(uint64_t key, const Entry& entry);
  CompactEntry* FindIdentity(Slot& slot, uint32_t institution, uint32_t capacity, int32_t from);
  void InsertInRun(Slot* slot, const CompactEntry& entry);
  void EraseFromRun(Slot* slot, CompactEntry* entry);
  void ReserveEntries(size_t more);
  void CompactIfWasteful();
  void Compact();

  std::string_view InstitutionName(uint32_t institution) const;
  std::string_view CapacityName(uint32_t capacity) const;
  bool Before(const CompactEntry& a, const CompactEntry& b) const;

  std::shared_ptr<const network::Definition> definition_;
  internal::EntryIds ids_;
  internal::ExtraNames unknown_institutions_;
  internal::ExtraNames unknown_capacities_;
  std::vector<Slot> slots_;  // a power of two, at most three quarters full
  int shift_ = 64;           // 64 - log2(slots_.size())
  size_t persons_ = 0;
  std::vector<CompactEntry> entries_;  // the runs, and garbage
  size_t live_entries_ = 0;
  size_t run_entries_ = 0;  // in runs; the rest of entries_ is garbage
};

}  // namespace carrefour::directory
