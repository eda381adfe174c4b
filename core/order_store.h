// Orders by id. Order ids are assigned consecutively by the engine, so orders live in
// fixed-size chunks of consecutive ids: a lookup is two array indexings, there is no per-
// order index entry, and an order never moves (its timer node's address is stable). A chunk
// is freed once every order in it was evicted; chunks are evicted from the front, so memory
// follows the live window of ids (active orders plus those kept for the retention period).
//
// An order does not store its id: each chunk is one 2 MiB mapping aligned to 2 MiB whose
// header holds its first id, so an order's id follows from its address (Order::id()). That
// saves 8 bytes per order, and a chunk is exactly one transparent huge page when huge pages
// are wanted (core/huge_page_mapping.h), so walking orders costs few TLB misses.
//
// Single-threaded. Owns the orders; the engine must cancel an order's timer before erase().
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "core/order.h"

namespace smsx {

class OrderStore {
  friend class EngineSnapshot;  // core/engine_snapshot.cc saves and restores the state

 public:
  static constexpr size_t kChunkBytes = size_t{2} << 20;

  OrderStore() = default;
  OrderStore(const OrderStore&) = delete;
  OrderStore& operator=(const OrderStore&) = delete;
  ~OrderStore();

  // The order with this id, or nullptr if it never existed or was evicted.
  Order* find(uint64_t id);
  const Order* find(uint64_t id) const { return const_cast<OrderStore*>(this)->find(id); }
  // Creates the order `id`, which must be greater than every id created before, with its
  // lifetime (> 0: a slot with lifetime 0 is free).
  Order* create(uint64_t id, uint32_t lifetime_ms);
  // Evicts the order (its slot becomes free; its chunk is freed when empty).
  void erase(Order* order);
  size_t size() const { return live_; }
  // Chunks mapped for orders (not counting the spares kept for the next ones).
  size_t chunks_mapped() const {
    size_t n = 0;
    for (const Chunk* chunk : chunks_) n += chunk != nullptr ? 1 : 0;
    return n;
  }
  // Calls f(Order&) for every live order in id order.
  template <class F>
  void for_each(F&& f) {
    for (Chunk* chunk : chunks_) {
      if (chunk == nullptr) continue;
      for (auto& o : chunk->slots) {
        if (o.live()) f(o);
      }
    }
  }
  template <class F>
  void for_each(F&& f) const {
    for (const Chunk* chunk : chunks_) {
      if (chunk == nullptr) continue;
      for (const auto& o : chunk->slots) {
        if (o.live()) f(o);
      }
    }
  }

  // The id of an order in a chunk (Order::id() calls this).
  static uint64_t id_of(const Order* order) {
    const auto address = reinterpret_cast<uintptr_t>(order);
    const auto* chunk = reinterpret_cast<const Chunk*>(address & ~uintptr_t{kChunkBytes - 1});
    return chunk->first_id + static_cast<uint64_t>(order - chunk->slots);
  }

 private:
  static constexpr size_t kHeaderBytes = 64;  // the slots start on a cache line
  static constexpr size_t kSlots = (kChunkBytes - kHeaderBytes) / sizeof(Order);
  struct Chunk {
    uint64_t first_id = 0;
    size_t live = 0;
    alignas(kHeaderBytes) Order slots[kSlots];
  };
  static_assert(sizeof(Chunk) <= kChunkBytes && offsetof(Chunk, slots) == kHeaderBytes);

  // A chunk for ids first_id..first_id + kSlots - 1, every slot free: a spare one if there
  // is one, else a new mapping.
  Chunk* take_chunk(uint64_t first_id);
  // Keeps an emptied chunk as a spare, or unmaps it if there are enough.
  void give_back(Chunk* chunk);
  static Chunk* map_chunk();
  static void unmap_chunk(Chunk* chunk);
  static uint64_t chunk_number(uint64_t id) { return (id - 1) / kSlots; }
  // The free slot of order `id`, counted live, in its chunk (mapped for it if needed). Chunks
  // between the last one and it stay unmapped: after a snapshot is restored whole chunks of
  // ids may be gone, and the next new id may lie past them.
  Order* slot_for(uint64_t id);
  void drop_empty_front_chunks();

  std::deque<Chunk*> chunks_;  // nullptr once every order in it was evicted
  // Emptied chunks kept for the next ones: orders are placed at one end and evicted at the
  // other at about the same rate, and a fresh mapping costs a page fault per 4 KiB or 2 MiB
  // (in this project's KVM guest up to milliseconds for a huge page) inside a command.
  static constexpr size_t kSpareChunksMax = 2;
  std::vector<Chunk*> spare_;
  uint64_t first_chunk_ = 0;  // chunk number of chunks_[0]; chunk n holds ids n*kSlots+1...
  uint64_t last_id_ = 0;
  size_t live_ = 0;
};

inline uint64_t Order::id() const { return OrderStore::id_of(this); }

}  // namespace smsx
