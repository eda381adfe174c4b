// RequestIndex (core/request_index.h): keys are found through 8-byte entries that hold only
// some bits of the key, so every test here includes keys that share those bits and must
// still be told apart by the owner's key check.
#include "core/request_index.h"

#include <gtest/gtest.h>

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
  std::map<std::pair<Kind, uint64_t>, RequestKey> keys;
  mutable size_t checks = 0;
};

// Two keys in one shard with the same 23 tag bits (bits 32-54 of hi), differing elsewhere.
constexpr RequestKey kA{0x12'345678'9abcdef0ULL, 1};
constexpr RequestKey kSameTag{0x12'345678'00000001ULL, 2};

TEST(RequestIndex, KeysSharingTheirStoredBitsAreToldApartByTheOwner) {
  Keys keys;
  RequestIndex index(keys);
  keys.set(Kind::kOrder, 7, kA);
  keys.set(Kind::kReply, 9, kSameTag);
  index.insert(kA, {Kind::kOrder, 7});
  index.insert(kSameTag, {Kind::kReply, 9});
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
  keys.set(Kind::kOrder, 7, kA);
  keys.set(Kind::kOrder, 8, kSameTag);
  index.insert(kA, {Kind::kOrder, 7});
  index.insert(kSameTag, {Kind::kOrder, 8});
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
    keys.set(i % 2 ? Kind::kOrder : Kind::kReply, i, k);
    index.insert(k, {i % 2 ? Kind::kOrder : Kind::kReply, i});
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
