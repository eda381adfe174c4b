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
// The entries are kept in 256 absl tables chosen by the top byte of the key (bits the key
// already carries: it is a hash), so that no single growth moves every entry: an absl table
// grows by moving all its entries into one twice as large, in one call, which stopped the
// loop for 210 ms at half a million entries in one table (docs/benchmarks.md, "Pauses").
// Each growth moves 1/256 of them; the total work is the same, spread over time. Growth,
// rehashing and erasure read only the packed entries, never the keys. Request keys are
// unseeded hashes of ids the gateways choose: a gateway grinding ids into one shard could
// bring back the large growths (not affect correctness), which an authenticated gateway has
// no reason to do.
//
// Single-threaded.
#pragma once

#include <absl/container/flat_hash_set.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "core/hash.h"
#include "core/huge_page_allocator.h"

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

  // The full id or sequence number whose low bits are `low`, given the newest one issued.
  static uint64_t widen(uint64_t low, uint64_t newest) {
    return newest - ((newest - low) & kRefMask);
  }

  explicit RequestIndex(const KeyCheck& check);
  RequestIndex(const RequestIndex&) = delete;
  RequestIndex& operator=(const RequestIndex&) = delete;

  // What `key` names, if it is in the index.
  std::optional<Ref> find(const RequestKey& key) const;
  // Adds `key` naming `ref`; the key must not be in the index.
  void insert(const RequestKey& key, Ref ref);
  // Removes `key`, which must be in the index naming `ref`.
  void erase(const RequestKey& key, Ref ref);
  bool contains(const RequestKey& key, Ref ref) const;
  // Adds many keys at once (loading a snapshot), each naming its ref, grouped by shard and
  // inserted in each table's sweep order (core/sweep_insert.h); reorders `items`. False,
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

  // Entries hash by their tag alone, so that a key and its entry hash alike.
  struct Hash {
    using is_transparent = void;
    size_t operator()(uint64_t entry) const { return mix(tag_of_entry(entry)); }
    size_t operator()(const RequestKey& key) const { return mix(tag_of(key)); }
    static size_t mix(uint64_t tag) { return static_cast<size_t>(mix64(tag)); }
  };
  struct Eq {
    using is_transparent = void;
    const KeyCheck* check;
    bool operator()(uint64_t a, uint64_t b) const { return a == b; }
    bool operator()(uint64_t entry, const RequestKey& key) const {
      return tag_of_entry(entry) == tag_of(key) && check->holds(unpack(entry), key);
    }
    bool operator()(const RequestKey& key, uint64_t entry) const { return (*this)(entry, key); }
  };
  using Shard = absl::flat_hash_set<uint64_t, Hash, Eq, HugePageAllocator<uint64_t>>;

  static size_t shard_of(const RequestKey& key) { return static_cast<size_t>(key.hi >> 56); }

  std::array<Shard, kShards> shards_;
};

}  // namespace smsx
