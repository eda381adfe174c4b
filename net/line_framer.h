// NDJSON framing for one connection's input: bytes go in as they arrive, complete lines
// come out, in order, as views into the framer's own buffer.
//
// Reading (libuv):   alloc_cb  -> span = framer.writable(); hand span to libuv
//                    read_cb   -> framer.commit(nread);
//                                 while (framer.next(&line) == FrameStatus::kLine) parse(line);
// Or, from any bytes: framer.feed(bytes) copies what fits (call next() until kNeedMore, then
// feed the rest).
//
// Lines: the bytes before each '\n', without the '\n' and without one '\r' right before it.
// Empty lines (also a lone "\r\n") are skipped: they carry no request. Every other byte,
// NUL and invalid UTF-8 included, is passed through; the JSON parser rejects what is not
// JSON. A line is valid until the next call to writable() or feed().
//
// Padding for zero-copy parsing: after the end of every line handed out, at least
// kPaddingBytes more bytes of the same allocation are readable (they hold the '\n', the
// following input, then zeros), so a line can be parsed in place with simdjson:
//   parser.iterate(line.data(), line.size(), framer.readable_bytes_from(line))
// kPaddingBytes >= simdjson::SIMDJSON_PADDING (static_assert in line_framer.cc). simdjson
// reads the padding but its content does not change the result.
//
// Limits: a line longer than frame_bytes_max bytes (not counting "\n" or "\r\n") is
// kFrameTooLarge as soon as the buffered partial line proves it, before the rest of it is
// buffered (as Redis' processInlineBuffer does). The lines before it are still handed out
// first. The error is final: the connection should answer FRAME_TOO_LARGE and close;
// later input is discarded. Memory: nothing until the first read, then a buffer that starts
// at kInitialBytes and grows (doubling, only when reads fill it) to at most
// frame_bytes_max + 2 + kReadBytesMax + kPaddingBytes.
//
// Single-threaded; one framer per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace smsx::net {

enum class FrameStatus : std::uint8_t {
  kLine,           // *line is a complete line
  kNeedMore,       // no complete line is buffered
  kFrameTooLarge,  // a line exceeds frame_bytes_max; close the connection
};

class LineFramer {
 public:
  static constexpr std::size_t kPaddingBytes = 64;
  static constexpr std::size_t kInitialBytes = 16 * 1024;
  // The largest read that the buffer grows to make room for.
  static constexpr std::size_t kReadBytesMax = 64 * 1024;
  // writable() always offers at least this much, so reads make progress.
  static constexpr std::size_t kReadBytesMin = 4 * 1024;

  explicit LineFramer(std::size_t frame_bytes_max);
  LineFramer(const LineFramer&) = delete;
  LineFramer& operator=(const LineFramer&) = delete;
  LineFramer(LineFramer&&) noexcept = default;
  LineFramer& operator=(LineFramer&&) noexcept = default;

  // Free space to read into, at least kReadBytesMin bytes. Moves unconsumed input to the
  // front, which invalidates lines handed out earlier. Call next() until it stops returning
  // kLine first.
  std::span<char> writable();
  // `bytes` bytes of writable() now hold input.
  void commit(std::size_t bytes);
  // Copies as much of `bytes` as fits and returns how many; 0 only after kFrameTooLarge
  // or when complete lines wait to be taken with next().
  std::size_t feed(std::string_view bytes);

  // The next complete line, in order.
  FrameStatus next(std::string_view* line);

  // How many bytes may be read starting at line.data() (>= line.size() + kPaddingBytes).
  std::size_t readable_bytes_from(std::string_view line) const;

  std::size_t frame_bytes_max() const { return frame_bytes_max_; }
  // Bytes received but not yet handed out as lines.
  std::size_t buffered_bytes() const { return end_ - begin_; }
  // Bytes allocated, padding included.
  std::size_t capacity_bytes() const { return capacity_ == 0 ? 0 : capacity_ + kPaddingBytes; }

 private:
  void grow(std::size_t capacity);

  std::size_t frame_bytes_max_;
  std::size_t capacity_max_;        // frame_bytes_max + 2 + kReadBytesMax
  std::unique_ptr<char[]> buffer_;  // capacity_ + kPaddingBytes bytes
  std::size_t capacity_ = 0;        // bytes usable for input
  std::size_t begin_ = 0;           // first byte not yet handed out
  std::size_t scanned_ = 0;         // [begin_, scanned_) holds no '\n'
  std::size_t end_ = 0;             // end of the input
  bool last_read_filled_ = false;
  bool too_large_ = false;
};

}  // namespace smsx::net
