// WAL micro-benchmarks on the real disk (a temporary folder under /tmp, removed after each
// benchmark): group commit with fdatasync per batch, the same without fdatasync (the cost
// of durability by difference), append cost in memory, replay throughput, and CRC32C.
// Figures and the command line are recorded in docs/benchmarks.md, section "WAL".
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "persistence/crc32c.h"
#include "persistence/posix_env.h"
#include "persistence/wal_reader.h"
#include "persistence/wal_writer.h"

namespace smsx::persistence {
namespace {

constexpr size_t kPayloadBytes = 40;  // a typical encoded command
constexpr uint8_t kType = 1;

// A fresh folder under /tmp for one benchmark, deleted with everything in it.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/smsx-wal-bench-XXXXXX";
    if (::mkdtemp(name) == nullptr) std::abort();
    path_ = name;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<WalWriter> open_writer(Env& env, const std::string& dir, Durability durability) {
  WalWriterOptions options;
  options.durability = durability;
  std::unique_ptr<WalWriter> writer;
  if (!WalWriter::open(env, dir, 1, options, &writer).ok()) std::abort();
  return writer;
}

void commit_batches(benchmark::State& state, Durability durability) {
  const size_t batch_records = static_cast<size_t>(state.range(0));
  TempDir dir;
  PosixEnv env;
  auto writer = open_writer(env, dir.path(), durability);
  const std::vector<uint8_t> payload(kPayloadBytes, 0x42);
  for (auto _ : state) {
    for (size_t i = 0; i < batch_records; ++i) {
      if (!writer->append(kType, payload).ok()) std::abort();
    }
    if (!writer->commit().ok()) {
      state.SkipWithError("commit failed");
      break;
    }
  }
  const int64_t records = state.iterations() * static_cast<int64_t>(batch_records);
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(records * static_cast<int64_t>(kRecordHeaderBytes + kPayloadBytes));
  state.counters["commits/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// One write() and one fdatasync() per batch: what a loop iteration pays to be durable.
void BM_CommitFdatasync(benchmark::State& state) { commit_batches(state, Durability::kFdatasync); }
BENCHMARK(BM_CommitFdatasync)->ArgName("batch")->Arg(1)->Arg(64)->Arg(1024)->UseRealTime();

// The same without fdatasync (durability = none, benchmarks only).
void BM_CommitNoSync(benchmark::State& state) { commit_batches(state, Durability::kNone); }
BENCHMARK(BM_CommitNoSync)->ArgName("batch")->Arg(1)->Arg(64)->Arg(1024)->UseRealTime();

// append() alone: the loop thread's cost per record (encode + CRC + copy into the batch).
void BM_Append(benchmark::State& state) {
  TempDir dir;
  PosixEnv env;
  auto writer = open_writer(env, dir.path(), Durability::kNone);
  const std::vector<uint8_t> payload(kPayloadBytes, 0x42);
  for (auto _ : state) {
    if (!writer->append(kType, payload).ok()) std::abort();
    if (writer->pending_bytes() > (1 << 20)) {  // keep the buffer in cache; not timed I/O
      state.PauseTiming();
      writer->recycle_batch(writer->take_batch());
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Append);

// Replay of a log of place-order-sized records (48 bytes each, 31 of them payload) from
// the page cache: reader + CRC check per record, the callback does nothing.
void BM_Replay(benchmark::State& state) {
  const size_t total_records = static_cast<size_t>(state.range(0));
  TempDir dir;
  PosixEnv env;
  {
    auto writer = open_writer(env, dir.path(), Durability::kNone);
    const std::vector<uint8_t> payload(kPlaceOrderPayloadBytesMax, 0x17);
    for (size_t i = 0; i < total_records; ++i) {
      if (!writer->append(kType, payload).ok()) std::abort();
      if (writer->pending_bytes() > (1 << 20) && !writer->commit().ok()) std::abort();
    }
    if (!writer->commit().ok()) std::abort();
  }
  for (auto _ : state) {
    WalReader reader(env, dir.path(), [](uint8_t type) { return type == kType; });
    if (!reader.seek(1).ok()) std::abort();
    WalRecord record;
    uint64_t sum = 0;
    while (reader.next(&record)) sum += record.payload.size();
    if (!reader.status().ok() || reader.last_lsn() != total_records) std::abort();
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(total_records));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(total_records) *
                          static_cast<int64_t>(kPlaceOrderRecordBytesMax));
}
BENCHMARK(BM_Replay)
    ->ArgName("records")
    ->Arg(4 << 20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_Crc32c(benchmark::State& state) {
  const std::vector<uint8_t> data(static_cast<size_t>(state.range(0)), 0x5a);
  for (auto _ : state) benchmark::DoNotOptimize(crc32c::value(data.data(), data.size()));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Crc32c)->ArgName("bytes")->Arg(48)->Arg(4096)->Arg(1 << 20);

}  // namespace
}  // namespace smsx::persistence
