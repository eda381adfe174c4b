#include "tools/activate_gateway/config.h"

#include <toml++/toml.h>

#include <fstream>
#include <sstream>

#include "tools/activate_gateway/limits.h"

namespace smsx::activate {
namespace {

bool name_valid(std::string_view name) {
  if (name.empty() || name.size() > 16) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

class Reader {
 public:
  Reader(const toml::table& table, std::string_view source) : table_(table), source_(source) {}

  std::string error;

  std::string where(std::string_view key) const {
    return std::string(source_) + ": " + std::string(key) + ": ";
  }

  void endpoint(std::string_view key, net::HostKind kind, net::Endpoint* out) {
    if (!error.empty()) return;
    const toml::node* node = table_.at_path(key).node();
    if (node == nullptr) return;
    auto text = node->value<std::string>();
    auto parsed = text ? net::parse_endpoint(*text, kind) : std::nullopt;
    if (!parsed) {
      error = where(key) + "expected \"host:port\" (an IP address and a port)";
      return;
    }
    *out = *parsed;
  }

  void string(std::string_view key, std::string* out) {
    if (!error.empty()) return;
    const toml::node* node = table_.at_path(key).node();
    if (node == nullptr) return;
    auto text = node->value<std::string>();
    if (!text) {
      error = where(key) + "expected a string";
      return;
    }
    *out = *text;
  }

  void integer(std::string_view key, std::int64_t min, std::int64_t max, std::int64_t* out) {
    if (!error.empty()) return;
    const toml::node* node = table_.at_path(key).node();
    if (node == nullptr) return;
    auto value = node->is_integer() ? node->value<std::int64_t>() : std::nullopt;
    if (!value || *value < min || *value > max) {
      error = where(key) + "expected an integer from " + std::to_string(min) + " to " +
              std::to_string(max);
      return;
    }
    *out = *value;
  }

  template <typename T>
  void number(std::string_view key, std::int64_t min, std::int64_t max, T* out) {
    std::int64_t value = static_cast<std::int64_t>(*out);
    integer(key, min, max, &value);
    *out = static_cast<T>(value);
  }

 private:
  const toml::table& table_;
  std::string_view source_;
};

constexpr std::string_view kKnownKeys[] = {
    "listen",      "smsxd",           "token",  "keys_file", "upstream_connections",
    "money_scale", "default_country", "limits", "countries", "log_level"};
constexpr std::string_view kKnownLimits[] = {"requests_per_key_per_second", "body_bytes_max",
                                             "connections_max", "requests_in_flight_max"};

template <std::size_t N>
bool known(std::string_view key, const std::string_view (&keys)[N]) {
  for (std::string_view k : keys) {
    if (k == key) return true;
  }
  return false;
}

}  // namespace

net::Result<GatewayConfig> parse_gateway_config(std::string_view text, std::string_view source,
                                                std::string_view base_dir) {
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return net::Error{std::string(source) + ":" + std::to_string(e.source().begin.line) +
                      ": invalid TOML: " + std::string(e.description())};
  }
  for (const auto& [key, node] : table) {
    if (!known(key.str(), kKnownKeys)) {
      return net::Error{std::string(source) + ": unknown key '" + std::string(key.str()) + "'"};
    }
  }
  if (const toml::table* limits = table["limits"].as_table()) {
    for (const auto& [key, node] : *limits) {
      if (!known(key.str(), kKnownLimits)) {
        return net::Error{std::string(source) + ": unknown key 'limits." + std::string(key.str()) +
                          "'"};
      }
    }
  }
  GatewayConfig config;
  Reader r(table, source);
  r.endpoint("listen", net::HostKind::kIpLiteral, &config.listen);
  r.endpoint("smsxd", net::HostKind::kIpLiteral, &config.smsxd);
  r.string("token", &config.token);
  r.string("keys_file", &config.keys_file);
  r.number("upstream_connections", 1, kUpstreamConnectionsMax, &config.upstream_connections);
  r.number("money_scale", 0, kMoneyScaleMax, &config.money_scale);
  r.string("default_country", &config.default_country);
  r.number("limits.requests_per_key_per_second", 0, 1'000'000,
           &config.limits.requests_per_key_per_second);
  r.number("limits.body_bytes_max", 0, 1 << 20, &config.limits.body_bytes_max);
  r.number("limits.connections_max", 1, 1'000'000, &config.limits.connections_max);
  r.number("limits.requests_in_flight_max", 1, 65536, &config.limits.requests_in_flight_max);
  std::string level = "info";
  r.string("log_level", &level);
  if (!r.error.empty()) return net::Error{r.error};
  auto parsed_level = net::parse_log_level(level);
  if (!parsed_level)
    return net::Error{r.where("log_level") + "expected debug, info, warn or error"};
  config.log_level = *parsed_level;
  if (config.token.empty()) return net::Error{r.where("token") + "required"};
  if (config.keys_file.empty()) return net::Error{r.where("keys_file") + "required"};
  if (config.keys_file.front() != '/' && !base_dir.empty()) {
    config.keys_file = std::string(base_dir) + "/" + config.keys_file;
  }
  if (const toml::node* countries = table.get("countries")) {
    const toml::table* t = countries->as_table();
    if (t == nullptr) return net::Error{r.where("countries") + "expected a table"};
    for (const auto& [id, node] : *t) {
      auto name = node.value<std::string>();
      if (id.str().empty() || id.str().size() > 16 || !name || !name_valid(*name)) {
        return net::Error{r.where("countries") + "expected \"id\" = \"name\", a name being 1 to " +
                          "16 characters of [a-z0-9_-]"};
      }
      config.countries.set(std::string(id.str()), *name);
    }
  }
  return config;
}

net::Result<GatewayConfig> load_gateway_config(std::span<const std::string_view> args) {
  std::string path;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      GatewayConfig config;
      config.help = true;
      return config;
    }
    if (args[i] == "--config" && i + 1 < args.size()) {
      path = std::string(args[++i]);
    } else if (args[i].starts_with("--config=")) {
      path = std::string(args[i].substr(9));
    } else {
      return net::Error{"unknown argument '" + std::string(args[i]) + "' (see --help)"};
    }
  }
  if (path.empty()) return net::Error{"--config FILE is required (see --help)"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return net::Error{"--config " + path + ": cannot read"};
  std::stringstream text;
  text << in.rdbuf();
  const std::size_t slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? "." : path.substr(0, slash);
  return parse_gateway_config(text.str(), path, base);
}

std::string gateway_help() {
  return "usage: smsx-activate --config FILE\n"
         "\n"
         "An SMS-Activate-compatible HTTP gateway in front of smsxd.\n"
         "FILE is TOML; every key is described in docs/activate_gateway.md:\n"
         "  listen = \"127.0.0.1:8080\"          HTTP: /stubs/handler_api.php and /metrics\n"
         "  smsxd = \"127.0.0.1:7700\"           the server\n"
         "  token = \"...\"                      its customer gateway token (required)\n"
         "  keys_file = \"keys.txt\"             API key -> account (required)\n"
         "  upstream_connections = 4\n"
         "  money_scale = 2                    decimal places of amounts\n"
         "  default_country = \"0\"\n"
         "  log_level = \"info\"\n"
         "  [limits] requests_per_key_per_second = 100, body_bytes_max = 16384,\n"
         "           connections_max = 10000, requests_in_flight_max = 256\n"
         "  [countries] \"0\" = \"ru\", ...      SMS-Activate country id -> engine name\n"
         "SIGHUP reloads the keys file; SIGINT/SIGTERM stop.\n";
}

}  // namespace smsx::activate
