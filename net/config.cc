// Loading order: defaults (the member initialisers of Config), then the TOML file, then the
// flags. Every key is described once, in kKeys, which both the file and the flags go through,
// so a key cannot be accepted in one and not the other, and --help cannot miss one.
#include "net/config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace smsx::net {
namespace {

constexpr std::uint64_t kDayMs = 24ULL * 60 * 60 * 1000;
// A configuration file larger than this is not one.
constexpr std::size_t kConfigFileBytesMax = 1 << 20;
constexpr std::size_t kTokenCharsMin = 16;
constexpr std::size_t kTokenCharsMax = 128;
constexpr std::size_t kGatewayNameCharsMax = 64;

constexpr std::array<std::string_view, 7> kSections = {
    "orders", "refunds", "replication", "limits", "snapshot", "memory", "wal"};

// A value as written, in the file or after a flag.
struct RawValue {
  enum class Type : std::uint8_t { kString, kInteger, kBoolean, kOther };
  Type type = Type::kOther;
  std::string_view text;     // kString
  std::int64_t integer = 0;  // kInteger (TOML integers may be negative)
  bool boolean = false;      // kBoolean
  bool from_flag = false;    // flags are all strings; integers are read from their text
  std::string shown;         // how it appears after "got"
};

// nullopt when the value was taken; otherwise "expected ...; got ...".
using Problem = std::optional<std::string>;

struct KeyDef {
  std::string_view name;  // dotted, as in the file and the flag
  std::string_view kind;  // for --help
  std::string_view help;
  Problem (*apply)(Config&, const RawValue&);
  std::string (*show)(const Config&);
};

// A string as it appears in messages: quoted, control bytes escaped, long ones cut.
std::string quote(std::string_view text) {
  constexpr std::size_t kShownCharsMax = 80;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == kShownCharsMax) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

std::string got(const RawValue& value) { return "; got " + value.shown; }

std::optional<std::uint64_t> parse_uint(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Problem read_duration(const RawValue& value, std::uint64_t min_ms, std::uint64_t* out) {
  std::optional<std::uint64_t> ms;
  if (value.type == RawValue::Type::kString) ms = parse_duration_ms(value.text);
  if (!ms) return "expected a duration like 250ms, 2s, 20m, 1h, 14d" + got(value);
  if (*ms < min_ms || *ms > kDurationMsMax) {
    return "expected a duration from " + format_duration(min_ms) + " to " +
           format_duration(kDurationMsMax) + got(value);
  }
  *out = *ms;
  return std::nullopt;
}

Problem read_count(const RawValue& value, std::uint64_t min, std::uint64_t max,
                   std::uint64_t* out) {
  std::optional<std::uint64_t> n;
  if (value.type == RawValue::Type::kInteger && value.integer >= 0) {
    n = static_cast<std::uint64_t>(value.integer);
  } else if (value.type == RawValue::Type::kString && value.from_flag) {
    n = parse_uint(value.text);
  }
  if (!n || *n < min || *n > max) {
    return "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
           got(value);
  }
  *out = *n;
  return std::nullopt;
}

// TOML true/false; from a flag, the words true/false.
Problem read_bool(const RawValue& value, bool* out) {
  if (value.type == RawValue::Type::kBoolean) {
    *out = value.boolean;
  } else if (value.type == RawValue::Type::kString && value.from_flag &&
             (value.text == "true" || value.text == "false")) {
    *out = value.text == "true";
  } else {
    return "expected true or false" + got(value);
  }
  return std::nullopt;
}

// min == 0 is allowed alongside [floor, max]: "0 disables".
Problem read_bytes(const RawValue& value, bool zero_allowed, std::uint64_t min, std::uint64_t max,
                   std::uint64_t* out) {
  std::optional<std::uint64_t> n;
  if (value.type == RawValue::Type::kInteger && value.integer >= 0) {
    n = static_cast<std::uint64_t>(value.integer);
  } else if (value.type == RawValue::Type::kString) {
    n = parse_bytes(value.text);
  }
  if (!n || ((*n < min || *n > max) && !(zero_allowed && *n == 0))) {
    return std::string("expected a size like 65536, 64KiB, 8MiB, ") +
           (zero_allowed ? "0 or " : "") + "from " + format_bytes(min) + " to " +
           format_bytes(max) + got(value);
  }
  *out = *n;
  return std::nullopt;
}

template <std::size_t N>
Problem read_choice(const RawValue& value, const std::array<std::string_view, N>& choices,
                    std::size_t* index) {
  if (value.type == RawValue::Type::kString) {
    for (std::size_t i = 0; i < N; ++i) {
      if (value.text == choices[i]) {
        *index = i;
        return std::nullopt;
      }
    }
  }
  std::string expected = "expected one of ";
  for (std::size_t i = 0; i < N; ++i) {
    if (i > 0) expected += ", ";
    expected += choices[i];
  }
  return expected + got(value);
}

// An empty string gives nullopt when `empty_allowed`.
Problem read_endpoint(const RawValue& value, HostKind kind, bool empty_allowed,
                      std::optional<Endpoint>* out) {
  if (value.type == RawValue::Type::kString) {
    if (value.text.empty() && empty_allowed) {
      out->reset();
      return std::nullopt;
    }
    if (auto endpoint = parse_endpoint(value.text, kind)) {
      *out = std::move(*endpoint);
      return std::nullopt;
    }
  }
  std::string expected = "expected ";
  if (empty_allowed) expected += "\"\" or ";
  expected += kind == HostKind::kIpLiteral
                  ? "host:port with an IPv4 address or a [bracketed] IPv6 address and a port "
                    "from 0 to 65535"
                  : "host:port with an IP address or a DNS name and a port from 1 to 65535";
  return expected + got(value);
}

bool token_valid(std::string_view token) {
  if (token.size() < kTokenCharsMin || token.size() > kTokenCharsMax) return false;
  return std::all_of(token.begin(), token.end(),
                     [](char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '\\'; });
}

// Tokens are secrets: a problem with one states its length, never its text.
Problem read_token(const RawValue& value, bool empty_allowed, std::string* out) {
  if (value.type == RawValue::Type::kString &&
      ((value.text.empty() && empty_allowed) || token_valid(value.text))) {
    *out = std::string(value.text);
    return std::nullopt;
  }
  std::string expected = "expected ";
  if (empty_allowed) expected += "\"\" or ";
  expected += "a token of " + std::to_string(kTokenCharsMin) + " to " +
              std::to_string(kTokenCharsMax) +
              " visible ASCII characters other than '\"' and '\\'; got ";
  if (value.type != RawValue::Type::kString) return expected + value.shown;
  return expected + "a string of " + std::to_string(value.text.size()) + " characters";
}

std::string show_endpoint(const std::optional<Endpoint>& endpoint) {
  return endpoint ? endpoint->to_string() : "\"\"";
}

constexpr std::array<std::string_view, 2> kDurabilityChoices = {"fsync", "none"};
constexpr std::array<std::string_view, 2> kModeChoices = {"async", "sync"};
constexpr std::array<std::string_view, 4> kLogLevelChoices = {"debug", "info", "warn", "error"};

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;
constexpr std::uint64_t kGiB = 1024 * kMiB;
constexpr std::uint64_t kTiB = 1024 * kGiB;

// Every key but `gateways` (an array of tables, which has no flag form).
const KeyDef kKeys[] = {
    {"listen", "ADDRESS", "where gateways connect; port 0 picks a free port",
     [](Config& c, const RawValue& v) -> Problem {
       std::optional<Endpoint> endpoint;
       Problem problem = read_endpoint(v, HostKind::kIpLiteral, false, &endpoint);
       if (!problem) c.listen = std::move(*endpoint);
       return problem;
     },
     [](const Config& c) { return c.listen.to_string(); }},
    {"metrics_listen", "ADDRESS", "GET /metrics (Prometheus text); \"\" turns it off",
     [](Config& c, const RawValue& v) {
       return read_endpoint(v, HostKind::kIpLiteral, true, &c.metrics_listen);
     },
     [](const Config& c) { return show_endpoint(c.metrics_listen); }},
    {"data_dir", "PATH", "WAL segments, snapshots and the generated gateways file",
     [](Config& c, const RawValue& v) -> Problem {
       if (v.type != RawValue::Type::kString || v.text.empty()) {
         return "expected a non-empty path" + got(v);
       }
       c.data_dir = std::string(v.text);
       return std::nullopt;
     },
     [](const Config& c) { return c.data_dir; }},
    {"durability", "fsync|none", "none is for benchmarks only: answers before data is on disk",
     [](Config& c, const RawValue& v) {
       std::size_t i = 0;
       Problem problem = read_choice(v, kDurabilityChoices, &i);
       if (!problem) c.durability = i == 0 ? Durability::kFsync : Durability::kNone;
       return problem;
     },
     [](const Config& c) { return std::string(durability_name(c.durability)); }},
    {"orders.ttl", "DURATION", "order lifetime; waiting orders expire, received ones finish",
     [](Config& c, const RawValue& v) { return read_duration(v, 1, &c.orders.ttl_ms); },
     [](const Config& c) { return format_duration(c.orders.ttl_ms); }},
    {"orders.min_cancel_delay", "DURATION", "how long after placing an order it may be cancelled",
     [](Config& c, const RawValue& v) {
       return read_duration(v, 0, &c.orders.min_cancel_delay_ms);
     },
     [](const Config& c) { return format_duration(c.orders.min_cancel_delay_ms); }},
    {"orders.retention", "DURATION", "how long closed orders stay queryable",
     [](Config& c, const RawValue& v) { return read_duration(v, 0, &c.orders.retention_ms); },
     [](const Config& c) { return format_duration(c.orders.retention_ms); }},
    {"refunds.window", "DURATION", "how long after a deposit it may be refunded",
     [](Config& c, const RawValue& v) { return read_duration(v, 1, &c.refunds.window_ms); },
     [](const Config& c) { return format_duration(c.refunds.window_ms); }},
    {"replication.primary", "ADDRESS", "on a standby: the primary's host:port; \"\" on a primary",
     [](Config& c, const RawValue& v) {
       return read_endpoint(v, HostKind::kIpLiteralOrName, true, &c.replication.primary);
     },
     [](const Config& c) { return show_endpoint(c.replication.primary); }},
    {"replication.token", "TOKEN", "on a standby: its replica token on the primary",
     [](Config& c, const RawValue& v) { return read_token(v, true, &c.replication.token); },
     [](const Config& c) { return c.replication.token.empty() ? std::string("\"\"") : "(set)"; }},
    {"replication.mode", "async|sync", "sync: answer only once the standby has it durable",
     [](Config& c, const RawValue& v) {
       std::size_t i = 0;
       Problem problem = read_choice(v, kModeChoices, &i);
       if (!problem) c.replication.mode = i == 0 ? ReplicationMode::kAsync : ReplicationMode::kSync;
       return problem;
     },
     [](const Config& c) { return std::string(replication_mode_name(c.replication.mode)); }},
    {"replication.sync_fallback_timeout", "DURATION",
     "sync mode: answer without the standby after this long; 0s waits forever",
     [](Config& c, const RawValue& v) {
       return read_duration(v, 0, &c.replication.sync_fallback_timeout_ms);
     },
     [](const Config& c) { return format_duration(c.replication.sync_fallback_timeout_ms); }},
    {"limits.frame_bytes_max", "SIZE", "longest request line; longer closes the connection",
     [](Config& c, const RawValue& v) {
       return read_bytes(v, false, 256, 64 * kMiB, &c.limits.frame_bytes_max);
     },
     [](const Config& c) { return format_bytes(c.limits.frame_bytes_max); }},
    {"limits.connections_max", "COUNT", "open gateway connections; more are refused",
     [](Config& c, const RawValue& v) {
       return read_count(v, 1, 1'000'000, &c.limits.connections_max);
     },
     [](const Config& c) { return std::to_string(c.limits.connections_max); }},
    {"limits.output_bytes_max", "SIZE", "unsent replies per connection before it is dropped",
     [](Config& c, const RawValue& v) {
       return read_bytes(v, false, 64 * kKiB, kGiB, &c.limits.output_bytes_max);
     },
     [](const Config& c) { return format_bytes(c.limits.output_bytes_max); }},
    {"limits.requests_in_flight_max", "COUNT", "unanswered requests per connection",
     [](Config& c, const RawValue& v) {
       return read_count(v, 1, 1'000'000, &c.limits.requests_in_flight_max);
     },
     [](const Config& c) { return std::to_string(c.limits.requests_in_flight_max); }},
    {"limits.auth_failures_max", "COUNT", "failed hellos before the connection is closed",
     [](Config& c, const RawValue& v) {
       return read_count(v, 1, 1000, &c.limits.auth_failures_max);
     },
     [](const Config& c) { return std::to_string(c.limits.auth_failures_max); }},
    {"snapshot.every_records", "COUNT", "snapshot after this many WAL records; 0 never",
     [](Config& c, const RawValue& v) {
       return read_count(v, 0, std::uint64_t{1} << 40, &c.snapshot.every_records);
     },
     [](const Config& c) { return std::to_string(c.snapshot.every_records); }},
    {"snapshot.every_bytes", "SIZE", "snapshot after this many WAL bytes; 0 never",
     [](Config& c, const RawValue& v) {
       return read_bytes(v, true, kMiB, kTiB, &c.snapshot.every_bytes);
     },
     [](const Config& c) { return format_bytes(c.snapshot.every_bytes); }},
    {"memory.huge_pages", "BOOL", "back the heap with transparent huge pages",
     [](Config& c, const RawValue& v) { return read_bool(v, &c.memory.huge_pages); },
     [](const Config& c) { return std::string(c.memory.huge_pages ? "true" : "false"); }},
    {"wal.preallocate", "BOOL", "create log segments at full size, zero-filled, ahead of use",
     [](Config& c, const RawValue& v) { return read_bool(v, &c.wal.preallocate); },
     [](const Config& c) { return std::string(c.wal.preallocate ? "true" : "false"); }},
    {"expiries_per_tick_max", "COUNT", "orders expired per loop iteration at most",
     [](Config& c, const RawValue& v) {
       return read_count(v, 1, limits::kExpiriesPerTickMax, &c.expiries_per_tick_max);
     },
     [](const Config& c) { return std::to_string(c.expiries_per_tick_max); }},
    {"log_level", "debug|info|warn|error", "least important level written to stderr",
     [](Config& c, const RawValue& v) {
       std::size_t i = 0;
       Problem problem = read_choice(v, kLogLevelChoices, &i);
       if (!problem) c.log_level = static_cast<LogLevel>(i);
       return problem;
     },
     [](const Config& c) { return std::string(kLogLevelChoices[static_cast<int>(c.log_level)]); }},
};

const KeyDef* find_key(std::string_view name) {
  for (const KeyDef& key : kKeys) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view last_part(std::string_view dotted) {
  const std::size_t dot = dotted.rfind('.');
  return dot == std::string_view::npos ? dotted : dotted.substr(dot + 1);
}

// " (did you mean PREFIX+key?)" for a close known key, else "".
std::string suggestion(std::string_view name, std::string_view prefix) {
  const KeyDef* best = nullptr;
  std::size_t best_distance = 3;  // suggest only within two edits
  for (const KeyDef& key : kKeys) {
    std::size_t distance = edit_distance(name, key.name);
    if (last_part(name) == last_part(key.name)) distance = std::min<std::size_t>(distance, 1);
    if (distance < best_distance) {
      best = &key;
      best_distance = distance;
    }
  }
  if (best == nullptr) return "";
  return " (did you mean " + std::string(prefix) + std::string(best->name) + "?)";
}

std::string toml_shown(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return quote(node.as_string()->get());
    case toml::node_type::integer:
      return std::to_string(node.as_integer()->get());
    case toml::node_type::floating_point:
      return "the number " + std::to_string(node.as_floating_point()->get());
    case toml::node_type::boolean:
      return node.as_boolean()->get() ? "true" : "false";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

RawValue toml_raw(const toml::node& node) {
  RawValue raw;
  if (const auto* s = node.as_string()) {
    raw.type = RawValue::Type::kString;
    raw.text = s->get();
  } else if (const auto* i = node.as_integer()) {
    raw.type = RawValue::Type::kInteger;
    raw.integer = i->get();
  } else if (const auto* b = node.as_boolean()) {
    raw.type = RawValue::Type::kBoolean;
    raw.boolean = b->get();
  }
  raw.shown = toml_shown(node);
  return raw;
}

// "file:line:column: " for a node.
std::string where(std::string_view source_name, const toml::node& node) {
  const toml::source_region& region = node.source();
  return std::string(source_name) + ":" + std::to_string(region.begin.line) + ":" +
         std::to_string(region.begin.column) + ": ";
}

bool gateway_name_valid(std::string_view name) {
  if (name.empty() || name.size() > kGatewayNameCharsMax) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

// One [[gateways]] table; `path` is "gateways[i]".
std::optional<std::string> read_gateway(const toml::table& table, const std::string& path,
                                        std::string_view source_name, GatewayConfig* out) {
  bool has_name = false;
  bool has_role = false;
  bool has_token = false;
  for (const auto& [toml_key, node] : table) {
    const std::string_view key = toml_key.str();
    const std::string key_path = path + "." + std::string(key);
    const RawValue raw = toml_raw(node);
    Problem problem;
    if (key == "name") {
      has_name = true;
      if (raw.type == RawValue::Type::kString && gateway_name_valid(raw.text)) {
        out->name = std::string(raw.text);
      } else {
        problem = "expected 1 to 64 characters of A-Z a-z 0-9 _ . -" + got(raw);
      }
    } else if (key == "role") {
      has_role = true;
      const std::optional<Role> role =
          raw.type == RawValue::Type::kString ? parse_role(raw.text) : std::nullopt;
      if (role) {
        out->role = *role;
      } else {
        problem = "expected one of customer, supplier, payments, admin, replica" + got(raw);
      }
    } else if (key == "token") {
      has_token = true;
      problem = read_token(raw, false, &out->token);
    } else {
      problem = "unknown key (a gateway has name, role and token)";
    }
    if (problem) return where(source_name, node) + key_path + ": " + *problem;
  }
  const char* missing = !has_name ? "name" : !has_role ? "role" : !has_token ? "token" : nullptr;
  if (missing != nullptr) {
    return where(source_name, table) + path + "." + missing + ": missing";
  }
  return std::nullopt;
}

// The `gateways` array of tables; names and tokens must be unique.
std::optional<std::string> read_gateways(const toml::node& node, std::string_view source_name,
                                         std::vector<GatewayConfig>* out) {
  const toml::array* array = node.as_array();
  if (array == nullptr || (!array->empty() && !array->is_array_of_tables())) {
    return where(source_name, node) + "gateways: expected an array of tables ([[gateways]])" +
           "; got " + toml_shown(node);
  }
  out->clear();
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::table& table = *array->get(i)->as_table();
    const std::string path = "gateways[" + std::to_string(i) + "]";
    GatewayConfig gateway;
    if (auto error = read_gateway(table, path, source_name, &gateway)) return error;
    for (std::size_t j = 0; j < out->size(); ++j) {
      const std::string earlier = "gateways[" + std::to_string(j) + "]";
      if ((*out)[j].name == gateway.name) {
        return where(source_name, table) + path + ".name: " + quote(gateway.name) +
               " is already used by " + earlier;
      }
      if ((*out)[j].token == gateway.token) {
        return where(source_name, table) + path + ".token: the same token as " + earlier +
               "; every gateway needs its own";
      }
    }
    out->push_back(std::move(gateway));
  }
  return std::nullopt;
}

// Applies every key of `table` (the file's root when prefix is empty).
std::optional<std::string> apply_table(const toml::table& table, const std::string& prefix,
                                       std::string_view source_name, Config* config) {
  for (const auto& [toml_key, node] : table) {
    const std::string name = prefix + std::string(toml_key.str());
    if (prefix.empty() && name == "gateways") {
      if (auto error = read_gateways(node, source_name, &config->gateways)) return error;
      continue;
    }
    if (const KeyDef* key = find_key(name)) {
      if (Problem problem = key->apply(*config, toml_raw(node))) {
        return where(source_name, node) + name + ": " + *problem;
      }
      continue;
    }
    const bool section =
        prefix.empty() && std::find(kSections.begin(), kSections.end(), name) != kSections.end();
    if (!section) {
      return where(source_name, node) + "unknown key " + quote(name) + suggestion(name, "");
    }
    const toml::table* inner = node.as_table();
    if (inner == nullptr) {
      return where(source_name, node) + name + ": expected a table of keys; got " +
             toml_shown(node);
    }
    if (auto error = apply_table(*inner, name + ".", source_name, config)) return error;
  }
  return std::nullopt;
}

std::optional<std::string> parse_toml(std::string_view text, std::string_view source_name,
                                      toml::table* out) {
  try {
    *out = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    const toml::source_region& region = e.source();
    return std::string(source_name) + ":" + std::to_string(region.begin.line) + ":" +
           std::to_string(region.begin.column) + ": invalid TOML: " + std::string(e.description());
  } catch (const std::exception& e) {
    return std::string(source_name) + ": invalid TOML: " + e.what();
  }
  return std::nullopt;
}

std::optional<std::string> read_file(const std::string& path, std::string* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "--config " + path + ": cannot open: " + std::strerror(errno);
  out->clear();
  char chunk[16 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int saved = errno;
      ::close(fd);
      return "--config " + path + ": cannot read: " + std::strerror(saved);
    }
    if (n == 0) break;
    out->append(chunk, static_cast<std::size_t>(n));
    if (out->size() > kConfigFileBytesMax) {
      ::close(fd);
      return "--config " + path + ": larger than 1MiB; not a configuration file";
    }
  }
  ::close(fd);
  return std::nullopt;
}

// Rules that tie keys together, checked once every source has been applied.
std::optional<std::string> check_together(const Config& config) {
  if (config.orders.min_cancel_delay_ms >= config.orders.ttl_ms) {
    return "orders.min_cancel_delay: must be shorter than orders.ttl (" +
           format_duration(config.orders.ttl_ms) + "); got " +
           format_duration(config.orders.min_cancel_delay_ms);
  }
  if (config.replication.primary && config.replication.token.empty()) {
    return "replication.token: required when replication.primary is set (the standby's "
           "replica token on the primary)";
  }
  return std::nullopt;
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kCustomer:
      return "customer";
    case Role::kSupplier:
      return "supplier";
    case Role::kPayments:
      return "payments";
    case Role::kAdmin:
      return "admin";
    case Role::kReplica:
      return "replica";
  }
  return "?";
}

std::optional<Role> parse_role(std::string_view text) {
  for (Role role : kRoles) {
    if (role_name(role) == text) return role;
  }
  return std::nullopt;
}

std::string_view durability_name(Durability durability) {
  return kDurabilityChoices[durability == Durability::kFsync ? 0 : 1];
}

std::string_view replication_mode_name(ReplicationMode mode) {
  return kModeChoices[mode == ReplicationMode::kAsync ? 0 : 1];
}

std::string Endpoint::to_string() const {
  const std::string port_text = std::to_string(port);
  return ipv6 ? "[" + host + "]:" + port_text : host + ":" + port_text;
}

std::optional<std::uint64_t> parse_duration_ms(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  std::uint64_t scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60 * 1000;
  } else if (unit == "h") {
    scale = 60 * 60 * 1000;
  } else if (unit == "d") {
    scale = kDayMs;
  } else {
    return std::nullopt;
  }
  const std::optional<std::uint64_t> count = parse_uint(text.substr(0, digits));
  if (!count || *count > UINT64_MAX / scale) return std::nullopt;
  return *count * scale;
}

std::string format_duration(std::uint64_t ms) {
  if (ms == 0) return "0s";
  struct Unit {
    std::uint64_t ms;
    const char* suffix;
  };
  constexpr Unit kUnits[] = {{kDayMs, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
  for (const Unit& unit : kUnits) {
    if (ms % unit.ms == 0) return std::to_string(ms / unit.ms) + unit.suffix;
  }
  return std::to_string(ms) + "ms";
}

std::optional<std::uint64_t> parse_bytes(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  std::uint64_t scale = 0;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else if (unit == "KiB") {
    scale = kKiB;
  } else if (unit == "MiB") {
    scale = kMiB;
  } else if (unit == "GiB") {
    scale = kGiB;
  } else if (unit == "TiB") {
    scale = kTiB;
  } else {
    return std::nullopt;
  }
  const std::optional<std::uint64_t> count = parse_uint(text.substr(0, digits));
  if (!count || *count > UINT64_MAX / scale) return std::nullopt;
  return *count * scale;
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes == 0) return "0";
  struct Unit {
    std::uint64_t bytes;
    const char* suffix;
  };
  constexpr Unit kUnits[] = {{kTiB, "TiB"}, {kGiB, "GiB"}, {kMiB, "MiB"}, {kKiB, "KiB"}};
  for (const Unit& unit : kUnits) {
    if (bytes % unit.bytes == 0) return std::to_string(bytes / unit.bytes) + unit.suffix;
  }
  return std::to_string(bytes) + "B";
}

std::optional<Endpoint> parse_endpoint(std::string_view text, HostKind kind) {
  Endpoint endpoint;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    endpoint.host = std::string(text.substr(1, close - 1));
    endpoint.ipv6 = true;
    port_text = text.substr(close + 2);
    in6_addr address{};
    if (inet_pton(AF_INET6, endpoint.host.c_str(), &address) != 1) return std::nullopt;
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    endpoint.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    in_addr address{};
    const bool ipv4 = inet_pton(AF_INET, endpoint.host.c_str(), &address) == 1;
    if (!ipv4) {
      if (kind == HostKind::kIpLiteral) return std::nullopt;
      // A DNS name: dot-separated labels of letters, digits and inner hyphens.
      const std::string& host = endpoint.host;
      if (host.empty() || host.size() > 253 || host.front() == '.' || host.back() == '.') {
        return std::nullopt;
      }
      std::size_t label = 0;
      for (std::size_t i = 0; i < host.size(); ++i) {
        const char c = host[i];
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (c == '.') {
          if (label == 0 || host[i - 1] == '-') return std::nullopt;
          label = 0;
        } else if (alnum || (c == '-' && label > 0)) {
          if (++label > 63) return std::nullopt;
        } else {
          return std::nullopt;
        }
      }
      if (host.back() == '-') return std::nullopt;
    }
  }
  if (port_text.empty() || port_text.size() > 5) return std::nullopt;
  const std::optional<std::uint64_t> port = parse_uint(port_text);
  if (!port || *port > 65535) return std::nullopt;
  if (*port == 0 && kind == HostKind::kIpLiteralOrName) return std::nullopt;
  endpoint.port = static_cast<std::uint16_t>(*port);
  return endpoint;
}

Result<std::vector<GatewayConfig>> parse_gateways_toml(std::string_view text,
                                                       std::string_view source_name) {
  toml::table root;
  if (auto error = parse_toml(text, source_name, &root)) return Error{std::move(*error)};
  std::vector<GatewayConfig> gateways;
  for (const auto& [toml_key, node] : root) {
    if (toml_key.str() != "gateways") {
      return Error{where(source_name, node) + "unknown key " + quote(toml_key.str()) +
                   " (a gateways file has only [[gateways]] tables)"};
    }
    if (auto error = read_gateways(node, source_name, &gateways)) return Error{std::move(*error)};
  }
  if (gateways.empty()) {
    return Error{std::string(source_name) + ": defines no gateways (add [[gateways]] tables)"};
  }
  return gateways;
}

Result<Config> load_config(std::span<const std::string_view> args) {
  Config config;
  std::vector<std::pair<const KeyDef*, std::string_view>> flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      Config help;
      help.help = true;
      return help;
    }
    if (arg.size() <= 2 || !arg.starts_with("--")) {
      return Error{"unexpected argument " + quote(arg) + " (flags look like --orders.ttl 2s)"};
    }
    std::string_view name = arg.substr(2);
    std::string_view value;
    if (const std::size_t equals = name.find('='); equals != std::string_view::npos) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
    } else if (i + 1 < args.size() && !args[i + 1].starts_with("--")) {
      value = args[++i];
    } else {
      return Error{"--" + std::string(name) + ": missing value"};
    }
    if (name == "config") {
      if (!config.config_path.empty()) return Error{"--config: given more than once"};
      if (value.empty()) return Error{"--config: expected a file name; got \"\""};
      config.config_path = std::string(value);
      continue;
    }
    if (name == "gateways" || name.starts_with("gateways.") || name.starts_with("gateways[")) {
      return Error{"--" + std::string(name) +
                   ": gateways can only be defined in a configuration file (a token on a "
                   "command line is visible to every user of the machine)"};
    }
    const KeyDef* key = find_key(name);
    if (key == nullptr) {
      return Error{"unknown flag --" + std::string(name) + suggestion(name, "--")};
    }
    flags.emplace_back(key, value);  // applied after the file, so that flags win
  }

  if (!config.config_path.empty()) {
    std::string text;
    if (auto error = read_file(config.config_path, &text)) return Error{std::move(*error)};
    toml::table root;
    if (auto error = parse_toml(text, config.config_path, &root)) return Error{std::move(*error)};
    if (auto error = apply_table(root, "", config.config_path, &config)) {
      return Error{std::move(*error)};
    }
  }
  for (const auto& [key, value] : flags) {
    RawValue raw;
    raw.type = RawValue::Type::kString;
    raw.text = value;
    raw.from_flag = true;
    raw.shown = quote(value);
    if (Problem problem = key->apply(config, raw)) {
      return Error{"--" + std::string(key->name) + ": " + *problem};
    }
  }
  if (auto error = check_together(config)) return Error{std::move(*error)};
  return config;
}

Result<Config> load_config(int argc, const char* const* argv) {
  std::vector<std::string_view> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return load_config(std::span<const std::string_view>(args));
}

std::string config_help() {
  const Config defaults;
  std::string text =
      "usage: smsxd [--config FILE] [--KEY VALUE | --KEY=VALUE]...\n"
      "\n"
      "Every key of the TOML file can be given as a flag named after its dotted path;\n"
      "flags override the file. Durations: 250ms, 2s, 20m, 1h, 14d. Sizes: 65536, 64KiB,\n"
      "8MiB. Gateways ([[gateways]] name, role, token) are defined in the file only; with\n"
      "none, <data_dir>/gateways.toml is generated on first start.\n"
      "\n"
      "  --config FILE  TOML configuration file\n"
      "  --help         this text\n";
  for (const KeyDef& key : kKeys) {
    text += "  --" + std::string(key.name) + " " + std::string(key.kind) + "  (default " +
            key.show(defaults) + ")\n      " + std::string(key.help) + "\n";
  }
  return text;
}

}  // namespace smsx::net
