// SPDX-License-Identifier: EUPL-1.2
#include "store/store.h"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace carrefour::store {
namespace {

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

Result<std::unique_ptr<Store>> OpenSqlite(std::string_view url, const Clock& clock) {
  // "sqlite://PATH" and "sqlite:PATH" name the same file, so
  // "sqlite:///var/lib/hub.db" and "sqlite:/var/lib/hub.db" are both absolute.
  std::string_view path = url.substr(std::string_view("sqlite:").size());
  if (StartsWith(path, "//")) path.remove_prefix(2);
  if (path.empty()) return Error(InvalidRequest("store URL 'sqlite:' names no file"));
  if (path == ":memory:" || StartsWith(path, "file:")) {
    // Each pooled connection would get its own private database.
    return Error(InvalidRequest(
        fmt::format("store URL '{}': the SQLite engine needs a file path", url)));
  }
  std::filesystem::path file{std::string(path)};
  if (file.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(file.parent_path(), error);
    if (error) {
      return Error(Unavailable(fmt::format("sqlite: cannot create the folder {}: {}",
                                           file.parent_path().string(), error.message())));
    }
  }
  return sqlite::OpenSqliteStore(file.string(), clock);
}

}  // namespace

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const Clock& clock) {
  if (StartsWith(url, "sqlite:")) return OpenSqlite(url, clock);
  if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) {
    return postgres::OpenPostgresStore(std::string(url), clock);
  }
  // Only the scheme is echoed: a URL may carry a password.
  std::string_view scheme = url.substr(0, url.find(':'));
  return Error(InvalidRequest(fmt::format(
      "store URL of scheme '{}' names no known engine (expected sqlite:PATH or "
      "postgresql://...)",
      scheme)));
}

}  // namespace carrefour::store
