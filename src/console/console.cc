// SPDX-License-Identifier: EUPL-1.2
#include "console/console.h"

#include <algorithm>
#include <string>
#include <vector>

#include "console/internal/embedded.h"

namespace carrefour::console {
namespace {

std::string_view ContentTypeOf(std::string_view path) {
  struct Type {
    std::string_view extension, content_type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},  {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},              {".svg", "image/svg+xml"},
      {".png", "image/png"},                      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},      {".woff2", "font/woff2"},
  };
  for (const Type& type : kTypes) {
    if (path.ends_with(type.extension)) return type.content_type;
  }
  return "application/octet-stream";
}

struct Table {
  std::vector<std::string> etags;  // own the quoted strings the assets view
  std::vector<Asset> assets;
};

const Table& TheTable() {
  // Built once, on first use; read-only afterwards, so any thread may read.
  static const Table table = [] {
    Table built;
    built.etags.reserve(internal::kEmbeddedFileCount);
    for (size_t i = 0; i < internal::kEmbeddedFileCount; ++i) {
      built.etags.push_back("\"" + std::string(internal::kEmbeddedFiles[i].sha256) + "\"");
    }
    for (size_t i = 0; i < internal::kEmbeddedFileCount; ++i) {
      const internal::EmbeddedFile& file = internal::kEmbeddedFiles[i];
      built.assets.push_back(Asset{
          file.path, ContentTypeOf(file.path),
          std::string_view(reinterpret_cast<const char*>(file.data), file.size), built.etags[i]});
    }
    std::sort(built.assets.begin(), built.assets.end(),
              [](const Asset& a, const Asset& b) { return a.path < b.path; });
    return built;
  }();
  return table;
}

}  // namespace

const Asset* Lookup(std::string_view path) {
  if (path == "/") path = "/index.html";
  const std::vector<Asset>& assets = TheTable().assets;
  auto found = std::lower_bound(assets.begin(), assets.end(), path,
                                [](const Asset& asset, std::string_view p) { return asset.path < p; });
  if (found == assets.end() || found->path != path) return nullptr;
  return &*found;
}

std::span<const Asset> Assets() { return TheTable().assets; }

}  // namespace carrefour::console
