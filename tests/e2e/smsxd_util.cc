#include "tests/e2e/smsxd_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace smsx::e2e {
namespace fs = std::filesystem;

uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

SmsxdProcess::SmsxdProcess(std::string extra_toml, std::string data_dir)
    : extra_toml_(std::move(extra_toml)) {
  char tmpl[] = "/tmp/smsx-e2e-XXXXXX";
  dir_ = mkdtemp(tmpl);
  own_dir_ = data_dir.empty();
  data_dir_ = own_dir_ ? dir_ + "/data" : data_dir;
  config_path_ = dir_ + "/smsx.toml";
  log_path_ = dir_ + "/smsxd.log";
  port_ = free_port();
  metrics_port_ = free_port();
}

SmsxdProcess::~SmsxdProcess() {
  if (pid_ > 0) kill9();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void SmsxdProcess::launch() {
  std::ofstream cfg(config_path_);
  cfg << "listen = \"127.0.0.1:" << port_ << "\"\n"
      << "metrics_listen = \"127.0.0.1:" << metrics_port_ << "\"\n"
      << "data_dir = \"" << data_dir_ << "\"\n"
      << extra_toml_ << "\n";
  const std::pair<const char*, const char*> gateways[] = {
      {"customer", kCustomerToken}, {"supplier", kSupplierToken}, {"supplier", kSupplier2Token},
      {"payments", kPaymentsToken}, {"admin", kAdminToken},       {"replica", kReplicaToken}};
  int n = 0;
  for (auto [role, token] : gateways) {
    cfg << "[[gateways]]\nname = \"" << role << "-" << ++n << "\"\nrole = \"" << role
        << "\"\ntoken = \"" << token << "\"\n";
  }
  cfg.close();
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(SMSXD_PATH, "smsxd", "--config", config_path_.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
}

int SmsxdProcess::start_expecting_exit(std::chrono::milliseconds timeout) {
  launch();
  return exit_status_within(timeout);
}

void SmsxdProcess::start() {
  launch();
  ASSERT_GT(pid_, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL() << "smsxd exited at start:\n" << log();
    }
    Client probe(port_, std::chrono::milliseconds(200));
    if (probe.connected()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a port, not syncing
  }
  FAIL() << "smsxd did not listen within 20 s:\n" << log();
}

int SmsxdProcess::wait_exit() {
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int SmsxdProcess::exit_status_within(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      kill9();
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling for the exit
  }
}

int SmsxdProcess::stop_term() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  return wait_exit();
}

void SmsxdProcess::kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  wait_exit();
}

std::string SmsxdProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int connect_loopback(uint16_t port, std::chrono::milliseconds timeout) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

Client::Client(uint16_t port, std::chrono::milliseconds timeout)
    : fd_(connect_loopback(port, timeout)) {}

Client::~Client() {
  if (fd_ >= 0) close(fd_);
}

void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      ADD_FAILURE() << "send failed";
      return;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void Client::send_raw(std::string_view bytes) { send_all(fd_, bytes); }

ssize_t Client::send_some(std::string_view bytes) {
  ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n >= 0) return n;
  return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
}

std::optional<std::string> Client::read_line() {
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return std::nullopt;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

std::string Client::call(std::string_view json) {
  std::string line(json);
  line.push_back('\n');
  send_raw(line);
  for (;;) {
    auto reply = read_line();
    if (!reply) return "<no reply>";
    if (reply->rfind("{\"event\"", 0) == 0) {
      events.push_back(*reply);
      continue;
    }
    return *reply;
  }
}

bool Client::hello(const char* token) {
  return is_ok(call(std::string("{\"id\":\"h\",\"op\":\"hello\",\"token\":\"") + token + "\"}"));
}

std::optional<std::string> Client::wait_event(std::string_view name) {
  std::string needle = "\"event\":\"" + std::string(name) + "\"";
  for (auto it = events.begin(); it != events.end(); ++it) {
    if (it->find(needle) != std::string::npos) {
      std::string e = *it;
      events.erase(it);
      return e;
    }
  }
  for (;;) {
    auto line = read_line();
    if (!line) return std::nullopt;
    if (line->find(needle) != std::string::npos) return line;
    events.push_back(*line);
  }
}

bool Client::closed_by_server() {
  for (;;) {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

std::optional<std::string> field(std::string_view json, std::string_view name) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::element v;
  if (doc[name].get(v) != simdjson::SUCCESS) return std::nullopt;
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return std::string(simdjson::minify(v));
}

int64_t int_field(std::string_view json, std::string_view name) {
  auto v = field(json, name);
  if (!v || v->empty() || v == "null") return -1;
  return std::strtoll(v->c_str(), nullptr, 10);
}

bool is_ok(std::string_view json) { return field(json, "ok") == "true"; }

std::string error_of(std::string_view json) { return field(json, "error").value_or(""); }

Value::Value(std::string_view v) {
  json.push_back('"');
  for (char ch : v) {
    if (ch == '"' || ch == '\\') json.push_back('\\');
    json.push_back(ch);
  }
  json.push_back('"');
}

std::string request(std::string_view op,
                    std::initializer_list<std::pair<std::string_view, Value>> fields,
                    std::string id) {
  if (id.empty()) id = next_id();
  std::string out = "{\"id\":\"" + id + "\",\"op\":\"" + std::string(op) + "\"";
  for (const auto& [name, value] : fields) {
    out += ",\"" + std::string(name) + "\":" + value.json;
  }
  out += "}";
  return out;
}

std::string next_id() {
  static int n = 0;
  return "e2e-" + std::to_string(getpid()) + "-" + std::to_string(++n);
}

}  // namespace smsx::e2e
