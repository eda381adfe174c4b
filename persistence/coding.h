// Fixed-width little-endian integers for the on-disk formats. The build targets
// little-endian hosts only (checked below), so each is one unaligned memcpy.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace smsx::persistence {

static_assert(std::endian::native == std::endian::little,
              "on-disk formats are little-endian; add byte swaps before porting");

inline void encode_u32(uint8_t* dst, uint32_t value) { std::memcpy(dst, &value, sizeof(value)); }
inline void encode_u64(uint8_t* dst, uint64_t value) { std::memcpy(dst, &value, sizeof(value)); }

inline uint32_t decode_u32(const uint8_t* src) {
  uint32_t value;
  std::memcpy(&value, src, sizeof(value));
  return value;
}

inline uint64_t decode_u64(const uint8_t* src) {
  uint64_t value;
  std::memcpy(&value, src, sizeof(value));
  return value;
}

}  // namespace smsx::persistence
