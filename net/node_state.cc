#include "net/node_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace smsx::net {
namespace {

std::string path_of(const std::string& data_dir) { return data_dir + "/node.state"; }

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

bool fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string load_node_state(const std::string& data_dir, NodeState* state) {
  *state = NodeState{};
  std::ifstream in(path_of(data_dir));
  if (!in) return errno == ENOENT ? "" : errno_text("cannot read " + path_of(data_dir));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key, value;
    fields >> key >> value;
    if (key == "epoch") {
      char* end = nullptr;
      unsigned long long epoch = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || epoch == 0) {
        return path_of(data_dir) + ": bad epoch \"" + value + "\"";
      }
      state->epoch = epoch;
    } else if (key == "peer") {
      state->peer = value;
    } else if (!key.empty()) {
      return path_of(data_dir) + ": unknown line \"" + line + "\"";
    }
  }
  return "";
}

std::string save_node_state(const std::string& data_dir, const NodeState& state) {
  const std::string path = path_of(data_dir);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "epoch " << state.epoch << "\n";
    if (!state.peer.empty()) out << "peer " << state.peer << "\n";
    out.flush();
    if (!out) return errno_text("cannot write " + tmp);
  }
  if (!fsync_path(tmp, O_RDONLY)) return errno_text("cannot fsync " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errno_text("cannot rename " + tmp);
  if (!fsync_path(data_dir, O_RDONLY | O_DIRECTORY)) return errno_text("cannot fsync " + data_dir);
  return "";
}

}  // namespace smsx::net
