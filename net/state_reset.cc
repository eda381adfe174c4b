#include "net/state_reset.h"

#include <string_view>

#include "net/replication_client.h"
#include "persistence/file_names.h"
#include "persistence/wal_format.h"

namespace smsx::net {
namespace {

using persistence::Status;

// A segment, a snapshot, or the temporary file of one (a local snapshot being written, a
// snapshot being received from the primary).
bool is_state_file(std::string_view name) {
  if (name.ends_with(persistence::kTempSuffix)) {
    name.remove_suffix(sizeof(persistence::kTempSuffix) - 1);
    if (name.starts_with(kReceivedSnapshotPrefix))
      name.remove_prefix(kReceivedSnapshotPrefix.size());
  }
  return persistence::parse_segment_file_name(name) || persistence::parse_snapshot_file_name(name);
}

}  // namespace

Status begin_state_reset(persistence::Env& env, const std::string& data_dir) {
  static constexpr char kText[] = "a snapshot from the primary is replacing this node's state\n";
  const std::string path = persistence::join_path(data_dir, kStateResetMark);
  Status st = env.write_file_durably(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kText), sizeof(kText) - 1));
  // Not marked, then not replaced: a mark left half-written would make the next start-up
  // discard a state that was never touched.
  if (!st.ok() && env.file_exists(path) && env.delete_file(path).ok()) (void)env.sync_dir(data_dir);
  return st;
}

Status end_state_reset(persistence::Env& env, const std::string& data_dir) {
  Status st = env.delete_file(persistence::join_path(data_dir, kStateResetMark));
  if (st.ok()) st = env.sync_dir(data_dir);
  return st;
}

bool state_reset_pending(persistence::Env& env, const std::string& data_dir) {
  return env.file_exists(persistence::join_path(data_dir, kStateResetMark));
}

Status discard_interrupted_reset(persistence::Env& env, const std::string& data_dir,
                                 const std::string& wal_dir, const std::string& snapshot_dir,
                                 std::vector<std::string>* deleted) {
  for (const std::string& dir : {wal_dir, snapshot_dir}) {
    std::vector<std::string> names;
    Status st = env.list_dir(dir, &names);
    if (!st.ok()) return st;
    for (const std::string& name : names) {
      if (!is_state_file(name)) continue;  // not ours (lost+found, an operator's copy)
      const std::string path = persistence::join_path(dir, name);
      st = env.delete_file(path);
      if (!st.ok()) return st;
      deleted->push_back(path);
    }
    st = env.sync_dir(dir);
    if (!st.ok()) return st;
  }
  return end_state_reset(env, data_dir);
}

Status delete_received_leftovers(persistence::Env& env, const std::string& snapshot_dir,
                                 std::vector<std::string>* deleted) {
  std::vector<std::string> names;
  Status st = env.list_dir(snapshot_dir, &names);
  if (!st.ok()) return st;
  for (const std::string& name : names) {
    if (!name.starts_with(kReceivedSnapshotPrefix)) continue;
    const std::string path = persistence::join_path(snapshot_dir, name);
    st = env.delete_file(path);
    if (!st.ok()) return st;
    deleted->push_back(path);
  }
  return deleted->empty() ? Status() : env.sync_dir(snapshot_dir);
}

}  // namespace smsx::net
