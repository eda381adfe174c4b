#include "core/order_store.h"

#include "core/assert.h"

namespace smsx {

OrderStore::ChunkRef* OrderStore::chunk_of(uint64_t id, size_t* slot) {
  if (id == 0) return nullptr;
  uint64_t n = (id - 1) / kSlots;
  if (n < first_chunk_ || n - first_chunk_ >= chunks_.size()) return nullptr;
  *slot = (id - 1) % kSlots;
  return &chunks_[n - first_chunk_];
}

Order* OrderStore::find(uint64_t id) {
  size_t slot = 0;
  ChunkRef* c = chunk_of(id, &slot);
  if (c == nullptr || !c->chunk || c->chunk->slots[slot].id != id) return nullptr;
  return &c->chunk->slots[slot];
}

Order* OrderStore::create(uint64_t id) {
  SMSX_ASSERT(id > last_id_);
  last_id_ = id;
  uint64_t n = (id - 1) / kSlots;
  if (chunks_.empty()) first_chunk_ = n;
  // Default-initialised: every member of Order and Chunk has an initialiser, so this writes
  // each slot once (make_unique<Chunk>() would zero the 448 KiB first, then write them).
  while (first_chunk_ + chunks_.size() <= n) {
    chunks_.push_back({std::make_unique_for_overwrite<Chunk>(), 0});
  }
  ChunkRef& c = chunks_[n - first_chunk_];
  SMSX_ASSERT(c.chunk != nullptr);
  Order& o = c.chunk->slots[(id - 1) % kSlots];
  SMSX_ASSERT(o.id == 0);
  o.id = id;
  ++c.live;
  ++live_;
  return &o;
}

void OrderStore::erase(Order* order) {
  size_t slot = 0;
  uint64_t id = order->id;
  ChunkRef* c = chunk_of(id, &slot);
  SMSX_ASSERT(c != nullptr && c->chunk && &c->chunk->slots[slot] == order);
  SMSX_ASSERT(!order->timer.scheduled());
  *order = Order{};
  --c->live;
  --live_;
  // Free the chunk once empty, unless it is the one new ids are still being placed in.
  if (c->live == 0 && (id - 1) / kSlots != (last_id_ - 1) / kSlots) {
    c->chunk.reset();
    drop_empty_front_chunks();
  }
}

void OrderStore::drop_empty_front_chunks() {
  while (!chunks_.empty() && !chunks_.front().chunk) {
    chunks_.pop_front();
    ++first_chunk_;
  }
}

}  // namespace smsx
