// SPDX-License-Identifier: EUPL-1.2
// The checks of a network definition beyond the shape of one element:
// references between elements (a type, a data type, an institution that
// must exist; a capacity its type declares) and rules over the whole
// definition (providers reachable, subscriptions that can deliver, research
// quasi-identifiers declared). The loader reads the TOML and calls these; a
// new rule of that kind is written here. Internal to the network module.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "network/internal/report.h"
#include "network/model.h"

namespace carrefour::network::internal {

// What later checks need to know about an element already read, beyond the
// model: where it is, and whether its lists could be read (when they could
// not, checks against them are skipped rather than reported a second time).
struct TypeInfo {
  size_t index = 0;
  int line = 0;
  bool capacities_known = false;
};
struct InstitutionInfo {
  size_t index = 0;
  int line = 0;
  bool type_known = false;
  bool endpoint_given = false;  // even if malformed (already reported then)
};
struct DataTypeInfo {
  size_t index = 0;
  int line = 0;
  bool fields_known = false;
};

// What the loader has read so far, as the checks see it.
struct ReadSoFar {
  const DefinitionLists& lists;
  const std::unordered_map<std::string, TypeInfo>& type_info;
  const std::unordered_map<std::string, InstitutionInfo>& institution_info;
  const std::unordered_map<std::string, DataTypeInfo>& data_type_info;
};

// Each check reports what is wrong to `reporter` (at the line of the
// offending element) and says whether it passed. A check against something
// that could not be read passes: that has been reported already.
class Validator {
 public:
  Validator(Reporter& reporter, const ReadSoFar& read) : reporter_(reporter), read_(read) {}

  // `id` is a well-formed id; `kind` says what it names, for messages
  // ("institution type").
  bool CheckId(std::string_view kind, const std::string& id, int line);
  // Whether `capacity` is one that institutions of type `type_id` may
  // declare. `whose` names the type in the message.
  bool CheckCapacity(const std::string& capacity, int line, const std::string& type_id,
                     std::string_view whose);
  // `id` (the value of `key` in `where`) names an institution type, a data
  // type, an institution.
  bool CheckTypeReference(const Read<std::string>& id, std::string_view key,
                          std::string_view where);
  bool CheckDataTypeReference(const Read<std::string>& id, std::string_view where);
  bool CheckInstitutionReference(const Read<std::string>& id, std::string_view key,
                                 std::string_view where);
  // Every quasi-identifier a research project asks is declared.
  bool CheckQuasiIdentifiersDeclared(const std::string& project_where,
                                     const ResearchProject& project);

  // Rules over the whole definition, once everything is read.
  void CheckProvidersHaveEndpoints();
  void CheckSubscriptionsCanDeliver();

 private:
  Reporter& reporter_;
  const ReadSoFar read_;
};

}  // namespace carrefour::network::internal
