// Recovery at start-up and snapshots of the engine (DESIGN.md "Persistence", invariants 7-8).
//
// recover(): the newest snapshot that verifies and loads (a corrupt one falls back to the
// previous, with a longer replay), then every WAL record after it, decoded and applied in
// LSN order. A torn tail is cut off (docs/wal_format.md, "Recovery"); any other damage, a
// record that does not decode, or a record whose replay does not change state the way it
// did when it was logged stops start-up with an error naming the file and offset or the
// LSN. Nothing acknowledged is ever skipped silently. Afterwards the WAL writer continues at
// info.last_lsn + 1.
//
// The recovered engine's time is that of the last logged command. Commands that were not
// logged (reads, refusals) also moved the old process's clock on; the first command after
// start-up moves the new one to the present.
//
// A record whose CRC is valid was written by this engine, so the engine trusts what it says
// (e.g. that a tick expired an active order): a contradiction there is a bug and aborts.
//
// take_snapshot(): streams the engine through a fixed buffer into a snapshot file and prunes
// what it makes unnecessary. The state must be exactly the state after LSN `lsn` (no record
// applied after it), and `lsn` must be durable. It takes no lock and starts no thread, so
// the server may run it in a forked child (whose copy-on-write view of the engine is frozen
// at the fork) while the parent keeps serving; then prune in the parent afterwards instead
// (SnapshotStore::prune must not run while another snapshot is being written).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine.h"
#include "persistence/env.h"
#include "persistence/status.h"
#include "persistence/wal_reader.h"

namespace smsx::persistence {

struct RecoveryInfo {
  uint64_t snapshot_lsn = 0;  // the snapshot loaded (0: none, replay from LSN 1)
  std::string snapshot_path;  // empty without one
  // Newer snapshots that failed their checks or did not load, as "path: reason", newest
  // first. Non-empty means recovery fell back: say so in the log.
  std::vector<std::string> skipped_snapshots;
  uint64_t records_replayed = 0;
  uint64_t last_lsn = 0;              // the last record applied (or snapshot_lsn)
  std::optional<TornTail> torn_tail;  // set when the log ended in a torn write
  double snapshot_ms = 0;             // reading, verifying and loading the snapshot
  double replay_ms = 0;               // reading, decoding and applying the WAL
  double elapsed_ms = 0;              // all of it
};

// Rebuilds the engine from `snapshot_dir` and `wal_dir` (they may be the same folder; both
// must exist). On error *engine is left empty and the files are unchanged except for a torn
// tail that was cut off.
Status recover(Env& env, const std::string& wal_dir, const std::string& snapshot_dir,
               const EngineConfig& config, std::unique_ptr<Engine>* engine, RecoveryInfo* info);

struct SnapshotInfo {
  std::string path;
  uint64_t body_bytes = 0;
  double write_ms = 0;               // serializing, writing, syncing and verifying
  std::vector<std::string> deleted;  // by pruning
};

// Writes the engine's state at `lsn` as snapshot_dir/snap-<lsn>.snap, then (if `prune`)
// deletes the snapshots and WAL segments it makes unnecessary (SnapshotStore::prune).
Status take_snapshot(Env& env, const std::string& wal_dir, const std::string& snapshot_dir,
                     const Engine& engine, uint64_t lsn, bool prune, SnapshotInfo* info);

}  // namespace smsx::persistence
