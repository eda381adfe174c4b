// What a node remembers about replication across restarts (DESIGN.md "Replication"):
// its epoch, and the gateway address of the last standby that followed it (its peer, which
// it asks at start-up whether a newer primary exists before it accepts writes).
//
// Kept in data_dir/node.state, two lines of text ("epoch 3", "peer 127.0.0.1:7710"),
// replaced atomically: written to node.state.tmp, fsynced, renamed, directory fsynced.
#pragma once

#include <cstdint>
#include <string>

namespace smsx::net {

struct NodeState {
  std::uint64_t epoch = 1;  // a fresh node is in epoch 1
  std::string peer;         // "" when no standby has followed this node yet
};

// Reads data_dir/node.state; a missing file gives the defaults. An error message, or "".
std::string load_node_state(const std::string& data_dir, NodeState* state);
// Replaces data_dir/node.state durably. An error message, or "".
std::string save_node_state(const std::string& data_dir, const NodeState& state);

}  // namespace smsx::net
