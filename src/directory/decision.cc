// SPDX-License-Identifier: EUPL-1.2
#include "directory/decision.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <new>
#include <type_traits>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/bounded_text.h"
#include "directory/internal/entry_ids.h"
#include "directory/internal/id_index.h"
#include "directory/internal/stretch.h"

namespace carrefour::directory {
namespace internal {

// Everything Decide, SubscribersOf and IsSource look up, keyed by dense
// indexes into the definition's vectors (definition order). A decision costs
// two hash look-ups (requester, data type) and then array reads: the rows a
// decision reads are small and contiguous, and capacities are compared as
// small integers (EntryIds numbers them, as in a CompactEntry), because with
// a large directory the time goes to cache misses, not to instructions
// (docs/decision-engine.md has the figures).
struct DecisionIndexes {
  // No capacity: the capacity of a row whose type does not declare it (it
  // is dropped), or a requested capacity no entry has.
  static constexpr uint32_t kNoCapacity = UINT32_MAX;

  explicit DecisionIndexes(const network::Definition& definition) : ids(definition) {}

  // An authorization as one requester sees it, with everything a decision
  // reads about it: a decision's reads of the grant table land in one or
  // two cache lines (with a large directory, misses cost more than
  // instructions).
  struct GrantRow {
    uint32_t authorization;  // index in Definition::authorizations()
    uint32_t capacity;       // EntryIds number, declared by the requester's type
    Date from;               // validity
    Date to;                 // Date::Max() when open-ended
    uint32_t fields_offset;  // its fields: field_pool / field_names
    uint32_t fields_count;

    bool ValidOn(Date day) const { return from <= day && day <= to; }
  };
  // A capacity-bound availability row.
  struct BoundAvailability {
    uint32_t provider_type;  // index in Definition::institution_types()
    uint32_t capacity;       // EntryIds number
  };
  // A subscription as one institution holds it (type-wide rows expanded).
  struct SubscriptionRow {
    uint32_t institution;
    uint32_t capacity;  // EntryIds number, declared by the institution's type

    friend auto operator<=>(const SubscriptionRow&, const SubscriptionRow&) = default;
  };
  // A slice of field_pool and field_names.
  struct FieldList {
    uint32_t offset = 0;
    uint32_t count = 0;
  };
  struct PerDataType {
    // Institutions of types with universal availability: ascending, unique.
    std::vector<uint32_t> universal_providers;
    std::vector<BoundAvailability> bound_availability;
    // Types named by any availability row: ascending, unique.
    std::vector<uint32_t> source_types;
    // Ascending, unique.
    std::vector<SubscriptionRow> subscriptions;
  };

  EntryIds ids;  // institutions and capacities
  IdIndex data_type_ids;
  size_t institution_count = 0;
  std::vector<uint32_t> type_of_institution;
  // The rows of (data type, institution), in definition order, are
  // grant_rows[grant_offsets[c] .. grant_offsets[c + 1]) for the cell
  // c = data type * institution_count + institution: a dense table, 4 bytes
  // a cell (220 data types x 3000 institutions: 2.6 MB), read without
  // hashing.
  std::vector<uint32_t> grant_offsets;
  std::vector<GrantRow> grant_rows;
  // Per authorization: its fields, in the data type's order, as indexes
  // into the data type's fields and as names, in two parallel pools.
  std::vector<FieldList> authorization_fields;
  std::vector<uint32_t> field_pool;
  std::vector<std::string_view> field_names;
  std::vector<PerDataType> data_types;

  size_t CellOf(uint32_t data_type, uint32_t institution) const {
    return size_t{data_type} * institution_count + institution;
  }
  std::span<const GrantRow> GrantsOf(uint32_t data_type, uint32_t institution) const {
    const size_t cell = CellOf(data_type, institution);
    return std::span<const GrantRow>(grant_rows)
        .subspan(grant_offsets[cell], grant_offsets[cell + 1] - grant_offsets[cell]);
  }
  std::span<const uint32_t> FieldsOf(uint32_t authorization) const {
    const FieldList& list = authorization_fields[authorization];
    return std::span<const uint32_t>(field_pool).subspan(list.offset, list.count);
  }
};

}  // namespace internal

namespace {

using internal::DecisionIndexes;
using internal::EntryIds;
using internal::IdIndex;
using network::Authorization;
using network::Definition;
using network::Institution;
using network::InstitutionType;
using GrantRow = DecisionIndexes::GrantRow;

constexpr uint32_t kNoCapacity = DecisionIndexes::kNoCapacity;

// How many of the requester's files on one person Decide keeps on the stack;
// more is rare and spills to the heap.
constexpr size_t kInlinePieces = 8;

// At most this many cache lines of entries are prefetched: enough for the
// usual handful of entries, bounded for the rare person with hundreds.
constexpr size_t kPrefetchLines = 16;

template <typename T>
void PrefetchEntries(std::span<const T> entries) {
  const char* line = reinterpret_cast<const char*>(entries.data());
  const char* end = line + std::min(entries.size_bytes(), kPrefetchLines * 64);
  for (; line < end; line += 64) __builtin_prefetch(line);
}

// The days of the requested period that one granted file covers, and the
// file's capacity.
struct GrantedPiece {
  Period period;
  uint32_t capacity;
};

// A vector whose first N elements live inside it (on the stack), left
// uninitialized until pushed: a decision builds a few of these, and zeroing
// their arrays showed in profiles. For trivially copyable T only.
template <typename T, size_t N>
class InlineBuffer {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  InlineBuffer() {}
  void push_back(const T& value) {
    if (size_ < N) {
      new (&inline_.items[size_]) T(value);
    } else {
      if (spilled_.empty()) spilled_.assign(inline_.items, inline_.items + N);
      spilled_.push_back(value);
    }
    ++size_;
  }
  std::span<T> span() {
    return size_ <= N ? std::span<T>(inline_.items, size_) : std::span<T>(spilled_);
  }

 private:
  union Storage {
    Storage() {}
    T items[N];
  } inline_;
  std::vector<T> spilled_;
  size_t size_ = 0;
};

template <typename T>
uint32_t IndexOf(const std::vector<T>& elements, const T* element) {
  return static_cast<uint32_t>(element - elements.data());
}


// Ascending and unique.
void SortUnique(std::vector<uint32_t>* values) {
  std::sort(values->begin(), values->end());
  values->erase(std::unique(values->begin(), values->end()), values->end());
}

// Builds DecisionIndexes from a definition, one table after the other.
// The loader guarantees that every reference resolves and every capacity
// is declared by its type; a definition built by hand that breaks this
// loses the offending rows instead of crashing a hub.
class IndexBuilder {
 public:
  explicit IndexBuilder(const Definition& definition)
      : definition_(definition), indexes_(std::make_unique<DecisionIndexes>(definition)) {}

  std::unique_ptr<const DecisionIndexes> Build() && {
    IndexIds();
    BuildGrantTable();
    IndexAvailability();
    IndexSubscriptions();
    for (DecisionIndexes::PerDataType& per : indexes_->data_types) {
      SortUnique(&per.universal_providers);
      SortUnique(&per.source_types);
      std::sort(per.subscriptions.begin(), per.subscriptions.end());
      per.subscriptions.erase(std::unique(per.subscriptions.begin(), per.subscriptions.end()),
                              per.subscriptions.end());
    }
    return std::move(indexes_);
  }

 private:
  static constexpr uint32_t kNoType = UINT32_MAX;

  std::optional<uint32_t> TypeIndex(std::string_view id) const {
    const InstitutionType* type = definition_.FindInstitutionType(id);
    if (type == nullptr) return std::nullopt;
    return IndexOf(definition_.institution_types(), type);
  }
  std::optional<uint32_t> DataTypeIndex(std::string_view id) const {
    const network::DataType* data_type = definition_.FindDataType(id);
    if (data_type == nullptr) return std::nullopt;
    return IndexOf(definition_.data_types(), data_type);
  }
  // The institutions an authorization or a subscription names.
  std::vector<uint32_t> Named(std::string_view institution, std::string_view type) const {
    std::vector<uint32_t> out;
    if (!institution.empty()) {
      uint32_t found = indexes_->ids.Institution(institution);
      if (found != IdIndex::kNotFound && indexes_->type_of_institution[found] != kNoType) {
        out.push_back(found);
      }
    } else if (std::optional<uint32_t> t = TypeIndex(type)) {
      out = institutions_of_type_[*t];
    }
    return out;
  }
  // The number of `capacity` when the institution's type declares it.
  uint32_t DeclaredCapacity(uint32_t institution, std::string_view capacity) const {
    const InstitutionType& type =
        definition_.institution_types()[indexes_->type_of_institution[institution]];
    if (std::find(type.capacities.begin(), type.capacities.end(), capacity) ==
        type.capacities.end()) {
      return kNoCapacity;
    }
    return indexes_->ids.Capacity(capacity);
  }

  void IndexIds() {
    const auto& institutions = definition_.institutions();
    std::vector<std::string_view> ids;
    for (const network::DataType& data_type : definition_.data_types()) ids.push_back(data_type.id);
    indexes_->data_type_ids = IdIndex(std::move(ids));
    indexes_->institution_count = institutions.size();
    institutions_of_type_.resize(definition_.institution_types().size());
    for (uint32_t i = 0; i < institutions.size(); ++i) {
      std::optional<uint32_t> type = TypeIndex(institutions[i].type);
      indexes_->type_of_institution.push_back(type.value_or(kNoType));
      if (type) institutions_of_type_[*type].push_back(i);
    }
  }

  // Grant table, built like a CSR matrix: count per cell, prefix sums, then
  // fill in authorization order so that each cell keeps definition order.
  void BuildGrantTable() {
    const auto& data_types = definition_.data_types();
    const auto& authorizations = definition_.authorizations();
    const size_t institution_count = definition_.institutions().size();
    indexes_->data_types.resize(data_types.size());
    indexes_->authorization_fields.resize(authorizations.size());
    std::vector<std::pair<size_t, GrantRow>> cells;
    for (uint32_t a = 0; a < authorizations.size(); ++a) {
      const Authorization& authorization = authorizations[a];
      std::optional<uint32_t> dt = DataTypeIndex(authorization.data_type);
      if (!dt) continue;
      const DecisionIndexes::FieldList& fields = IndexFields(a, data_types[*dt]);
      for (uint32_t institution : Named(authorization.requester, authorization.requester_type)) {
        uint32_t capacity = DeclaredCapacity(institution, authorization.capacity);
        if (capacity == kNoCapacity) continue;
        cells.push_back({size_t{*dt} * institution_count + institution,
                         {a, capacity, authorization.validity.from,
                          authorization.validity.to.value_or(Date::Max()), fields.offset,
                          fields.count}});
      }
    }
    indexes_->grant_offsets.assign(data_types.size() * institution_count + 1, 0);
    for (const auto& [cell, row] : cells) ++indexes_->grant_offsets[cell + 1];
    for (size_t c = 1; c < indexes_->grant_offsets.size(); ++c) {
      indexes_->grant_offsets[c] += indexes_->grant_offsets[c - 1];
    }
    indexes_->grant_rows.resize(cells.size());
    std::vector<uint32_t> next(indexes_->grant_offsets.begin(), indexes_->grant_offsets.end() - 1);
    for (const auto& [cell, row] : cells) indexes_->grant_rows[next[cell]++] = row;
  }

  // Authorization `a`'s fields, in the data type's order, into the pools.
  const DecisionIndexes::FieldList& IndexFields(uint32_t a, const network::DataType& data_type) {
    const Authorization& authorization = definition_.authorizations()[a];
    DecisionIndexes::FieldList& list = indexes_->authorization_fields[a];
    list.offset = static_cast<uint32_t>(indexes_->field_pool.size());
    for (uint32_t f = 0; f < data_type.fields.size(); ++f) {
      if (std::find(authorization.fields.begin(), authorization.fields.end(),
                    data_type.fields[f]) != authorization.fields.end()) {
        indexes_->field_pool.push_back(f);
        indexes_->field_names.push_back(data_type.fields[f]);
        ++list.count;
      }
    }
    return list;
  }

  void IndexAvailability() {
    for (const network::Availability& availability : definition_.availability()) {
      std::optional<uint32_t> dt = DataTypeIndex(availability.data_type);
      std::optional<uint32_t> type = TypeIndex(availability.provider_type);
      if (!dt || !type) continue;
      DecisionIndexes::PerDataType& per = indexes_->data_types[*dt];
      per.source_types.push_back(*type);
      if (availability.capacity) {
        per.bound_availability.push_back({*type, indexes_->ids.Capacity(*availability.capacity)});
      } else {
        const std::vector<uint32_t>& members = institutions_of_type_[*type];
        per.universal_providers.insert(per.universal_providers.end(), members.begin(),
                                       members.end());
      }
    }
  }

  void IndexSubscriptions() {
    for (const network::Subscription& subscription : definition_.subscriptions()) {
      std::optional<uint32_t> dt = DataTypeIndex(subscription.data_type);
      if (!dt) continue;
      DecisionIndexes::PerDataType& per = indexes_->data_types[*dt];
      for (uint32_t institution : Named(subscription.institution, subscription.institution_type)) {
        uint32_t capacity = DeclaredCapacity(institution, subscription.capacity);
        if (capacity != kNoCapacity) per.subscriptions.push_back({institution, capacity});
      }
    }
  }

  const Definition& definition_;
  std::unique_ptr<DecisionIndexes> indexes_;
  std::vector<std::vector<uint32_t>> institutions_of_type_;
};

std::unique_ptr<const DecisionIndexes> BuildIndexes(const Definition& definition) {
  return IndexBuilder(definition).Build();
}

// The first row valid on `today` for `capacity`, or nullptr.
const GrantRow* FirstGrant(std::span<const GrantRow> rows, uint32_t capacity, Date today) {
  for (const GrantRow& row : rows) {
    if (row.capacity == capacity && row.ValidOn(today)) return &row;
  }
  return nullptr;
}

// Refusal messages are written into one stack buffer and become one string:
// a flood of refused requests costs one allocation each.
using MessageBuffer = fmt::memory_buffer;

// Pieces of text one after the other: the messages of the refusals a
// decision makes are written this way rather than through a format string,
// which fmt parses at run time (with a large directory about one request in
// ten is refused, and formatting was a third of a decision's instructions).
template <typename... Parts>
void Append(MessageBuffer& out, const Parts&... parts) {
  (out.append(std::string_view(parts)), ...);
}

void AppendQuoted(MessageBuffer& out, std::string_view value) { Append(out, "'", value, "'"); }

std::string ToString(const MessageBuffer& message) {
  return std::string(message.data(), message.size());
}

// "YYYY-MM-DD", as Date::ToString writes it, without its string and its
// general-purpose formatting: a tenth of the cost, and refusal messages name
// several dates.
void AppendDate(MessageBuffer& out, Date date) {
  namespace chr = std::chrono;
  const chr::year_month_day civil{chr::sys_days(chr::days(date.days_since_epoch()))};
  const int year = static_cast<int>(civil.year());
  const unsigned month = static_cast<unsigned>(civil.month());
  const unsigned day = static_cast<unsigned>(civil.day());
  const char text[10] = {static_cast<char>('0' + year / 1000 % 10),
                         static_cast<char>('0' + year / 100 % 10),
                         static_cast<char>('0' + year / 10 % 10),
                         static_cast<char>('0' + year % 10),
                         '-',
                         static_cast<char>('0' + month / 10),
                         static_cast<char>('0' + month % 10),
                         '-',
                         static_cast<char>('0' + day / 10),
                         static_cast<char>('0' + day % 10)};
  out.append(text, text + sizeof text);
}

// "2024-01-01..2024-12-31", or "2024-01-01.." when open-ended, as
// Period::ToString writes it.
void AppendPeriod(MessageBuffer& out, const Period& period) {
  AppendDate(out, period.from);
  Append(out, "..");
  if (period.to) AppendDate(out, *period.to);
}

// How many unknown names a refusal quotes, and how much of each: the list is
// the caller's, its size and its names' lengths are up to the caller.
constexpr size_t kMaxQuotedFields = 10;
constexpr size_t kMaxQuotedFieldBytes = 64;

// `fields` comes from the request body (up to its size limit): a list longer
// than the data type's is refused before anything looks at it, and the
// unknown names are deduplicated with a hash set, so the work stays linear
// in the list (a scan of earlier names for each one made a body of a million
// names cost minutes of an API thread).
Status CheckRequestedFields(const network::DataType& data_type,
                            const std::vector<std::string>& requested) {
  if (requested.empty()) {
    return InvalidRequest(fmt::format(
        "the list of fields is empty: name at least one field of '{}' or leave 'fields' out "
        "to get every authorized field",
        data_type.id));
  }
  if (requested.size() > data_type.fields.size()) {
    return InvalidRequest(fmt::format(
        "'fields' names {} fields but data type '{}' has only {} (its fields: {})",
        requested.size(), data_type.id, data_type.fields.size(),
        fmt::join(data_type.fields, ", ")));
  }
  MessageBuffer unknown;
  size_t count = 0;
  std::unordered_set<std::string_view> seen;
  for (const std::string& field : requested) {
    if (data_type.HasField(field) || !seen.insert(field).second) continue;
    if (count++ >= kMaxQuotedFields) continue;
    if (count > 1) fmt::format_to(fmt::appender(unknown), ", ");
    AppendQuoted(unknown, BoundedText(field, kMaxQuotedFieldBytes));
  }
  if (count == 0) return OkStatus();
  if (count > kMaxQuotedFields) {
    fmt::format_to(fmt::appender(unknown), " and {} more", count - kMaxQuotedFields);
  }
  MessageBuffer message;
  fmt::format_to(fmt::appender(message), "data type '{}' has no field{} {} (its fields: {})",
                 data_type.id, count > 1 ? "s" : "", fmt::to_string(unknown),
                 fmt::join(data_type.fields, ", "));
  return InvalidRequest(fmt::to_string(message));
}

// How a person's entries name their capacities: the definition's numbers,
// then the person's own list of names the definition does not know.
class CapacityNames {
 public:
  CapacityNames(const EntryIds& ids, const PersonEntries& person) : ids_(ids), person_(person) {}

  std::string_view Name(uint32_t capacity) const {
    if (capacity < ids_.capacity_count()) return ids_.CapacityName(capacity);
    const size_t unknown = capacity - ids_.capacity_count();
    if (unknown >= person_.unknown_capacities.size()) std::abort();  // a number nobody gave
    return person_.unknown_capacities[unknown];
  }
  // The number of `name`, or kNoCapacity when no entry can have it.
  uint32_t Find(std::string_view name) const {
    const uint32_t known = ids_.Capacity(name);
    if (known != EntryIds::kNotFound) return known;
    for (size_t i = 0; i < person_.unknown_capacities.size(); ++i) {
      if (person_.unknown_capacities[i] == name) {
        return ids_.capacity_count() + static_cast<uint32_t>(i);
      }
    }
    return kNoCapacity;
  }

 private:
  const EntryIds& ids_;
  const PersonEntries& person_;
};

// The requester's files on the person: its entries, of the requested
// capacity when one is given. The entries are the person's (the caller
// found them under request.niss).
struct CallersFiles {
  const Institution& requester;
  uint32_t requester_index;
  const ConsultationRequest& request;
  uint32_t capacity;  // the requested one's number, when request.capacity is set

  bool Holds(const CompactEntry& entry) const {
    return entry.institution == requester_index &&
           (!request.capacity || entry.capacity == capacity);
  }
};

// not-integrated: the requester has no file on the person.
Status NoFileRefusal(const CallersFiles& callers) {
  MessageBuffer message;
  Append(message, "institution '", callers.requester.id, "' has no file");
  if (callers.request.capacity) Append(message, " of capacity '", *callers.request.capacity, "'");
  Append(message, " on person ", callers.request.niss);
  return NotIntegrated(ToString(message));
}

// not-authorized: no authorization valid on `today` covers the capacity of
// any of the requester's files; the refusal names those capacities.
Status NoAuthorizationRefusal(const CallersFiles& callers, const CapacityNames& names,
                              const network::DataType& data_type,
                              std::span<const CompactEntry> person_entries, Date today) {
  MessageBuffer message;
  Append(message, "no authorization valid on ");
  AppendDate(message, today);
  Append(message, " lets institution '", callers.requester.id, "' (type '", callers.requester.type,
         "') obtain '", data_type.id, "' for its files on person ", callers.request.niss, " (");
  const size_t listed_from = message.size();
  // A caller may hold many entries on one person (one per period), but few
  // capacities: each once, found among the ones already listed.
  InlineBuffer<uint32_t, kInlinePieces> listed;
  for (const CompactEntry& entry : person_entries) {
    if (!callers.Holds(entry)) continue;
    const std::span<uint32_t> so_far = listed.span();
    if (std::find(so_far.begin(), so_far.end(), entry.capacity) != so_far.end()) continue;
    if (!so_far.empty()) Append(message, ", ");
    listed.push_back(entry.capacity);
    AppendQuoted(message, names.Name(entry.capacity));
  }
  std::string text = ToString(message);
  text.insert(listed_from, listed.span().size() > 1 ? "capacities " : "capacity ");
  text += ')';
  return NotAuthorized(std::move(text));
}

// not-integrated: the requester's granted files cover no day of `period`;
// the refusal lists those files.
Status NoDayCoveredRefusal(const CallersFiles& callers, const CapacityNames& names,
                           const network::DataType& data_type,
                           std::span<const CompactEntry> person_entries,
                           std::span<const GrantRow> rows, Date today, const Period& period) {
  MessageBuffer message;
  Append(message, "the files of institution '", callers.requester.id, "' on person ",
         callers.request.niss, " that allow '", data_type.id, "' (");
  size_t count = 0;
  for (const CompactEntry& entry : person_entries) {
    if (!callers.Holds(entry) || FirstGrant(rows, entry.capacity, today) == nullptr) continue;
    if (count++ > 0) Append(message, ", ");
    Append(message, names.Name(entry.capacity), " ");
    AppendPeriod(message, entry.period());
  }
  Append(message, ") cover no day of the period ");
  AppendPeriod(message, period);
  return NotIntegrated(ToString(message));
}

// The authorization used: the first in definition order whose capacity is
// that of a file covering part of the served period, so that the legal
// basis cited is one that justifies the days served. (A granted piece
// overlaps the served period exactly when its file does: both lie within
// the requested period.)
const GrantRow& UsedGrant(std::span<const GrantRow> rows,
                          std::span<const GrantedPiece> granted_pieces, const Period& served,
                          Date today) {
  auto covers = [&](uint32_t capacity) {
    return std::any_of(granted_pieces.begin(), granted_pieces.end(),
                       [&](const GrantedPiece& piece) {
                         return piece.capacity == capacity && piece.period.Overlaps(served);
                       });
  };
  for (const GrantRow& row : rows) {
    if (row.ValidOn(today) && covers(row.capacity)) return row;
  }
  // The served period is made of granted files' days, so some row matches.
  std::abort();
}

// The authorized fields that the request asks for (all of them when it
// names none), in the data type's order, into *out (its buffer reused).
void RequestedOf(std::span<const std::string_view> authorized,
                 const std::optional<std::vector<std::string>>& fields,
                 std::vector<std::string_view>* out) {
  out->clear();
  if (!fields) {
    out->assign(authorized.begin(), authorized.end());
    return;
  }
  for (std::string_view name : authorized) {
    if (std::find(fields->begin(), fields->end(), name) != fields->end()) out->push_back(name);
  }
}

// not-authorized: none of the requested fields is among the `authorized`
// ones of the grant's authorization.
Status NoFieldRefusal(const Grant& grant, std::span<const std::string_view> authorized) {
  MessageBuffer message;
  Append(message, "none of the requested fields of '", grant.data_type->id,
         "' is authorized to institution '", grant.requester->id, "' under ",
         grant.authorization->legal_basis, " (capacity '", grant.authorization->capacity,
         "'); authorized: ");
  if (authorized.empty()) Append(message, "none");
  for (size_t i = 0; i < authorized.size(); ++i) {
    if (i > 0) Append(message, ", ");
    AppendQuoted(message, authorized[i]);
  }
  return NotAuthorized(ToString(message));
}

// Routing (step 2), into *providers (its buffer reused). Universal
// availability rows name every institution of the type; capacity-bound rows
// only those holding a file of that capacity on the person during the
// served period. The requester is not excluded: when it is itself a source,
// its own connector answers like any other.
void ProvidersOf(const DecisionIndexes& indexes, const DecisionIndexes::PerDataType& per,
                 const std::vector<Institution>& institutions,
                 std::span<const CompactEntry> person_entries, const Period& served,
                 std::vector<const Institution*>* providers) {
  providers->clear();
  providers->reserve(per.universal_providers.size() +
                     (per.bound_availability.empty() ? 0 : person_entries.size()));
  for (uint32_t provider : per.universal_providers) providers->push_back(&institutions[provider]);
  if (per.bound_availability.empty()) return;
  bool added = false;
  for (const CompactEntry& entry : person_entries) {
    // An institution the definition does not know left the network since.
    if (entry.institution >= indexes.institution_count) continue;
    for (const DecisionIndexes::BoundAvailability& bound : per.bound_availability) {
      if (bound.capacity != entry.capacity ||
          indexes.type_of_institution[entry.institution] != bound.provider_type ||
          !entry.period().Overlaps(served)) {
        continue;
      }
      providers->push_back(&institutions[entry.institution]);
      added = true;
      break;
    }
  }
  // Institutions live in one vector in definition order, so ordering the
  // pointers orders the providers.
  if (added) {
    std::sort(providers->begin(), providers->end(), std::less<const Institution*>());
    providers->erase(std::unique(providers->begin(), providers->end()), providers->end());
  }
}

// A string entry as a CompactEntry. An institution the definition does not
// know gets the first number past its institutions (it matches nothing,
// whichever it is); a capacity it does not know gets a number past its
// capacities, one per distinct name, named in *unknown.
template <typename Names>
CompactEntry Compacted(const EntryIds& ids, const Entry& entry, Names* unknown) {
  CompactEntry compact;
  compact.institution = ids.Institution(entry.institution);
  if (compact.institution == EntryIds::kNotFound) compact.institution = ids.institution_count();
  compact.capacity = ids.Capacity(entry.capacity);
  if (compact.capacity == EntryIds::kNotFound) {
    const std::span<std::string_view> names = unknown->span();
    const size_t found = static_cast<size_t>(
        std::find(names.begin(), names.end(), std::string_view(entry.capacity)) - names.begin());
    if (found == names.size()) unknown->push_back(entry.capacity);
    compact.capacity = ids.capacity_count() + static_cast<uint32_t>(found);
  }
  compact.from = entry.period.from.days_since_epoch();
  if (entry.period.to) compact.to = entry.period.to->days_since_epoch();
  return compact;
}

}  // namespace

DecisionEngine::DecisionEngine(std::shared_ptr<const network::Definition> definition)
    : definition_(std::move(definition)), indexes_(BuildIndexes(*definition_)) {}

DecisionEngine::~DecisionEngine() = default;

// The string path: the entries on request.niss become CompactEntries on the
// stack, and the one implementation of the rules decides over them.
Result<Grant> DecisionEngine::Decide(const ConsultationRequest& request,
                                     std::span<const Entry> person_entries, Date today) const {
  // The entries have usually just been read from a store or a large
  // directory and are not in the cache; they are read one after another
  // below. Asking for all their cache lines now makes those misses overlap
  // instead of queueing up.
  PrefetchEntries(person_entries);
  InlineBuffer<CompactEntry, 2 * kInlinePieces> entries;
  InlineBuffer<std::string_view, kInlinePieces> unknown_capacities;
  for (const Entry& entry : person_entries) {
    // Entries on another number are not the person's: the person must be
    // the same for all parties.
    if (!internal::SameId(entry.niss, request.niss)) continue;
    entries.push_back(Compacted(indexes_->ids, entry, &unknown_capacities));
  }
  return DecideCompact(
      request, PersonEntries{entries.span(), unknown_capacities.span(), definition_.get()}, today);
}

Result<Grant> DecisionEngine::DecideCompact(const ConsultationRequest& request,
                                            const PersonEntries& person, Date today) const {
  Grant grant;
  Status status = DecideCompact(request, person, today, &grant);
  if (!status.ok()) return Error(std::move(status));
  return grant;
}

Status DecisionEngine::DecideCompact(const ConsultationRequest& request,
                                     const PersonEntries& person, Date today,
                                     Grant* grant) const {
  // Ids given for another definition would mean other institutions.
  if (person.definition != definition_.get()) std::abort();
  // The entries have just been found in a large directory: see above.
  const std::span<const CompactEntry> entries = person.entries;
  PrefetchEntries(entries);
  const Definition& definition = *definition_;
  const uint32_t requester_index = indexes_->ids.Institution(request.requester);
  if (requester_index == IdIndex::kNotFound) {
    MessageBuffer message;
    Append(message, "'", request.requester, "' is not an institution of the network");
    return UnknownInstitution(ToString(message));
  }
  const uint32_t data_type_index = indexes_->data_type_ids.Find(request.data_type);
  if (data_type_index == IdIndex::kNotFound) {
    MessageBuffer message;
    Append(message, "'", request.data_type, "' is not a data type of the network");
    return UnknownDataType(ToString(message));
  }
  const Institution* requester = &definition.institutions()[requester_index];
  const network::DataType* data_type = &definition.data_types()[data_type_index];
  // Beside a large directory, the grant table's cell, the data type's
  // routing and the person's entries are all cache misses: they are asked
  // for now, and nothing reads them before the checks and the pass over the
  // entries below, so that they arrive together instead of one after the
  // other.
  __builtin_prefetch(&indexes_->grant_offsets[indexes_->CellOf(data_type_index, requester_index)]);
  const DecisionIndexes::PerDataType& per = indexes_->data_types[data_type_index];
  __builtin_prefetch(&per);
  const Period period = request.period.value_or(Period::Day(today));
  if (period.to && *period.to < period.from) return Period::Make(period.from, period.to).error();
  if (request.fields) {
    CARREFOUR_RETURN_IF_ERROR(CheckRequestedFields(*data_type, *request.fields));
  }
  if (indexes_->type_of_institution[requester_index] == UINT32_MAX) {
    std::abort();  // the loader guarantees a type
  }
  const CapacityNames names(indexes_->ids, person);
  const CallersFiles callers{*requester, requester_index, request,
                             request.capacity ? names.Find(*request.capacity) : kNoCapacity};

  // The requester's files, then which of them are granted and which days
  // of the period (through which capacity) those cover. Nothing is
  // allocated unless the requester has more than kInlinePieces files on the
  // person: a refusal allocates only its message.
  InlineBuffer<CompactEntry, kInlinePieces> files;
  for (const CompactEntry& entry : entries) {
    if (callers.Holds(entry)) files.push_back(entry);
  }
  if (files.span().empty()) return NoFileRefusal(callers);
  const std::span<const GrantRow> rows = indexes_->GrantsOf(data_type_index, requester_index);
  __builtin_prefetch(per.universal_providers.data());
  bool has_granted_entry = false;
  InlineBuffer<GrantedPiece, kInlinePieces> granted;
  for (const CompactEntry& entry : files.span()) {
    if (FirstGrant(rows, entry.capacity, today) == nullptr) continue;
    has_granted_entry = true;
    if (std::optional<Period> piece = entry.period().Intersect(period)) {
      granted.push_back({*piece, entry.capacity});
    }
  }
  if (!has_granted_entry) {
    return NoAuthorizationRefusal(callers, names, *data_type, entries, today);
  }

  InlineBuffer<Period, kInlinePieces> pieces;
  for (const GrantedPiece& piece : granted.span()) pieces.push_back(piece.period);
  const std::optional<Period> served = internal::LatestStretch(pieces.span());
  if (!served) {
    return NoDayCoveredRefusal(callers, names, *data_type, entries, rows, today, period);
  }
  const GrantRow& used = UsedGrant(rows, granted.span(), *served, today);

  grant->requester = requester;
  grant->data_type = data_type;
  grant->period = *served;
  grant->authorization = &definition.authorizations()[used.authorization];
  const std::span<const std::string_view> authorized =
      std::span<const std::string_view>(indexes_->field_names)
          .subspan(used.fields_offset, used.fields_count);
  RequestedOf(authorized, request.fields, &grant->fields);
  if (grant->fields.empty()) return NoFieldRefusal(*grant, authorized);
  ProvidersOf(*indexes_, per, definition.institutions(), entries, *served, &grant->providers);
  return OkStatus();
}

std::vector<Subscriber> DecisionEngine::SubscribersOf(std::string_view source,
                                                      std::string_view data_type,
                                                      std::span<const Entry> person_entries,
                                                      Date today) const {
  const Definition& definition = *definition_;
  const uint32_t data_type_index = indexes_->data_type_ids.Find(data_type);
  if (data_type_index == IdIndex::kNotFound) return {};
  const network::DataType* type = &definition.data_types()[data_type_index];
  const DecisionIndexes::PerDataType& per = indexes_->data_types[data_type_index];
  if (per.subscriptions.empty()) return {};

  // Every (institution, authorization) that qualifies through one entry.
  std::vector<std::pair<uint32_t, uint32_t>> qualified;
  for (const Entry& entry : person_entries) {
    if (entry.institution == source || !entry.period.Contains(today)) continue;
    const uint32_t holder_index = indexes_->ids.Institution(entry.institution);
    if (holder_index == IdIndex::kNotFound) continue;  // left the network since
    // Subscription rows exist only for capacities the holder's type declares.
    const uint32_t capacity = indexes_->ids.Capacity(entry.capacity);
    if (capacity == EntryIds::kNotFound ||
        !std::binary_search(per.subscriptions.begin(), per.subscriptions.end(),
                            DecisionIndexes::SubscriptionRow{holder_index, capacity})) {
      continue;
    }
    const GrantRow* grant =
        FirstGrant(indexes_->GrantsOf(data_type_index, holder_index), capacity, today);
    if (grant == nullptr) continue;
    qualified.emplace_back(holder_index, grant->authorization);
  }
  std::sort(qualified.begin(), qualified.end());
  qualified.erase(std::unique(qualified.begin(), qualified.end()), qualified.end());

  // One Subscriber per institution; its fields are the union of what each
  // qualifying capacity's authorization allows, in the data type's order.
  std::vector<Subscriber> subscribers;
  std::vector<char> wanted_fields;
  for (size_t i = 0; i < qualified.size();) {
    const uint32_t institution = qualified[i].first;
    Subscriber subscriber;
    subscriber.institution = &definition.institutions()[institution];
    wanted_fields.assign(type->fields.size(), 0);
    for (; i < qualified.size() && qualified[i].first == institution; ++i) {
      const uint32_t authorization = qualified[i].second;
      subscriber.authorizations.push_back(&definition.authorizations()[authorization]);
      for (uint32_t field : indexes_->FieldsOf(authorization)) wanted_fields[field] = 1;
    }
    for (size_t f = 0; f < wanted_fields.size(); ++f) {
      if (wanted_fields[f]) subscriber.fields.push_back(type->fields[f]);
    }
    subscribers.push_back(std::move(subscriber));
  }
  return subscribers;
}

bool DecisionEngine::IsSource(std::string_view institution, std::string_view data_type) const {
  const uint32_t holder = indexes_->ids.Institution(institution);
  const uint32_t type = indexes_->data_type_ids.Find(data_type);
  if (holder == IdIndex::kNotFound || type == IdIndex::kNotFound) return false;
  const std::vector<uint32_t>& source_types = indexes_->data_types[type].source_types;
  return std::binary_search(source_types.begin(), source_types.end(),
                            indexes_->type_of_institution[holder]);
}

}  // namespace carrefour::directory
