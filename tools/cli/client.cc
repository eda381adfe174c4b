#include "tools/cli/client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/assert.h"

namespace smsx::cli {

namespace {
constexpr size_t kLineBytesMax = 16 * 1024 * 1024;  // far above any reply of the server
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

void Client::set_timeout(uint64_t timeout_ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout_ms % 1000) * 1000);
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool Client::connect(const net::Endpoint& address, uint64_t timeout_ms, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(address.port);
  if (int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &list); rc != 0) {
    *error = "cannot resolve " + address.host + ": " + gai_strerror(rc);
    return false;
  }
  std::string last = "no address";
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    fd_ = fd;
    set_timeout(timeout_ms);  // SO_SNDTIMEO also bounds connect()
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      freeaddrinfo(list);
      return true;
    }
    last = std::strerror(errno);
    ::close(fd);
    fd_ = -1;
  }
  freeaddrinfo(list);
  *error = "cannot connect to " + address.to_string() + ": " + last;
  return false;
}

bool Client::send(const std::string& lines, std::string* error) {
  SMSX_ASSERT(fd_ >= 0);
  SMSX_ASSERT(!lines.empty() && lines.back() == '\n');
  size_t off = 0;
  while (off < lines.size()) {
    ssize_t n = ::send(fd_, lines.data() + off, lines.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = std::string("send: ") + std::strerror(errno);
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

std::optional<std::string> Client::read_line(std::string* error) {
  SMSX_ASSERT(fd_ >= 0);
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (buffer_.size() > kLineBytesMax) {
      *error = "reply line too long";
      return std::nullopt;
    }
    char chunk[64 * 1024];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      *error = "the server closed the connection";
      return std::nullopt;
    }
    if (n < 0) {
      *error = errno == EAGAIN || errno == EWOULDBLOCK
                   ? "timed out waiting for the server"
                   : std::string("recv: ") + std::strerror(errno);
      return std::nullopt;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

std::optional<std::string> Client::read_reply(std::string* error) {
  for (;;) {
    auto line = read_line(error);
    if (!line) return std::nullopt;
    if (line->rfind("{\"event\"", 0) == 0) {
      events_.push_back(std::move(*line));
      continue;
    }
    return line;
  }
}

std::optional<std::string> Client::read_event(std::string* error) {
  if (!events_.empty()) {
    std::string e = std::move(events_.front());
    events_.pop_front();
    return e;
  }
  return read_line(error);
}

}  // namespace smsx::cli
