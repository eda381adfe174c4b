// The crash model of FaultEnv itself: the other tests are only as good as it is.
#include <gtest/gtest.h>

#include <cerrno>

#include "core/assert.h"
#include "tests/persistence/fault_env_util.h"

namespace smsx::persistence::testing {
namespace {

constexpr char kDir[] = "/d";

std::vector<uint8_t> bytes(size_t n, uint8_t value) { return std::vector<uint8_t>(n, value); }

std::unique_ptr<WritableFile> create(FaultEnv& env, const std::string& path) {
  std::unique_ptr<WritableFile> file;
  SMSX_ASSERT(env.new_writable_file(path, &file).ok());
  return file;
}

TEST(FaultEnvTest, SyncedDataAndEntriesSurviveACrash) {
  FaultEnv env(1);
  ASSERT_TRUE(env.create_dir(kDir).ok());
  auto file = create(env, "/d/a");
  ASSERT_TRUE(file->append(bytes(10, 1)).ok());
  ASSERT_TRUE(file->sync().ok());
  ASSERT_TRUE(env.sync_dir(kDir).ok());
  ASSERT_TRUE(file->append(bytes(10, 2)).ok());  // not synced
  env.crash(CrashMode::kDropUnsynced);
  EXPECT_EQ(env.contents("/d/a"), bytes(10, 1));
  EXPECT_TRUE(file->append(bytes(1, 3)).is_io_error());  // handles die with the crash
}

TEST(FaultEnvTest, UnsyncedEntriesAreLost) {
  FaultEnv env(1);
  ASSERT_TRUE(env.create_dir(kDir).ok());
  auto file = create(env, "/d/a");
  ASSERT_TRUE(file->append(bytes(10, 1)).ok());
  ASSERT_TRUE(file->sync().ok());  // data synced, folder not
  env.crash(CrashMode::kDropUnsynced);
  EXPECT_FALSE(env.file_exists("/d/a"));
}

TEST(FaultEnvTest, RenameIsDurableOnlyAfterFolderSync) {
  FaultEnv env(1);
  env.set_contents("/d/a.tmp", bytes(4, 1));
  ASSERT_TRUE(env.rename_file("/d/a.tmp", "/d/a").ok());
  env.crash(CrashMode::kDropUnsynced);
  EXPECT_TRUE(env.file_exists("/d/a.tmp"));
  EXPECT_FALSE(env.file_exists("/d/a"));
  ASSERT_TRUE(env.rename_file("/d/a.tmp", "/d/a").ok());
  ASSERT_TRUE(env.sync_dir(kDir).ok());
  env.crash(CrashMode::kDropUnsynced);
  EXPECT_TRUE(env.file_exists("/d/a"));
}

// Torn pages keep a prefix of the unsynced bytes, maybe a partial page, maybe zeros:
// never a later byte without the earlier ones, never a byte that was not written.
TEST(FaultEnvTest, TornPagesKeepAPrefixPossiblyZeroFilled) {
  bool saw_partial = false;
  bool saw_zeros = false;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    FaultEnv env(seed, 16);
    env.set_contents("/d/a", bytes(5, 1));
    auto file = create(env, "/d/b");  // same inode model, fresh file
    std::vector<uint8_t> written;
    for (int i = 0; i < 100; ++i) written.push_back(static_cast<uint8_t>(i + 1));
    ASSERT_TRUE(file->append(std::span(written).first(30)).ok());
    ASSERT_TRUE(file->sync().ok());
    ASSERT_TRUE(env.sync_dir(kDir).ok());
    ASSERT_TRUE(file->append(std::span(written).subspan(30)).ok());
    env.crash(CrashMode::kTornPages);
    const std::vector<uint8_t> after = env.contents("/d/b");
    ASSERT_GE(after.size(), 30u);
    ASSERT_LE(after.size(), 100u);
    size_t same = 0;
    while (same < after.size() && after[same] == written[same]) ++same;
    ASSERT_GE(same, 30u);
    for (size_t i = same; i < after.size(); ++i) ASSERT_EQ(after[i], 0) << "seed " << seed;
    saw_zeros |= same < after.size();
    saw_partial |= same % 16 != 0 && same != 30 && same != 100;
  }
  EXPECT_TRUE(saw_partial);
  EXPECT_TRUE(saw_zeros);
}

TEST(FaultEnvTest, FailOnceFailsTheChosenCall) {
  FaultEnv env(1);
  ASSERT_TRUE(env.create_dir(kDir).ok());
  auto file = create(env, "/d/a");
  env.fail_once(FaultOp::kAppend, EIO, 1, 3);
  ASSERT_TRUE(file->append(bytes(5, 1)).ok());
  const Status status = file->append(bytes(5, 2));
  EXPECT_EQ(status.error_number(), EIO);
  EXPECT_EQ(file->size(), 8u);  // a short write of 3 bytes
  EXPECT_TRUE(file->append(bytes(1, 3)).ok());
}

TEST(FaultEnvTest, CapacityGivesShortWriteThenEnospc) {
  FaultEnv env(1);
  ASSERT_TRUE(env.create_dir(kDir).ok());
  env.set_capacity_bytes(7);
  auto file = create(env, "/d/a");
  EXPECT_EQ(file->append(bytes(10, 1)).error_number(), ENOSPC);
  EXPECT_EQ(env.contents("/d/a").size(), 7u);
}

TEST(FaultEnvTest, KillFailsEverythingUntilCrash) {
  FaultEnv env(1);
  ASSERT_TRUE(env.create_dir(kDir).ok());
  auto file = create(env, "/d/a");
  env.kill_after(1);
  ASSERT_TRUE(file->append(bytes(5, 1)).ok());
  EXPECT_TRUE(file->sync().is_io_error());
  EXPECT_TRUE(env.killed());
  EXPECT_TRUE(env.sync_dir(kDir).is_io_error());
  env.crash(CrashMode::kDropUnsynced);
  EXPECT_FALSE(env.killed());
  EXPECT_TRUE(env.create_dir(kDir).ok());
}

}  // namespace
}  // namespace smsx::persistence::testing
