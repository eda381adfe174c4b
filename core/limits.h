// Every bound of the engine in one place (STYLE point 6). Units are last in each name.
#pragma once

#include <cstddef>
#include <cstdint>

namespace smsx::limits {

// Request ids are the idempotency keys gateways choose (PROTOCOL.md: at most 64 bytes).
inline constexpr size_t kRequestIdBytesMax = 64;
// Service, country, operator and pool names: 1..16 characters of [a-z0-9_-].
inline constexpr size_t kNameBytesMax = 16;
// Phone numbers are E.164 digits.
inline constexpr size_t kPhoneDigitsMin = 6;
inline constexpr size_t kPhoneDigitsMax = 15;
// Processor references (receipt ids, transaction hashes) and crypto addresses.
inline constexpr size_t kRefBytesMax = 128;
inline constexpr size_t kAddressBytesMax = 128;
// SMS text kept per message, sender name, dispute reason; longer ones are refused.
inline constexpr size_t kSmsTextBytesMax = 1024;
inline constexpr size_t kSmsSenderBytesMax = 64;
inline constexpr size_t kDisputeReasonBytesMax = 512;
// SMS kept per order (a retry asks for another; a runaway sender cannot grow an order).
inline constexpr size_t kSmsPerOrderMax = 16;
// One amount (a deposit, a price) may not exceed this; sums are overflow-checked anyway.
inline constexpr int64_t kAmountMax = int64_t{1} << 50;
// Prices and payouts are stored in 32 bits inside each order to keep orders small.
inline constexpr int64_t kPriceMax = (int64_t{1} << 31) - 1;
static_assert(kPriceMax <= kAmountMax);
// Active orders of one account (orders.active lists them in one reply).
inline constexpr size_t kActiveOrdersPerAccountMax = 100'000;
// Pools priced for one (service, country): matching visits each once per placement.
inline constexpr size_t kPoolsPerServiceCountryMax = 256;
// Operators within one (country, pool): each is a separate free list scanned by matching.
inline constexpr size_t kOperatorsPerPoolMax = 64;
// Distinct names of each kind (services, countries, pools, operators, suppliers).
inline constexpr size_t kNamesPerKindMax = 65'534;  // 0 and 0xffff are reserved
// Expiries (and, separately, retention evictions) done by one tick; the rest next tick.
inline constexpr size_t kExpiriesPerTickDefault = 10'000;
inline constexpr size_t kExpiriesPerTickMax = 1'000'000;
// Order lifetime and other durations must fit the timing wheel's range with room to spare.
inline constexpr uint64_t kDurationMaxMs = uint64_t{1} << 36;

}  // namespace smsx::limits
