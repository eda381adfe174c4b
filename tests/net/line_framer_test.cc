#include "net/line_framer.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstring>
#include <string>
#include <vector>

namespace smsx::net {
namespace {

// What the framer handed out, in order; "!TOO_LARGE" marks the error.
struct Output {
  std::vector<std::string> lines;
  bool too_large = false;
};

void drain(LineFramer& framer, Output* out) {
  std::string_view line;
  for (;;) {
    const FrameStatus status = framer.next(&line);
    if (status == FrameStatus::kNeedMore) return;
    if (status == FrameStatus::kFrameTooLarge) {
      out->too_large = true;
      return;
    }
    EXPECT_GE(framer.readable_bytes_from(line), line.size() + LineFramer::kPaddingBytes);
    out->lines.emplace_back(line);
  }
}

// Feeds `bytes` (all of it, as the framer makes room) and drains after every piece.
void feed_all(LineFramer& framer, std::string_view bytes, Output* out) {
  while (!bytes.empty() && !out->too_large) {
    const std::size_t n = framer.feed(bytes);
    bytes.remove_prefix(n);
    drain(framer, out);
  }
}

Output frame_in_pieces(std::size_t limit, std::string_view input,
                       const std::vector<std::size_t>& cuts) {
  LineFramer framer(limit);
  Output out;
  std::size_t at = 0;
  for (std::size_t cut : cuts) {
    feed_all(framer, input.substr(at, cut - at), &out);
    at = cut;
  }
  feed_all(framer, input.substr(at), &out);
  return out;
}

// Requests, blank lines, CRLF, a lone CR kept inside a line, a final line without '\n'.
const std::string kMessage =
    "{\"id\":\"a\",\"op\":\"hello\",\"token\":\"t\"}\n"
    "\n"
    "{\"id\":\"b\",\"op\":\"balance\",\"account\":1}\r\n"
    "\r\n"
    "x\ry\n"
    "{\"id\":\"c\"}\n"
    "partial";
const std::vector<std::string> kLines = {"{\"id\":\"a\",\"op\":\"hello\",\"token\":\"t\"}",
                                         "{\"id\":\"b\",\"op\":\"balance\",\"account\":1}", "x\ry",
                                         "{\"id\":\"c\"}"};

TEST(LineFramer, NothingIsAllocatedBeforeTheFirstRead) {
  LineFramer framer(1024);
  EXPECT_EQ(framer.capacity_bytes(), 0u);
  std::string_view line;
  EXPECT_EQ(framer.next(&line), FrameStatus::kNeedMore);
  EXPECT_EQ(framer.buffered_bytes(), 0u);
}

TEST(LineFramer, WholeMessageAtOnce) {
  const Output out = frame_in_pieces(1024, kMessage, {});
  EXPECT_EQ(out.lines, kLines);
  EXPECT_FALSE(out.too_large);
}

TEST(LineFramer, EverySplitPointInTwoPieces) {
  for (std::size_t cut = 0; cut <= kMessage.size(); ++cut) {
    const Output out = frame_in_pieces(1024, kMessage, {cut});
    EXPECT_EQ(out.lines, kLines) << "cut at " << cut;
    EXPECT_FALSE(out.too_large);
  }
}

TEST(LineFramer, EveryPairOfSplitPointsInThreePieces) {
  for (std::size_t first = 0; first <= kMessage.size(); ++first) {
    for (std::size_t second = first; second <= kMessage.size(); ++second) {
      const Output out = frame_in_pieces(1024, kMessage, {first, second});
      ASSERT_EQ(out.lines, kLines) << "cuts at " << first << ", " << second;
    }
  }
}

TEST(LineFramer, ByteByByte) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < kMessage.size(); ++i) cuts.push_back(i);
  const Output out = frame_in_pieces(1024, kMessage, cuts);
  EXPECT_EQ(out.lines, kLines);
}

TEST(LineFramer, TheUnfinishedLineStaysBuffered) {
  LineFramer framer(1024);
  Output out;
  feed_all(framer, kMessage, &out);
  EXPECT_EQ(framer.buffered_bytes(), std::string_view("partial").size());
  feed_all(framer, "\n", &out);
  EXPECT_EQ(out.lines.back(), "partial");
  EXPECT_EQ(framer.buffered_bytes(), 0u);
}

TEST(LineFramer, BlankLinesAreSkipped) {
  const Output out = frame_in_pieces(16, "\n\n\r\n\n", {});
  EXPECT_TRUE(out.lines.empty());
  EXPECT_FALSE(out.too_large);
  // Whitespace is content: the parser, not the framer, rejects it.
  EXPECT_EQ(frame_in_pieces(16, " \n\t\n", {}).lines, (std::vector<std::string>{" ", "\t"}));
}

TEST(LineFramer, OnlyOneCarriageReturnBeforeTheNewlineIsRemoved) {
  EXPECT_EQ(frame_in_pieces(16, "a\r\r\n\rb\n", {}).lines,
            (std::vector<std::string>{"a\r", "\rb"}));
}

TEST(LineFramer, BinaryGarbageAndNulBytesPassThrough) {
  std::string garbage;
  for (int i = 0; i < 256; ++i) {
    if (i != '\n') garbage += static_cast<char>(i);
  }
  garbage += std::string("\0\0\xff\xfe", 4);
  garbage.pop_back();  // keep the line from ending in '\r' by accident
  const std::string input = garbage + "\n" + std::string(3, '\0') + "\n";
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    const Output out = frame_in_pieces(1024, input, {cut});
    ASSERT_EQ(out.lines.size(), 2u) << cut;
    EXPECT_EQ(out.lines[0], garbage);
    EXPECT_EQ(out.lines[1], std::string(3, '\0'));
  }
}

TEST(LineFramer, ALineOfExactlyTheLimitIsAccepted) {
  constexpr std::size_t kLimit = 300;
  const std::string line(kLimit, 'x');
  EXPECT_EQ(frame_in_pieces(kLimit, line + "\n", {}).lines, std::vector<std::string>{line});
  EXPECT_EQ(frame_in_pieces(kLimit, line + "\r\n", {}).lines, std::vector<std::string>{line});
  // Also when the '\r' and the '\n' arrive separately.
  EXPECT_EQ(frame_in_pieces(kLimit, line + "\r\n", {kLimit + 1}).lines,
            std::vector<std::string>{line});
  EXPECT_EQ(frame_in_pieces(kLimit, line + "\r\n", {kLimit}).lines, std::vector<std::string>{line});
}

TEST(LineFramer, ALineOfTheLimitPlusOneIsTooLarge) {
  constexpr std::size_t kLimit = 300;
  const std::string line(kLimit + 1, 'x');
  for (std::string_view ending : {"\n", "\r\n"}) {
    const std::string input = line + std::string(ending);
    for (std::size_t cut = 0; cut <= input.size(); ++cut) {
      const Output out = frame_in_pieces(kLimit, input, {cut});
      EXPECT_TRUE(out.lines.empty()) << cut;
      EXPECT_TRUE(out.too_large) << cut;
    }
  }
  // A "\r" in the middle does not count as the end of the line.
  const Output out = frame_in_pieces(kLimit, std::string(kLimit, 'x') + "\ry\n", {});
  EXPECT_TRUE(out.too_large);
}

TEST(LineFramer, TooLargeIsReportedBeforeTheLineEnds) {
  constexpr std::size_t kLimit = 300;
  LineFramer framer(kLimit);
  Output out;
  // limit bytes, then a '\r' that might still be the end of a "\r\n": not yet an error.
  feed_all(framer, std::string(kLimit, 'x') + "\r", &out);
  EXPECT_FALSE(out.too_large);
  // The next byte is not '\n': the line is over the limit whatever follows.
  feed_all(framer, "x", &out);
  EXPECT_TRUE(out.too_large);

  LineFramer plain(kLimit);
  Output plain_out;
  feed_all(plain, std::string(kLimit + 1, 'x'), &plain_out);
  EXPECT_TRUE(plain_out.too_large);
}

TEST(LineFramer, AnEndlessLineIsRejectedWithBoundedMemory) {
  constexpr std::size_t kLimit = 1000;
  LineFramer framer(kLimit);
  Output out;
  const std::string chunk(100, 'x');
  std::size_t fed = 0;
  while (!out.too_large) {
    feed_all(framer, chunk, &out);
    fed += chunk.size();
    ASSERT_LE(fed, kLimit + 2 + chunk.size());
  }
  EXPECT_LE(framer.capacity_bytes(),
            kLimit + 2 + LineFramer::kReadBytesMax + LineFramer::kPaddingBytes);
}

TEST(LineFramer, LinesBeforeTheOversizedOneAreHandedOutFirst) {
  const Output out = frame_in_pieces(8, "ok-1\nok-2\n0123456789\nnever\n", {});
  EXPECT_EQ(out.lines, (std::vector<std::string>{"ok-1", "ok-2"}));
  EXPECT_TRUE(out.too_large);
}

TEST(LineFramer, TooLargeIsFinalAndLaterInputIsDiscarded) {
  LineFramer framer(8);
  Output out;
  feed_all(framer, "0123456789", &out);
  ASSERT_TRUE(out.too_large);
  EXPECT_EQ(framer.feed("ok\n"), 0u);
  std::string_view line;
  EXPECT_EQ(framer.next(&line), FrameStatus::kFrameTooLarge);
  // Reads may still drain into it while the error reply is written; nothing comes out.
  std::span<char> space = framer.writable();
  ASSERT_GE(space.size(), 3u);
  std::memcpy(space.data(), "ok\n", 3);
  framer.commit(3);
  EXPECT_EQ(framer.next(&line), FrameStatus::kFrameTooLarge);
  EXPECT_EQ(framer.buffered_bytes(), 0u);
}

TEST(LineFramer, WritableAndCommitLikeALibuvRead) {
  LineFramer framer(64 * 1024);
  std::string input;
  std::vector<std::string> expected;
  for (int i = 0; i < 10'000; ++i) {
    expected.push_back("{\"id\":\"r" + std::to_string(i) + "\",\"op\":\"stats\"}");
    input += expected.back() + "\n";
  }
  Output out;
  std::size_t at = 0;
  std::size_t capacity_max = 0;
  while (at < input.size()) {
    std::span<char> space = framer.writable();
    ASSERT_GE(space.size(), LineFramer::kReadBytesMin);
    const std::size_t n = std::min(space.size(), input.size() - at);
    std::memcpy(space.data(), input.data() + at, n);
    framer.commit(n);
    at += n;
    drain(framer, &out);
    capacity_max = std::max(capacity_max, framer.capacity_bytes());
  }
  EXPECT_EQ(out.lines, expected);
  EXPECT_LE(capacity_max, 64 * 1024 + 2 + LineFramer::kReadBytesMax + LineFramer::kPaddingBytes);
  // Full reads made the buffer grow past its first size.
  EXPECT_GT(capacity_max, LineFramer::kInitialBytes + LineFramer::kPaddingBytes);
}

TEST(LineFramer, LinesParseInPlaceWithSimdjson) {
  LineFramer framer(1024);
  Output out;
  const std::string input = "{\"id\":\"gw1-42\",\"amount\":150}\n{\"id\":\n{\"x\":1}\n";
  ASSERT_EQ(framer.feed(input), input.size());
  simdjson::ondemand::parser parser;
  std::string_view line;
  ASSERT_EQ(framer.next(&line), FrameStatus::kLine);
  {
    auto doc = parser.iterate(line.data(), line.size(), framer.readable_bytes_from(line));
    ASSERT_EQ(doc.error(), simdjson::SUCCESS);
    std::string_view id;
    ASSERT_EQ(doc["id"].get_string().get(id), simdjson::SUCCESS);
    EXPECT_EQ(id, "gw1-42");
    std::int64_t amount = 0;
    ASSERT_EQ(doc["amount"].get_int64().get(amount), simdjson::SUCCESS);
    EXPECT_EQ(amount, 150);
  }
  // A truncated line followed by valid JSON in its padding is still an error: the bytes
  // after the line end are read but do not count.
  ASSERT_EQ(framer.next(&line), FrameStatus::kLine);
  ASSERT_EQ(line, "{\"id\":");
  {
    auto doc = parser.iterate(line.data(), line.size(), framer.readable_bytes_from(line));
    std::string_view id;
    EXPECT_NE(doc["id"].get_string().get(id), simdjson::SUCCESS);
  }
}

TEST(LineFramer, PaddingAfterTheLastByteOfTheBuffer) {
  // A line that ends exactly at the end of the usable buffer still has its padding.
  LineFramer framer(64 * 1024);
  std::span<char> space = framer.writable();
  std::memset(space.data(), 'x', space.size() - 1);
  space[space.size() - 1] = '\n';
  framer.commit(space.size());
  std::string_view line;
  ASSERT_EQ(framer.next(&line), FrameStatus::kLine);
  EXPECT_EQ(line.size(), space.size() - 1);
  EXPECT_EQ(framer.readable_bytes_from(line), line.size() + 1 + LineFramer::kPaddingBytes);
}

}  // namespace
}  // namespace smsx::net
