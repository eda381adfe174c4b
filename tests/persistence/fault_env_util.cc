#include "tests/persistence/fault_env_util.h"

#include <algorithm>
#include <cerrno>

#include "core/assert.h"

namespace smsx::persistence::testing {

struct FaultEnv::Inode {
  std::vector<uint8_t> data;     // what reads see now
  std::vector<uint8_t> durable;  // what survives a crash for sure
};

namespace {

Status fault_status(int err, const char* op, const std::string& path) {
  return Status::io_error(err, std::string(op) + " " + path + " (injected)");
}

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultEnv& env, std::string path, std::shared_ptr<FaultEnv::Inode> inode)
      : env_(env),
        path_(std::move(path)),
        inode_(std::move(inode)),
        generation_(env.generation()) {}

  Status append(std::span<const uint8_t> data) override {
    if (Status stale = check_alive(); !stale.ok()) return stale;
    int err = 0;
    size_t partial = 0;
    if (env_.check_fault(FaultOp::kAppend, &err, &partial)) {
      partial = std::min(partial, data.empty() ? 0 : data.size() - 1);
      size_t stored = 0;
      store(data.data(), partial, &stored);
      size_ += stored;
      return fault_status(err, "write", path_ + " at offset " + std::to_string(size_));
    }
    size_t stored = 0;
    const bool fit = store(data.data(), data.size(), &stored);
    size_ += stored;
    if (!fit) return fault_status(ENOSPC, "write", path_ + " at offset " + std::to_string(size_));
    return Status();
  }

  Status write_at(uint64_t offset, std::span<const uint8_t> data) override {
    if (Status stale = check_alive(); !stale.ok()) return stale;
    SMSX_ASSERT(offset + data.size() <= inode_->data.size());
    int err = 0;
    size_t partial = 0;
    if (env_.check_fault(FaultOp::kWriteAt, &err, &partial)) {
      return fault_status(err, "pwrite", path_ + " at offset " + std::to_string(offset));
    }
    std::copy(data.begin(), data.end(), inode_->data.begin() + static_cast<ptrdiff_t>(offset));
    return Status();
  }

  Status sync() override {
    if (Status stale = check_alive(); !stale.ok()) return stale;
    int err = 0;
    size_t partial = 0;
    // A failed fdatasync makes nothing durable (and the kernel may drop the dirty pages).
    if (env_.check_fault(FaultOp::kSync, &err, &partial)) {
      return fault_status(err, "fdatasync", path_ + " at offset " + std::to_string(size_));
    }
    inode_->durable = inode_->data;
    return Status();
  }

  Status close() override { return Status(); }
  uint64_t size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  // Stores `n` bytes at this handle's position: over the file's existing bytes first (a
  // file opened for overwriting), then appended past its end.
  bool store(const uint8_t* bytes, size_t n, size_t* stored) {
    const size_t length = inode_->data.size();
    const size_t over = size_ < length ? std::min<size_t>(n, length - size_) : 0;
    if (over == 0) return env_.append_bytes(*inode_, bytes, n, stored);
    std::copy_n(bytes, over, inode_->data.begin() + static_cast<ptrdiff_t>(size_));
    size_t appended = 0;
    const bool fit = over == n || env_.append_bytes(*inode_, bytes + over, n - over, &appended);
    *stored = over + appended;
    return fit;
  }

  Status check_alive() const {
    if (generation_ != env_.generation()) return fault_status(EBADF, "use after crash", path_);
    return Status();
  }

  FaultEnv& env_;
  std::string path_;
  std::shared_ptr<FaultEnv::Inode> inode_;
  uint64_t generation_;
  uint64_t size_ = 0;
};

class FaultReadableFile final : public ReadableFile {
 public:
  FaultReadableFile(FaultEnv& env, std::string path, std::shared_ptr<FaultEnv::Inode> inode)
      : env_(env), path_(std::move(path)), inode_(std::move(inode)) {}

  Status read_at(uint64_t offset, std::span<uint8_t> dst, size_t* bytes_read) override {
    *bytes_read = 0;
    int err = 0;
    size_t partial = 0;
    if (env_.check_fault(FaultOp::kRead, &err, &partial)) {
      return fault_status(err, "pread", path_ + " at offset " + std::to_string(offset));
    }
    const std::vector<uint8_t>& data = inode_->data;
    if (offset >= data.size()) return Status();
    *bytes_read = std::min<size_t>(dst.size(), data.size() - offset);
    std::copy_n(data.begin() + static_cast<ptrdiff_t>(offset), *bytes_read, dst.begin());
    return Status();
  }

  Status size(uint64_t* bytes) override {
    *bytes = inode_->data.size();
    return Status();
  }

  const std::string& path() const override { return path_; }

 private:
  FaultEnv& env_;
  std::string path_;
  std::shared_ptr<FaultEnv::Inode> inode_;
};

}  // namespace

FaultEnv::FaultEnv(uint64_t seed, size_t page_bytes) : rng_(seed), page_bytes_(page_bytes) {
  SMSX_ASSERT(page_bytes > 0);
}

FaultEnv::~FaultEnv() = default;

uint64_t FaultEnv::random(uint64_t bound) {
  SMSX_ASSERT(bound > 0);
  return rng_() % bound;
}

bool FaultEnv::check_fault(FaultOp op, int* err, size_t* partial_bytes) {
  *partial_bytes = 0;
  if (killed_) {
    *err = EIO;
    return true;
  }
  if (op != FaultOp::kRead && kill_countdown_ >= 0) {
    if (kill_countdown_ == 0) {
      killed_ = true;
      kill_countdown_ = -1;
      *err = EIO;
      *partial_bytes = static_cast<size_t>(random(1u << 16));  // cut anywhere in the write
      return true;
    }
    --kill_countdown_;
  }
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->op != op) continue;
    if (it->skip > 0) {
      --it->skip;
      continue;
    }
    *err = it->err;
    *partial_bytes = it->partial_bytes;
    faults_.erase(it);
    return true;
  }
  return false;
}

bool FaultEnv::append_bytes(Inode& inode, const uint8_t* data, size_t n, size_t* stored) {
  const uint64_t used = used_bytes();
  const uint64_t room = used >= capacity_bytes_ ? 0 : capacity_bytes_ - used;
  *stored = static_cast<size_t>(std::min<uint64_t>(n, room));
  inode.data.insert(inode.data.end(), data, data + *stored);
  ++append_calls_;
  return *stored == n;
}

uint64_t FaultEnv::used_bytes() const {
  uint64_t used = 0;
  for (const auto& [path, inode] : files_) used += inode->data.size();
  return used;
}

void FaultEnv::fail_once(FaultOp op, int err, uint64_t skip, size_t partial_bytes) {
  faults_.push_back(Fault{op, err, skip, partial_bytes});
}

void FaultEnv::link(const std::string& path, std::shared_ptr<Inode> inode) {
  files_[path] = inode;
  pending_[dir_of(path)].push_back(DirOp{DirOp::Kind::kLink, path, std::move(inode)});
}

void FaultEnv::unlink(const std::string& path) {
  files_.erase(path);
  pending_[dir_of(path)].push_back(DirOp{DirOp::Kind::kUnlink, path, nullptr});
}

Status FaultEnv::new_writable_file(const std::string& path, std::unique_ptr<WritableFile>* file) {
  int err = 0;
  size_t partial = 0;
  if (check_fault(FaultOp::kCreate, &err, &partial)) return fault_status(err, "open", path);
  if (!dirs_.contains(dir_of(path))) return fault_status(ENOENT, "open", path);
  auto it = files_.find(path);
  std::shared_ptr<Inode> inode;
  if (it != files_.end()) {
    inode = it->second;
    inode->data.clear();  // O_TRUNC: a data change, durable at the next sync
  } else {
    inode = std::make_shared<Inode>();
    link(path, inode);
  }
  *file = std::make_unique<FaultWritableFile>(*this, path, std::move(inode));
  return Status();
}

Status FaultEnv::open_existing(FaultOp op, const std::string& path, std::shared_ptr<Inode>* inode) {
  int err = 0;
  size_t partial = 0;
  if (check_fault(op, &err, &partial)) return fault_status(err, "open", path);
  auto it = files_.find(path);
  if (it == files_.end()) return fault_status(ENOENT, "open", path);
  *inode = it->second;
  return Status();
}

Status FaultEnv::open_for_overwrite(const std::string& path, std::unique_ptr<WritableFile>* file) {
  std::shared_ptr<Inode> inode;
  PERSIST_RETURN_IF_ERROR(open_existing(FaultOp::kCreate, path, &inode));
  *file = std::make_unique<FaultWritableFile>(*this, path, std::move(inode));
  return Status();
}

Status FaultEnv::new_readable_file(const std::string& path, std::unique_ptr<ReadableFile>* file) {
  std::shared_ptr<Inode> inode;
  PERSIST_RETURN_IF_ERROR(open_existing(FaultOp::kRead, path, &inode));
  *file = std::make_unique<FaultReadableFile>(*this, path, std::move(inode));
  return Status();
}

Status FaultEnv::list_dir(const std::string& dir, std::vector<std::string>* names) {
  names->clear();
  int err = 0;
  size_t partial = 0;
  if (check_fault(FaultOp::kRead, &err, &partial)) return fault_status(err, "opendir", dir);
  if (!dirs_.contains(dir)) return fault_status(ENOENT, "opendir", dir);
  for (const auto& [path, inode] : files_) {
    if (dir_of(path) == dir) names->push_back(path.substr(path.rfind('/') + 1));
  }
  return Status();
}

Status FaultEnv::create_dir(const std::string& dir) {
  dirs_.insert(dir);  // folders themselves are durable at once in this model
  return Status();
}

Status FaultEnv::rename_file(const std::string& from, const std::string& to) {
  int err = 0;
  size_t partial = 0;
  if (check_fault(FaultOp::kRename, &err, &partial)) return fault_status(err, "rename", from);
  auto it = files_.find(from);
  if (it == files_.end()) return fault_status(ENOENT, "rename", from);
  SMSX_ASSERT(dir_of(from) == dir_of(to));
  std::shared_ptr<Inode> inode = it->second;
  unlink(from);
  link(to, std::move(inode));
  return Status();
}

Status FaultEnv::delete_file(const std::string& path) {
  int err = 0;
  size_t partial = 0;
  if (check_fault(FaultOp::kDelete, &err, &partial)) return fault_status(err, "unlink", path);
  if (!files_.contains(path)) return fault_status(ENOENT, "unlink", path);
  unlink(path);
  return Status();
}

Status FaultEnv::truncate_file(const std::string& path, uint64_t bytes) {
  int err = 0;
  size_t partial = 0;
  if (check_fault(FaultOp::kTruncate, &err, &partial)) return fault_status(err, "truncate", path);
  auto it = files_.find(path);
  if (it == files_.end()) return fault_status(ENOENT, "truncate", path);
  Inode& inode = *it->second;
  inode.data.resize(std::min<uint64_t>(bytes, inode.data.size()));
  inode.durable = inode.data;  // truncate_file syncs
  return Status();
}

Status FaultEnv::sync_dir(const std::string& dir) {
  int err = 0;
  size_t partial = 0;
  if (check_fault(FaultOp::kSyncDir, &err, &partial)) return fault_status(err, "fsync", dir);
  for (DirOp& op : pending_[dir]) {
    if (op.kind == DirOp::Kind::kLink) {
      durable_[op.path] = std::move(op.inode);
    } else {
      durable_.erase(op.path);
    }
  }
  pending_.erase(dir);
  ++sync_calls_;
  return Status();
}

Status FaultEnv::file_size(const std::string& path, uint64_t* bytes) {
  auto it = files_.find(path);
  if (it == files_.end()) return fault_status(ENOENT, "stat", path);
  *bytes = it->second->data.size();
  return Status();
}

bool FaultEnv::file_exists(const std::string& path) { return files_.contains(path); }

// Unsynced writes over a file's existing bytes (a preallocated segment). No file size
// orders them: half the time the pages of the changed range reach the disk in file order
// up to a random page boundary (the next page possibly torn), half the time each page
// independently, whole or not at all.
std::vector<uint8_t> FaultEnv::crash_overwrite(const std::vector<uint8_t>& data,
                                               const std::vector<uint8_t>& durable) {
  const auto first = std::mismatch(data.begin(), data.end(), durable.begin());
  if (first.first == data.end()) return durable;  // nothing unsynced
  const uint64_t start = static_cast<uint64_t>(first.first - data.begin());
  uint64_t end = data.size();
  while (end > start && data[end - 1] == durable[end - 1]) --end;
  std::vector<uint8_t> result = durable;
  auto keep_range = [&](uint64_t from, uint64_t to) {
    std::copy(data.begin() + static_cast<ptrdiff_t>(from),
              data.begin() + static_cast<ptrdiff_t>(to),
              result.begin() + static_cast<ptrdiff_t>(from));
  };
  if (random(2) == 0) {
    ++pages_out_of_order_;
    for (uint64_t page = start / page_bytes_ * page_bytes_; page < end; page += page_bytes_) {
      if (random(2) == 0) keep_range(std::max(page, start), std::min(page + page_bytes_, end));
    }
    return result;
  }
  const uint64_t first_boundary = (start / page_bytes_ + 1) * page_bytes_;
  std::vector<uint64_t> cuts = {start};
  for (uint64_t at = first_boundary; at < end; at += page_bytes_) cuts.push_back(at);
  cuts.push_back(end);
  uint64_t keep = cuts[random(cuts.size())];
  if (keep < end && random(3) == 0) keep += 1 + random(std::min<uint64_t>(page_bytes_, end - keep));
  keep_range(start, keep);
  return result;
}

std::vector<uint8_t> FaultEnv::crash_contents(const Inode& inode, CrashMode mode) {
  const std::vector<uint8_t>& data = inode.data;
  const std::vector<uint8_t>& durable = inode.durable;
  if (mode == CrashMode::kDropUnsynced) return durable;
  if (data.size() == durable.size()) return crash_overwrite(data, durable);
  const bool appended_only =
      data.size() > durable.size() && std::equal(durable.begin(), durable.end(), data.begin());
  if (!appended_only) return durable;
  // Keep whole pages of the unsynced appends up to a random page boundary (or the end).
  const uint64_t start = durable.size();
  const uint64_t end = data.size();
  const uint64_t first_boundary = (start / page_bytes_ + 1) * page_bytes_;
  std::vector<uint64_t> cuts = {start};
  for (uint64_t at = first_boundary; at < end; at += page_bytes_) cuts.push_back(at);
  cuts.push_back(end);
  uint64_t keep = cuts[random(cuts.size())];
  std::vector<uint8_t> result(data.begin(), data.begin() + static_cast<ptrdiff_t>(keep));
  // A torn page: some of the next new bytes made it.
  if (keep < end && random(3) == 0) {
    const uint64_t torn = 1 + random(std::min<uint64_t>(page_bytes_, end - keep));
    result.insert(result.end(), data.begin() + static_cast<ptrdiff_t>(keep),
                  data.begin() + static_cast<ptrdiff_t>(keep + torn));
    keep += torn;
  }
  // Zero fill: the size grew but the data never reached the disk.
  if (keep < end && random(3) == 0) {
    const uint64_t zeros = 1 + random(end - keep);
    result.insert(result.end(), zeros, 0);
  }
  return result;
}

void FaultEnv::crash(CrashMode mode) {
  for (auto& [dir, ops] : pending_) {
    const size_t kept = mode == CrashMode::kTornPages ? random(ops.size() + 1) : 0;
    for (size_t i = 0; i < kept; ++i) {
      if (ops[i].kind == DirOp::Kind::kLink) {
        durable_[ops[i].path] = ops[i].inode;
      } else {
        durable_.erase(ops[i].path);
      }
    }
  }
  pending_.clear();
  std::set<Inode*> done;  // an inode may have two names
  for (auto& [path, inode] : durable_) {
    if (!done.insert(inode.get()).second) continue;
    inode->durable = crash_contents(*inode, mode);
    inode->data = inode->durable;
  }
  files_ = durable_;
  faults_.clear();
  killed_ = false;
  kill_countdown_ = -1;
  ++generation_;
}

void FaultEnv::restart_process() {
  faults_.clear();
  killed_ = false;
  kill_countdown_ = -1;
  ++generation_;
}

std::vector<uint8_t> FaultEnv::contents(const std::string& path) const {
  auto it = files_.find(path);
  SMSX_ASSERT(it != files_.end());
  return it->second->data;
}

void FaultEnv::set_contents(const std::string& path, std::vector<uint8_t> bytes) {
  dirs_.insert(dir_of(path));
  auto it = files_.find(path);
  std::shared_ptr<Inode> inode = it != files_.end() ? it->second : std::make_shared<Inode>();
  inode->data = std::move(bytes);
  inode->durable = inode->data;
  files_[path] = inode;
  durable_[path] = inode;
}

void FaultEnv::flip_byte(const std::string& path, uint64_t offset, uint8_t mask) {
  auto it = files_.find(path);
  SMSX_ASSERT(it != files_.end());
  SMSX_ASSERT(offset < it->second->data.size());
  it->second->data[offset] ^= mask;
  if (offset < it->second->durable.size()) it->second->durable[offset] ^= mask;
}

}  // namespace smsx::persistence::testing
