// Hierarchical, cascading timing wheel with millisecond resolution (DESIGN.md, "Timing wheel").
//
// Ownership: the wheel never owns nodes. A TimerNode is embedded in the caller's struct (an
// order); it must be cancelled before its memory is freed or reused, and the wheel must outlive
// every node scheduled in it. The wheel cannot be copied or moved (slot heads point to
// themselves).
// Thread-safety: none. One thread (the loop) calls every method.
// Node size: 24 bytes (two links and the deadline), no allocation per timer.
//
// Time is split into 6-bit digits; level L holds 64 slots, one per value of digit L, and a
// uint64_t bitmap of the non-empty slots. A node goes to level = (index of the highest bit in
// which deadline and now differ) / 6, capped at the top level, and to slot = digit L of its
// deadline. When now reaches the start of an occupied slot at level L > 0, its nodes cascade to
// lower levels; a level-0 slot holds the nodes due at exactly one millisecond.
//
// Work per advance(): at most max_expired callbacks, plus cascades. A cascade moves a whole
// slot, which max_expired does not bound: a level-3 slot holds 2^18 ms (~262 s) of deadlines,
// ~2.2M nodes with 10M live 20-minute timers (pause figures in docs/benchmarks.md).
//
// Invariants (checked by verify()):
// - each scheduled node is in exactly one slot, the one placement(deadline, now) gives;
// - a level-L slot's bit is set iff its list is non-empty;
// - a node at level L > 0 shares all digits above L with now and its level-L digit differs
//   (at the top level there are no digits above, and its digit differs because deadlines are
//   less than kRangeMs = 2^41 ahead, half the 2^42 ms the top level spans);
// - every scheduled node has deadline_ms >= now_ms(), so nothing fires before its deadline.
//
// Order: timers fire in deadline order; timers with the same deadline fire in the order they
// were scheduled (FIFO), because every node with a given deadline sits in the same slot at any
// time and a cascade moves a slot's nodes in list order, appending at the tail. With a constant
// lifetime (deadline = creation + ttl) this is creation order. The same calls always give the
// same expiries in the same order.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace smsx::timers {

namespace detail {
// Prints "file:line: assertion failed: condition" to stderr and aborts.
[[noreturn]] [[gnu::cold]] void assert_failed(const char* condition, const char* file, int line);
}  // namespace detail

// Always on, also in release builds: a broken precondition here corrupts the wheel silently.
#define SMSX_WHEEL_ASSERT(condition)                 \
  (__builtin_expect(static_cast<bool>(condition), 1) \
       ? static_cast<void>(0)                        \
       : ::smsx::timers::detail::assert_failed(#condition, __FILE__, __LINE__))

// Intrusive node, embedded in the caller's struct.
struct TimerNode {
  TimerNode* next = nullptr;  // nullptr <=> not scheduled
  TimerNode* prev = nullptr;
  uint64_t deadline_ms = 0;
  bool scheduled() const { return next != nullptr; }
};
static_assert(sizeof(TimerNode) == 24, "a timer node is two links and a deadline");

class TimingWheel {
 public:
  static constexpr size_t kSlotBits = 6;  // one digit of the deadline per level
  static constexpr size_t kSlotsPerLevel = size_t{1} << kSlotBits;  // one bitmap word per level
  static constexpr size_t kLevels = 7;  // 42 bits of time: 2^42 ms is about 139 years
  // Max (deadline - now) accepted. Half the span of the top level, so a top-level slot names
  // one unique stretch of time ahead of now even though its digit wraps (2^41 ms ~ 69 years).
  static constexpr uint64_t kRangeMs = uint64_t{1} << 41;
  // now_ms must stay below this so slot start times cannot overflow.
  static constexpr uint64_t kTimeMaxMs = uint64_t{1} << 62;
  static_assert(kSlotsPerLevel == 64, "a level's occupancy is one uint64_t");
  static_assert(kRangeMs >= uint64_t{1} << 36, "the range covers at least 2^36 ms");
  static_assert(2 * kRangeMs <= uint64_t{1} << (kSlotBits * kLevels),
                "top-level slots must be unambiguous");

  explicit TimingWheel(uint64_t now_ms = 0);
  TimingWheel(const TimingWheel&) = delete;
  TimingWheel& operator=(const TimingWheel&) = delete;

  uint64_t now_ms() const { return now_ms_; }
  size_t size() const { return size_; }  // scheduled timers

  // Schedules `node` (must not be scheduled) to expire at deadline_ms. A deadline <= now_ms()
  // is due at the next advance(); node->deadline_ms is then set to now_ms(), so that field
  // always holds the deadline the wheel uses. Precondition (asserted): deadline_ms < now_ms() +
  // kRangeMs.
  void schedule(TimerNode* node, uint64_t deadline_ms) {
    SMSX_WHEEL_ASSERT(!node->scheduled());
    SMSX_WHEEL_ASSERT(deadline_ms <= now_ms_ || deadline_ms - now_ms_ < kRangeMs);
    node->deadline_ms = std::max(deadline_ms, now_ms_);
    link(node);
    ++size_;
  }

  // Unschedules `node` (no-op if not scheduled). O(1).
  void cancel(TimerNode* node) {
    if (node->scheduled()) unlink(node);
  }

  // Lower bound on the earliest deadline (exact when the earliest timer is within the lowest
  // level); std::nullopt when empty. Uses the per-level occupancy bitmaps, never ticks.
  std::optional<uint64_t> next_deadline() const {
    const SlotRef next = earliest_slot();
    if (next.level == kLevels) return std::nullopt;
    return next.start_ms;
  }

  // Moves time to now_ms (never backwards: asserted) expiring due timers in deadline order,
  // calling on_expire(TimerNode*) for each, at most max_expired of them. The node is
  // unscheduled before the callback, which may schedule/cancel any node including the one
  // passed, but must not call advance(). Returns true when more timers are due at now_ms (call
  // again), else false. When it stops early, now_ms() stays at the deadline being expired so
  // nothing is skipped. A callback that keeps scheduling nodes at or before now_ms() is bounded
  // only by max_expired.
  template <class F>
  bool advance(uint64_t now_ms, size_t max_expired, F&& on_expire) {
    SMSX_WHEEL_ASSERT(now_ms >= now_ms_);
    SMSX_WHEEL_ASSERT(now_ms < kTimeMaxMs);
    SMSX_WHEEL_ASSERT(!advancing_);
    const AdvanceGuard guard(this);
    size_t expired = 0;
    for (;;) {
      const SlotRef next = earliest_slot();
      if (next.level == kLevels || next.start_ms > now_ms) {
        // Every slot starts after now_ms. For a slot at level L starting at S, every time in
        // [now_ms_, S) has the same digits above L as now_ms_ and a smaller level-L digit, so
        // its nodes still share the digits above L with the new now and differ at L: placement
        // is what schedule() would compute at the new now. At the top level, S is the first
        // time >= now_ms_ with that digit, so the digit still differs.
        now_ms_ = now_ms;
        return false;
      }
      SMSX_WHEEL_ASSERT(next.start_ms >= now_ms_);
      now_ms_ = next.start_ms;
      TimerNode* head = &slots_[next.level * kSlotsPerLevel + next.slot];
      SMSX_WHEEL_ASSERT(head->next != head);  // its bit is set
      if (next.level > 0) {
        // Bounded by this slot's nodes; each moves to a strictly lower level.
        cascade(next.level, next.slot);
        continue;
      }
      // Every node in this slot has deadline_ms == now_ms_. Pop from the head each time: the
      // callback may cancel or schedule any node, so no link is kept across it.
      while (head->next != head) {
        if (expired == max_expired) return true;
        TimerNode* node = head->next;
        unlink(node);
        ++expired;
        on_expire(node);
      }
    }
  }

  // Walks every slot and aborts unless the invariants above hold. O(size() + slots): for tests.
  void verify() const;

 private:
  static constexpr uint64_t kDigitMask = kSlotsPerLevel - 1;
  static constexpr size_t kSlotCount = kLevels * kSlotsPerLevel;

  // The earliest occupied slot: level == kLevels when the wheel is empty.
  struct SlotRef {
    size_t level;
    size_t slot;
    uint64_t start_ms;
  };

  // Clears advancing_ on every way out of advance().
  struct AdvanceGuard {
    explicit AdvanceGuard(TimingWheel* wheel) : wheel_(wheel) { wheel_->advancing_ = true; }
    ~AdvanceGuard() { wheel_->advancing_ = false; }
    TimingWheel* wheel_;
  };

  static size_t level_of(uint64_t deadline_ms, uint64_t now_ms) {
    // `| kDigitMask` keeps the highest differing bit >= 5, i.e. level 0 when they are equal.
    const int high_bit = 63 - std::countl_zero((deadline_ms ^ now_ms) | kDigitMask);
    return std::min(static_cast<size_t>(high_bit) / kSlotBits, kLevels - 1);
  }

  // The lowest non-empty level holds the earliest slot: level-L slots start before the end of
  // now's level-(L+1) slot, and level-(L+1) slots start after it. Within a level the search is
  // rotated to start at now's digit, which handles the top level's wrap-around; below the top
  // level all occupied slots are at or after now's digit anyway.
  SlotRef earliest_slot() const {
    for (size_t level = 0; level < kLevels; ++level) {
      const uint64_t occupied = occupied_[level];
      if (occupied == 0) continue;
      const size_t shift = level * kSlotBits;
      const size_t digit = (now_ms_ >> shift) & kDigitMask;
      const size_t ahead = std::countr_zero(std::rotr(occupied, static_cast<int>(digit)));
      return {level, (digit + ahead) & kDigitMask, ((now_ms_ >> shift) + ahead) << shift};
    }
    return {kLevels, 0, 0};
  }

  // Appends `node` (deadline_ms >= now_ms_) to the tail of its slot relative to now_ms_.
  void link(TimerNode* node) {
    const size_t level = level_of(node->deadline_ms, now_ms_);
    const size_t slot = (node->deadline_ms >> (level * kSlotBits)) & kDigitMask;
    TimerNode* head = &slots_[level * kSlotsPerLevel + slot];
    TimerNode* tail = head->prev;
    node->next = head;
    node->prev = tail;
    tail->next = node;
    head->prev = node;
    occupied_[level] |= uint64_t{1} << slot;
  }

  // Removes a scheduled node. When its former neighbours are the same node, the list is empty
  // and that neighbour is the slot's head, whose address names the bit to clear.
  void unlink(TimerNode* node) {
    TimerNode* prev = node->prev;
    TimerNode* next = node->next;
    prev->next = next;
    next->prev = prev;
    if (prev == next) {
      const uintptr_t offset =
          reinterpret_cast<uintptr_t>(prev) - reinterpret_cast<uintptr_t>(&slots_[0]);
      const size_t index = offset / sizeof(TimerNode);
      SMSX_WHEEL_ASSERT(index < kSlotCount);  // the node belonged to this wheel
      occupied_[index / kSlotsPerLevel] &= ~(uint64_t{1} << (index % kSlotsPerLevel));
    }
    node->next = nullptr;
    node->prev = nullptr;
    --size_;
  }

  // Moves every node of a level > 0 slot, in list order, to its slot relative to now_ms_ (the
  // slot's start), which is at a lower level.
  void cascade(size_t level, size_t slot);

  uint64_t now_ms_;
  size_t size_ = 0;
  bool advancing_ = false;
  uint64_t occupied_[kLevels] = {};
  TimerNode slots_[kSlotCount];  // circular list heads (sentinels), level-major
};

}  // namespace smsx::timers
