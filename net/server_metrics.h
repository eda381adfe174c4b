// The server's Prometheus series (docs/configuration.md "Metrics"), shared by the files
// that implement Server. Registered once; the hot paths only increment.
#pragma once

#include <array>

#include "core/errors.h"
#include "net/metrics.h"
#include "net/roles.h"
#include "net/server.h"

namespace smsx::net {

struct Server::Metrics {
  Registry registry;
  std::array<std::array<Counter*, static_cast<size_t>(smsx::Error::kCount)>, kOpKindCount>
      requests{};
  Histogram* latency = nullptr;
  Histogram* fsync = nullptr;
  Gauge* active_orders = nullptr;
  Gauge* connections = nullptr;
  Gauge* lsn = nullptr;
  Gauge* replication_lag_records = nullptr;
  Gauge* replication_lag_seconds = nullptr;
  Gauge* epoch = nullptr;
  Gauge* standbys = nullptr;
  Histogram* replication_ack = nullptr;
  Histogram* replication_standby = nullptr;
  Counter* replication_sent_live = nullptr;
  Counter* replication_sent_from_log = nullptr;
  Counter* expiries = nullptr;
  Counter* evictions_ticks = nullptr;
  Counter* disconnects_slow = nullptr;
  Counter* auth_failures = nullptr;

  Metrics() {
    latency = &registry.histogram("smsx_request_latency_seconds",
                                  "Time from reading a request to writing its reply (after fsync).",
                                  kLatencyBucketsSeconds);
    fsync = &registry.histogram("smsx_wal_commit_seconds",
                                "One group commit: write and fdatasync of a batch.",
                                kLatencyBucketsSeconds);
    active_orders = &registry.gauge("smsx_active_orders", "Orders waiting for or holding an SMS.");
    connections = &registry.gauge("smsx_connections", "Open gateway connections.");
    lsn = &registry.gauge("smsx_wal_durable_lsn", "The last LSN made durable.");
    replication_lag_records = &registry.gauge("smsx_replication_lag_records",
                                              "Records the standby is behind (0: no standby yet).");
    replication_lag_seconds =
        &registry.gauge("smsx_replication_lag_seconds",
                        "Age of the oldest record the standby has not acknowledged.");
    epoch = &registry.gauge("smsx_epoch", "This node's replication epoch.");
    standbys = &registry.gauge("smsx_standbys", "Standbys streaming from this node.");
    replication_ack = &registry.histogram(
        "smsx_replication_ack_seconds",
        "From a batch being durable here to the standby's acknowledgement of it "
        "(0 when the standby had it durable first).",
        kLatencyBucketsSeconds);
    replication_standby = &registry.histogram(
        "smsx_replication_standby_seconds",
        "From sending a batch to a standby to its acknowledgement of it (the standby's write "
        "and fdatasync and the round trip).",
        kLatencyBucketsSeconds);
    constexpr std::string_view kSentHelp =
        "Records sent to standbys: batches passed on as they are written (live) or read back "
        "from the log files (a standby catching up).";
    replication_sent_live =
        &registry.counter("smsx_replication_records_sent_total", kSentHelp, {{"source", "live"}});
    replication_sent_from_log =
        &registry.counter("smsx_replication_records_sent_total", kSentHelp, {{"source", "log"}});
    expiries = &registry.counter("smsx_expiries_total", "Orders expired or auto-finished.");
    evictions_ticks = &registry.counter("smsx_ticks_total", "Ticks that changed state.");
    disconnects_slow = &registry.counter("smsx_disconnects_slow_reader_total",
                                         "Connections closed for not reading their replies.");
    auth_failures = &registry.counter("smsx_auth_failures_total", "Failed hello requests.");
  }

  Counter& request(OpKind op, smsx::Error result) {
    auto& slot = requests[static_cast<size_t>(op)][static_cast<size_t>(result)];
    if (slot == nullptr) {
      std::string_view r = result == smsx::Error::kNone ? "ok" : error_name(result);
      slot = &registry.counter("smsx_requests_total", "Requests by op and result.",
                               {{"op", op_name(op)}, {"result", r}});
    }
    return *slot;
  }
};

}  // namespace smsx::net
