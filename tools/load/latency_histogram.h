// A log-linear latency histogram (HdrHistogram-like) for the load generator.
//
// Values are nanoseconds. Below 256 ns every value has its own bucket; above, each power
// of two is split into 128 equal buckets, so a bucket is at most 1/128 (0.8%) of its
// values wide. Values above kMaxNs (60 s) are clamped into the last bucket (max() keeps
// the exact largest value). Fixed size, no allocation after construction; not thread-safe
// (the generator is single-threaded).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace smsx::load {

class LatencyHistogram {
 public:
  static constexpr uint64_t kMaxNs = 60'000'000'000ULL;  // 60 s
  static constexpr int kSubBits = 8;                     // 256 linear values, then 128 per octave
  static constexpr size_t kBuckets = 4096;               // enough for kMaxNs (index 3839)

  void record(uint64_t ns, uint64_t count = 1);
  void merge(const LatencyHistogram& other);
  void reset();

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  // The value at quantile q in [0, 1]: the midpoint of the bucket that holds it (clamped
  // to [min, max]), so within half a bucket (0.4%) of a value that was recorded.
  uint64_t percentile(double q) const;

  static size_t bucket_of(uint64_t ns);
  static uint64_t bucket_low(size_t index);   // smallest value of the bucket
  static uint64_t bucket_high(size_t index);  // largest value of the bucket

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

}  // namespace smsx::load
