#include "net/state_reset.h"

namespace smsx::net {

using persistence::Status;

Status begin_state_reset(persistence::Env& env, const std::string& data_dir) {
  static constexpr char kText[] = "a snapshot from the primary is replacing this node's state\n";
  return env.write_file_durably(
      persistence::join_path(data_dir, kStateResetMark),
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kText), sizeof(kText) - 1));
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

}  // namespace smsx::net
