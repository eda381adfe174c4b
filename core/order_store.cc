#include "core/order_store.h"

#include "core/assert.h"

namespace smsx {

OrderStore::Chunk* OrderStore::chunk_of(uint64_t id, size_t* slot) {
  if (id == 0) return nullptr;
  uint64_t n = (id - 1) / kSlots;
  if (n < first_chunk_ || n - first_chunk_ >= chunks_.size()) return nullptr;
  *slot = (id - 1) % kSlots;
  return chunks_[n - first_chunk_].get();
}

Order* OrderStore::find(uint64_t id) {
  size_t slot = 0;
  Chunk* c = chunk_of(id, &slot);
  if (c == nullptr || c->slots[slot].id != id) return nullptr;
  return &c->slots[slot];
}

Order* OrderStore::create(uint64_t id) {
  SMSX_ASSERT(id > last_id_);
  last_id_ = id;
  uint64_t n = (id - 1) / kSlots;
  if (chunks_.empty()) first_chunk_ = n;
  // Default-initialised: every member of Order and Chunk has an initialiser, so this writes
  // each slot once (make_unique<Chunk>() would zero the 384 KiB first, then write them).
  while (first_chunk_ + chunks_.size() <= n) {
    chunks_.push_back(std::make_unique_for_overwrite<Chunk>());
  }
  Chunk* c = chunks_[n - first_chunk_].get();
  SMSX_ASSERT(c != nullptr);
  Order& o = c->slots[(id - 1) % kSlots];
  SMSX_ASSERT(o.id == 0);
  o.id = id;
  ++c->live;
  ++live_;
  return &o;
}

void OrderStore::erase(Order* order) {
  size_t slot = 0;
  uint64_t id = order->id;
  Chunk* c = chunk_of(id, &slot);
  SMSX_ASSERT(c != nullptr && &c->slots[slot] == order);
  SMSX_ASSERT(!order->timer.scheduled());
  *order = Order{};
  --c->live;
  --live_;
  // Free the chunk once empty, unless it is the one new ids are still being placed in.
  if (c->live == 0 && (id - 1) / kSlots != (last_id_ - 1) / kSlots) {
    chunks_[(id - 1) / kSlots - first_chunk_].reset();
    drop_empty_front_chunks();
  }
}

void OrderStore::drop_empty_front_chunks() {
  while (!chunks_.empty() && !chunks_.front()) {
    chunks_.pop_front();
    ++first_chunk_;
  }
}

}  // namespace smsx
