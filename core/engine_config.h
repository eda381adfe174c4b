// The engine's settings (PROTOCOL.md "Server configuration": [orders], [refunds]).
#pragma once

#include <cstdint>

#include "core/limits.h"

namespace smsx {

struct EngineConfig {
  uint64_t ttl_ms = 20 * 60 * 1000;                      // order lifetime
  uint64_t min_cancel_delay_ms = 0;                      // cancel refused before this age
  uint64_t retention_ms = 60 * 60 * 1000;                // closed orders and request ids kept
  uint64_t refund_window_ms = 14ull * 24 * 3600 * 1000;  // deposit refunds allowed within
  uint32_t expiries_per_tick_max = limits::kExpiriesPerTickDefault;
};

}  // namespace smsx
