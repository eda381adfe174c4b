#include "tools/load/pacer.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace smsx::load {

Pacer::~Pacer() {
  if (fd_ >= 0 && !poll_open_) ::close(fd_);  // never watched, or start() failed early
}

std::string Pacer::start(uv_loop_t* loop, uint64_t interval_ns, Callback callback, void* data) {
  if (interval_ns == 0) return "the interval must be positive";
  if (fd_ >= 0) return "already started";
  fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd_ < 0) return std::string("timerfd_create: ") + std::strerror(errno);
  itimerspec spec{};
  spec.it_interval.tv_sec = static_cast<time_t>(interval_ns / 1'000'000'000);
  spec.it_interval.tv_nsec = static_cast<long>(interval_ns % 1'000'000'000);
  spec.it_value = spec.it_interval;
  if (::timerfd_settime(fd_, 0, &spec, nullptr) != 0) {
    return std::string("timerfd_settime: ") + std::strerror(errno);
  }
  callback_ = callback;
  data_ = data;
  poll_.data = this;
  int rc = uv_poll_init(loop, &poll_, fd_);
  if (rc != 0) return std::string("uv_poll_init: ") + uv_strerror(rc);
  poll_open_ = true;
  rc = uv_poll_start(&poll_, UV_READABLE, on_readable);
  if (rc != 0) {
    stop();
    return std::string("uv_poll_start: ") + uv_strerror(rc);
  }
  return "";
}

void Pacer::stop() {
  if (!poll_open_ || uv_is_closing(reinterpret_cast<uv_handle_t*>(&poll_))) return;
  uv_poll_stop(&poll_);
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), [](uv_handle_t* h) {
    auto* self = static_cast<Pacer*>(h->data);
    ::close(self->fd_);
    self->fd_ = -1;
    self->poll_open_ = false;
  });
}

void Pacer::on_readable(uv_poll_t* poll, int status, int) {
  auto* self = static_cast<Pacer*>(poll->data);
  uint64_t expirations = 0;
  // Reading resets the count; how many intervals passed does not matter to the caller,
  // who computes what is due from the clock.
  while (::read(self->fd_, &expirations, sizeof expirations) < 0 && errno == EINTR) {
  }
  if (status == 0) self->callback_(self->data_);
}

}  // namespace smsx::load
