// Per-timer cost of the timing wheel against the two usual alternatives, with 1M and 10M live
// timers: (a) a binary min-heap with each timer's heap index tracked for O(log n) cancel (how
// libuv keeps its timers), (b) std::multimap keyed by deadline, cancelled through a stored
// iterator. Deadlines are spread like order lifetimes (now + 20 min +- 2 min) or uniformly over
// a day.
//
// schedule / cancel / pair: a population of live timers is built once (outside any timing),
// scheduled in random id order so that neighbours in a list are not neighbours in memory, and
// kept; each iteration cancels a batch of random live timers and schedules them again with new
// deadlines, so the population stays the same size. Only the named part is timed (manual time):
// the cancels, the schedules, or both (a cancel + schedule pair, the steady state of an order
// book: one order ends, another starts).
// expire: a population is built (not timed), then drained by hopping from next deadline to next
// deadline (timed), as the loop does; the time is divided by the timers expired. Two memory
// layouts: "random" (timer memory unrelated to scheduling order and deadline: the steady state
// of records reused through a free list) and "sorted" (memory, scheduling and deadline order
// agree: records allocated in sequence with a constant lifetime). The counter max_call_ms is the
// longest single advance (or pop-until-now) call of the drain.
//
// The machine is shared: steady-state figures are the median batch (mean also reported), drain
// figures are this thread's CPU time (wall time also reported).
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "timers/timing_wheel.h"

namespace {

using smsx::timers::TimerNode;
using smsx::timers::TimingWheel;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kStartMs = 1'700'000'000'000;  // a Unix time in ms (November 2023)
constexpr uint64_t kOrderTtlMs = 20 * 60 * 1000;
constexpr uint64_t kOrderJitterMs = 2 * 60 * 1000;  // +- around the ttl
constexpr uint64_t kDayMs = 24 * 60 * 60 * 1000;
constexpr size_t kBatch = 1024;  // timers per timed batch: clock reads stay < 1% of it
constexpr uint64_t kSeed = 0x7153'AB1E'5EED'0001;

enum class Spread { kOrder, kDay };
enum class Part { kSchedule, kCancel, kPair };
enum class Layout { kRandom, kSorted };

// splitmix64: fast, and the same sequence on every run.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }
};

uint64_t random_deadline(Rng& rng, Spread spread, uint64_t now_ms) {
  if (spread == Spread::kOrder) {
    return now_ms + kOrderTtlMs - kOrderJitterMs + rng.below(2 * kOrderJitterMs + 1);
  }
  return now_ms + 1 + rng.below(kDayMs);
}

// The three queues share one interface over timer ids 0..capacity-1.
class WheelQueue {
 public:
  static constexpr const char* kName = "wheel";
  explicit WheelQueue(size_t capacity) : wheel_(kStartMs), nodes_(capacity) {}
  void schedule(uint32_t id, uint64_t deadline_ms) { wheel_.schedule(&nodes_[id], deadline_ms); }
  void cancel(uint32_t id) { wheel_.cancel(&nodes_[id]); }
  std::optional<uint64_t> next_deadline() const { return wheel_.next_deadline(); }
  // Expires everything due at now_ms; returns the sum of the expired ids (the "work").
  uint64_t expire_until(uint64_t now_ms, size_t* expired) {
    uint64_t sum = 0;
    wheel_.advance(now_ms, SIZE_MAX, [&](TimerNode* node) {
      sum += static_cast<uint64_t>(node - nodes_.data());
      ++*expired;
    });
    return sum;
  }

 private:
  TimingWheel wheel_;
  std::vector<TimerNode> nodes_;
};

class HeapQueue {
 public:
  static constexpr const char* kName = "binary_heap";
  explicit HeapQueue(size_t capacity) : position_(capacity, kNone) { heap_.reserve(capacity); }
  void schedule(uint32_t id, uint64_t deadline_ms) {
    heap_.push_back({deadline_ms, sequence_++, id});
    sift_up(heap_.size() - 1);
  }
  void cancel(uint32_t id) {
    const uint32_t index = position_[id];
    if (index == kNone) return;
    position_[id] = kNone;
    const Entry last = heap_.back();
    heap_.pop_back();
    if (index == heap_.size()) return;
    heap_[index] = last;
    position_[last.id] = index;
    if (index > 0 && less(last, heap_[(index - 1) / 2])) {
      sift_up(index);
    } else {
      sift_down(index);
    }
  }
  std::optional<uint64_t> next_deadline() const {
    if (heap_.empty()) return std::nullopt;
    return heap_[0].deadline_ms;
  }
  uint64_t expire_until(uint64_t now_ms, size_t* expired) {
    uint64_t sum = 0;
    while (!heap_.empty() && heap_[0].deadline_ms <= now_ms) {
      const uint32_t id = heap_[0].id;
      cancel(id);
      sum += id;
      ++*expired;
    }
    return sum;
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Entry {
    uint64_t deadline_ms;
    uint64_t sequence;  // FIFO among equal deadlines, like libuv's start_id
    uint32_t id;
  };
  static bool less(const Entry& a, const Entry& b) {
    return a.deadline_ms != b.deadline_ms ? a.deadline_ms < b.deadline_ms : a.sequence < b.sequence;
  }
  void place(size_t index, const Entry& entry) {
    heap_[index] = entry;
    position_[entry.id] = static_cast<uint32_t>(index);
  }
  void sift_up(size_t index) {
    const Entry entry = heap_[index];
    while (index > 0) {
      const size_t parent = (index - 1) / 2;
      if (!less(entry, heap_[parent])) break;
      place(index, heap_[parent]);
      index = parent;
    }
    place(index, entry);
  }
  void sift_down(size_t index) {
    const Entry entry = heap_[index];
    const size_t size = heap_.size();
    for (;;) {
      size_t child = 2 * index + 1;
      if (child >= size) break;
      if (child + 1 < size && less(heap_[child + 1], heap_[child])) ++child;
      if (!less(heap_[child], entry)) break;
      place(index, heap_[child]);
      index = child;
    }
    place(index, entry);
  }

  std::vector<Entry> heap_;
  std::vector<uint32_t> position_;  // id -> index in heap_, kNone when not scheduled
  uint64_t sequence_ = 0;
};

class MultimapQueue {
 public:
  static constexpr const char* kName = "std_multimap";
  explicit MultimapQueue(size_t capacity) : where_(capacity, map_.end()) {}
  void schedule(uint32_t id, uint64_t deadline_ms) { where_[id] = map_.emplace(deadline_ms, id); }
  void cancel(uint32_t id) {
    if (where_[id] == map_.end()) return;
    map_.erase(where_[id]);
    where_[id] = map_.end();
  }
  std::optional<uint64_t> next_deadline() const {
    if (map_.empty()) return std::nullopt;
    return map_.begin()->first;
  }
  uint64_t expire_until(uint64_t now_ms, size_t* expired) {
    uint64_t sum = 0;
    while (!map_.empty() && map_.begin()->first <= now_ms) {
      const uint32_t id = map_.begin()->second;
      where_[id] = map_.end();
      map_.erase(map_.begin());
      sum += id;
      ++*expired;
    }
    return sum;
  }

 private:
  using Map = std::multimap<uint64_t, uint32_t>;
  Map map_;
  std::vector<Map::iterator> where_;  // map_.end() when not scheduled
};

std::vector<uint32_t> shuffled_ids(size_t count, Rng& rng) {
  std::vector<uint32_t> ids(count);
  for (uint32_t id = 0; id < count; ++id) ids[id] = id;
  for (size_t i = count - 1; i > 0; --i) std::swap(ids[i], ids[rng.below(i + 1)]);
  return ids;
}

// Schedules timers 0..live-1 with random deadlines, laid out as `layout` says.
template <class Queue>
void fill(Queue& queue, size_t live, Spread spread, Layout layout, Rng& rng) {
  std::vector<uint64_t> deadlines(live);
  for (uint64_t& deadline : deadlines) deadline = random_deadline(rng, spread, kStartMs);
  if (layout == Layout::kSorted) {
    std::sort(deadlines.begin(), deadlines.end());
    for (uint32_t id = 0; id < live; ++id) queue.schedule(id, deadlines[id]);
    return;
  }
  const std::vector<uint32_t> order = shuffled_ids(live, rng);
  for (size_t i = 0; i < live; ++i) queue.schedule(order[i], deadlines[i]);
}

// `live` timers in the random layout, and an independent random order of victims.
template <class Queue>
struct Population {
  Population(size_t live, Spread spread) : queue(live), rng{kSeed} {
    fill(queue, live, spread, Layout::kRandom, rng);
    victims = shuffled_ids(live, rng);
  }
  Queue queue;
  std::vector<uint32_t> victims;
  size_t cursor = 0;
  Rng rng;
};

// One population at a time (10M timers in a multimap is ~0.6 GB): built on first use, kept
// while consecutive benchmarks ask for the same one.
std::string g_population_key;
std::function<void()> g_release_population = [] {};

void release_population() {
  g_release_population();
  g_release_population = [] {};
  g_population_key.clear();
}

template <class Queue>
Population<Queue>& population(size_t live, Spread spread) {
  static std::unique_ptr<Population<Queue>> cached;
  const std::string key = std::string(Queue::kName) + "/" + std::to_string(live) + "/" +
                          std::to_string(static_cast<int>(spread));
  if (key != g_population_key) {
    release_population();
    cached = std::make_unique<Population<Queue>>(live, spread);
    g_population_key = key;
    g_release_population = [] { cached.reset(); };
  }
  return *cached;
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// CPU time of this thread: a drain's figure then excludes time the machine (shared, 2 cores)
// gave to other processes. A read costs ~0.6 us, so it is used only around whole drains.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> values) {
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

template <class Queue>
void bench_steady(benchmark::State& state, size_t live, Spread spread, Part part) {
  Population<Queue>& pop = population<Queue>(live, spread);
  uint32_t batch[kBatch];
  uint64_t deadlines[kBatch];
  double timed_seconds = 0;
  std::vector<double> batch_seconds;
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) {
      batch[i] = pop.victims[pop.cursor];
      pop.cursor = pop.cursor + 1 == live ? 0 : pop.cursor + 1;
      deadlines[i] = random_deadline(pop.rng, spread, kStartMs);
    }
    const Clock::time_point start = Clock::now();
    for (size_t i = 0; i < kBatch; ++i) pop.queue.cancel(batch[i]);
    const Clock::time_point cancelled = Clock::now();
    for (size_t i = 0; i < kBatch; ++i) pop.queue.schedule(batch[i], deadlines[i]);
    const Clock::time_point scheduled = Clock::now();
    benchmark::ClobberMemory();
    const double seconds = part == Part::kCancel     ? seconds_between(start, cancelled)
                           : part == Part::kSchedule ? seconds_between(cancelled, scheduled)
                                                     : seconds_between(start, scheduled);
    state.SetIterationTime(seconds);
    timed_seconds += seconds;
    batch_seconds.push_back(seconds);
  }
  const double ops = static_cast<double>(state.iterations()) * kBatch;
  state.SetItemsProcessed(static_cast<int64_t>(ops));
  // The median batch is robust to a batch that was preempted; the mean is not.
  state.counters["ns_per_op"] = median(std::move(batch_seconds)) * 1e9 / kBatch;
  state.counters["mean_ns_per_op"] = timed_seconds * 1e9 / ops;
  if (std::is_same_v<Queue, WheelQueue>) state.counters["node_bytes"] = sizeof(TimerNode);
}

template <class Queue>
void bench_expire(benchmark::State& state, size_t live, Spread spread, Layout layout) {
  release_population();
  double timed_seconds = 0;
  double cpu_seconds = 0;
  double max_call_seconds = 0;
  size_t total_expired = 0;
  for (auto _ : state) {
    auto queue = std::make_unique<Queue>(live);
    Rng rng{kSeed};
    fill(*queue, live, spread, layout, rng);
    size_t expired = 0;
    uint64_t work = 0;
    const double cpu_start = thread_cpu_seconds();
    const Clock::time_point start = Clock::now();
    Clock::time_point call_start = start;
    while (const std::optional<uint64_t> next = queue->next_deadline()) {
      work += queue->expire_until(*next, &expired);
      const Clock::time_point call_end = Clock::now();
      max_call_seconds = std::max(max_call_seconds, seconds_between(call_start, call_end));
      call_start = call_end;
    }
    const Clock::time_point end = Clock::now();
    cpu_seconds += thread_cpu_seconds() - cpu_start;
    benchmark::DoNotOptimize(work);
    if (expired != live) state.SkipWithError("not every timer expired");
    state.SetIterationTime(seconds_between(start, end));
    timed_seconds += seconds_between(start, end);
    total_expired += expired;
  }
  state.SetItemsProcessed(static_cast<int64_t>(total_expired));
  state.counters["ns_per_op"] = cpu_seconds * 1e9 / static_cast<double>(total_expired);
  state.counters["wall_ns_per_op"] = timed_seconds * 1e9 / static_cast<double>(total_expired);
  state.counters["max_call_ms"] = max_call_seconds * 1e3;  // wall clock
}

std::string size_name(size_t live) { return live == 1'000'000 ? "1M" : "10M"; }

template <class Queue>
void register_queue() {
  const size_t sizes[] = {1'000'000, 10'000'000};
  const std::pair<const char*, Spread> spreads[] = {{"order20min", Spread::kOrder},
                                                    {"day", Spread::kDay}};
  const std::pair<const char*, Part> parts[] = {
      {"schedule", Part::kSchedule}, {"cancel", Part::kCancel}, {"pair", Part::kPair}};
  const std::pair<const char*, Layout> layouts[] = {{"random", Layout::kRandom},
                                                    {"sorted", Layout::kSorted}};
  for (const size_t live : sizes) {
    for (const auto& [spread_name, spread] : spreads) {
      for (const auto& [part_name, part] : parts) {
        const std::string name =
            std::string(part_name) + "/" + Queue::kName + "/" + spread_name + "/" + size_name(live);
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
          bench_steady<Queue>(state, live, spread, part);
        })->UseManualTime();
      }
    }
  }
  for (const size_t live : sizes) {
    for (const auto& [spread_name, spread] : spreads) {
      for (const auto& [layout_name, layout] : layouts) {
        const std::string name = std::string("expire/") + Queue::kName + "/" + spread_name + "/" +
                                 size_name(live) + "/" + layout_name;
        benchmark::RegisterBenchmark(
            name.c_str(),
            [=](benchmark::State& state) { bench_expire<Queue>(state, live, spread, layout); })
            ->UseManualTime()
            ->Iterations(live == 1'000'000 ? 3 : 1);
      }
    }
  }
}

const bool kRegistered = [] {
  register_queue<WheelQueue>();
  register_queue<HeapQueue>();
  register_queue<MultimapQueue>();
  return true;
}();

}  // namespace
