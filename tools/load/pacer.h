// Wakes a libuv loop at a fixed interval finer than a millisecond (libuv's timers count
// whole milliseconds), so that an open-loop sender sleeps between its sends instead of
// spinning: a periodic Linux timerfd watched by a uv_poll handle.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

namespace smsx::load {

class Pacer {
 public:
  using Callback = void (*)(void* data);

  Pacer() = default;
  // A started pacer must be stopped, and its loop run on, before it is destroyed (libuv
  // owns the handle until its close callback); otherwise its descriptor stays open.
  ~Pacer();
  Pacer(const Pacer&) = delete;
  Pacer& operator=(const Pacer&) = delete;

  // Calls `callback(data)` on `loop` about every `interval_ns` (at most once per loop
  // iteration; intervals missed while the loop was busy are merged). Returns "" or why the
  // timer could not be set up. At most once per Pacer.
  std::string start(uv_loop_t* loop, uint64_t interval_ns, Callback callback, void* data);
  // No more calls; the handle is closed.
  void stop();

 private:
  static void on_readable(uv_poll_t* poll, int status, int events);

  int fd_ = -1;
  uv_poll_t poll_{};
  bool poll_open_ = false;
  Callback callback_ = nullptr;
  void* data_ = nullptr;
};

}  // namespace smsx::load
