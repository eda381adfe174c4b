// End-to-end harness: the real smsxd binary on loopback ports, talked to over TCP.
//
// A SmsxdProcess writes a configuration (gateways with fixed test tokens, free ports, a
// temporary data folder), starts smsxd, and waits until it accepts connections (by
// connecting, not by sleeping). A Client is one blocking TCP connection with a receive
// timeout, so a test that waits for a reply that never comes fails instead of hanging.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/request_parser.h"

namespace smsx::e2e {

inline constexpr const char* kCustomerToken = "tok-customer-0123456789";
inline constexpr const char* kSupplierToken = "tok-supplier-0123456789";
inline constexpr const char* kSupplier2Token = "tok-supplier2-0123456789";
inline constexpr const char* kPaymentsToken = "tok-payments-0123456789";
inline constexpr const char* kAdminToken = "tok-admin-0123456789";
inline constexpr const char* kReplicaToken = "tok-replica-0123456789";

uint16_t free_port();

class SmsxdProcess {
 public:
  // `extra_toml` is appended to the generated configuration (e.g. "[orders]\nttl = \"1s\"").
  explicit SmsxdProcess(std::string extra_toml = "", std::string data_dir = "");
  ~SmsxdProcess();  // SIGKILLs a running server and removes its own data folder

  void start();  // asserts (gtest) that it listens within 20 s
  // Starts it and waits up to `timeout` for it to exit by itself (a start that must fail):
  // its exit status, or -1 (then it is killed) if it is still running.
  int start_expecting_exit(std::chrono::milliseconds timeout);
  int stop_term();  // SIGTERM, waits; the exit status
  // Waits up to `timeout` for the server to end by itself: its exit status, or -1 (then it
  // is killed) if it is still running.
  int exit_status_within(std::chrono::milliseconds timeout);
  void kill9();  // SIGKILL, waits
  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  uint16_t metrics_port() const { return metrics_port_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string log() const;  // everything smsxd wrote to stderr

 private:
  void launch();  // writes the configuration and starts the process
  int wait_exit();
  std::string dir_, data_dir_, config_path_, log_path_, extra_toml_;
  bool own_dir_ = true;
  uint16_t port_ = 0, metrics_port_ = 0;
  pid_t pid_ = -1;
};

// A blocking TCP connection to 127.0.0.1:port with send/receive timeouts and TCP_NODELAY;
// the socket, or -1 when nothing listens there.
int connect_loopback(uint16_t port, std::chrono::milliseconds timeout);
// Sends all of `bytes` on socket `fd`; the test fails (ADD_FAILURE) if the socket breaks.
void send_all(int fd, std::string_view bytes);

class Client {
 public:
  explicit Client(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  void send_raw(std::string_view bytes);  // all of it, or the test fails
  // Sends what the socket takes now; the bytes sent, or -1 once the peer reset/closed.
  ssize_t send_some(std::string_view bytes);
  // The next line (no '\n'), or nullopt on timeout / connection closed.
  std::optional<std::string> read_line();
  // Sends `json` + '\n' and returns the next reply that is not an event.
  std::string call(std::string_view json);
  // hello with `token`; true if ok.
  bool hello(const char* token);
  // The next event line with this name, reading past replies; nullopt on timeout.
  std::optional<std::string> wait_event(std::string_view name);
  // True when the server closed the connection (read returns 0) within the timeout.
  bool closed_by_server();
  std::vector<std::string> events;  // events read while waiting for replies

 private:
  int fd_ = -1;
  std::string buffer_;
};

// A tiny JSON field reader for replies (uses the project's simdjson): the value of a
// top-level field as text ("true", "123", the unquoted string), or nullopt if absent.
std::optional<std::string> field(std::string_view json, std::string_view name);
int64_t int_field(std::string_view json, std::string_view name);  // -1 if absent
bool is_ok(std::string_view json);
std::string error_of(std::string_view json);  // "" when ok

// A unique request id for this test process.
std::string next_id();

// One request line: {"id":…,"op":…,fields…}. Values: integers, booleans, strings (quoted
// and escaped) or raw JSON (Raw{"[1,2]"}).
struct Raw {
  std::string json;
};
struct Value {
  Value(int64_t v) : json(std::to_string(v)) {}                // NOLINT: implicit on purpose
  Value(int v) : json(std::to_string(v)) {}                    // NOLINT
  Value(uint64_t v) : json(std::to_string(v)) {}               // NOLINT
  Value(bool v) : json(v ? "true" : "false") {}                // NOLINT
  Value(const char* v) : Value(std::string_view(v)) {}         // NOLINT
  Value(std::string_view v);                                   // NOLINT
  Value(const std::string& v) : Value(std::string_view(v)) {}  // NOLINT
  Value(Raw v) : json(std::move(v.json)) {}                    // NOLINT
  std::string json;
};
std::string request(std::string_view op,
                    std::initializer_list<std::pair<std::string_view, Value>> fields,
                    std::string id = "");

}  // namespace smsx::e2e
