#include "persistence/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace smsx::persistence::crc32c {
namespace {

uint32_t of(const std::vector<uint8_t>& bytes) { return value(bytes.data(), bytes.size()); }

TEST(Crc32cTest, StandardCheckValue) {
  const char* text = "123456789";
  EXPECT_EQ(value(reinterpret_cast<const uint8_t*>(text), std::strlen(text)), 0xe3069283u);
}

// Vectors of RFC 3720, section B.4.
TEST(Crc32cTest, Rfc3720Vectors) {
  EXPECT_EQ(of(std::vector<uint8_t>(32, 0x00)), 0x8a9136aau);
  EXPECT_EQ(of(std::vector<uint8_t>(32, 0xff)), 0x62a8ab43u);
  std::vector<uint8_t> ascending(32);
  for (size_t i = 0; i < 32; ++i) ascending[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(of(ascending), 0x46dd794eu);
  std::vector<uint8_t> descending(32);
  for (size_t i = 0; i < 32; ++i) descending[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(of(descending), 0x113fdb5cu);
  const std::vector<uint8_t> iscsi_read = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(of(iscsi_read), 0xd9963a56u);
}

TEST(Crc32cTest, EmptyInputIsZero) { EXPECT_EQ(value(nullptr, 0), 0u); }

TEST(Crc32cTest, ExtendEqualsWholeAtEverySplit) {
  std::vector<uint8_t> data(100);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 13 + 5);
  const uint32_t whole = of(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    const uint32_t first = value(data.data(), split);
    EXPECT_EQ(extend(first, data.data() + split, data.size() - split), whole) << split;
  }
}

// The SSE4.2 path handles unaligned heads and short tails; compare it to the table at
// every alignment and length up to 80 bytes, and on a large random buffer.
TEST(Crc32cTest, HardwareAndTableAgree) {
  if (!has_sse42()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  std::mt19937_64 rng(7);
  std::vector<uint8_t> data(1 << 16);
  for (uint8_t& byte : data) byte = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t length = 0; length <= 80; ++length) {
      ASSERT_EQ(extend_sse42(0x1234u, data.data() + offset, length),
                extend_portable(0x1234u, data.data() + offset, length))
          << "offset " << offset << " length " << length;
    }
  }
  EXPECT_EQ(extend_sse42(0, data.data() + 3, data.size() - 3),
            extend_portable(0, data.data() + 3, data.size() - 3));
}

TEST(Crc32cTest, MaskRoundTripsAndChangesTheValue) {
  for (const uint32_t crc : {0u, 1u, 0xe3069283u, 0xffffffffu, 0x8a9136aau}) {
    EXPECT_EQ(unmask(mask(crc)), crc);
    EXPECT_NE(mask(crc), crc);
    EXPECT_NE(mask(mask(crc)), mask(crc));
  }
}

}  // namespace
}  // namespace smsx::persistence::crc32c
