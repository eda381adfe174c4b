// At start-up, a primary that has had a standby asks that node (its peer) whether it has
// become a primary under a higher epoch since (DESIGN.md "Replication": an old primary
// that comes back must not accept writes). One `hello` with a replica token; the answer's
// `epoch` and `primary` decide. No answer within the timeout (peer down, unreachable) counts
// as "no newer primary": the node would otherwise never start without its standby.
// Loop thread only; the object must live until its callback ran.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>

namespace smsx::net {

class PeerCheck {
 public:
  struct Result {
    bool answered = false;  // false: no answer (the reason is in `error`)
    uint64_t epoch = 0;
    bool primary = false;
    std::string error;
  };
  using Done = std::function<void(const Result&)>;

  PeerCheck(uv_loop_t* loop, std::string peer, std::string token, uint64_t timeout_ms, Done done);
  ~PeerCheck();
  PeerCheck(const PeerCheck&) = delete;
  PeerCheck& operator=(const PeerCheck&) = delete;

  void start();

  // libuv callbacks (public for the C trampolines).
  void on_connected(int status);
  void on_read(ssize_t nread);
  void on_handle_closed();
  uv_buf_t input_buffer();

 private:
  void finish(Result result);

  uv_loop_t* loop_;
  std::string peer_, token_;
  uint64_t timeout_ms_;
  Done done_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_connect_t connect_req_{};
  uv_write_t write_req_{};
  std::string request_;
  std::string in_;
  char buffer_[4096];
  int handles_open_ = 0;
  bool finished_ = false;
  Result result_;
};

}  // namespace smsx::net
