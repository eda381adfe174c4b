// Snapshot and recovery benchmarks (issue 4): snapshot write and load times with 1M and 10M
// active orders, recovery from such a snapshot and 1M log records after it, WAL replay throughput
// of place/cancel/sms/finish records, and the WAL bytes of a typical place-order record. Files go
// to a fresh folder under /tmp, removed at exit. Figures and the command line are recorded in
// docs/benchmarks.md, "Snapshots and recovery".
//
// The states are built with the engine directly (no WAL), once per size, and kept between
// benchmarks of that size: 1 active order per number, 100 orders per account, and (second
// argument 1) every order.place remembered under its request id, as within the retention
// period; with 0, no request id is remembered, which shows what the idempotency table costs.
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/byte_io.h"
#include "core/engine.h"
#include "core/heap_pages.h"
#include "persistence/command_codec.h"
#include "persistence/posix_env.h"
#include "persistence/recovery.h"
#include "persistence/wal_reader.h"
#include "persistence/wal_record.h"
#include "persistence/wal_writer.h"

namespace smsx::persistence {
namespace {

constexpr uint64_t kT0 = 1'764'000'000'000;
constexpr uint64_t kOrdersPerAccount = 100;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "recovery_bench: %s\n", what.c_str());
  std::abort();
}

// A fresh folder under /tmp, deleted with everything in it.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/smsx-recovery-bench-XXXXXX";
    if (::mkdtemp(name) == nullptr) die("mkdtemp");
    path_ = name;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string phone(uint64_t i) {
  std::string digits = std::to_string(i);
  return "1" + std::string(11 - digits.size(), '0') + digits;
}

// Applies a command that must succeed.
Reply must(Engine& engine, const Command& c) {
  Reply r = engine.apply(c, nullptr);
  if (r.error != Error::kNone || !r.changed)
    die(std::string("setup: ") + std::string(error_name(r.error)));
  return r;
}

// An engine with `orders` active orders, each on its own number.
std::unique_ptr<Engine> build_state(uint64_t orders, bool remembered) {
  auto engine = std::make_unique<Engine>(EngineConfig{});
  uint64_t now = kT0;
  must(*engine, Command{.op = Op::kPriceSet,
                        .now_ms = now,
                        .key = make_request_key("admin", "p"),
                        .amount = 100,
                        .payout = 60,
                        .service = "wa",
                        .country = "us",
                        .pool = "p1"});
  for (uint64_t i = 0; i < orders; ++i) {
    const std::string number = phone(i);
    must(*engine, Command{.op = Op::kNumberAdd,
                          .now_ms = now,
                          .actor = "sim-bank-1",
                          .country = "us",
                          .pool = "p1",
                          .operator_name = "op1",
                          .number = number});
  }
  const uint64_t accounts = (orders + kOrdersPerAccount - 1) / kOrdersPerAccount;
  for (uint64_t a = 1; a <= accounts; ++a) {
    const std::string ref = "ref-" + std::to_string(a);
    must(*engine, Command{.op = Op::kDeposit,
                          .now_ms = now,
                          .account = a,
                          .amount = 1'000'000,
                          .method = PayMethod::kCard,
                          .ref = ref});
  }
  const std::string gateway = "web-1";
  for (uint64_t i = 0; i < orders; ++i) {
    now = kT0 + i / 10;  // 10 orders per ms: 10M orders in 1000 s, within the 20-minute lifetime
    must(*engine,
         Command{.op = Op::kOrderPlace,
                 .now_ms = now,
                 .key = remembered ? make_request_key(gateway, std::to_string(i)) : RequestKey{},
                 .account = 1 + i % accounts,
                 .service = "wa",
                 .country = "us"});
  }
  if (engine->stats().active_orders != orders) die("setup: not every order is active");
  return engine;
}

// Counts bytes and drops them: serialization cost alone.
class CountingSink final : public ByteSink {
 public:
  bool write(std::span<const uint8_t> bytes) override {
    bytes_ += bytes.size();
    return true;
  }
  uint64_t bytes() const { return bytes_; }

 private:
  uint64_t bytes_ = 0;
};

// One state per size, built on first use; a new size frees the previous one.
struct Fixture {
  uint64_t orders = 0;
  bool remembered = false;
  std::unique_ptr<Engine> engine;
  std::vector<uint8_t> body;     // the engine's snapshot body
  std::unique_ptr<TempDir> dir;  // holds snap-1.snap once written
  uint64_t log_records = 0;      // records of the log after it, once written
};
Fixture fixture;

Engine& engine_with(const benchmark::State& state) {
  const auto orders = static_cast<uint64_t>(state.range(0));
  const bool remembered = state.range(1) != 0;
  if (fixture.orders != orders || fixture.remembered != remembered) {
    fixture = Fixture();
    fixture.orders = orders;
    fixture.remembered = remembered;
  }
  if (!fixture.engine) fixture.engine = build_state(orders, remembered);
  return *fixture.engine;
}

const std::vector<uint8_t>& body_with(const benchmark::State& state) {
  if (fixture.orders != static_cast<uint64_t>(state.range(0)) ||
      fixture.remembered != (state.range(1) != 0) || fixture.body.empty()) {
    VectorSink sink;
    if (!engine_with(state).save(sink)) die("save");
    fixture.body = std::move(sink.bytes());
  }
  return fixture.body;
}

// (Anonymous, AnonHugePages) of this process in KiB, from /proc/self/smaps_rollup.
std::pair<uint64_t, uint64_t> anonymous_memory_kb() {
  std::ifstream in("/proc/self/smaps_rollup");
  std::string name;
  std::getline(in, name);  // the address range line
  uint64_t value = 0, anon = 0, huge = 0;
  while (in >> name >> value) {
    if (name == "Anonymous:") anon = value;
    if (name == "AnonHugePages:") huge = value;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return {anon, huge};
}

void set_counters(benchmark::State& state, uint64_t orders, uint64_t bytes) {
  state.counters["active_orders"] = static_cast<double>(orders);
  state.counters["snapshot_MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["bytes/order"] = static_cast<double>(bytes) / static_cast<double>(orders);
}

// fork() with the state in memory: how long the server's loop stops when it starts a
// snapshot (the child writes it from its copy-on-write view while the parent serves). The
// child exits at once; the time is that of the fork() call in the parent, the longest of
// the iterations is reported as max_ms.
//
// The snapshot bytes that the load benchmarks keep are freed first: a server holds no such
// buffer, and its 683 MB (10M orders) in 4 KiB pages alone made each fork 13-15 ms slower.
// anon_MB and huge_MB say how much of the process's memory fork() had to map, and how much
// of it in 2 MiB pages.
void BM_ForkPause(benchmark::State& state) {
  engine_with(state);
  std::vector<uint8_t>().swap(fixture.body);
  const auto [anon_kb, huge_kb] = anonymous_memory_kb();
  state.counters["anon_MB"] = static_cast<double>(anon_kb) / 1024;
  state.counters["huge_MB"] = static_cast<double>(huge_kb) / 1024;
  double longest_ms = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    const auto stop = std::chrono::steady_clock::now();
    if (pid < 0) die("fork");
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
    longest_ms =
        std::max(longest_ms, std::chrono::duration<double, std::milli>(stop - start).count());
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  state.counters["max_ms"] = longest_ms;
}

// Engine::save into a sink that drops the bytes: the CPU cost of a snapshot.
void BM_SnapshotSerialize(benchmark::State& state) {
  const auto orders = static_cast<uint64_t>(state.range(0));
  const Engine& engine = engine_with(state);
  uint64_t bytes = 0;
  for (auto _ : state) {
    CountingSink sink;
    if (!engine.save(sink)) die("save");
    bytes = sink.bytes();
  }
  set_counters(state, orders, bytes);
}

// take_snapshot on the real disk: serialize, write, fdatasync, read back and verify, rename.
void BM_SnapshotWrite(benchmark::State& state) {
  const auto orders = static_cast<uint64_t>(state.range(0));
  const Engine& engine = engine_with(state);
  if (!fixture.dir) fixture.dir = std::make_unique<TempDir>();
  PosixEnv env;
  SnapshotInfo info;
  for (auto _ : state) {
    const Status status =
        take_snapshot(env, fixture.dir->path(), fixture.dir->path(), engine, 1, false, &info);
    if (!status.ok()) die(status.to_string());
  }
  set_counters(state, orders, info.body_bytes);
}

// Engine::load from a body in memory (destroying each loaded engine is not timed).
void BM_SnapshotLoad(benchmark::State& state) {
  const auto orders = static_cast<uint64_t>(state.range(0));
  const std::vector<uint8_t>& body = body_with(state);
  fixture.engine.reset();  // room for the loaded copies
  for (auto _ : state) {
    std::string error;
    std::unique_ptr<Engine> loaded = Engine::load(body, EngineConfig{}, &error);
    if (loaded == nullptr) die(error);
    state.PauseTiming();
    if (loaded->stats().active_orders != orders) die("load lost orders");
    loaded.reset();
    state.ResumeTiming();
  }
  set_counters(state, orders, body.size());
}

// Times recover() of fixture.dir (the snapshot of BM_SnapshotWrite, and the log after it if
// written) in every iteration; checks that it has `orders` active orders and replayed
// `records` records. Destroying the recovered engine is not timed.
RecoveryInfo time_recovery(benchmark::State& state, uint64_t records) {
  const auto orders = static_cast<uint64_t>(state.range(0));
  PosixEnv env;
  RecoveryInfo info;
  for (auto _ : state) {
    std::unique_ptr<Engine> engine;
    const Status status =
        recover(env, fixture.dir->path(), fixture.dir->path(), EngineConfig{}, &engine, &info);
    if (!status.ok()) die(status.to_string());
    state.PauseTiming();
    if (engine->stats().active_orders != orders || info.snapshot_lsn != 1 ||
        info.records_replayed != records) {
      die("recover");
    }
    engine.reset();
    state.ResumeTiming();
  }
  return info;
}

void require_snapshot_written(const benchmark::State& state) {
  if (fixture.orders != static_cast<uint64_t>(state.range(0)) ||
      fixture.remembered != (state.range(1) != 0) || !fixture.dir) {
    die("run BM_SnapshotWrite first");
  }
}

// recover() from the snapshot file written by BM_SnapshotWrite: read, CRC, load. Runs after
// BM_SnapshotLoad has freed the source engine, as in a process that starts up.
void BM_RecoverFromSnapshot(benchmark::State& state) {
  require_snapshot_written(state);
  const RecoveryInfo info = time_recovery(state, 0);
  state.counters["snapshot_ms"] = info.snapshot_ms;
}

// A log after the snapshot of BM_SnapshotWrite (LSN 1), as a server writes while it runs:
// kTailPairs times, an order cancelled and a new one placed (it gets the freed number).
constexpr uint64_t kTailPairs = 500'000;

uint64_t write_log_tail(const std::string& dir, uint64_t orders) {
  PosixEnv env;
  std::unique_ptr<WalWriter> writer;
  WalWriterOptions options;
  options.durability = Durability::kNone;
  if (!WalWriter::open(env, dir, 2, options, &writer).ok()) die("open WAL");
  const uint64_t accounts = (orders + kOrdersPerAccount - 1) / kOrdersPerAccount;
  const uint64_t now = kT0 + orders / 10 + 1;  // after the last placement, before any expiry
  std::vector<uint8_t> payload;
  uint64_t records = 0;
  auto log = [&](const Command& c) {
    const uint8_t type = encode_command(c, Reply(), &payload);
    if (!writer->append(type, payload).ok()) die("append");
    ++records;
    if (writer->pending_bytes() > (1 << 20) && !writer->commit().ok()) die("commit");
  };
  for (uint64_t i = 0; i < kTailPairs; ++i) {
    const std::string id = std::to_string(i);
    log(Command{.op = Op::kOrderCancel,
                .now_ms = now,
                .key = make_request_key("web-2", "c" + id),
                .target = 1 + i});
    log(Command{.op = Op::kOrderPlace,
                .now_ms = now,
                .key = make_request_key("web-2", "p" + id),
                .account = 1 + i % accounts,
                .service = "wa",
                .country = "us"});
  }
  if (!writer->commit().ok()) die("commit");
  return records;
}

// recover() from the snapshot file of BM_SnapshotWrite and a log of 1M records after it
// (written on first use, next to the snapshot): what a restart costs when the newest
// snapshot is some way behind.
void BM_RecoverSnapshotAndLog(benchmark::State& state) {
  require_snapshot_written(state);
  if (fixture.log_records == 0) {
    fixture.log_records = write_log_tail(fixture.dir->path(), fixture.orders);
  }
  const RecoveryInfo info = time_recovery(state, fixture.log_records);
  state.counters["snapshot_ms"] = info.snapshot_ms;
  state.counters["replay_ms"] = info.replay_ms;
  state.counters["records"] = static_cast<double>(info.records_replayed);
}

// ---- Replay ----------------------------------------------------------------------------

constexpr uint64_t kReplayOrders = 1'000'000;
constexpr uint64_t kReplayNumbers = 50'000;
constexpr uint64_t kReplayServices = 32;  // a number is sold once per service it got a code for

// A WAL written as the server writes it: apply, and log what changed. After set-up (prices,
// numbers, deposits): for each pair of orders, place + cancel, then place + sms + finish.
struct ReplayLog {
  TempDir dir;
  uint64_t records = 0;
  uint64_t bytes = 0;
};

std::unique_ptr<ReplayLog> write_replay_log() {
  auto log = std::make_unique<ReplayLog>();
  PosixEnv env;
  std::unique_ptr<WalWriter> writer;
  WalWriterOptions options;
  options.durability = Durability::kNone;
  if (!WalWriter::open(env, log->dir.path(), 1, options, &writer).ok()) die("open WAL");
  Engine engine;
  std::vector<uint8_t> payload;
  uint64_t now = kT0, request = 0;
  auto logged = [&](Command c) {
    c.now_ms = now;
    c.key = make_request_key(c.actor.empty() ? "web-1" : c.actor, std::to_string(++request));
    Reply r = must(engine, c);
    const uint8_t type = encode_command(c, r, &payload);
    if (!writer->append(type, payload).ok()) die("append");
    log->bytes += kRecordHeaderBytes + payload.size();
    ++log->records;
    if (writer->pending_bytes() > (1 << 20) && !writer->commit().ok()) die("commit");
    return r;
  };
  std::vector<std::string> services;
  for (uint64_t s = 0; s < kReplayServices; ++s) services.push_back("s" + std::to_string(s));
  for (const std::string& s : services) {
    logged({.op = Op::kPriceSet,
            .amount = 100,
            .payout = 60,
            .service = s,
            .country = "us",
            .pool = "p1"});
  }
  for (uint64_t i = 0; i < kReplayNumbers; ++i) {
    const std::string number = phone(i);
    logged({.op = Op::kNumberAdd,
            .actor = "sim-bank-1",
            .country = "us",
            .pool = "p1",
            .operator_name = "op1",
            .number = number});
  }
  for (uint64_t a = 1; a <= 1000; ++a) {
    const std::string ref = "ref-" + std::to_string(a);
    logged({.op = Op::kDeposit,
            .account = a,
            .amount = 1'000'000'000,
            .method = PayMethod::kCard,
            .ref = ref});
  }
  for (uint64_t i = 0; i < kReplayOrders; i += 2) {
    now += 1;
    const Command place{.op = Op::kOrderPlace,
                        .account = 1 + i % 1000,
                        .service = services[(i / 2) % kReplayServices],
                        .country = "us"};
    logged({.op = Op::kOrderCancel, .target = logged(place).id});
    const Reply placed = logged(place);
    logged({.op = Op::kSmsDeliver,
            .actor = "sim-bank-1",
            .number = placed.text,
            .text = "Your code is 482913",
            .sender = "WhatsApp"});
    logged({.op = Op::kOrderFinish, .target = placed.id});
  }
  if (!writer->commit().ok()) die("commit");
  return log;
}

const ReplayLog& replay_log() {
  static const std::unique_ptr<ReplayLog> log = write_replay_log();
  return *log;
}

// The same log read and decoded, not applied: what replay costs outside the engine.
void BM_ReadAndDecode(benchmark::State& state) {
  const ReplayLog& log = replay_log();
  PosixEnv env;
  for (auto _ : state) {
    WalReader reader(env, log.dir.path(), is_command_type);
    if (!reader.seek(1).ok()) die("seek");
    WalRecord record;
    DecodedCommand decoded;
    uint64_t records = 0;
    while (reader.next(&record)) {
      if (!decode_command(record, &decoded).ok()) die("decode");
      benchmark::DoNotOptimize(decoded.command.now_ms);
      ++records;
    }
    if (!reader.status().ok() || records != log.records) die("read");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(log.records));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(log.bytes));
}

// recover() of the whole log, without a snapshot: read, CRC, decode, apply.
void BM_Replay(benchmark::State& state) {
  const ReplayLog* log = &replay_log();
  PosixEnv env;
  RecoveryInfo info;
  for (auto _ : state) {
    std::unique_ptr<Engine> engine;
    const Status status =
        recover(env, log->dir.path(), log->dir.path(), EngineConfig{}, &engine, &info);
    if (!status.ok() || info.records_replayed != log->records) die(status.to_string());
    state.PauseTiming();
    engine.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(log->records));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(log->bytes));
  state.counters["records"] = static_cast<double>(log->records);
  state.counters["bytes/record"] =
      static_cast<double>(log->bytes) / static_cast<double>(log->records);
}

// encode_command of a typical order.place (account 1001, "wa", "us", no filters), and the
// WAL bytes its record takes, header included.
void BM_PlaceRecordEncode(benchmark::State& state) {
  const Command place{.op = Op::kOrderPlace,
                      .now_ms = kT0,
                      .key = make_request_key("web-1", "42"),
                      .account = 1001,
                      .service = "wa",
                      .country = "us"};
  const Reply reply;
  std::vector<uint8_t> payload;
  for (auto _ : state) {
    benchmark::DoNotOptimize(encode_command(place, reply, &payload));
    benchmark::ClobberMemory();
  }
  state.counters["wal_bytes"] = static_cast<double>(kRecordHeaderBytes + payload.size());
  state.counters["payload_bytes"] = static_cast<double>(payload.size());
}

BENCHMARK(BM_PlaceRecordEncode);
BENCHMARK(BM_ReadAndDecode)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_Replay)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
// Registered in this order so that each state is built once: the snapshot benchmarks of
// (active orders, remembered request ids).
void register_snapshot_benchmarks(int64_t orders, int64_t remembered) {
  const int iterations = orders > 1'000'000 ? 2 : 3;
  for (const auto& [name, fn] : {std::pair{"BM_SnapshotSerialize", &BM_SnapshotSerialize},
                                 std::pair{"BM_SnapshotWrite", &BM_SnapshotWrite},
                                 std::pair{"BM_SnapshotLoad", &BM_SnapshotLoad},
                                 std::pair{"BM_RecoverFromSnapshot", &BM_RecoverFromSnapshot},
                                 std::pair{"BM_RecoverSnapshotAndLog", &BM_RecoverSnapshotAndLog},
                                 std::pair{"BM_ForkPause", &BM_ForkPause}}) {
    auto* b = benchmark::RegisterBenchmark(name, fn)
                  ->Args({orders, remembered})
                  ->ArgNames({"orders", "remembered"})
                  ->Unit(benchmark::kMillisecond);
    if (fn == &BM_ForkPause) {
      b->Iterations(10)->UseManualTime();
    } else {
      b->Iterations(fn == &BM_SnapshotLoad ? 3 : iterations)->UseRealTime();
    }
  }
}

const bool registered = [] {
  register_snapshot_benchmarks(1'000'000, 1);
  register_snapshot_benchmarks(10'000'000, 1);
  register_snapshot_benchmarks(10'000'000, 0);
  return true;
}();

}  // namespace
}  // namespace smsx::persistence

// As smsxd does at start-up (core/heap_pages.h), so the figures are the server's.
namespace {
const bool heap_pages_chosen = [] {
  const char* huge = std::getenv("SMSX_HUGE_PAGES");
  smsx::use_huge_pages_for_heap(huge == nullptr || std::string_view(huge) != "0");
  return true;
}();
}  // namespace
