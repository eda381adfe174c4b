// A hash map kept as 256 absl::flat_hash_maps, the shard chosen by the top byte of bits
// the key already carries (its own hash), so that no single rehash touches every entry.
//
// An absl table grows by moving every entry into a table twice as large, in one call. For
// the request-id table (one entry per request within the retention period) that stopped
// the loop for 210 ms at half a million entries, and far longer at tens of millions: every
// request in flight waited for it (docs/benchmarks.md, "Pauses"). Split 256 ways, each growth
// moves 1/256 of the entries; the total work is the same, spread over time.
//
// Lookups cost what they cost in one table (the shard is a shift of bits already at hand).
// Callers work on the shard of a key (`shard(key)`), whose iterators and references behave
// exactly as absl's. The shards fill evenly, so their growths come close together in time,
// each a 256th of the work. Request keys are unseeded hashes of ids the gateways choose: a
// gateway grinding ids into one shard could bring back the large growths (not the
// correctness), which an authenticated gateway has no reason to do.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace smsx {

// `ShardOf{}(key)` returns a value uniform over the keys; its low 8 bits choose the shard.
// (Within a shard the keys share those bits; absl's hash mixes all of a key's bits, so
// placement within a shard does not suffer.)
template <class Key, class Value, class Hash, class Alloc, class ShardOf>
class ShardedHashMap {
 public:
  static constexpr std::size_t kShards = 256;
  using Shard = absl::flat_hash_map<Key, Value, Hash, std::equal_to<Key>, Alloc>;

  Shard& shard(const Key& key) { return shards_[ShardOf{}(key) & (kShards - 1)]; }
  const Shard& shard(const Key& key) const { return shards_[ShardOf{}(key) & (kShards - 1)]; }
  Shard& shard_at(std::size_t i) { return shards_[i]; }
  const Shard& shard_at(std::size_t i) const { return shards_[i]; }

  std::size_t size() const {
    std::size_t n = 0;
    for (const Shard& s : shards_) n += s.size();
    return n;
  }

  const Value* find(const Key& key) const {
    const Shard& s = shard(key);
    auto it = s.find(key);
    return it == s.end() ? nullptr : &it->second;
  }
  bool contains(const Key& key) const { return shard(key).contains(key); }
  void prefetch(const Key& key) const { shard(key).prefetch(key); }

  // Room for `n` entries in all: each shard gets its share and a margin for the spread
  // (a shard that gets more than that grows by itself, a small rehash).
  void reserve(std::size_t n) {
    if (n == 0) return;
    const std::size_t share = n / kShards;
    for (Shard& s : shards_) s.reserve(share + share / 8 + 16);
  }

  template <class F>
  void for_each(F&& f) const {
    for (const Shard& s : shards_) {
      for (const auto& [key, value] : s) f(key, value);
    }
  }

 private:
  std::array<Shard, kShards> shards_;
};

}  // namespace smsx
