// SPDX-License-Identifier: EUPL-1.2
#include "directory/decision.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/bounded_text.h"
#include "directory/internal/id_index.h"
#include "directory/internal/stretch.h"

namespace carrefour::directory {
namespace internal {

// Everything Decide, SubscribersOf and IsSource look up, keyed by dense
// indexes into the definition's vectors (definition order). A decision costs
// two hash look-ups (requester, data type) and then array reads: the rows a
// decision reads are small and contiguous, and capacities are compared as
// small integers, because with a large directory the time goes to cache
// misses, not to instructions (docs/decision-engine.md has the figures).
struct DecisionIndexes {
  // A capacity as a slot: its position in an institution type's list of
  // capacities. kNoSlot for a capacity the type does not declare (an entry
  // made before the definition changed): it matches nothing.
  static constexpr uint32_t kNoSlot = UINT32_MAX;

  // An authorization as one requester sees it, with everything a decision
  // reads about it: a decision's reads of the grant table land in one or
  // two cache lines (with a large directory, misses cost more than
  // instructions).
  struct GrantRow {
    uint32_t authorization;  // index in Definition::authorizations()
    uint32_t capacity;       // slot in the requester's type
    Date from;               // validity
    Date to;                 // Date::Max() when open-ended
    uint32_t fields_offset;  // its fields: field_pool / field_names
    uint32_t fields_count;

    bool ValidOn(Date day) const { return from <= day && day <= to; }
  };
  // A capacity-bound availability row. The capacity is copied here (short
  // strings stay inline) so that comparing it touches no other memory.
  struct BoundAvailability {
    uint32_t provider_type;  // index in Definition::institution_types()
    std::string capacity;
  };
  // A subscription as one institution holds it (type-wide rows expanded).
  struct SubscriptionRow {
    uint32_t institution;
    uint32_t capacity;  // slot in the institution's type

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

  IdIndex institution_ids;
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

  std::span<const GrantRow> GrantsOf(uint32_t data_type, uint32_t institution) const {
    size_t cell = size_t{data_type} * institution_count + institution;
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
using internal::IdIndex;
using network::Authorization;
using network::Definition;
using network::Institution;
using network::InstitutionType;
using GrantRow = DecisionIndexes::GrantRow;

constexpr uint32_t kNoSlot = DecisionIndexes::kNoSlot;

// How many of the requester's files on one person Decide keeps on the stack;
// more is rare and spills to the heap.
constexpr size_t kInlinePieces = 8;

// At most this many cache lines of entries are prefetched: enough for the
// usual handful of entries, bounded for the rare person with hundreds.
constexpr size_t kPrefetchLines = 16;

void PrefetchEntries(std::span<const Entry> entries) {
  const char* line = reinterpret_cast<const char*>(entries.data());
  const char* end = line + std::min(entries.size_bytes(), kPrefetchLines * 64);
  for (; line < end; line += 64) __builtin_prefetch(line);
}

// The days of the requested period that one granted file covers, and the
// file's capacity (as a slot).
struct GrantedPiece {
  Period period;
  uint32_t slot;
};

// A vector whose first N elements live inside it (on the stack).
template <typename T, size_t N>
class InlineBuffer {
 public:
  void push_back(const T& value) {
    if (size_ < N) {
      inline_[size_] = value;
    } else {
      if (spilled_.empty()) spilled_.assign(inline_.begin(), inline_.end());
      spilled_.push_back(value);
    }
    ++size_;
  }
  std::span<T> span() {
    return size_ <= N ? std::span<T>(inline_.data(), size_) : std::span<T>(spilled_);
  }

 private:
  std::array<T, N> inline_;
  std::vector<T> spilled_;
  size_t size_ = 0;
};

template <typename T>
uint32_t IndexOf(const std::vector<T>& elements, const T* element) {
  return static_cast<uint32_t>(element - elements.data());
}

uint32_t SlotOf(const InstitutionType& type, std::string_view capacity) {
  for (uint32_t slot = 0; slot < type.capacities.size(); ++slot) {
    if (internal::SameId(type.capacities[slot], capacity)) return slot;
  }
  return kNoSlot;
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
      : definition_(definition), indexes_(std::make_unique<DecisionIndexes>()) {}

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
      uint32_t found = indexes_->institution_ids.Find(institution);
      if (found != IdIndex::kNotFound && indexes_->type_of_institution[found] != kNoType) {
        out.push_back(found);
      }
    } else if (std::optional<uint32_t> t = TypeIndex(type)) {
      out = institutions_of_type_[*t];
    }
    return out;
  }
  uint32_t SlotAt(uint32_t institution, std::string_view capacity) const {
    return SlotOf(definition_.institution_types()[indexes_->type_of_institution[institution]],
                  capacity);
  }

  void IndexIds() {
    const auto& institutions = definition_.institutions();
    std::vector<std::string_view> ids;
    for (const Institution& institution : institutions) ids.push_back(institution.id);
    indexes_->institution_ids = IdIndex(std::move(ids));
    ids.clear();
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
        uint32_t slot = SlotAt(institution, authorization.capacity);
        if (slot == kNoSlot) continue;
        cells.push_back({size_t{*dt} * institution_count + institution,
                         {a, slot, authorization.validity.from,
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
        per.bound_availability.push_back({*type, *availability.capacity});
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
        uint32_t slot = SlotAt(institution, subscription.capacity);
        if (slot != kNoSlot) per.subscriptions.push_back({institution, slot});
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

// The first row valid on `today` for capacity `slot`, or nullptr.
const GrantRow* FirstGrant(std::span<const GrantRow> rows, uint32_t slot, Date today) {
  if (slot == kNoSlot) return nullptr;
  for (const GrantRow& row : rows) {
    if (row.capacity == slot && row.ValidOn(today)) return &row;
  }
  return nullptr;
}

// Refusal messages are written into one stack buffer and become one string:
// a flood of refused requests costs one allocation each.
using MessageBuffer = fmt::memory_buffer;

void AppendQuoted(MessageBuffer& out, std::string_view value) {
  fmt::format_to(std::back_inserter(out), "'{}'", value);
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
  out.append(std::string_view(".."));
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
    if (count > 1) fmt::format_to(std::back_inserter(unknown), ", ");
    AppendQuoted(unknown, BoundedText(field, kMaxQuotedFieldBytes));
  }
  if (count == 0) return OkStatus();
  if (count > kMaxQuotedFields) {
    fmt::format_to(std::back_inserter(unknown), " and {} more", count - kMaxQuotedFields);
  }
  MessageBuffer message;
  fmt::format_to(std::back_inserter(message), "data type '{}' has no field{} {} (its fields: {})",
                 data_type.id, count > 1 ? "s" : "", fmt::to_string(unknown),
                 fmt::join(data_type.fields, ", "));
  return InvalidRequest(fmt::to_string(message));
}

// The requester's files on the person: its entries on the requested number,
// of the requested capacity when one is given.
struct CallersFiles {
  const Institution& requester;
  const ConsultationRequest& request;

  bool Holds(const Entry& entry) const {
    return internal::SameId(entry.institution, requester.id) &&
           internal::SameId(entry.niss, request.niss) &&
           (!request.capacity || entry.capacity == *request.capacity);
  }
};

// not-integrated: the requester has no file on the person.
Status NoFileRefusal(const CallersFiles& callers) {
  MessageBuffer message;
  fmt::format_to(std::back_inserter(message), "institution '{}' has no file",
                 callers.requester.id);
  if (callers.request.capacity) {
    fmt::format_to(std::back_inserter(message), " of capacity '{}'", *callers.request.capacity);
  }
  fmt::format_to(std::back_inserter(message), " on person {}", callers.request.niss);
  return NotIntegrated(fmt::to_string(message));
}

// not-authorized: no authorization valid on `today` covers the capacity of
// any of the requester's files; the refusal names those capacities.
Status NoAuthorizationRefusal(const CallersFiles& callers, const network::DataType& data_type,
                              std::span<const Entry> person_entries, Date today) {
  MessageBuffer message;
  fmt::format_to(std::back_inserter(message), "no authorization valid on ");
  AppendDate(message, today);
  fmt::format_to(std::back_inserter(message),
                 " lets institution '{}' (type '{}') obtain '{}' for its files on person {} (",
                 callers.requester.id, callers.requester.type, data_type.id, callers.request.niss);
  const size_t listed_from = message.size();
  size_t count = 0;
  // A caller may hold many entries on one person (one per period): each
  // capacity once, through a set rather than a scan of the earlier entries.
  std::unordered_set<std::string_view> listed;
  for (const Entry& entry : person_entries) {
    if (!callers.Holds(entry) || !listed.insert(entry.capacity).second) continue;
    if (count++ > 0) fmt::format_to(std::back_inserter(message), ", ");
    AppendQuoted(message, entry.capacity);
  }
  std::string text = fmt::to_string(message);
  text.insert(listed_from, count > 1 ? "capacities " : "capacity ");
  text += ')';
  return NotAuthorized(std::move(text));
}

// not-integrated: the requester's granted files cover no day of `period`;
// the refusal lists those files.
Status NoDayCoveredRefusal(const CallersFiles& callers, const network::DataType& data_type,
                           std::span<const Entry> person_entries, const InstitutionType& type,
                           std::span<const GrantRow> rows, Date today, const Period& period) {
  MessageBuffer message;
  fmt::format_to(std::back_inserter(message),
                 "the files of institution '{}' on person {} that allow '{}' (",
                 callers.requester.id, callers.request.niss, data_type.id);
  size_t count = 0;
  for (const Entry& entry : person_entries) {
    if (!callers.Holds(entry) || FirstGrant(rows, SlotOf(type, entry.capacity), today) == nullptr) {
      continue;
    }
    if (count++ > 0) fmt::format_to(std::back_inserter(message), ", ");
    fmt::format_to(std::back_inserter(message), "{} ", entry.capacity);
    AppendPeriod(message, entry.period);
  }
  fmt::format_to(std::back_inserter(message), ") cover no day of the period ");
  AppendPeriod(message, period);
  return NotIntegrated(fmt::to_string(message));
}

// The authorization used: the first in definition order whose capacity is
// that of a file covering part of the served period, so that the legal
// basis cited is one that justifies the days served. (A granted piece
// overlaps the served period exactly when its file does: both lie within
// the requested period.) A type declares a handful of capacities: a bit
// mask holds the covering ones.
const GrantRow& UsedGrant(std::span<const GrantRow> rows,
                          std::span<const GrantedPiece> granted_pieces, const Period& served,
                          Date today) {
  uint64_t covering = 0;
  for (const GrantedPiece& piece : granted_pieces) {
    if (piece.slot < 64 && piece.period.Overlaps(served)) covering |= uint64_t{1} << piece.slot;
  }
  auto covers = [&](uint32_t slot) {
    if (slot < 64) return (covering >> slot & 1) != 0;
    return std::any_of(granted_pieces.begin(), granted_pieces.end(),
                       [&](const GrantedPiece& piece) {
                         return piece.slot == slot && piece.period.Overlaps(served);
                       });
  };
  for (const GrantRow& row : rows) {
    if (row.ValidOn(today) && covers(row.capacity)) return row;
  }
  // The served period is made of granted files' days, so some row matches.
  std::abort();
}

// The authorized fields that the request asks for (all of them when it
// names none), in the data type's order.
std::vector<std::string_view> RequestedOf(std::span<const std::string_view> authorized,
                                          const std::optional<std::vector<std::string>>& fields) {
  if (!fields) return {authorized.begin(), authorized.end()};
  std::vector<std::string_view> out;
  for (std::string_view name : authorized) {
    if (std::find(fields->begin(), fields->end(), name) != fields->end()) out.push_back(name);
  }
  return out;
}

// not-authorized: none of the requested fields is among the `authorized`
// ones of the grant's authorization.
Status NoFieldRefusal(const Grant& grant, std::span<const std::string_view> authorized) {
  MessageBuffer names;
  for (std::string_view name : authorized) {
    if (names.size() > 0) fmt::format_to(std::back_inserter(names), ", ");
    AppendQuoted(names, name);
  }
  return NotAuthorized(fmt::format(
      "none of the requested fields of '{}' is authorized to institution '{}' under {} "
      "(capacity '{}'); authorized: {}",
      grant.data_type->id, grant.requester->id, grant.authorization->legal_basis,
      grant.authorization->capacity,
      names.size() == 0 ? std::string("none") : fmt::to_string(names)));
}

// Routing (step 2). Universal availability rows name every institution of
// the type; capacity-bound rows only those holding a file of that capacity
// on the person during the served period. The requester is not excluded:
// when it is itself a source, its own connector answers like any other.
std::vector<const Institution*> ProvidersOf(const DecisionIndexes& indexes,
                                            const DecisionIndexes::PerDataType& per,
                                            const std::vector<Institution>& institutions,
                                            std::span<const Entry> person_entries,
                                            std::string_view niss, const Period& served) {
  std::vector<const Institution*> providers;
  providers.reserve(per.universal_providers.size() +
                    (per.bound_availability.empty() ? 0 : person_entries.size()));
  for (uint32_t provider : per.universal_providers) providers.push_back(&institutions[provider]);
  if (per.bound_availability.empty()) return providers;
  bool added = false;
  for (const Entry& entry : person_entries) {
    for (const DecisionIndexes::BoundAvailability& bound : per.bound_availability) {
      // The capacity first: comparing it is cheaper than the rest, and
      // rules out most entries.
      if (!internal::SameId(bound.capacity, entry.capacity) || !entry.period.Overlaps(served) ||
          !internal::SameId(entry.niss, niss)) {
        continue;
      }
      const uint32_t holder = indexes.institution_ids.Find(entry.institution);
      if (holder == IdIndex::kNotFound) continue;  // left the network since
      if (indexes.type_of_institution[holder] == bound.provider_type) {
        providers.push_back(&institutions[holder]);
        added = true;
        break;
      }
    }
  }
  // Institutions live in one vector in definition order, so ordering the
  // pointers orders the providers.
  if (added) {
    std::sort(providers.begin(), providers.end(), std::less<const Institution*>());
    providers.erase(std::unique(providers.begin(), providers.end()), providers.end());
  }
  return providers;
}

}  // namespace

DecisionEngine::DecisionEngine(std::shared_ptr<const network::Definition> definition)
    : definition_(std::move(definition)), indexes_(BuildIndexes(*definition_)) {}

DecisionEngine::~DecisionEngine() = default;

Result<Grant> DecisionEngine::Decide(const ConsultationRequest& request,
                                     std::span<const Entry> person_entries, Date today) const {
  // The entries have usually just been found in a large directory and are
  // not in the cache; they are read one after another below. Asking for all
  // their cache lines now makes those misses overlap (and overlap with the
  // look-ups that follow) instead of queueing up.
  PrefetchEntries(person_entries);
  const Definition& definition = *definition_;
  const uint32_t requester_index = indexes_->institution_ids.Find(request.requester);
  if (requester_index == IdIndex::kNotFound) {
    return Error(UnknownInstitution(
        fmt::format("'{}' is not an institution of the network", request.requester)));
  }
  const uint32_t data_type_index = indexes_->data_type_ids.Find(request.data_type);
  if (data_type_index == IdIndex::kNotFound) {
    return Error(
        UnknownDataType(fmt::format("'{}' is not a data type of the network", request.data_type)));
  }
  const Institution* requester = &definition.institutions()[requester_index];
  const network::DataType* data_type = &definition.data_types()[data_type_index];
  // What the decision reads next, in tables too large to stay in the cache
  // beside a large directory: fetched now, while the checks below run.
  const std::span<const GrantRow> rows = indexes_->GrantsOf(data_type_index, requester_index);
  const DecisionIndexes::PerDataType& per = indexes_->data_types[data_type_index];
  if (!rows.empty()) {
    __builtin_prefetch(rows.data());
    __builtin_prefetch(indexes_->field_names.data() + rows.front().fields_offset);
  }
  __builtin_prefetch(per.universal_providers.data());
  const Period period = request.period.value_or(Period::Day(today));
  if (period.to && *period.to < period.from) {
    return Error(Period::Make(period.from, period.to).error());
  }
  if (request.fields) {
    CARREFOUR_RETURN_IF_ERROR(CheckRequestedFields(*data_type, *request.fields));
  }

  const uint32_t requester_type = indexes_->type_of_institution[requester_index];
  if (requester_type == UINT32_MAX) std::abort();  // the loader guarantees a type
  const InstitutionType& type = definition.institution_types()[requester_type];
  const CallersFiles callers{*requester, request};

  // One pass over the person's entries: does the requester have any file,
  // any granted file, and which days of the period (and through which
  // capacity) do the granted files cover. Nothing is allocated unless the
  // requester has more than kInlinePieces files on the person: a refusal
  // allocates only its message.
  bool has_entry = false;
  bool has_granted_entry = false;
  InlineBuffer<GrantedPiece, kInlinePieces> granted;
  for (const Entry& entry : person_entries) {
    if (!callers.Holds(entry)) continue;
    has_entry = true;
    const uint32_t slot = SlotOf(type, entry.capacity);
    if (FirstGrant(rows, slot, today) == nullptr) continue;
    has_granted_entry = true;
    if (std::optional<Period> piece = entry.period.Intersect(period)) {
      granted.push_back({*piece, slot});
    }
  }
  if (!has_entry) return Error(NoFileRefusal(callers));
  if (!has_granted_entry) {
    return Error(NoAuthorizationRefusal(callers, *data_type, person_entries, today));
  }

  InlineBuffer<Period, kInlinePieces> pieces;
  for (const GrantedPiece& piece : granted.span()) pieces.push_back(piece.period);
  const std::optional<Period> served = internal::LatestStretch(pieces.span());
  if (!served) {
    return Error(
        NoDayCoveredRefusal(callers, *data_type, person_entries, type, rows, today, period));
  }
  const GrantRow& used = UsedGrant(rows, granted.span(), *served, today);

  Grant grant;
  grant.requester = requester;
  grant.data_type = data_type;
  grant.period = *served;
  grant.authorization = &definition.authorizations()[used.authorization];
  const std::span<const std::string_view> authorized =
      std::span<const std::string_view>(indexes_->field_names)
          .subspan(used.fields_offset, used.fields_count);
  grant.fields = RequestedOf(authorized, request.fields);
  if (grant.fields.empty()) return Error(NoFieldRefusal(grant, authorized));
  grant.providers = ProvidersOf(*indexes_, per, definition.institutions(), person_entries,
                                request.niss, *served);
  return grant;
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
    const uint32_t holder_index = indexes_->institution_ids.Find(entry.institution);
    if (holder_index == IdIndex::kNotFound) continue;  // left the network since
    const uint32_t holder_type = indexes_->type_of_institution[holder_index];
    if (holder_type == UINT32_MAX) continue;
    const uint32_t slot = SlotOf(definition.institution_types()[holder_type], entry.capacity);
    if (slot == kNoSlot ||
        !std::binary_search(per.subscriptions.begin(), per.subscriptions.end(),
                            DecisionIndexes::SubscriptionRow{holder_index, slot})) {
      continue;
    }
    const GrantRow* grant =
        FirstGrant(indexes_->GrantsOf(data_type_index, holder_index), slot, today);
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
  const uint32_t holder = indexes_->institution_ids.Find(institution);
  const uint32_t type = indexes_->data_type_ids.Find(data_type);
  if (holder == IdIndex::kNotFound || type == IdIndex::kNotFound) return false;
  const std::vector<uint32_t>& source_types = indexes_->data_types[type].source_types;
  return std::binary_search(source_types.begin(), source_types.end(),
                            indexes_->type_of_institution[holder]);
}

}  // namespace carrefour::directory
