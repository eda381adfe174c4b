// A standby replaces its whole state and log with a snapshot from its primary
// (Server::on_snapshot). That takes several steps on disk (delete its own segments and
// snapshots, put the received snapshot in place); a crash between them could leave a mix
// that recovery would take for a consistent state, for example one of its own snapshots
// with none of the log after it. So the node marks the reset durably before the first step
// and clears the mark after the last; a start-up that finds the mark empties the log and
// snapshot folders and starts from nothing (a standby then gets its primary's snapshot
// again). docs/operations.md "Replication".
#pragma once

#include <string>
#include <vector>

#include "persistence/env.h"
#include "persistence/status.h"

namespace smsx::net {

// The mark's file name in the data folder.
inline constexpr char kStateResetMark[] = "replacing-state";

persistence::Status begin_state_reset(persistence::Env& env, const std::string& data_dir);
persistence::Status end_state_reset(persistence::Env& env, const std::string& data_dir);
bool state_reset_pending(persistence::Env& env, const std::string& data_dir);

// After a reset that did not finish: deletes every file in `wal_dir` and `snapshot_dir`
// (their paths go to *deleted), syncs both folders, then clears the mark.
persistence::Status discard_interrupted_reset(persistence::Env& env, const std::string& data_dir,
                                              const std::string& wal_dir,
                                              const std::string& snapshot_dir,
                                              std::vector<std::string>* deleted);

// Deletes snapshots that were being received from a primary when the process stopped
// (ReplicationClient writes them under kReceivedSnapshotPrefix); their paths go to *deleted.
persistence::Status delete_received_leftovers(persistence::Env& env,
                                              const std::string& snapshot_dir,
                                              std::vector<std::string>* deleted);

}  // namespace smsx::net
