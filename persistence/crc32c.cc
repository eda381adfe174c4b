#include "persistence/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace smsx::persistence::crc32c {
namespace {

constexpr uint32_t kPolynomialReflected = 0x82f63b78u;

constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? kPolynomialReflected : 0u);
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kTable = make_table();
static_assert(kTable[1] == 0xf26b8303u, "CRC32C table entry 1");
static_assert(kTable[128] == kPolynomialReflected, "CRC32C table entry 128");

}  // namespace

uint32_t extend_portable(uint32_t crc, const uint8_t* data, size_t n) {
  uint32_t state = ~crc;
  for (size_t i = 0; i < n; ++i) state = kTable[(state ^ data[i]) & 0xffu] ^ (state >> 8);
  return ~state;
}

#if defined(__x86_64__)

__attribute__((target("sse4.2"))) uint32_t extend_sse42(uint32_t crc, const uint8_t* data,
                                                        size_t n) {
  uint64_t state = ~crc & 0xffffffffu;
  // 8 bytes per instruction (unaligned loads cost nothing extra on x86-64; records start
  // anywhere), then the tail in at most one 4-, one 2- and one 1-byte step.
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, data, sizeof(word));
    state = _mm_crc32_u64(state, word);
    data += 8;
    n -= 8;
  }
  if (n >= 4) {
    uint32_t word;
    std::memcpy(&word, data, sizeof(word));
    state = _mm_crc32_u32(static_cast<uint32_t>(state), word);
    data += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t word;
    std::memcpy(&word, data, sizeof(word));
    state = _mm_crc32_u16(static_cast<uint32_t>(state), word);
    data += 2;
    n -= 2;
  }
  if (n > 0) state = _mm_crc32_u8(static_cast<uint32_t>(state), *data);
  return ~static_cast<uint32_t>(state);
}

bool has_sse42() {
  static const bool kHas = __builtin_cpu_supports("sse4.2");
  return kHas;
}

#else

uint32_t extend_sse42(uint32_t crc, const uint8_t* data, size_t n) {
  return extend_portable(crc, data, n);
}

bool has_sse42() { return false; }

#endif

uint32_t extend(uint32_t crc, const uint8_t* data, size_t n) {
  return has_sse42() ? extend_sse42(crc, data, n) : extend_portable(crc, data, n);
}

}  // namespace smsx::persistence::crc32c
