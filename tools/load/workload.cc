// The workload: which request a worker sends next, what it says, and what its reply must
// say. See load_state.h for the ownership rules that make the balance checks exact.
#include <simdjson.h>

#include <string>
#include <vector>

#include "tools/load/load_state.h"

namespace smsx::load {

namespace {

int64_t get_int(const simdjson::dom::element& doc, const char* key, int64_t missing = -1) {
  int64_t v;
  if (doc[key].get_int64().get(v) != simdjson::SUCCESS) return missing;
  return v;
}

}  // namespace

std::string new_id(Generator* g) { return g->run_id + "-" + std::to_string(++g->next_id); }

// Builds the request for `op` on worker `w`, appends it to its connection, and records
// what the reply must say.
void send_op(Worker* w, Op op, uint64_t intended_ns) {
  Generator* g = w->gen;
  Pending p;
  p.op = op;
  p.intended_ns = intended_ns;
  std::string line;
  auto touch = [&](uint32_t a) {
    p.account = a;
    ++w->accounts[a].inflight;
    ++w->accounts[a].mutations;
  };
  switch (op) {
    case Op::kPlace: {
      uint32_t a = static_cast<uint32_t>(g->rng() % w->accounts.size());
      uint32_t s = static_cast<uint32_t>(g->rng() % g->opt.services);
      touch(a);
      p.order.price = price_of(s);
      p.order.account = a;
      ++w->active;
      line = "{\"id\":\"" + new_id(g) +
             "\",\"op\":\"order.place\",\"account\":" + std::to_string(w->accounts[a].id) +
             ",\"service\":\"s" + std::to_string(s) + "\",\"country\":\"us\"}";
      break;
    }
    case Op::kSms:
      p.order = take_random(&w->waiting, g->rng);
      p.account = p.order.account;
      line = "{\"id\":\"" + new_id(g) + "\",\"op\":\"sms.deliver\",\"number\":\"" + p.order.number +
             "\",\"text\":\"Your code is 482-913\",\"sender\":\"load\"}";
      break;
    case Op::kFinish:
    case Op::kCancel:
      p.order = take_random(op == Op::kFinish ? &w->received : &w->waiting, g->rng);
      touch(p.order.account);
      line = "{\"id\":\"" + new_id(g) + "\",\"op\":\"" +
             (op == Op::kFinish ? "order.finish" : "order.cancel") +
             "\",\"order\":" + std::to_string(p.order.id) + "}";
      break;
    case Op::kDeposit: {
      uint32_t a = static_cast<uint32_t>(g->rng() % w->accounts.size());
      p.exact = w->accounts[a].inflight == 0;
      touch(a);
      p.mutations_at_send = w->accounts[a].mutations;
      std::string id = new_id(g);
      line = "{\"id\":\"" + id +
             "\",\"op\":\"deposit\",\"account\":" + std::to_string(w->accounts[a].id) +
             ",\"amount\":" + std::to_string(kDepositAmount) + ",\"method\":\"card\",\"ref\":\"" +
             id + "\"}";
      break;
    }
    case Op::kBalance: {
      uint32_t a = static_cast<uint32_t>(g->rng() % w->accounts.size());
      const Account& acc = w->accounts[a];
      p.account = a;
      p.exact = acc.inflight == 0;
      p.expect_available = acc.available;
      p.expect_held = acc.held;
      p.mutations_at_send = acc.mutations;
      line = "{\"op\":\"balance\",\"account\":" + std::to_string(acc.id) + "}";
      break;
    }
    case Op::kGet:
      p.order = w->recent[g->rng() % w->recent.size()];
      line = "{\"op\":\"order.get\",\"order\":" + std::to_string(p.order.id) + "}";
      break;
  }
  Conn& c = w->conns[connection_for(op)];
  c.out += line;
  c.out += '\n';
  c.pending.push_back(std::move(p));
  ++g->report.sent;
  ++g->report.sent_by_op[static_cast<size_t>(op)];
  ++g->interval.sent;
}

// Checks an ok reply against what the generator knows; false means CHECK_FAILED.
bool check_ok(Worker* w, Pending& p, const simdjson::dom::element& doc) {
  Generator* g = w->gen;
  Account& acc = w->accounts[p.account];
  switch (p.op) {
    case Op::kPlace: {
      p.order.id = static_cast<uint64_t>(get_int(doc, "order"));
      std::string_view number;
      if (doc["number"].get_string().get(number) != simdjson::SUCCESS) return false;
      p.order.number = std::string(number);
      int64_t price = get_int(doc, "price");
      acc.available -= p.order.price;
      acc.held += p.order.price;
      w->remember_recent(p.order);
      if (g->rng() % 100 >= g->opt.leave_pct) w->waiting.push_back(p.order);
      return price == p.order.price;
    }
    case Op::kSms: {
      int64_t order = get_int(doc, "order", 0);  // null: the order is gone (expired)
      if (order == 0) return true;
      if (static_cast<uint64_t>(order) != p.order.id) return false;
      w->received.push_back(p.order);
      return true;
    }
    case Op::kFinish:
      acc.held -= p.order.price;
      --w->active;
      return get_int(doc, "charged") == p.order.price;
    case Op::kCancel:
      acc.held -= p.order.price;
      acc.available += p.order.price;
      --w->active;
      return get_int(doc, "refunded") == p.order.price;
    case Op::kDeposit: {
      acc.available += kDepositAmount;
      // Exact only when no other change of the account was in flight from its send to
      // its reply: then the server applied it to exactly the state the generator knows.
      bool exact = p.exact && acc.inflight == 0 && acc.mutations == p.mutations_at_send;
      return !exact || get_int(doc, "available") == acc.available;
    }
    case Op::kBalance: {
      int64_t available = get_int(doc, "available"), held = get_int(doc, "held");
      if (available < 0 || held < 0) return false;
      if (p.exact && acc.inflight == 0 && acc.mutations == p.mutations_at_send) {
        return available == p.expect_available && held == p.expect_held;
      }
      return true;
    }
    case Op::kGet:
      return static_cast<uint64_t>(get_int(doc, "order")) == p.order.id &&
             get_int(doc, "price") == p.order.price &&
             static_cast<uint64_t>(get_int(doc, "account")) == w->accounts[p.order.account].id;
  }
  return false;
}

bool is_mutation(Op op) {
  return op == Op::kPlace || op == Op::kFinish || op == Op::kCancel || op == Op::kDeposit;
}

}  // namespace smsx::load
