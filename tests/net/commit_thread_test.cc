#include "net/commit_thread.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "persistence/posix_env.h"
#include "persistence/wal_reader.h"

namespace smsx::net {
namespace {

class CommitThreadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "smsx-commit-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    ASSERT_TRUE(persistence::WalWriter::open(env_, dir_, 1, {}, &wal_).ok());
    uv_loop_init(&loop_);
  }
  void TearDown() override {
    EXPECT_EQ(uv_loop_close(&loop_), 0);  // every handle was closed
    wal_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Ends the thread and lets the loop finish closing the handle while the object lives.
  void stop(CommitThread& commit) {
    commit.stop();
    uv_run(&loop_, UV_RUN_DEFAULT);
  }

  void append(uint8_t type, uint8_t byte) {
    const uint8_t payload[] = {byte, byte};
    ASSERT_TRUE(wal_->append(type, payload).ok());
  }

  std::vector<uint64_t> lsns_on_disk() {
    persistence::WalReader reader(env_, dir_, [](uint8_t) { return true; });
    EXPECT_TRUE(reader.seek(1).ok());
    std::vector<uint64_t> lsns;
    persistence::WalRecord record;
    while (reader.next(&record)) lsns.push_back(record.lsn);
    EXPECT_TRUE(reader.status().ok());
    return lsns;
  }

  persistence::PosixEnv env_;
  std::string dir_;
  std::unique_ptr<persistence::WalWriter> wal_;
  uv_loop_t loop_{};

 public:
  int done_calls_ = 0;
};

TEST_F(CommitThreadTest, ABatchBecomesDurableAndWakesTheLoop) {
  CommitThread commit(
      &loop_, [](void* self) { ++static_cast<CommitThreadTest*>(self)->done_calls_; }, this);
  EXPECT_FALSE(commit.busy());
  append(1, 7);
  append(1, 8);
  commit.submit(wal_.get(), wal_->take_batch());
  EXPECT_TRUE(commit.busy());
  // The async handle is the loop's only handle: UV_RUN_ONCE blocks until the thread wakes it.
  while (done_calls_ == 0) uv_run(&loop_, UV_RUN_ONCE);
  std::optional<CommitThread::Done> done = commit.take();
  ASSERT_TRUE(done.has_value());
  EXPECT_TRUE(done->status.ok());
  EXPECT_EQ(done->batch.first_lsn, 1u);
  EXPECT_EQ(done->batch.last_lsn, 2u);
  EXPECT_FALSE(commit.busy());
  EXPECT_EQ(wal_->durable_lsn(), 2u);
  EXPECT_EQ(lsns_on_disk(), (std::vector<uint64_t>{1, 2}));
  EXPECT_FALSE(commit.take().has_value());  // taken once
  wal_->recycle_batch(std::move(done->batch));
  stop(commit);
}

TEST_F(CommitThreadTest, WaitBlocksUntilTheBatchInFlightIsWrittenThenTheNextOneGoes) {
  CommitThread commit(
      &loop_, [](void*) {}, nullptr);
  EXPECT_FALSE(commit.wait().has_value());  // nothing in flight
  append(2, 1);
  commit.submit(wal_.get(), wal_->take_batch());
  append(2, 2);  // the loop fills the next batch meanwhile
  append(2, 3);
  std::optional<CommitThread::Done> first = commit.wait();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->batch.last_lsn, 1u);
  EXPECT_EQ(wal_->durable_lsn(), 1u);  // the second batch is not written yet
  commit.submit(wal_.get(), wal_->take_batch());
  std::optional<CommitThread::Done> second = commit.wait();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->batch.first_lsn, 2u);
  EXPECT_EQ(second->batch.last_lsn, 3u);
  EXPECT_EQ(wal_->durable_lsn(), 3u);
  EXPECT_EQ(lsns_on_disk(), (std::vector<uint64_t>{1, 2, 3}));
  stop(commit);
}

}  // namespace
}  // namespace smsx::net
