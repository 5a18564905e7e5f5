// SPDX-License-Identifier: EUPL-1.2
#include "demo/internal/schemas.h"

#include <fmt/format.h>

namespace carrefour::demo::internal {

// --- Every institution ---------------------------------------------------------------
// The outbox holds the changes the institution publishes (its application
// writes a row in the same transaction as the change); file_declaration the
// files it declares to the person directory. The connector marks both with
// the hub's answer.

const std::string_view kCommonTables = R"sql(
CREATE TABLE carrefour_outbox (
  id          INTEGER PRIMARY KEY,
  data_type   TEXT NOT NULL,
  niss        TEXT NOT NULL,
  effective   TEXT NOT NULL,
  data        TEXT NOT NULL,  -- the changed fields, as a JSON object
  recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  status      TEXT,           -- NULL until the hub answered: accepted, duplicate, rejected
  error       TEXT,
  subscribers INTEGER
);
CREATE INDEX carrefour_outbox_pending ON carrefour_outbox (id) WHERE status IS NULL;
CREATE TABLE file_declaration (
  seq       INTEGER PRIMARY KEY,
  action    TEXT NOT NULL CHECK (action IN ('add', 'close', 'remove')),
  niss      TEXT NOT NULL,
  capacity  TEXT NOT NULL,
  from_date TEXT NOT NULL,
  to_date   TEXT,
  status    TEXT,  -- NULL until declared: ok, rejected
  error     TEXT
);
CREATE INDEX file_declaration_pending ON file_declaration (seq) WHERE status IS NULL;
)sql";

const std::string_view kOutboxSelect = R"sql(SELECT id, data_type, niss, effective, data
  FROM carrefour_outbox
 WHERE status IS NULL
 ORDER BY id
 LIMIT :limit)sql";

const std::string_view kOutboxMark =
    R"sql(UPDATE carrefour_outbox SET status = :status, error = :error, subscribers = :subscribers
 WHERE id = :id)sql";

const std::string_view kIntegrationsSelect =
    R"sql(SELECT seq AS key, action, niss, capacity, from_date AS "from", to_date AS "to"
  FROM file_declaration
 WHERE status IS NULL
 ORDER BY seq
 LIMIT :limit)sql";

const std::string_view kIntegrationsMark =
    R"sql(UPDATE file_declaration SET status = :status, error = :error WHERE seq = :key)sql";

namespace {

// Periods in the queries: the hub sends the served period (docs/api.md 4.2) as
// :from and :to, :to NULL when open. A row is in the period when
// `start <= COALESCE(:to, '9999-12-31') AND COALESCE(end, '9999-12-31') >=
// :from`. Dates are ISO text, which compares as dates.

std::string Sex(niss::Sex sex) { return sex == niss::Sex::kFemale ? "f" : "m"; }

// The household's members living there on `day`, as the national register
// gives them (comma-separated numbers, the reference person first).
std::string MembersOn(const Population& population, const Household& household, Date day) {
  std::string out;
  for (size_t index : household.members) {
    const Person& member = population.persons[index];
    if (!member.AliveOn(day) || day < member.birth_date) continue;
    if (!out.empty()) out += ',';
    out += member.niss;
  }
  return out;
}

Date MemberSince(const Household& household, const Person& person) {
  return std::max(household.since, person.birth_date);
}

std::optional<Date> DeathDate(const Person& person) {
  return person.death ? std::optional<Date>(person.death->date) : std::nullopt;
}

// --- National register ----------------------------------------------------------------

constexpr std::string_view kRegisterTables = R"sql(
CREATE TABLE person (
  niss             TEXT PRIMARY KEY,
  last_name        TEXT NOT NULL,
  first_names      TEXT NOT NULL,
  birth_date       TEXT NOT NULL,
  sex              TEXT NOT NULL CHECK (sex IN ('m', 'f')),
  nationality      TEXT NOT NULL,
  registered_since TEXT NOT NULL
);
CREATE TABLE residence (
  id           INTEGER PRIMARY KEY,
  niss         TEXT NOT NULL,
  street       TEXT NOT NULL,
  postal_code  TEXT NOT NULL,
  municipality TEXT NOT NULL,
  country      TEXT NOT NULL,
  since        TEXT NOT NULL,
  until        TEXT
);
CREATE TABLE household (
  id             INTEGER PRIMARY KEY,
  reference_niss TEXT NOT NULL,
  since          TEXT NOT NULL,
  until          TEXT
);
CREATE TABLE household_member (
  household_id INTEGER NOT NULL REFERENCES household (id),
  niss         TEXT NOT NULL,
  relation     TEXT NOT NULL,  -- to the reference person
  position     INTEGER NOT NULL,
  since        TEXT NOT NULL,
  until        TEXT,
  PRIMARY KEY (household_id, niss)
);
CREATE TABLE death (
  niss         TEXT PRIMARY KEY,
  death_date   TEXT NOT NULL,
  municipality TEXT NOT NULL
);
CREATE TABLE niss_replacement (
  old_niss  TEXT PRIMARY KEY,
  new_niss  TEXT NOT NULL,
  effective TEXT NOT NULL
);
)sql";

constexpr std::string_view kRegisterIndexes = R"sql(
CREATE INDEX residence_by_person ON residence (niss, since);
CREATE INDEX household_member_by_person ON household_member (niss, since);
)sql";

constexpr ProvideSql kRegisterProvide[] = {
    {"person.identity", "object", R"sql(SELECT last_name, first_names, birth_date, sex, nationality
  FROM person
 WHERE niss = :niss
   AND birth_date <= COALESCE(:to, '9999-12-31'))sql"},
    // The address during the period (the latest, when the person moved).
    {"person.address", "object", R"sql(SELECT street, postal_code, municipality, country, since
  FROM residence
 WHERE niss = :niss
   AND since <= COALESCE(:to, '9999-12-31')
   AND COALESCE(until, '9999-12-31') >= COALESCE(:from, '0001-01-01')
 ORDER BY since DESC
 LIMIT 1)sql"},
    // Members: the numbers of those living there during the period, the
    // reference person first (comma-separated).
    {"person.household", "object", R"sql(SELECT h.reference_niss AS reference_person,
       (SELECT group_concat(niss, ',')
          FROM (SELECT o.niss FROM household_member o
                 WHERE o.household_id = h.id
                   AND o.since <= COALESCE(:to, '9999-12-31')
                   AND COALESCE(o.until, '9999-12-31') >= COALESCE(:from, '0001-01-01')
                 ORDER BY o.position)) AS members,
       m.since AS since
  FROM household_member m
  JOIN household h ON h.id = m.household_id
 WHERE m.niss = :niss
   AND m.since <= COALESCE(:to, '9999-12-31')
   AND COALESCE(m.until, '9999-12-31') >= COALESCE(:from, '0001-01-01')
 ORDER BY m.since DESC
 LIMIT 1)sql"},
    {"person.niss-replaced", "object", R"sql(SELECT new_niss
  FROM niss_replacement
 WHERE old_niss = :niss
   AND effective <= COALESCE(:to, '9999-12-31'))sql"},
    {"person.death", "object", R"sql(SELECT death_date, municipality
  FROM death
 WHERE niss = :niss
   AND death_date <= COALESCE(:to, '9999-12-31'))sql"},
};

Status FillRegister(SqliteFile& file, const Population& population,
                    std::span<const Person* const> by_number, const network::Institution&) {
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement person, file.Prepare("INSERT INTO person VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement residence,
      file.Prepare("INSERT INTO residence (niss, street, postal_code, municipality, country, since,"
                   " until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  CARREFOUR_ASSIGN_OR_RETURN(Statement household,
                             file.Prepare("INSERT INTO household VALUES (?1, ?2, ?3, ?4)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement member,
      file.Prepare("INSERT INTO household_member VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  CARREFOUR_ASSIGN_OR_RETURN(Statement death,
                             file.Prepare("INSERT INTO death VALUES (?1, ?2, ?3)"));
  CARREFOUR_ASSIGN_OR_RETURN(Statement replacement,
                             file.Prepare("INSERT INTO niss_replacement VALUES (?1, ?2, ?3)"));
  for (const Person* entry : by_number) {
    const Person& p = *entry;
    if (p.bis) continue;  // the BIS register is the hub's, not the national register's
    CARREFOUR_RETURN_IF_ERROR(
        person.Run({Text(p.niss), Text(p.last_name), Text(p.first_names), Day(p.birth_date),
                    Text(Sex(p.sex)), Text(p.nationality), Day(p.residences.front().from)}));
    for (const Residence& r : p.residences) {
      CARREFOUR_RETURN_IF_ERROR(residence.Run(
          {Text(p.niss), Text(r.address.street), Text(r.address.postal_code),
           Text(r.address.municipality), Text(r.address.country), Day(r.from), Day(r.to)}));
    }
    if (p.death) {
      CARREFOUR_RETURN_IF_ERROR(
          death.Run({Text(p.niss), Day(p.death->date), Text(p.death->municipality)}));
    }
    if (p.former) {
      CARREFOUR_RETURN_IF_ERROR(
          replacement.Run({Text(p.former->old_niss), Text(p.niss), Day(p.former->effective)}));
    }
  }
  for (const Household& h : population.households) {
    const Person& reference = population.persons[h.reference_person];
    CARREFOUR_RETURN_IF_ERROR(household.Run(
        {static_cast<int64_t>(h.id + 1), Text(reference.niss), Day(h.since), Null()}));
    int64_t position = 0;
    for (size_t index : h.members) {
      const Person& p = population.persons[index];
      CARREFOUR_RETURN_IF_ERROR(
          member.Run({static_cast<int64_t>(h.id + 1), Text(p.niss), Text(p.relation), ++position,
                      Day(MemberSince(h, p)), Day(DeathDate(p))}));
    }
  }
  return OkStatus();
}

// --- Contribution collector -----------------------------------------------------------

constexpr std::string_view kCollectorTables = R"sql(
CREATE TABLE employer (
  employer_id     TEXT PRIMARY KEY,  -- enterprise number
  name            TEXT NOT NULL,
  joint_committee INTEGER NOT NULL,
  region          TEXT NOT NULL
);
CREATE TABLE worker (
  niss        TEXT PRIMARY KEY,
  last_name   TEXT NOT NULL,
  first_names TEXT NOT NULL,
  birth_date  TEXT NOT NULL,
  bis         INTEGER NOT NULL,  -- 1: a BIS number, the person is not in the national register
  death_date  TEXT
);
-- The employers' declarations of their workers (start and end).
CREATE TABLE employment (
  id                INTEGER PRIMARY KEY,
  niss              TEXT NOT NULL,
  employer_id       TEXT NOT NULL REFERENCES employer (employer_id),
  joint_committee   INTEGER NOT NULL,
  worker_class      TEXT NOT NULL,
  part_time_percent INTEGER NOT NULL,
  start_date        TEXT NOT NULL,
  end_date          TEXT
);
-- The employers' quarterly declarations of wages and days worked.
CREATE TABLE wage_declaration (
  niss          TEXT NOT NULL,
  quarter       TEXT NOT NULL,  -- 2024-Q3
  quarter_start TEXT NOT NULL,
  quarter_end   TEXT NOT NULL,
  employer_id   TEXT NOT NULL REFERENCES employer (employer_id),
  gross_wage    REAL NOT NULL,
  days_worked   INTEGER NOT NULL,
  PRIMARY KEY (niss, quarter, employer_id)
);
CREATE TRIGGER worker_renumbered AFTER UPDATE OF niss ON worker BEGIN
  UPDATE employment SET niss = NEW.niss WHERE niss = OLD.niss;
  UPDATE wage_declaration SET niss = NEW.niss WHERE niss = OLD.niss;
END;
)sql";

constexpr std::string_view kCollectorIndexes = R"sql(
CREATE INDEX employment_by_person ON employment (niss, start_date);
)sql";

// Declarations and wages: those of the period and of the twelve months
// before it. Benefits are computed from the work that came before them, and
// the requester's file (an unemployment spell, a pension) usually starts
// when that work ended, which is where the hub clips the period.
constexpr ProvideSql kCollectorProvide[] = {
    {"employment.declaration", "list",
     R"sql(SELECT e.employer_id, r.name AS employer_name, e.joint_committee, e.worker_class,
       e.start_date, e.end_date
  FROM employment e
  JOIN employer r ON r.employer_id = e.employer_id
 WHERE e.niss = :niss
   AND e.start_date <= COALESCE(:to, '9999-12-31')
   AND COALESCE(e.end_date, '9999-12-31') >= COALESCE(date(:from, '-12 months'), '0001-01-01')
 ORDER BY e.start_date DESC)sql"},
    {"employment.wages", "list", R"sql(SELECT quarter, employer_id, gross_wage, days_worked
  FROM wage_declaration
 WHERE niss = :niss
   AND quarter_start <= COALESCE(:to, '9999-12-31')
   AND quarter_end >= COALESCE(date(:from, '-12 months'), '0001-01-01')
 ORDER BY quarter DESC, employer_id)sql"},
};

constexpr ApplySql kCollectorApply[] = {
    {"person.niss-replaced", "UPDATE worker SET niss = :new_niss WHERE niss = :niss"},
};

Status FillCollector(SqliteFile& file, const Population& population,
                     std::span<const Person* const> by_number, const network::Institution&) {
  CARREFOUR_ASSIGN_OR_RETURN(Statement employer,
                             file.Prepare("INSERT INTO employer VALUES (?1, ?2, ?3, ?4)"));
  CARREFOUR_ASSIGN_OR_RETURN(Statement worker,
                             file.Prepare("INSERT INTO worker VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement employment,
      file.Prepare(
          "INSERT INTO employment (niss, employer_id, joint_committee, worker_class,"
          " part_time_percent, start_date, end_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement wage,
      file.Prepare("INSERT INTO wage_declaration VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  for (const Employer& e : population.employers) {
    CARREFOUR_RETURN_IF_ERROR(
        employer.Run({Text(e.id), Text(e.name), static_cast<int64_t>(e.joint_committee),
                      Text(RegionName(e.region))}));
  }
  for (const Person* entry : by_number) {
    const Person& p = *entry;
    if (p.employments.empty()) continue;
    CARREFOUR_RETURN_IF_ERROR(
        worker.Run({Text(p.niss), Text(p.last_name), Text(p.first_names), Day(p.birth_date),
                    int64_t{p.bis ? 1 : 0}, Day(DeathDate(p))}));
    for (const Employment& job : p.employments) {
      CARREFOUR_RETURN_IF_ERROR(employment.Run(
          {Text(p.niss), Text(population.employers[job.employer].id),
           static_cast<int64_t>(job.joint_committee), Text(job.worker_class),
           static_cast<int64_t>(job.part_time_percent), Day(job.start), Day(job.end)}));
    }
    for (const QuarterlyWage& w : p.wages) {
      CARREFOUR_RETURN_IF_ERROR(
          wage.Run({Text(p.niss), Text(w.QuarterText()), Day(w.FirstDay()), Day(w.LastDay()),
                    Text(population.employers[w.employer].id), Euros(w.gross_cents),
                    static_cast<int64_t>(w.days_worked)}));
    }
  }
  return OkStatus();
}

// --- Unemployment payer -----------------------------------------------------------------

constexpr std::string_view kUnemploymentTables = R"sql(
CREATE TABLE beneficiary (
  niss        TEXT PRIMARY KEY,
  last_name   TEXT NOT NULL,
  first_names TEXT NOT NULL,
  birth_date  TEXT NOT NULL,
  death_date  TEXT
);
CREATE TABLE unemployment_spell (
  id              INTEGER PRIMARY KEY,
  niss            TEXT NOT NULL,
  status          TEXT NOT NULL,  -- entitled, ended
  category        TEXT NOT NULL,  -- head-of-household, single, cohabitant
  daily_allowance REAL NOT NULL,
  start_date      TEXT NOT NULL,
  end_date        TEXT
);
-- The household the allowance depends on, kept up to date from the feed.
CREATE TABLE household_situation (
  niss             TEXT PRIMARY KEY,
  reference_person TEXT,
  members          TEXT,
  since            TEXT,
  updated_from     TEXT  -- the mutation that last changed it (NULL: the initial load)
);
)sql";

constexpr std::string_view kUnemploymentIndexes = R"sql(
CREATE INDEX unemployment_spell_by_person ON unemployment_spell (niss, start_date);
)sql";

constexpr ProvideSql kUnemploymentProvide[] = {
    {"unemployment.status", "list",
     R"sql(SELECT status, category, daily_allowance, start_date AS since
  FROM unemployment_spell
 WHERE niss = :niss
   AND start_date <= COALESCE(:to, '9999-12-31')
   AND COALESCE(end_date, '9999-12-31') >= COALESCE(:from, '0001-01-01')
 ORDER BY start_date DESC)sql"},
};

constexpr ApplySql kUnemploymentApply[] = {
    {"person.household",
     R"sql(INSERT INTO household_situation (niss, reference_person, members, since, updated_from)
VALUES (:niss, :reference_person, :members, COALESCE(:since, :effective), :id)
ON CONFLICT (niss) DO UPDATE SET reference_person = excluded.reference_person,
  members = excluded.members, since = excluded.since, updated_from = excluded.updated_from)sql"},
    {"person.death",
     "UPDATE beneficiary SET death_date = COALESCE(:death_date, :effective) WHERE niss = :niss"},
};

Status FillUnemployment(SqliteFile& file, const Population& population,
                        std::span<const Person* const> by_number, const network::Institution&) {
  CARREFOUR_ASSIGN_OR_RETURN(Statement beneficiary,
                             file.Prepare("INSERT INTO beneficiary VALUES (?1, ?2, ?3, ?4, ?5)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement spell,
      file.Prepare("INSERT INTO unemployment_spell (niss, status, category, daily_allowance,"
                   " start_date, end_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement situation,
      file.Prepare("INSERT INTO household_situation VALUES (?1, ?2, ?3, ?4, NULL)"));
  const Date today = population.options.today;
  for (const Person* entry : by_number) {
    const Person& p = *entry;
    if (p.unemployment.empty()) continue;
    CARREFOUR_RETURN_IF_ERROR(beneficiary.Run({Text(p.niss), Text(p.last_name), Text(p.first_names),
                                               Day(p.birth_date), Day(DeathDate(p))}));
    for (const UnemploymentSpell& s : p.unemployment) {
      CARREFOUR_RETURN_IF_ERROR(
          spell.Run({Text(p.niss), Text(s.status), Text(s.category), Euros(s.daily_allowance_cents),
                     Day(s.since), Day(s.end)}));
    }
    if (p.household) {
      const Household& h = population.households[*p.household];
      CARREFOUR_RETURN_IF_ERROR(
          situation.Run({Text(p.niss), Text(population.persons[h.reference_person].niss),
                         Text(MembersOn(population, h, today)), Day(MemberSince(h, p))}));
    }
  }
  return OkStatus();
}

// --- Health insurers ------------------------------------------------------------------------

constexpr std::string_view kMutualityTables = R"sql(
CREATE TABLE insurer (
  id   TEXT PRIMARY KEY,
  name TEXT NOT NULL
);
CREATE TABLE member (
  niss        TEXT PRIMARY KEY,
  last_name   TEXT NOT NULL,
  first_names TEXT NOT NULL,
  birth_date  TEXT NOT NULL,
  sex         TEXT NOT NULL,
  death_date  TEXT
);
CREATE TABLE membership (
  id                INTEGER PRIMARY KEY,
  niss              TEXT NOT NULL,
  capacity          TEXT NOT NULL CHECK (capacity IN ('insured', 'dependent')),
  holder_niss       TEXT NOT NULL,  -- the insured member (the person when insured)
  status            TEXT NOT NULL,  -- in-order, not-in-order
  preferential_rate INTEGER NOT NULL,
  insured_since     TEXT NOT NULL,
  insured_until     TEXT
);
-- The members' addresses, kept up to date from the feed.
CREATE TABLE member_address (
  niss         TEXT PRIMARY KEY,
  street       TEXT,
  postal_code  TEXT,
  municipality TEXT,
  country      TEXT,
  since        TEXT,
  updated_from TEXT  -- the mutation that last changed it (NULL: the initial load)
);
-- Wages pushed by the contribution collector (for insurers subscribed to them).
CREATE TABLE wage_information (
  mutation    TEXT PRIMARY KEY,  -- source:id
  niss        TEXT NOT NULL,
  quarter     TEXT,
  gross_wage  REAL,
  days_worked INTEGER,
  received    TEXT NOT NULL
);
CREATE TRIGGER member_renumbered AFTER UPDATE OF niss ON member BEGIN
  UPDATE membership SET niss = NEW.niss WHERE niss = OLD.niss;
  UPDATE membership SET holder_niss = NEW.niss WHERE holder_niss = OLD.niss;
  UPDATE member_address SET niss = NEW.niss WHERE niss = OLD.niss;
  UPDATE wage_information SET niss = NEW.niss WHERE niss = OLD.niss;
END;
)sql";

constexpr std::string_view kMutualityIndexes = R"sql(
CREATE INDEX membership_by_person ON membership (niss, insured_since);
CREATE INDEX membership_by_holder ON membership (holder_niss);
)sql";

constexpr ProvideSql kMutualityProvide[] = {
    {"health.insurability", "object",
     R"sql(SELECT i.id AS insurer, m.status, m.preferential_rate, m.insured_since AS since
  FROM membership m
 CROSS JOIN insurer i
 WHERE m.niss = :niss
   AND m.insured_since <= COALESCE(:to, '9999-12-31')
   AND COALESCE(m.insured_until, '9999-12-31') >= COALESCE(:from, '0001-01-01')
 ORDER BY m.insured_since DESC
 LIMIT 1)sql"},
};

constexpr ApplySql kMutualityApply[] = {
    {"person.address",
     R"sql(INSERT INTO member_address
  (niss, street, postal_code, municipality, country, since, updated_from)
VALUES (:niss, :street, :postal_code, :municipality, :country, COALESCE(:since, :effective), :id)
ON CONFLICT (niss) DO UPDATE SET street = excluded.street, postal_code = excluded.postal_code,
  municipality = excluded.municipality, country = excluded.country, since = excluded.since,
  updated_from = excluded.updated_from)sql"},
    {"person.death",
     "UPDATE member SET death_date = COALESCE(:death_date, :effective) WHERE niss = :niss"},
    {"person.niss-replaced", "UPDATE member SET niss = :new_niss WHERE niss = :niss"},
    {"employment.wages",
     R"sql(INSERT INTO wage_information (mutation, niss, quarter, gross_wage, days_worked, received)
VALUES (:source || ':' || :id, :niss, :quarter, :gross_wage, :days_worked, :effective)
ON CONFLICT (mutation) DO NOTHING)sql"},
};

Status FillAddress(Statement& statement, const Person& p) {
  const Residence& r = p.residences.back();
  return statement.Run({Text(p.niss), Text(r.address.street), Text(r.address.postal_code),
                        Text(r.address.municipality), Text(r.address.country), Day(r.from)});
}

Status FillMutuality(SqliteFile& file, const Population& population,
                     std::span<const Person* const> by_number,
                     const network::Institution& institution) {
  CARREFOUR_ASSIGN_OR_RETURN(Statement insurer,
                             file.Prepare("INSERT INTO insurer VALUES (?1, ?2)"));
  CARREFOUR_ASSIGN_OR_RETURN(Statement member,
                             file.Prepare("INSERT INTO member VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement membership,
      file.Prepare("INSERT INTO membership (niss, capacity, holder_niss, status, preferential_rate,"
                   " insured_since, insured_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement address,
      file.Prepare("INSERT INTO member_address VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)"));
  CARREFOUR_RETURN_IF_ERROR(insurer.Run({Text(institution.id), Text(institution.name)}));
  for (const Person* entry : by_number) {
    const Person& p = *entry;
    bool is_member = false;
    for (const Membership& m : p.memberships) is_member |= m.insurer == institution.id;
    if (!is_member) continue;
    CARREFOUR_RETURN_IF_ERROR(member.Run({Text(p.niss), Text(p.last_name), Text(p.first_names),
                                          Day(p.birth_date), Text(Sex(p.sex)), Day(DeathDate(p))}));
    for (const Membership& m : p.memberships) {
      if (m.insurer != institution.id) continue;
      CARREFOUR_RETURN_IF_ERROR(membership.Run(
          {Text(p.niss), Text(m.capacity), Text(population.persons[m.holder].niss), Text(m.status),
           int64_t{m.preferential_rate ? 1 : 0}, Day(m.since), Day(m.until)}));
    }
    CARREFOUR_RETURN_IF_ERROR(FillAddress(address, p));
  }
  return OkStatus();
}

// --- Family-allowance funds ---------------------------------------------------------------

constexpr std::string_view kAllowanceTables = R"sql(
CREATE TABLE fund (
  id   TEXT PRIMARY KEY,
  name TEXT NOT NULL
);
CREATE TABLE child (
  niss        TEXT PRIMARY KEY,
  last_name   TEXT NOT NULL,
  first_names TEXT NOT NULL,
  birth_date  TEXT NOT NULL,
  death_date  TEXT
);
-- The parents who receive the allowance.
CREATE TABLE recipient (
  niss        TEXT PRIMARY KEY,
  last_name   TEXT NOT NULL,
  first_names TEXT NOT NULL
);
CREATE TABLE allowance_right (
  id             INTEGER PRIMARY KEY,
  child_niss     TEXT NOT NULL,
  recipient_niss TEXT NOT NULL,
  entitlement    TEXT NOT NULL,  -- base, base+social-supplement
  monthly_amount REAL NOT NULL,
  since          TEXT NOT NULL,
  until          TEXT
);
-- The children's address and household, kept up to date from the feed.
CREATE TABLE child_address (
  niss         TEXT PRIMARY KEY,
  street       TEXT,
  postal_code  TEXT,
  municipality TEXT,
  country      TEXT,
  since        TEXT,
  updated_from TEXT
);
CREATE TABLE child_household (
  niss             TEXT PRIMARY KEY,
  reference_person TEXT,
  members          TEXT,
  since            TEXT,
  updated_from     TEXT
);
CREATE TRIGGER child_renumbered AFTER UPDATE OF niss ON child BEGIN
  UPDATE allowance_right SET child_niss = NEW.niss WHERE child_niss = OLD.niss;
  UPDATE child_address SET niss = NEW.niss WHERE niss = OLD.niss;
  UPDATE child_household SET niss = NEW.niss WHERE niss = OLD.niss;
END;
)sql";

constexpr std::string_view kAllowanceIndexes = R"sql(
CREATE INDEX allowance_right_by_child ON allowance_right (child_niss, since);
CREATE INDEX allowance_right_by_recipient ON allowance_right (recipient_niss);
)sql";

constexpr ProvideSql kAllowanceProvide[] = {
    {"family.allowance-rights", "object",
     R"sql(SELECT f.id AS fund, r.entitlement, r.monthly_amount, r.since
  FROM allowance_right r
 CROSS JOIN fund f
 WHERE r.child_niss = :niss
   AND r.since <= COALESCE(:to, '9999-12-31')
   AND COALESCE(r.until, '9999-12-31') >= COALESCE(:from, '0001-01-01')
 ORDER BY r.since DESC
 LIMIT 1)sql"},
};

constexpr ApplySql kAllowanceApply[] = {
    {"person.address",
     R"sql(INSERT INTO child_address
  (niss, street, postal_code, municipality, country, since, updated_from)
VALUES (:niss, :street, :postal_code, :municipality, :country, COALESCE(:since, :effective), :id)
ON CONFLICT (niss) DO UPDATE SET street = excluded.street, postal_code = excluded.postal_code,
  municipality = excluded.municipality, country = excluded.country, since = excluded.since,
  updated_from = excluded.updated_from)sql"},
    {"person.household",
     R"sql(INSERT INTO child_household (niss, reference_person, members, since, updated_from)
VALUES (:niss, :reference_person, :members, COALESCE(:since, :effective), :id)
ON CONFLICT (niss) DO UPDATE SET reference_person = excluded.reference_person,
  members = excluded.members, since = excluded.since, updated_from = excluded.updated_from)sql"},
    {"person.death",
     "UPDATE child SET death_date = COALESCE(:death_date, :effective) WHERE niss = :niss"},
    {"person.niss-replaced", "UPDATE child SET niss = :new_niss WHERE niss = :niss"},
};

Status FillAllowance(SqliteFile& file, const Population& population,
                     std::span<const Person* const> by_number,
                     const network::Institution& institution) {
  CARREFOUR_ASSIGN_OR_RETURN(Statement fund, file.Prepare("INSERT INTO fund VALUES (?1, ?2)"));
  CARREFOUR_ASSIGN_OR_RETURN(Statement child,
                             file.Prepare("INSERT INTO child VALUES (?1, ?2, ?3, ?4, ?5)"));
  CARREFOUR_ASSIGN_OR_RETURN(Statement recipient,
                             file.Prepare("INSERT OR IGNORE INTO recipient VALUES (?1, ?2, ?3)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement right,
      file.Prepare("INSERT INTO allowance_right (child_niss, recipient_niss, entitlement,"
                   " monthly_amount, since, until) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement address,
      file.Prepare("INSERT INTO child_address VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement household,
      file.Prepare("INSERT INTO child_household VALUES (?1, ?2, ?3, ?4, NULL)"));
  CARREFOUR_RETURN_IF_ERROR(fund.Run({Text(institution.id), Text(institution.name)}));
  const Date today = population.options.today;
  for (const Person* entry : by_number) {
    const Person& p = *entry;
    if (!p.allowance || p.allowance->fund != institution.id) continue;
    const AllowanceRight& a = *p.allowance;
    const Person& parent = population.persons[a.recipient];
    CARREFOUR_RETURN_IF_ERROR(child.Run({Text(p.niss), Text(p.last_name), Text(p.first_names),
                                         Day(p.birth_date), Day(DeathDate(p))}));
    CARREFOUR_RETURN_IF_ERROR(
        recipient.Run({Text(parent.niss), Text(parent.last_name), Text(parent.first_names)}));
    CARREFOUR_RETURN_IF_ERROR(right.Run({Text(p.niss), Text(parent.niss), Text(a.entitlement),
                                         Euros(a.monthly_cents), Day(a.since), Day(a.until)}));
    CARREFOUR_RETURN_IF_ERROR(FillAddress(address, p));
    if (p.household) {
      const Household& h = population.households[*p.household];
      CARREFOUR_RETURN_IF_ERROR(
          household.Run({Text(p.niss), Text(population.persons[h.reference_person].niss),
                         Text(MembersOn(population, h, today)), Day(MemberSince(h, p))}));
    }
  }
  return OkStatus();
}

// --- Pension service ----------------------------------------------------------------------

constexpr std::string_view kPensionTables = R"sql(
CREATE TABLE pensioner (
  niss        TEXT PRIMARY KEY,
  last_name   TEXT NOT NULL,
  first_names TEXT NOT NULL,
  birth_date  TEXT NOT NULL,
  death_date  TEXT
);
CREATE TABLE pension (
  id             INTEGER PRIMARY KEY,
  niss           TEXT NOT NULL,
  pension_type   TEXT NOT NULL,  -- retirement, survivor
  monthly_amount REAL NOT NULL,
  start_date     TEXT NOT NULL,
  end_date       TEXT
);
-- Where the pension is sent, kept up to date from the feed.
CREATE TABLE pensioner_address (
  niss         TEXT PRIMARY KEY,
  street       TEXT,
  postal_code  TEXT,
  municipality TEXT,
  country      TEXT,
  since        TEXT,
  updated_from TEXT
);
)sql";

constexpr std::string_view kPensionIndexes = R"sql(
CREATE INDEX pension_by_person ON pension (niss, start_date);
)sql";

constexpr ProvideSql kPensionProvide[] = {
    {"pension.rights", "object", R"sql(SELECT pension_type, monthly_amount, start_date
  FROM pension
 WHERE niss = :niss
   AND start_date <= COALESCE(:to, '9999-12-31')
   AND COALESCE(end_date, '9999-12-31') >= COALESCE(:from, '0001-01-01')
 ORDER BY start_date DESC
 LIMIT 1)sql"},
};

constexpr ApplySql kPensionApply[] = {
    {"person.address",
     R"sql(INSERT INTO pensioner_address
  (niss, street, postal_code, municipality, country, since, updated_from)
VALUES (:niss, :street, :postal_code, :municipality, :country, COALESCE(:since, :effective), :id)
ON CONFLICT (niss) DO UPDATE SET street = excluded.street, postal_code = excluded.postal_code,
  municipality = excluded.municipality, country = excluded.country, since = excluded.since,
  updated_from = excluded.updated_from)sql"},
    {"person.death",
     "UPDATE pensioner SET death_date = COALESCE(:death_date, :effective) WHERE niss = :niss"},
};

Status FillPension(SqliteFile& file, const Population&, std::span<const Person* const> by_number,
                   const network::Institution&) {
  CARREFOUR_ASSIGN_OR_RETURN(Statement pensioner,
                             file.Prepare("INSERT INTO pensioner VALUES (?1, ?2, ?3, ?4, ?5)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement pension,
      file.Prepare("INSERT INTO pension (niss, pension_type, monthly_amount, start_date, end_date)"
                   " VALUES (?1, ?2, ?3, ?4, ?5)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement address,
      file.Prepare("INSERT INTO pensioner_address VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)"));
  for (const Person* entry : by_number) {
    const Person& p = *entry;
    if (!p.pension) continue;
    CARREFOUR_RETURN_IF_ERROR(pensioner.Run({Text(p.niss), Text(p.last_name), Text(p.first_names),
                                             Day(p.birth_date), Day(DeathDate(p))}));
    CARREFOUR_RETURN_IF_ERROR(
        pension.Run({Text(p.niss), Text(p.pension->type), Euros(p.pension->monthly_cents),
                     Day(p.pension->start), Day(p.pension->end)}));
    CARREFOUR_RETURN_IF_ERROR(FillAddress(address, p));
  }
  return OkStatus();
}

// --- Social welfare centres ------------------------------------------------------------------

constexpr std::string_view kWelfareTables = R"sql(
CREATE TABLE beneficiary (
  niss        TEXT PRIMARY KEY,
  last_name   TEXT NOT NULL,
  first_names TEXT NOT NULL,
  birth_date  TEXT NOT NULL,
  file_number TEXT NOT NULL UNIQUE
);
CREATE TABLE integration_income (
  id             INTEGER PRIMARY KEY,
  niss           TEXT NOT NULL,
  category       TEXT NOT NULL,  -- cohabitant, single, family-dependent
  monthly_amount REAL NOT NULL,
  since          TEXT NOT NULL,
  until          TEXT
);
CREATE TABLE beneficiary_address (
  niss         TEXT PRIMARY KEY,
  street       TEXT,
  postal_code  TEXT,
  municipality TEXT,
  country      TEXT,
  since        TEXT,
  updated_from TEXT
);
)sql";

constexpr std::string_view kWelfareIndexes = R"sql(
CREATE INDEX integration_income_by_person ON integration_income (niss, since);
)sql";

constexpr ProvideSql kWelfareProvide[] = {
    {"social.integration-income", "object", R"sql(SELECT category, monthly_amount, since
  FROM integration_income
 WHERE niss = :niss
   AND since <= COALESCE(:to, '9999-12-31')
   AND COALESCE(until, '9999-12-31') >= COALESCE(:from, '0001-01-01')
 ORDER BY since DESC
 LIMIT 1)sql"},
};

constexpr ApplySql kWelfareApply[] = {
    {"person.address",
     R"sql(INSERT INTO beneficiary_address
  (niss, street, postal_code, municipality, country, since, updated_from)
VALUES (:niss, :street, :postal_code, :municipality, :country, COALESCE(:since, :effective), :id)
ON CONFLICT (niss) DO UPDATE SET street = excluded.street, postal_code = excluded.postal_code,
  municipality = excluded.municipality, country = excluded.country, since = excluded.since,
  updated_from = excluded.updated_from)sql"},
};

Status FillWelfare(SqliteFile& file, const Population&, std::span<const Person* const> by_number,
                   const network::Institution& institution) {
  CARREFOUR_ASSIGN_OR_RETURN(Statement beneficiary,
                             file.Prepare("INSERT INTO beneficiary VALUES (?1, ?2, ?3, ?4, ?5)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement income,
      file.Prepare("INSERT INTO integration_income (niss, category, monthly_amount, since, until)"
                   " VALUES (?1, ?2, ?3, ?4, ?5)"));
  CARREFOUR_ASSIGN_OR_RETURN(
      Statement address,
      file.Prepare("INSERT INTO beneficiary_address VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)"));
  int64_t files = 0;
  for (const Person* entry : by_number) {
    const Person& p = *entry;
    if (!p.integration_income || p.integration_income->centre != institution.id) continue;
    const IntegrationIncome& i = *p.integration_income;
    CARREFOUR_RETURN_IF_ERROR(
        beneficiary.Run({Text(p.niss), Text(p.last_name), Text(p.first_names), Day(p.birth_date),
                         Text(fmt::format("RIS/{}/{:05}", i.since.year(), ++files))}));
    CARREFOUR_RETURN_IF_ERROR(income.Run(
        {Text(p.niss), Text(i.category), Euros(i.monthly_cents), Day(i.since), Day(i.until)}));
    CARREFOUR_RETURN_IF_ERROR(FillAddress(address, p));
  }
  return OkStatus();
}

const TypeSchema kSchemas[] = {
    {"national-register", kRegisterTables, kRegisterIndexes, kRegisterProvide, {}, FillRegister},
    {"contribution-collector", kCollectorTables, kCollectorIndexes, kCollectorProvide,
     kCollectorApply, FillCollector},
    {"unemployment-payer", kUnemploymentTables, kUnemploymentIndexes, kUnemploymentProvide,
     kUnemploymentApply, FillUnemployment},
    {"mutuality", kMutualityTables, kMutualityIndexes, kMutualityProvide, kMutualityApply,
     FillMutuality},
    {"family-allowance-fund", kAllowanceTables, kAllowanceIndexes, kAllowanceProvide,
     kAllowanceApply, FillAllowance},
    {"pension-service", kPensionTables, kPensionIndexes, kPensionProvide, kPensionApply,
     FillPension},
    {"social-welfare-centre", kWelfareTables, kWelfareIndexes, kWelfareProvide, kWelfareApply,
     FillWelfare},
};

}  // namespace

const ProvideSql* TypeSchema::FindProvide(std::string_view data_type) const {
  for (const ProvideSql& rule : provide) {
    if (rule.data_type == data_type) return &rule;
  }
  return nullptr;
}

const ApplySql* TypeSchema::FindApply(std::string_view data_type) const {
  for (const ApplySql& rule : apply) {
    if (rule.data_type == data_type) return &rule;
  }
  return nullptr;
}

const TypeSchema* FindSchema(std::string_view institution_type) {
  for (const TypeSchema& schema : kSchemas) {
    if (schema.type == institution_type) return &schema;
  }
  return nullptr;
}

}  // namespace carrefour::demo::internal
