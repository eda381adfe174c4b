// ShardedHashMap: every key lands in the shard its top bits name and is found there; the
// whole map's size, iteration and reserve span all shards.
#include "core/sharded_hash_map.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>

#include "core/hash.h"

namespace smsx {
namespace {

using Map = ShardedHashMap<RequestKey, uint64_t, absl::Hash<RequestKey>,
                           std::allocator<std::pair<const RequestKey, uint64_t>>, RequestKeyShard>;

RequestKey key_of(uint64_t i) { return make_request_key("gw", std::to_string(i)); }

TEST(ShardedHashMap, KeysAreFoundInTheShardTheirTopBitsName) {
  Map map;
  constexpr uint64_t kKeys = 20000;
  for (uint64_t i = 0; i < kKeys; ++i) {
    auto [it, fresh] = map.shard(key_of(i)).try_emplace(key_of(i), i);
    ASSERT_TRUE(fresh);
  }
  EXPECT_EQ(map.size(), kKeys);
  size_t used_shards = 0;
  for (size_t s = 0; s < Map::kShards; ++s) {
    for (const auto& [key, value] : map.shard_at(s)) EXPECT_EQ(key.hi >> 56, s);
    used_shards += map.shard_at(s).empty() ? 0 : 1;
  }
  EXPECT_EQ(used_shards, Map::kShards);  // 20,000 hashed keys reach every shard
  for (uint64_t i = 0; i < kKeys; ++i) {
    const uint64_t* value = map.find(key_of(i));
    ASSERT_NE(value, nullptr) << i;
    EXPECT_EQ(*value, i);
    EXPECT_TRUE(map.contains(key_of(i)));
  }
  EXPECT_EQ(map.find(key_of(kKeys)), nullptr);
  EXPECT_FALSE(map.contains(key_of(kKeys)));
}

TEST(ShardedHashMap, ErasingInAShardShowsInTheWholeMap) {
  Map map;
  for (uint64_t i = 0; i < 1000; ++i) map.shard(key_of(i)).try_emplace(key_of(i), i);
  for (uint64_t i = 0; i < 1000; i += 2) {
    auto& shard = map.shard(key_of(i));
    auto it = shard.find(key_of(i));
    ASSERT_NE(it, shard.end());
    shard.erase(it);
  }
  EXPECT_EQ(map.size(), 500u);
  std::set<uint64_t> seen;
  map.for_each([&](const RequestKey& key, uint64_t value) {
    EXPECT_EQ(key, key_of(value));
    seen.insert(value);
  });
  ASSERT_EQ(seen.size(), 500u);
  for (uint64_t v : seen) EXPECT_EQ(v % 2, 1u);
}

TEST(ShardedHashMap, ReserveGivesEveryShardItsShare) {
  Map map;
  map.reserve(256 * 1000);
  for (size_t s = 0; s < Map::kShards; ++s) EXPECT_GE(map.shard_at(s).capacity(), 1000u);
  EXPECT_EQ(map.size(), 0u);
}

TEST(ShardedHashMap, ReservingNothingAllocatesNothing) {
  Map map;
  map.reserve(0);
  for (size_t s = 0; s < Map::kShards; ++s) EXPECT_EQ(map.shard_at(s).capacity(), 0u);
}

}  // namespace
}  // namespace smsx
