#include "tests/activate/activate_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/smsxd_util.h"

namespace smsx::activate::test {
namespace fs = std::filesystem;

std::string api(std::string_view key, std::string_view query) {
  return "/stubs/handler_api.php?api_key=" + std::string(key) + "&" + std::string(query);
}

ActivateProcess::ActivateProcess(std::uint16_t smsxd_port, std::string extra_toml) {
  char tmpl[] = "/tmp/smsx-activate-XXXXXX";
  dir_ = mkdtemp(tmpl);
  config_path_ = dir_ + "/activate.toml";
  log_path_ = dir_ + "/activate.log";
  port_ = e2e::free_port();
  std::ofstream keys(dir_ + "/keys.txt");
  keys << "# test keys\n"
       << kKeyA << " " << kAccountA << "\n"
       << kKeyB << "\t" << kAccountB << "\n\n"
       << kKeyC << " " << kAccountC << "\n";
  std::ofstream cfg(config_path_);
  cfg << "listen = \"127.0.0.1:" << port_ << "\"\n"
      << "smsxd = \"127.0.0.1:" << smsxd_port << "\"\n"
      << "token = \"" << e2e::kCustomerToken << "\"\n"
      << "keys_file = \"keys.txt\"\n"
      << "upstream_connections = 2\n"
      << "log_level = \"debug\"\n"
      << extra_toml << "\n";
}

ActivateProcess::~ActivateProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void ActivateProcess::start() {
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(SMSX_ACTIVATE_PATH, "smsx-activate", "--config", config_path_.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_GT(pid_, 0);
  ASSERT_TRUE(wait_upstream_ready(2)) << log();
}

bool ActivateProcess::wait_upstream_ready(int ready) {
  const std::string needle = "smsx_activate_upstream_ready " + std::to_string(ready) + "\n";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "smsx-activate exited:\n" << log();
      return false;
    }
    HttpClient probe(port_, std::chrono::milliseconds(500));
    if (probe.connected() && probe.get("/metrics").find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling, not syncing
  }
  return false;
}

void ActivateProcess::reload_keys(const std::string& text) {
  {
    std::ofstream keys(dir_ + "/keys.txt", std::ios::trunc);
    keys << text;
  }
  ASSERT_GT(pid_, 0);
  kill(pid_, SIGHUP);
}

int ActivateProcess::stop_term() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ActivateProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "";
}

HttpClient::HttpClient(std::uint16_t port, std::chrono::milliseconds timeout)
    : fd_(e2e::connect_loopback(port, timeout)) {}

HttpClient::~HttpClient() {
  if (fd_ >= 0) close(fd_);
}

void HttpClient::send_raw(std::string_view bytes) { e2e::send_all(fd_, bytes); }

namespace {

struct ResponseState {
  HttpResponse response;
  std::string field;
  bool in_value = false;
  bool complete = false;
};

int on_header_field(http_parser* p, const char* at, size_t n) {
  auto* s = static_cast<ResponseState*>(p->data);
  if (s->in_value) {
    s->field.clear();
    s->in_value = false;
  }
  s->field.append(at, n);
  return 0;
}

int on_header_value(http_parser* p, const char* at, size_t n) {
  auto* s = static_cast<ResponseState*>(p->data);
  if (!s->in_value) {
    std::string name = s->field;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    s->response.headers.emplace_back(name, "");
    s->in_value = true;
  }
  s->response.headers.back().second.append(at, n);
  return 0;
}

int on_body(http_parser* p, const char* at, size_t n) {
  static_cast<ResponseState*>(p->data)->response.body.append(at, n);
  return 0;
}

int on_complete(http_parser* p) {
  auto* s = static_cast<ResponseState*>(p->data);
  s->response.status = static_cast<int>(p->status_code);
  s->response.keep_alive = http_should_keep_alive(p) != 0;
  s->complete = true;
  http_parser_pause(p, 1);  // one response at a time
  return 0;
}

}  // namespace

std::optional<HttpResponse> HttpClient::read_response() {
  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_header_field = on_header_field;
  settings.on_header_value = on_header_value;
  settings.on_body = on_body;
  settings.on_message_complete = on_complete;
  for (;;) {
    // Parse what is buffered from the start: responses are small.
    ResponseState state;
    http_parser parser;
    http_parser_init(&parser, HTTP_RESPONSE);
    parser.data = &state;
    const size_t used = http_parser_execute(&parser, &settings, buffer_.data(), buffer_.size());
    if (state.complete) {
      buffer_.erase(0, used);
      return state.response;
    }
    if (HTTP_PARSER_ERRNO(&parser) != HPE_OK) {
      ADD_FAILURE() << "bad response: " << buffer_;
      return std::nullopt;
    }
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return std::nullopt;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

std::string HttpClient::get(std::string_view target) {
  send_raw("GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  auto response = read_response();
  return response ? response->body : "<no response>";
}

void HttpClient::reset() {
  if (fd_ < 0) return;
  linger hard{};
  hard.l_onoff = 1;
  hard.l_linger = 0;
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  close(fd_);
  fd_ = -1;
}

bool HttpClient::closed_by_server() {
  for (;;) {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

}  // namespace smsx::activate::test
