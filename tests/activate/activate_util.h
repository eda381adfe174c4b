// End-to-end harness for smsx-activate: the real binary in front of a real smsxd
// (tests/e2e/smsxd_util.h), talked to over real HTTP.
//
// An ActivateProcess writes a keys file and a configuration into a temporary folder, starts
// smsx-activate on a free loopback port, and waits until its /metrics says every connection
// to smsxd is ready (by asking, not by sleeping). An HttpClient is one blocking keep-alive
// connection with a receive timeout; responses are read with http_parser.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smsx::activate::test {

inline constexpr const char* kKeyA = "key-a-0123456789abcdef";  // account 1001
inline constexpr const char* kKeyB = "key-b-0123456789abcdef";  // account 1002
inline constexpr const char* kKeyC = "key-c-0123456789abcdef";  // account 1003 (no deposit)
inline constexpr std::uint64_t kAccountA = 1001, kAccountB = 1002, kAccountC = 1003;

class ActivateProcess {
 public:
  // `extra_toml` is appended to the configuration (e.g. "[limits]\n…").
  ActivateProcess(std::uint16_t smsxd_port, std::string extra_toml = "");
  ~ActivateProcess();  // SIGKILLs a running gateway, removes its folder

  void start();  // gtest-asserts that it serves and is connected to smsxd within 20 s
  int stop_term();
  // Rewrites the keys file with `text` and sends SIGHUP.
  void reload_keys(const std::string& text);
  std::uint16_t port() const { return port_; }
  std::string log() const;
  // Waits until /metrics shows `ready` connections to smsxd; false after 20 s.
  bool wait_upstream_ready(int ready);

 private:
  std::string dir_, config_path_, log_path_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  bool keep_alive = true;
  std::string header(std::string_view name) const;
};

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  void send_raw(std::string_view bytes);
  // The next response, or nullopt on timeout / close before a complete response.
  std::optional<HttpResponse> read_response();
  // GET `target` and the response's body ("<no response>" when none came).
  std::string get(std::string_view target);
  // Closes the connection with a reset (SO_LINGER 0), unread answers and all.
  void reset();
  // True when the server closed the connection within the timeout.
  bool closed_by_server();

 private:
  int fd_ = -1;
  std::string buffer_;
};

// "/stubs/handler_api.php?api_key=KEY&" + query.
std::string api(std::string_view key, std::string_view query);

}  // namespace smsx::activate::test
