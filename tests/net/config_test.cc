#include "net/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace smsx::net {
namespace {

constexpr std::uint64_t kSecondMs = 1000;
constexpr std::uint64_t kMinuteMs = 60 * kSecondMs;
constexpr std::uint64_t kHourMs = 60 * kMinuteMs;
constexpr std::uint64_t kDayMs = 24 * kHourMs;

constexpr std::string_view kToken1 = "0123456789abcdef0123456789abcdef";
constexpr std::string_view kToken2 = "fedcba9876543210fedcba9876543210";

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "smsx-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `text` to a file in the temp dir and returns its path.
  std::string write(std::string_view text, std::string_view name = "smsx.toml") {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  static Result<Config> load(std::vector<std::string_view> args) {
    return load_config(std::span<const std::string_view>(args));
  }

  // The error of a load that must fail.
  static std::string error_of(std::vector<std::string_view> args) {
    Result<Config> result = load(std::move(args));
    EXPECT_FALSE(result.ok());
    return result.ok() ? std::string("(loaded)") : result.error();
  }

  std::string file_error(std::string_view text) {
    const std::string path = write(text);
    return error_of({"--config", path});
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigTest, DefaultsWithNoConfigurationAtAll) {
  Result<Config> loaded = load({});
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const Config& c = *loaded;
  EXPECT_EQ(c.listen.to_string(), "127.0.0.1:7700");
  ASSERT_TRUE(c.metrics_listen.has_value());
  EXPECT_EQ(c.metrics_listen->to_string(), "127.0.0.1:7701");
  EXPECT_EQ(c.data_dir, "./smsx-data");
  EXPECT_EQ(c.durability, Durability::kFsync);
  EXPECT_EQ(c.orders.ttl_ms, 20 * kMinuteMs);
  EXPECT_EQ(c.orders.min_cancel_delay_ms, 0u);
  EXPECT_EQ(c.orders.retention_ms, kHourMs);
  EXPECT_EQ(c.refunds.window_ms, 14 * kDayMs);
  EXPECT_FALSE(c.replication.primary.has_value());
  EXPECT_EQ(c.replication.token, "");
  EXPECT_EQ(c.replication.mode, ReplicationMode::kAsync);
  EXPECT_EQ(c.replication.sync_fallback_timeout_ms, 0u);
  EXPECT_TRUE(c.gateways.empty());
  EXPECT_EQ(c.limits.frame_bytes_max, 64u * 1024);
  EXPECT_EQ(c.limits.connections_max, 10'000u);
  EXPECT_EQ(c.limits.output_bytes_max, 8u * 1024 * 1024);
  EXPECT_EQ(c.limits.requests_in_flight_max, 4096u);
  EXPECT_EQ(c.limits.auth_failures_max, 3u);
  EXPECT_EQ(c.snapshot.every_records, 1'000'000u);
  EXPECT_EQ(c.snapshot.every_bytes, 256u * 1024 * 1024);
  EXPECT_TRUE(c.memory.huge_pages);
  EXPECT_FALSE(c.wal.preallocate);
  EXPECT_EQ(c.expiries_per_tick_max, 10'000u);
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
  EXPECT_EQ(c.config_path, "");
  EXPECT_FALSE(c.help);
}

constexpr std::string_view kEveryKey = R"(
listen = "0.0.0.0:9000"
metrics_listen = "[::1]:9001"
data_dir = "/var/lib/smsx"
durability = "none"
expiries_per_tick_max = 500
log_level = "debug"

[orders]
ttl = "2s"
min_cancel_delay = "250ms"
retention = "3h"

[refunds]
window = "7d"

[replication]
primary = "primary.example.com:7700"
token = "0123456789abcdef0123456789abcdef"
mode = "sync"
sync_fallback_timeout = "5s"

[limits]
frame_bytes_max = "1MiB"
connections_max = 20
output_bytes_max = 131072
requests_in_flight_max = 7
auth_failures_max = 9

[snapshot]
every_records = 0
every_bytes = "2GiB"

[memory]
huge_pages = false

[wal]
preallocate = true

[[gateways]]
name = "web-1"
role = "customer"
token = "0123456789abcdef0123456789abcdef"

[[gateways]]
name = "sim.bank_2"
role = "supplier"
token = "fedcba9876543210fedcba9876543210"

[[gateways]]
name = "pay"
role = "payments"
token = "!#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}~"

[[gateways]]
name = "ops"
role = "admin"
token = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

[[gateways]]
name = "standby"
role = "replica"
token = "abcdefghijklmnopqrstuvwxyz"
)";

TEST_F(ConfigTest, EveryKeyFromTheFile) {
  const std::string path = write(kEveryKey);
  Result<Config> loaded = load({"--config", path});
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const Config& c = *loaded;
  EXPECT_EQ(c.config_path, path);
  EXPECT_EQ(c.listen, (Endpoint{"0.0.0.0", 9000, false}));
  EXPECT_EQ(c.metrics_listen, (Endpoint{"::1", 9001, true}));
  EXPECT_EQ(c.data_dir, "/var/lib/smsx");
  EXPECT_EQ(c.durability, Durability::kNone);
  EXPECT_EQ(c.expiries_per_tick_max, 500u);
  EXPECT_EQ(c.log_level, LogLevel::kDebug);
  EXPECT_EQ(c.orders.ttl_ms, 2 * kSecondMs);
  EXPECT_EQ(c.orders.min_cancel_delay_ms, 250u);
  EXPECT_EQ(c.orders.retention_ms, 3 * kHourMs);
  EXPECT_EQ(c.refunds.window_ms, 7 * kDayMs);
  EXPECT_EQ(c.replication.primary, (Endpoint{"primary.example.com", 7700, false}));
  EXPECT_EQ(c.replication.token, kToken1);
  EXPECT_EQ(c.replication.mode, ReplicationMode::kSync);
  EXPECT_EQ(c.replication.sync_fallback_timeout_ms, 5 * kSecondMs);
  EXPECT_EQ(c.limits.frame_bytes_max, 1u << 20);
  EXPECT_EQ(c.limits.connections_max, 20u);
  EXPECT_EQ(c.limits.output_bytes_max, 131072u);
  EXPECT_EQ(c.limits.requests_in_flight_max, 7u);
  EXPECT_EQ(c.limits.auth_failures_max, 9u);
  EXPECT_EQ(c.snapshot.every_records, 0u);
  EXPECT_EQ(c.snapshot.every_bytes, 2ull << 30);
  EXPECT_FALSE(c.memory.huge_pages);
  EXPECT_TRUE(c.wal.preallocate);
  ASSERT_EQ(c.gateways.size(), 5u);
  EXPECT_EQ(c.gateways[0].name, "web-1");
  EXPECT_EQ(c.gateways[0].role, Role::kCustomer);
  EXPECT_EQ(c.gateways[0].token, kToken1);
  EXPECT_EQ(c.gateways[1].name, "sim.bank_2");
  EXPECT_EQ(c.gateways[1].role, Role::kSupplier);
  EXPECT_EQ(c.gateways[1].token, kToken2);
  EXPECT_EQ(c.gateways[2].role, Role::kPayments);
  EXPECT_EQ(c.gateways[2].token, "!#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}~");
  EXPECT_EQ(c.gateways[3].role, Role::kAdmin);
  EXPECT_EQ(c.gateways[4].role, Role::kReplica);
}

TEST_F(ConfigTest, DottedKeysAtTheTopLevelWorkLikeSections) {
  const std::string path = write("orders.ttl = \"3s\"\nlimits.connections_max = 5\n");
  Result<Config> loaded = load({"--config", path});
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->orders.ttl_ms, 3 * kSecondMs);
  EXPECT_EQ(loaded->limits.connections_max, 5u);
}

TEST_F(ConfigTest, EveryKeyAsAFlagInBothForms) {
  Result<Config> loaded = load({"--listen",
                                "127.0.0.1:0",
                                "--metrics_listen=",
                                "--data_dir",
                                "/tmp/x",
                                "--durability=none",
                                "--orders.ttl",
                                "1s",
                                "--orders.min_cancel_delay=500ms",
                                "--orders.retention",
                                "0s",
                                "--refunds.window=1h",
                                "--replication.primary",
                                "10.0.0.1:7700",
                                "--replication.token",
                                kToken2,
                                "--replication.mode=sync",
                                "--replication.sync_fallback_timeout",
                                "250ms",
                                "--limits.frame_bytes_max",
                                "4096",
                                "--limits.connections_max=2",
                                "--limits.output_bytes_max",
                                "64KiB",
                                "--limits.requests_in_flight_max",
                                "1",
                                "--limits.auth_failures_max=1",
                                "--snapshot.every_records",
                                "10",
                                "--snapshot.every_bytes=0",
                                "--memory.huge_pages=false",
                                "--wal.preallocate=true",
                                "--expiries_per_tick_max",
                                "1",
                                "--log_level",
                                "error"});
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  const Config& c = *loaded;
  EXPECT_EQ(c.listen, (Endpoint{"127.0.0.1", 0, false}));
  EXPECT_FALSE(c.metrics_listen.has_value());
  EXPECT_EQ(c.data_dir, "/tmp/x");
  EXPECT_EQ(c.durability, Durability::kNone);
  EXPECT_EQ(c.orders.ttl_ms, kSecondMs);
  EXPECT_EQ(c.orders.min_cancel_delay_ms, 500u);
  EXPECT_EQ(c.orders.retention_ms, 0u);
  EXPECT_EQ(c.refunds.window_ms, kHourMs);
  EXPECT_EQ(c.replication.primary, (Endpoint{"10.0.0.1", 7700, false}));
  EXPECT_EQ(c.replication.token, kToken2);
  EXPECT_EQ(c.replication.mode, ReplicationMode::kSync);
  EXPECT_EQ(c.replication.sync_fallback_timeout_ms, 250u);
  EXPECT_EQ(c.limits.frame_bytes_max, 4096u);
  EXPECT_EQ(c.limits.connections_max, 2u);
  EXPECT_EQ(c.limits.output_bytes_max, 64u * 1024);
  EXPECT_EQ(c.limits.requests_in_flight_max, 1u);
  EXPECT_EQ(c.limits.auth_failures_max, 1u);
  EXPECT_EQ(c.snapshot.every_records, 10u);
  EXPECT_EQ(c.snapshot.every_bytes, 0u);
  EXPECT_FALSE(c.memory.huge_pages);
  EXPECT_TRUE(c.wal.preallocate);
  EXPECT_EQ(c.expiries_per_tick_max, 1u);
  EXPECT_EQ(c.log_level, LogLevel::kError);
}

TEST_F(ConfigTest, FlagBeatsFileBeatsDefault) {
  const std::string path =
      write("durability = \"none\"\n[orders]\nttl = \"5m\"\nretention = \"2h\"\n");
  // Flags win whether they come before or after --config.
  for (const auto& args : std::vector<std::vector<std::string_view>>{
           {"--orders.ttl", "2s", "--config", path}, {"--config", path, "--orders.ttl=2s"}}) {
    Result<Config> loaded = load(args);
    ASSERT_TRUE(loaded.ok()) << loaded.error();
    EXPECT_EQ(loaded->orders.ttl_ms, 2 * kSecondMs);      // flag
    EXPECT_EQ(loaded->orders.retention_ms, 2 * kHourMs);  // file
    EXPECT_EQ(loaded->durability, Durability::kNone);     // file
    EXPECT_EQ(loaded->refunds.window_ms, 14 * kDayMs);    // default
  }
}

TEST_F(ConfigTest, ARepeatedFlagTakesTheLastValue) {
  Result<Config> loaded = load({"--orders.ttl", "1s", "--orders.ttl", "3s"});
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->orders.ttl_ms, 3 * kSecondMs);
}

TEST_F(ConfigTest, ArgcArgvSkipsTheProgramName) {
  const char* argv[] = {"smsxd", "--listen", "127.0.0.1:0", "--durability=none"};
  Result<Config> loaded = load_config(4, argv);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->listen.port, 0);
  EXPECT_EQ(loaded->durability, Durability::kNone);
}

TEST_F(ConfigTest, HelpListsEveryKeyWithItsDefault) {
  Result<Config> loaded = load({"--durability", "bogus", "--help", "--nonsense"});
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_TRUE(loaded->help);
  EXPECT_TRUE(load({"-h"})->help);
  const std::string help = config_help();
  for (std::string_view key : {"listen",
                               "metrics_listen",
                               "data_dir",
                               "durability",
                               "orders.ttl",
                               "orders.min_cancel_delay",
                               "orders.retention",
                               "refunds.window",
                               "replication.primary",
                               "replication.token",
                               "replication.mode",
                               "replication.sync_fallback_timeout",
                               "limits.frame_bytes_max",
                               "limits.connections_max",
                               "limits.output_bytes_max",
                               "limits.requests_in_flight_max",
                               "limits.auth_failures_max",
                               "snapshot.every_records",
                               "snapshot.every_bytes",
                               "expiries_per_tick_max",
                               "log_level"}) {
    EXPECT_NE(help.find("  --" + std::string(key) + " "), std::string::npos) << key;
  }
  EXPECT_NE(help.find("--listen ADDRESS  (default 127.0.0.1:7700)"), std::string::npos) << help;
  EXPECT_NE(help.find("--orders.ttl DURATION  (default 20m)"), std::string::npos);
  EXPECT_NE(help.find("--refunds.window DURATION  (default 14d)"), std::string::npos);
  EXPECT_NE(help.find("--limits.frame_bytes_max SIZE  (default 64KiB)"), std::string::npos);
  EXPECT_NE(help.find("--durability fsync|none  (default fsync)"), std::string::npos);
  EXPECT_NE(help.find("--config FILE"), std::string::npos);
  EXPECT_NE(help.find("gateways.toml"), std::string::npos);
}

TEST(Durations, ParseEveryUnit) {
  EXPECT_EQ(parse_duration_ms("250ms"), 250u);
  EXPECT_EQ(parse_duration_ms("2s"), 2 * kSecondMs);
  EXPECT_EQ(parse_duration_ms("20m"), 20 * kMinuteMs);
  EXPECT_EQ(parse_duration_ms("1h"), kHourMs);
  EXPECT_EQ(parse_duration_ms("14d"), 14 * kDayMs);
  EXPECT_EQ(parse_duration_ms("0s"), 0u);
  EXPECT_EQ(parse_duration_ms("0ms"), 0u);
  EXPECT_EQ(parse_duration_ms("007s"), 7 * kSecondMs);
}

TEST(Durations, RefuseEverythingElse) {
  for (std::string_view bad :
       {"", "20", "0", "s", "ms", "2 s", " 2s", "2s ", "2S", "2sec", "1.5s", "-1s", "+1s", "1h30m",
        "2us", "1w", "0x10s", "99999999999999999999d", "213503982335d"}) {
    EXPECT_EQ(parse_duration_ms(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(Durations, FormatShortestExact) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(250), "250ms");
  EXPECT_EQ(format_duration(1500), "1500ms");
  EXPECT_EQ(format_duration(2000), "2s");
  EXPECT_EQ(format_duration(20 * kMinuteMs), "20m");
  EXPECT_EQ(format_duration(90 * kMinuteMs), "90m");
  EXPECT_EQ(format_duration(kHourMs), "1h");
  EXPECT_EQ(format_duration(14 * kDayMs), "14d");
  for (std::uint64_t ms :
       std::initializer_list<std::uint64_t>{1, 999, 61000, 3 * kHourMs, kDurationMsMax}) {
    EXPECT_EQ(parse_duration_ms(format_duration(ms)), ms) << ms;
  }
}

TEST(Sizes, ParseAndFormat) {
  EXPECT_EQ(parse_bytes("65536"), 65536u);
  EXPECT_EQ(parse_bytes("100B"), 100u);
  EXPECT_EQ(parse_bytes("64KiB"), 65536u);
  EXPECT_EQ(parse_bytes("8MiB"), 8u << 20);
  EXPECT_EQ(parse_bytes("1GiB"), 1u << 30);
  EXPECT_EQ(parse_bytes("2TiB"), 2ull << 40);
  for (std::string_view bad :
       {"", "KiB", "64kib", "64KB", "64 KiB", "1.5MiB", "-1", "99999999TiB"}) {
    EXPECT_EQ(parse_bytes(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(format_bytes(0), "0");
  EXPECT_EQ(format_bytes(100), "100B");
  EXPECT_EQ(format_bytes(65536), "64KiB");
  EXPECT_EQ(format_bytes(1536), "1536B");
  EXPECT_EQ(format_bytes(8u << 20), "8MiB");
}

TEST(Endpoints, ListenAddressesAreIpLiterals) {
  EXPECT_EQ(parse_endpoint("127.0.0.1:7700", HostKind::kIpLiteral),
            (Endpoint{"127.0.0.1", 7700, false}));
  EXPECT_EQ(parse_endpoint("0.0.0.0:0", HostKind::kIpLiteral), (Endpoint{"0.0.0.0", 0, false}));
  EXPECT_EQ(parse_endpoint("[::1]:65535", HostKind::kIpLiteral), (Endpoint{"::1", 65535, true}));
  EXPECT_EQ(parse_endpoint("[::]:1", HostKind::kIpLiteral), (Endpoint{"::", 1, true}));
  EXPECT_EQ(Endpoint({"::1", 7700, true}).to_string(), "[::1]:7700");
  for (std::string_view bad :
       {"", "127.0.0.1", "127.0.0.1:", ":7700", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+1",
        "127.0.0.1:77a", "127.0.0.1:000001", "localhost:7700", "256.0.0.1:1", "::1:7700",
        "[::1]7700", "[::1]:", "[zz]:1", "[127.0.0.1]:1", "127.0.0.1:7700 "}) {
    EXPECT_EQ(parse_endpoint(bad, HostKind::kIpLiteral), std::nullopt) << bad;
  }
}

TEST(Endpoints, PrimaryMayBeADnsName) {
  EXPECT_EQ(parse_endpoint("primary.example.com:7700", HostKind::kIpLiteralOrName),
            (Endpoint{"primary.example.com", 7700, false}));
  EXPECT_EQ(parse_endpoint("db-1:1", HostKind::kIpLiteralOrName), (Endpoint{"db-1", 1, false}));
  EXPECT_EQ(parse_endpoint("[fe80::1]:7700", HostKind::kIpLiteralOrName),
            (Endpoint{"fe80::1", 7700, true}));
  for (std::string_view bad :
       {"db-1:0", "bad_host:1", "-db:1", "db-:1", "a..b:1", ".a:1", "a.:1", "a b:1", "db"}) {
    EXPECT_EQ(parse_endpoint(bad, HostKind::kIpLiteralOrName), std::nullopt) << bad;
  }
}

// ---- every kind of error, each naming where, the key, what was expected and what was got ---

TEST_F(ConfigTest, WrongDurationNamesTheKeyAndTheExpectedForm) {
  EXPECT_EQ(error_of({"--orders.ttl", "abc"}),
            "--orders.ttl: expected a duration like 250ms, 2s, 20m, 1h, 14d; got \"abc\"");
  EXPECT_EQ(error_of({"--orders.ttl=20"}),
            "--orders.ttl: expected a duration like 250ms, 2s, 20m, 1h, 14d; got \"20\"");
  EXPECT_EQ(file_error("[orders]\nttl = 5\n"),
            (dir_ / "smsx.toml").string() +
                ":2:7: orders.ttl: expected a duration like 250ms, 2s, 20m, 1h, 14d; got 5");
  EXPECT_EQ(file_error("[refunds]\nwindow = \"abc\"\n"),
            (dir_ / "smsx.toml").string() +
                ":2:10: refunds.window: expected a duration like 250ms, 2s, 20m, 1h, 14d; got "
                "\"abc\"");
}

TEST_F(ConfigTest, DurationOutOfRange) {
  EXPECT_EQ(error_of({"--orders.ttl", "0s"}),
            "--orders.ttl: expected a duration from 1ms to 365d; got \"0s\"");
  EXPECT_EQ(error_of({"--refunds.window", "366d"}),
            "--refunds.window: expected a duration from 1ms to 365d; got \"366d\"");
  EXPECT_EQ(error_of({"--orders.retention", "9000h"}),
            "--orders.retention: expected a duration from 0s to 365d; got \"9000h\"");
}

TEST_F(ConfigTest, WrongCounts) {
  EXPECT_EQ(error_of({"--limits.connections_max", "0"}),
            "--limits.connections_max: expected an integer from 1 to 1000000; got \"0\"");
  EXPECT_EQ(error_of({"--limits.connections_max", "ten"}),
            "--limits.connections_max: expected an integer from 1 to 1000000; got \"ten\"");
  EXPECT_EQ(error_of({"--limits.auth_failures_max", "1001"}),
            "--limits.auth_failures_max: expected an integer from 1 to 1000; got \"1001\"");
  EXPECT_NE(file_error("[limits]\nrequests_in_flight_max = -1\n")
                .find("limits.requests_in_flight_max: expected an integer from 1 to 1000000; "
                      "got -1"),
            std::string::npos);
  // In the file an integer is written as one, not as a string.
  EXPECT_NE(file_error("expiries_per_tick_max = \"10\"\n")
                .find("expiries_per_tick_max: expected an integer from 1 to 1000000; got \"10\""),
            std::string::npos);
  EXPECT_NE(file_error("[snapshot]\nevery_records = 1.5\n")
                .find("snapshot.every_records: expected an integer from 0 to 1099511627776; got "
                      "the number 1.5"),
            std::string::npos);
}

TEST_F(ConfigTest, WrongSizes) {
  EXPECT_EQ(error_of({"--limits.frame_bytes_max", "100"}),
            "--limits.frame_bytes_max: expected a size like 65536, 64KiB, 8MiB, from 256B to "
            "64MiB; got \"100\"");
  EXPECT_EQ(error_of({"--limits.output_bytes_max", "8MB"}),
            "--limits.output_bytes_max: expected a size like 65536, 64KiB, 8MiB, from 64KiB to "
            "1GiB; got \"8MB\"");
  EXPECT_EQ(error_of({"--snapshot.every_bytes", "1KiB"}),
            "--snapshot.every_bytes: expected a size like 65536, 64KiB, 8MiB, 0 or from 1MiB to "
            "1TiB; got \"1KiB\"");
  EXPECT_NE(file_error("[limits]\nframe_bytes_max = true\n")
                .find("limits.frame_bytes_max: expected a size like 65536, 64KiB, 8MiB, from "
                      "256B to 64MiB; got true"),
            std::string::npos);
}

TEST_F(ConfigTest, WrongChoices) {
  EXPECT_EQ(error_of({"--durability", "fast"}),
            "--durability: expected one of fsync, none; got \"fast\"");
  EXPECT_EQ(error_of({"--replication.mode", "semi"}),
            "--replication.mode: expected one of async, sync; got \"semi\"");
  EXPECT_EQ(error_of({"--log_level", "INFO"}),
            "--log_level: expected one of debug, info, warn, error; got \"INFO\"");
  EXPECT_NE(file_error("durability = [\"fsync\"]\n")
                .find("durability: expected one of fsync, none; got an array"),
            std::string::npos);
}

TEST_F(ConfigTest, WrongBooleans) {
  EXPECT_EQ(error_of({"--memory.huge_pages", "yes"}),
            "--memory.huge_pages: expected true or false; got \"yes\"");
  EXPECT_NE(file_error("[memory]\nhuge_pages = \"false\"\n")
                .find("memory.huge_pages: expected true or false; got \"false\""),
            std::string::npos);
  EXPECT_NE(file_error("[memory]\nhuge_pages = 0\n")
                .find("memory.huge_pages: expected true or false; got 0"),
            std::string::npos);
}

TEST_F(ConfigTest, WrongAddresses) {
  EXPECT_EQ(error_of({"--listen", "localhost:7700"}),
            "--listen: expected host:port with an IPv4 address or a [bracketed] IPv6 address "
            "and a port from 0 to 65535; got \"localhost:7700\"");
  EXPECT_EQ(error_of({"--listen="}),
            "--listen: expected host:port with an IPv4 address or a [bracketed] IPv6 address "
            "and a port from 0 to 65535; got \"\"");
  EXPECT_EQ(error_of({"--metrics_listen", "7701"}),
            "--metrics_listen: expected \"\" or host:port with an IPv4 address or a [bracketed] "
            "IPv6 address and a port from 0 to 65535; got \"7701\"");
  EXPECT_EQ(error_of({"--replication.primary", "db:0"}),
            "--replication.primary: expected \"\" or host:port with an IP address or a DNS name "
            "and a port from 1 to 65535; got \"db:0\"");
}

TEST_F(ConfigTest, WrongStrings) {
  EXPECT_EQ(error_of({"--data_dir="}), "--data_dir: expected a non-empty path; got \"\"");
  EXPECT_NE(file_error("data_dir = 3\n").find(":1:12: data_dir: expected a non-empty path; got 3"),
            std::string::npos);
}

TEST_F(ConfigTest, TokensAreNeverEchoed) {
  const std::string error = error_of({"--replication.token", "short-secret"});
  EXPECT_EQ(error,
            "--replication.token: expected \"\" or a token of 16 to 128 visible ASCII characters "
            "other than '\"' and '\\'; got a string of 12 characters");
  EXPECT_EQ(error.find("short-secret"), std::string::npos);
  const std::string spaced = "has a space inside it, secret";
  EXPECT_EQ(error_of({"--replication.token", spaced}).find(spaced), std::string::npos);
  EXPECT_EQ(error_of({"--replication.token", std::string(129, 'x')}).find("xxxx"),
            std::string::npos);
}

TEST_F(ConfigTest, UnknownKeysAndFlagsAreNamedWithASuggestion) {
  EXPECT_EQ(file_error("[orders]\ntll = \"2s\"\n"),
            (dir_ / "smsx.toml").string() +
                ":2:7: unknown key \"orders.tll\" (did you mean orders.ttl?)");
  EXPECT_NE(file_error("ttl = \"2s\"\n").find("unknown key \"ttl\" (did you mean orders.ttl?)"),
            std::string::npos);
  EXPECT_NE(
      file_error("[limits]\nflux_capacitor = 1\n").find("unknown key \"limits.flux_capacitor\""),
      std::string::npos);
  EXPECT_NE(file_error("[colour]\nred = 1\n").find("unknown key \"colour\""), std::string::npos);
  EXPECT_EQ(error_of({"--orders.tll", "2s"}),
            "unknown flag --orders.tll (did you mean --orders.ttl?)");
  EXPECT_EQ(error_of({"--ttl=2s"}), "unknown flag --ttl (did you mean --orders.ttl?)");
  EXPECT_EQ(error_of({"--zzzzzzzzzzzzzz", "1"}), "unknown flag --zzzzzzzzzzzzzz");
}

TEST_F(ConfigTest, ASectionMustBeATable) {
  EXPECT_EQ(file_error("orders = \"20m\"\n"),
            (dir_ / "smsx.toml").string() + ":1:10: orders: expected a table of keys; got \"20m\"");
}

TEST_F(ConfigTest, InvalidTomlGivesItsPosition) {
  const std::string error = file_error("listen = \"127.0.0.1:7700\"\n[orders\nttl = \"1s\"\n");
  EXPECT_TRUE(error.starts_with((dir_ / "smsx.toml").string() + ":2:")) << error;
  EXPECT_NE(error.find("invalid TOML: "), std::string::npos) << error;
  EXPECT_NE(file_error("a = 1\na = 2\n").find("invalid TOML"), std::string::npos);
}

TEST_F(ConfigTest, CommandLineMistakes) {
  EXPECT_EQ(error_of({"--listen"}), "--listen: missing value");
  EXPECT_EQ(error_of({"--listen", "--durability", "none"}), "--listen: missing value");
  EXPECT_EQ(error_of({"serve"}), "unexpected argument \"serve\" (flags look like --orders.ttl 2s)");
  EXPECT_EQ(error_of({"-x"}), "unexpected argument \"-x\" (flags look like --orders.ttl 2s)");
  EXPECT_EQ(error_of({"--"}), "unexpected argument \"--\" (flags look like --orders.ttl 2s)");
  EXPECT_EQ(error_of({"--config", "a.toml", "--config=b.toml"}), "--config: given more than once");
  EXPECT_EQ(error_of({"--config="}), "--config: expected a file name; got \"\"");
  EXPECT_EQ(
      error_of({"--config", (dir_ / "missing.toml").string()}),
      "--config " + (dir_ / "missing.toml").string() + ": cannot open: No such file or directory");
  EXPECT_NE(error_of({"--gateways", "x"})
                .find("--gateways: gateways can only be defined in a "
                      "configuration file"),
            std::string::npos);
}

TEST_F(ConfigTest, RulesAcrossKeys) {
  EXPECT_EQ(error_of({"--orders.ttl", "1s", "--orders.min_cancel_delay", "1s"}),
            "orders.min_cancel_delay: must be shorter than orders.ttl (1s); got 1s");
  EXPECT_TRUE(load({"--orders.ttl", "1s", "--orders.min_cancel_delay", "999ms"}).ok());
  EXPECT_EQ(error_of({"--replication.primary", "10.0.0.1:7700"}),
            "replication.token: required when replication.primary is set (the standby's replica "
            "token on the primary)");
}

TEST_F(ConfigTest, GatewayErrors) {
  const std::string file = (dir_ / "smsx.toml").string();
  const auto gateway = [](std::string_view name, std::string_view role, std::string_view token) {
    return "[[gateways]]\nname = \"" + std::string(name) + "\"\nrole = \"" + std::string(role) +
           "\"\ntoken = \"" + std::string(token) + "\"\n";
  };
  EXPECT_EQ(file_error(gateway("a", "boss", kToken1)),
            file +
                ":3:8: gateways[0].role: expected one of customer, supplier, payments, admin, "
                "replica; got \"boss\"");
  EXPECT_EQ(file_error(gateway("a", "customer", "too-short")),
            file +
                ":4:9: gateways[0].token: expected a token of 16 to 128 visible ASCII "
                "characters other than '\"' and '\\'; got a string of 9 characters");
  EXPECT_EQ(file_error(gateway("a", "customer", "")),
            file +
                ":4:9: gateways[0].token: expected a token of 16 to 128 visible ASCII "
                "characters other than '\"' and '\\'; got a string of 0 characters");
  EXPECT_NE(file_error(gateway("a", "customer", "with space 0123456789")).find("gateways[0].token"),
            std::string::npos);
  EXPECT_EQ(file_error(gateway("bad name", "customer", kToken1)),
            file +
                ":2:8: gateways[0].name: expected 1 to 64 characters of A-Z a-z 0-9 _ . -; got "
                "\"bad name\"");
  EXPECT_EQ(file_error(gateway("a", "customer", kToken1) + gateway("b", "admin", kToken1)),
            file +
                ":5:1: gateways[1].token: the same token as gateways[0]; every gateway needs "
                "its own");
  EXPECT_EQ(file_error(gateway("a", "customer", kToken1) + gateway("a", "admin", kToken2)),
            file + ":5:1: gateways[1].name: \"a\" is already used by gateways[0]");
  EXPECT_EQ(file_error("[[gateways]]\nname = \"a\"\nrole = \"admin\"\n"),
            file + ":1:1: gateways[0].token: missing");
  EXPECT_EQ(file_error("[[gateways]]\nrole = \"admin\"\n"),
            file + ":1:1: gateways[0].name: missing");
  EXPECT_EQ(file_error(gateway("a", "customer", kToken1) + "colour = \"red\"\n"),
            file + ":5:10: gateways[0].colour: unknown key (a gateway has name, role and token)");
  EXPECT_EQ(file_error("gateways = \"all\"\n"),
            file + ":1:12: gateways: expected an array of tables ([[gateways]]); got \"all\"");
  EXPECT_EQ(file_error("gateways = [1, 2]\n"),
            file + ":1:12: gateways: expected an array of tables ([[gateways]]); got an array");
  // A bad token is never quoted back.
  EXPECT_EQ(file_error(gateway("a", "customer", "sekrit")).find("sekrit"), std::string::npos);
}

TEST_F(ConfigTest, AnEmptyGatewaysArrayMeansUseTheGeneratedFile) {
  const std::string path = write("gateways = []\n");
  Result<Config> loaded = load({"--config", path});
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_TRUE(loaded->gateways.empty());
}

TEST(GatewaysToml, ParsesOnlyGateways) {
  Result<std::vector<GatewayConfig>> parsed = parse_gateways_toml(
      "[[gateways]]\nname = \"x\"\nrole = \"replica\"\ntoken = \"0123456789abcdef\"\n", "g.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].role, Role::kReplica);
  EXPECT_EQ((*parsed)[0].token, "0123456789abcdef");

  Result<std::vector<GatewayConfig>> other =
      parse_gateways_toml("listen = \"1.2.3.4:5\"\n", "g.toml");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error(),
            "g.toml:1:10: unknown key \"listen\" (a gateways file has only [[gateways]] tables)");
  Result<std::vector<GatewayConfig>> empty = parse_gateways_toml("# nothing\n", "g.toml");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error(), "g.toml: defines no gateways (add [[gateways]] tables)");
}

TEST(Roles, NamesRoundTrip) {
  for (Role role : kRoles) EXPECT_EQ(parse_role(role_name(role)), role);
  EXPECT_EQ(parse_role("Customer"), std::nullopt);
  EXPECT_EQ(parse_role(""), std::nullopt);
}

}  // namespace
}  // namespace smsx::net
