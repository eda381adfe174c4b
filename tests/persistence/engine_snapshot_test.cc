// Engine snapshots (core/engine_snapshot.cc): a seeded random workload over every operation
// is snapshotted at many points; the loaded engine must have the same digest, pass the
// invariants, write the same bytes again, and answer the following commands exactly as the
// original does. Damaged bodies (every truncation, random bit flips and byte overwrites)
// must give a clean error or a consistent engine, never a crash (run under ASan in CI).
#include <gtest/gtest.h>

#include <array>
#include <cinttypes>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "core/byte_io.h"
#include "core/engine.h"

namespace smsx {
namespace {

// splitmix64: the same seed gives the same workload on every machine.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  bool percent(uint64_t p) { return below(100) < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  uint64_t state_;
};

constexpr uint64_t kT0 = 1'764'000'000'000;

// A command that owns its strings (Command only views them).
struct Cmd {
  Op op = Op::kStats;
  uint64_t now_ms = 0;
  std::string gateway = "web", request_id;
  uint64_t account = 0, target = 0;
  Amount amount = 0, payout = 0;
  std::optional<Amount> max_price;
  PayMethod method = PayMethod::kNone;
  bool approve = false;
  std::string ref, address, service, country, pool, operator_name, number, text, sender;
  uint32_t max_expired = 0;

  Command command() const {
    Command c;
    c.op = op;
    c.now_ms = now_ms;
    if (!request_id.empty()) c.key = make_request_key(gateway, request_id);
    c.actor = gateway;
    c.account = account, c.target = target, c.amount = amount, c.payout = payout;
    c.max_price = max_price, c.method = method, c.approve = approve;
    c.ref = ref, c.address = address, c.service = service, c.country = country;
    c.pool = pool, c.operator_name = operator_name, c.number = number, c.text = text;
    c.sender = sender, c.max_expired = max_expired;
    return c;
  }
};

// Every operation, aimed at things that exist (ids from earlier replies), with refusals,
// idempotent retries and time jumps past order lifetimes and retention.
class Workload {
 public:
  explicit Workload(uint64_t seed) : rng_(seed) {}

  static EngineConfig config() {
    EngineConfig c;
    c.ttl_ms = 60'000;
    c.retention_ms = 120'000;
    c.refund_window_ms = 600'000;
    c.expiries_per_tick_max = 3;
    return c;
  }

  Cmd next() {
    if (!recent_.empty() && rng_.percent(3)) {  // an idempotent retry (or a reused id)
      Cmd c = rng_.pick(recent_);
      c.now_ms = advance();
      return c;
    }
    Cmd c = make();
    c.now_ms = advance();
    if (c.op != Op::kTick && is_mutating(c.op)) {
      c.request_id = "r" + std::to_string(++requests_);
      if (recent_.size() < 64)
        recent_.push_back(c);
      else
        recent_[rng_.below(recent_.size())] = c;
    }
    return c;
  }

  // Learns the ids the engine handed out.
  void observe(const Cmd& c, const Reply& r) {
    if (r.error != Error::kNone || r.replayed) return;
    if (r.changed) ++changes_[static_cast<size_t>(c.op)];
    if (c.op == Op::kOrderPlace) orders_.push_back(r.id);
    if (c.op == Op::kDeposit) deposits_.push_back(r.id);
    if (c.op == Op::kDepositRefund) refunds_.push_back(r.id);
    if (c.op == Op::kSmsDeliver && r.has_order) received_.push_back(r.id);
    if (received_.size() > 50) received_.erase(received_.begin(), received_.begin() + 25);
    if (orders_.size() > 200) orders_.erase(orders_.begin(), orders_.begin() + 100);
  }

  // Commands that changed state, by op.
  std::string changes() const {
    std::string s;
    for (size_t op = 1; op < changes_.size(); ++op) {
      if (changes_[op] != 0) s += " " + std::to_string(op) + ":" + std::to_string(changes_[op]);
    }
    return s;
  }

 private:
  uint64_t advance() {
    now_ += rng_.below(100) < 5 ? rng_.below(90'000) : rng_.below(3'000);
    return now_;
  }
  uint64_t order() { return orders_.empty() ? 1 : rng_.pick(orders_); }
  uint64_t received_order() {
    return received_.empty() || rng_.percent(30) ? order() : rng_.pick(received_);
  }
  std::string phone() { return "1555000" + std::to_string(1000 + rng_.below(40)); }

  Cmd make() {
    static const std::vector<std::string> services = {"wa", "tg", "gg"}, countries = {"us", "uk"},
                                          pools = {"p1", "p2"}, operators = {"op1", "op2"},
                                          suppliers = {"sup-a", "sup-b"};
    Cmd c;
    switch (rng_.below(17)) {
      case 0:
        c.op = Op::kDeposit;
        c.account = 1 + rng_.below(6);
        c.amount = static_cast<Amount>(1 + rng_.below(2000));
        c.method = rng_.percent(50) ? PayMethod::kCard : PayMethod::kCrypto;
        c.ref = "ref-" + std::to_string(rng_.below(1'000'000));
        if (c.method == PayMethod::kCrypto) c.address = "addr-" + std::to_string(c.account);
        break;
      case 1:
      case 2:
      case 3:
        c.op = Op::kOrderPlace;
        c.account = 1 + rng_.below(7);
        c.service = rng_.pick(services);
        c.country = rng_.pick(countries);
        if (rng_.percent(15)) c.pool = rng_.pick(pools);
        if (rng_.percent(10)) c.operator_name = rng_.pick(operators);
        if (rng_.percent(10)) c.max_price = static_cast<Amount>(rng_.below(150));
        break;
      case 4:
      case 5:
        c.op = Op::kSmsDeliver;
        c.gateway = rng_.pick(suppliers);
        c.number = phone();
        c.text = rng_.percent(80) ? "your code is " + std::to_string(1000 + rng_.below(900000))
                                  : "hello";
        c.sender = "Svc";
        break;
      case 6:
        c.op = rng_.percent(60) ? Op::kOrderFinish : Op::kOrderRetry;
        c.target = received_order();
        break;
      case 7:
        c.op = Op::kOrderCancel;
        c.target = order();
        break;
      case 8:
        c.op = Op::kOrderDispute;
        c.target = received_order();
        c.text = "rejected " + std::to_string(rng_.below(10));
        break;
      case 9:
        c.op = Op::kDisputeResolve;
        c.target = order();
        c.approve = rng_.percent(50);
        break;
      case 10:
        c.op = Op::kDepositRefund;
        c.target = deposits_.empty() ? 1 : rng_.pick(deposits_);
        if (rng_.percent(20)) c.address = "elsewhere";
        break;
      case 11:
        c.op = Op::kPayoutConfirm;
        c.target = refunds_.empty() ? 1 : rng_.pick(refunds_);
        c.ref = "tx" + std::to_string(rng_.below(100));
        break;
      case 12:
        c.op = Op::kNumberAdd;
        c.gateway = rng_.pick(suppliers);
        c.number = phone();
        c.country = rng_.pick(countries);
        c.pool = rng_.pick(pools);
        c.operator_name = rng_.pick(operators);
        break;
      case 13:
        c.op = Op::kNumberRemove;
        c.gateway = rng_.pick(suppliers);
        c.number = phone();
        break;
      case 14:
        c.op = Op::kPriceSet;
        c.gateway = "admin";
        c.service = rng_.pick(services);
        c.country = rng_.pick(countries);
        c.pool = rng_.pick(pools);
        c.amount = static_cast<Amount>(10 + rng_.below(100));
        c.payout = c.amount / 2;
        break;
      case 15: {  // reads: their replies are built from the loaded state too
        static const std::vector<Op> reads = {Op::kBalance,        Op::kOrdersActive, Op::kOrderGet,
                                              Op::kPayoutsPending, Op::kStock,        Op::kStats};
        c.op = rng_.pick(reads);
        c.account = 1 + rng_.below(7);
        c.target = order();
        if (c.op == Op::kStock && rng_.percent(50)) c.service = rng_.pick(services);
        break;
      }
      default:
        c.op = Op::kTick;
        c.max_expired = rng_.percent(50) ? 0 : static_cast<uint32_t>(1 + rng_.below(4));
        break;
    }
    return c;
  }

  Rng rng_;
  std::array<uint64_t, static_cast<size_t>(Op::kCount)> changes_{};
  uint64_t now_ = kT0;
  uint64_t requests_ = 0;
  std::vector<Cmd> recent_;
  std::vector<uint64_t> orders_, deposits_, refunds_, received_;
};

std::string describe(const OrderView& v) {
  std::string s = std::to_string(v.order) + "/" + std::to_string(v.account) + "/" +
                  std::string(order_state_name(v.state)) + "/" + v.number + "/" + v.service + "/" +
                  v.country + "/" + v.pool + "/" + std::to_string(v.price) + "/" +
                  std::to_string(v.created_at_ms) + "/" + std::to_string(v.expires_at_ms);
  for (const Sms& m : v.sms)
    s += "[" + std::to_string(m.at_ms) + m.sender + m.text + m.code.value_or("-") + "]";
  return s;
}

// Every field of a reply and its events, for exact comparison.
std::string describe(const Reply& r, const std::vector<Event>& events) {
  std::string s = std::string(error_name(r.error)) + " c" + std::to_string(r.changed) + " r" +
                  std::to_string(r.replayed) + " o" + std::to_string(r.has_order) + " m" +
                  std::to_string(r.more_due) + " " + std::string(order_state_name(r.state)) +
                  " id" + std::to_string(r.id) + " a" + std::to_string(r.available) + " h" +
                  std::to_string(r.held) + " n" + std::to_string(r.amount) + " x" +
                  std::to_string(r.expires_at_ms) + " s" + std::to_string(r.seconds_left) + " '" +
                  r.text + "' " + r.code.value_or("-") + " [";
  for (uint64_t id : r.expired) s += std::to_string(id) + ",";
  s += "]";
  if (r.data) {
    s += " order " + describe(r.data->order);
    for (const OrderView& v : r.data->orders) s += " " + describe(v);
    for (const PayoutView& p : r.data->payouts) {
      s += " payout " + std::to_string(p.refund) + "/" + std::to_string(p.amount) + "/" +
           p.destination;
    }
    for (const StockRow& row : r.data->stock) {
      s += " stock " + row.service + row.country + row.pool + std::to_string(row.price) + "/" +
           std::to_string(row.free);
    }
    s += " stats " + std::to_string(r.data->stats.active_orders) + "/" +
         std::to_string(r.data->stats.closed_orders_kept) + "/" +
         std::to_string(r.data->stats.remembered_requests);
  }
  for (const Event& e : events) {
    s += " event " + std::string(event_name(e.kind)) + std::to_string(e.order) + "/" +
         std::to_string(e.account) + "/" + std::to_string(e.at_ms) + "/" +
         std::to_string(e.amount) + "/" + std::to_string(e.auto_finish) + e.code.value_or("-") +
         e.text + "/" + std::to_string(e.refund) + e.destination;
  }
  return s;
}

std::vector<uint8_t> save(const Engine& engine) {
  VectorSink sink;
  EXPECT_TRUE(engine.save(sink));
  return std::move(sink.bytes());
}

std::unique_ptr<Engine> load(const std::vector<uint8_t>& body, const EngineConfig& config) {
  std::string error;
  std::unique_ptr<Engine> engine = Engine::load(body, config, &error);
  EXPECT_NE(engine, nullptr) << error;
  return engine;
}

// Applies `c` to both engines; the replies and events must be identical.
void apply_both(Engine& a, Engine& b, const Cmd& c, Workload* workload, const std::string& where) {
  std::vector<Event> ea, eb;
  const Command command = c.command();
  const Reply ra = a.apply(command, &ea);
  const Reply rb = b.apply(command, &eb);
  ASSERT_EQ(describe(ra, ea), describe(rb, eb)) << where;
  if (workload != nullptr) workload->observe(c, ra);
}

// Runs a workload and checks a snapshot round trip every `every` steps: same digest, the
// invariants hold, the same bytes are written again, and the next `follow` commands give
// the same replies on both engines.
void round_trips(uint64_t seed, int steps, int every, int follow) {
  const EngineConfig config = Workload::config();
  Workload workload(seed);
  Engine engine(config);
  int checked = 0;
  for (int step = 0; step < steps; ++step) {
    const std::string where = "seed " + std::to_string(seed) + " step " + std::to_string(step);
    if (step % every != 0) {
      const Cmd c = workload.next();
      workload.observe(c, engine.apply(c.command(), nullptr));
      continue;
    }
    const std::vector<uint8_t> body = save(engine);
    std::unique_ptr<Engine> loaded = load(body, config);
    ASSERT_NE(loaded, nullptr) << where;
    ASSERT_EQ(loaded->digest(), engine.digest()) << where;
    loaded->check_invariants();
    ASSERT_EQ(save(*loaded), body) << where << ": a loaded engine saves other bytes";
    for (int k = 0; k < follow; ++k) {
      apply_both(engine, *loaded, workload.next(), &workload, where + " + " + std::to_string(k));
      if (::testing::Test::HasFatalFailure()) return;
    }
    ASSERT_EQ(loaded->digest(), engine.digest()) << where;
    loaded->check_invariants();
    step += follow;
    ++checked;
  }
  EXPECT_GT(checked, 0);
  // The workload reaches every kind of state.
  const EngineStats stats = engine.stats();
  EXPECT_GT(stats.orders_placed, 100u);
  EXPECT_GT(stats.orders_expired, 10u);
  EXPECT_GT(stats.orders_finished, 10u);
  EXPECT_GT(stats.orders_cancelled, 10u);
  EXPECT_GT(stats.sms_delivered, 10u);
  EXPECT_GT(stats.deposits, 10u);
  std::printf("seed %" PRIu64 ": %d round trips; placed %" PRIu64 " expired %" PRIu64
              " finished %" PRIu64 " cancelled %" PRIu64 " sms %" PRIu64 " deposits %" PRIu64
              " payouts pending %" PRIu64 " active %" PRIu64 " kept %" PRIu64 "\n",
              seed, checked, stats.orders_placed, stats.orders_expired, stats.orders_finished,
              stats.orders_cancelled, stats.sms_delivered, stats.deposits, stats.payouts_pending,
              stats.active_orders, stats.closed_orders_kept);
  std::printf("  changes by op:%s\n", workload.changes().c_str());
}

TEST(EngineSnapshotTest, EmptyEngineRoundTrips) {
  Engine engine;
  std::unique_ptr<Engine> loaded = load(save(engine), EngineConfig{});
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(loaded->digest(), engine.digest());
  loaded->check_invariants();
}

TEST(EngineSnapshotTest, RoundTripsAtManyPointsOfARandomWorkload) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    round_trips(seed, 3000, 97, 40);
    if (HasFatalFailure()) return;
  }
}

TEST(EngineSnapshotTest, SavingIsCanonical) {
  Workload workload(11);
  Engine engine(Workload::config());
  for (int i = 0; i < 2000; ++i) {
    const Cmd c = workload.next();
    workload.observe(c, engine.apply(c.command(), nullptr));
  }
  EXPECT_EQ(save(engine), save(engine));
}

// Format 1 (before placements' request keys moved into their orders) is still read: a body
// written by that version after 600 steps of Workload(11) (tests/persistence/data) loads as
// the state the same steps give now, and answers retries of its remembered ids alike.
TEST(EngineSnapshotTest, FormatOneBodyLoadsAsTheSameState) {
  std::ifstream in(SMSX_SOURCE_DIR "/tests/persistence/data/engine_snapshot_format1.bin",
                   std::ios::binary);
  ASSERT_TRUE(in.good());
  const std::vector<uint8_t> body{std::istreambuf_iterator<char>(in),
                                  std::istreambuf_iterator<char>()};
  ASSERT_GT(body.size(), 1000u);
  ASSERT_EQ(body[4], 1);  // the format version after the magic
  Workload workload(11);
  const EngineConfig config = Workload::config();
  Engine engine(config);
  std::vector<Cmd> keyed;
  for (int i = 0; i < 600; ++i) {
    const Cmd c = workload.next();
    if (!c.request_id.empty()) keyed.push_back(c);
    workload.observe(c, engine.apply(c.command(), nullptr));
  }
  std::unique_ptr<Engine> loaded = load(body, config);
  ASSERT_NE(loaded, nullptr);
  loaded->check_invariants();
  EXPECT_EQ(loaded->digest(), engine.digest());
  EXPECT_EQ(save(*loaded), save(engine));
  EXPECT_EQ(loaded->stats().remembered_requests, engine.stats().remembered_requests);
  EXPECT_GT(engine.stats().remembered_requests, 50u);
  for (const Cmd& c : keyed) apply_both(engine, *loaded, c, nullptr, "retry");
  EXPECT_EQ(loaded->digest(), engine.digest());
}

// A far-future tick on both engines: every active order expires or finishes automatically,
// in the same order, and retention evicts the same.
TEST(EngineSnapshotTest, LoadedTimersExpireTheSameOrders) {
  Workload workload(5);
  const EngineConfig config = Workload::config();
  Engine engine(config);
  for (int i = 0; i < 1500; ++i) {
    const Cmd c = workload.next();
    workload.observe(c, engine.apply(c.command(), nullptr));
  }
  ASSERT_GT(engine.stats().active_orders, 0u);
  std::unique_ptr<Engine> loaded = load(save(engine), config);
  ASSERT_NE(loaded, nullptr);
  Cmd tick;
  tick.op = Op::kTick;
  tick.now_ms = engine.now_ms() + config.ttl_ms + config.retention_ms + 1;
  tick.max_expired = 1'000'000;
  apply_both(engine, *loaded, tick, nullptr, "far tick");
  EXPECT_EQ(engine.stats().active_orders, 0u);
  EXPECT_EQ(loaded->digest(), engine.digest());
}

// Orders kept far apart in id order (a disputed order awaits an admin while thousands of
// later orders come and go) load without the chunks in between.
TEST(EngineSnapshotTest, SparseOrderIdsRoundTrip) {
  EngineConfig config;
  config.ttl_ms = 60'000;
  config.retention_ms = 1'000;
  config.expiries_per_tick_max = 100'000;
  Engine engine(config);
  uint64_t now = kT0;
  auto apply = [&](Cmd c) {
    c.now_ms = now;
    return engine.apply(c.command(), nullptr);
  };
  Cmd price{.op = Op::kPriceSet, .service = "wa", .country = "us", .pool = "p1"};
  price.amount = 10;
  price.request_id = "price";
  ASSERT_TRUE(apply(price).changed);
  Cmd add{.op = Op::kNumberAdd, .gateway = "sup", .request_id = "add"};
  add.number = "15550001000", add.country = "us", add.pool = "p1", add.operator_name = "op";
  ASSERT_TRUE(apply(add).changed);
  Cmd deposit{.op = Op::kDeposit, .request_id = "dep", .account = 1, .amount = 1'000'000};
  deposit.method = PayMethod::kCard, deposit.ref = "r1";
  ASSERT_TRUE(apply(deposit).changed);
  Cmd place{.op = Op::kOrderPlace, .account = 1};
  place.service = "wa", place.country = "us";
  const uint64_t first = apply(place).id;
  Cmd sms{.op = Op::kSmsDeliver, .gateway = "sup"};
  sms.number = "15550001000", sms.text = "code 1234";
  ASSERT_TRUE(apply(sms).has_order);
  Cmd dispute{.op = Op::kOrderDispute, .target = first};
  ASSERT_TRUE(apply(dispute).changed);
  // The number is now used for wa: price another service and cycle orders on it.
  price.service = "tg";
  price.request_id = "price-tg";
  ASSERT_TRUE(apply(price).changed);
  place.service = "tg";
  for (int i = 0; i < 10'000; ++i) {
    const Reply placed = apply(place);
    ASSERT_EQ(placed.error, Error::kNone);
    Cmd cancel{.op = Op::kOrderCancel, .target = placed.id};
    ASSERT_TRUE(apply(cancel).changed);
    if (i % 1000 == 0) {
      now += 2'000;
      ASSERT_TRUE(apply(Cmd{.op = Op::kTick}).changed);
    }
  }
  now += 2'000;
  apply(Cmd{.op = Op::kTick});
  ASSERT_LE(engine.stats().closed_orders_kept, 1002u);
  std::unique_ptr<Engine> loaded = load(save(engine), config);
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(loaded->digest(), engine.digest());
  loaded->check_invariants();
}

// A mid-size state for the damage tests.
std::vector<uint8_t> sample_body(int steps) {
  Workload workload(3);
  Engine engine(Workload::config());
  for (int i = 0; i < steps; ++i) {
    const Cmd c = workload.next();
    workload.observe(c, engine.apply(c.command(), nullptr));
  }
  return save(engine);
}

// A damaged body either fails to load with a message, or (a flip that makes another valid
// state, e.g. in a counter) loads into an engine that is consistent and keeps working.
void load_damaged(const std::vector<uint8_t>& body, const std::string& what, int* loaded_count) {
  std::string error;
  std::unique_ptr<Engine> engine = Engine::load(body, Workload::config(), &error);
  if (engine == nullptr) {
    EXPECT_FALSE(error.empty()) << what;
    return;
  }
  ++*loaded_count;
  engine->check_invariants();
  Command tick;
  tick.op = Op::kTick;
  tick.now_ms = engine->now_ms() + 10'000'000;
  tick.max_expired = 1'000'000;
  engine->apply(tick, nullptr);
  engine->check_invariants();
}

// An engine with `orders` active orders whose request ids are remembered: past 256 KiB of
// request ids, loading reads them on a second thread.
std::unique_ptr<Engine> many_remembered_orders(uint64_t orders) {
  auto engine = std::make_unique<Engine>(Workload::config());
  uint64_t now = kT0;
  auto must = [&](Cmd c) {
    c.now_ms = now;
    ASSERT_TRUE(engine->apply(c.command(), nullptr).changed);
  };
  Cmd price{.op = Op::kPriceSet, .request_id = "price", .amount = 10};
  price.service = "wa", price.country = "us", price.pool = "p1";
  must(price);
  for (uint64_t i = 0; i < orders; ++i) {
    Cmd add{.op = Op::kNumberAdd, .gateway = "sup", .request_id = "add-" + std::to_string(i)};
    add.number = std::to_string(10'000'000'000 + i), add.country = "us", add.pool = "p1";
    add.operator_name = "op";
    must(add);
  }
  for (uint64_t a = 1; a <= 10; ++a) {
    Cmd deposit{.op = Op::kDeposit, .request_id = "dep-" + std::to_string(a), .account = a};
    deposit.amount = 1'000'000, deposit.method = PayMethod::kCard, deposit.ref = std::to_string(a);
    must(deposit);
  }
  for (uint64_t i = 0; i < orders; ++i) {
    now = kT0 + i;
    Cmd place{
        .op = Op::kOrderPlace, .request_id = "place-" + std::to_string(i), .account = 1 + i % 10};
    place.service = "wa", place.country = "us";
    must(place);
  }
  return engine;
}

TEST(EngineSnapshotTest, LargeStateLoadsRequestIdsOnASecondThread) {
  std::unique_ptr<Engine> engine = many_remembered_orders(10'000);
  ASSERT_FALSE(HasFatalFailure());
  const std::vector<uint8_t> body = save(*engine);
  std::unique_ptr<Engine> loaded = load(body, Workload::config());
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(loaded->digest(), engine->digest());
  loaded->check_invariants();
  EXPECT_EQ(save(*loaded), body);
  // Retried places are answered from the loaded memory, and new ones continue the ids.
  Cmd again{
      .op = Op::kOrderPlace, .now_ms = engine->now_ms(), .request_id = "place-1234", .account = 5};
  again.service = "wa", again.country = "us";
  apply_both(*engine, *loaded, again, nullptr, "retry");
  // Damage on either side of the split: an error from the thread that found it, or a
  // consistent engine.
  Rng rng(9);
  int loaded_count = 0;
  for (int i = 0; i < 300; ++i) {
    std::vector<uint8_t> damaged = body;
    const size_t at = rng.below(damaged.size());
    damaged[at] ^= static_cast<uint8_t>(1u << rng.below(8));
    if (rng.percent(20)) damaged.resize(at);
    load_damaged(damaged, "damage at " + std::to_string(at), &loaded_count);
    if (HasFailure()) return;
  }
}

TEST(EngineSnapshotTest, EveryTruncationIsAnError) {
  const std::vector<uint8_t> body = sample_body(600);
  ASSERT_GT(body.size(), 1000u);
  for (size_t n = 0; n < body.size(); ++n) {
    std::string error;
    std::vector<uint8_t> cut(body.begin(), body.begin() + static_cast<ptrdiff_t>(n));
    ASSERT_EQ(Engine::load(cut, Workload::config(), &error), nullptr) << "prefix " << n;
    ASSERT_NE(error.find("engine snapshot: "), std::string::npos) << error;
  }
  std::vector<uint8_t> longer = body;
  longer.push_back(0);
  std::string error;
  EXPECT_EQ(Engine::load(longer, Workload::config(), &error), nullptr);
  EXPECT_NE(error.find("engine snapshot: "), std::string::npos) << error;
}

TEST(EngineSnapshotTest, BitFlipsNeverCrash) {
  const std::vector<uint8_t> body = sample_body(1500);
  Rng rng(77);
  int loaded = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> damaged = body;
    const size_t at = rng.below(damaged.size());
    damaged[at] ^= static_cast<uint8_t>(1u << rng.below(8));
    load_damaged(damaged, "bit flip at " + std::to_string(at), &loaded);
    if (HasFailure()) return;
  }
  std::printf("%d of 3000 bit-flipped bodies loaded as other valid states\n", loaded);
}

TEST(EngineSnapshotTest, RandomBytesNeverCrash) {
  const std::vector<uint8_t> body = sample_body(1500);
  Rng rng(78);
  int loaded = 0;
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> damaged = body;
    const size_t writes = 1 + rng.below(4);
    for (size_t k = 0; k < writes; ++k) {
      damaged[rng.below(damaged.size())] = static_cast<uint8_t>(rng.next());
    }
    if (rng.percent(30)) damaged.resize(rng.below(damaged.size()));
    load_damaged(damaged, "random bytes", &loaded);
    if (HasFailure()) return;
  }
}

TEST(EngineSnapshotTest, ErrorsNameWhatAndWhere) {
  std::string error;
  const std::vector<uint8_t> junk = {'N', 'O', 'P', 'E', 1};
  EXPECT_EQ(Engine::load(junk, EngineConfig{}, &error), nullptr);
  EXPECT_EQ(error, "engine snapshot: not an engine snapshot at byte 4 of 5");
  std::vector<uint8_t> body = save(Engine());
  body[4] = 9;  // the format version
  EXPECT_EQ(Engine::load(body, EngineConfig{}, &error), nullptr);
  EXPECT_NE(error.find("unsupported engine snapshot version"), std::string::npos) << error;
}

// The sink's failure stops save() at once.
TEST(EngineSnapshotTest, SaveStopsWhenTheSinkFails) {
  class FailingSink final : public ByteSink {
   public:
    bool write(std::span<const uint8_t>) override {
      ++calls;
      return false;
    }
    int calls = 0;
  } sink;
  Engine engine;
  EXPECT_FALSE(engine.save(sink));
  EXPECT_EQ(sink.calls, 1);
}

}  // namespace
}  // namespace smsx
