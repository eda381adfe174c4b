// Stable hashes: the same bytes give the same value on every machine, build and run, so
// they may be written to the WAL and snapshots (absl::Hash is salted per process and may
// not). Not cryptographic; used for idempotency keys, request fingerprints and the digest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace smsx {

inline uint64_t mix64(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Incremental 64-bit hash over a sequence of fields, order-sensitive.
class StableHasher {
 public:
  explicit StableHasher(uint64_t seed = 0x736d73785f763031ULL) : h_(seed) {}
  StableHasher& add(uint64_t v) {
    h_ = mix64(h_ ^ (v + 0x9e3779b97f4a7c15ULL + (h_ << 6) + (h_ >> 2)));
    return *this;
  }
  StableHasher& add(std::string_view s) {
    add(s.size());
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      add(w);
    }
    uint64_t tail = 0;
    std::memcpy(&tail, s.data() + i, s.size() - i);
    return add(tail);
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_;
};

// The idempotency key of a request: a 128-bit hash of (gateway name, request id). Two
// independently seeded 64-bit hashes make an accidental collision within the retention
// window (millions of live ids) negligible (~n^2 / 2^129).
struct RequestKey {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool empty() const { return hi == 0 && lo == 0; }
  friend bool operator==(const RequestKey&, const RequestKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const RequestKey& k) {
    return H::combine(std::move(h), k.hi, k.lo);
  }
};

inline RequestKey make_request_key(std::string_view gateway, std::string_view request_id) {
  RequestKey k{StableHasher(0x1).add(gateway).add(request_id).value(),
               StableHasher(0x2).add(gateway).add(request_id).value()};
  if (k.empty()) k.lo = 1;  // zero means "no key" (read-only requests)
  return k;
}

}  // namespace smsx
