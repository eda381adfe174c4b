// Where smsx connects and which token it says hello with.
//
// Each setting comes from the first source that has it: a flag (`--addr`, `--token`,
// `--gateway`), the environment (SMSX_ADDR, SMSX_TOKEN, SMSX_GATEWAY), then a
// configuration file: `--config FILE`, else $SMSX_CONFIG, else
// $XDG_CONFIG_HOME/smsx/cli.toml (~/.config/smsx/cli.toml) when it exists. The file is either
// smsxd's own gateways file (only [[gateways]] tables; docs/configuration.md) or a CLI file:
//
//   address = "127.0.0.1:7700"
//   token = "…"                  # one token for every command, or:
//   gateways_file = "/srv/smsx-data/gateways.toml"   # a token per role, chosen per command
//   gateway = "admin-1"          # with gateways_file: always use this gateway
//
// With a gateways list, each command uses the first gateway whose role may do its op
// (admin, then customer, payments, supplier), unless `gateway` names one. A token from a
// flag or the environment wins over the file's tokens. Loading reads
// files only; nothing here talks to the network.
#pragma once

#include <string>
#include <vector>

#include "net/config.h"
#include "net/roles.h"

namespace smsx::cli {

inline constexpr const char* kDefaultAddress = "127.0.0.1:7700";

// What the command line said; empty strings mean "not given".
struct SettingFlags {
  std::string address, token, gateway, config_path;
};

struct Settings {
  net::Endpoint address;
  std::string token;                         // set: used for every op
  std::vector<net::GatewayConfig> gateways;  // else: chosen per op
  std::string gateway;                       // preferred gateway name, may be empty
  std::string source;                        // where the tokens came from, for errors
};

// Flags, then environment, then the configuration file. Errors name the source.
net::Result<Settings> load_settings(const SettingFlags& flags);

// The token to say hello with for `op`; an error says what to configure.
net::Result<std::string> token_for(const Settings& settings, net::OpKind op);

}  // namespace smsx::cli
