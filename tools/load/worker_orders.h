// The orders a load generator's worker holds, as it learns of them from the replies, and
// the op it sends for a pick of the mix. Shared by smsx-load (load_state.h) and
// bench/redis's smsx-redis-load (redis_load.h): their Workers derive from WorkerOrders.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tools/load/mix.h"

namespace smsx::load {

constexpr size_t kRecentOrders = 1024;  // per worker, for order.get

struct OrderRec {
  uint64_t id = 0;
  uint32_t account = 0;  // index into the worker's accounts
  std::string number;
  int64_t price = 0;
};

struct WorkerOrders {
  std::vector<OrderRec> waiting, received, recent;  // for an SMS, SMS arrived, placed lately
  size_t recent_next = 0;
  uint64_t active = 0, active_max = 0;  // placed and not yet finished or cancelled; its limit

  // The op actually sent for the mix's pick `op` (resolve_op on what the worker holds).
  // *held_back: see resolve_op.
  Op resolve(Op op, bool* held_back = nullptr) const {
    return resolve_op(op,
                      {.can_place = active < active_max,
                       .has_waiting = !waiting.empty(),
                       .has_received = !received.empty(),
                       .has_recent = !recent.empty()},
                      held_back);
  }

  // Keeps a placed order for order.get: the last kRecentOrders of them.
  void remember_recent(const OrderRec& o) {
    if (recent.size() < kRecentOrders) {
      recent.push_back(o);
    } else {
      recent[recent_next++ % kRecentOrders] = o;
    }
  }

  // A refused request for `op` on `order`: the worker's view of the order is restored
  // where it still holds.
  void undo_refused(Op op, const OrderRec& order) {
    if (op == Op::kPlace) --active;
    if (op == Op::kSms) waiting.push_back(order);
    if (op == Op::kFinish) received.push_back(order);
  }
};

// Takes a random element out of *v (which must not be empty); the others may move.
template <class T>
T take_random(std::vector<T>* v, std::mt19937_64& rng) {
  size_t i = rng() % v->size();
  T out = std::move((*v)[i]);
  (*v)[i] = std::move(v->back());
  v->pop_back();
  return out;
}

// Each worker's WorkerOrders::active_max: half the numbers shared out over the workers,
// at least 1.
inline uint64_t active_orders_max(uint64_t numbers, uint32_t workers) {
  return std::max<uint64_t>(1, numbers / 2 / workers);
}

}  // namespace smsx::load
