// SPDX-License-Identifier: EUPL-1.2
// The connector's three loops: feed consumer, outbox publisher, integrations.
// Each owns one database session and talks to the hub through Context::CallHub.

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "api/json.h"
#include "connector/internal/context.h"
#include "core/csv.h"
#include "core/timestamp.h"

namespace carrefour::connector::internal {
namespace {

namespace json = boost::json;

constexpr const char* kFeedCursor = "feed.cursor";

constexpr const char* kRecordUnapplied =
    "INSERT INTO carrefour_unapplied (cursor, id, source, data_type, niss, effective, data,"
    " reason, recorded_at) VALUES (:cursor, :id, :source, :data_type, :niss, :effective, :data,"
    " :reason, :recorded_at)";

std::string NowText() { return FormatRfc3339(NowMicros(SystemClock()), 0); }

std::string Text(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) return {};
  if (value->is_string()) return std::string(value->get_string());
  return api::Serialize(*value);
}

// `text` for one field of a log line: control characters (a newline would
// start a forged line) are written as \xNN. Ids, sources and reasons come
// from the hub's answers and, through it, from other institutions.
std::string LogField(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == '\\') {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += c;
    }
  }
  return out;
}

// Opens a session, retrying (with the stop signal honoured) while the
// database cannot be reached.
std::unique_ptr<Session> ConnectWithRetry(Context& ctx, std::string_view who) {
  Backoff backoff(ctx.config.retry_max);
  for (;;) {
    Result<std::unique_ptr<Session>> session = ctx.database.Connect();
    if (session) return std::move(*session);
    spdlog::error("{}: {}", who, session.error().ToString());
    if (!ctx.stop.SleepFor(backoff.Next())) return nullptr;
  }
}

// Logs a failed call to the hub once per streak, not once per retry.
class FailureLog {
 public:
  explicit FailureLog(std::string who) : who_(std::move(who)) {}
  void Failed(Context& ctx, const std::string& why) {
    ++ctx.counters.hub_failures;
    if (streak_++ == 0) spdlog::warn("{}: {} (retrying with backoff)", who_, why);
  }
  void Succeeded() {
    if (streak_ > 0) spdlog::info("{}: the hub answers again after {} failures", who_, streak_);
    streak_ = 0;
  }

 private:
  std::string who_;
  int streak_ = 0;
};

std::string DescribeFailure(const Result<net::ClientResponse>& response) {
  if (!response) return response.error().ToString();
  return fmt::format("HTTP {}: {}", response->status, response->body.substr(0, 300));
}

// Applies one page of the feed in one transaction, the new cursor with it.
Status ApplyPage(Context& ctx, Session& session, const json::array& mutations,
                 const std::string& next, uint64_t* applied, uint64_t* unapplied) {
  CARREFOUR_RETURN_IF_ERROR(session.Begin());
  auto fail = [&](Status status) {
    session.Rollback();
    return status;
  };
  for (const json::value& item : mutations) {
    if (!item.is_object()) continue;
    const json::object& m = item.get_object();
    const std::string data_type = Text(m, "data_type");
    SqlParams params = {{"cursor", Text(m, "cursor")},   {"id", Text(m, "id")},
                        {"source", Text(m, "source")},   {"data_type", data_type},
                        {"niss", Text(m, "niss")},       {"effective", Text(m, "effective")},
                        {"data", Text(m, "data")}};
    const ApplyRule* rule = nullptr;
    for (const ApplyRule& candidate : ctx.config.feed->apply) {
      if (candidate.data_type == data_type) rule = &candidate;
    }
    std::string reason;
    if (rule == nullptr) {
      reason = "no apply statement for this data type";
    } else {
      if (const json::value* data = m.if_contains("data"); data && data->is_object()) {
        const size_t fixed = params.size();
        for (const auto& [field, value] : data->get_object()) {
          // The fixed parameters are the hub's word (the loader refuses such
          // field names): a change's field never replaces :niss or :id.
          const std::string_view name(field.data(), field.size());
          bool taken = false;
          for (size_t i = 0; i < fixed; ++i) taken = taken || params[i].first == name;
          if (!taken) params.emplace_back(std::string(field), FromJson(value));
        }
      }
      // A savepoint per change: one that the institution's schema refuses
      // (a constraint) is recorded, not allowed to block every later one.
      if (Status s = session.Savepoint("carrefour_change"); !s.ok()) return fail(s);
      Result<SqlRows> result = session.Execute(rule->statement.sql, params);
      if (result) {
        if (Status s = session.Release("carrefour_change"); !s.ok()) return fail(s);
        ++*applied;
        continue;
      }
      if (result.error().code() == StatusCode::kUnavailable) return fail(result.error());
      if (Status s = session.RollbackTo("carrefour_change"); !s.ok()) return fail(s);
      if (Status s = session.Release("carrefour_change"); !s.ok()) return fail(s);
      reason = result.error().message();
    }
    params.emplace_back("reason", reason);
    params.emplace_back("recorded_at", NowText());
    Result<SqlRows> recorded = session.Execute(kRecordUnapplied, params);
    if (!recorded) return fail(recorded.error());
    spdlog::warn("feed: mutation {} from {} ({}) not applied: {}", LogField(Text(m, "id")),
                 LogField(Text(m, "source")), LogField(data_type), LogField(reason));
    ++*unapplied;
  }
  Result<SqlRows> saved = session.Execute(kWriteState, {{"name", kFeedCursor}, {"value", next}});
  if (!saved) return fail(saved.error());
  Status committed = session.Commit();
  if (!committed.ok()) return fail(committed);
  return OkStatus();
}

}  // namespace

void RunFeed(Context& ctx) {
  const FeedConfig& feed = *ctx.config.feed;
  std::unique_ptr<Session> session = ConnectWithRetry(ctx, "feed");
  if (!session) return;
  std::string cursor = "0";
  Backoff backoff(ctx.config.retry_max);
  for (;;) {
    Result<std::optional<std::string>> stored = ReadState(*session, kFeedCursor);
    if (stored) {
      if (*stored) cursor = **stored;
      break;
    }
    spdlog::error("feed: reading the stored cursor: {}", stored.error().ToString());
    if (!ctx.stop.SleepFor(backoff.Next())) return;
  }
  backoff.Reset();
  FailureLog failures("feed");

  while (!ctx.stop.stopped()) {
    net::ClientRequest request;
    request.method = "GET";
    request.target = fmt::format("/v1/mutations/feed?after={}&limit={}&wait={}", cursor,
                                 feed.limit, feed.wait_seconds);
    request.timeout = ctx.config.hub_timeout + std::chrono::seconds(feed.wait_seconds);
    std::optional<Result<net::ClientResponse>> response = ctx.CallHub(std::move(request));
    if (!response) return;
    if (!*response || (*response)->status != 200) {
      failures.Failed(ctx, DescribeFailure(*response));
      if (!ctx.stop.SleepFor(backoff.Next())) return;
      continue;
    }
    failures.Succeeded();
    backoff.Reset();
    Result<json::object> body = api::ParseObject((*response)->body);
    const json::value* list = body ? body->if_contains("mutations") : nullptr;
    const json::value* next = body ? body->if_contains("next") : nullptr;
    if (!list || !list->is_array() || !next || !next->is_string()) {
      failures.Failed(ctx, "the feed's answer is not {\"mutations\": [...], \"next\": ...}");
      if (!ctx.stop.SleepFor(backoff.Next())) return;
      continue;
    }
    const std::string next_cursor(next->get_string());
    if (list->get_array().empty()) {
      cursor = next_cursor;
      continue;
    }
    uint64_t applied = 0, unapplied = 0;
    Status status = ApplyPage(ctx, *session, list->get_array(), next_cursor, &applied, &unapplied);
    if (!status.ok()) {
      // Nothing of the page was kept; it comes back with the next read
      // because the cursor did not move.
      spdlog::error("feed: applying a page failed, will retry: {}", status.ToString());
      if (status.code() == StatusCode::kUnavailable) session = ConnectWithRetry(ctx, "feed");
      if (!session || !ctx.stop.SleepFor(backoff.Next())) return;
      continue;
    }
    ctx.counters.feed_applied += applied;
    ctx.counters.feed_unapplied += unapplied;
    cursor = next_cursor;
  }
}

namespace {

// Builds the mutations batch from outbox rows; rows that cannot become a
// mutation are answered locally (rejected) and left out.
struct OutboxBatch {
  json::array mutations;
  std::vector<std::string> ids;  // of the mutations sent, in order
  std::vector<std::pair<std::string, std::string>> local_rejects;  // id, why
};

std::string ValueText(const SqlValue& value) {
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  if (const auto* number = std::get_if<int64_t>(&value)) return std::to_string(*number);
  if (std::holds_alternative<std::monostate>(value)) return {};
  return DescribeValue(value);
}

OutboxBatch BuildOutboxBatch(const SqlRows& rows) {
  OutboxBatch out;
  for (const std::vector<SqlValue>& row : rows.rows) {
    json::object mutation;
    json::object data;
    std::string id, error;
    for (size_t i = 0; i < rows.columns.size(); ++i) {
      const std::string& column = rows.columns[i];
      if (column == "id") {
        id = ValueText(row[i]);
      } else if (column == "data_type" || column == "niss" || column == "effective") {
        mutation[column] = ValueText(row[i]);
      } else if (column == "data") {
        Result<json::object> parsed = api::ParseObject(ValueText(row[i]));
        if (!parsed) {
          error = "column data is not a JSON object: " + parsed.error().message();
        } else {
          for (auto& [key, value] : *parsed) data[key] = value;
        }
      } else {
        data[column] = ToJson(row[i]);
      }
    }
    if (id.empty()) continue;  // nothing to mark it by: the select is wrong
    if (!error.empty()) {
      out.local_rejects.emplace_back(id, error);
      continue;
    }
    mutation["id"] = id;
    mutation["data"] = std::move(data);
    out.mutations.push_back(std::move(mutation));
    out.ids.push_back(id);
  }
  return out;
}

std::string ErrorText(const json::value& result) {
  const json::value* error = result.is_object() ? result.get_object().if_contains("error") : nullptr;
  if (error == nullptr || !error->is_object()) return {};
  return fmt::format("{}: {}", Text(error->get_object(), "code"),
                     Text(error->get_object(), "message"));
}

// Posts `body` until the hub gives an answer that is not a transient failure
// (200/202, or a 400 that retrying cannot fix). nullopt when stopping.
std::optional<net::ClientResponse> PostUntilAnswered(Context& ctx, const std::string& target,
                                                     const std::string& body,
                                                     FailureLog& failures) {
  Backoff backoff(ctx.config.retry_max);
  for (;;) {
    net::ClientRequest request;
    request.target = target;
    request.body = body;
    std::optional<Result<net::ClientResponse>> response = ctx.CallHub(std::move(request));
    if (!response) return std::nullopt;
    if (*response && ((*response)->status / 100 == 2 || (*response)->status == 400)) {
      failures.Succeeded();
      return std::move(**response);
    }
    failures.Failed(ctx, DescribeFailure(*response));
    if (!ctx.stop.SleepFor(backoff.Next())) return std::nullopt;
  }
}

// Runs `mark` for each (key, status, error) in one transaction.
Status MarkAll(Session& session, const std::string& sql, const std::string& key_name,
               const std::vector<SqlParams>& marks) {
  CARREFOUR_RETURN_IF_ERROR(session.Begin());
  for (const SqlParams& params : marks) {
    Result<SqlRows> done = session.Execute(sql, params);
    if (!done) {
      session.Rollback();
      return done.error().WithContext(key_name);
    }
  }
  Status committed = session.Commit();
  if (!committed.ok()) session.Rollback();
  return committed;
}

}  // namespace

void RunOutbox(Context& ctx) {
  const OutboxConfig& outbox = *ctx.config.outbox;
  std::unique_ptr<Session> session = ConnectWithRetry(ctx, "outbox");
  FailureLog failures("outbox");
  Backoff db_backoff(ctx.config.retry_max);
  while (session && !ctx.stop.stopped()) {
    Result<SqlRows> rows =
        session->Execute(outbox.select.sql, {{"limit", static_cast<int64_t>(outbox.batch)}});
    if (!rows) {
      spdlog::error("outbox: select failed: {}", rows.error().ToString());
      if (!ctx.stop.SleepFor(db_backoff.Next())) return;
      continue;
    }
    if (rows->rows.empty()) {
      db_backoff.Reset();
      if (!ctx.stop.SleepFor(outbox.poll)) return;
      continue;
    }
    OutboxBatch batch = BuildOutboxBatch(*rows);
    std::vector<SqlParams> marks;
    for (auto& [id, why] : batch.local_rejects) {
      marks.push_back({{"id", id}, {"status", "rejected"}, {"error", why}, {"subscribers", int64_t{0}}});
    }
    if (!batch.mutations.empty()) {
      json::object body;
      body["mutations"] = std::move(batch.mutations);
      std::optional<net::ClientResponse> response =
          PostUntilAnswered(ctx, "/v1/mutations", api::Serialize(body), failures);
      if (!response) return;
      Result<json::object> answer = api::ParseObject(response->body);
      const json::value* results = answer ? answer->if_contains("results") : nullptr;
      if (response->status == 202 && results && results->is_array() &&
          results->get_array().size() == batch.ids.size()) {
        const json::array& list = results->get_array();
        for (size_t i = 0; i < list.size(); ++i) {
          const std::string status = list[i].is_object() ? Text(list[i].get_object(), "status") : "";
          std::string error = ErrorText(list[i]);
          SqlValue subscribers = std::monostate{};
          if (const json::value* n = list[i].is_object() ? list[i].get_object().if_contains("subscribers") : nullptr;
              n && n->is_int64()) {
            subscribers = n->get_int64();
          }
          marks.push_back({{"id", batch.ids[i]},
                           {"status", status.empty() ? "rejected" : status},
                           {"error", error.empty() ? SqlValue{} : SqlValue{error}},
                           {"subscribers", subscribers}});
        }
      } else {
        // A batch the hub refused whole (400): retrying would not help.
        std::string why = answer ? ErrorText(json::value(*answer)) : response->body.substr(0, 300);
        spdlog::error("outbox: the hub refused a batch of {}: {}", batch.ids.size(), LogField(why));
        for (const std::string& id : batch.ids) {
          marks.push_back({{"id", id}, {"status", "rejected"}, {"error", why}, {"subscribers", SqlValue{}}});
        }
      }
    }
    uint64_t accepted = 0, rejected = 0;
    for (const SqlParams& mark : marks) {
      const std::string& status = std::get<std::string>(mark[1].second);
      (status == "rejected" ? rejected : accepted) += 1;
    }
    // Should marking fail, the rows are sent again later: the hub answers
    // "duplicate" for those already accepted, and the mark is retried.
    Status marked = MarkAll(*session, outbox.mark.sql, "outbox mark", marks);
    if (!marked.ok()) {
      spdlog::error("outbox: marking rows failed, will resend: {}", marked.ToString());
      if (!ctx.stop.SleepFor(db_backoff.Next())) return;
      continue;
    }
    db_backoff.Reset();
    ctx.counters.outbox_accepted += accepted;
    ctx.counters.outbox_rejected += rejected;
  }
}

namespace {

struct Entry {
  std::string key;  // table mode: the row's key; CSV mode: the line number
  json::object entry;
};

// Sends entries and returns one mark per entry; nullopt when stopping.
std::optional<std::vector<SqlParams>> SendEntries(Context& ctx, std::vector<Entry>& entries,
                                                  FailureLog& failures) {
  json::array list;
  for (Entry& entry : entries) list.push_back(entry.entry);
  json::object body;
  body["entries"] = std::move(list);
  std::optional<net::ClientResponse> response =
      PostUntilAnswered(ctx, "/v1/directory/entries", api::Serialize(body), failures);
  if (!response) return std::nullopt;
  std::vector<SqlParams> marks(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    marks[i] = {{"key", entries[i].key}, {"status", "rejected"}, {"error", SqlValue{}}};
  }
  Result<json::object> answer = api::ParseObject(response->body);
  const json::value* results = answer ? answer->if_contains("results") : nullptr;
  if (response->status != 200 || !results || !results->is_array()) {
    std::string why = answer ? ErrorText(json::value(*answer)) : response->body.substr(0, 300);
    for (SqlParams& mark : marks) mark[2].second = why;
    return marks;
  }
  for (const json::value& result : results->get_array()) {
    if (!result.is_object()) continue;
    const json::value* index = result.get_object().if_contains("index");
    if (!index || !index->is_int64() || index->get_int64() < 0 ||
        static_cast<size_t>(index->get_int64()) >= marks.size()) {
      continue;
    }
    SqlParams& mark = marks[static_cast<size_t>(index->get_int64())];
    std::string status = Text(result.get_object(), "status");
    mark[1].second = status == "ok" ? "ok" : "rejected";
    if (std::string error = ErrorText(result); !error.empty()) mark[2].second = error;
  }
  return marks;
}

void Count(Context& ctx, const std::vector<SqlParams>& marks) {
  for (const SqlParams& mark : marks) {
    if (std::get<std::string>(mark[1].second) == "ok") {
      ++ctx.counters.integrations_ok;
    } else {
      ++ctx.counters.integrations_rejected;
    }
  }
}

json::object EntryFrom(const std::string& action, const std::string& niss,
                       const std::string& capacity, const std::string& from,
                       const std::string& to) {
  json::object entry;
  entry["action"] = action;
  entry["niss"] = niss;
  entry["capacity"] = capacity;
  entry["from"] = from;
  entry["to"] = to.empty() ? json::value(nullptr) : json::value(to);
  return entry;
}

void RunIntegrationTable(Context& ctx, Session& session, FailureLog& failures) {
  const IntegrationsConfig& config = *ctx.config.integrations;
  Backoff db_backoff(ctx.config.retry_max);
  while (!ctx.stop.stopped()) {
    Result<SqlRows> rows =
        session.Execute(config.select->sql, {{"limit", static_cast<int64_t>(config.batch)}});
    if (!rows) {
      spdlog::error("integrations: select failed: {}", rows.error().ToString());
      if (!ctx.stop.SleepFor(db_backoff.Next())) return;
      continue;
    }
    if (rows->rows.empty()) {
      if (!ctx.stop.SleepFor(config.poll)) return;
      continue;
    }
    std::vector<Entry> entries;
    for (const std::vector<SqlValue>& row : rows->rows) {
      std::string values[6];  // key, action, niss, capacity, from, to
      constexpr std::string_view kColumns[] = {"key", "action", "niss", "capacity", "from", "to"};
      for (size_t i = 0; i < rows->columns.size(); ++i) {
        for (size_t k = 0; k < 6; ++k) {
          if (rows->columns[i] == kColumns[k]) values[k] = ValueText(row[i]);
        }
      }
      entries.push_back(Entry{values[0], EntryFrom(values[1], values[2], values[3], values[4], values[5])});
    }
    std::optional<std::vector<SqlParams>> marks = SendEntries(ctx, entries, failures);
    if (!marks) return;
    Status marked = MarkAll(session, config.mark->sql, "integrations mark", *marks);
    if (!marked.ok()) {
      spdlog::error("integrations: marking rows failed, will resend: {}", marked.ToString());
      if (!ctx.stop.SleepFor(db_backoff.Next())) return;
      continue;
    }
    Count(ctx, *marks);
  }
}

// CSV mode: lines past the stored progress are sent in batches; results go
// to CSV.results; progress (lines done) is stored after each batch. A crash
// between the two re-sends that batch, which the hub takes again ("add" is
// idempotent).
void RunIntegrationCsv(Context& ctx, Session& session, FailureLog& failures) {
  const IntegrationsConfig& config = *ctx.config.integrations;
  const std::string path = config.csv->string();
  const std::string state_key = "integrations.csv:" + path;
  while (!ctx.stop.stopped()) {
    // Progress is "LINES OFFSET": lines already sent and the byte offset
    // after them, so that a large file is not re-read from the start.
    size_t done = 0;
    std::streamoff offset = 0;
    if (Result<std::optional<std::string>> stored = ReadState(session, state_key); stored && *stored) {
      std::istringstream(**stored) >> done >> offset;
    }
    std::ifstream in(path);
    if (!in) {
      spdlog::warn("integrations: cannot read {}; will look again", path);
      if (!ctx.stop.SleepFor(config.poll * 10)) return;
      continue;
    }
    in.seekg(offset);
    std::vector<Entry> entries;
    std::vector<std::vector<std::string>> invalid;  // results of records refused here
    csv::Reader reader(in, csv::Dialect{.trim_spaces = true, .multiline_fields = false});
    size_t number = done;  // lines done, after the records taken
    std::streamoff end = offset;
    while (entries.size() + invalid.size() < config.batch && reader.Next()) {
      // A last record without its line break may still be being written.
      if (!reader.terminated()) break;
      const size_t line = done + reader.first_line();
      number = done + reader.lines_read();
      end = offset + static_cast<std::streamoff>(reader.bytes_read());
      const std::vector<std::string>& fields = reader.fields();
      if (line == 1 && !fields.empty() && fields[0] == "action") continue;  // header
      if (reader.blank()) continue;
      if (!reader.status().ok() || fields.size() != 5) {
        invalid.push_back({std::to_string(line), "rejected",
                           "invalid-request: " + (reader.status().ok()
                                                      ? std::string("expected action,niss,capacity,from,to")
                                                      : reader.status().message())});
        continue;
      }
      entries.push_back(Entry{std::to_string(line),
                              EntryFrom(fields[0], fields[1], fields[2], fields[3], fields[4])});
    }
    const std::string progress = fmt::format("{} {}", number, end);
    if (entries.empty() && invalid.empty()) {
      if (number > done) (void)session.Execute(kWriteState, {{"name", state_key}, {"value", progress}});
      if (!ctx.stop.SleepFor(config.poll)) return;
      continue;
    }
    std::vector<SqlParams> marks;
    if (!entries.empty()) {
      std::optional<std::vector<SqlParams>> sent = SendEntries(ctx, entries, failures);
      if (!sent) return;
      marks = std::move(*sent);
    }
    std::string lines;  // CSV too: error messages hold commas and quotes
    for (const std::vector<std::string>& result : invalid) csv::AppendRecord(lines, result);
    for (const SqlParams& mark : marks) {
      const SqlValue& error = mark[2].second;
      csv::AppendRecord(lines, {std::get<std::string>(mark[0].second),
                                std::get<std::string>(mark[1].second),
                                std::holds_alternative<std::string>(error) ? std::get<std::string>(error)
                                                                           : std::string()});
    }
    std::ofstream results(path + ".results", std::ios::app);
    results << lines;
    results.flush();
    Count(ctx, marks);
    ctx.counters.integrations_rejected += invalid.size();
    (void)session.Execute(kWriteState, {{"name", state_key}, {"value", progress}});
  }
}

}  // namespace

void RunIntegrations(Context& ctx) {
  std::unique_ptr<Session> session = ConnectWithRetry(ctx, "integrations");
  if (!session) return;
  FailureLog failures("integrations");
  if (ctx.config.integrations->csv) {
    RunIntegrationCsv(ctx, *session, failures);
  } else {
    RunIntegrationTable(ctx, *session, failures);
  }
}

}  // namespace carrefour::connector::internal
