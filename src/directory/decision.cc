// SPDX-License-Identifier: EUPL-1.2
#include "directory/decision.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
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
#include "directory/internal/grant_table.h"
#include "directory/internal/id_index.h"
#include "directory/internal/stretch.h"
#include "directory/person_directory.h"

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
  // The rows of each (data type, institution), in definition order.
  GrantTable grants;
  // Per authorization: its fields, in the data type's order, as indexes
  // into the data type's fields and as names, in two parallel pools.
  std::vector<FieldList> authorization_fields;
  std::vector<uint32_t> field_pool;
  std::vector<std::string_view> field_names;
  std::vector<PerDataType> data_types;

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
using internal::GrantRow;
using internal::GrantTable;

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

// A period as CompactEntry holds it: two day numbers, the end
// CompactEntry::kOpenEnd (above every day) when open. The decision's
// arithmetic on periods is then a few integer comparisons, without
// optional<Date> and without calls into core's Period.
struct Days {
  int32_t from;
  int32_t to;

  static Days Of(const Period& period) {
    return {period.from.days_since_epoch(),
            period.to ? period.to->days_since_epoch() : CompactEntry::kOpenEnd};
  }
  static Days Of(const CompactEntry& entry) { return {entry.from, entry.to}; }
  Period ToPeriod() const {
    Period period{Date::FromDays(from), std::nullopt};
    if (to != CompactEntry::kOpenEnd) period.to = Date::FromDays(to);
    return period;
  }
  bool Overlaps(const Days& other) const { return other.from <= to && from <= other.to; }
};

// The days of the requested period that one granted file covers, and the
// file's capacity.
struct GrantedPiece {
  Days days;
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

  // The grant table: every (authorization, institution it names) in
  // authorization order, so that each pair keeps definition order.
  void BuildGrantTable() {
    const auto& data_types = definition_.data_types();
    const auto& authorizations = definition_.authorizations();
    const size_t institution_count = definition_.institutions().size();
    indexes_->data_types.resize(data_types.size());
    indexes_->authorization_fields.resize(authorizations.size());
    std::vector<GrantTable::Placed> placed;
    for (uint32_t a = 0; a < authorizations.size(); ++a) {
      const Authorization& authorization = authorizations[a];
      std::optional<uint32_t> dt = DataTypeIndex(authorization.data_type);
      if (!dt) continue;
      const DecisionIndexes::FieldList& fields = IndexFields(a, data_types[*dt]);
      for (uint32_t institution : Named(authorization.requester, authorization.requester_type)) {
        uint32_t capacity = DeclaredCapacity(institution, authorization.capacity);
        if (capacity == kNoCapacity) continue;
        placed.push_back({*dt, institution,
                          GrantRow{a, capacity, authorization.validity.from,
                                   authorization.validity.to.value_or(Date::Max()), fields.offset,
                                   fields.count}});
      }
    }
    indexes_->grants = GrantTable(std::move(placed), institution_count);
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

// A refusal's message, written into a stack buffer and copied once into
// the string the Status keeps: a flood of refused requests costs one
// allocation each.
class Message {
 public:
  Message() {}
  // Pieces of text one after the other: the refusals a decision makes are
  // written this way rather than through a format string, which fmt parses
  // at run time (with the benchmark's one request in ten refused, formatting
  // was a third of the average decision's instructions).
  template <typename... Parts>
  Message& Append(const Parts&... parts) {
    (Put(std::string_view(parts)), ...);
    return *this;
  }
  std::string Take() {
    return spilled_.empty() ? std::string(text_, size_) : std::move(spilled_);
  }

 private:
  void Put(std::string_view part) {
    if (spilled_.empty() && size_ + part.size() <= sizeof text_) {
      std::memcpy(text_ + size_, part.data(), part.size());
      size_ += part.size();
      return;
    }
    if (spilled_.empty()) spilled_.assign(text_, size_);  // a long list of names
    spilled_.append(part);
  }

  char text_[320];
  size_t size_ = 0;
  std::string spilled_;
};

void AppendQuoted(Message& out, std::string_view value) { out.Append("'", value, "'"); }

// "YYYY-MM-DD", as Date::ToString writes it, without its string and its
// general-purpose formatting: a tenth of the cost, and refusal messages name
// several dates.
void AppendDate(Message& out, Date date) {
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
  out.Append(std::string_view(text, sizeof text));
}

// "2024-01-01..2024-12-31", or "2024-01-01.." when open-ended, as
// Period::ToString writes it.
void AppendPeriod(Message& out, const Period& period) {
  AppendDate(out, period.from);
  out.Append("..");
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
  Message unknown;
  size_t count = 0;
  std::unordered_set<std::string_view> seen;
  for (const std::string& field : requested) {
    if (data_type.HasField(field) || !seen.insert(field).second) continue;
    if (count++ >= kMaxQuotedFields) continue;
    if (count > 1) unknown.Append(", ");
    AppendQuoted(unknown, BoundedText(field, kMaxQuotedFieldBytes));
  }
  if (count == 0) return OkStatus();
  if (count > kMaxQuotedFields) unknown.Append(fmt::format(" and {} more", count - kMaxQuotedFields));
  return InvalidRequest(fmt::format("data type '{}' has no field{} {} (its fields: {})",
                                    data_type.id, count > 1 ? "s" : "", unknown.Take(),
                                    fmt::join(data_type.fields, ", ")));
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
  Message message;
  message.Append("institution '", callers.requester.id, "' has no file");
  if (callers.request.capacity) message.Append(" of capacity '", *callers.request.capacity, "'");
  message.Append(" on person ", callers.request.niss);
  return NotIntegrated(message.Take());
}

// not-authorized: no authorization valid on `today` covers the capacity of
// any of the requester's files; the refusal names those capacities.
Status NoAuthorizationRefusal(const CallersFiles& callers, const CapacityNames& names,
                              const network::DataType& data_type,
                              std::span<const CompactEntry> person_entries, Date today) {
  // A caller may hold many entries on one person (one per period), but few
  // capacities: each once, found among the ones already listed.
  InlineBuffer<uint32_t, kInlinePieces> listed;
  for (const CompactEntry& entry : person_entries) {
    const std::span<uint32_t> so_far = listed.span();
    if (callers.Holds(entry) &&
        std::find(so_far.begin(), so_far.end(), entry.capacity) == so_far.end()) {
      listed.push_back(entry.capacity);
    }
  }
  Message message;
  message.Append("no authorization valid on ");
  AppendDate(message, today);
  message.Append(" lets institution '", callers.requester.id, "' (type '", callers.requester.type,
                 "') obtain '", data_type.id, "' for its files on person ", callers.request.niss,
                 listed.span().size() > 1 ? " (capacities " : " (capacity ");
  for (size_t i = 0; i < listed.span().size(); ++i) {
    if (i > 0) message.Append(", ");
    AppendQuoted(message, names.Name(listed.span()[i]));
  }
  message.Append(")");
  return NotAuthorized(message.Take());
}

// not-integrated: the requester's granted files cover no day of `period`;
// the refusal lists those files.
Status NoDayCoveredRefusal(const CallersFiles& callers, const CapacityNames& names,
                           const network::DataType& data_type,
                           std::span<const CompactEntry> person_entries,
                           std::span<const GrantRow> rows, Date today, const Period& period) {
  Message message;
  message.Append("the files of institution '", callers.requester.id, "' on person ",
                 callers.request.niss, " that allow '", data_type.id, "' (");
  size_t count = 0;
  for (const CompactEntry& entry : person_entries) {
    if (!callers.Holds(entry) || FirstGrant(rows, entry.capacity, today) == nullptr) continue;
    if (count++ > 0) message.Append(", ");
    message.Append(names.Name(entry.capacity), " ");
    AppendPeriod(message, entry.period());
  }
  message.Append(") cover no day of the period ");
  AppendPeriod(message, period);
  return NotIntegrated(message.Take());
}

// The served period: the latest stretch of the granted pieces. Usually
// there is one piece, and it is the stretch.
std::optional<Days> Served(std::span<const GrantedPiece> granted) {
  if (granted.size() == 1) return granted.front().days;
  InlineBuffer<Period, kInlinePieces> pieces;
  for (const GrantedPiece& piece : granted) pieces.push_back(piece.days.ToPeriod());
  const std::optional<Period> stretch = internal::LatestStretch(pieces.span());
  if (!stretch) return std::nullopt;
  return Days::Of(*stretch);
}

// The authorization used: the first in definition order whose capacity is
// that of a file covering part of the served period, so that the legal
// basis cited is one that justifies the days served. (A granted piece
// overlaps the served period exactly when its file does: both lie within
// the requested period.)
const GrantRow& UsedGrant(std::span<const GrantRow> rows,
                          std::span<const GrantedPiece> granted_pieces, const Days& served,
                          Date today) {
  auto covers = [&](uint32_t capacity) {
    return std::any_of(granted_pieces.begin(), granted_pieces.end(),
                       [&](const GrantedPiece& piece) {
                         return piece.capacity == capacity && piece.days.Overlaps(served);
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
  Message message;
  message.Append("none of the requested fields of '", grant.data_type->id,
                 "' is authorized to institution '", grant.requester->id, "' under ",
                 grant.authorization->legal_basis, " (capacity '", grant.authorization->capacity,
                 "'); authorized: ");
  if (authorized.empty()) message.Append("none");
  for (size_t i = 0; i < authorized.size(); ++i) {
    if (i > 0) message.Append(", ");
    AppendQuoted(message, authorized[i]);
  }
  return NotAuthorized(message.Take());
}

// Routing (step 2), into *providers (its buffer reused). Universal
// availability rows name every institution of the type; capacity-bound rows
// only those holding a file of that capacity on the person during the
// served period. The requester is not excluded: when it is itself a source,
// its own connector answers like any other.
void ProvidersOf(const DecisionIndexes& indexes, const DecisionIndexes::PerDataType& per,
                 const std::vector<Institution>& institutions,
                 std::span<const CompactEntry> person_entries, const Days& served,
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
          !Days::Of(entry).Overlaps(served)) {
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

// Steps 1 to 4 of a decision: the request's own checks, before any entry
// is read.
struct Resolved {
  uint32_t requester_index = 0;
  uint32_t data_type_index = 0;
  Period period;
};

Status Resolve(const DecisionIndexes& indexes, const Definition& definition,
               const ConsultationRequest& request, Date today, Resolved* resolved) {
  resolved->requester_index = indexes.ids.Institution(request.requester);
  if (resolved->requester_index == IdIndex::kNotFound) {
    return UnknownInstitution(
        Message().Append("'", request.requester, "' is not an institution of the network").Take());
  }
  resolved->data_type_index = indexes.data_type_ids.Find(request.data_type);
  if (resolved->data_type_index == IdIndex::kNotFound) {
    return UnknownDataType(
        Message().Append("'", request.data_type, "' is not a data type of the network").Take());
  }
  // Beside a large directory, the grant table's cell, the data type's
  // routing and the person's entries are all cache misses: they are asked
  // for now, and nothing reads them before the checks and the pass over the
  // entries, so that they arrive together instead of one after the other.
  indexes.grants.Prefetch(resolved->data_type_index, resolved->requester_index);
  __builtin_prefetch(&indexes.data_types[resolved->data_type_index]);
  const Period& period = resolved->period = request.period.value_or(Period::Day(today));
  if (period.to && *period.to < period.from) return Period::Make(period.from, period.to).error();
  if (request.fields) {
    const network::DataType& data_type = definition.data_types()[resolved->data_type_index];
    CARREFOUR_RETURN_IF_ERROR(CheckRequestedFields(data_type, *request.fields));
  }
  if (indexes.type_of_institution[resolved->requester_index] == UINT32_MAX) {
    std::abort();  // the loader guarantees a type
  }
  return OkStatus();
}

// Steps 5 to 8 and the routing, over the person's entries.
Status DecideResolved(const DecisionIndexes& indexes, const Definition& definition,
                      const ConsultationRequest& request, const Resolved& resolved,
                      const PersonEntries& person, Date today, Grant* grant) {
  // Ids given for another definition would mean other institutions.
  if (person.definition != &definition) std::abort();
  const std::span<const CompactEntry> entries = person.entries;
  const Institution* requester = &definition.institutions()[resolved.requester_index];
  const network::DataType* data_type = &definition.data_types()[resolved.data_type_index];
  const DecisionIndexes::PerDataType& per = indexes.data_types[resolved.data_type_index];
  const CapacityNames names(indexes.ids, person);
  const CallersFiles callers{*requester, resolved.requester_index, request,
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
  const std::span<const GrantRow> rows =
      indexes.grants.Rows(resolved.data_type_index, resolved.requester_index);
  if (!rows.empty()) __builtin_prefetch(indexes.field_names.data() + rows.front().fields_offset);
  __builtin_prefetch(per.universal_providers.data());
  bool has_granted_entry = false;
  InlineBuffer<GrantedPiece, kInlinePieces> granted;
  const Days wanted = Days::Of(resolved.period);
  for (const CompactEntry& entry : files.span()) {
    if (FirstGrant(rows, entry.capacity, today) == nullptr) continue;
    has_granted_entry = true;
    const Days piece{std::max(entry.from, wanted.from), std::min(entry.to, wanted.to)};
    if (piece.from <= piece.to) granted.push_back({piece, entry.capacity});
  }
  if (!has_granted_entry) {
    return NoAuthorizationRefusal(callers, names, *data_type, entries, today);
  }
  const std::optional<Days> served = Served(granted.span());
  if (!served) {
    return NoDayCoveredRefusal(callers, names, *data_type, entries, rows, today, resolved.period);
  }
  const GrantRow& used = UsedGrant(rows, granted.span(), *served, today);

  grant->requester = requester;
  grant->data_type = data_type;
  grant->period = served->ToPeriod();
  grant->authorization = &definition.authorizations()[used.authorization];
  const std::span<const std::string_view> authorized =
      std::span<const std::string_view>(indexes.field_names)
          .subspan(used.fields_offset, used.fields_count);
  RequestedOf(authorized, request.fields, &grant->fields);
  if (grant->fields.empty()) return NoFieldRefusal(*grant, authorized);
  ProvidersOf(indexes, per, definition.institutions(), entries, *served, &grant->providers);
  return OkStatus();
}

// The Result form of DecideCompact: a Grant of its own.
template <typename Person>
Result<Grant> NewGrant(const DecisionEngine& engine, const ConsultationRequest& request,
                       const Person& person, Date today) {
  Grant grant;
  Status status = engine.DecideCompact(request, person, today, &grant);
  if (!status.ok()) return Error(std::move(status));
  return grant;
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
  return NewGrant(*this, request, person, today);
}

Status DecisionEngine::DecideCompact(const ConsultationRequest& request,
                                     const PersonEntries& person, Date today,
                                     Grant* grant) const {
  // The entries have just been found in a large directory: see above.
  PrefetchEntries(person.entries);
  Resolved resolved;
  CARREFOUR_RETURN_IF_ERROR(Resolve(*indexes_, *definition_, request, today, &resolved));
  return DecideResolved(*indexes_, *definition_, request, resolved, person, today, grant);
}

Result<Grant> DecisionEngine::DecideCompact(const ConsultationRequest& request,
                                            const PersonDirectory& directory, Date today) const {
  return NewGrant(*this, request, directory, today);
}

Status DecisionEngine::DecideCompact(const ConsultationRequest& request,
                                     const PersonDirectory& directory, Date today,
                                     Grant* grant) const {
  // The person's table slot is asked for first and read only once the
  // request is resolved: with a large directory that slot is a cache miss,
  // and this way it arrives while the ids are looked up instead of before.
  const uint64_t key = NissNumber(request.niss);
  directory.Prefetch(key);
  Resolved resolved;
  CARREFOUR_RETURN_IF_ERROR(Resolve(*indexes_, *definition_, request, today, &resolved));
  const PersonEntries person = directory.Find(key);
  PrefetchEntries(person.entries);
  return DecideResolved(*indexes_, *definition_, request, resolved, person, today, grant);
}

void DecisionEngine::Prefetch(const ConsultationRequest& request) const {
  const uint32_t requester_index = indexes_->ids.Institution(request.requester);
  const uint32_t data_type_index = indexes_->data_type_ids.Find(request.data_type);
  if (requester_index == IdIndex::kNotFound || data_type_index == IdIndex::kNotFound) return;
  indexes_->grants.Prefetch(data_type_index, requester_index);
  __builtin_prefetch(&indexes_->data_types[data_type_index]);
}

std::vector<Subscriber> DecisionEngine::SubscribersOf(std::string_view source,
                                                      std::string_view data_type,
                                                      std::span<const Entry> person_entries,
                                                      Date today) const {
  std::vector<std::pair<uint32_t, uint32_t>> held;
  held.reserve(person_entries.size());
  for (const Entry& entry : person_entries) {
    if (!entry.period.Contains(today)) continue;
    held.emplace_back(indexes_->ids.Institution(entry.institution), indexes_->ids.Capacity(entry.capacity));
  }
  return SubscribersHolding(source, data_type, held, today);
}

std::vector<Subscriber> DecisionEngine::SubscribersOfCompact(std::string_view source,
                                                             std::string_view data_type,
                                                             const PersonEntries& person,
                                                             Date today) const {
  if (person.definition != definition_.get()) std::abort();  // a copy not rebuilt after a reload
  const EntryIds& ids = indexes_->ids;
  std::vector<std::pair<uint32_t, uint32_t>> held;
  held.reserve(person.entries.size());
  for (const CompactEntry& entry : person.entries) {
    if (!entry.period().Contains(today)) continue;
    // Numbers past the definition's name what it does not know.
    held.emplace_back(entry.institution < ids.institution_count() ? entry.institution : EntryIds::kNotFound,
                      entry.capacity < ids.capacity_count() ? entry.capacity : EntryIds::kNotFound);
  }
  return SubscribersHolding(source, data_type, held, today);
}

std::vector<Subscriber> DecisionEngine::SubscribersHolding(
    std::string_view source, std::string_view data_type,
    std::span<const std::pair<uint32_t, uint32_t>> held, Date today) const {
  const Definition& definition = *definition_;
  const uint32_t data_type_index = indexes_->data_type_ids.Find(data_type);
  if (data_type_index == IdIndex::kNotFound) return {};
  const network::DataType* type = &definition.data_types()[data_type_index];
  const DecisionIndexes::PerDataType& per = indexes_->data_types[data_type_index];
  if (per.subscriptions.empty()) return {};
  const uint32_t source_index = indexes_->ids.Institution(source);

  // Every (institution, authorization) that qualifies through one entry.
  std::vector<std::pair<uint32_t, uint32_t>> qualified;
  for (const auto& [holder_index, capacity] : held) {
    // Left the network since, or the source itself (never its own subscriber).
    if (holder_index == IdIndex::kNotFound || holder_index == source_index) continue;
    // Subscription rows exist only for capacities the holder's type declares.
    if (capacity == EntryIds::kNotFound ||
        !std::binary_search(per.subscriptions.begin(), per.subscriptions.end(),
                            DecisionIndexes::SubscriptionRow{holder_index, capacity})) {
      continue;
    }
    const GrantRow* grant =
        FirstGrant(indexes_->grants.Rows(data_type_index, holder_index), capacity, today);
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
