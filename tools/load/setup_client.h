// A blocking NDJSON client for the load generator's setup phase (prices, numbers,
// deposits) and for reading balances before the measured phase. One TCP connection;
// requests are written in chunks and their replies read back in order, so the server's
// per-connection in-flight bound is never the reason a chunk stalls. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace smsx::load {

class SetupClient {
 public:
  SetupClient() = default;
  ~SetupClient();
  SetupClient(const SetupClient&) = delete;
  SetupClient& operator=(const SetupClient&) = delete;

  // Connects and says hello with `token`; false with *error set on any failure.
  bool open(const std::string& host, uint16_t port, const std::string& token, std::string* error);
  // Sends every line (without '\n') and returns the replies in order; false on I/O error.
  bool call_all(const std::vector<std::string>& lines, std::vector<std::string>* replies,
                std::string* error);

 private:
  bool read_line(std::string* line);
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace smsx::load
