// OrderStore (core/order_store.h): an order's id comes from its address (the chunk it lives
// in), so ids must come out right across chunks, after chunks are freed, and for slots that
// are reused.
#include "core/order_store.h"

#include <gtest/gtest.h>

#include <vector>

namespace smsx {
namespace {

constexpr uint64_t kOrders = 50'000;  // more than two chunks of about 20,000

TEST(OrderStore, EveryOrderKnowsItsIdAcrossChunks) {
  OrderStore store;
  for (uint64_t id = 1; id <= kOrders; ++id) {
    Order* o = store.create(id, 1000);
    o->price = static_cast<uint32_t>(id);
  }
  EXPECT_EQ(store.size(), kOrders);
  for (uint64_t id = 1; id <= kOrders; ++id) {
    const Order* o = store.find(id);
    ASSERT_NE(o, nullptr) << id;
    EXPECT_EQ(o->id(), id);
    EXPECT_EQ(o->price, id);
  }
  EXPECT_EQ(store.find(0), nullptr);
  EXPECT_EQ(store.find(kOrders + 1), nullptr);
  uint64_t expected = 1;
  store.for_each([&](const Order& o) { EXPECT_EQ(o.id(), expected++); });
  EXPECT_EQ(expected, kOrders + 1);
}

TEST(OrderStore, ErasedOrdersAreGoneAndTheRestKeepTheirIds) {
  OrderStore store;
  for (uint64_t id = 1; id <= kOrders; ++id) store.create(id, 1000);
  // The whole front (its chunks are freed) and every third order after it.
  for (uint64_t id = 1; id <= kOrders; ++id) {
    if (id <= 30'000 || id % 3 == 0) store.erase(store.find(id));
  }
  std::vector<uint64_t> seen;
  store.for_each([&](const Order& o) { seen.push_back(o.id()); });
  std::vector<uint64_t> expected;
  for (uint64_t id = 30'001; id <= kOrders; ++id) {
    if (id % 3 != 0) expected.push_back(id);
    const Order* o = store.find(id);
    EXPECT_EQ(o != nullptr, id % 3 != 0) << id;
    if (o != nullptr) {
      EXPECT_EQ(o->id(), id);
    }
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(store.size(), expected.size());
  EXPECT_EQ(store.find(1), nullptr);
  // New ids go on after the last one, in the same chunks or new ones.
  for (uint64_t id = kOrders + 1; id <= kOrders + 25'000; ++id) {
    EXPECT_EQ(store.create(id, 1000)->id(), id);
  }
  EXPECT_EQ(store.find(kOrders + 25'000)->id(), kOrders + 25'000);
}

// Ids skipped over (a restored snapshot whose old orders were evicted, then a new order)
// get no chunk: only the chunks holding orders are mapped.
TEST(OrderStore, AnIdFarAheadMapsOnlyItsOwnChunk) {
  OrderStore store;
  store.create(1, 1000);
  EXPECT_EQ(store.chunks_mapped(), 1u);
  Order* far = store.create(200'000, 1000);  // about ten chunks further on
  EXPECT_EQ(far->id(), 200'000u);
  EXPECT_EQ(store.chunks_mapped(), 2u);
  EXPECT_EQ(store.find(100'000), nullptr);
  store.erase(store.find(1));
  EXPECT_EQ(store.chunks_mapped(), 1u);
  EXPECT_EQ(store.find(200'000), far);
}

}  // namespace
}  // namespace smsx
