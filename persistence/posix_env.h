// PosixEnv: Env on the real filesystem with plain POSIX calls (open, write, pwrite,
// fdatasync, rename, fsync of the folder). It holds no mutable state, so one instance may
// serve the loop thread, helper threads and a forked child alike.
#pragma once

#include "persistence/env.h"

namespace smsx::persistence {

class PosixEnv final : public Env {
 public:
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
};

}  // namespace smsx::persistence
