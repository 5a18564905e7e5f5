// SPDX-License-Identifier: EUPL-1.2
// The embedded console: the files of web/console/ byte for byte, the right
// content types, nothing outside them, nothing fetched from another host.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "console/console.h"

namespace carrefour::console {
namespace {

std::filesystem::path SourceFolder() {
  const char* root = std::getenv("CARREFOUR_SOURCE_DIR");
  return std::filesystem::path(root ? root : ".") / "web" / "console";
}

std::string ReadFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

TEST(Console, ServesItsPageAtTheRoot) {
  const Asset* root = Lookup("/");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->path, "/index.html");
  EXPECT_EQ(root->content_type, "text/html; charset=utf-8");
  EXPECT_NE(root->body.find("<!doctype html>"), std::string_view::npos);
  EXPECT_EQ(Lookup("/index.html"), root);
}

TEST(Console, EmbedsEveryFileOfWebConsoleByteForByte) {
  const std::filesystem::path folder = SourceFolder();
  ASSERT_TRUE(std::filesystem::is_directory(folder)) << folder;
  size_t files = 0;
  for (const auto& item : std::filesystem::recursive_directory_iterator(folder)) {
    if (!item.is_regular_file()) continue;
    std::string relative = "/" + std::filesystem::relative(item.path(), folder).generic_string();
    if (relative.find("/.") != std::string::npos || relative.ends_with("~")) continue;
    SCOPED_TRACE(relative);
    ++files;
    const Asset* asset = Lookup(relative);
    ASSERT_NE(asset, nullptr);
    EXPECT_EQ(asset->body, ReadFile(item.path()));
    ASSERT_EQ(asset->etag.size(), 66u);  // a quoted hex SHA-256
    EXPECT_EQ(asset->etag.front(), '"');
    EXPECT_EQ(asset->etag.back(), '"');
  }
  EXPECT_EQ(Assets().size(), files);
}

TEST(Console, GivesEachKindOfFileItsContentType) {
  struct Case {
    const char* path;
    const char* content_type;
  };
  for (const Case& c : {Case{"/console.css", "text/css; charset=utf-8"},
                        Case{"/js/app.js", "text/javascript; charset=utf-8"},
                        Case{"/favicon.svg", "image/svg+xml"}}) {
    SCOPED_TRACE(c.path);
    const Asset* asset = Lookup(c.path);
    ASSERT_NE(asset, nullptr);
    EXPECT_EQ(asset->content_type, c.content_type);
  }
}

TEST(Console, FindsNothingOutsideItsFiles) {
  for (const char* path : {"", "index.html", "/../index.html", "//index.html", "/index.html/",
                           "/js", "/js/", "/JS/app.js", "/js/../js/app.js", "/etc/passwd",
                           "/%2e%2e/index.html", "/v1/admin/network"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(Lookup(path), nullptr);
  }
}

// The console must work on a machine without network access: no script,
// style sheet, font or image from another host (the SVG namespace is a name,
// not a download).
TEST(Console, LoadsNothingFromAnotherHost) {
  for (const Asset& asset : Assets()) {
    SCOPED_TRACE(asset.path);
    for (std::string_view scheme : {"http://", "https://"}) {
      for (size_t at = asset.body.find(scheme); at != std::string_view::npos;
           at = asset.body.find(scheme, at + 1)) {
        EXPECT_TRUE(asset.body.substr(at + scheme.size()).starts_with("www.w3.org/"))
            << asset.body.substr(at, 60);
      }
    }
  }
}

}  // namespace
}  // namespace carrefour::console
