// The replication stream's own record type, and how a standby catching up from the segment
// files is fed (net/replica_stream.h).
#include "net/replica_stream.h"

#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <uv.h>

#include <string>
#include <vector>

#include "persistence/command_codec.h"
#include "persistence/file_names.h"
#include "persistence/wal_format.h"
#include "persistence/wal_record.h"
#include "tests/persistence/fault_env_util.h"

namespace smsx::net {
namespace {

TEST(ReplicaStreamTest, TheDurableMarkIsNoLoggedRecordType) {
  // A standby tells a mark from a record by its type alone.
  EXPECT_FALSE(persistence::is_command_type(kPrimaryDurableType));
  EXPECT_NE(kPrimaryDurableType, persistence::kRecordTypeReserved);
}

// One end of a socket pair as the standby's connection, the other end read into `received`.
class StandbySocket {
 public:
  StandbySocket() {
    uv_loop_init(&loop_);
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    uv_pipe_init(&loop_, &primary_, 0);
    uv_pipe_open(&primary_, fds[0]);
    uv_pipe_init(&loop_, &standby_, 0);
    uv_pipe_open(&standby_, fds[1]);
    standby_.data = &received;
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&standby_),
        [](uv_handle_t*, size_t size, uv_buf_t* buf) {
          buf->base = new char[size];
          buf->len = size;
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          auto* into = static_cast<std::vector<uint8_t>*>(s->data);
          if (n > 0) into->insert(into->end(), buf->base, buf->base + n);
          delete[] buf->base;
        });
  }
  ~StandbySocket() {
    uv_close(reinterpret_cast<uv_handle_t*>(&primary_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&standby_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }
  uv_stream_t* primary() { return reinterpret_cast<uv_stream_t*>(&primary_); }
  // Runs the loop until everything written on the primary's end was read on the standby's.
  void deliver() {
    while (uv_stream_get_write_queue_size(primary()) > 0 || pending_read()) {
      uv_run(&loop_, UV_RUN_ONCE);
    }
  }

  std::vector<uint8_t> received;

 private:
  bool pending_read() {
    int unread = 0;
    uv_os_fd_t fd;
    uv_fileno(reinterpret_cast<uv_handle_t*>(&standby_), &fd);
    return ::ioctl(fd, FIONREAD, &unread) == 0 && unread > 0;
  }

  uv_loop_t loop_;
  uv_pipe_t primary_, standby_;
};

// A standby far behind is fed from the segment files by a log reader kept across pumps,
// holding its copy of the segment as it was when it was read. That copy can hold a batch the
// commit thread was still writing: seen half-written, it looks like damage followed by
// intact records. The stream reads such damage again from the file as it is now, and sends
// every record whole.
TEST(ReplicaStreamTest, DamageInAKeptReadersCopyIsReadAgainFromTheFile) {
  persistence::testing::FaultEnv env(1);
  ASSERT_TRUE(env.create_dir("wal").ok());
  const std::string path = "wal/" + persistence::segment_file_name(1);
  // 80 records of 64 KiB: more than the 4 MiB one pump sends, so its reader is kept.
  constexpr uint64_t kRecords = 80;
  const auto type = persistence::command_record_type(Op::kDeposit);
  uint8_t header[persistence::kSegmentHeaderBytes];
  persistence::encode_segment_header(1, header);
  std::vector<uint8_t> whole(header, header + sizeof header);
  size_t half_written_at = 0;
  for (uint64_t lsn = 1; lsn <= kRecords; ++lsn) {
    if (lsn == kRecords - 1) half_written_at = whole.size();
    std::vector<uint8_t> payload(64 << 10, static_cast<uint8_t>(lsn));
    persistence::append_record(&whole, lsn, type, payload);
  }
  // The reader's copy: record 79's last pages not written yet (zeros), record 80 whole.
  std::vector<uint8_t> stale = whole;
  std::fill(stale.begin() + static_cast<ptrdiff_t>(half_written_at) + 8192,
            stale.begin() + static_cast<ptrdiff_t>(half_written_at) + 32768, 0);
  env.set_contents(path, stale);

  StandbySocket socket;
  Counter sent_live, sent_from_log;
  Histogram standby_time(kLatencyBucketsSeconds);
  ReplicaStream stream(socket.primary(), env, "wal", 1, "", 0,
                       {&sent_live, &sent_from_log, &standby_time});
  ASSERT_EQ(stream.pump(nullptr, kRecords), "");
  ASSERT_LT(stream.next_lsn(), kRecords - 1);  // stopped before the damage, reader kept
  socket.deliver();

  env.set_contents(path, whole);  // the batch is whole on disk by now
  EXPECT_EQ(stream.pump(nullptr, kRecords), "");
  EXPECT_EQ(stream.next_lsn(), kRecords + 1);
  socket.deliver();

  // Every record once, in order, as in the file; durable marks between them.
  std::span<const uint8_t> rest(socket.received);
  uint64_t next = 1;
  while (!rest.empty()) {
    persistence::WalRecord record;
    size_t bytes = 0;
    ASSERT_EQ(persistence::check_record(rest, &record, &bytes), persistence::RecordCheck::kIntact)
        << "after LSN " << next - 1;
    if (record.type != kPrimaryDurableType) {
      ASSERT_EQ(record.lsn, next);
      ASSERT_EQ(record.payload.size(), size_t{64} << 10);
      EXPECT_EQ(record.payload[40000], static_cast<uint8_t>(next));
      ++next;
    }
    rest = rest.subspan(bytes);
  }
  EXPECT_EQ(next, kRecords + 1);
  EXPECT_EQ(sent_from_log.value(), kRecords);
}

}  // namespace
}  // namespace smsx::net
