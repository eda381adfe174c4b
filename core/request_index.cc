#include "core/request_index.h"

#include "core/assert.h"
#include "core/sweep_insert.h"

namespace smsx {

RequestIndex::RequestIndex(const KeyCheck& check) {
  for (Shard& s : shards_) s = Shard(0, Hash{}, Eq{&check});
}

std::optional<RequestIndex::Ref> RequestIndex::find(const RequestKey& key) const {
  const Shard& s = shards_[shard_of(key)];
  auto it = s.find(key);
  if (it == s.end()) return std::nullopt;
  return unpack(*it);
}

void RequestIndex::insert(const RequestKey& key, Ref ref) {
  const bool inserted = shards_[shard_of(key)].insert(pack(key, ref)).second;
  SMSX_ASSERT(inserted);
}

void RequestIndex::erase(const RequestKey& key, Ref ref) {
  const size_t erased = shards_[shard_of(key)].erase(pack(key, ref));
  SMSX_ASSERT(erased == 1);
}

bool RequestIndex::contains(const RequestKey& key, Ref ref) const {
  return shards_[shard_of(key)].contains(pack(key, ref));
}

bool RequestIndex::insert_many(std::span<Item> items) {
  const std::vector<size_t> starts =
      flag_sort(items, kShards, [](const Item& item) { return shard_of(item.key); });
  for (size_t i = 0; i < kShards; ++i) {
    Shard& shard = shards_[i];
    const std::span<Item> part = items.subspan(starts[i], starts[i + 1] - starts[i]);
    shard.reserve(shard.size() + part.size());
    sweep_sort(shard, part, [](const Item& item) { return pack(item.key, item.ref); });
    for (const Item& item : part) {
      if (shard.contains(item.key)) return false;  // a key check: rare past the tag
      shard.insert(pack(item.key, item.ref));
    }
  }
  return true;
}

size_t RequestIndex::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) n += s.size();
  return n;
}

void RequestIndex::reserve(size_t n) {
  if (n == 0) return;
  const size_t share = n / kShards;
  for (Shard& s : shards_) s.reserve(s.size() + share + share / 8 + 16);
}

void RequestIndex::prefetch(const RequestKey& key) const { shards_[shard_of(key)].prefetch(key); }

}  // namespace smsx
