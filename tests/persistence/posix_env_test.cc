// PosixEnv on a real temporary folder, and the Status it returns.
#include "persistence/posix_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "persistence/file_names.h"
#include "persistence/snapshot_store.h"
#include "tests/persistence/wal_test_util.h"

namespace smsx::persistence {
namespace {

class PosixEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/smsx-posix-env-XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr);
    dir_ = name;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const char* name) const { return join_path(dir_, name); }

  PosixEnv env_;
  std::string dir_;
};

std::vector<uint8_t> bytes_of(std::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

TEST(PersistenceStatusTest, OkHasNoMessage) {
  const Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.code(), Status::Code::kOk);
  EXPECT_EQ(ok.error_number(), 0);
  EXPECT_EQ(ok.message(), "");
  EXPECT_EQ(ok.to_string(), "OK");
}

TEST(PersistenceStatusTest, IoErrorCarriesErrnoFileAndOffset) {
  const Status status = Status::io_error(ENOSPC, "write /d/wal.log at offset 4096");
  EXPECT_TRUE(status.is_io_error());
  EXPECT_EQ(status.error_number(), ENOSPC);
  EXPECT_NE(status.message().find("/d/wal.log at offset 4096"), std::string::npos);
  EXPECT_NE(status.message().find("No space left on device"), std::string::npos);
  const Status copy = status;  // copies are deep and equal
  EXPECT_EQ(copy.to_string(), status.to_string());
}

TEST_F(PosixEnvTest, WriteSyncReadBack) {
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(env_.new_writable_file(path("a"), &file).ok());
  ASSERT_TRUE(file->append(bytes_of("hello ")).ok());
  ASSERT_TRUE(file->append(bytes_of("world")).ok());
  EXPECT_EQ(file->size(), 11u);
  ASSERT_TRUE(file->write_at(0, bytes_of("J")).ok());
  ASSERT_TRUE(file->sync().ok());
  ASSERT_TRUE(file->close().ok());
  std::vector<uint8_t> contents;
  ASSERT_TRUE(env_.read_file(path("a"), &contents).ok());
  EXPECT_EQ(contents, bytes_of("Jello world"));

  std::unique_ptr<ReadableFile> reader;
  ASSERT_TRUE(env_.new_readable_file(path("a"), &reader).ok());
  std::vector<uint8_t> buffer(8);
  size_t got = 0;
  ASSERT_TRUE(reader->read_at(6, buffer, &got).ok());
  EXPECT_EQ(got, 5u);  // short only at the end of the file
  EXPECT_EQ(std::vector<uint8_t>(buffer.begin(), buffer.begin() + 5), bytes_of("world"));
}

TEST_F(PosixEnvTest, RenameListTruncateDelete) {
  ASSERT_TRUE(env_.write_file_durably(path("x.tmp"), bytes_of("0123456789")).ok());
  ASSERT_TRUE(env_.rename_file(path("x.tmp"), path("x")).ok());
  ASSERT_TRUE(env_.sync_dir(dir_).ok());
  std::vector<std::string> names;
  ASSERT_TRUE(env_.list_dir(dir_, &names).ok());
  EXPECT_EQ(names, std::vector<std::string>{"x"});
  ASSERT_TRUE(env_.truncate_file(path("x"), 4).ok());
  uint64_t size = 0;
  ASSERT_TRUE(env_.file_size(path("x"), &size).ok());
  EXPECT_EQ(size, 4u);
  ASSERT_TRUE(env_.delete_file(path("x")).ok());
  EXPECT_FALSE(env_.file_exists(path("x")));
}

TEST_F(PosixEnvTest, ErrorsNameTheFile) {
  std::unique_ptr<ReadableFile> reader;
  const Status status = env_.new_readable_file(path("missing"), &reader);
  ASSERT_TRUE(status.is_io_error());
  EXPECT_EQ(status.error_number(), ENOENT);
  EXPECT_NE(status.message().find(path("missing")), std::string::npos);
  EXPECT_EQ(env_.delete_file(path("missing")).error_number(), ENOENT);
}

TEST_F(PosixEnvTest, ShortWritesAreCompletedOrReported) {
  // /dev/full fails every write with ENOSPC: the error names the file and offset.
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(env_.new_writable_file("/dev/full", &file).ok());
  const Status status = file->append(bytes_of("data"));
  ASSERT_TRUE(status.is_io_error());
  EXPECT_EQ(status.error_number(), ENOSPC);
  EXPECT_NE(status.message().find("/dev/full at offset 0"), std::string::npos);
}

// The whole stack on the real disk: segments, a torn tail cut by ftruncate, snapshots.
TEST_F(PosixEnvTest, WalAndSnapshotsOnDisk) {
  using testing::open_writer;
  using testing::read_log;
  using testing::Record;
  using testing::write_batch_of;
  std::vector<Record> written;
  {
    auto writer = open_writer(env_, 1, 400, dir_);
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(write_batch_of(*writer, 3, 40, &written).ok());
  }
  std::vector<NamedFile> segments;
  ASSERT_TRUE(list_segments(env_, dir_, &segments).ok());
  ASSERT_GT(segments.size(), 2u);
  // A torn write at the end of the last segment.
  uint64_t valid_bytes = 0;
  ASSERT_TRUE(env_.file_size(segments.back().path, &valid_bytes).ok());
  {
    std::FILE* file = std::fopen(segments.back().path.c_str(), "ab");
    ASSERT_NE(file, nullptr);
    const uint8_t torn[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    ASSERT_EQ(std::fwrite(torn, 1, sizeof(torn), file), sizeof(torn));
    ASSERT_EQ(std::fclose(file), 0);
  }
  const testing::ReadResult read = read_log(env_, dir_);
  ASSERT_TRUE(read.status.ok()) << read.status.to_string();
  EXPECT_EQ(read.records, written);
  ASSERT_TRUE(read.torn_tail.has_value());
  uint64_t size_after = 0;
  ASSERT_TRUE(env_.file_size(segments.back().path, &size_after).ok());
  EXPECT_EQ(size_after, valid_bytes);

  SnapshotStore store(env_, dir_, dir_);
  ASSERT_TRUE(store.write(6, bytes_of("state at 6")).ok());
  ASSERT_TRUE(store.write(12, bytes_of("state at 12")).ok());
  ASSERT_TRUE(store.prune().ok());
  LoadedSnapshot loaded;
  ASSERT_TRUE(store.load_newest_valid(&loaded).ok());
  EXPECT_EQ(loaded.lsn, 12u);
  EXPECT_EQ(std::vector<uint8_t>(loaded.body().begin(), loaded.body().end()),
            bytes_of("state at 12"));
  const testing::ReadResult after_snapshot = read_log(env_, dir_, 7);
  ASSERT_TRUE(after_snapshot.status.ok()) << after_snapshot.status.to_string();
  EXPECT_EQ(after_snapshot.records.front().lsn, 7u);
  EXPECT_EQ(after_snapshot.last_lsn, written.size());
}

TEST(PersistencePathTest, JoinAndDirOf) {
  EXPECT_EQ(join_path("/a", "b"), "/a/b");
  EXPECT_EQ(join_path("/a/", "b"), "/a/b");
  EXPECT_EQ(dir_of("/a/b"), "/a");
  EXPECT_EQ(dir_of("/b"), "/");
  EXPECT_EQ(dir_of("b"), ".");
}

}  // namespace
}  // namespace smsx::persistence
