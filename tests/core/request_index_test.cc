// RequestIndex (core/request_index.h): keys are found through 8-byte entries that hold only
// some bits of the key, so every test here includes keys that share those bits and must
// still be told apart by the owner's key check.
#include "core/request_index.h"

#include <gtest/gtest.h>

#include <iterator>
#include <map>
#include <utility>
#include <vector>

namespace smsx {
namespace {

using Kind = RequestIndex::Kind;
using Ref = RequestIndex::Ref;

// The owner's side: what each (kind, id) holds as its key.
class Keys final : public RequestIndex::KeyCheck {
 public:
  bool holds(Ref ref, const RequestKey& key) const override {
    ++checks;
    auto it = keys.find({ref.kind, ref.low});
    return it != keys.end() && it->second == key;
  }
  void set(Kind kind, uint64_t id, const RequestKey& key) {
    keys[{kind, id & RequestIndex::kRefMask}] = key;
  }
  // Stores `key` with (kind, id) and indexes it.
  void add(RequestIndex& index, Kind kind, uint64_t id, const RequestKey& key) {
    set(kind, id, key);
    index.insert(key, {kind, id});
  }
  std::map<std::pair<Kind, uint64_t>, RequestKey> keys;
  mutable size_t checks = 0;
};

// Two keys in one shard with the same 23 tag bits (bits 32-54 of hi), differing elsewhere.
constexpr RequestKey kA{0x12'345678'9abcdef0ULL, 1};
constexpr RequestKey kSameTag{0x12'345678'00000001ULL, 2};

TEST(RequestIndex, KeysSharingTheirStoredBitsAreToldApartByTheOwner) {
  Keys keys;
  RequestIndex index(keys);
  keys.add(index, Kind::kOrder, 7, kA);
  keys.add(index, Kind::kReply, 9, kSameTag);
  const auto a = index.find(kA);
  const auto b = index.find(kSameTag);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->kind, Kind::kOrder);
  EXPECT_EQ(a->low, 7u);
  EXPECT_EQ(b->kind, Kind::kReply);
  EXPECT_EQ(b->low, 9u);
  EXPECT_FALSE(index.find(RequestKey{kA.hi, 3}));  // same hi, different key: not there
  EXPECT_GT(keys.checks, 0u);
  EXPECT_EQ(index.size(), 2u);
}

TEST(RequestIndex, ErasingOneOfTwoKeysWithTheSameBitsLeavesTheOther) {
  Keys keys;
  RequestIndex index(keys);
  keys.add(index, Kind::kOrder, 7, kA);
  keys.add(index, Kind::kOrder, 8, kSameTag);
  index.erase(kA, {Kind::kOrder, 7});
  EXPECT_FALSE(index.find(kA));
  EXPECT_FALSE(index.contains(kA, {Kind::kOrder, 7}));
  ASSERT_TRUE(index.find(kSameTag));
  EXPECT_EQ(index.find(kSameTag)->low, 8u);
  EXPECT_EQ(index.size(), 1u);
}

TEST(RequestIndex, ManyKeysSurviveGrowthAndErasure) {
  Keys keys;
  RequestIndex index(keys);
  std::vector<RequestKey> all;
  for (uint64_t i = 1; i <= 50'000; ++i) {
    const RequestKey k{mix64(i), mix64(i + 1'000'000)};
    all.push_back(k);
    keys.add(index, i % 2 ? Kind::kOrder : Kind::kReply, i, k);
  }
  for (uint64_t i = 1; i <= 50'000; i += 3) {
    index.erase(all[i - 1], {i % 2 ? Kind::kOrder : Kind::kReply, i});
  }
  for (uint64_t i = 1; i <= 50'000; ++i) {
    const auto ref = index.find(all[i - 1]);
    if ((i - 1) % 3 == 0) {
      EXPECT_FALSE(ref) << i;
    } else {
      ASSERT_TRUE(ref) << i;
      EXPECT_EQ(ref->low, i);
      EXPECT_EQ(ref->kind, i % 2 ? Kind::kOrder : Kind::kReply);
    }
  }
  EXPECT_EQ(index.size(), 50'000u - 16'667u);
}

// Random inserts and erasures in one shard, with homes crowded into few slots so that runs
// wrap around the array's end and erasure must shift entries back across it: every key
// present must be found and every key erased must not, checked against a plain map.
TEST(RequestIndex, CrowdedShardMatchesAMapUnderRandomInsertsAndErasures) {
  Keys keys;
  RequestIndex index(keys);
  std::map<uint64_t, RequestKey> present;  // id -> key
  uint64_t state = 42, next_id = 1;
  auto random = [&] {
    state += 0x9e3779b97f4a7c15ULL;
    return mix64(state);
  };
  for (int step = 0; step < 60'000; ++step) {
    if (present.size() < 3'000 && (present.empty() || random() % 3 != 0)) {
      const uint64_t id = next_id++;
      // Shard 7; tags from 40 values, so many keys share a home.
      const RequestKey k{uint64_t{7} << 56 | (random() % 40) << 32 | id, random() | 1};
      keys.add(index, Kind::kOrder, id, k);
      present[id] = k;
    } else {
      auto it = present.begin();
      std::advance(it, static_cast<long>(random() % present.size()));
      index.erase(it->second, {Kind::kOrder, it->first});
      present.erase(it);
    }
    if (step % 997 == 0) {
      for (const auto& [id, k] : present) {
        const auto ref = index.find(k);
        ASSERT_TRUE(ref) << "step " << step << " id " << id;
        ASSERT_EQ(ref->low, id);
      }
      for (uint64_t id = next_id > 50 ? next_id - 50 : 1; id < next_id; ++id) {
        if (!present.contains(id)) {
          EXPECT_FALSE(index.contains(keys.keys.at({Kind::kOrder, id}), {Kind::kOrder, id}));
        }
      }
    }
    ASSERT_EQ(index.size(), present.size());
  }
}

TEST(RequestIndex, BulkInsertFindsEveryKeyAndRefusesOneTwice) {
  Keys keys;
  RequestIndex index(keys);
  std::vector<RequestIndex::Item> items;
  for (uint64_t i = 1; i <= 10'000; ++i) {
    const RequestKey k{mix64(i * 7), mix64(i * 11)};
    keys.set(Kind::kReply, i, k);
    items.push_back({k, {Kind::kReply, i}});
  }
  std::vector<RequestIndex::Item> copy = items;
  ASSERT_TRUE(index.insert_many(std::span(copy)));
  EXPECT_EQ(index.size(), items.size());
  for (const auto& item : items) {
    const auto ref = index.find(item.key);
    ASSERT_TRUE(ref);
    EXPECT_EQ(ref->low, item.ref.low);
  }
  // The same key again under another ref (a damaged snapshot): refused.
  Keys other_keys;
  RequestIndex other(other_keys);
  other_keys.set(Kind::kOrder, 1, kA);
  other_keys.set(Kind::kReply, 2, kA);
  std::vector<RequestIndex::Item> twice{{kA, {Kind::kOrder, 1}}, {kA, {Kind::kReply, 2}}};
  EXPECT_FALSE(other.insert_many(std::span(twice)));
}

TEST(RequestIndex, WidenRecoversAnIdFromItsLowBitsNearTheNewest) {
  const uint64_t big = (uint64_t{5} << RequestIndex::kRefBits) + 123;
  EXPECT_EQ(RequestIndex::widen(big & RequestIndex::kRefMask, big), big);
  EXPECT_EQ(RequestIndex::widen((big - 1000) & RequestIndex::kRefMask, big), big - 1000);
  // Across a wrap of the low bits.
  const uint64_t wrap = uint64_t{3} << RequestIndex::kRefBits;
  EXPECT_EQ(RequestIndex::widen((wrap - 5) & RequestIndex::kRefMask, wrap + 10), wrap - 5);
  EXPECT_EQ(RequestIndex::widen(1, 1), 1u);
}

}  // namespace
}  // namespace smsx
