// Env: the filesystem as persistence/ sees it (after leveldb's Env), so the WAL and
// snapshot code run unchanged on the real disk (PosixEnv, posix_env.h) and on the
// fault-injecting in-memory filesystem of the tests.
//
// Durability contract, which every implementation must honour and every caller relies on:
//   - WritableFile::append data is durable only after a successful sync();
//   - creating, renaming or deleting a file is durable only after sync_dir() of its folder;
//   - truncate() is durable when it returns ok (it syncs the file).
// Thread-safety: an Env may be used from several threads at once (PosixEnv holds no
// mutable state); one WritableFile or ReadableFile object is used by one thread at a time.
// Every error Status names the operation, the path and, where there is one, the offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "persistence/status.h"

namespace smsx::persistence {

// A file opened for writing, positioned at its end (or, from open_for_overwrite(), at its
// start). Not copyable.
class WritableFile {
 public:
  WritableFile() = default;
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;
  virtual ~WritableFile() = default;  // closes without syncing; errors are lost

  // Appends all of `data` or fails. After a failure, some prefix of `data` may have been
  // written (a short write); the caller must treat the file's tail as unknown.
  virtual Status append(std::span<const uint8_t> data) = 0;
  // Overwrites bytes that were already appended (e.g. a header patched after streaming).
  virtual Status write_at(uint64_t offset, std::span<const uint8_t> data) = 0;
  // fdatasync: everything appended or written so far is durable when this returns ok.
  virtual Status sync() = 0;
  virtual Status close() = 0;
  // Bytes in the file as this handle wrote them (its append position).
  virtual uint64_t size() const = 0;
  virtual const std::string& path() const = 0;
};

// A file opened for reading at arbitrary offsets. Not copyable.
class ReadableFile {
 public:
  ReadableFile() = default;
  ReadableFile(const ReadableFile&) = delete;
  ReadableFile& operator=(const ReadableFile&) = delete;
  virtual ~ReadableFile() = default;

  // Reads up to dst.size() bytes at `offset`; *bytes_read < dst.size() only at end of file.
  virtual Status read_at(uint64_t offset, std::span<uint8_t> dst, size_t* bytes_read) = 0;
  virtual Status size(uint64_t* bytes) = 0;
  virtual const std::string& path() const = 0;
};

class Env {
 public:
  Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  virtual ~Env() = default;

  // Creates `path`, or truncates it to 0 bytes if it exists, and opens it for appending.
  virtual Status new_writable_file(const std::string& path,
                                   std::unique_ptr<WritableFile>* file) = 0;
  // Opens the existing `path` for writing from offset 0 without truncating it (a
  // preallocated file whose bytes are overwritten in place); size() then counts the bytes
  // written through this handle, not the file's length.
  virtual Status open_for_overwrite(const std::string& path,
                                    std::unique_ptr<WritableFile>* file) = 0;
  virtual Status new_readable_file(const std::string& path,
                                   std::unique_ptr<ReadableFile>* file) = 0;
  // Names (not paths) of the entries of `dir`, without "." and "..", in no given order.
  virtual Status list_dir(const std::string& dir, std::vector<std::string>* names) = 0;
  // Creates `dir` if missing (parents must exist); ok if it already exists.
  virtual Status create_dir(const std::string& dir) = 0;
  // Atomically replaces `to` with `from` (rename(2)); both in the same folder.
  virtual Status rename_file(const std::string& from, const std::string& to) = 0;
  virtual Status delete_file(const std::string& path) = 0;
  // Cuts `path` to `bytes` and syncs it.
  virtual Status truncate_file(const std::string& path, uint64_t bytes) = 0;
  // fsync of the folder itself, making creations, renames and deletions in it durable.
  virtual Status sync_dir(const std::string& dir) = 0;
  virtual Status file_size(const std::string& path, uint64_t* bytes) = 0;
  virtual bool file_exists(const std::string& path) = 0;

  // Reads the whole file into *contents (resized; its capacity is reused).
  Status read_file(const std::string& path, std::vector<uint8_t>* contents);
  // Creates `path` with `data`, syncs it, and syncs its folder.
  Status write_file_durably(const std::string& path, std::span<const uint8_t> data);
};

// "dir/name" (no separator doubled).
std::string join_path(std::string_view dir, std::string_view name);
// The folder part of `path` ("." when there is none).
std::string dir_of(std::string_view path);

}  // namespace smsx::persistence
