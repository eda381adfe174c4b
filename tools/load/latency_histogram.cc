#include "tools/load/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

namespace smsx::load {

namespace {
constexpr uint64_t kLinear = uint64_t{1} << LatencyHistogram::kSubBits;  // 256
constexpr uint64_t kHalf = kLinear / 2;                                  // 128 per octave
// kMaxNs < 2^36: shifts go up to 36 - kSubBits = 28, so the last index is below
// kLinear + 28 * kHalf.
static_assert(LatencyHistogram::kMaxNs < (uint64_t{1} << 36), "60 s fits 36 bits");
static_assert(kLinear + 28 * kHalf <= LatencyHistogram::kBuckets, "room for 60 s");
}  // namespace

size_t LatencyHistogram::bucket_of(uint64_t ns) {
  ns = std::min(ns, kMaxNs);
  if (ns < kLinear) return static_cast<size_t>(ns);
  int shift = std::bit_width(ns) - kSubBits;  // >= 1
  size_t index = kLinear + (shift - 1) * kHalf + ((ns >> shift) - kHalf);
  assert(index < kBuckets);
  return index;
}

uint64_t LatencyHistogram::bucket_low(size_t index) {
  if (index < kLinear) return index;
  size_t shift = (index - kLinear) / kHalf + 1;
  uint64_t sub = (index - kLinear) % kHalf + kHalf;
  return sub << shift;
}

uint64_t LatencyHistogram::bucket_high(size_t index) {
  if (index < kLinear) return index;
  size_t shift = (index - kLinear) / kHalf + 1;
  return bucket_low(index) + (uint64_t{1} << shift) - 1;
}

void LatencyHistogram::record(uint64_t ns, uint64_t count) {
  if (count == 0) return;
  counts_[bucket_of(ns)] += count;
  count_ += count;
  max_ = std::max(max_, ns);
  min_ = std::min(min_, ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

void LatencyHistogram::reset() { *this = LatencyHistogram(); }

uint64_t LatencyHistogram::percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the value asked for, 1-based: q = 0.99 of 1000 values is the 990th.
  uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * count_)));
  if (rank >= count_) return max_;  // the largest value is known exactly
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      uint64_t mid = bucket_low(i) + (bucket_high(i) - bucket_low(i)) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

}  // namespace smsx::load
