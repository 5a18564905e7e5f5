// SPDX-License-Identifier: EUPL-1.2
#include "core/csv.h"

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace carrefour::csv {
namespace {

using Fields = std::vector<std::string>;

struct Case {
  std::string text;
  Fields fields;      // empty when an error is expected
  std::string error;  // a part of its message
};

void Check(const std::vector<Case>& cases, const Dialect& dialect) {
  Fields fields;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    size_t pos = 0;
    Result<Parsed> parsed = ParseRecord(c.text, &pos, &fields, dialect);
    if (!c.error.empty()) {
      ASSERT_FALSE(parsed.has_value());
      EXPECT_EQ(parsed.error().code(), StatusCode::kInvalidRequest);
      EXPECT_NE(parsed.error().message().find(c.error), std::string::npos)
          << parsed.error().message();
      continue;
    }
    ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
    ASSERT_EQ(*parsed, Parsed::kRecord);
    EXPECT_EQ(fields, c.fields);
    EXPECT_EQ(pos, c.text.size());
  }
}

TEST(CsvParseRecord, Rfc4180) {
  Check({
            {"a,b,c", {"a", "b", "c"}, ""},
            {"a,,c,", {"a", "", "c", ""}, ""},
            {" a , b", {" a ", " b"}, ""},  // spaces are data
            {"\"a,b\",c", {"a,b", "c"}, ""},
            {"\"say \"\"hi\"\"\",x", {"say \"hi\"", "x"}, ""},
            {"\"\",x", {"", "x"}, ""},
            {"\"two\nlines\",x\n", {"two\nlines", "x"}, ""},
            {"\"crlf\r\ninside\",x\r\n", {"crlf\r\ninside", "x"}, ""},
            {"a,b\r\n", {"a", "b"}, ""},
            {"a\"b,c", {}, "quote inside unquoted field 1"},
            {"a,b\"", {}, "quote inside unquoted field 2"},
            {"\"a\"b,c", {}, "after the closing quote of field 1"},
            {" \"q\",x", {}, "quote inside unquoted field 1"},
        },
        Dialect{});
}

TEST(CsvParseRecord, TrimmedSpaces) {
  Check({
            {" a , b\t,c ", {"a", "b", "c"}, ""},
            {" \"q\" ,x", {"q", "x"}, ""},
            {"\" keep \",x", {" keep ", "x"}, ""},
            {"\"a\" b,c", {}, "after the closing quote of field 1"},
        },
        Dialect{.trim_spaces = true});
}

TEST(CsvParseRecord, RecordsFollowOneAnotherAndAnOpenQuoteIsIncomplete) {
  const std::string text = "a,b\n\"x\ny\",z\n";
  Fields fields;
  size_t pos = 0;
  ASSERT_EQ(*ParseRecord(text, &pos, &fields), Parsed::kRecord);
  EXPECT_EQ(fields, (Fields{"a", "b"}));
  ASSERT_EQ(*ParseRecord(text, &pos, &fields), Parsed::kRecord);
  EXPECT_EQ(fields, (Fields{"x\ny", "z"}));
  EXPECT_EQ(*ParseRecord(text, &pos, &fields), Parsed::kEnd);

  pos = 0;
  EXPECT_EQ(*ParseRecord("a,\"open", &pos, &fields), Parsed::kIncomplete);
  EXPECT_EQ(pos, 0u);
  EXPECT_EQ(*ParseRecord("\"x\"\"", &pos, &fields), Parsed::kIncomplete);  // "" is a quote
}

TEST(CsvWriter, QuotesWhatNeedsItAndReadsBack) {
  const Fields fields = {"plain", "a,b", "say \"hi\"", "two\nlines", "", "cr\r"};
  std::string out;
  AppendRecord(out, fields);
  EXPECT_EQ(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,\"cr\r\"\n");
  Fields read;
  size_t pos = 0;
  ASSERT_EQ(*ParseRecord(out, &pos, &read), Parsed::kRecord);
  EXPECT_EQ(read, fields);
  EXPECT_EQ(pos, out.size());
}

TEST(CsvReader, RecordsLinesAndBytes) {
  std::string long_line(Reader::kMaxRecord + 10, 'x');
  std::string exact_line(Reader::kMaxRecord, 'y');
  std::istringstream input("first,1\r\n\n\"multi\nline, with \"\"quotes\"\"\",2\n" + long_line +
                           "\n" + exact_line + "\nbad\"quote\n  \nlast");
  Reader reader(input, Dialect{.trim_spaces = true, .multiline_fields = true});
  struct Expected {
    size_t first_line;
    Fields fields;
    std::string error;
    bool blank;
    bool terminated;
  };
  const std::vector<Expected> expected = {
      {1, {"first", "1"}, "", false, true},
      {2, {""}, "", true, true},
      {3, {"multi\nline, with \"quotes\"", "2"}, "", false, true},
      {5, {}, "longer than 8192 bytes", false, true},
      {6, {exact_line}, "", false, true},
      {7, {}, "quote inside unquoted field 1", false, true},
      {8, {""}, "", true, true},
      {9, {"last"}, "", false, false},
  };
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.first_line);
    ASSERT_TRUE(reader.Next());
    EXPECT_EQ(reader.first_line(), e.first_line);
    if (e.error.empty()) {
      EXPECT_TRUE(reader.status().ok()) << reader.status().ToString();
    } else {
      EXPECT_NE(reader.status().message().find(e.error), std::string::npos)
          << reader.status().ToString();
    }
    EXPECT_EQ(reader.fields(), e.fields);
    EXPECT_EQ(reader.blank(), e.blank);
    EXPECT_EQ(reader.terminated(), e.terminated);
  }
  EXPECT_FALSE(reader.Next());
  EXPECT_FALSE(reader.failed());
  EXPECT_EQ(reader.lines_read(), 9u);
  EXPECT_EQ(reader.bytes_read(), input.str().size());
}

TEST(CsvReader, AQuoteOpenAtTheEndIsNotClosedNorTerminated) {
  std::istringstream input("a,\"open\nstill open");
  Reader reader(input);
  ASSERT_TRUE(reader.Next());
  EXPECT_NE(reader.status().message().find("not closed"), std::string::npos);
  EXPECT_FALSE(reader.terminated());
  EXPECT_FALSE(reader.Next());
}

TEST(CsvReader, ARecordOverTheLimitAcrossLinesIsRefused) {
  std::string text = "\"";
  for (int i = 0; i < 200; ++i) text += std::string(60, 'z') + "\n";
  text += "\",x\nnext,1\n";
  std::istringstream input(text);
  Reader reader(input);
  ASSERT_TRUE(reader.Next());
  EXPECT_NE(reader.status().message().find("longer than"), std::string::npos);
  EXPECT_TRUE(reader.fields().empty());
}

TEST(CsvReader, WithoutMultilineFieldsAnOpenQuoteIsAnErrorOfItsLineAlone) {
  std::istringstream input("a,\"open\nb,\"c\"\n");
  Reader reader(input, Dialect{.multiline_fields = false});
  ASSERT_TRUE(reader.Next());
  EXPECT_NE(reader.status().message().find("not closed on its line"), std::string::npos);
  EXPECT_TRUE(reader.terminated());
  ASSERT_TRUE(reader.Next());
  EXPECT_TRUE(reader.status().ok()) << reader.status().ToString();
  EXPECT_EQ(reader.first_line(), 2u);
  EXPECT_EQ(reader.fields(), (Fields{"b", "c"}));
  EXPECT_FALSE(reader.Next());
}

TEST(CsvReader, EmptyInputHasNoRecords) {
  std::istringstream input("");
  Reader reader(input);
  EXPECT_FALSE(reader.Next());
}

}  // namespace
}  // namespace carrefour::csv
