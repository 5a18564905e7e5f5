#include "integration/internal/csv.h"

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace carrefour::integration::internal {
namespace {

TEST(SplitCsvLine, FieldsAndErrors) {
  struct Case {
    std::string line;
    std::vector<std::string> fields;  // empty when an error is expected
    std::string error;                // a part of its message
  };
  const std::vector<Case> cases = {
      {"a,b,c", {"a", "b", "c"}, ""},
      {"", {""}, ""},
      {"a,,c,", {"a", "", "c", ""}, ""},
      {" a , b\t,c ", {"a", "b", "c"}, ""},
      {"\"a,b\",c", {"a,b", "c"}, ""},
      {"\"say \"\"hi\"\"\",x", {"say \"hi\"", "x"}, ""},
      {"\"\",x", {"", "x"}, ""},
      {" \"q\" ,x", {"q", "x"}, ""},
      {"\"open,x", {}, "not closed"},
      {"a\"b,c", {}, "quote inside unquoted field 1"},
      {"a,b\"", {}, "quote inside unquoted field 2"},
      {"\"a\"b,c", {}, "after the closing quote of field 1"},
  };
  std::vector<std::string> fields;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    size_t count = 0;
    Status status = SplitCsvLine(c.line, &fields, &count);
    if (!c.error.empty()) {
      ASSERT_FALSE(status.ok());
      EXPECT_EQ(status.code(), StatusCode::kInvalidRequest);
      EXPECT_NE(status.message().find(c.error), std::string::npos) << status.message();
      continue;
    }
    ASSERT_TRUE(status.ok()) << status.ToString();
    EXPECT_EQ(std::vector<std::string>(fields.begin(), fields.begin() + count), c.fields);
  }
}

TEST(LineReader, LinesNumbersAndLimits) {
  std::string long_line(LineReader::kMaxLine + 10, 'x');
  std::string exact_line(LineReader::kMaxLine, 'y');
  std::istringstream input("first\r\n\nthird\n" + long_line + "\n" + exact_line + "\nlast");
  LineReader reader(input);
  struct Expected {
    std::string text;
    bool too_long;
  };
  const std::vector<Expected> expected = {
      {"first", false},
      {"", false},
      {"third", false},
      {std::string(LineReader::kMaxLine, 'x'), true},
      {exact_line, false},
      {"last", false},
  };
  std::string_view line;
  bool too_long = false;
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(reader.Next(&line, &too_long));
    EXPECT_EQ(reader.line_number(), i + 1);
    EXPECT_EQ(line, expected[i].text);
    EXPECT_EQ(too_long, expected[i].too_long);
  }
  EXPECT_FALSE(reader.Next(&line, &too_long));
  EXPECT_FALSE(reader.failed());
  EXPECT_EQ(reader.bytes_read(), input.str().size());
}

TEST(LineReader, EmptyInputHasNoLines) {
  std::istringstream input("");
  LineReader reader(input);
  std::string_view line;
  bool too_long = false;
  EXPECT_FALSE(reader.Next(&line, &too_long));
}

}  // namespace
}  // namespace carrefour::integration::internal
