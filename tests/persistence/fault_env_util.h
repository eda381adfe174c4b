// FaultEnv: an in-memory Env for tests that models what a crash keeps and injects I/O
// failures, so WAL and snapshot code are tested without a disk (STYLE point 9).
//
// Crash model. Each file has its current bytes and its durable bytes (as of its last
// sync); each folder has its current entries and its durable entries (as of its last
// sync_dir). crash() makes the durable state current again:
//   - kDropUnsynced: exactly the synced state survives;
//   - kTornPages: as a real file system may, the crash also keeps a random page-aligned
//     prefix of each file's unsynced appended bytes, optionally followed by a torn page (a
//     random number of the next new bytes) and/or zero-filled bytes (size updated, data
//     not written), and a random prefix of each folder's unsynced creations, renames and
//     deletions, in order. Unsynced overwrites within a file's size (a preallocated
//     segment) keep, half the time, a page-aligned prefix of the changed range (the next
//     page possibly torn), and otherwise a random subset of its pages, in no order. Other
//     unsynced changes (truncation, an overwrite that also grows the file) are dropped.
// Appended data is assumed to persist in file order (no later page survives without the
// earlier ones); docs/wal_format.md states the same assumption for the real disk.
//
// Fault injection: fail one chosen call (optionally after storing part of an append, a
// short write), limit the disk's capacity (ENOSPC after a short write), or kill the
// "process" after N mutating calls (the call in progress is cut short, every later call
// fails with EIO until crash()). All randomness comes from the seed: same seed, same run.
// Single-threaded, like the tests that use it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "persistence/env.h"

namespace smsx::persistence::testing {

enum class FaultOp : uint8_t {
  kAppend,
  kWriteAt,
  kSync,
  kCreate,
  kRename,
  kDelete,
  kTruncate,
  kSyncDir,
  kRead,
};

enum class CrashMode : uint8_t { kDropUnsynced, kTornPages };

class FaultEnv final : public Env {
 public:
  explicit FaultEnv(uint64_t seed, size_t page_bytes = 4096);
  ~FaultEnv() override;

  // Env.
  Status new_writable_file(const std::string& path, std::unique_ptr<WritableFile>* file) override;
  Status open_for_overwrite(const std::string& path, std::unique_ptr<WritableFile>* file) override;
  Status new_readable_file(const std::string& path, std::unique_ptr<ReadableFile>* file) override;
  Status list_dir(const std::string& dir, std::vector<std::string>* names) override;
  Status create_dir(const std::string& dir) override;
  Status rename_file(const std::string& from, const std::string& to) override;
  Status delete_file(const std::string& path) override;
  Status truncate_file(const std::string& path, uint64_t bytes) override;
  Status sync_dir(const std::string& dir) override;
  Status file_size(const std::string& path, uint64_t* bytes) override;
  bool file_exists(const std::string& path) override;

  // The (skip + 1)-th next call of `op` fails with `err`. For kAppend, `partial_bytes` of
  // the data (at most all but one byte) are stored before the failure: a short write.
  void fail_once(FaultOp op, int err, uint64_t skip = 0, size_t partial_bytes = 0);
  // Total bytes all files may hold; an append past it stores what fits and fails ENOSPC.
  void set_capacity_bytes(uint64_t bytes) { capacity_bytes_ = bytes; }
  // After `ops` more mutating calls succeed, the next one is cut short and the process
  // counts as dead: every later call fails with EIO until crash().
  void kill_after(uint64_t ops) { kill_countdown_ = static_cast<int64_t>(ops); }
  bool killed() const { return killed_; }
  // Crashes that kept the pages of an overwrite in no particular order (crash_overwrite).
  uint64_t pages_out_of_order() const { return pages_out_of_order_; }

  void crash(CrashMode mode);
  // The process died but the machine did not: every file keeps its current bytes (the page
  // cache), synced or not; open files become unusable, faults and kills are cleared.
  void restart_process();

  // Test access, bypassing faults. set_contents() makes the bytes durable at once.
  std::vector<uint8_t> contents(const std::string& path) const;
  void set_contents(const std::string& path, std::vector<uint8_t> bytes);
  void flip_byte(const std::string& path, uint64_t offset, uint8_t mask = 0x01);
  uint64_t sync_calls() const { return sync_calls_; }
  uint64_t append_calls() const { return append_calls_; }
  uint64_t random(uint64_t bound);  // uniform in [0, bound), from the seed

  struct Inode;  // public for the file classes in the .cc

  // Used by the file objects: true (with the errno, and for appends the bytes to store
  // first) when the call must fail.
  bool check_fault(FaultOp op, int* err, size_t* partial_bytes);
  uint64_t generation() const { return generation_; }
  bool append_bytes(Inode& inode, const uint8_t* data, size_t n, size_t* stored);

 private:
  struct DirOp {
    enum class Kind : uint8_t { kLink, kUnlink } kind;
    std::string path;
    std::shared_ptr<Inode> inode;  // kLink only
  };
  struct Fault {
    FaultOp op;
    int err;
    uint64_t skip;
    size_t partial_bytes;
  };

  void link(const std::string& path, std::shared_ptr<Inode> inode);
  void unlink(const std::string& path);
  // check_fault(op), then the inode at `path` (ENOENT when there is none).
  Status open_existing(FaultOp op, const std::string& path, std::shared_ptr<Inode>* inode);
  std::vector<uint8_t> crash_contents(const Inode& inode, CrashMode mode);
  std::vector<uint8_t> crash_overwrite(const std::vector<uint8_t>& data,
                                       const std::vector<uint8_t>& durable);
  uint64_t used_bytes() const;

  std::mt19937_64 rng_;
  const size_t page_bytes_;
  uint64_t generation_ = 0;  // bumped by crash(); older file handles stop working
  std::map<std::string, std::shared_ptr<Inode>> files_;    // current entries
  std::map<std::string, std::shared_ptr<Inode>> durable_;  // entries as of the last sync_dir
  std::map<std::string, std::vector<DirOp>> pending_;      // per folder, in order
  std::set<std::string> dirs_;
  std::vector<Fault> faults_;
  uint64_t capacity_bytes_ = UINT64_MAX;
  int64_t kill_countdown_ = -1;
  bool killed_ = false;
  uint64_t sync_calls_ = 0;
  uint64_t append_calls_ = 0;
  uint64_t pages_out_of_order_ = 0;
};

}  // namespace smsx::persistence::testing
