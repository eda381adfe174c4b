#include "net/log.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace smsx::net {
namespace {

std::string format(std::int64_t unix_ms, LogLevel level, const char* fmt, ...) {
  char line[kLogLineBytesMax];
  va_list args;
  va_start(args, fmt);
  const std::size_t length = format_log_line(line, sizeof line, unix_ms, level, fmt, args);
  va_end(args);
  return std::string(line, length);
}

// Captures lines instead of writing to stderr; restores the defaults afterwards.
class LogCapture : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_level_ = log_level();
    set_log_sink(
        [](std::string_view line, void* context) {
          static_cast<std::vector<std::string>*>(context)->emplace_back(line);
        },
        &lines_);
  }
  void TearDown() override {
    set_log_sink(nullptr, nullptr);
    set_log_level(saved_level_);
  }

  std::vector<std::string> lines_;
  LogLevel saved_level_ = LogLevel::kInfo;
};

TEST(LogFormat, TimestampLevelAndMessage) {
  EXPECT_EQ(format(1764000000123, LogLevel::kInfo, "listening on %s:%d", "127.0.0.1", 7700),
            "2025-11-24T16:00:00.123Z INFO listening on 127.0.0.1:7700\n");
  EXPECT_EQ(format(951782400007, LogLevel::kError, "x"), "2000-02-29T00:00:00.007Z ERROR x\n");
  EXPECT_EQ(format(0, LogLevel::kDebug, "%s", ""), "1970-01-01T00:00:00.000Z DEBUG \n");
  EXPECT_EQ(format(999, LogLevel::kWarn, "w"), "1970-01-01T00:00:00.999Z WARN w\n");
}

TEST(LogFormat, ControlCharactersAreEscapedSoOneEventIsOneLine) {
  EXPECT_EQ(format(0, LogLevel::kWarn, "bad line %s",
                   "a\nb\rc\td\x01"
                   "e\x7f"),
            "1970-01-01T00:00:00.000Z WARN bad line a\\nb\\rc\\td\\x01e\\x7f\n");
}

TEST(LogFormat, LongMessagesAreCutToTheLineLimit) {
  const std::string long_text(3 * kLogLineBytesMax, 'x');
  const std::string line = format(0, LogLevel::kInfo, "%s", long_text.c_str());
  EXPECT_EQ(line.size(), kLogLineBytesMax);
  EXPECT_TRUE(line.ends_with("xxx...\n")) << line.substr(line.size() - 10);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(LogFormat, EscapesThatNoLongerFitAreCut) {
  const std::string controls(kLogLineBytesMax, '\x02');  // each becomes 4 bytes
  const std::string line = format(0, LogLevel::kInfo, "%s", controls.c_str());
  EXPECT_LE(line.size(), kLogLineBytesMax);
  EXPECT_TRUE(line.ends_with("...\n"));
  EXPECT_EQ(line.find('\x02'), std::string::npos);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(LogLevels, NamesAndParsing) {
  EXPECT_EQ(log_level_name(LogLevel::kDebug), "DEBUG");
  EXPECT_EQ(log_level_name(LogLevel::kInfo), "INFO");
  EXPECT_EQ(log_level_name(LogLevel::kWarn), "WARN");
  EXPECT_EQ(log_level_name(LogLevel::kError), "ERROR");
  EXPECT_EQ(parse_log_level("debug"), LogLevel::kDebug);
  EXPECT_EQ(parse_log_level("info"), LogLevel::kInfo);
  EXPECT_EQ(parse_log_level("warn"), LogLevel::kWarn);
  EXPECT_EQ(parse_log_level("error"), LogLevel::kError);
  EXPECT_EQ(parse_log_level("INFO"), std::nullopt);
  EXPECT_EQ(parse_log_level("warning"), std::nullopt);
  EXPECT_EQ(parse_log_level(""), std::nullopt);
}

TEST_F(LogCapture, ThresholdDropsLessImportantLevels) {
  set_log_level(LogLevel::kWarn);
  EXPECT_FALSE(log_enabled(LogLevel::kInfo));
  EXPECT_TRUE(log_enabled(LogLevel::kWarn));
  log_debug("d");
  log_info("i");
  log_warn("w %d", 1);
  log_error("e %d", 2);
  log_write(LogLevel::kInfo, "dropped");
  log_write(LogLevel::kError, "kept");
  ASSERT_EQ(lines_.size(), 3u);
  EXPECT_TRUE(lines_[0].ends_with(" WARN w 1\n")) << lines_[0];
  EXPECT_TRUE(lines_[1].ends_with(" ERROR e 2\n")) << lines_[1];
  EXPECT_TRUE(lines_[2].ends_with(" ERROR kept\n")) << lines_[2];

  set_log_level(LogLevel::kDebug);
  log_debug("now %s", "shown");
  ASSERT_EQ(lines_.size(), 4u);
  EXPECT_TRUE(lines_[3].ends_with(" DEBUG now shown\n")) << lines_[3];
}

TEST_F(LogCapture, EveryLineHasTheDocumentedShape) {
  set_log_level(LogLevel::kDebug);
  log_debug("a");
  log_info("b");
  log_warn("c");
  log_error("d");
  const std::regex shape(
      R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (DEBUG|INFO|WARN|ERROR) [a-d]\n)");
  ASSERT_EQ(lines_.size(), 4u);
  for (const std::string& line : lines_) EXPECT_TRUE(std::regex_match(line, shape)) << line;
}

}  // namespace
}  // namespace smsx::net
