// SPDX-License-Identifier: EUPL-1.2
#include "network/loader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <sstream>
#include <system_error>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/http_origin.h"
#include "network/internal/validate.h"

namespace carrefour::network {
namespace {

using internal::Contains;
using internal::DataTypeInfo;
using internal::InstitutionInfo;
using internal::IsIdChar;
using internal::Item;
using internal::Join;
using internal::Read;
using internal::Reporter;
using internal::Suggestion;
using internal::TypeInfo;

// A definition names a few thousand elements; anything far beyond that is a
// wrong file (a database dump, a binary), not a network.
constexpr std::uintmax_t kMaxFileBytes = 64u << 20;

// X.509 caps a CommonName at 64 characters (RFC 5280, ub-common-name), and an
// institution id is its certificate's CN.
constexpr size_t kMaxInstitutionIdLength = 64;

// The CN of the hub's own certificate (docs/api.md section 5): an institution
// with this id could pass itself off as the hub to connectors.
constexpr std::string_view kHubId = "hub";

constexpr std::string_view kInstitutionTypeKeys[] = {"id", "capacities"};
constexpr std::string_view kInstitutionKeys[] = {"id", "type", "name", "endpoint"};
constexpr std::string_view kDataTypeKeys[] = {"id", "fields", "research_fields", "quasi_identifiers"};

// The parameters a connector binds for every change it applies (docs/connector.md);
// a data type's fields are bound beside them by name, so may not take them.
constexpr std::string_view kConnectorParameters[] = {"niss",      "id",        "source", "data_type",
                                                     "cursor",    "effective", "data"};


bool IsConnectorParameter(std::string_view field) {
  return std::find(std::begin(kConnectorParameters), std::end(kConnectorParameters), field) !=
         std::end(kConnectorParameters);
}
constexpr std::string_view kAvailabilityKeys[] = {"data_type", "provider_type", "capacity"};
constexpr std::string_view kAuthorizationKeys[] = {"data_type", "requester",   "requester_type",
                                                   "capacity",  "fields",      "legal_basis",
                                                   "from",      "to"};
constexpr std::string_view kSubscriptionKeys[] = {"institution", "institution_type", "data_type",
                                                  "capacity"};
constexpr std::string_view kQuotaKeys[] = {"institution", "institution_type",
                                           "requests_per_second", "burst"};
constexpr std::string_view kResearchProjectKeys[] = {
    "id", "title", "requester", "legal_basis", "from", "to", "period", "k", "max_suppression",
    "cohort", "data", "quasi_identifier"};
constexpr std::string_view kPeriodKeys[] = {"from", "to"};
constexpr std::string_view kCohortKeys[] = {"institution", "institution_type", "capacity",
                                            "from",        "to",               "supplied_by"};
constexpr std::string_view kResearchDataKeys[] = {"data_type", "fields"};
constexpr std::string_view kQuasiIdentifierKeys[] = {"data_type", "field", "coarsen",
                                                     "width",     "map",   "default"};
constexpr std::string_view kCoarsenings[] = {"keep",     "month",  "year", "decade",
                                             "province", "region", "band", "map"};
constexpr std::string_view kSections[] = {"institution_type", "institution",   "data_type",
                                          "availability",     "authorization", "subscription",
                                          "research_project", "bis_register",
                                          "bis_authorization", "transparency_access", "quota"};
// The hub's BIS register (docs/bis.md): [bis_register] names the institution
// that stands for it; [[bis_authorization]] says who may write to it.
constexpr std::string_view kBisRegisterKeys[] = {"institution"};
constexpr std::string_view kBisAuthorizationKeys[] = {"requester", "requester_type", "legal_basis",
                                                      "from", "to"};
// Who may read a citizen's transparency view (docs/api.md 4.6).
constexpr std::string_view kTransparencyAccessKeys[] = {"requester", "requester_type",
                                                        "legal_basis", "from", "to"};
// The data type the BIS register answers for BIS numbers (docs/api.md 4.4).
constexpr std::string_view kPersonIdentity = "person.identity";

int LineOf(const toml::node& node) { return static_cast<int>(node.source().begin.line); }
int LineOf(const toml::key& key) { return static_cast<int>(key.source().begin.line); }

std::string_view Describe(toml::node_type type) {
  switch (type) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
  }
  return "an unknown value";
}


enum class Presence { kRequired, kOptional };

// Reads the keys of one element ([[institution]], ...) and reports what is
// wrong with them, unknown keys included (at construction).
class ElementReader {
 public:
  ElementReader(const toml::table& table, std::string_view section,
                std::span<const std::string_view> allowed, Reporter& reporter)
      : ElementReader(table, Where{fmt::format("[[{}]]", section)}, allowed, reporter) {}

  // A table inside an element (a research project's cohort), named in
  // messages as `where` says ("[research_project.cohort]").
  struct Where {
    std::string text;
  };
  ElementReader(const toml::table& table, Where where, std::span<const std::string_view> allowed,
                Reporter& reporter)
      : table_(table), where_(std::move(where.text)), reporter_(reporter) {
    for (auto&& [key, value] : table) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
      reporter_.Error(LineOf(key), fmt::format("unknown key '{}' in {} (allowed keys: {}){}",
                                               key.str(), where_, Join(allowed),
                                               Suggestion(key.str(), allowed)));
    }
  }

  int line() const { return LineOf(table_); }
  const std::string& where() const { return where_; }
  const toml::table& table() const { return table_; }
  bool Has(std::string_view key) const { return table_.get(key) != nullptr; }

  // A non-empty string.
  Read<std::string> String(std::string_view key, Presence presence) {
    Read<std::string> out = Start<std::string>(key, presence);
    const toml::node* node = table_.get(key);
    if (node == nullptr) return out;
    const auto* text = node->as_string();
    if (text == nullptr) {
      WrongType(key, *node, "a string");
    } else if (text->get().empty()) {
      reporter_.Error(out.line, fmt::format("'{}' in {} is empty", key, where_));
    } else {
      out.value = text->get();
    }
    return out;
  }

  // An array of strings, each listed once. Emptiness is the caller's call.
  Read<std::vector<Item>> StringList(std::string_view key, Presence presence) {
    Read<std::vector<Item>> out = Start<std::vector<Item>>(key, presence);
    const toml::node* node = table_.get(key);
    if (node == nullptr) return out;
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      WrongType(key, *node, "an array of strings");
      return out;
    }
    std::vector<Item> items;
    bool ok = true;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = *array->get(i);
      const auto* text = element.as_string();
      if (text == nullptr) {
        reporter_.Error(LineOf(element),
                        fmt::format("'{}' in {} must be an array of strings, but element {} is {}",
                                    key, where_, i + 1, Describe(element.type())));
        ok = false;
        continue;
      }
      const std::string& value = text->get();
      auto previous = std::find_if(items.begin(), items.end(),
                                   [&](const Item& item) { return item.value == value; });
      if (previous != items.end()) {
        reporter_.Error(LineOf(element),
                        fmt::format("'{}' is listed twice in '{}' in {}", value, key, where_));
        ok = false;
        continue;
      }
      items.push_back(Item{value, LineOf(element)});
    }
    if (ok) out.value = std::move(items);
    return out;
  }

  // A TOML local date (`from = 2020-01-01`) or the same as a "YYYY-MM-DD"
  // string, which some generators of TOML can only write.
  Read<Date> DateValue(std::string_view key, Presence presence) {
    Read<Date> out = Start<Date>(key, presence);
    const toml::node* node = table_.get(key);
    if (node == nullptr) return out;
    if (const auto* date = node->as_date()) {
      const toml::date& d = date->get();
      out.value = Date::FromCivil(d.year, d.month, d.day);
      if (!out.value) {
        reporter_.Error(out.line, fmt::format("'{}' in {}: {:04}-{:02}-{:02} is outside the years "
                                              "0001-9999",
                                              key, where_, d.year, d.month, d.day));
      }
    } else if (const auto* text = node->as_string()) {
      Result<Date> parsed = Date::Parse(text->get());
      if (parsed) {
        out.value = *parsed;
      } else {
        reporter_.Error(out.line,
                        fmt::format("'{}' in {}: {}", key, where_, parsed.error().message()));
      }
    } else {
      WrongType(key, *node, "a date (2020-01-01)");
    }
    return out;
  }

  // An integer in [min, max].
  Read<int64_t> Integer(std::string_view key, Presence presence, int64_t min, int64_t max) {
    Read<int64_t> out = Start<int64_t>(key, presence);
    const toml::node* node = table_.get(key);
    if (node == nullptr) return out;
    const auto* number = node->as_integer();
    if (number == nullptr) {
      WrongType(key, *node, "an integer");
    } else if (number->get() < min || number->get() > max) {
      reporter_.Error(out.line, fmt::format("'{}' in {} must be between {} and {}, not {}", key,
                                            where_, min, max, number->get()));
    } else {
      out.value = number->get();
    }
    return out;
  }

  // A table (inline or not) under `key`; nullptr when absent or not a table
  // (reported).
  const toml::table* Table(std::string_view key, Presence presence) {
    (void)Start<int>(key, presence);  // reports a missing required key
    const toml::node* node = table_.get(key);
    if (node == nullptr) return nullptr;
    const toml::table* table = node->as_table();
    if (table == nullptr) WrongType(key, *node, "a table");
    return table;
  }

  // An array of tables ([[x.key]] or key = [{...}]): each table in order;
  // nullopt when absent or malformed (reported).
  std::optional<std::vector<const toml::table*>> Tables(std::string_view key, Presence presence) {
    (void)Start<int>(key, presence);  // reports a missing required key
    const toml::node* node = table_.get(key);
    if (node == nullptr) return std::nullopt;
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      WrongType(key, *node, "an array of tables");
      return std::nullopt;
    }
    std::vector<const toml::table*> tables;
    for (const toml::node& element : *array) {
      const toml::table* table = element.as_table();
      if (table == nullptr) {
        reporter_.Error(LineOf(element), fmt::format("each element of '{}' in {} must be a table, "
                                                     "not {}",
                                                     key, where_, Describe(element.type())));
        return std::nullopt;
      }
      tables.push_back(table);
    }
    return tables;
  }

 private:
  template <typename T>
  Read<T> Start(std::string_view key, Presence presence) {
    Read<T> out;
    const toml::node* node = table_.get(key);
    out.present = node != nullptr;
    out.line = node != nullptr ? LineOf(*node) : line();
    if (node == nullptr && presence == Presence::kRequired) {
      reporter_.Error(line(), fmt::format("{} is missing required key '{}'", where_, key));
    }
    return out;
  }

  void WrongType(std::string_view key, const toml::node& node, std::string_view expected) {
    reporter_.Error(LineOf(node), fmt::format("'{}' in {} must be {}, not {}", key, where_, expected,
                                              Describe(node.type())));
  }

  const toml::table& table_;
  std::string where_;
  Reporter& reporter_;
};


bool IsFieldChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// --- the definition ---------------------------------------------------------

// Reads the sections in dependency order (types and data types before what
// refers to them) whatever their order in the file, so that every reference
// is checked against complete indexes.
class Builder {
 public:
  explicit Builder(std::string source) : reporter_(std::move(source)) {}

  tl::expected<Definition, Diagnostics> Build(const toml::table& root) {
    for (auto&& [key, value] : root) {
      if (std::find(std::begin(kSections), std::end(kSections), key.str()) != std::end(kSections))
        continue;
      reporter_.Error(LineOf(key), fmt::format("unknown key '{}' at the top level (allowed keys: "
                                               "{}){}",
                                               key.str(), Join(kSections),
                                               Suggestion(key.str(), kSections)));
    }
    ForEachElement(root, "institution_type", kInstitutionTypeKeys,
                   [this](ElementReader& r) { ReadInstitutionType(r); });
    ForEachElement(root, "data_type", kDataTypeKeys, [this](ElementReader& r) { ReadDataType(r); });
    ForEachElement(root, "institution", kInstitutionKeys,
                   [this](ElementReader& r) { ReadInstitution(r); });
    ForEachElement(root, "availability", kAvailabilityKeys,
                   [this](ElementReader& r) { ReadAvailability(r); });
    ForEachElement(root, "authorization", kAuthorizationKeys,
                   [this](ElementReader& r) { ReadAuthorization(r); });
    ForEachElement(root, "subscription", kSubscriptionKeys,
                   [this](ElementReader& r) { ReadSubscription(r); });
    ForEachElement(root, "research_project", kResearchProjectKeys,
                   [this](ElementReader& r) { ReadResearchProject(r); });
    ReadBisRegister(root);
    ForEachElement(root, "bis_authorization", kBisAuthorizationKeys,
                   [this](ElementReader& r) { ReadBisAuthorization(r); });
    ForEachElement(root, "transparency_access", kTransparencyAccessKeys,
                   [this](ElementReader& r) { ReadTransparencyAccess(r); });
    ForEachElement(root, "quota", kQuotaKeys, [this](ElementReader& r) { ReadQuota(r); });
    validator_.CheckProvidersHaveEndpoints();
    validator_.CheckSubscriptionsCanDeliver();

    if (!reporter_.empty()) return tl::unexpected(std::move(reporter_).Take());
    return Definition(reporter_.source(), std::move(lists_));
  }

 private:
  template <typename Fn>
  void ForEachElement(const toml::table& root, std::string_view section,
                      std::span<const std::string_view> keys, Fn read) {
    const toml::node* node = root.get(section);
    if (node == nullptr) return;
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      reporter_.Error(LineOf(*node),
                      node->is_table()
                          ? fmt::format("'{0}' must be an array of tables: write [[{0}]], not [{0}]",
                                        section)
                          : fmt::format("'{0}' must be an array of tables ([[{0}]]), not {1}",
                                        section, Describe(node->type())));
      return;
    }
    for (const toml::node& element : *array) {
      const toml::table* table = element.as_table();
      if (table == nullptr) {
        reporter_.Error(LineOf(element),
                        fmt::format("each element of '{}' must be a table, not {}", section,
                                    Describe(element.type())));
        continue;
      }
      ElementReader reader(*table, section, keys, reporter_);
      read(reader);
    }
  }

  // Exactly one of two keys (requester / requester_type, ...).
  bool CheckExactlyOne(ElementReader& r, std::string_view a, std::string_view b) {
    bool has_a = r.Has(a), has_b = r.Has(b);
    if (has_a != has_b) return true;
    reporter_.Error(r.line(), has_a ? fmt::format("{} has both '{}' and '{}': give exactly one",
                                                  r.where(), a, b)
                                    : fmt::format("{} needs '{}' or '{}' (exactly one)", r.where(),
                                                  a, b));
    return false;
  }

  void ReadInstitutionType(ElementReader& r) {
    InstitutionType type;
    type.line = r.line();
    Read<std::string> id = r.String("id", Presence::kRequired);
    Read<std::vector<Item>> capacities = r.StringList("capacities", Presence::kOptional);
    bool capacities_ok = !capacities.present || capacities;
    if (capacities) {
      for (const Item& capacity : *capacities) {
        if (capacity.value.empty()) {
          reporter_.Error(capacity.line, "capacity is empty");
          capacities_ok = false;
        } else if (!std::all_of(capacity.value.begin(), capacity.value.end(), IsIdChar)) {
          reporter_.Error(capacity.line,
                          fmt::format("capacity '{}' may only use a-z, 0-9, '.', '_' and '-'",
                                      capacity.value));
          capacities_ok = false;
        }
        type.capacities.push_back(capacity.value);
      }
    }
    if (!id || !validator_.CheckId("institution type", *id, id.line)) return;
    type.id = *id;
    if (auto it = type_info_.find(type.id); it != type_info_.end()) {
      reporter_.Error(id.line, fmt::format("duplicate institution type id '{}' (first defined at "
                                           "line {})",
                                           type.id, it->second.line));
      return;
    }
    type_info_.emplace(type.id,
                       TypeInfo{lists_.institution_types.size(), type.line, capacities_ok});
    lists_.institution_types.push_back(std::move(type));
  }

  // `research_fields` (what a research extract may carry) and
  // `quasi_identifiers` (among those, what must be coarsened by a declared
  // rule): each a field of the type, listed once; never a direct identifier.
  bool ReadResearchClassification(ElementReader& r, DataType& data_type) {
    bool ok = true;
    Read<std::vector<Item>> allowed = r.StringList("research_fields", Presence::kOptional);
    Read<std::vector<Item>> quasi = r.StringList("quasi_identifiers", Presence::kOptional);
    if (allowed.present && !allowed) return false;
    if (quasi.present && !quasi) return false;
    auto check = [&](const Item& field, std::string_view key, const std::vector<std::string>& seen) {
      if (!data_type.HasField(field.value)) {
        reporter_.Error(field.line, fmt::format("'{}' in '{}' of data type '{}' is not one of its "
                                                "fields ({}){}",
                                                field.value, key, data_type.id, Join(data_type.fields),
                                                Suggestion(field.value, data_type.fields)));
        return false;
      }
      if (Contains(seen, field.value)) {
        reporter_.Error(field.line, fmt::format("'{}' is listed twice in '{}' in [[data_type]]",
                                                field.value, key));
        return false;
      }
      return true;
    };
    if (allowed) {
      for (const Item& field : *allowed) {
        if (!check(field, "research_fields", data_type.research_fields)) {
          ok = false;
        } else if (IsDirectIdentifierField(field.value)) {
          reporter_.Error(field.line, fmt::format("'{}' of '{}' is a direct identifier: it cannot "
                                                  "be in 'research_fields' (a research extract "
                                                  "never carries it)",
                                                  field.value, data_type.id));
          ok = false;
        } else {
          data_type.research_fields.push_back(field.value);
        }
      }
    }
    if (quasi) {
      for (const Item& field : *quasi) {
        if (!check(field, "quasi_identifiers", data_type.quasi_identifiers)) {
          ok = false;
        } else {
          data_type.quasi_identifiers.push_back(field.value);
        }
      }
    }
    return ok;
  }

  void ReadDataType(ElementReader& r) {
    DataType data_type;
    data_type.line = r.line();
    Read<std::string> id = r.String("id", Presence::kRequired);
    Read<std::vector<Item>> fields = r.StringList("fields", Presence::kRequired);
    bool fields_ok = static_cast<bool>(fields);
    if (fields && fields->empty()) {
      reporter_.Error(fields.line, "'fields' in [[data_type]] is empty: a data type has at least "
                                   "one field");
      fields_ok = false;
    }
    if (fields) {
      for (const Item& field : *fields) {
        if (field.value.empty()) {
          reporter_.Error(field.line, "field name is empty");
          fields_ok = false;
        } else if (!std::all_of(field.value.begin(), field.value.end(), IsFieldChar)) {
          reporter_.Error(field.line,
                          fmt::format("field '{}' may only use letters, digits and '_' (fields "
                                      "are JSON keys and connector columns)",
                                      field.value));
          fields_ok = false;
        } else if (IsConnectorParameter(field.value)) {
          // A connector binds a change's fields by name beside these: a field
          // called `niss` would let a source choose the row that subscribers'
          // statements write (another person's).
          reporter_.Error(field.line,
                          fmt::format("field '{}' is a name that connectors bind themselves "
                                      "(niss, id, source, data_type, cursor, effective, data): "
                                      "choose another name",
                                      field.value));
          fields_ok = false;
        }
        data_type.fields.push_back(field.value);
      }
    }
    if (!id || !validator_.CheckId("data type", *id, id.line)) return;
    data_type.id = *id;
    if (fields_ok && !ReadResearchClassification(r, data_type)) fields_ok = false;
    if (auto it = data_type_info_.find(data_type.id); it != data_type_info_.end()) {
      reporter_.Error(id.line, fmt::format("duplicate data type id '{}' (first defined at line {})",
                                           data_type.id, it->second.line));
      return;
    }
    data_type_info_.emplace(data_type.id,
                            DataTypeInfo{lists_.data_types.size(), data_type.line, fields_ok});
    lists_.data_types.push_back(std::move(data_type));
  }

  void ReadInstitution(ElementReader& r) {
    Institution institution;
    institution.line = r.line();
    Read<std::string> id = r.String("id", Presence::kRequired);
    Read<std::string> type = r.String("type", Presence::kRequired);
    Read<std::string> name = r.String("name", Presence::kOptional);
    Read<std::string> endpoint = r.String("endpoint", Presence::kOptional);

    bool type_known = validator_.CheckTypeReference(type, "type", r.where());
    if (type) institution.type = *type;
    if (endpoint) {
      tl::expected<HttpOrigin, std::string> parsed = ParseHttpOrigin(*endpoint, {});
      if (parsed) {
        institution.endpoint = parsed->normalized;
        institution.endpoint_host = parsed->host;
        institution.endpoint_port = parsed->port;
      } else {
        reporter_.Error(endpoint.line, fmt::format("endpoint '{}' {}", *endpoint, parsed.error()));
      }
    }

    if (!id) return;
    bool id_ok = validator_.CheckId("institution", *id, id.line);
    if (id_ok && id->size() > kMaxInstitutionIdLength) {
      reporter_.Error(id.line, fmt::format("institution id '{}' is longer than {} characters (it "
                                           "is the CN of the institution's certificate)",
                                           *id, kMaxInstitutionIdLength));
      id_ok = false;
    }
    if (id_ok && *id == kHubId) {
      reporter_.Error(id.line, "institution id 'hub' is reserved for the hub's own certificate "
                               "(CN=hub); choose another id");
      id_ok = false;
    }
    if (!id_ok) return;
    institution.id = *id;
    institution.name = name ? *name : institution.id;
    if (auto it = institution_info_.find(institution.id); it != institution_info_.end()) {
      reporter_.Error(id.line, fmt::format("duplicate institution id '{}' (first defined at line {})",
                                           institution.id, it->second.line));
      return;
    }
    institution_info_.emplace(
        institution.id, InstitutionInfo{lists_.institutions.size(), institution.line, type_known,
                                        endpoint.present});
    lists_.institutions.push_back(std::move(institution));
  }

  void ReadAvailability(ElementReader& r) {
    Availability availability;
    availability.line = r.line();
    Read<std::string> data_type = r.String("data_type", Presence::kRequired);
    Read<std::string> provider_type = r.String("provider_type", Presence::kRequired);
    Read<std::string> capacity = r.String("capacity", Presence::kOptional);

    bool data_type_ok = validator_.CheckDataTypeReference(data_type, r.where());
    bool provider_ok = validator_.CheckTypeReference(provider_type, "provider_type", r.where());
    bool capacity_ok = capacity ? !provider_ok || validator_.CheckCapacity(*capacity, capacity.line,
                                                               *provider_type,
                                                               fmt::format("provider type '{}'",
                                                                           *provider_type))
                                : !capacity.present;
    if (!data_type_ok || !provider_ok || !capacity_ok) return;
    availability.data_type = *data_type;
    availability.provider_type = *provider_type;
    if (capacity) availability.capacity = *capacity;

    std::string key = fmt::format("{}\n{}\n{}", availability.data_type, availability.provider_type,
                                  availability.capacity.value_or(""));
    auto [it, inserted] = availability_lines_.emplace(std::move(key), availability.line);
    if (!inserted) {
      reporter_.Error(availability.line,
                      fmt::format("duplicate availability of '{}' at provider type '{}'{} (first "
                                  "at line {})",
                                  availability.data_type, availability.provider_type,
                                  capacity ? fmt::format(" for capacity '{}'", *capacity) : "",
                                  it->second));
      return;
    }
    lists_.availability.push_back(std::move(availability));
  }

  void ReadAuthorization(ElementReader& r) {
    Authorization authorization;
    authorization.line = r.line();
    Read<std::string> data_type = r.String("data_type", Presence::kRequired);
    Read<std::string> requester = r.String("requester", Presence::kOptional);
    Read<std::string> requester_type = r.String("requester_type", Presence::kOptional);
    Read<std::string> capacity = r.String("capacity", Presence::kRequired);
    Read<std::vector<Item>> fields = r.StringList("fields", Presence::kOptional);
    Read<std::string> legal_basis = r.String("legal_basis", Presence::kRequired);
    Read<Date> from = r.DateValue("from", Presence::kRequired);
    Read<Date> to = r.DateValue("to", Presence::kOptional);
    CheckExactlyOne(r, "requester", "requester_type");

    // The type whose capacities bound `capacity`: the requester type, or the
    // type of the requester institution.
    std::string capacity_type;
    std::string whose;
    if (validator_.CheckInstitutionReference(requester, "requester", r.where())) {
      const InstitutionInfo& info = institution_info_.at(*requester);
      if (info.type_known) {
        capacity_type = lists_.institutions[info.index].type;
        whose = fmt::format("institution type '{}' of requester '{}'", capacity_type, *requester);
      }
    }
    if (validator_.CheckTypeReference(requester_type, "requester_type", r.where())) {
      capacity_type = *requester_type;
      whose = fmt::format("requester type '{}'", capacity_type);
    }
    if (capacity && !capacity_type.empty() && !(requester && requester_type)) {
      validator_.CheckCapacity(*capacity, capacity.line, capacity_type, whose);
    }

    const DataType* type = nullptr;
    bool fields_known = false;
    if (validator_.CheckDataTypeReference(data_type, r.where())) {
      const DataTypeInfo& info = data_type_info_.at(*data_type);
      type = &lists_.data_types[info.index];
      fields_known = info.fields_known;
    }
    if (fields && fields->empty()) {
      reporter_.Error(fields.line, "'fields' in [[authorization]] is empty: list the granted "
                                   "fields, or omit the key to grant all the data type's fields");
    } else if (fields && fields_known) {
      for (const Item& field : *fields) {
        if (type->HasField(field.value)) continue;
        reporter_.Error(field.line, fmt::format("'{}' is not a field of data type '{}' (its "
                                                "fields: {}){}",
                                                field.value, type->id, Join(type->fields),
                                                Suggestion(field.value, type->fields)));
      }
    }

    if (from && to && *to < *from) {
      reporter_.Error(to.line, fmt::format("'to' ({}) is before 'from' ({}) in [[authorization]]",
                                           to->ToString(), from->ToString()));
    }

    if (data_type) authorization.data_type = *data_type;
    if (requester) authorization.requester = *requester;
    if (requester_type) authorization.requester_type = *requester_type;
    if (capacity) authorization.capacity = *capacity;
    if (fields) {
      for (const Item& field : *fields) authorization.fields.push_back(field.value);
    } else if (type != nullptr) {
      authorization.fields = type->fields;  // absent: the whole data type
    }
    if (legal_basis) authorization.legal_basis = *legal_basis;
    if (from) authorization.validity = Period{*from, to.value};
    lists_.authorizations.push_back(std::move(authorization));
  }

  void ReadSubscription(ElementReader& r) {
    Subscription subscription;
    subscription.line = r.line();
    Read<std::string> institution = r.String("institution", Presence::kOptional);
    Read<std::string> institution_type = r.String("institution_type", Presence::kOptional);
    Read<std::string> data_type = r.String("data_type", Presence::kRequired);
    Read<std::string> capacity = r.String("capacity", Presence::kRequired);
    bool who_ok = CheckExactlyOne(r, "institution", "institution_type");

    std::string capacity_type;
    std::string whose;
    bool institution_ok = validator_.CheckInstitutionReference(institution, "institution", r.where());
    if (institution_ok) {
      const InstitutionInfo& info = institution_info_.at(*institution);
      if (info.type_known) {
        capacity_type = lists_.institutions[info.index].type;
        whose = fmt::format("institution type '{}' of institution '{}'", capacity_type,
                            *institution);
      }
    }
    bool type_ok = validator_.CheckTypeReference(institution_type, "institution_type", r.where());
    if (type_ok) {
      capacity_type = *institution_type;
      whose = fmt::format("institution type '{}'", capacity_type);
    }
    bool capacity_ok = static_cast<bool>(capacity);
    if (who_ok && capacity && !capacity_type.empty()) {
      capacity_ok = validator_.CheckCapacity(*capacity, capacity.line, capacity_type, whose);
    }
    bool data_type_ok = validator_.CheckDataTypeReference(data_type, r.where());

    if (!who_ok || !(institution_ok || type_ok) || !data_type_ok || !capacity_ok) return;
    subscription.institution = institution ? *institution : "";
    subscription.institution_type = institution_type ? *institution_type : "";
    subscription.data_type = *data_type;
    subscription.capacity = *capacity;
    std::string key = fmt::format("{}\n{}\n{}\n{}", subscription.institution,
                                  subscription.institution_type, subscription.data_type,
                                  subscription.capacity);
    auto [it, inserted] = subscription_lines_.emplace(std::move(key), subscription.line);
    if (!inserted) {
      reporter_.Error(subscription.line,
                      fmt::format("duplicate subscription of {} '{}' to '{}' for capacity '{}' "
                                  "(first at line {})",
                                  institution ? "institution" : "institution type",
                                  institution ? *institution : *institution_type,
                                  subscription.data_type, subscription.capacity, it->second));
      return;
    }
    lists_.subscriptions.push_back(std::move(subscription));
  }

  // --- quotas (docs/api.md section 3) -------------------------------------------

  void ReadQuota(ElementReader& r) {
    Quota quota;
    quota.line = r.line();
    Read<std::string> institution = r.String("institution", Presence::kOptional);
    Read<std::string> institution_type = r.String("institution_type", Presence::kOptional);
    // A million a second is beyond any one hub: a larger figure is a typo.
    Read<int64_t> rate = r.Integer("requests_per_second", Presence::kRequired, 1, 1'000'000);
    Read<int64_t> burst = r.Integer("burst", Presence::kOptional, 1, 10'000'000);
    bool who_ok = CheckExactlyOne(r, "institution", "institution_type");
    bool institution_ok = validator_.CheckInstitutionReference(institution, "institution", r.where());
    bool type_ok = validator_.CheckTypeReference(institution_type, "institution_type", r.where());
    if (!who_ok || !(institution_ok || type_ok) || !rate) return;
    if (burst.present && !burst) return;
    quota.institution = institution ? *institution : "";
    quota.institution_type = institution_type ? *institution_type : "";
    quota.requests_per_second = *rate;
    quota.burst = burst ? *burst : *rate;
    std::string key = fmt::format("{}\n{}", quota.institution, quota.institution_type);
    auto [it, inserted] = quota_lines_.emplace(std::move(key), quota.line);
    if (!inserted) {
      reporter_.Error(quota.line,
                      fmt::format("duplicate quota for {} '{}' (first at line {})",
                                  institution ? "institution" : "institution type",
                                  institution ? *institution : *institution_type, it->second));
      return;
    }
    lists_.quotas.push_back(std::move(quota));
  }

  // --- research projects (docs/research.md) ---------------------------------

  // A period written as a table { from = d, to = d }: `from` required, `to`
  // optional. nullopt when it is absent or wrong (reported).
  std::optional<Period> ReadPeriodTable(const toml::table& table, std::string where) {
    ElementReader r(table, ElementReader::Where{std::move(where)}, kPeriodKeys, reporter_);
    Read<Date> from = r.DateValue("from", Presence::kRequired);
    Read<Date> to = r.DateValue("to", Presence::kOptional);
    if (!from || (to.present && !to)) return std::nullopt;
    if (to && *to < *from) {
      reporter_.Error(to.line, fmt::format("'to' ({}) is before 'from' ({}) in {}", to->ToString(),
                                           from->ToString(), r.where()));
      return std::nullopt;
    }
    return Period{*from, to.value};
  }

  void ReadResearchProject(ElementReader& r) {
    ResearchProject project;
    project.line = r.line();
    Read<std::string> id = r.String("id", Presence::kRequired);
    Read<std::string> title = r.String("title", Presence::kOptional);
    Read<std::string> requester = r.String("requester", Presence::kRequired);
    Read<std::string> legal_basis = r.String("legal_basis", Presence::kRequired);
    Read<Date> from = r.DateValue("from", Presence::kRequired);
    Read<Date> to = r.DateValue("to", Presence::kOptional);
    Read<int64_t> k = r.Integer("k", Presence::kOptional, 2, 1'000'000);
    Read<int64_t> max_suppression = r.Integer("max_suppression", Presence::kOptional, 0, 100);
    const toml::table* period_table = r.Table("period", Presence::kRequired);
    const toml::table* cohort_table = r.Table("cohort", Presence::kRequired);
    std::optional<std::vector<const toml::table*>> data_tables = r.Tables("data", Presence::kRequired);
    std::optional<std::vector<const toml::table*>> qi_tables =
        r.Tables("quasi_identifier", Presence::kOptional);

    bool ok = static_cast<bool>(id) && validator_.CheckId("research project", *id, id.line);
    if (ok) {
      project.id = *id;
      for (const ResearchProject& other : lists_.research_projects) {
        if (other.id != project.id) continue;
        reporter_.Error(id.line, fmt::format("duplicate research project id '{}' (first defined "
                                             "at line {})",
                                             project.id, other.line));
        ok = false;
      }
    }
    const std::string where =
        ok ? fmt::format("[[research_project]] '{}'", project.id) : std::string("[[research_project]]");
    ok = validator_.CheckInstitutionReference(requester, "requester", where) && ok;
    if (from && to && *to < *from) {
      reporter_.Error(to.line, fmt::format("'to' ({}) is before 'from' ({}) in {}", to->ToString(),
                                           from->ToString(), where));
      ok = false;
    }
    ok = ok && title.present == static_cast<bool>(title) && legal_basis && from &&
         (!to.present || to) && (!k.present || k) &&
         (!max_suppression.present || max_suppression);

    std::optional<Period> period;
    if (period_table != nullptr) period = ReadPeriodTable(*period_table, "'period' in " + where);
    ok = ok && period.has_value();
    if (period) project.period = *period;

    if (cohort_table == nullptr || !ReadCohort(*cohort_table, where, project)) ok = false;
    if (!data_tables || !ReadResearchData(*data_tables, r.line(), where, project)) ok = false;
    if (qi_tables && !ReadQuasiIdentifiers(*qi_tables, where, project)) ok = false;
    if (qi_tables.has_value() != r.table().contains("quasi_identifier")) ok = false;
    if (ok && !validator_.CheckQuasiIdentifiersDeclared(where, project)) ok = false;
    if (!ok) return;

    if (title) project.title = *title;
    project.requester = *requester;
    project.legal_basis = *legal_basis;
    project.validity = Period{*from, to.value};
    if (k) project.k = *k;
    if (max_suppression) project.max_suppression = *max_suppression;
    lists_.research_projects.push_back(std::move(project));
  }

  bool ReadCohort(const toml::table& table, const std::string& project_where,
                  ResearchProject& project) {
    ElementReader r(table, ElementReader::Where{"the cohort of " + project_where}, kCohortKeys,
                    reporter_);
    ResearchCohort& cohort = project.cohort;
    cohort.line = r.line();
    Read<std::string> institution = r.String("institution", Presence::kOptional);
    Read<std::string> institution_type = r.String("institution_type", Presence::kOptional);
    Read<std::string> supplied_by = r.String("supplied_by", Presence::kOptional);
    int given = r.Has("institution") + r.Has("institution_type") + r.Has("supplied_by");
    if (given != 1) {
      reporter_.Error(r.line(), fmt::format("{} needs exactly one of 'institution', "
                                            "'institution_type' (persons with a file there) and "
                                            "'supplied_by' (a list of numbers that institution "
                                            "hands in)",
                                            r.where()));
      return false;
    }
    if (supplied_by) {
      for (std::string_view key : {"capacity", "from", "to"}) {
        if (!r.Has(key)) continue;
        reporter_.Error(LineOf(*table.get(key)),
                        fmt::format("'{}' in {}: a supplied list is taken as it is (give "
                                    "'institution' or 'institution_type' to select from the "
                                    "person directory)",
                                    key, r.where()));
        return false;
      }
      if (!validator_.CheckInstitutionReference(supplied_by, "supplied_by", r.where())) return false;
      cohort.supplied_by = *supplied_by;
      return true;
    }
    if (supplied_by.present) return false;  // malformed: reported
    Read<std::string> capacity = r.String("capacity", Presence::kRequired);
    Read<Date> from = r.DateValue("from", Presence::kOptional);
    Read<Date> to = r.DateValue("to", Presence::kOptional);
    std::string capacity_type, whose;
    bool ok = true;
    if (institution.present) {
      ok = validator_.CheckInstitutionReference(institution, "institution", r.where());
      if (ok) {
        const InstitutionInfo& info = institution_info_.at(*institution);
        if (info.type_known) {
          capacity_type = lists_.institutions[info.index].type;
          whose = fmt::format("institution type '{}' of institution '{}'", capacity_type,
                              *institution);
        }
      }
    } else {
      ok = validator_.CheckTypeReference(institution_type, "institution_type", r.where());
      if (ok) {
        capacity_type = *institution_type;
        whose = fmt::format("institution type '{}'", capacity_type);
      }
    }
    if (!capacity) return false;
    if (!capacity_type.empty() && !validator_.CheckCapacity(*capacity, capacity.line, capacity_type, whose)) {
      return false;
    }
    if ((from.present && !from) || (to.present && !to)) return false;
    // Each end the cohort does not give is the project period's: by default
    // the files must overlap the period the data is asked for.
    cohort.period = project.period;
    if (from) cohort.period.from = *from;
    if (to) cohort.period.to = *to;
    if (cohort.period.to && *cohort.period.to < cohort.period.from) {
      reporter_.Error(to ? to.line : from.line,
                      fmt::format("the cohort's period {} ends before it starts in {}",
                                  cohort.period.ToString(), r.where()));
      return false;
    }
    if (!ok) return false;
    if (institution) cohort.institution = *institution;
    if (institution_type) cohort.institution_type = *institution_type;
    cohort.capacity = *capacity;
    return true;
  }

  bool ReadResearchData(const std::vector<const toml::table*>& tables, int line,
                        const std::string& project_where, ResearchProject& project) {
    if (tables.empty()) {
      reporter_.Error(line, fmt::format("'data' in {} is empty: ask for at least one data type",
                                        project_where));
      return false;
    }
    bool ok = true;
    for (const toml::table* table : tables) {
      ElementReader r(*table, ElementReader::Where{"the data of " + project_where},
                      kResearchDataKeys, reporter_);
      ResearchData data;
      data.line = r.line();
      Read<std::string> data_type = r.String("data_type", Presence::kRequired);
      Read<std::vector<Item>> fields = r.StringList("fields", Presence::kRequired);
      const DataType* type = nullptr;
      if (validator_.CheckDataTypeReference(data_type, r.where())) {
        const DataTypeInfo& info = data_type_info_.at(*data_type);
        if (info.fields_known) type = &lists_.data_types[info.index];
      }
      if (!type || !fields) {
        ok = false;
        continue;
      }
      data.data_type = type->id;
      if (fields->empty()) {
        reporter_.Error(fields.line, fmt::format("'fields' in {} is empty: list the fields the "
                                                 "project needs",
                                                 r.where()));
        ok = false;
      }
      for (const Item& field : *fields) {
        if (!type->HasField(field.value)) {
          reporter_.Error(field.line, fmt::format("'{}' is not a field of data type '{}' (its "
                                                  "fields: {}){}",
                                                  field.value, type->id, Join(type->fields),
                                                  Suggestion(field.value, type->fields)));
          ok = false;
        } else if (IsDirectIdentifierField(field.value)) {
          reporter_.Error(field.line, fmt::format("'{}' of '{}' is a direct identifier: a "
                                                  "research extract never carries it",
                                                  field.value, type->id));
          ok = false;
        } else if (!Contains(type->research_fields, field.value)) {
          // An allowlist, not only the denylist above: a field nobody has
          // classified (a name spelt in another language, a free text) is
          // never released.
          reporter_.Error(field.line,
                          fmt::format("'{}' of '{}' is not released for research: the data type's "
                                      "'research_fields' ({}) list what an extract may carry",
                                      field.value, type->id,
                                      type->research_fields.empty() ? std::string("none")
                                                                    : Join(type->research_fields)));
          ok = false;
        }
        data.fields.push_back(field.value);
      }
      bool available = std::any_of(lists_.availability.begin(), lists_.availability.end(),
                                   [&](const Availability& a) { return a.data_type == type->id; });
      if (!available) {
        reporter_.Error(data_type.line, fmt::format("no [[availability]] names data type '{}': "
                                                    "no institution could provide it",
                                                    type->id));
        ok = false;
      }
      for (const ResearchData& other : project.data) {
        if (other.data_type != data.data_type) continue;
        reporter_.Error(data_type.line, fmt::format("data type '{}' is asked twice in {} (first "
                                                    "at line {})",
                                                    data.data_type, project_where, other.line));
        ok = false;
      }
      project.data.push_back(std::move(data));
    }
    return ok;
  }

  bool ReadQuasiIdentifiers(const std::vector<const toml::table*>& tables,
                            const std::string& project_where, ResearchProject& project) {
    bool ok = true;
    for (const toml::table* table : tables) {
      ok = ReadQuasiIdentifier(*table, project_where, project) && ok;
    }
    return ok;
  }

  // One [[research_project.quasi_identifier]]: a field the project asks,
  // and how it is coarsened. Added to `project` unless it cannot be read.
  bool ReadQuasiIdentifier(const toml::table& table, const std::string& project_where,
                           ResearchProject& project) {
    ElementReader r(table, ElementReader::Where{"a quasi_identifier of " + project_where},
                    kQuasiIdentifierKeys, reporter_);
    QuasiIdentifier qi;
    qi.line = r.line();
    Read<std::string> data_type = r.String("data_type", Presence::kRequired);
    Read<std::string> field = r.String("field", Presence::kRequired);
    Read<std::string> coarsen = r.String("coarsen", Presence::kRequired);
    Read<int64_t> width = r.Integer("width", Presence::kOptional, 1, int64_t{1} << 40);
    Read<std::string> map_default = r.String("default", Presence::kOptional);
    const toml::table* map = r.Table("map", Presence::kOptional);
    if (!data_type || !field || !coarsen) return false;
    if (!CheckAskedField(r, project, data_type, field)) return false;
    auto known = std::find(std::begin(kCoarsenings), std::end(kCoarsenings), *coarsen);
    if (known == std::end(kCoarsenings)) {
      reporter_.Error(coarsen.line, fmt::format("'coarsen' in {}: unknown coarsening '{}' (one "
                                                "of: {}){}",
                                                r.where(), *coarsen, Join(kCoarsenings),
                                                Suggestion(*coarsen, kCoarsenings)));
      return false;
    }
    qi.coarsen = static_cast<Coarsening>(known - std::begin(kCoarsenings));
    if ((qi.coarsen == Coarsening::kBand) != width.present) {
      reporter_.Error(width.present ? width.line : coarsen.line,
                      width.present ? fmt::format("'width' in {} applies only to coarsen = "
                                                  "\"band\"",
                                                  r.where())
                                    : fmt::format("coarsen = \"band\" in {} needs 'width' (the "
                                                  "band's width, e.g. 500)",
                                                  r.where()));
      return false;
    }
    if (width) qi.width = *width;
    if (width.present && !width) return false;
    bool is_map = qi.coarsen == Coarsening::kMap;
    if (is_map != r.Has("map") || (!is_map && r.Has("default"))) {
      reporter_.Error(is_map ? coarsen.line : LineOf(*table.get(r.Has("map") ? "map" : "default")),
                      is_map ? fmt::format("coarsen = \"map\" in {} needs 'map' (a table: value "
                                           "= coarser value)",
                                           r.where())
                             : fmt::format("'map' and 'default' in {} apply only to coarsen = "
                                           "\"map\"",
                                           r.where()));
      return false;
    }
    if (is_map && !ReadCoarseningMap(r, map, map_default, qi)) return false;
    qi.data_type = *data_type;
    qi.field = *field;
    bool ok = true;
    for (const QuasiIdentifier& other : project.quasi_identifiers) {
      if (other.data_type != qi.data_type || other.field != qi.field) continue;
      reporter_.Error(r.line(), fmt::format("'{}' of '{}' is a quasi-identifier twice in {} "
                                            "(first at line {})",
                                            qi.field, qi.data_type, project_where, other.line));
      ok = false;
    }
    project.quasi_identifiers.push_back(std::move(qi));
    return ok;
  }

  // A quasi-identifier names a field that the project asks of one of its
  // data types; reports it otherwise.
  bool CheckAskedField(ElementReader& r, const ResearchProject& project,
                       const Read<std::string>& data_type, const Read<std::string>& field) {
    auto asked = std::find_if(project.data.begin(), project.data.end(),
                              [&](const ResearchData& d) { return d.data_type == *data_type; });
    if (asked == project.data.end()) {
      reporter_.Error(data_type.line, fmt::format("'{}' in {} is not one of the project's data "
                                                  "types",
                                                  *data_type, r.where()));
      return false;
    }
    if (std::find(asked->fields.begin(), asked->fields.end(), *field) == asked->fields.end()) {
      reporter_.Error(field.line, fmt::format("'{}' is not among the fields the project asks of "
                                              "'{}' ({}){}",
                                              *field, *data_type, Join(asked->fields),
                                              Suggestion(*field, asked->fields)));
      return false;
    }
    return true;
  }

  // coarsen = "map": its table of value = coarser value (strings, at least
  // one) and its default.
  bool ReadCoarseningMap(ElementReader& r, const toml::table* map,
                         const Read<std::string>& map_default, QuasiIdentifier& qi) {
    if (map == nullptr) return false;
    bool map_ok = true;
    for (auto&& [key, value] : *map) {
      const auto* text = value.as_string();
      if (text == nullptr) {
        reporter_.Error(LineOf(value), fmt::format("'map' in {}: the value of '{}' must be a "
                                                   "string, not {}",
                                                   r.where(), key.str(), Describe(value.type())));
        map_ok = false;
        continue;
      }
      qi.map.emplace_back(std::string(key.str()), text->get());
    }
    if (map_ok && qi.map.empty()) {
      reporter_.Error(LineOf(*map), fmt::format("'map' in {} is empty", r.where()));
      map_ok = false;
    }
    if (!map_ok || (map_default.present && !map_default)) return false;
    qi.map_default = map_default ? *map_default : "other";
    return true;
  }

  // --- the BIS register (docs/bis.md) ----------------------------------------

  // [bis_register]: one table naming the institution that stands for the
  // hub's own register. The hub answers for it, so it has no endpoint; it
  // answers person.identity, so its type must provide that for everybody.
  void ReadBisRegister(const toml::table& root) {
    const toml::node* node = root.get("bis_register");
    if (node == nullptr) return;
    bis_register_present_ = true;
    const toml::table* table = node->as_table();
    if (table == nullptr) {
      reporter_.Error(LineOf(*node),
                      node->is_array()
                          ? std::string("'bis_register' must be one table: write [bis_register], "
                                        "not [[bis_register]]")
                          : fmt::format("'bis_register' must be a table ([bis_register]), not {}",
                                        Describe(node->type())));
      return;
    }
    ElementReader r(*table, ElementReader::Where{"[bis_register]"}, kBisRegisterKeys, reporter_);
    Read<std::string> institution = r.String("institution", Presence::kRequired);
    if (!validator_.CheckInstitutionReference(institution, "institution", r.where())) return;
    const InstitutionInfo& info = institution_info_.at(*institution);
    if (info.endpoint_given) {
      reporter_.Error(institution.line,
                      fmt::format("institution '{}' (line {}) is the BIS register, which the hub "
                                  "answers for itself: remove its 'endpoint'",
                                  *institution, info.line));
      return;
    }
    const Institution& bis = lists_.institutions[info.index];
    bool provides = std::any_of(
        lists_.availability.begin(), lists_.availability.end(), [&](const Availability& a) {
          return a.data_type == kPersonIdentity && a.provider_type == bis.type && !a.capacity;
        });
    if (info.type_known && !provides) {
      reporter_.Error(institution.line,
                      fmt::format("the BIS register '{}' answers {} for BIS numbers: add an "
                                  "[[availability]] of '{}' at provider type '{}' (without a "
                                  "capacity)",
                                  *institution, kPersonIdentity, kPersonIdentity, bis.type));
      return;
    }
    lists_.bis_register.institution = *institution;
  }

  // The fields of a [[bis_authorization]] or [[transparency_access]]: false
  // (each fault reported) when they do not make a grant.
  bool ReadRequesterGrant(ElementReader& r, RequesterGrant& grant) {
    grant.line = r.line();
    Read<std::string> requester = r.String("requester", Presence::kOptional);
    Read<std::string> requester_type = r.String("requester_type", Presence::kOptional);
    Read<std::string> legal_basis = r.String("legal_basis", Presence::kRequired);
    Read<Date> from = r.DateValue("from", Presence::kRequired);
    Read<Date> to = r.DateValue("to", Presence::kOptional);
    bool ok = CheckExactlyOne(r, "requester", "requester_type");
    if (requester.present) ok = validator_.CheckInstitutionReference(requester, "requester", r.where()) && ok;
    if (requester_type.present) {
      ok = validator_.CheckTypeReference(requester_type, "requester_type", r.where()) && ok;
    }
    if (from && to && *to < *from) {
      reporter_.Error(to.line, fmt::format("'to' ({}) is before 'from' ({}) in {}", to->ToString(),
                                           from->ToString(), r.where()));
      ok = false;
    }
    if (!ok || !legal_basis || !from || (to.present && !to)) return false;
    if (requester) grant.requester = *requester;
    if (requester_type) grant.requester_type = *requester_type;
    grant.legal_basis = *legal_basis;
    grant.validity = Period{*from, to.value};
    return true;
  }

  void ReadBisAuthorization(ElementReader& r) {
    BisAuthorization authorization;
    bool ok = ReadRequesterGrant(r, authorization);
    if (!bis_register_present_) {
      reporter_.Error(r.line(), "[[bis_authorization]] needs a [bis_register] naming the "
                                "institution that stands for the hub's BIS register");
      ok = false;
    }
    if (ok) lists_.bis_register.authorizations.push_back(std::move(authorization));
  }

  // [[transparency_access]]: who may read a citizen's transparency view
  // (docs/api.md 4.6), on which legal basis, when.
  void ReadTransparencyAccess(ElementReader& r) {
    TransparencyAccess access;
    if (ReadRequesterGrant(r, access)) lists_.transparency_access.push_back(std::move(access));
  }

  Reporter reporter_;
  DefinitionLists lists_;
  bool bis_register_present_ = false;  // even if malformed (reported then)
  std::unordered_map<std::string, TypeInfo> type_info_;
  std::unordered_map<std::string, InstitutionInfo> institution_info_;
  std::unordered_map<std::string, DataTypeInfo> data_type_info_;
  std::unordered_map<std::string, int> availability_lines_;
  std::unordered_map<std::string, int> subscription_lines_;
  std::unordered_map<std::string, int> quota_lines_;  // institution + type -> line
  // The checks of references and of the whole definition
  // (internal/validate.h), on what is read so far.
  internal::Validator validator_{
      reporter_, internal::ReadSoFar{lists_, type_info_, institution_info_, data_type_info_}};
};

// The file's bytes, or the reason it cannot be read (as a diagnostic with no
// line) and whether that is because it does not exist.
struct FileText {
  std::string text;
  std::optional<Diagnostic> problem;
  bool missing = false;
};

FileText ReadFile(const std::filesystem::path& file) {
  FileText out;
  const std::string source = file.string();
  std::error_code error;
  std::filesystem::file_status status = std::filesystem::status(file, error);
  if (error && error != std::errc::no_such_file_or_directory) {
    out.problem = Diagnostic{source, 0, fmt::format("cannot be read: {}", error.message())};
    return out;
  }
  if (!std::filesystem::exists(status)) {
    out.missing = true;
    out.problem = Diagnostic{source, 0, "no such file"};
    return out;
  }
  if (std::filesystem::is_directory(status)) {
    out.problem = Diagnostic{source, 0, "is a directory, not a network definition file"};
    return out;
  }
  std::uintmax_t size = std::filesystem::file_size(file, error);
  if (!error && size > kMaxFileBytes) {
    out.problem = Diagnostic{source, 0, fmt::format("is {} bytes; a network definition is at most "
                                                    "{} bytes",
                                                    size, kMaxFileBytes)};
    return out;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    out.problem = Diagnostic{source, 0, fmt::format("cannot be read: {}", std::strerror(errno))};
    return out;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    out.problem = Diagnostic{source, 0, "cannot be read: I/O error"};
    return out;
  }
  out.text = std::move(buffer).str();
  return out;
}

}  // namespace

std::string Diagnostic::ToString() const {
  return line > 0 ? fmt::format("{}:{}: {}", source, line, message)
                  : fmt::format("{}: {}", source, message);
}

Status DiagnosticsToStatus(const Diagnostics& diagnostics) {
  std::string message;
  for (const Diagnostic& diagnostic : diagnostics) {
    if (!message.empty()) message += '\n';
    message += diagnostic.ToString();
  }
  return InvalidRequest(std::move(message));
}

tl::expected<Definition, Diagnostics> ParseDefinitionWithDiagnostics(std::string_view toml_text,
                                                                     std::string source_name) {
  // The Debian toml++ is a shared library built with exceptions, so parse
  // errors arrive as toml::parse_error; they stop here, as the module's
  // contract promises. toml++ stops at the first syntax error, so a file
  // that does not parse has exactly one diagnostic.
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view(source_name));
  } catch (const toml::parse_error& error) {
    return tl::unexpected(Diagnostics{Diagnostic{source_name,
                                                 static_cast<int>(error.source().begin.line),
                                                 std::string(error.description())}});
  } catch (const std::exception& error) {
    // Allocation failures and the like: still a diagnostic, never a crash.
    return tl::unexpected(
        Diagnostics{Diagnostic{source_name, 0, fmt::format("cannot be parsed: {}", error.what())}});
  }
  try {
    return Builder(source_name).Build(root);
  } catch (const std::exception& error) {
    // Validation itself only throws on exhaustion (bad_alloc).
    return tl::unexpected(
        Diagnostics{Diagnostic{source_name, 0, fmt::format("cannot be loaded: {}", error.what())}});
  }
}

tl::expected<Definition, Diagnostics> LoadDefinitionWithDiagnostics(
    const std::filesystem::path& file) {
  FileText text = ReadFile(file);
  if (text.problem) return tl::unexpected(Diagnostics{std::move(*text.problem)});
  return ParseDefinitionWithDiagnostics(text.text, file.string());
}

Result<Definition> ParseDefinition(std::string_view toml_text, std::string source_name) {
  tl::expected<Definition, Diagnostics> definition =
      ParseDefinitionWithDiagnostics(toml_text, std::move(source_name));
  if (!definition) return Error(DiagnosticsToStatus(definition.error()));
  return std::move(*definition);
}

Result<Definition> LoadDefinition(const std::filesystem::path& file) {
  FileText text = ReadFile(file);
  if (text.problem) {
    std::string message = text.problem->ToString();
    return Error(text.missing ? NotFound(std::move(message)) : InvalidRequest(std::move(message)));
  }
  return ParseDefinition(text.text, file.string());
}

}  // namespace carrefour::network
