// The Redis driver's requests: which op a worker sends, its FCALL, and the reply checks.
// Mirrors tools/load/workload.cc (same fallbacks, same prices, same deposit amounts).
#include <hiredis/hiredis.h>

#include <string>
#include <string_view>
#include <vector>

#include "bench/redis/redis_load.h"
#include "tools/load/load_state.h"

namespace smsx::redis_bench {
namespace {

int64_t int_at(const redisReply* r, size_t i) {
  if (r->type != REDIS_REPLY_ARRAY || i >= r->elements) return -1;
  const redisReply* e = r->element[i];
  return e->type == REDIS_REPLY_INTEGER ? e->integer : -1;
}

std::string str_at(const redisReply* r, size_t i) {
  if (r->type != REDIS_REPLY_ARRAY || i >= r->elements) return "";
  const redisReply* e = r->element[i];
  return e->type == REDIS_REPLY_STRING ? std::string(e->str, e->len) : "";
}

}  // namespace

void on_reply(redisAsyncContext* ctx, void* reply, void* privdata);

void send_op(Worker* w, Op op) {
  Driver* d = w->driver;
  Pending p;
  p.op = op;
  std::vector<std::string> argv = {"FCALL"};
  std::string id = "r" + std::to_string(++d->next_id);
  switch (op) {
    case Op::kPlace: {
      p.account = static_cast<uint32_t>(d->rng() % w->accounts.size());
      uint32_t s = static_cast<uint32_t>(d->rng() % d->opt.services);
      p.order.account = p.account;
      p.order.price = load::price_of(s);
      ++w->active;
      argv.insert(argv.end(), {"place", "0", "customer", id, std::to_string(w->accounts[p.account]),
                               "s" + std::to_string(s), "us"});
      break;
    }
    case Op::kSms:
      p.order = load::take_random(&w->waiting, d->rng);
      argv.insert(argv.end(),
                  {"sms", "0", "supplier", id, p.order.number, "Your code is 482-913", "load"});
      break;
    case Op::kFinish:
    case Op::kCancel:
      p.order = load::take_random(op == Op::kFinish ? &w->received : &w->waiting, d->rng);
      argv.insert(argv.end(), {op == Op::kFinish ? "finish" : "cancel", "0", "customer", id,
                               std::to_string(p.order.id)});
      break;
    case Op::kDeposit:
      p.account = static_cast<uint32_t>(d->rng() % w->accounts.size());
      argv.insert(argv.end(),
                  {"deposit", "0", "payments", id, std::to_string(w->accounts[p.account]),
                   std::to_string(load::kDepositAmount), "ref-" + id});
      break;
    case Op::kBalance:
      p.account = static_cast<uint32_t>(d->rng() % w->accounts.size());
      argv.insert(argv.end(), {"balance", "0", std::to_string(w->accounts[p.account])});
      break;
    case Op::kGet:
      p.order = w->recent[d->rng() % w->recent.size()];
      argv.insert(argv.end(), {"get", "0", std::to_string(p.order.id)});
      break;
  }
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  Conn& c = w->conns[connection_for(op)];
  p.sent_ns = uv_hrtime();
  c.pending.push_back(std::move(p));
  redisAsyncCommandArgv(c.ctx, on_reply, &c, static_cast<int>(ptrs.size()), ptrs.data(),
                        lens.data());
  ++d->report.sent;
  ++d->report.sent_by_op[static_cast<size_t>(op)];
  ++d->interval.sent;
}

std::string check_reply(Worker* w, Pending& p, const redisReply* r) {
  Driver* d = w->driver;
  if (r == nullptr) return "DISCONNECTED";
  if (r->type == REDIS_REPLY_ERROR) {
    std::string_view e(r->str, r->len);
    std::string code(e.substr(0, e.find(' ')));
    w->undo_refused(p.op, p.order);
    return code.empty() ? "BAD_REPLY" : code;
  }
  switch (p.op) {
    case Op::kPlace: {
      p.order.id = static_cast<uint64_t>(int_at(r, 0));
      p.order.number = str_at(r, 1);
      w->remember_recent(p.order);
      if (d->rng() % 100 >= d->opt.leave_pct) w->waiting.push_back(p.order);
      return int_at(r, 2) == p.order.price && !p.order.number.empty() ? "" : "CHECK_FAILED";
    }
    case Op::kSms: {
      int64_t order = int_at(r, 0);  // nil: the order is gone
      if (order <= 0) return "";
      if (static_cast<uint64_t>(order) != p.order.id) return "CHECK_FAILED";
      w->received.push_back(p.order);
      return str_at(r, 1) == "482913" ? "" : "CHECK_FAILED";
    }
    case Op::kFinish:
    case Op::kCancel:
      --w->active;
      return int_at(r, 0) == p.order.price ? "" : "CHECK_FAILED";
    case Op::kDeposit:
      return int_at(r, 1) > 0 ? "" : "CHECK_FAILED";
    case Op::kBalance:
      return int_at(r, 0) >= 0 && int_at(r, 1) >= 0 ? "" : "CHECK_FAILED";
    case Op::kGet:
      return static_cast<uint64_t>(int_at(r, 0)) == p.order.id &&
                     static_cast<uint64_t>(int_at(r, 1)) == w->accounts[p.order.account] &&
                     int_at(r, 7) == p.order.price
                 ? ""
                 : "CHECK_FAILED";
  }
  return "CHECK_FAILED";
}

}  // namespace smsx::redis_bench
