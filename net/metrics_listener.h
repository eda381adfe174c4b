// One connection to the metrics listener: read one HTTP request, answer it from the
// registry (GET /metrics in Prometheus text, anything else 404/405; net/metrics.h), close.
// `refresh` runs right before the answer is written, to set gauges that are read only at
// scrape time. Loop thread only.
#pragma once

#include <uv.h>

#include <functional>

#include "net/metrics.h"

namespace smsx::net {

void serve_metrics_connection(uv_loop_t* loop, uv_stream_t* listener, const Registry& registry,
                              std::function<void()> refresh);

}  // namespace smsx::net
