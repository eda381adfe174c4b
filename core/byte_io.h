// Byte-level writing and reading for the binary formats built from engine state: WAL command
// records (persistence/command_codec) and engine snapshots (core/engine_snapshot.cc). Core
// cannot depend on persistence/ (persistence links core), so these helpers live here.
//
// Encodings: LEB128 varints (7 bits per byte, low first, at most 10 bytes), zigzag for
// signed values, fixed-width little-endian integers, and byte strings as a varint length
// followed by the bytes. Little-endian hosts only (checked below).
//
// ByteWriter appends to a caller's vector; ByteReader reads a span it does not own. A reader
// is sticky: the first failure (truncation, overflow, a bound exceeded) is kept with its
// offset, every later read returns 0 or an empty view and consumes nothing, so a decoder
// may read a whole group of fields and check ok() once. Counts that size a loop or an
// allocation must come from count(), which bounds them by the bytes left. Neither class is
// thread-safe; neither allocates except the writer growing its vector.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace smsx {

static_assert(std::endian::native == std::endian::little,
              "the binary formats are little-endian; add byte swaps before porting");

inline constexpr size_t kVarintBytesMax = 10;  // a uint64_t in 7-bit groups

inline constexpr uint64_t zigzag_encode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline constexpr int64_t zigzag_decode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}
inline constexpr size_t varint_bytes(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) v >>= 7, ++n;
  return n;
}

// Where a stream of bytes goes (a file, a vector). Used to stream snapshots of any size
// through a fixed buffer.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Takes the next bytes of the stream. False stops the producer; the sink keeps the reason.
  virtual bool write(std::span<const uint8_t> bytes) = 0;
};

// A sink that keeps everything in memory (tests, benchmarks, small snapshots).
class VectorSink final : public ByteSink {
 public:
  bool write(std::span<const uint8_t> bytes) override {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    return true;
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

class ByteWriter {
 public:
  // Writes after the bytes already in *out. Call finish() before using *out: the vector is
  // grown ahead in steps and trimmed to what was written only then.
  explicit ByteWriter(std::vector<uint8_t>* out) : out_(out), size_(out->size()) {}
  ByteWriter(const ByteWriter&) = delete;
  ByteWriter& operator=(const ByteWriter&) = delete;

  void u8(uint8_t v) { *room(1) = v; }
  void fixed64(uint64_t v) { std::memcpy(room(8), &v, 8); }
  void varint(uint64_t v) {
    uint8_t* p = room(kVarintBytesMax);
    size_t n = 0;
    while (v >= 0x80) {
      p[n++] = static_cast<uint8_t>(v | 0x80);
      v >>= 7;
    }
    p[n++] = static_cast<uint8_t>(v);
    size_ -= kVarintBytesMax - n;  // room() reserved the most a varint takes
  }
  void zigzag(int64_t v) { varint(zigzag_encode(v)); }
  void raw(std::string_view s) {
    if (!s.empty()) std::memcpy(room(s.size()), s.data(), s.size());
  }
  // A varint length, then the bytes.
  void bytes(std::string_view s) {
    varint(s.size());
    raw(s);
  }

  // Bytes written to *out, including those that were there before.
  size_t size() const { return size_; }
  std::span<const uint8_t> written() const { return {out_->data(), size_}; }
  // Forgets what was written and keeps the storage (streaming through a fixed buffer).
  void clear() { size_ = 0; }
  // Trims *out to the bytes written.
  void finish() { out_->resize(size_); }

 private:
  // Makes room for n more bytes and returns where they go.
  uint8_t* room(size_t n) {
    if (out_->size() - size_ < n) out_->resize(std::max({size_ + n, 2 * out_->size(), size_t{64}}));
    uint8_t* p = out_->data() + size_;
    size_ += n;
    return p;
  }

  std::vector<uint8_t>* out_;
  size_t size_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  uint8_t u8() {
    if (!need(1)) return 0;
    return data_[pos_++];
  }
  uint64_t fixed64() {
    if (!need(8)) return 0;
    uint64_t v;
    std::memcpy(&v, data_.data() + pos_, 8);
    pos_ += 8;
    return v;
  }
  uint64_t varint() {
    if (pos_ < data_.size() && data_[pos_] < 0x80) return data_[pos_++];  // one byte: most
    uint64_t v = 0;
    for (size_t shift = 0, at = pos_; shift < 64; shift += 7, ++at) {
      if (at == data_.size()) return fail("truncated varint"), 0;
      const uint64_t byte = data_[at];
      if (shift == 63 && byte > 1) break;  // bits beyond 64
      v |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        pos_ = at + 1;
        return v;
      }
    }
    return fail("varint longer than 64 bits"), 0;
  }
  // A varint that must be at most `max`; `what` names the field in the error.
  uint64_t varint_max(uint64_t max, const char* what) {
    const uint64_t v = varint();
    if (v > max) return fail(what), 0;
    return v;
  }
  int64_t zigzag() { return zigzag_decode(varint()); }
  std::string_view raw(size_t n) {
    if (!need(n)) return {};
    std::string_view s(reinterpret_cast<const char*>(data_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  // A length-prefixed byte string of at most max_bytes. The view points into the input.
  std::string_view bytes(size_t max_bytes, const char* what) {
    const uint64_t n = varint();
    if (n > max_bytes) return fail(what), std::string_view();
    return raw(n);
  }
  // The number of elements that follow, each taking at least min_element_bytes: a count the
  // remaining bytes cannot hold is damage, so a loop or a reserve() sized by it is bounded.
  uint64_t count(size_t min_element_bytes, const char* what) {
    const uint64_t n = varint();
    if (n > remaining() / std::max<size_t>(min_element_bytes, 1)) return fail(what), 0;
    return n;
  }

  // Marks the input bad; the first failure wins. `what` must be a string literal.
  void fail(const char* what) {
    if (error_ != nullptr) return;
    error_ = what;
    error_offset_ = pos_;
    pos_ = data_.size();  // later reads fail without reading
  }

  bool ok() const { return error_ == nullptr; }
  const char* error() const { return error_ ? error_ : ""; }
  size_t error_offset() const { return error_offset_; }
  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }

 private:
  bool need(size_t n) {
    if (n <= data_.size() - pos_) return true;
    fail("truncated");
    return false;
  }

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  const char* error_ = nullptr;
  size_t error_offset_ = 0;
};

}  // namespace smsx
