// The replication stream's own record type (net/replica_stream.h).
#include "net/replica_stream.h"

#include <gtest/gtest.h>

#include "persistence/command_codec.h"
#include "persistence/wal_format.h"

namespace smsx::net {
namespace {

TEST(ReplicaStreamTest, TheDurableMarkIsNoLoggedRecordType) {
  // A standby tells a mark from a record by its type alone.
  EXPECT_FALSE(persistence::is_command_type(kPrimaryDurableType));
  EXPECT_NE(kPrimaryDurableType, persistence::kRecordTypeReserved);
}

}  // namespace
}  // namespace smsx::net
