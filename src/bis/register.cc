// SPDX-License-Identifier: EUPL-1.2
#include "bis/register.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "core/timestamp.h"

namespace carrefour::bis {
namespace {

// Per sex: 499 odd serials (001-997) for men, 499 even ones (002-998) for
// women, 998 (001-998) when the sex is unknown (docs/api.md section 1; 000 and
// 999 are not assigned).
int Capacity(niss::Sex sex) { return sex == niss::Sex::kUnknown ? 998 : 499; }

int SexCodeNumber(niss::Sex sex) {
  switch (sex) {
    case niss::Sex::kUnknown: return 0;
    case niss::Sex::kMale: return 1;
    case niss::Sex::kFemale: return 2;
  }
  return 0;
}

niss::Sex SexFromNumber(int code) {
  return code == 1 ? niss::Sex::kMale : code == 2 ? niss::Sex::kFemale : niss::Sex::kUnknown;
}

// Identifies a block for good (persistent: stored as bis_serial.block).
// Year 0 stands for "unknown"; the sex code separates the serial sequences
// that share one YYMMDD.
int64_t BlockKey(std::optional<int> year, int month, int day, niss::Sex sex) {
  return ((int64_t{year.value_or(0)} * 100 + month) * 100 + day) * 4 + SexCodeNumber(sex);
}

store::BisRow RowOf(const Identity& identity) {
  store::BisRow row;
  row.last_name = identity.last_name;
  row.first_names = identity.first_names;
  row.birth_year = identity.birth_date.year;
  row.birth_month = identity.birth_date.month;
  row.birth_day = identity.birth_date.day;
  row.sex = SexCodeNumber(identity.sex);
  row.nationality = identity.nationality;
  return row;
}

Person PersonOf(store::BisRow row) {
  Person person;
  person.niss = std::move(row.niss);
  person.identity.last_name = std::move(row.last_name);
  person.identity.first_names = std::move(row.first_names);
  person.identity.birth_date = BirthDate{row.birth_year, row.birth_month, row.birth_day};
  person.identity.sex = SexFromNumber(row.sex);
  person.identity.nationality = std::move(row.nationality);
  person.created_by = std::move(row.created_by);
  person.created_us = row.created_us;
  person.updated_us = row.updated_us;
  person.forced = row.forced;
  person.replaced_by = std::move(row.replaced_by);
  return person;
}

}  // namespace

std::vector<NumberBlock> BlocksFor(const BirthDate& date, niss::Sex sex) {
  const int capacity = Capacity(sex);
  std::vector<NumberBlock> blocks;
  auto add = [&](std::optional<int> year, int month, int day) {
    blocks.push_back(NumberBlock{{BlockKey(year, month, day, sex), capacity}, year, month, day});
  };
  add(date.year, date.month, date.day);
  if (!date.year) return blocks;  // 000001: no room beyond it
  for (int day = 1; day <= 99; ++day) {
    // In 1900 and 2000, YYMMDD 000001 means "wholly unknown".
    if (day == 1 && *date.year % 100 == 0) continue;
    add(date.year, 0, day);
  }
  return blocks;
}

int SerialFor(niss::Sex sex, int ordinal) {
  switch (sex) {
    case niss::Sex::kMale: return 2 * ordinal - 1;
    case niss::Sex::kFemale: return 2 * ordinal;
    case niss::Sex::kUnknown: return ordinal;
  }
  return ordinal;
}

std::vector<Candidate> Register::Rank(const Matcher& matcher,
                                      const std::vector<store::BisRow>& rows, double min_score,
                                      size_t limit) const {
  std::vector<Candidate> out;
  for (const store::BisRow& row : rows) {
    Person person = PersonOf(row);
    Match match = matcher.Against(person.identity);
    if (match.score < min_score) continue;
    out.push_back(Candidate{std::move(person), std::move(match)});
  }
  std::sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
    return a.match.score != b.match.score ? a.match.score > b.match.score
                                          : a.person.niss < b.person.niss;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

Result<Assignment> Register::Assign(const Identity& identity, bool force,
                                    std::string_view created_by) {
  const Date today = clock_.Today();
  const Matcher matcher(identity);
  const std::vector<int64_t> lookup = QueryKeys(identity);
  const std::vector<NumberBlock> blocks = BlocksFor(identity.birth_date, identity.sex);

  store::NewBisPerson person;
  person.row = RowOf(identity);
  person.row.created_by = std::string(created_by);
  person.keys = StoredKeys(identity);
  for (const NumberBlock& block : blocks) person.blocks.push_back(block.serial);

  Assignment assignment;
  // Runs inside the store's creation transaction: the candidates it sees
  // cannot change before the person is stored.
  auto check = [&](const std::vector<store::BisRow>& rows) -> Status {
    assignment.candidates = Rank(matcher, rows, kDuplicateScore, kMaxCandidates);
    if (assignment.candidates.empty()) return OkStatus();
    person.row.forced = force;  // read by the store after this returns
    return force ? OkStatus() : PossibleDuplicate("possible duplicate");
  };
  auto compose = [&](size_t b, int ordinal) -> Result<std::string> {
    const NumberBlock& block = blocks[b];
    CARREFOUR_ASSIGN_OR_RETURN(
        niss::Number number,
        niss::Compose(niss::Kind::kBis, block.year, block.month, block.day, identity.sex,
                      SerialFor(identity.sex, ordinal), today));
    return number.digits;
  };
  Result<std::string> niss = store_.Create(person, lookup, check, compose, NowMicros(clock_));
  if (!niss) {
    if (niss.error().code() == StatusCode::kPossibleDuplicate) return assignment;
    if (niss.error().code() == StatusCode::kUnavailable &&
        niss.error().message().starts_with("every block")) {
      return Error(Unavailable(fmt::format(
          "no BIS number is left for birth date {} and {} sex: {}",
          identity.birth_date.ToString(), identity.sex == niss::Sex::kUnknown ? "unknown" : "this",
          identity.birth_date.year
              ? "its day and the 99 overflow blocks of the year are full"
              : "a wholly unknown birth date has one block of numbers; give at least the year")));
    }
    return Error(niss.error());
  }
  assignment.niss = std::move(*niss);
  return assignment;
}

Result<std::vector<Candidate>> Register::FindDuplicates(const Identity& identity) const {
  const Matcher matcher(identity);
  CARREFOUR_ASSIGN_OR_RETURN(
      std::vector<store::BisRow> rows,
      store_.FindByKeys(QueryKeys(identity), store::BisStore::kMaxCandidates));
  return Rank(matcher, rows, kDuplicateScore, kMaxCandidates);
}

Result<std::vector<Candidate>> Register::Search(const Identity& query, size_t limit,
                                                double min_score) const {
  const Matcher matcher(query);
  CARREFOUR_ASSIGN_OR_RETURN(
      std::vector<store::BisRow> rows,
      store_.FindByKeys(NameSearchKeys(query), store::BisStore::kMaxCandidates));
  return Rank(matcher, rows, min_score, limit);
}

Result<std::optional<Person>> Register::Find(std::string_view niss) const {
  CARREFOUR_ASSIGN_OR_RETURN(std::optional<store::BisRow> row, store_.Find(niss));
  if (!row) return std::optional<Person>();
  return std::optional<Person>(PersonOf(std::move(*row)));
}

Result<std::optional<Register::Updated>> Register::Update(std::string_view niss,
                                                          const Identity& identity) {
  const int64_t now = NowMicros(clock_);
  CARREFOUR_ASSIGN_OR_RETURN(
      std::optional<store::BisUpdate> update,
      store_.UpdateIdentity(niss, RowOf(identity), StoredKeys(identity), now));
  if (!update) return std::optional<Updated>();
  return std::optional<Updated>(Updated{PersonOf(std::move(update->row)), update->changed});
}

}  // namespace carrefour::bis
