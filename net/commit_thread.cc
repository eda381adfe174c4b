#include "net/commit_thread.h"

#include "core/assert.h"

namespace smsx::net {

CommitThread::CommitThread(uv_loop_t* loop, void (*on_done)(void*), void* arg)
    : on_done_(on_done), arg_(arg) {
  uv_async_init(loop, &async_, [](uv_async_t* a) {
    auto* self = static_cast<CommitThread*>(a->data);
    self->on_done_(self->arg_);
  });
  async_.data = this;
  thread_ = std::thread([this] { run(); });
}

CommitThread::~CommitThread() {
  if (!thread_.joinable()) return;  // stopped
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void CommitThread::submit(persistence::WalWriter* wal, persistence::WalBatch batch) {
  SMSX_ASSERT(!busy_);
  busy_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wal_ = wal;
    batch_ = std::move(batch);
    has_work_ = true;
  }
  cv_.notify_one();
}

std::optional<CommitThread::Done> CommitThread::take() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!has_result_) return std::nullopt;
  has_result_ = false;
  busy_ = false;
  return Done{std::move(batch_), status_, write_ns_};
}

std::optional<CommitThread::Done> CommitThread::wait() {
  if (!busy_) return std::nullopt;
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return has_result_; });
  has_result_ = false;
  busy_ = false;
  return Done{std::move(batch_), status_, write_ns_};
}

void CommitThread::stop() {
  SMSX_ASSERT(!busy_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
}

void CommitThread::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return quit_ || has_work_; });
    if (has_work_) {
      has_work_ = false;
      persistence::WalWriter* wal = wal_;
      persistence::WalBatch batch = std::move(batch_);
      lock.unlock();
      const uint64_t t0 = uv_hrtime();
      persistence::Status status = wal->write_batch(batch);
      const uint64_t elapsed = uv_hrtime() - t0;
      lock.lock();
      batch_ = std::move(batch);
      status_ = std::move(status);
      write_ns_ = elapsed;
      has_result_ = true;
      cv_.notify_all();  // wait()
      uv_async_send(&async_);
      continue;
    }
    if (quit_) return;
  }
}

}  // namespace smsx::net
