// Bulk insertion into large absl hash tables (loading a snapshot): flag_sort and
// sweep_sort, used by core/engine_snapshot.cc and core/request_index.cc.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace smsx {

// Bulk insertion into a large absl::flat_hash_map: millions of random keys touch one random
// cache line and page each. absl starts probing at (hash >> 7) ^ salt, masked by the capacity,
// so inserting the keys grouped by those bits sweeps the table instead (about twice as fast
// for 10M keys, bench/recovery_bench.cc). Only the speed depends on this detail of absl.
inline constexpr int kSweepBucketBits = 12;

// Reorders `items` in place so that bucket_of(item), below `buckets`, ascends (an American
// flag sort: each swap puts one item in its final place). Returns where each bucket starts,
// and items.size() last.
template <class Item, class BucketOf>
std::vector<size_t> flag_sort(std::span<Item> items, size_t buckets, BucketOf bucket_of) {
  std::vector<uint16_t> bucket(items.size());
  std::vector<size_t> next(buckets + 1, 0);
  for (size_t i = 0; i < items.size(); ++i) {
    bucket[i] = static_cast<uint16_t>(bucket_of(items[i]));
    ++next[bucket[i] + 1];
  }
  for (size_t b = 1; b <= buckets; ++b) next[b] += next[b - 1];
  std::vector<size_t> starts = next;
  std::vector<size_t> end(next.begin() + 1, next.end());
  for (size_t b = 0; b < buckets; ++b) {
    while (next[b] < end[b]) {
      const size_t i = next[b];
      const uint16_t target = bucket[i];
      if (target == b) {
        ++next[b];
        continue;
      }
      const size_t j = next[target]++;
      std::swap(items[i], items[j]);
      std::swap(bucket[i], bucket[j]);
    }
  }
  return starts;
}

// Reorders `items` in place by the bits where absl starts probing (kSweepBucketBits of
// them) for inserting key_of(item) into `map`, which was reserved for them.
template <class Map, class Item, class KeyOf>
void sweep_sort(const Map& map, std::span<Item> items, KeyOf key_of) {
  const uint64_t capacity = map.bucket_count();  // 2^k - 1
  const int shift = std::max(0, static_cast<int>(std::bit_width(capacity)) - kSweepBucketBits);
  const auto hash = map.hash_function();
  flag_sort(items, size_t{1} << kSweepBucketBits,
            [&](const Item& item) { return ((hash(key_of(item)) >> 7) & capacity) >> shift; });
}

}  // namespace smsx
