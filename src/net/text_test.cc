#include "net/internal/text.h"

#include <gtest/gtest.h>

namespace carrefour::net::internal {
namespace {

TEST(PercentDecode, DecodesAndRefusesBadEscapes) {
  struct Case {
    std::string in;
    bool plus_is_space;
    std::optional<std::string> out;
  };
  const Case cases[] = {
      {"plain", false, "plain"},
      {"a%20b", false, "a b"},
      {"a%2Fb%2f", false, "a/b/"},
      {"a+b", false, "a+b"},
      {"a+b", true, "a b"},
      {"%41%62", true, "Ab"},
      {"%", false, std::nullopt},
      {"%4", false, std::nullopt},
      {"ab%", false, std::nullopt},
      {"%zz", false, std::nullopt},
      {"%4g", false, std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(PercentDecode(c.in, c.plus_is_space), c.out);
  }
}

TEST(ParseTarget, SplitsPathAndQuery) {
  using Query = std::vector<std::pair<std::string, std::string>>;
  struct Case {
    std::string target;
    bool ok;
    std::string path;
    Query query;
  };
  const Case cases[] = {
      {"/", true, "/", {}},
      {"/v1/mutations/feed?after=0&limit=10&wait=30", true, "/v1/mutations/feed",
       {{"after", "0"}, {"limit", "10"}, {"wait", "30"}}},
      {"/a%20b?x=1+2&&y&=z", true, "/a b", {{"x", "1 2"}, {"y", ""}, {"", "z"}}},
      {"/a?x=1#frag", true, "/a", {{"x", "1"}}},
      {"/a?niss=85.07.30-033.28", true, "/a", {{"niss", "85.07.30-033.28"}}},
      {"/a?x=%", false, "", {}},
      {"/a%g0", false, "", {}},
      {"*", false, "", {}},
      {"http://host/a", false, "", {}},
      {"", false, "", {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.target);
    std::string path;
    Query query;
    Status status = ParseTarget(c.target, &path, &query);
    EXPECT_EQ(status.ok(), c.ok) << status.ToString();
    if (!c.ok) {
      EXPECT_EQ(status.code(), StatusCode::kInvalidRequest);
      continue;
    }
    EXPECT_EQ(path, c.path);
    EXPECT_EQ(query, c.query);
  }
}

TEST(AppendJsonString, EscapesWhatJsonRequires) {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"plain", R"("plain")"},
      {"quote \" and \\", R"("quote \" and \\")"},
      {"line\nbreak\ttab\r", R"("line\nbreak\ttab\r")"},
      {std::string("nul\0x", 5), R"("nul\u0000x")"},
      {"\x1f", R"("\u001f")"},
      {"é", "\"é\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.out);
    std::string out;
    AppendJsonString(c.in, &out);
    EXPECT_EQ(out, c.out);
  }
}

}  // namespace
}  // namespace carrefour::net::internal
