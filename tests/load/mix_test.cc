#include "tools/load/mix.h"

#include <gtest/gtest.h>

namespace smsx::load {
namespace {

TEST(Mix, DefaultIsTheRealisticDay) {
  std::string error;
  auto mix = parse_mix("", &error);
  ASSERT_TRUE(mix) << error;
  EXPECT_EQ(mix->total, 100u);
  EXPECT_EQ(mix->to_string(), kDefaultMix);
}

TEST(Mix, PartialSpecLeavesOtherOpsAtZero) {
  std::string error;
  auto mix = parse_mix("balance=3,place=1", &error);
  ASSERT_TRUE(mix) << error;
  EXPECT_EQ(mix->total, 4u);
  EXPECT_EQ(mix->to_string(), "place=1,sms=0,finish=0,cancel=0,deposit=0,balance=3,get=0");
}

TEST(Mix, PickFollowsTheWeights) {
  std::string error;
  auto mix = parse_mix("place=1,get=3", &error);
  ASSERT_TRUE(mix) << error;
  EXPECT_EQ(mix->pick(0), Op::kPlace);
  EXPECT_EQ(mix->pick(1), Op::kGet);
  EXPECT_EQ(mix->pick(3), Op::kGet);
  EXPECT_EQ(mix->pick(4), Op::kPlace);
  int counts[kOpCount] = {};
  for (uint64_t r = 0; r < 4000; ++r) ++counts[static_cast<int>(mix->pick(r * 7919))];
  EXPECT_EQ(counts[static_cast<int>(Op::kPlace)], 1000);
  EXPECT_EQ(counts[static_cast<int>(Op::kGet)], 3000);
}

TEST(Mix, InvalidSpecsAreRefusedWithAReason) {
  const char* bad[] = {
      "place",           "place=",        "place=-1", "place=1.5",     "place=x", "teleport=1",
      "place=1,place=2", "place=0,get=0", "place=1,", "place=2000000", "=3",      "place=1;get=2"};
  for (const char* spec : bad) {
    std::string error;
    EXPECT_FALSE(parse_mix(spec, &error)) << spec;
    EXPECT_FALSE(error.empty()) << spec;
  }
}

// A pick that cannot be applied falls back; held_back says whether a placement the
// worker's limit refused was on the way.
TEST(Mix, ResolveFallsBackAndSaysWhenTheLimitHeldAPlacementBack) {
  const WorkerHoldings nothing{
      .can_place = true, .has_waiting = false, .has_received = false, .has_recent = false};
  bool held_back = false;
  EXPECT_EQ(resolve_op(Op::kSms, nothing, &held_back), Op::kPlace);
  EXPECT_FALSE(held_back);
  EXPECT_EQ(resolve_op(Op::kFinish, nothing, &held_back), Op::kPlace);
  EXPECT_FALSE(held_back);

  const WorkerHoldings full_with_waiting{
      .can_place = false, .has_waiting = true, .has_received = false, .has_recent = true};
  EXPECT_EQ(resolve_op(Op::kPlace, full_with_waiting, &held_back), Op::kCancel);
  EXPECT_TRUE(held_back);
  held_back = false;
  EXPECT_EQ(resolve_op(Op::kSms, full_with_waiting, &held_back), Op::kSms);
  EXPECT_FALSE(held_back);

  const WorkerHoldings full_idle{
      .can_place = false, .has_waiting = false, .has_received = false, .has_recent = false};
  EXPECT_EQ(resolve_op(Op::kPlace, full_idle, &held_back), Op::kBalance);
  EXPECT_TRUE(held_back);
  held_back = false;
  EXPECT_EQ(resolve_op(Op::kSms, full_idle, &held_back), Op::kBalance);
  EXPECT_TRUE(held_back);
  held_back = false;
  EXPECT_EQ(resolve_op(Op::kDeposit, full_idle, &held_back), Op::kDeposit);
  EXPECT_FALSE(held_back);
}

}  // namespace
}  // namespace smsx::load
