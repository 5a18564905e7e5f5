// SPDX-License-Identifier: EUPL-1.2
#include "core/json_text.h"

#include <gtest/gtest.h>

#include <string>

namespace carrefour {
namespace {

TEST(AppendJsonString, EscapesWhatJsonRequires) {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"plain", R"("plain")"},
      {"quote \" and \\", R"("quote \" and \\")"},
      {"line\nbreak\ttab\r", R"("line\nbreak\ttab\r")"},
      {"\b\f", R"("\b\f")"},
      {std::string("nul\0x", 5), R"("nul\u0000x")"},
      {"\x1f", R"("\u001f")"},
      {"\x1b[31m", R"("\u001b[31m")"},
      {"é", "\"é\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.out);
    std::string out;
    AppendJsonString(c.in, &out);
    EXPECT_EQ(out, c.out);
  }
}

TEST(AppendJsonString, Appends) {
  std::string out = "{\"id\":";
  AppendJsonString("m1", &out);
  out += "}";
  EXPECT_EQ(out, R"({"id":"m1"})");
}

}  // namespace
}  // namespace carrefour
