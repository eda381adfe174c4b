// SnapshotStore: snapshot files of the engine state (opaque bytes) at an LSN, written
// atomically, verified, loaded with fallback, and pruned together with the WAL segments
// they make unnecessary.
//
// Why this order of operations: a snapshot is written to "snap-<lsn>.snap.tmp", synced,
// read back and checked, and only then renamed into place and its folder synced; so a
// crash at any point leaves either no new snapshot or a complete one, and a name
// "snap-<lsn>.snap" never refers to unsynced bytes. The engine must snapshot only state at
// an LSN <= WalWriter::durable_lsn(), or recovery would find the log behind the snapshot.
//
// Retention: prune() keeps the newest kSnapshotsKept (2) snapshots and deletes the WAL
// segments whose records are all covered by the OLDER kept one, so if the newest turns
// out corrupt, load_newest_valid() falls back to the older one and the WAL still holds
// everything after it.
//
// Threads and processes: a SnapshotStore holds only its configuration and has no mutable
// state, and SnapshotWriter touches only its own file, so writing may run on a helper
// thread or in a forked child (which then must not share the parent's Env object if that
// Env has state; PosixEnv has none). prune() must not run while a snapshot is being
// written into the same folder.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "persistence/env.h"
#include "persistence/status.h"

namespace smsx::persistence {

// Streams one snapshot's body into its temporary file. Created by SnapshotStore::begin().
// Destroying it without a successful finish() deletes the temporary file.
class SnapshotWriter {
 public:
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;
  ~SnapshotWriter();

  Status append(std::span<const uint8_t> bytes);
  // Writes the header, fdatasyncs, verifies the file by reading it back, renames it into
  // place and syncs the folder. On error the temporary file is deleted (best effort).
  Status finish();

  uint64_t lsn() const { return lsn_; }
  uint64_t body_bytes() const { return body_bytes_; }
  // Where the snapshot will be once finish() succeeds.
  const std::string& path() const { return final_path_; }

 private:
  friend class SnapshotStore;
  SnapshotWriter(Env& env, std::string dir, uint64_t lsn, std::unique_ptr<WritableFile> file,
                 std::string temp_path, std::string final_path);
  void abandon();

  Env& env_;
  const std::string dir_;
  const uint64_t lsn_;
  std::unique_ptr<WritableFile> file_;
  const std::string temp_path_;
  const std::string final_path_;
  uint64_t body_bytes_ = 0;
  uint32_t body_crc_ = 0;  // unmasked CRC32C of the body so far
  bool finished_ = false;
  Status failure_;  // first append error; finish() returns it
};

struct LoadedSnapshot {
  bool found = false;  // false: no snapshot file at all (a new data folder)
  uint64_t lsn = 0;    // replay the WAL from lsn + 1
  std::string path;
  std::vector<uint8_t> bytes;             // the whole file, header included (no copy of the body)
  std::span<const uint8_t> body() const;  // the engine's bytes (empty when !found)
  // Newer snapshots that failed verification, as "path: reason", newest first. Non-empty
  // means recovery fell back and must say so in the log.
  std::vector<std::string> corrupt;
};

class SnapshotStore {
 public:
  // `snapshot_dir` and `wal_dir` may be the same folder; both must exist. `env` must
  // outlive the store and every writer it creates.
  SnapshotStore(Env& env, std::string snapshot_dir, std::string wal_dir);

  Status begin(uint64_t lsn, std::unique_ptr<SnapshotWriter>* writer) const;
  // begin + append(body) + finish.
  Status write(uint64_t lsn, std::span<const uint8_t> body) const;

  // The newest snapshot that verifies. Corrupt newer ones are skipped and listed in
  // out->corrupt; if snapshots exist but none verifies, returns a corruption error naming
  // each one. No snapshot at all is ok with out->found == false.
  Status load_newest_valid(LoadedSnapshot* out) const;

  // Checks a snapshot file completely (streaming, constant memory); *lsn gets its LSN.
  Status verify(const std::string& path, uint64_t* lsn) const;
  // The same for a file under another name (a snapshot received from a primary) that must
  // hold the snapshot at `lsn`.
  Status verify_as(const std::string& path, uint64_t lsn) const;

  // Deletes snapshots older than the newest kSnapshotsKept, leftover temporary files, and
  // the WAL segments covered by the oldest kept snapshot (none while fewer than
  // kSnapshotsKept snapshots exist). *deleted (optional) receives the deleted paths.
  Status prune(std::vector<std::string>* deleted = nullptr) const;

 private:
  Env& env_;
  const std::string snapshot_dir_;
  const std::string wal_dir_;
};

}  // namespace smsx::persistence
