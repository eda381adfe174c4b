#include "net/peer_check.h"

#include <simdjson.h>

#include <cstring>

namespace smsx::net {
namespace {

PeerCheck* check_of(uv_handle_t* h) { return static_cast<PeerCheck*>(h->data); }

// "host:port" or "[v6]:port" as a socket address (IP literals only).
bool parse_address(const std::string& text, sockaddr_storage* addr) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = text.substr(0, colon);
  int port = std::atoi(text.c_str() + colon + 1);
  if (port <= 0 || port > 65535) return false;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    return uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(addr)) == 0;
  }
  return uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(addr)) == 0;
}

}  // namespace

PeerCheck::PeerCheck(uv_loop_t* loop, std::string peer, std::string token, uint64_t timeout_ms,
                     Done done)
    : loop_(loop),
      peer_(std::move(peer)),
      token_(std::move(token)),
      timeout_ms_(timeout_ms),
      done_(std::move(done)) {}

PeerCheck::~PeerCheck() = default;

void PeerCheck::start() {
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  handles_open_ = 2;
  uv_timer_start(
      &timer_,
      [](uv_timer_t* t) {
        check_of(reinterpret_cast<uv_handle_t*>(t))->finish({.error = "no answer in time"});
      },
      timeout_ms_, 0);
  sockaddr_storage addr{};
  if (!parse_address(peer_, &addr)) {
    finish({.error = "not an address: " + peer_});
    return;
  }
  connect_req_.data = this;
  int rc = uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<sockaddr*>(&addr),
                          [](uv_connect_t* req, int status) {
                            static_cast<PeerCheck*>(req->data)->on_connected(status);
                          });
  if (rc != 0) finish({.error = uv_strerror(rc)});
}

void PeerCheck::on_connected(int status) {
  if (finished_) return;
  if (status != 0) {
    finish({.error = uv_strerror(status)});
    return;
  }
  request_ = R"({"id":"peer-check","op":"hello","token":")" + token_ + "\"}\n";
  uv_buf_t out = uv_buf_init(request_.data(), static_cast<unsigned>(request_.size()));
  uv_write(&write_req_, reinterpret_cast<uv_stream_t*>(&tcp_), &out, 1, nullptr);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&tcp_),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) { *buf = check_of(h)->input_buffer(); },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
        check_of(reinterpret_cast<uv_handle_t*>(s))->on_read(nread);
      });
}

uv_buf_t PeerCheck::input_buffer() { return uv_buf_init(buffer_, sizeof buffer_); }

void PeerCheck::on_read(ssize_t nread) {
  if (finished_ || nread == 0) return;
  if (nread < 0) {
    finish({.error = "connection closed before the answer"});
    return;
  }
  in_.append(buffer_, static_cast<size_t>(nread));
  size_t nl = in_.find('\n');
  if (nl == std::string::npos) {
    if (in_.size() > 65536) finish({.error = "answer too long"});
    return;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element reply;
  Result result;
  bool ok = false;
  if (parser.parse(in_.data(), nl).get(reply) != simdjson::SUCCESS ||
      reply["ok"].get(ok) != simdjson::SUCCESS) {
    result.error = "the answer is not a reply";
  } else if (!ok) {
    std::string_view error = "?";
    if (reply["error"].get(error) != simdjson::SUCCESS) error = "?";
    result.error = "hello refused: " + std::string(error);
  } else if (reply["epoch"].get(result.epoch) != simdjson::SUCCESS ||
             reply["primary"].get(result.primary) != simdjson::SUCCESS) {
    result.error = "the answer has no epoch";
  } else {
    result.answered = true;
  }
  finish(std::move(result));
}

void PeerCheck::finish(Result result) {
  if (finished_) return;
  finished_ = true;
  result_ = std::move(result);
  uv_timer_stop(&timer_);
  for (uv_handle_t* h :
       {reinterpret_cast<uv_handle_t*>(&timer_), reinterpret_cast<uv_handle_t*>(&tcp_)}) {
    uv_close(h, [](uv_handle_t* handle) { check_of(handle)->on_handle_closed(); });
  }
}

// The callback runs once both handles are closed, so it may destroy this object.
void PeerCheck::on_handle_closed() {
  if (--handles_open_ == 0) done_(result_);
}

}  // namespace smsx::net
