#include "pipeline/json_text.h"

#include <gtest/gtest.h>

namespace needle {
namespace {

std::string Quoted(std::string_view text) {
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

TEST(JsonTextTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Quoted("a\"b\\c\nd\te\x01"), R"("a\"b\\c\nd\te\u0001")");
}

TEST(JsonTextTest, CopiesMultibyteUtf8Unchanged) {
  EXPECT_EQ(Quoted("Café 人権 🙂"), "\"Café 人権 🙂\"");
}

TEST(JsonTextTest, EncodesBase64WithPadding) {
  std::string out;
  AppendBase64("Man", &out);
  AppendBase64("Ma", &out);
  AppendBase64("M", &out);
  AppendBase64("\xC3\x28", &out);
  EXPECT_EQ(out, "TWFuTWE=TQ==wyg=");
}

TEST(JsonTextTest, Utf8PrefixNeverEndsInsideACharacter) {
  const std::string text = "ab\xC3\xA9";  // "abé"
  EXPECT_EQ(Utf8Prefix(text, 3), "ab");
  EXPECT_EQ(Utf8Prefix(text, 4), text);
  EXPECT_EQ(Utf8Prefix(text, 10), text);
}

TEST(JsonTextTest, RoundsNumbersToSixDecimals) {
  std::string out;
  AppendJsonNumber(0.1234567, &out);
  out += ' ';
  AppendJsonNumber(2.0, &out);
  out += ' ';
  AppendJsonNumber(-0.0000001, &out);
  out += ' ';
  AppendJsonNumber(1.0 / 0.0, &out);
  EXPECT_EQ(out, "0.123457 2 0 null");
}

}  // namespace
}  // namespace needle
