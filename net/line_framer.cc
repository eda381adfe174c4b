#include "net/line_framer.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <source_location>

namespace smsx::net {

static_assert(LineFramer::kPaddingBytes >= simdjson::SIMDJSON_PADDING,
              "lines are parsed in place by simdjson, which reads this far past their end");
static_assert(LineFramer::kReadBytesMin <= LineFramer::kInitialBytes);
static_assert(LineFramer::kReadBytesMin <= LineFramer::kReadBytesMax);

namespace {

// Always-on check for a broken contract (a bug in the caller or here).
void check(bool condition, const char* what,
           std::source_location where = std::source_location::current()) {
  if (condition) return;
  std::fprintf(stderr, "%s:%u: LineFramer: %s\n", where.file_name(),
               static_cast<unsigned>(where.line()), what);
  std::abort();
}

}  // namespace

LineFramer::LineFramer(std::size_t frame_bytes_max)
    : frame_bytes_max_(frame_bytes_max), capacity_max_(frame_bytes_max + 2 + kReadBytesMax) {
  check(frame_bytes_max > 0, "frame_bytes_max must be positive");
}

void LineFramer::grow(std::size_t capacity) {
  check(capacity >= end_, "grow would lose input");
  // Value-initialised, so the padding past the input is zeros, never uninitialised memory.
  std::unique_ptr<char[]> buffer(new char[capacity + kPaddingBytes]());
  if (end_ > 0) std::memcpy(buffer.get(), buffer_.get(), end_);
  buffer_ = std::move(buffer);
  capacity_ = capacity;
}

std::span<char> LineFramer::writable() {
  if (too_large_) {
    // Discard: the connection is closing and only needs somewhere to drain into.
    begin_ = scanned_ = end_ = 0;
  } else if (begin_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    scanned_ -= begin_;
    end_ -= begin_;
    begin_ = 0;
  }
  if (capacity_ == 0) {
    grow(std::min(kInitialBytes, capacity_max_));
  } else if ((capacity_ - end_ < kReadBytesMin || last_read_filled_) && capacity_ < capacity_max_) {
    grow(std::min(capacity_ * 2, capacity_max_));
  }
  last_read_filled_ = false;
  // A drained framer holds at most frame_bytes_max + 1 bytes of partial line, and
  // capacity_max_ leaves kReadBytesMax beyond that.
  check(capacity_ - end_ >= kReadBytesMin,
        "writable() called before next() drained the complete lines");
  return {buffer_.get() + end_, capacity_ - end_};
}

void LineFramer::commit(std::size_t bytes) {
  check(bytes <= capacity_ - end_, "commit beyond writable()");
  last_read_filled_ = bytes > 0 && bytes == capacity_ - end_;
  end_ += bytes;
  if (too_large_) begin_ = scanned_ = end_;  // discarded
}

std::size_t LineFramer::feed(std::string_view bytes) {
  if (too_large_ || bytes.empty()) return 0;
  // Complete lines still waiting would be moved by writable(); take them first.
  if (begin_ < end_ && std::memchr(buffer_.get() + scanned_, '\n', end_ - scanned_) != nullptr) {
    return 0;
  }
  const std::span<char> space = writable();
  const std::size_t n = std::min(space.size(), bytes.size());
  std::memcpy(space.data(), bytes.data(), n);
  commit(n);
  return n;
}

FrameStatus LineFramer::next(std::string_view* line) {
  for (;;) {
    if (too_large_) return FrameStatus::kFrameTooLarge;
    char* const base = buffer_.get();
    const void* newline =
        scanned_ < end_ ? std::memchr(base + scanned_, '\n', end_ - scanned_) : nullptr;
    if (newline == nullptr) {
      scanned_ = end_;
      // A partial line of frame_bytes_max + 1 bytes is still fine if its last byte is the
      // '\r' of a "\r\n" to come.
      const std::size_t partial = end_ - begin_;
      if (partial > frame_bytes_max_ + 1 ||
          (partial == frame_bytes_max_ + 1 && base[end_ - 1] != '\r')) {
        too_large_ = true;
        return FrameStatus::kFrameTooLarge;
      }
      return FrameStatus::kNeedMore;
    }
    const std::size_t newline_at =
        static_cast<std::size_t>(static_cast<const char*>(newline) - base);
    std::size_t length = newline_at - begin_;
    if (length > 0 && base[newline_at - 1] == '\r') --length;
    const std::size_t start = begin_;
    begin_ = scanned_ = newline_at + 1;
    if (length > frame_bytes_max_) {
      too_large_ = true;
      return FrameStatus::kFrameTooLarge;
    }
    if (length == 0) continue;  // blank line
    *line = std::string_view(base + start, length);
    return FrameStatus::kLine;
  }
}

std::size_t LineFramer::readable_bytes_from(std::string_view line) const {
  const char* const base = buffer_.get();
  check(line.data() >= base && line.data() + line.size() <= base + end_,
        "line is not in this framer's buffer");
  return static_cast<std::size_t>(base + capacity_ + kPaddingBytes - line.data());
}

}  // namespace smsx::net
