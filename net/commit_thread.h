// The WAL's I/O side on its own thread (persistence/wal_writer.h "Ownership and threads"):
// the loop hands it a batch (one write + one fdatasync) and goes on parsing and applying
// the next requests while the disk works; when the batch is durable the thread wakes the
// loop (uv_async) and the loop releases the replies that waited for it. At most one batch
// is in flight, so batches reach the disk whole and in order.
//
// Loop thread: submit(), busy(), take(), wait(), stop(). The thread only calls
// WalWriter::write_batch().
#pragma once

#include <uv.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include "persistence/wal_writer.h"

namespace smsx::net {

class CommitThread {
 public:
  struct Done {
    persistence::WalBatch batch;
    persistence::Status status;
    uint64_t write_ns = 0;  // the write and fdatasync
  };

  // `on_done(arg)` runs on the loop thread (through uv_async) after a batch finished;
  // it calls take().
  CommitThread(uv_loop_t* loop, void (*on_done)(void*), void* arg);
  ~CommitThread();  // ends the thread if stop() did not (the loop is gone then)
  CommitThread(const CommitThread&) = delete;
  CommitThread& operator=(const CommitThread&) = delete;

  // A batch is in flight or finished and not yet taken.
  bool busy() const { return busy_; }
  // Hands `batch` (from wal->take_batch()) to the thread. Only when !busy().
  void submit(persistence::WalWriter* wal, persistence::WalBatch batch);
  // The finished batch, if the thread is done with it (nullopt while it is still writing,
  // or when there is none).
  std::optional<Done> take();
  // Blocks until the batch in flight is written, and returns it (nullopt when none).
  std::optional<Done> wait();
  // Ends the thread and closes the async handle (no batch may be in flight).
  void stop();

 private:
  void run();

  uv_async_t async_{};
  void (*on_done_)(void*);
  void* arg_;
  bool busy_ = false;  // loop thread's view

  std::mutex mu_;
  std::condition_variable cv_;
  bool quit_ = false;
  bool has_work_ = false;
  bool has_result_ = false;
  persistence::WalWriter* wal_ = nullptr;
  persistence::WalBatch batch_;
  persistence::Status status_;
  uint64_t write_ns_ = 0;
  std::thread thread_;
};

}  // namespace smsx::net
