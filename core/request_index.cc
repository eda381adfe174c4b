#include "core/request_index.h"

#include <sys/mman.h>

#include <bit>
#include <cstring>
#include <new>

#include "core/assert.h"
#include "core/huge_page_mapping.h"
#include "core/sweep_insert.h"

namespace smsx {
namespace {

// Arrays of 64 KiB and more are mapped by themselves, so that the one a growth leaves
// behind goes back to the system at once: from the heap, with mimalloc's segments in huge
// pages (core/heap_pages.h), it stayed resident as free heap, which at the growth from 8,192
// to 16,384 slots per shard was 16 bytes per entry on top of the new array. Mappings of
// 2 MiB and more are aligned to 2 MiB and ask for huge pages when wanted; smaller ones use
// 4 KiB pages (a probe then may miss the TLB: below about 27M ids in all). Smaller arrays
// come from the heap. Every size is 8 × 2^k bytes; a mapping is zero-filled.
constexpr size_t kMappedBytesMin = 64 << 10;

uint64_t* allocate_slots(size_t capacity) {
  const size_t bytes = capacity * sizeof(uint64_t);
  if (bytes < kMappedBytesMin) {
    auto* slots = static_cast<uint64_t*>(::operator new(bytes));
    std::memset(slots, 0, bytes);
    return slots;
  }
  if (bytes >= kHugePageBytes) return static_cast<uint64_t*>(map_huge_page_aligned(bytes));
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  ::madvise(p, bytes, MADV_NOHUGEPAGE);  // advice only: too small for one
  return static_cast<uint64_t*>(p);
}

void free_slots(uint64_t* slots, size_t capacity) {
  if (slots == nullptr) return;
  const size_t bytes = capacity * sizeof(uint64_t);
  if (bytes < kMappedBytesMin) {
    ::operator delete(slots);
  } else {
    ::munmap(slots, bytes);
  }
}

}  // namespace

RequestIndex::~RequestIndex() {
  for (Shard& s : shards_) s.release();
}

size_t RequestIndex::capacity_for(size_t n) {
  size_t capacity = kFirstCapacity;
  while (n * 5 > capacity * 4) capacity *= 2;
  return capacity;
}

void RequestIndex::Shard::release() {
  free_slots(slots, capacity);
  *this = Shard{};
}

void RequestIndex::Shard::reserve(size_t n) {
  const size_t wanted = capacity_for(n);
  if (wanted <= capacity) return;
  Shard bigger;
  bigger.slots = allocate_slots(wanted);
  bigger.capacity = wanted;
  bigger.shift = 64 - std::countr_zero(wanted);
  for (size_t i = 0; i < capacity; ++i) {
    if (slots[i] != 0) bigger.add(slots[i]);
  }
  free_slots(slots, capacity);
  *this = bigger;
}

void RequestIndex::Shard::add(uint64_t entry) {
  size_t i = home(tag_of_entry(entry));
  while (slots[i] != 0) i = next(i);
  slots[i] = entry;
  ++size;
}

std::optional<RequestIndex::Ref> RequestIndex::find(const RequestKey& key) const {
  const Shard& s = shards_[shard_of(key)];
  if (s.size == 0) return std::nullopt;
  const uint64_t tag = tag_of(key);
  for (size_t i = s.home(tag); s.slots[i] != 0; i = s.next(i)) {
    const uint64_t entry = s.slots[i];
    if (tag_of_entry(entry) == tag && check_.holds(unpack(entry), key)) return unpack(entry);
  }
  return std::nullopt;
}

void RequestIndex::insert(const RequestKey& key, Ref ref) {
  Shard& s = shards_[shard_of(key)];
  s.reserve(s.size + 1);
  s.add(pack(key, ref));
}

void RequestIndex::erase(const RequestKey& key, Ref ref) {
  Shard& s = shards_[shard_of(key)];
  const uint64_t entry = pack(key, ref);
  SMSX_ASSERT(s.size > 0);
  size_t i = s.home(tag_of(key));
  while (s.slots[i] != entry) {
    SMSX_ASSERT(s.slots[i] != 0);  // erasing a key that is not there
    i = s.next(i);
  }
  // Backward shift: an entry after the hole moves into it unless its home lies cyclically
  // within (hole, its place], where a lookup starting at its home would not pass the hole.
  for (size_t j = s.next(i); s.slots[j] != 0; j = s.next(j)) {
    const size_t h = s.home(tag_of_entry(s.slots[j]));
    const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (stays) continue;
    s.slots[i] = s.slots[j];
    i = j;
  }
  s.slots[i] = 0;
  --s.size;
}

bool RequestIndex::contains(const RequestKey& key, Ref ref) const {
  const Shard& s = shards_[shard_of(key)];
  if (s.size == 0) return false;
  const uint64_t entry = pack(key, ref);
  for (size_t i = s.home(tag_of(key)); s.slots[i] != 0; i = s.next(i)) {
    if (s.slots[i] == entry) return true;
  }
  return false;
}

bool RequestIndex::insert_many(std::span<Item> items) {
  const std::vector<size_t> starts =
      flag_sort(items, kShards, [](const Item& item) { return shard_of(item.key); });
  for (size_t k = 0; k < kShards; ++k) {
    Shard& s = shards_[k];
    const std::span<Item> part = items.subspan(starts[k], starts[k + 1] - starts[k]);
    if (part.empty()) continue;
    s.reserve(s.size + part.size());
    // In order of home slot, so that the writes sweep the array.
    const int shift = std::max(0, std::countr_zero(s.capacity) - kSweepBucketBits);
    flag_sort(part, size_t{1} << kSweepBucketBits,
              [&](const Item& item) { return s.home(tag_of(item.key)) >> shift; });
    for (const Item& item : part) {
      if (find(item.key)) return false;  // a key check: rare past the tag
      s.add(pack(item.key, item.ref));
    }
  }
  return true;
}

size_t RequestIndex::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) n += s.size;
  return n;
}

void RequestIndex::reserve(size_t n) {
  if (n == 0) return;
  const size_t share = n / kShards;
  for (Shard& s : shards_) s.reserve(s.size + share + share / 8 + 16);
}

void RequestIndex::prefetch(const RequestKey& key) const {
  const Shard& s = shards_[shard_of(key)];
  if (s.capacity != 0) __builtin_prefetch(&s.slots[s.home(tag_of(key))]);
}

}  // namespace smsx
