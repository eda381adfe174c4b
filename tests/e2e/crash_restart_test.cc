// Crash tests with real processes (issue 4, DESIGN.md invariants 7 and 8): smsxd runs under
// a seeded, pipelined load from five gateway connections and is SIGKILLed after a random
// number of replies, with requests still in flight; then it is restarted on the same data
// folder. After every restart:
//
//  1. its state digest equals that of a replay of the whole WAL from LSN 1, done in this
//     process on a copy of the segments (no snapshot), at the same LSN, and the replayed
//     engine passes check_invariants();
//  2. every request it ever acknowledged, sent again with the same id, gets the very same
//     reply (an idempotent retry returns the first reply: the request is there), and these
//     retries change nothing (same LSN and digest);
//  3. the requests that were in flight at the kill are sent again, so every request's
//     outcome is known; then every order has the state, price, number and SMS count that
//     the replies imply, every account the balance (deposits - refunds - charges; held =
//     prices of active orders), and payouts.pending lists exactly the unconfirmed refunds.
//
// One test keeps snapshots off, so the server's own recovery is a pure WAL replay; the other
// takes a snapshot every 64 records, so restarts load a snapshot and replay the WAL after it,
// and old segments are pruned. In its odd rounds a snapshot being written (by smsxd's forked
// child) is killed with the server; in even rounds it finishes while the next server starts,
// as after a crash of the server process alone. The replay from
// scratch needs every segment, so after each kill the segments are copied into an archive
// that keeps the ones the server later prunes (a segment never changes once a later one
// exists, except for a torn tail cut by recovery, which the replay cuts in the archive too).
//
// The seed is printed; SMSX_SEED=<n> repeats the same random choices (which op, which
// account, how many replies before each kill), though not exactly the same requests: what
// the load picks from depends on the replies so far, whose interleaving across connections
// depends on scheduling.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <regex>

#include "core/engine.h"
#include "persistence/posix_env.h"
#include "persistence/recovery.h"
#include "tests/e2e/crash_load_util.h"
#include "tests/e2e/smsxd_util.h"

namespace smsx::e2e {
namespace {

namespace fs = std::filesystem;
using crash::Model;
using crash::Op;
using crash::Role;

constexpr int kKillsPerTest = 15;  // two tests: 30 kills per run
constexpr uint64_t kRepliesBeforeKillMin = 40;
constexpr uint64_t kRepliesBeforeKillSpan = 1000;
constexpr size_t kMismatchesShownMax = 10;

uint64_t test_seed() {
  if (const char* env = std::getenv("SMSX_SEED"); env != nullptr && *env != '\0') {
    return std::strtoull(env, nullptr, 10);
  }
  return (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
}

struct DigestAt {
  uint64_t lsn = 0;
  std::string digest;
  bool operator==(const DigestAt&) const = default;
};

std::ostream& operator<<(std::ostream& os, const DigestAt& d) {
  return os << "LSN " << d.lsn << " digest " << d.digest;
}

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

DigestAt server_digest(uint16_t port) {
  Client admin(port);
  EXPECT_TRUE(admin.hello(kAdminToken));
  std::string r = admin.call(R"({"id":"digest","op":"digest"})");
  EXPECT_TRUE(is_ok(r)) << r;
  DigestAt d{static_cast<uint64_t>(int_field(r, "lsn")), field(r, "digest").value_or("")};
  EXPECT_EQ(d.digest.size(), 16u) << r;
  return d;
}

// Copies the live WAL segments into `archive` (keeping older ones that were pruned since) and
// replays the archive from LSN 1 in this process.
DigestAt replay_from_scratch(const fs::path& wal_dir, const fs::path& archive,
                             const fs::path& no_snapshots) {
  for (const auto& entry : fs::directory_iterator(wal_dir)) {
    if (!entry.is_regular_file()) continue;
    fs::copy_file(entry.path(), archive / entry.path().filename(),
                  fs::copy_options::overwrite_existing);
  }
  persistence::PosixEnv env;
  std::unique_ptr<Engine> engine;
  persistence::RecoveryInfo info;
  persistence::Status st = persistence::recover(env, archive.string(), no_snapshots.string(),
                                                EngineConfig{}, &engine, &info);
  EXPECT_TRUE(st.ok()) << st.to_string();
  if (!st.ok()) return {};
  EXPECT_EQ(info.snapshot_lsn, 0u);
  EXPECT_EQ(info.records_replayed, info.last_lsn) << "a replay from scratch starts at LSN 1";
  engine->check_invariants();  // aborts with file:line on a violation
  return {info.last_lsn, hex16(engine->digest())};
}

// The snapshot LSN that the server's last start-up recovered from (0: none), from its log.
int64_t recovered_snapshot_lsn(const std::string& log) {
  static const std::regex re("recovered: snapshot LSN ([0-9]+)");
  int64_t lsn = -1;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator();
       ++it) {
    lsn = std::stoll((*it)[1].str());
  }
  return lsn;
}

// Sends `indices` (ops of the model) again, one connection per role, each role's ops in
// their original order, and hands each reply to `on_reply(index, reply)`.
void resend(uint16_t port, Model& model, const std::vector<size_t>& indices,
            const std::function<void(size_t, std::string)>& on_reply) {
  std::map<Role, std::vector<std::pair<uint64_t, std::string>>> by_role;
  for (size_t i : indices) by_role[model.ops()[i].role].emplace_back(i, model.ops()[i].line);
  for (const auto& [role, lines] : by_role) {
    EXPECT_TRUE(crash::send_all(port, role, lines, [&](uint64_t tag, std::string reply) {
      on_reply(static_cast<size_t>(tag), std::move(reply));
    }));
  }
}

// Every acknowledged request that changed state, sent again: the first reply again.
size_t check_acknowledged(uint16_t port, Model& model) {
  std::vector<size_t> acked;
  for (size_t i = 0; i < model.ops().size(); ++i) {
    if (model.ops()[i].accepted) acked.push_back(i);
  }
  size_t mismatches = 0;
  resend(port, model, acked, [&](size_t i, std::string reply) {
    const Op& op = model.ops()[i];
    const std::string_view first = op.reply ? std::string_view(*op.reply) : "(none)";
    if (reply == first) return;
    if (++mismatches <= kMismatchesShownMax) {
      ADD_FAILURE() << "an acknowledged request is not there as it was answered:\n  request: "
                    << op.line << "\n  first reply: " << first
                    << "\n  reply after the restart: " << reply;
    }
  });
  EXPECT_EQ(mismatches, 0u) << "of " << acked.size() << " acknowledged requests";
  return acked.size();
}

// Orders, balances and pending payouts against what the (now complete) replies imply.
void check_state(uint16_t port, Model& model) {
  crash::Reader rd;
  EXPECT_EQ(model.unresolved_sms(), 0u) << "SMS replies named orders that no reply created";
  std::vector<std::pair<uint64_t, std::string>> gets;
  for (const auto& [id, o] : model.orders()) {
    EXPECT_FALSE(o.cancelled && (o.finished || o.sms > 0))
        << "order " << id << " was cancelled, and also finished or sent an SMS";
    gets.emplace_back(id, request("order.get", {{"order", id}}, "get"));
  }
  size_t wrong = 0;
  EXPECT_TRUE(crash::send_all(port, Role::kAdmin, gets, [&](uint64_t id, std::string reply) {
    const crash::OrderInfo& o = model.orders().at(id);
    bool good = rd.parse(reply) && rd.ok() && o.state_matches(rd.str("state")) &&
                rd.i64("price") == o.price && rd.str("number") == o.number &&
                rd.str("service") == o.service &&
                rd.i64("account") == static_cast<int64_t>(o.account) &&
                rd.array_size("sms") == std::min<size_t>(o.sms, 16);
    if (!good && ++wrong <= kMismatchesShownMax) {
      ADD_FAILURE() << "order " << id << ": expected state " << o.implied_state() << ", price "
                    << o.price << ", number " << o.number << ", " << o.sms
                    << " SMS; the server says " << reply;
    }
  }));
  EXPECT_EQ(wrong, 0u) << "of " << model.orders().size() << " orders";

  std::map<uint64_t, int64_t> total, held;
  for (const auto& [id, d] : model.deposits()) total[d.account] += d.refunded ? 0 : d.amount;
  for (const auto& [id, o] : model.orders()) {
    if (o.charged()) total[o.account] -= o.price;
    if (o.active()) held[o.account] += o.price;
  }
  std::vector<std::pair<uint64_t, std::string>> balances;
  for (uint64_t a : model.accounts()) {
    balances.emplace_back(a, request("balance", {{"account", a}}, "bal"));
  }
  EXPECT_TRUE(crash::send_all(port, Role::kAdmin, balances, [&](uint64_t a, std::string reply) {
    ASSERT_TRUE(rd.parse(reply) && rd.ok()) << reply;
    EXPECT_EQ(rd.i64("available"), total[a] - held[a]) << "account " << a << ": " << reply;
    EXPECT_EQ(rd.i64("held"), held[a]) << "account " << a << ": " << reply;
  }));

  std::vector<int64_t> unconfirmed;
  for (const auto& [id, r] : model.refunds()) {
    if (!r.confirmed) unconfirmed.push_back(static_cast<int64_t>(id));
  }
  EXPECT_TRUE(crash::send_all(port, Role::kPayments, {{0, R"({"id":"pp","op":"payouts.pending"})"}},
                              [&](uint64_t, std::string reply) {
                                ASSERT_TRUE(rd.parse(reply) && rd.ok()) << reply;
                                std::vector<int64_t> pending = rd.array_field("payouts", "refund");
                                std::sort(pending.begin(), pending.end());
                                EXPECT_EQ(pending, unconfirmed) << "pending payouts";
                              }));
}

struct Totals {
  int kills = 0;
  size_t acknowledged_checked = 0;  // sum over restarts
  size_t in_flight_at_kills = 0;
  size_t requests = 0;
  int restarts_from_snapshot = 0;
  int snapshots_cut_short = 0;  // snapshot writers killed with the server
};

// "deposit 812/1034" for each kind: requests that changed state / requests sent.
std::string outcome_counts(Model& model) {
  static constexpr const char* kNames[] = {
      "deposit",       "deposit.refund",  "payout.confirm", "number.add",  "price.set",
      "order.place",   "order.cancel",    "order.finish",   "sms.deliver", "order.retry",
      "order.dispute", "dispute.resolve", "number.remove"};
  size_t accepted[std::size(kNames)] = {}, sent[std::size(kNames)] = {};
  for (const Op& op : model.ops()) {
    ++sent[static_cast<size_t>(op.kind)];
    if (op.accepted) ++accepted[static_cast<size_t>(op.kind)];
  }
  std::string out;
  for (size_t k = 0; k < std::size(kNames); ++k) {
    out += std::string(out.empty() ? "" : ", ") + kNames[k] + " " + std::to_string(accepted[k]) +
           "/" + std::to_string(sent[k]);
  }
  return out;
}

// kKillsPerTest rounds of load, SIGKILL, restart and checks on one data folder, then a
// clean stop.
void crash_restart_rounds(const std::string& extra_toml, bool snapshots) {
  const uint64_t seed = test_seed();
  std::fprintf(stderr, "[ crash    ] seed %" PRIu64 " (repeat with SMSX_SEED=%" PRIu64 ")\n", seed,
               seed);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (repeat with SMSX_SEED=" + std::to_string(seed) +
               ")");
  auto t0 = std::chrono::steady_clock::now();

  char tmpl[] = "/tmp/smsx-crash-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const fs::path root = tmpl;
  const fs::path data = root / "data", archive = root / "wal-archive",
                 no_snapshots = root / "no-snapshots";
  fs::create_directories(archive);
  fs::create_directories(no_snapshots);
  struct Cleanup {
    fs::path root;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(root, ec);
    }
  } cleanup{root};

  Model model(seed);
  std::mt19937_64 kill_rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::vector<size_t> unknown;  // ops in flight at the last kill
  DigestAt replayed;            // the replay from scratch after the last kill
  Totals totals;

  for (int round = 0; round <= kKillsPerTest; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    SmsxdProcess server(extra_toml, data.string());
    ASSERT_NO_FATAL_FAILURE(server.start());
    const uint16_t port = server.port();

    if (round == 0) {
      std::vector<size_t> setup = model.setup_ops();
      resend(port, model, setup, [&](size_t i, std::string reply) {
        EXPECT_TRUE(is_ok(reply)) << model.ops()[i].line << " -> " << reply;
        model.record(i, std::move(reply));
      });
    } else {
      int64_t snapshot_lsn = recovered_snapshot_lsn(server.log());
      ASSERT_GE(snapshot_lsn, 0) << server.log();
      if (snapshot_lsn > 0) ++totals.restarts_from_snapshot;
      if (!snapshots) {
        EXPECT_EQ(snapshot_lsn, 0);
      }

      DigestAt first = server_digest(port);
      EXPECT_EQ(first, replayed) << "the restarted server vs. a replay of its WAL from scratch";
      totals.acknowledged_checked += check_acknowledged(port, model);
      EXPECT_EQ(server_digest(port), first) << "retries of acknowledged requests changed state";
      resend(port, model, unknown,
             [&](size_t i, std::string reply) { model.record(i, std::move(reply)); });
      check_state(port, model);
    }
    ASSERT_FALSE(::testing::Test::HasFailure()) << server.log();

    if (round == kKillsPerTest) {
      // A clean stop after all that: its WAL still replays to the state it served.
      DigestAt last = server_digest(port);
      EXPECT_EQ(server.stop_term(), 0) << server.log();
      EXPECT_EQ(replay_from_scratch(data / "wal", archive, no_snapshots), last);
      replayed = last;
      break;
    }

    // The load, and the kill while requests are in flight.
    const uint64_t kill_after = kRepliesBeforeKillMin + kill_rng() % kRepliesBeforeKillSpan;
    size_t before = model.ops().size();
    {
      crash::Pipeline load(port, {{Role::kPayments, 6},
                                  {Role::kSupplier, 8},
                                  {Role::kAdmin, 1},
                                  {Role::kCustomer, 8},
                                  {Role::kCustomer, 8}});
      ASSERT_TRUE(load.ok());
      bool ran = load.run(
          [&](Role role) -> std::optional<std::pair<uint64_t, std::string>> {
            auto i = model.next(role);
            if (!i) return std::nullopt;
            return std::make_pair(uint64_t{*i}, model.ops()[*i].line);
          },
          [&](uint64_t i, std::string reply) { model.record(i, std::move(reply)); }, kill_after);
      // In odd rounds a snapshot being written dies with the server (its .tmp file stays
      // behind), as when the whole process group is killed; in even rounds only the server
      // dies and its forked writer finishes the snapshot while the next server starts.
      std::vector<int> writers = crash::grandchildren();
      server.kill9();
      if (round % 2 == 1) {
        for (int pid : writers) kill(pid, SIGKILL);
        totals.snapshots_cut_short += static_cast<int>(writers.size());
      }
      ASSERT_TRUE(ran) << server.log();
      unknown.clear();
      for (uint64_t i : load.in_flight()) unknown.push_back(static_cast<size_t>(i));
    }
    ++totals.kills;
    totals.requests += model.ops().size() - before;
    totals.in_flight_at_kills += unknown.size();
    if (!snapshots) {
      for (const auto& e : fs::directory_iterator(data / "snapshots")) {
        ADD_FAILURE() << "snapshots are off, yet there is " << e.path();
      }
    }
    replayed = replay_from_scratch(data / "wal", archive, no_snapshots);
    ASSERT_FALSE(::testing::Test::HasFailure());
  }

  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr,
               "[ crash    ] %d kills (%d snapshots cut short), %zu requests sent under load, %zu "
               "in flight at the kills, %zu acknowledged requests re-checked, %d restarts from "
               "a snapshot, last LSN %" PRIu64 ", %.1f s\n[ crash    ] changed state/sent: %s\n",
               totals.kills, totals.snapshots_cut_short, totals.requests, totals.in_flight_at_kills,
               totals.acknowledged_checked, totals.restarts_from_snapshot, replayed.lsn, seconds,
               outcome_counts(model).c_str());
  EXPECT_EQ(totals.kills, kKillsPerTest);
  // The kills must have caught requests in flight, or "unacknowledged" was never tested.
  EXPECT_GT(totals.in_flight_at_kills, 0u);
  if (snapshots) {
    EXPECT_GT(totals.restarts_from_snapshot, 0) << "no restart loaded a snapshot";
  }
}

TEST(CrashRestart, SigkillUnderLoadWithoutSnapshotsLosesNothingAcknowledged) {
  crash_restart_rounds("[snapshot]\nevery_records = 0\nevery_bytes = 0\n", /*snapshots=*/false);
}

TEST(CrashRestart, SigkillUnderLoadWithFrequentSnapshotsLosesNothingAcknowledged) {
  crash_restart_rounds("[snapshot]\nevery_records = 64\n", /*snapshots=*/true);
}

}  // namespace
}  // namespace smsx::e2e
