// One blocking NDJSON connection to smsxd for the CLI: connect (names and IPv6 resolved by
// getaddrinfo), write lines, read lines with a timeout. Event lines (`{"event":…}`) that
// arrive while a reply is awaited are kept for read_event(). Not thread-safe; one per
// invocation.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "net/config.h"

namespace smsx::cli {

class Client {
 public:
  Client() = default;
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // timeout_ms bounds connecting and each wait for a line; 0 waits forever.
  bool connect(const net::Endpoint& address, uint64_t timeout_ms, std::string* error);
  bool send(const std::string& lines, std::string* error);  // lines end in '\n'
  // The next reply (a line that is not an event); nullopt with *error on timeout or close.
  std::optional<std::string> read_reply(std::string* error);
  // The next event line; nullopt with *error on timeout or close.
  std::optional<std::string> read_event(std::string* error);
  void set_timeout(uint64_t timeout_ms);

 private:
  std::optional<std::string> read_line(std::string* error);
  int fd_ = -1;
  std::string buffer_;
  std::deque<std::string> events_;
};

}  // namespace smsx::cli
