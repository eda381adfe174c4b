// The generated gateways file: what lets smsxd run with no configuration at all.
//
// When the configuration defines no [[gateways]], the server calls
// load_or_create_gateways_file(config.data_dir). On first start it writes
// <data_dir>/gateways.toml with one gateway per role (customer, supplier, payments, admin,
// replica), each with a fresh random token (32 hex characters from getrandom), and logs the
// path so the operator can hand the tokens out. Later starts load the same file; operators
// may edit it (add gateways, replace tokens) and restart.
//
// The file holds secrets, so it is created with mode 0600 from the start (written to a
// temporary file opened O_CREAT|O_EXCL with mode 0600, fsynced, then hard-linked into place
// so that a crash never leaves a half-written file and two starts never overwrite each
// other). A file that group or others may read or write, or that belongs to another user, is
// refused, as ssh refuses such a private key.
//
// Start-up only; blocking file I/O; not for the loop thread once it serves traffic.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "net/config.h"

namespace smsx::net {

inline constexpr std::string_view kGatewaysFileName = "gateways.toml";

struct GatewaysFile {
  std::string path;      // <data_dir>/gateways.toml
  bool created = false;  // true on the start that generated it
  std::vector<GatewayConfig> gateways;
};

// <data_dir>/gateways.toml
std::string gateways_file_path(std::string_view data_dir);

// Creates data_dir (mode 0700, with missing parents) if needed, then loads the file or
// generates it. Errors name the path and the reason.
Result<GatewaysFile> load_or_create_gateways_file(const std::string& data_dir);

// A fresh token: 32 lower-case hex characters (128 random bits from getrandom).
Result<std::string> generate_token();

}  // namespace smsx::net
