#include "core/order_store.h"

#include <sys/mman.h>

#include <new>

#include "core/assert.h"
#include "core/huge_page_mapping.h"

namespace smsx {

OrderStore::~OrderStore() {
  for (Chunk* chunk : chunks_) {
    if (chunk != nullptr) unmap_chunk(chunk);
  }
  for (Chunk* chunk : spare_) unmap_chunk(chunk);
}

OrderStore::Chunk* OrderStore::take_chunk(uint64_t first_id) {
  Chunk* c = nullptr;
  if (spare_.empty()) {
    c = map_chunk();
  } else {
    c = spare_.back();  // every slot free: erase() reset each one
    spare_.pop_back();
  }
  c->first_id = first_id;
  c->live = 0;
  return c;
}

void OrderStore::give_back(Chunk* chunk) {
  if (spare_.size() < kSpareChunksMax) {
    spare_.push_back(chunk);
  } else {
    unmap_chunk(chunk);
  }
}

OrderStore::Chunk* OrderStore::map_chunk() {
  static_assert(kChunkBytes == kHugePageBytes);
  // Default-initialised: every member of Order has an initialiser, so this writes each
  // slot once (the mapping is zero already, but an Order's free state is not all zeros).
  return new (map_huge_page_aligned(kChunkBytes)) Chunk;
}

void OrderStore::unmap_chunk(Chunk* chunk) {
  chunk->~Chunk();  // frees the extras of orders still in it
  ::munmap(chunk, kChunkBytes);
}

Order* OrderStore::find(uint64_t id) {
  if (id == 0) return nullptr;
  const uint64_t n = chunk_number(id);
  if (n < first_chunk_ || n - first_chunk_ >= chunks_.size()) return nullptr;
  Chunk* c = chunks_[n - first_chunk_];
  if (c == nullptr) return nullptr;
  Order* o = &c->slots[(id - 1) % kSlots];
  return o->live() ? o : nullptr;
}

Order* OrderStore::slot_for(uint64_t id) {
  const uint64_t n = chunk_number(id);
  if (chunks_.empty()) first_chunk_ = n;
  SMSX_ASSERT(n >= first_chunk_);
  while (first_chunk_ + chunks_.size() <= n) {
    const uint64_t next = first_chunk_ + chunks_.size();
    chunks_.push_back(next == n ? take_chunk(next * kSlots + 1) : nullptr);
  }
  Chunk* c = chunks_[n - first_chunk_];
  SMSX_ASSERT(c != nullptr);
  Order* o = &c->slots[(id - 1) % kSlots];
  SMSX_ASSERT(!o->live());
  ++c->live;
  ++live_;
  return o;
}

Order* OrderStore::create(uint64_t id, uint32_t lifetime_ms) {
  SMSX_ASSERT(id > last_id_ && lifetime_ms > 0);
  last_id_ = id;
  Order* o = slot_for(id);
  o->lifetime_ms = lifetime_ms;
  return o;
}

void OrderStore::erase(Order* order) {
  const uint64_t id = order->id();
  SMSX_ASSERT(order->live() && find(id) == order);
  SMSX_ASSERT(!order->timer.scheduled());
  *order = Order{};
  const uint64_t n = chunk_number(id);
  Chunk*& c = chunks_[n - first_chunk_];
  --c->live;
  --live_;
  // Free the chunk once empty, unless it is the one new ids are still being placed in.
  if (c->live == 0 && n != chunk_number(last_id_)) {
    give_back(c);
    c = nullptr;
    drop_empty_front_chunks();
  }
}

void OrderStore::drop_empty_front_chunks() {
  while (!chunks_.empty() && chunks_.front() == nullptr) {
    chunks_.pop_front();
    ++first_chunk_;
  }
}

}  // namespace smsx
