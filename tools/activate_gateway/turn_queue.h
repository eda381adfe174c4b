// TurnQueue: the items (HTTP connections, upstream links) with bytes to send, written out
// once per loop turn.
//
// Making an answer or a request only queues its item; the owner drains the queue in the
// loop's check phase, after the turn's reads, so that everything a turn produced for one
// socket leaves in one write. While items wait, an idle handle keeps the loop from blocking
// in poll: an item queued outside a read (in a timer, say) would otherwise wait for the next
// event.
//
// T has a `bool queued` member, true while the item is in the queue. Single-threaded (the
// loop's thread).
#pragma once

#include <uv.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace smsx::activate {

template <class T>
class TurnQueue {
 public:
  using DrainFn = void (*)(void* owner);

  // Sets up the handles on `loop`; on_turn(owner) is what the check and idle handles call.
  void init(uv_loop_t* loop, void* owner, DrainFn on_turn) {
    owner_ = owner;
    drain_ = on_turn;
    uv_check_init(loop, &check_);
    check_.data = this;
    uv_idle_init(loop, &idle_);
    idle_.data = this;
  }
  // From now on, drain once per loop turn.
  void start() {
    uv_check_start(&check_, [](uv_check_t* c) {
      auto* q = static_cast<TurnQueue*>(c->data);
      q->drain_(q->owner_);
    });
  }
  // Stops and closes both handles (the queue must live until the loop has closed them) and
  // forgets the items.
  void stop() {
    uv_check_stop(&check_);
    uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
    uv_idle_stop(&idle_);
    idle_active_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&idle_), nullptr);
    items_.clear();
  }

  void add(T* item) {
    if (item->queued) return;
    item->queued = true;
    items_.push_back(item);
    if (!idle_active_) {
      idle_active_ = true;
      uv_idle_start(&idle_, [](uv_idle_t* i) {
        auto* q = static_cast<TurnQueue*>(i->data);
        q->drain_(q->owner_);
      });
    }
  }
  // For an item that is going away.
  void remove(T* item) {
    if (item->queued) std::erase(items_, item);
  }

  // Calls flush(item) for every queued item, in the order they were queued, including items
  // queued by those calls; the queue is empty afterwards.
  template <class F>
  void drain(F&& flush) {
    if (idle_active_) {
      idle_active_ = false;
      uv_idle_stop(&idle_);
    }
    for (std::size_t i = 0; i < items_.size(); ++i) {
      T* item = items_[i];
      item->queued = false;
      flush(item);
    }
    items_.clear();
  }

 private:
  uv_check_t check_{};
  uv_idle_t idle_{};
  bool idle_active_ = false;
  std::vector<T*> items_;
  void* owner_ = nullptr;
  DrainFn drain_ = nullptr;
};

}  // namespace smsx::activate
