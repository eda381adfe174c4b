// The index of remembered request ids: for each request key, which order (a placement's
// key) or remembered reply (any other request's) it names, in 8 bytes per entry.
//
// The keys themselves are stored once, with what they name (an order holds its placement's
// key; a remembered reply holds its own). An entry packs 23 bits of the key's hash (enough to
// place it and to rule out almost every other entry without looking further), one bit for
// the kind, and the low 39 bits of the order id or reply sequence number; a lookup that
// matches those bits asks the owner (`KeyCheck`) whether the full key is the one stored
// there. Ids and sequence numbers are widened back by the owner from the newest one issued:
// everything remembered lies within the last 2^39 (5.5e11) of them, since an entry is
// evicted at the end of the retention period.
//
// Each of 256 shards (chosen by the top byte of the key, bits the key already carries: it is
// a hash) is an open-addressing table with linear probing: an array of entries (0 = empty),
// a power of two long, at most 4/5 full, erasure by shifting the entries after it back
// (no tombstones). Its own table rather than absl's, for memory: no control byte per slot,
// and arrays of 8 × 2^k bytes, which fill mimalloc's 64 KiB slices and 2 MiB huge pages
// exactly (absl's 9 × 2^k + 16 bytes overran them: 147 KiB took three slices). A growth
// moves only its shard's entries, 1/256 of them (one absl table of half a million request
// ids once stopped the loop for 210 ms; docs/benchmarks.md, "Pauses"). Growth, erasure and
// bulk loading read only the entries, never the keys. Request keys are unseeded hashes of
// ids the gateways choose, and entries are placed by those bits alone: a gateway grinding
// ids into one shard or one run of slots could make lookups there long, and the loop is one
// thread, so every gateway would wait (correctness is not affected); only authenticated
// gateways send ids. Beyond about 6.7M entries in one shard (1.7G in all) the 23 hash bits no
// longer spread entries over the whole array.
//
// Single-threaded.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "core/hash.h"

namespace smsx {

class RequestIndex {
 public:
  enum class Kind : uint8_t { kOrder = 0, kReply = 1 };
  static constexpr int kRefBits = 39;
  static constexpr uint64_t kRefMask = (uint64_t{1} << kRefBits) - 1;
  // What an entry names: the low kRefBits bits of an order id or reply sequence number.
  struct Ref {
    Kind kind = Kind::kOrder;
    uint64_t low = 0;
  };
  // Answers whether `key` is the key stored with what `ref` names.
  class KeyCheck {
   public:
    virtual bool holds(Ref ref, const RequestKey& key) const = 0;

   protected:
    ~KeyCheck() = default;
  };

  // What an entry for order `id`, or for reply number `seq`, holds.
  static Ref order_ref(uint64_t id) { return {Kind::kOrder, id & kRefMask}; }
  static Ref reply_ref(uint64_t seq) { return {Kind::kReply, seq & kRefMask}; }

  // The full id or sequence number whose low bits are `low`, given the newest one issued.
  static uint64_t widen(uint64_t low, uint64_t newest) {
    return newest - ((newest - low) & kRefMask);
  }

  explicit RequestIndex(const KeyCheck& check) : check_(check) {}
  RequestIndex(const RequestIndex&) = delete;
  RequestIndex& operator=(const RequestIndex&) = delete;
  ~RequestIndex();

  // What `key` names, if it is in the index.
  std::optional<Ref> find(const RequestKey& key) const;
  // Adds `key` naming `ref`; the key must not be in the index.
  void insert(const RequestKey& key, Ref ref);
  // Removes `key`, which must be in the index naming `ref`.
  void erase(const RequestKey& key, Ref ref);
  bool contains(const RequestKey& key, Ref ref) const;
  // Adds many keys at once (loading a snapshot), each naming its ref, grouped by shard and
  // inserted in the order of their places in it (a sweep); reorders `items`. False,
  // with nothing more added, at the first key already in the index.
  struct Item {
    RequestKey key;
    Ref ref;
  };
  bool insert_many(std::span<Item> items);
  size_t size() const;
  // Room for `n` more entries, spread over the shards with a margin.
  void reserve(size_t n);
  // Starts loading the part of the table a lookup of `key` reads first.
  void prefetch(const RequestKey& key) const;

 private:
  static constexpr size_t kShards = 256;
  static constexpr int kTagBits = 23;
  static constexpr uint64_t kOccupied = uint64_t{1} << 63;
  static constexpr size_t kFirstCapacity = 16;

  static uint64_t tag_of(const RequestKey& key) {
    return (key.hi >> 32) & ((uint64_t{1} << kTagBits) - 1);
  }
  static uint64_t tag_of_entry(uint64_t entry) {
    return (entry >> (kRefBits + 1)) & ((uint64_t{1} << kTagBits) - 1);
  }
  static uint64_t pack(const RequestKey& key, Ref ref) {
    return kOccupied | tag_of(key) << (kRefBits + 1) |
           uint64_t{static_cast<uint8_t>(ref.kind)} << kRefBits | (ref.low & kRefMask);
  }
  static Ref unpack(uint64_t entry) {
    return Ref{static_cast<Kind>((entry >> kRefBits) & 1), entry & kRefMask};
  }
  static size_t shard_of(const RequestKey& key) { return static_cast<size_t>(key.hi >> 56); }

  struct Shard {
    uint64_t* slots = nullptr;  // capacity entries, 0 = empty
    size_t capacity = 0;        // 0 or a power of two
    size_t size = 0;
    int shift = 64;  // home(tag) = (tag * golden) >> shift, below capacity

    size_t home(uint64_t tag) const {
      return capacity == 0 ? 0 : static_cast<size_t>((tag * 0x9e3779b97f4a7c15ULL) >> shift);
    }
    size_t next(size_t i) const { return (i + 1) & (capacity - 1); }
    // Room for `n` entries within the load limit (reallocates, moving every entry).
    void reserve(size_t n);
    void add(uint64_t entry);  // no growth: room must be there
    void release();
  };
  static size_t capacity_for(size_t n);  // the least power of two holding n at 4/5

  std::array<Shard, kShards> shards_;
  const KeyCheck& check_;
};

}  // namespace smsx
