// One test per edge of the timing wheel; the randomized comparison against a reference model
// is in timing_wheel_property_test.cc.
#include "timers/timing_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <type_traits>
#include <vector>

namespace smsx::timers {
namespace {

constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();
constexpr uint64_t kRangeMs = TimingWheel::kRangeMs;

constexpr uint64_t pow64(int k) { return uint64_t{1} << (6 * k); }

// A `now` whose seven digits are all non-zero and different (5, 14, 23, ..., 59).
constexpr uint64_t unaligned_now() {
  uint64_t now = 0;
  for (int level = 0; level < 7; ++level) now |= uint64_t((level * 9 + 5) & 63) << (6 * level);
  return now;
}

struct Timer {
  TimerNode node;  // first member: the TimerNode* passed to callbacks is also a Timer*
  int id = 0;
};
static_assert(std::is_standard_layout_v<Timer>);

// One expiry as observed inside the callback.
struct Expiry {
  int id;
  uint64_t deadline_ms;
  uint64_t now_ms;  // wheel.now_ms() during the callback
};

std::vector<int> ids(const std::vector<Expiry>& expiries) {
  std::vector<int> out;
  for (const Expiry& e : expiries) out.push_back(e.id);
  return out;
}

// A wheel and a fixed array of timers (never reallocated, so nodes stay where they are).
struct Fixture {
  explicit Fixture(uint64_t now_ms, size_t count = 64) : wheel(now_ms), timers(count) {
    for (size_t i = 0; i < count; ++i) timers[i].id = static_cast<int>(i);
  }

  void schedule(int id, uint64_t deadline_ms) { wheel.schedule(&timers[id].node, deadline_ms); }
  void cancel(int id) { wheel.cancel(&timers[id].node); }

  // Advances to now_ms, recording every expiry; `more` receives advance()'s result.
  std::vector<Expiry> advance(uint64_t now_ms, size_t max_expired = kNoLimit,
                              bool* more = nullptr) {
    std::vector<Expiry> out;
    const bool result = wheel.advance(now_ms, max_expired, [&](TimerNode* node) {
      Timer* timer = reinterpret_cast<Timer*>(node);
      EXPECT_FALSE(node->scheduled());
      EXPECT_LE(node->deadline_ms, wheel.now_ms());
      out.push_back({timer->id, node->deadline_ms, wheel.now_ms()});
      if (on_expire) on_expire(timer);
    });
    if (more != nullptr) *more = result;
    return out;
  }

  TimingWheel wheel;
  std::vector<Timer> timers;
  std::function<void(Timer*)> on_expire;  // runs inside the callback, after recording
};

// Schedules timer i at deadlines[i] from start_ms and checks three ways (one jump past all of
// them; a step to just before and then to each deadline; hops between next_deadline() values)
// that each fires at the first advance() whose now reaches its deadline, with now_ms() equal
// to the deadline, in deadline order and FIFO among equal deadlines.
void expect_exact_expiries(uint64_t start_ms, const std::vector<uint64_t>& deadlines) {
  const size_t count = deadlines.size();
  std::vector<uint64_t> due(count);  // deadline as the wheel uses it
  for (size_t i = 0; i < count; ++i) due[i] = std::max(deadlines[i], start_ms);
  std::vector<int> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return due[a] < due[b]; });
  const uint64_t last = due[order.back()];
  const auto fill = [&](Fixture& f) {
    for (size_t i = 0; i < count; ++i) f.schedule(static_cast<int>(i), deadlines[i]);
    f.wheel.verify();
  };
  {
    SCOPED_TRACE("one jump");
    Fixture f(start_ms, count);
    fill(f);
    const std::vector<Expiry> got = f.advance(last + 1000);
    EXPECT_EQ(ids(got), order);
    for (const Expiry& e : got) {
      EXPECT_EQ(e.deadline_ms, due[e.id]);
      EXPECT_EQ(e.now_ms, due[e.id]);
    }
    EXPECT_EQ(f.wheel.now_ms(), last + 1000);
    EXPECT_EQ(f.wheel.size(), 0u);
  }
  {
    SCOPED_TRACE("just before, then at, each deadline");
    Fixture f(start_ms, count);
    fill(f);
    size_t next = 0;
    while (next < count) {
      const uint64_t deadline = due[order[next]];
      if (deadline > f.wheel.now_ms()) {
        EXPECT_TRUE(f.advance(deadline - 1).empty()) << "fired before " << deadline;
        f.wheel.verify();
      }
      std::vector<int> expected;
      for (; next < count && due[order[next]] == deadline; ++next) expected.push_back(order[next]);
      EXPECT_EQ(ids(f.advance(deadline)), expected) << "at " << deadline;
      f.wheel.verify();
    }
    EXPECT_EQ(f.wheel.size(), 0u);
  }
  {
    SCOPED_TRACE("hops between next_deadline() values");
    Fixture f(start_ms, count);
    fill(f);
    size_t next = 0;
    size_t hops = 0;
    while (const std::optional<uint64_t> hop = f.wheel.next_deadline()) {
      ASSERT_LT(next, count);
      ASSERT_GE(*hop, f.wheel.now_ms());
      ASSERT_LE(*hop, due[order[next]]) << "next_deadline() is not a lower bound";
      for (const Expiry& e : f.advance(*hop)) {
        ASSERT_LT(next, count);
        EXPECT_EQ(e.id, order[next]);
        EXPECT_EQ(e.now_ms, due[order[next]]);
        ++next;
      }
      f.wheel.verify();
      // At most one cascade per level before each expiry: the wheel never ticks.
      ASSERT_LE(++hops, count * TimingWheel::kLevels);
    }
    EXPECT_EQ(next, count);
  }
}

TEST(TimingWheelTest, DeadlineEqualToNowFiresAtNextAdvance) {
  Fixture f(5000);
  f.schedule(0, 5000);
  EXPECT_EQ(f.wheel.next_deadline(), 5000u);
  const std::vector<Expiry> got = f.advance(5000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].now_ms, 5000u);
  EXPECT_EQ(f.wheel.size(), 0u);
  expect_exact_expiries(0, {0, 0});
  expect_exact_expiries(unaligned_now(), {unaligned_now()});
}

TEST(TimingWheelTest, DeadlineInThePastFiresAtNextAdvanceAsNow) {
  Fixture f(5000);
  f.schedule(0, 5000);
  f.schedule(1, 4000);
  f.schedule(2, 0);
  EXPECT_EQ(f.timers[1].node.deadline_ms, 5000u);  // the deadline the wheel uses
  EXPECT_EQ(f.wheel.next_deadline(), 5000u);
  const std::vector<Expiry> got = f.advance(5000);
  EXPECT_EQ(ids(got), (std::vector<int>{0, 1, 2}));  // scheduling order, all due at 5000
  for (const Expiry& e : got) EXPECT_EQ(e.now_ms, 5000u);
  expect_exact_expiries(100000, {5, 99999, 0, 100000, 100001, 100063, 100064});
}

TEST(TimingWheelTest, LevelBoundariesFromZero) {
  std::vector<uint64_t> all;
  for (int k = 1; k <= 6; ++k) {
    for (const uint64_t deadline : {pow64(k) - 1, pow64(k), pow64(k) + 1}) {
      SCOPED_TRACE(deadline);
      expect_exact_expiries(0, {deadline});
      all.push_back(deadline);
    }
  }
  expect_exact_expiries(0, all);
}

TEST(TimingWheelTest, LevelBoundariesFromUnalignedNow) {
  const uint64_t now = unaligned_now();
  std::vector<uint64_t> all;
  for (int k = 1; k <= 7; ++k) {
    const uint64_t next_boundary = ((now >> (6 * k)) + 1) << (6 * k);
    std::vector<uint64_t> deadlines = {next_boundary - 1, next_boundary, next_boundary + 1};
    if (k <= 6) {
      for (const uint64_t d : {pow64(k) - 1, pow64(k), pow64(k) + 1}) deadlines.push_back(now + d);
    }
    for (const uint64_t deadline : deadlines) {
      SCOPED_TRACE(deadline);
      expect_exact_expiries(now, {deadline});
      all.push_back(deadline);
    }
  }
  expect_exact_expiries(now, all);
}

TEST(TimingWheelTest, EndOfRange) {
  for (const uint64_t now : {uint64_t{0}, unaligned_now(), (uint64_t{1} << 42) - 10,
                             (uint64_t{5} << 42) - 3, (uint64_t{40} << 36) + 123}) {
    SCOPED_TRACE(now);
    expect_exact_expiries(now, {now + kRangeMs - 1});
    expect_exact_expiries(now, {now + kRangeMs - 1, now + kRangeMs - 2, now + kRangeMs / 2, now});
  }
}

TEST(TimingWheelTest, TimeJumpAcrossManyLevels) {
  const uint64_t start = 1000;
  const std::vector<uint64_t> offsets = {
      1, 70, 5000, 300000, 20000000, uint64_t{1} << 31, uint64_t{1} << 37, uint64_t{1} << 40};
  Fixture f(start);
  for (size_t i = 0; i < offsets.size(); ++i) f.schedule(static_cast<int>(i), start + offsets[i]);
  // A jump into the middle fires exactly the timers up to it.
  std::vector<Expiry> got = f.advance(start + (uint64_t{1} << 30));
  EXPECT_EQ(ids(got), (std::vector<int>{0, 1, 2, 3, 4}));
  for (const Expiry& e : got) EXPECT_EQ(e.now_ms, e.deadline_ms);
  EXPECT_EQ(f.wheel.now_ms(), start + (uint64_t{1} << 30));
  f.wheel.verify();
  // A jump past everything fires the rest, each with now at its own deadline.
  got = f.advance(start + (uint64_t{1} << 41));
  EXPECT_EQ(ids(got), (std::vector<int>{5, 6, 7}));
  for (const Expiry& e : got) EXPECT_EQ(e.now_ms, e.deadline_ms);
  EXPECT_EQ(f.wheel.size(), 0u);
}

TEST(TimingWheelTest, CancelOfNextDueTimerMovesNextDeadline) {
  Fixture f(0);
  f.schedule(0, 10);
  f.schedule(1, 20);
  f.schedule(2, 5000);
  f.schedule(3, 9000);
  EXPECT_EQ(f.wheel.next_deadline(), 10u);
  f.cancel(0);
  EXPECT_FALSE(f.timers[0].node.scheduled());
  EXPECT_EQ(f.wheel.next_deadline(), 20u);
  f.cancel(1);
  EXPECT_LE(f.wheel.next_deadline(), 5000u);
  f.cancel(2);  // alone in its level-2 slot: the slot's bit must be cleared
  EXPECT_GT(f.wheel.next_deadline(), 5000u);
  EXPECT_LE(f.wheel.next_deadline(), 9000u);
  f.wheel.verify();
  EXPECT_EQ(ids(f.advance(100000)), (std::vector<int>{3}));
  EXPECT_EQ(f.wheel.next_deadline(), std::nullopt);
}

TEST(TimingWheelTest, CancelInsideCallbackPreventsExpiry) {
  Fixture f(0);
  f.schedule(0, 50);
  f.schedule(1, 50);  // next in the same slot: cancelled by 0's callback
  f.schedule(2, 60);
  f.schedule(3, 50);
  f.schedule(4, 100000);  // at a higher level
  f.on_expire = [&](Timer* timer) {
    if (timer->id != 0) return;
    f.cancel(1);
    f.cancel(2);
    f.cancel(4);
  };
  EXPECT_EQ(ids(f.advance(200000)), (std::vector<int>{0, 3}));
  EXPECT_EQ(f.wheel.size(), 0u);
  f.wheel.verify();
}

TEST(TimingWheelTest, RescheduleSameNodeInsideCallback) {
  Fixture f(0);
  f.schedule(0, 10);
  int runs = 0;
  f.on_expire = [&](Timer* timer) {
    if (++runs < 5) f.wheel.schedule(&timer->node, f.wheel.now_ms() + 10);
  };
  std::vector<Expiry> got = f.advance(1000);
  ASSERT_EQ(got.size(), 5u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].now_ms, 10 * (i + 1));
  EXPECT_EQ(f.wheel.size(), 0u);

  // Rescheduled at or before now: due again at once, bounded by max_expired.
  f.schedule(1, 2000);
  f.on_expire = [&](Timer* timer) { f.wheel.schedule(&timer->node, f.wheel.now_ms() - 1); };
  bool more = false;
  got = f.advance(3000, 3, &more);
  EXPECT_EQ(ids(got), (std::vector<int>{1, 1, 1}));
  EXPECT_TRUE(more);
  EXPECT_EQ(f.wheel.now_ms(), 2000u);
  EXPECT_EQ(f.wheel.size(), 1u);
  f.cancel(1);
  EXPECT_TRUE(f.advance(3000, 3, &more).empty());
  EXPECT_FALSE(more);
}

TEST(TimingWheelTest, MaxExpiredCutOffAndResumption) {
  Fixture f(0);
  for (int id = 0; id < 10; ++id) f.schedule(id, 5);
  for (int id = 10; id < 15; ++id) f.schedule(id, 7);
  f.schedule(15, 300);
  bool more = false;
  EXPECT_EQ(ids(f.advance(1000, 4, &more)), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_TRUE(more);
  EXPECT_EQ(f.wheel.now_ms(), 5u);  // stays at the deadline being expired
  EXPECT_EQ(f.wheel.next_deadline(), 5u);
  // Resuming with a nearer target still expires what is due at now, and only that.
  EXPECT_EQ(ids(f.advance(5, 100, &more)), (std::vector<int>{4, 5, 6, 7, 8, 9}));
  EXPECT_FALSE(more);
  EXPECT_EQ(ids(f.advance(1000, 4, &more)), (std::vector<int>{10, 11, 12, 13}));
  EXPECT_TRUE(more);
  EXPECT_EQ(f.wheel.now_ms(), 7u);
  EXPECT_EQ(ids(f.advance(1000, 2, &more)), (std::vector<int>{14, 15}));
  EXPECT_FALSE(more);  // nothing else due: now reaches the target
  EXPECT_EQ(f.wheel.now_ms(), 1000u);

  // max_expired == 0 fires nothing but reports (and moves now to) what is due.
  f.schedule(16, 2000);
  EXPECT_TRUE(f.advance(5000, 0, &more).empty());
  EXPECT_TRUE(more);
  EXPECT_EQ(f.wheel.now_ms(), 2000u);
  EXPECT_EQ(ids(f.advance(5000, 1, &more)), (std::vector<int>{16}));
  EXPECT_FALSE(more);
}

TEST(TimingWheelTest, NextDeadlineIsLowerBoundAndExactAtLevelZero) {
  {
    Fixture f(1000);  // digit 0 of 1000 is 40
    EXPECT_EQ(f.wheel.next_deadline(), std::nullopt);
    f.schedule(0, 1020);  // level 0: exact
    f.schedule(1, 1100);  // level 1, slot starting at 1088
    EXPECT_EQ(f.wheel.next_deadline(), 1020u);
    f.cancel(0);
    EXPECT_EQ(f.wheel.next_deadline(), 1088u);  // start of 1100's level-1 slot
    EXPECT_TRUE(f.advance(1088).empty());
    EXPECT_EQ(f.wheel.next_deadline(), 1100u);  // cascaded to level 0: exact
  }
  std::mt19937_64 rng(7);
  Fixture f(unaligned_now(), 256);
  std::multiset<uint64_t> deadlines;
  for (int round = 0; round < 2000; ++round) {
    const int id = static_cast<int>(rng() % f.timers.size());
    if (!f.timers[id].node.scheduled()) {
      const uint64_t span = uint64_t{1} << (rng() % 30);
      f.schedule(id, f.wheel.now_ms() + rng() % span);
      deadlines.insert(f.timers[id].node.deadline_ms);
    }
    if (round % 3 == 0) {
      for (const Expiry& e : f.advance(f.wheel.now_ms() + rng() % 5000)) {
        deadlines.erase(deadlines.find(e.deadline_ms));
      }
    }
    const std::optional<uint64_t> next = f.wheel.next_deadline();
    ASSERT_EQ(next.has_value(), !deadlines.empty());
    if (!next) continue;
    const uint64_t earliest = *deadlines.begin();
    ASSERT_LE(*next, earliest);
    ASSERT_GE(*next, f.wheel.now_ms());
    if ((earliest >> 6) == (f.wheel.now_ms() >> 6)) {
      ASSERT_EQ(*next, earliest);
    }
  }
}

TEST(TimingWheelTest, SameMillisecondFiresInSchedulingOrder) {
  const uint64_t deadline = 3 * 4096 + 77;  // level 2 from now = 0
  Fixture f(0);
  for (int id = 0; id < 10; ++id) f.schedule(id, deadline);
  f.schedule(40, deadline + 1);
  EXPECT_TRUE(f.advance(4101).empty());
  for (int id = 10; id < 20; ++id) f.schedule(id, deadline);  // still level 2
  EXPECT_TRUE(f.advance(3 * 4096 + 2).empty());               // 0..19 cascade to level 1
  for (int id = 20; id < 30; ++id) f.schedule(id, deadline);  // straight to level 1
  f.schedule(41, deadline - 1);
  EXPECT_TRUE(f.advance(deadline - 10).empty());  // 0..29 cascade to level 0
  for (int id = 30; id < 40; ++id) f.schedule(id, deadline);
  f.schedule(42, deadline + 1);
  std::vector<int> expected = {41};
  for (int id = 0; id < 40; ++id) expected.push_back(id);
  expected.push_back(40);
  expected.push_back(42);
  EXPECT_EQ(ids(f.advance(deadline + 5)), expected);
}

TEST(TimingWheelTest, ConstantLifetimeFiresInCreationOrder) {
  constexpr uint64_t kTtlMs = 20 * 60 * 1000;
  constexpr int kCount = 4000;
  // Creations spread over ~1.5 ttl, several per millisecond, expiring while others are created.
  const auto run = [&]() {
    std::mt19937_64 rng(11);
    Fixture f(unaligned_now(), kCount);
    std::vector<Expiry> all;
    const auto collect = [&](const std::vector<Expiry>& some) {
      all.insert(all.end(), some.begin(), some.end());
    };
    uint64_t now = f.wheel.now_ms();
    for (int id = 0; id < kCount; ++id) {
      if (rng() % 4 == 0) now += rng() % 3000;
      collect(f.advance(now));
      f.schedule(id, now + kTtlMs);
    }
    EXPECT_GT(all.size(), 0u);
    EXPECT_LT(all.size(), static_cast<size_t>(kCount));
    collect(f.advance(now + kTtlMs));
    return all;
  };
  const std::vector<Expiry> first = run();
  std::vector<int> creation(kCount);
  std::iota(creation.begin(), creation.end(), 0);
  EXPECT_EQ(ids(first), creation);
  for (const Expiry& e : first) EXPECT_EQ(e.now_ms, e.deadline_ms);
  EXPECT_EQ(ids(run()), ids(first));  // the same calls give the same expiries
}

TEST(TimingWheelTest, SizeCountsScheduledTimers) {
  Fixture f(0);
  EXPECT_EQ(f.wheel.size(), 0u);
  f.schedule(0, 10);
  f.schedule(1, 10);
  f.schedule(2, 100000);
  EXPECT_EQ(f.wheel.size(), 3u);
  f.cancel(1);
  EXPECT_EQ(f.wheel.size(), 2u);
  f.cancel(1);  // not scheduled: no-op
  f.cancel(3);  // never scheduled: no-op
  EXPECT_EQ(f.wheel.size(), 2u);
  f.on_expire = [&](Timer*) { EXPECT_EQ(f.wheel.size(), 1u); };  // unscheduled before the call
  EXPECT_EQ(f.advance(50).size(), 1u);
  EXPECT_EQ(f.wheel.size(), 1u);
  f.cancel(2);
  EXPECT_EQ(f.wheel.size(), 0u);
  EXPECT_EQ(f.wheel.next_deadline(), std::nullopt);
  f.wheel.verify();
}

TEST(TimingWheelTest, TopLevelWrapAround) {
  const uint64_t boundary = uint64_t{1} << 42;
  {
    Fixture f(boundary - 10);     // every digit of now is 63 except digit 0
    f.schedule(0, boundary + 5);  // 15 ms ahead, but only the top-level digits differ
    EXPECT_EQ(f.wheel.next_deadline(), boundary);  // the wrapped top-level slot's start
    EXPECT_TRUE(f.advance(boundary + 4).empty());
    EXPECT_EQ(f.wheel.next_deadline(), boundary + 5);
    EXPECT_EQ(ids(f.advance(boundary + 5)), (std::vector<int>{0}));
  }
  for (const uint64_t now : {boundary - 10, (uint64_t{5} << 42) - 3, 3 * boundary - 1}) {
    SCOPED_TRACE(now);
    const uint64_t next = (now | (boundary - 1)) + 1;  // the boundary just above now
    expect_exact_expiries(now, {next - 1, next, next + 5, next + pow64(6) + 1, next + 31 * pow64(6),
                                now + kRangeMs - 1, now + 1});
  }
}

TEST(TimingWheelDeathTest, ScheduleOfScheduledNodeAborts) {
  EXPECT_DEATH(
      {
        TimingWheel wheel;
        TimerNode node;
        wheel.schedule(&node, 5);
        wheel.schedule(&node, 6);
      },
      "assertion failed: !node->scheduled");
}

TEST(TimingWheelDeathTest, TimeGoingBackwardsAborts) {
  EXPECT_DEATH(
      {
        TimingWheel wheel(100);
        wheel.advance(99, kNoLimit, [](TimerNode*) {});
      },
      "assertion failed: now_ms >= now_ms_");
}

TEST(TimingWheelDeathTest, DeadlineBeyondRangeAborts) {
  EXPECT_DEATH(
      {
        TimingWheel wheel(7);
        TimerNode node;
        wheel.schedule(&node, 7 + kRangeMs);
      },
      "assertion failed: deadline_ms <= now_ms_");
}

TEST(TimingWheelDeathTest, AdvanceInsideCallbackAborts) {
  EXPECT_DEATH(
      {
        TimingWheel wheel;
        TimerNode node;
        wheel.schedule(&node, 1);
        wheel.advance(5, kNoLimit, [&](TimerNode*) { wheel.advance(6, 1, [](TimerNode*) {}); });
      },
      "assertion failed: !advancing_");
}

TEST(TimingWheelDeathTest, CancelThroughAnotherWheelAborts) {
  EXPECT_DEATH(
      {
        TimingWheel owner;
        TimingWheel other;
        TimerNode node;
        owner.schedule(&node, 1);
        other.cancel(&node);
      },
      "assertion failed: index < kSlotCount");
}

}  // namespace
}  // namespace smsx::timers
