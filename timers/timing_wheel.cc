#include "timers/timing_wheel.h"

#include <cstdio>
#include <cstdlib>

namespace smsx::timers {

namespace detail {

void assert_failed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, condition);
  std::fflush(stderr);
  std::abort();
}

}  // namespace detail

TimingWheel::TimingWheel(uint64_t now_ms) : now_ms_(now_ms) {
  SMSX_WHEEL_ASSERT(now_ms < kTimeMaxMs);
  for (TimerNode& head : slots_) {
    head.next = &head;
    head.prev = &head;
  }
}

void TimingWheel::cascade(size_t level, size_t slot) {
  SMSX_WHEEL_ASSERT(level > 0);
  TimerNode* head = &slots_[level * kSlotsPerLevel + slot];
  // Detach the whole list first; link() never targets this slot again because every node's
  // digits down to `level` now equal now_ms_'s, so it lands at a lower level.
  TimerNode* node = head->next;
  head->next = head;
  head->prev = head;
  occupied_[level] &= ~(uint64_t{1} << slot);
  while (node != head) {
    TimerNode* next = node->next;
    link(node);
    node = next;
  }
  SMSX_WHEEL_ASSERT(head->next == head);  // else advance() would cascade this slot forever
}

void TimingWheel::verify() const {
  size_t count = 0;
  for (size_t level = 0; level < kLevels; ++level) {
    const size_t shift = level * kSlotBits;
    for (size_t slot = 0; slot < kSlotsPerLevel; ++slot) {
      const TimerNode* head = &slots_[level * kSlotsPerLevel + slot];
      const bool occupied = (occupied_[level] >> slot) & 1;
      SMSX_WHEEL_ASSERT(occupied == (head->next != head));
      const TimerNode* prev = head;
      for (const TimerNode* node = head->next; node != head; node = node->next) {
        SMSX_WHEEL_ASSERT(node->prev == prev);
        SMSX_WHEEL_ASSERT(node->deadline_ms >= now_ms_);
        SMSX_WHEEL_ASSERT(node->deadline_ms - now_ms_ < kRangeMs);
        SMSX_WHEEL_ASSERT(level_of(node->deadline_ms, now_ms_) == level);
        SMSX_WHEEL_ASSERT(((node->deadline_ms >> shift) & kDigitMask) == slot);
        if (level > 0) SMSX_WHEEL_ASSERT(((now_ms_ >> shift) & kDigitMask) != slot);
        ++count;
        SMSX_WHEEL_ASSERT(count <= size_);  // also stops a cycle that misses the head
        prev = node;
      }
      SMSX_WHEEL_ASSERT(head->prev == prev);
    }
  }
  SMSX_WHEEL_ASSERT(count == size_);
}

}  // namespace smsx::timers
