#include "persistence/posix_env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/assert.h"

namespace smsx::persistence {
namespace {

Status posix_error(const char* op, const std::string& path) {
  return Status::io_error(errno, std::string(op) + " " + path);
}

Status posix_error_at(const char* op, const std::string& path, uint64_t offset) {
  return Status::io_error(errno,
                          std::string(op) + " " + path + " at offset " + std::to_string(offset));
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status append(std::span<const uint8_t> data) override {
    SMSX_ASSERT(fd_ >= 0);
    // write(2) may write less than asked (signal, disk nearly full): go on until every
    // byte is written or the kernel reports an error.
    while (!data.empty()) {
      const ssize_t written = ::write(fd_, data.data(), data.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        return posix_error_at("write", path_, size_);
      }
      SMSX_ASSERT(written > 0);
      size_ += static_cast<uint64_t>(written);
      data = data.subspan(static_cast<size_t>(written));
    }
    return Status();
  }

  Status write_at(uint64_t offset, std::span<const uint8_t> data) override {
    SMSX_ASSERT(fd_ >= 0);
    SMSX_ASSERT(offset + data.size() <= size_);
    while (!data.empty()) {
      const ssize_t written = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (written < 0) {
        if (errno == EINTR) continue;
        return posix_error_at("pwrite", path_, offset);
      }
      SMSX_ASSERT(written > 0);
      offset += static_cast<uint64_t>(written);
      data = data.subspan(static_cast<size_t>(written));
    }
    return Status();
  }

  Status sync() override {
    SMSX_ASSERT(fd_ >= 0);
    if (::fdatasync(fd_) != 0) return posix_error_at("fdatasync", path_, size_);
    return Status();
  }

  Status close() override {
    if (fd_ < 0) return Status();
    const int result = ::close(fd_);
    fd_ = -1;
    if (result != 0) return posix_error("close", path_);
    return Status();
  }

  uint64_t size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_ = 0;
};

class PosixReadableFile final : public ReadableFile {
 public:
  PosixReadableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixReadableFile() override { ::close(fd_); }

  Status read_at(uint64_t offset, std::span<uint8_t> dst, size_t* bytes_read) override {
    *bytes_read = 0;
    while (*bytes_read < dst.size()) {
      const ssize_t got = ::pread(fd_, dst.data() + *bytes_read, dst.size() - *bytes_read,
                                  static_cast<off_t>(offset + *bytes_read));
      if (got < 0) {
        if (errno == EINTR) continue;
        return posix_error_at("pread", path_, offset + *bytes_read);
      }
      if (got == 0) break;  // end of file
      *bytes_read += static_cast<size_t>(got);
    }
    return Status();
  }

  Status size(uint64_t* bytes) override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return posix_error("fstat", path_);
    *bytes = static_cast<uint64_t>(st.st_size);
    return Status();
  }

  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
};

}  // namespace

Status PosixEnv::new_writable_file(const std::string& path, std::unique_ptr<WritableFile>* file) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return posix_error("open for writing", path);
  *file = std::make_unique<PosixWritableFile>(path, fd);
  return Status();
}

Status PosixEnv::open_for_overwrite(const std::string& path, std::unique_ptr<WritableFile>* file) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return posix_error("open for overwriting", path);
  *file = std::make_unique<PosixWritableFile>(path, fd);
  return Status();
}

Status PosixEnv::new_readable_file(const std::string& path, std::unique_ptr<ReadableFile>* file) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return posix_error("open for reading", path);
  *file = std::make_unique<PosixReadableFile>(path, fd);
  return Status();
}

Status PosixEnv::list_dir(const std::string& dir, std::vector<std::string>* names) {
  names->clear();
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return posix_error("opendir", dir);
  int read_errno = 0;
  while (true) {
    errno = 0;  // readdir returns nullptr both at the end and on error
    const struct dirent* entry = ::readdir(handle);
    if (entry == nullptr) {
      read_errno = errno;
      break;
    }
    const std::string_view name(entry->d_name);
    if (name != "." && name != "..") names->emplace_back(name);
  }
  ::closedir(handle);
  if (read_errno != 0) {
    errno = read_errno;
    return posix_error("readdir", dir);
  }
  return Status();
}

Status PosixEnv::create_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return posix_error("mkdir", dir);
  return Status();
}

Status PosixEnv::rename_file(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return posix_error("rename", from + " to " + to);
  return Status();
}

Status PosixEnv::delete_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return posix_error("unlink", path);
  return Status();
}

Status PosixEnv::truncate_file(const std::string& path, uint64_t bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return posix_error("open for truncation", path);
  Status status;
  if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    status = posix_error_at("ftruncate", path, bytes);
  } else if (::fsync(fd) != 0) {
    status = posix_error_at("fsync after truncation", path, bytes);
  }
  ::close(fd);
  return status;
}

Status PosixEnv::sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return posix_error("open folder", dir);
  Status status;
  if (::fsync(fd) != 0) status = posix_error("fsync folder", dir);
  ::close(fd);
  return status;
}

Status PosixEnv::file_size(const std::string& path, uint64_t* bytes) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return posix_error("stat", path);
  *bytes = static_cast<uint64_t>(st.st_size);
  return Status();
}

bool PosixEnv::file_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace smsx::persistence
