// CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), the checksum of every
// WAL record, segment header and snapshot. On CPUs with SSE4.2 (checked once at run time)
// the crc32 instruction does 8 bytes per step; elsewhere a 256-entry table does 1.
//
// Stored checksums are masked (as leveldb does): a CRC computed over bytes that contain
// embedded CRCs is otherwise prone to be trivially related to them.
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace smsx::persistence::crc32c {

// Returns the CRC32C of concat(A, data[0, n)) where `crc` is the CRC32C of A.
uint32_t extend(uint32_t crc, const uint8_t* data, size_t n);

inline uint32_t value(const uint8_t* data, size_t n) { return extend(0, data, n); }
inline uint32_t value(std::span<const uint8_t> data) { return extend(0, data.data(), data.size()); }

inline constexpr uint32_t kMaskDelta = 0xa282ead8u;

// Rotate right by 15 bits and add a constant: the form written to disk.
inline constexpr uint32_t mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }

inline constexpr uint32_t unmask(uint32_t masked) {
  const uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

// Both implementations, exposed so tests can check that they agree.
uint32_t extend_portable(uint32_t crc, const uint8_t* data, size_t n);
uint32_t extend_sse42(uint32_t crc, const uint8_t* data, size_t n);  // requires SSE4.2
bool has_sse42();

}  // namespace smsx::persistence::crc32c
