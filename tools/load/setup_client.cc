#include "tools/load/setup_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace smsx::load {

namespace {
constexpr size_t kChunkLines = 1000;  // well under the server's 4096 requests in flight
}

SetupClient::~SetupClient() {
  if (fd_ >= 0) close(fd_);
}

bool SetupClient::open(const std::string& host, uint16_t port, const std::string& token,
                       std::string* error) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    *error = "not an IPv4 address: " + host;
    return false;
  }
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *error = "cannot connect to " + host + ":" + std::to_string(port) + ": " + strerror(errno);
    return false;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<std::string> replies;
  if (!call_all({R"({"op":"hello","token":")" + token + "\"}"}, &replies, error)) return false;
  if (replies[0].find("\"ok\":true") == std::string::npos) {
    *error = "hello refused: " + replies[0];
    return false;
  }
  return true;
}

bool SetupClient::call_all(const std::vector<std::string>& lines, std::vector<std::string>* replies,
                           std::string* error) {
  replies->clear();
  for (size_t start = 0; start < lines.size(); start += kChunkLines) {
    size_t end = std::min(lines.size(), start + kChunkLines);
    std::string out;
    for (size_t i = start; i < end; ++i) out += lines[i] + "\n";
    for (size_t off = 0; off < out.size();) {
      ssize_t n = write(fd_, out.data() + off, out.size() - off);
      if (n <= 0) {
        *error = std::string("write: ") + strerror(errno);
        return false;
      }
      off += static_cast<size_t>(n);
    }
    for (size_t i = start; i < end; ++i) {
      std::string line;
      if (!read_line(&line)) {
        *error = "connection closed during setup";
        return false;
      }
      replies->push_back(std::move(line));
    }
  }
  return true;
}

bool SetupClient::read_line(std::string* line) {
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      *line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return true;
    }
    char chunk[65536];
    ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace smsx::load
