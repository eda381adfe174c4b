// Every bound of smsx-activate that is not a configuration key, in one place.
#pragma once

#include <cstddef>
#include <cstdint>

namespace smsx::activate {

// Parameters in one request (query string and form body together); more is ERROR_SQL.
inline constexpr std::size_t kParamsMax = 64;
// Request target (path and query string); longer is answered 414 and the connection closed.
inline constexpr std::size_t kUrlBytesMax = 8 * 1024;
// Request head (request line and headers), enforced by http_parser.
inline constexpr std::uint32_t kHeadBytesMax = 16 * 1024;
// API keys in the keys file: 16 to 128 characters of [A-Za-z0-9_.-].
inline constexpr std::size_t kKeyBytesMin = 16;
inline constexpr std::size_t kKeyBytesMax = 128;
// Keys in one keys file.
inline constexpr std::size_t kKeysMax = 1'000'000;
// Decimal places of money amounts (money_scale).
inline constexpr int kMoneyScaleMax = 9;
// Persistent connections to smsxd (upstream_connections).
inline constexpr int kUpstreamConnectionsMax = 64;
// Back-off between reconnection attempts to smsxd: doubles from min to max.
inline constexpr std::uint64_t kReconnectDelayMinMs = 100;
inline constexpr std::uint64_t kReconnectDelayMaxMs = 5000;
// A reply from smsxd that takes longer than this closes that connection (its requests are
// answered ERROR_SQL) and a new one is made.
inline constexpr std::uint64_t kUpstreamTimeoutMs = 10'000;
// An idle keep-alive HTTP connection is closed after this long.
inline constexpr std::uint64_t kHttpIdleMs = 60'000;
// How often the idle and timeout checks run.
inline constexpr std::uint64_t kSweepEveryMs = 1000;
// The longest NDJSON line accepted from smsxd (orders.active of a big account is long).
inline constexpr std::size_t kUpstreamFrameBytesMax = 64 * 1024 * 1024;

static_assert(kUrlBytesMax < kHeadBytesMax, "the target must fit in the head");
static_assert(kReconnectDelayMinMs <= kReconnectDelayMaxMs);

}  // namespace smsx::activate
