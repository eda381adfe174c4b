// Server configuration: every key of PROTOCOL.md's "Server configuration" plus the server's
// limits, loaded from built-in defaults, then an optional TOML file (`--config FILE`), then
// command-line flags named after the keys (`--orders.ttl 2s` or `--orders.ttl=2s`).
// Later sources win: a flag beats the file, the file beats the default. docs/configuration.md
// lists every key, its default and its rules.
//
// Loading validates everything and reports the first problem as one line that names where
// it is (file:line:column or the flag), the key, what was expected and what was given; a
// token is never echoed. Nothing here touches the data directory: when `gateways` is empty
// the server calls load_or_create_gateways_file() (net/gateways_file.h).
//
// Only loading may throw inside (toml++ does); every exception is caught and turned into an
// error, so load_config() itself never throws except std::bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/limits.h"
#include "net/log.h"

namespace smsx::net {

// A failed load: one line for people, without a trailing newline.
struct Error {
  std::string message;
};

// Either a value or an Error; a small std::expected stand-in (g++ 12 has none).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit on purpose

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  // Only when !ok().
  const std::string& error() const { return error_.message; }
  // Only when ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Error error_;
};

enum class Durability : std::uint8_t {
  kFsync,  // fdatasync every group commit before answering
  kNone,   // benchmarks only: answer once written to the page cache
};

enum class ReplicationMode : std::uint8_t {
  kAsync,  // answer once durable locally
  kSync,   // answer once the standby has the record durable too
};

enum class Role : std::uint8_t { kCustomer, kSupplier, kPayments, kAdmin, kReplica };

inline constexpr Role kRoles[] = {Role::kCustomer, Role::kSupplier, Role::kPayments, Role::kAdmin,
                                  Role::kReplica};

// "customer", "supplier", "payments", "admin", "replica".
std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view text);
std::string_view durability_name(Durability durability);
std::string_view replication_mode_name(ReplicationMode mode);

// host:port. `host` is an IP literal (IPv6 without its brackets) for addresses we listen on,
// and may also be a DNS name for replication.primary.
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  bool ipv6 = false;

  // "127.0.0.1:7700" or "[::1]:7700".
  std::string to_string() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct GatewayConfig {
  std::string name;  // 1..64 of [A-Za-z0-9_.-], unique
  Role role = Role::kCustomer;
  std::string token;  // 16..128 visible ASCII characters except '"' and '\', unique
};

struct OrdersConfig {
  std::uint64_t ttl_ms = 20 * 60 * 1000;
  std::uint64_t min_cancel_delay_ms = 0;  // < ttl_ms
  std::uint64_t retention_ms = 60 * 60 * 1000;
};

struct RefundsConfig {
  std::uint64_t window_ms = 14ULL * 24 * 60 * 60 * 1000;
};

struct ReplicationConfig {
  std::optional<Endpoint> primary;  // set on a standby only
  std::string token;                // the standby's replica token on the primary
  ReplicationMode mode = ReplicationMode::kAsync;
  // In sync mode: 0 waits for the standby forever; otherwise, when the standby has not
  // acknowledged a record for this long, the primary answers anyway (falls back to async)
  // until the standby catches up.
  std::uint64_t sync_fallback_timeout_ms = 0;
};

// Bounds that keep one client from hurting the others (see docs/configuration.md).
struct LimitsConfig {
  std::uint64_t frame_bytes_max = 64 * 1024;
  std::uint64_t connections_max = 10'000;
  std::uint64_t output_bytes_max = 8 * 1024 * 1024;  // per connection
  std::uint64_t requests_in_flight_max = 4096;       // per connection
  std::uint64_t auth_failures_max = 3;               // per connection, then it is closed
};

// A snapshot is taken when either threshold is crossed since the last one; 0 disables it.
struct SnapshotConfig {
  std::uint64_t every_records = 1'000'000;
  std::uint64_t every_bytes = 256 * 1024 * 1024;
};

// Transparent huge pages for the heap and the largest tables (core/heap_pages.h): fork()
// for a snapshot copies 512 times fewer page-table entries, but the first touch of each
// 2 MiB page is paid at once, inside whatever the loop was doing (docs/configuration.md).
struct MemoryConfig {
  bool huge_pages = true;
};

// WAL segments created at full size and zero-filled ahead of use, so that a commit's
// fdatasync has no metadata to journal (persistence/wal_writer.h, Preallocation). Off by
// default (docs/configuration.md says why).
struct WalConfig {
  bool preallocate = false;
};

struct Config {
  Endpoint listen{"127.0.0.1", 7700, false};
  std::optional<Endpoint> metrics_listen = Endpoint{"127.0.0.1", 7701, false};  // "" disables
  std::string data_dir = "./smsx-data";
  Durability durability = Durability::kFsync;
  OrdersConfig orders;
  RefundsConfig refunds;
  ReplicationConfig replication;
  std::vector<GatewayConfig> gateways;  // empty: use <data_dir>/gateways.toml
  LimitsConfig limits;
  SnapshotConfig snapshot;
  MemoryConfig memory;
  WalConfig wal;
  std::uint64_t expiries_per_tick_max = limits::kExpiriesPerTickDefault;
  LogLevel log_level = LogLevel::kInfo;

  std::string config_path;  // the --config file, empty when none was given
  bool help = false;        // --help was given: print config_help() and exit 0
};

// argv[0] is the program name and is skipped.
Result<Config> load_config(int argc, const char* const* argv);
// The arguments after the program name.
Result<Config> load_config(std::span<const std::string_view> args);

// The --help text: usage, then every key as a flag with its kind and default.
std::string config_help();

// The longest duration any key accepts (the timing wheel's range bounds order lifetimes).
inline constexpr std::uint64_t kDurationMsMax = 365ULL * 24 * 60 * 60 * 1000;
static_assert(kDurationMsMax <= limits::kDurationMaxMs);

// Durations: a non-negative integer and a unit, one of ms, s, m, h, d ("250ms", "14d").
// A bare number is refused: "20" could mean seconds or minutes. Keys accept at most
// kDurationMsMax.
std::optional<std::uint64_t> parse_duration_ms(std::string_view text);
// The shortest exact spelling: 1200000 -> "20m", 1500 -> "1500ms", 0 -> "0s".
std::string format_duration(std::uint64_t ms);

// Sizes: an integer number of bytes, optionally with a unit B, KiB, MiB, GiB, TiB.
std::optional<std::uint64_t> parse_bytes(std::string_view text);
// The shortest exact spelling: 65536 -> "64KiB", 100 -> "100B".
std::string format_bytes(std::uint64_t bytes);

enum class HostKind : std::uint8_t {
  kIpLiteral,        // for addresses we bind: 127.0.0.1, [::1]; port 0 = any free port
  kIpLiteralOrName,  // for addresses we connect to: also DNS names; port 1..65535
};
std::optional<Endpoint> parse_endpoint(std::string_view text, HostKind kind);

// A gateways file: TOML whose only key is `gateways`, an array of tables with exactly
// name, role and token. `source_name` prefixes error messages (usually the path).
Result<std::vector<GatewayConfig>> parse_gateways_toml(std::string_view text,
                                                       std::string_view source_name);

}  // namespace smsx::net
