// smsx-activate's configuration: a TOML file given with --config (docs/activate_gateway.md,
// "Configuration", lists every key). Loading validates every key and reports the first
// problem as one line naming the file, the key and what was expected; the token is never
// echoed. Relative paths in the file (keys_file) are relative to the file's folder.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "net/config.h"
#include "net/log.h"
#include "tools/activate_gateway/countries.h"

namespace smsx::activate {

struct GatewayLimits {
  std::uint64_t requests_per_key_per_second = 100;  // 0: unlimited
  std::uint64_t body_bytes_max = 16 * 1024;
  std::uint64_t connections_max = 10'000;
  std::uint64_t requests_in_flight_max = 256;  // per HTTP connection, then reading pauses
};

struct GatewayConfig {
  net::Endpoint listen{"127.0.0.1", 8080, false};  // HTTP: the API and GET /metrics
  net::Endpoint smsxd{"127.0.0.1", 7700, false};   // the server, as a customer gateway
  std::string token;                               // the customer gateway's token
  std::string keys_file;                           // API keys -> accounts (keys_file.h)
  int upstream_connections = 4;
  int money_scale = 2;                // decimal places: 12345 minor units -> "123.45"
  std::string default_country = "0";  // when a request gives no country
  GatewayLimits limits;
  CountryTable countries = CountryTable::defaults();
  net::LogLevel log_level = net::LogLevel::kInfo;
  bool help = false;
};

// argv[0] is skipped. Accepts --config FILE and --help.
net::Result<GatewayConfig> load_gateway_config(std::span<const std::string_view> args);
// Parses the TOML text of a configuration file (tests use this directly).
net::Result<GatewayConfig> parse_gateway_config(std::string_view text, std::string_view source,
                                                std::string_view base_dir);

std::string gateway_help();

}  // namespace smsx::activate
