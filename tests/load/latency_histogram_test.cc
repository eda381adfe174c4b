#include "tools/load/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <random>
#include <vector>

namespace smsx::load {
namespace {

// The precision the header promises: half a bucket, at most 1/256 of the value.
void expect_near_rel(uint64_t got, double want) {
  EXPECT_LE(std::abs(static_cast<double>(got) - want), want * 0.005 + 1)
      << "got " << got << " want " << want;
}

TEST(LatencyHistogram, BucketsCoverEveryValueInOrder) {
  for (uint64_t v : std::initializer_list<uint64_t>{0ULL, 1ULL, 255ULL, 256ULL, 257ULL, 1000ULL,
                                                    123456789ULL, LatencyHistogram::kMaxNs}) {
    size_t b = LatencyHistogram::bucket_of(v);
    EXPECT_LE(LatencyHistogram::bucket_low(b), v);
    EXPECT_GE(LatencyHistogram::bucket_high(b), v);
    EXPECT_LT(b, LatencyHistogram::kBuckets);
  }
  for (size_t b = 1; b < LatencyHistogram::bucket_of(LatencyHistogram::kMaxNs); ++b) {
    EXPECT_EQ(LatencyHistogram::bucket_low(b), LatencyHistogram::bucket_high(b - 1) + 1) << b;
  }
}

TEST(LatencyHistogram, BucketWidthIsWithinOnePercent) {
  for (uint64_t v = 1000; v < LatencyHistogram::kMaxNs; v = v * 3 / 2) {
    size_t b = LatencyHistogram::bucket_of(v);
    double width = LatencyHistogram::bucket_high(b) - LatencyHistogram::bucket_low(b) + 1;
    EXPECT_LE(width / LatencyHistogram::bucket_low(b), 0.01) << v;
  }
}

TEST(LatencyHistogram, PercentilesOfUniformDistribution) {
  LatencyHistogram h;
  // 1 µs .. 100 ms in steps of 1 µs: the q-quantile is q * 100 ms.
  for (uint64_t us = 1; us <= 100000; ++us) h.record(us * 1000);
  EXPECT_EQ(h.count(), 100000u);
  expect_near_rel(h.percentile(0.5), 50e6);
  expect_near_rel(h.percentile(0.9), 90e6);
  expect_near_rel(h.percentile(0.99), 99e6);
  expect_near_rel(h.percentile(0.999), 99.9e6);
  EXPECT_EQ(h.max(), 100000000u);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_EQ(h.percentile(1.0), h.max());
}

TEST(LatencyHistogram, PercentilesOfExponentialDistribution) {
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> exp(1.0 / 200000.0);  // mean 200 µs
  LatencyHistogram h;
  std::vector<uint64_t> all;
  for (int i = 0; i < 200000; ++i) {
    uint64_t v = static_cast<uint64_t>(exp(rng)) + 1;
    all.push_back(v);
    h.record(v);
  }
  std::sort(all.begin(), all.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    uint64_t exact = all[static_cast<size_t>(std::ceil(q * all.size())) - 1];
    expect_near_rel(h.percentile(q), static_cast<double>(exact));
  }
}

TEST(LatencyHistogram, ValuesAboveTheRangeAreClampedButMaxIsExact) {
  LatencyHistogram h;
  h.record(LatencyHistogram::kMaxNs * 10);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.max(), LatencyHistogram::kMaxNs * 10);
}

TEST(LatencyHistogram, MergeAddsCountsAndKeepsExtremes) {
  LatencyHistogram a, b, both;
  for (uint64_t v = 1; v <= 1000; ++v) {
    a.record(v * 1000);
    both.record(v * 1000);
  }
  for (uint64_t v = 1001; v <= 3000; ++v) {
    b.record(v * 1000);
    both.record(v * 1000);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), 3000u);
  EXPECT_EQ(a.max(), 3000000u);
  EXPECT_EQ(a.min(), 1000u);
  for (double q : {0.1, 0.5, 0.9, 0.99}) EXPECT_EQ(a.percentile(q), both.percentile(q));
}

TEST(LatencyHistogram, EmptyAndReset) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile(0.99), 0u);
  EXPECT_EQ(h.min(), 0u);
  h.record(5000, 3);
  EXPECT_EQ(h.count(), 3u);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0u);
}

}  // namespace
}  // namespace smsx::load
