// Orders by id. Order ids are assigned consecutively by the engine, so orders live in
// fixed-size chunks of consecutive ids: a lookup is two array indexings, there is no per-
// order index entry, and an order never moves (its timer node's address is stable). A chunk
// is freed once every order in it was evicted; chunks are evicted from the front, so memory
// follows the live window of ids (active orders plus those kept for the retention period).
//
// Single-threaded. Owns the orders; the engine must cancel an order's timer before erase().
#pragma once

#include <cstdint>
#include <deque>
#include <memory>

#include "core/limits.h"
#include "core/order.h"

namespace smsx {

class OrderStore {
  friend class EngineSnapshot;  // core/engine_snapshot.cc saves and restores the state

 public:
  // The order with this id, or nullptr if it never existed or was evicted.
  Order* find(uint64_t id);
  const Order* find(uint64_t id) const { return const_cast<OrderStore*>(this)->find(id); }
  // Creates the order `id`, which must be greater than every id created before.
  Order* create(uint64_t id);
  // Evicts the order (its slot becomes free; its chunk is freed when empty).
  void erase(Order* order);
  size_t size() const { return live_; }
  // Calls f(Order&) for every live order in id order.
  template <class F>
  void for_each(F&& f) {
    for (auto& ref : chunks_) {
      if (!ref.chunk) continue;
      for (auto& o : ref.chunk->slots) {
        if (o.id != 0) f(o);
      }
    }
  }
  template <class F>
  void for_each(F&& f) const {
    for (const auto& ref : chunks_) {
      if (!ref.chunk) continue;
      for (const auto& o : ref.chunk->slots) {
        if (o.id != 0) f(o);
      }
    }
  }

 private:
  static constexpr size_t kSlots = limits::kOrderChunkSlots;
  struct Chunk {
    Order slots[kSlots];
  };
  // A large allocation takes whole 64 KiB slices of mimalloc's segments: a chunk that
  // overran by a few bytes (a live count kept inside it once did) costs 16 bytes per order.
  static_assert(sizeof(Chunk) % (64 << 10) == 0, "a chunk fills whole 64 KiB slices");
  struct ChunkRef {
    std::unique_ptr<Chunk> chunk;  // nullptr once every order in it was evicted
    size_t live = 0;
  };
  ChunkRef* chunk_of(uint64_t id, size_t* slot);
  void drop_empty_front_chunks();

  std::deque<ChunkRef> chunks_;
  uint64_t first_chunk_ = 0;  // chunk number of chunks_[0]; chunk n holds ids n*kSlots+1...
  uint64_t last_id_ = 0;
  size_t live_ = 0;
};

}  // namespace smsx
