// smsxd: the smsx server. Reads the configuration (file and flags), recovers the engine
// from the newest snapshot and the WAL after it, then serves gateways until SIGINT/SIGTERM.
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "core/heap_pages.h"
#include "net/config.h"
#include "net/gateways_file.h"
#include "net/log.h"
#include "net/node_state.h"
#include "net/server.h"
#include "net/state_reset.h"
#include "persistence/posix_env.h"
#include "persistence/recovery.h"
#include "persistence/wal_writer.h"

namespace {

using namespace smsx;

int fail(const std::string& message) {
  net::log_error("%s", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // A peer that closed its connection while we write to it must cost an EPIPE error on that
  // connection, not the process (libuv does not mask SIGPIPE).
  std::signal(SIGPIPE, SIG_IGN);
  auto loaded = net::load_config(argc, argv);
  if (!loaded.ok()) {
    std::fprintf(stderr, "smsxd: %s\n", loaded.error().c_str());
    return 2;
  }
  net::Config config = std::move(*loaded);
  if (config.help) {
    std::fputs(net::config_help().c_str(), stdout);
    return 0;
  }
  net::set_log_level(config.log_level);
  use_huge_pages_for_heap(config.memory.huge_pages);
  if (config.orders.ttl_ms > UINT32_MAX) {
    return fail("orders.ttl: at most 49d (order lifetimes are kept in 32 bits of milliseconds)");
  }
  if (config.orders.ttl_ms == 0) return fail("orders.ttl: must be more than 0s");
  net::log_info("smsxd starting: data in %s, memory.huge_pages = %s%s", config.data_dir.c_str(),
                config.memory.huge_pages ? "true" : "false",
                config.config_path.empty() ? " (no --config: defaults)" : "");

  std::vector<net::GatewayConfig> gateways = config.gateways;
  if (gateways.empty()) {
    auto file = net::load_or_create_gateways_file(config.data_dir);
    if (!file.ok()) return fail(file.error());
    gateways = file->gateways;
    net::log_info("%s gateway tokens in %s (readable only by this user)",
                  file->created ? "generated" : "using", file->path.c_str());
  }

  persistence::PosixEnv env;
  std::string wal_dir = config.data_dir + "/wal";
  std::string snapshot_dir = config.data_dir + "/snapshots";
  for (const std::string& dir : {config.data_dir, wal_dir, snapshot_dir}) {
    persistence::Status st = env.create_dir(dir);
    if (!st.ok()) return fail("cannot create " + dir + ": " + st.to_string());
  }

  if (net::state_reset_pending(env, config.data_dir)) {
    if (!config.replication.primary) {
      return fail("this node stopped while a snapshot from its primary was replacing its state (" +
                  config.data_dir + "/" + net::kStateResetMark +
                  "): its log and snapshots may mix two histories. Start it as a standby "
                  "(replication.primary) to discard them and fetch the primary's snapshot "
                  "again (docs/operations.md)");
    }
    std::vector<std::string> deleted;
    persistence::Status st =
        net::discard_interrupted_reset(env, config.data_dir, wal_dir, snapshot_dir, &deleted);
    if (!st.ok()) return fail("cannot discard an interrupted state reset: " + st.to_string());
    net::log_warn(
        "this node stopped while a snapshot from its primary was replacing its state: "
        "discarded its log and snapshots (%zu files); it starts empty and gets the primary's "
        "snapshot again",
        deleted.size());
  }

  {
    std::vector<std::string> deleted;
    persistence::Status st = net::delete_received_leftovers(env, snapshot_dir, &deleted);
    if (!st.ok()) return fail("cannot delete a half-received snapshot: " + st.to_string());
    for (const std::string& path : deleted) {
      net::log_info("deleted %s, a snapshot from the primary that was still being received",
                    path.c_str());
    }
  }

  EngineConfig engine_config;
  engine_config.ttl_ms = config.orders.ttl_ms;
  engine_config.min_cancel_delay_ms = config.orders.min_cancel_delay_ms;
  engine_config.retention_ms = config.orders.retention_ms;
  engine_config.refund_window_ms = config.refunds.window_ms;
  engine_config.expiries_per_tick_max = static_cast<uint32_t>(config.expiries_per_tick_max);

  std::unique_ptr<Engine> engine;
  persistence::RecoveryInfo info;
  persistence::Status st =
      persistence::recover(env, wal_dir, snapshot_dir, engine_config, &engine, &info);
  if (!st.ok()) {
    return fail("recovery stopped: " + st.to_string() +
                " (nothing was changed; see docs/operations.md)");
  }
  net::log_info(
      "recovered: snapshot LSN %llu, %llu WAL records replayed, last LSN %llu, "
      "%llu active orders, in %.1f ms",
      static_cast<unsigned long long>(info.snapshot_lsn),
      static_cast<unsigned long long>(info.records_replayed),
      static_cast<unsigned long long>(info.last_lsn),
      static_cast<unsigned long long>(engine->stats().active_orders), info.elapsed_ms);

  for (const std::string& skipped : info.skipped_snapshots) {
    net::log_warn(
        "recovery skipped a snapshot that does not verify or load: %s (fell back to an "
        "older one and a longer replay)",
        skipped.c_str());
  }
  if (info.torn_tail) {
    net::log_warn(
        "recovery cut a torn tail off %s at offset %llu (%llu bytes of an interrupted "
        "write, never acknowledged)",
        info.torn_tail->path.c_str(), static_cast<unsigned long long>(info.torn_tail->offset),
        static_cast<unsigned long long>(info.torn_tail->bytes_dropped));
  }

  persistence::WalWriterOptions wal_options;
  if (config.wal.preallocate && config.durability == net::Durability::kFsync) {
    wal_options.preallocation = persistence::Preallocation::kBackground;
  }
  if (config.durability == net::Durability::kNone) {
    wal_options.durability = persistence::Durability::kNone;
    net::log_warn(
        "durability = none: NOTHING IS FSYNCED. A crash can lose acknowledged "
        "requests. Use this for benchmarks only.");
  }
  std::unique_ptr<persistence::WalWriter> wal;
  st = persistence::WalWriter::open(env, wal_dir, info.last_lsn + 1, wal_options, &wal);
  if (!st.ok()) return fail("cannot open the WAL: " + st.to_string());

  net::NodeState node;
  std::string node_error = net::load_node_state(config.data_dir, &node);
  if (!node_error.empty()) return fail(node_error);

  net::ServerParts parts;
  parts.engine_config = engine_config;
  parts.wal_options = wal_options;
  parts.node = node;
  parts.config = config;
  parts.gateways = std::move(gateways);
  parts.engine = std::move(engine);
  parts.wal = std::move(wal);
  parts.env = &env;
  parts.wal_dir = wal_dir;
  parts.snapshot_dir = snapshot_dir;
  parts.snapshot_lsn = info.snapshot_lsn;
  net::Server server(std::move(parts));
  uv_loop_t* loop = uv_default_loop();
  std::string error = server.start(loop);
  if (!error.empty()) return fail(error);
  // The ports bound, which differ from the configuration's when it says 0.
  net::Endpoint gateways_on = config.listen;
  gateways_on.port = server.gateway_port();
  std::string metrics_on = "(off)";
  if (config.metrics_listen) {
    net::Endpoint m = *config.metrics_listen;
    m.port = server.metrics_port();
    metrics_on = m.to_string();
  }
  net::log_info("smsxd ready: gateways on %s, metrics on %s", gateways_on.to_string().c_str(),
                metrics_on.c_str());
  server.run();
  uv_loop_close(loop);
  net::log_info("smsxd stopped");
  return 0;
}
