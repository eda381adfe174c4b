// One gateway connection: its input framer, its role once authenticated, its event
// subscriptions, and its output.
//
// Output has two stages. Replies and events are appended to `pending` while a loop
// iteration runs; nothing in `pending` may reach the client before the WAL commit that
// covers it (DESIGN.md "One loop iteration"). After the commit the server moves `pending`
// into `writing` and hands it to one uv_write: one write of many replies per connection
// per iteration. While a write is in flight new output waits in `pending`. At each
// iteration's end `pending` moves to `held`, tagged with the records it depends on, and
// leaves it once they are durable (and, in sync replication mode, on a standby).
//
// Owned by the Server; freed in the uv_close callback. Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "net/config.h"
#include "net/line_framer.h"
#include "net/replica_stream.h"
#include "net/request_parser.h"

namespace smsx::net {

class Server;

struct Connection {
  Connection(Server* s, uint64_t connection_id, size_t frame_bytes_max)
      : server(s), id(connection_id), framer(frame_bytes_max) {}

  uv_tcp_t tcp{};  // tcp.data points back at this connection
  Server* server;
  uint64_t id;
  std::string peer;  // "ip:port", for logs
  LineFramer framer;
  std::optional<Role> role;
  const GatewayConfig* gateway = nullptr;
  uint32_t auth_failures = 0;
  EventSet subscriptions = 0;

  std::string pending;  // waiting for the commit
  std::string writing;  // handed to uv_write
  uv_write_t write_req{};
  bool write_active = false;
  size_t replies_unsent = 0;  // replies in pending + writing: the requests in flight
  size_t replies_writing = 0;
  bool reading = true;
  bool close_after_flush = false;  // FRAME_TOO_LARGE, too many failed hellos, shutdown
  bool closing = false;
  bool dirty = false;    // in the server's list of connections with pending output
  bool holding = false;  // in the server's list of connections with output in `held`

  // Sync replication: committed output that waits until a standby has the records it
  // depends on (bytes, the last LSN they depend on, and how many replies they hold).
  struct Held {
    uint64_t lsn;       // durable first: the last record applied when it was written
    uint64_t sync_lsn;  // sync mode: a standby must have acknowledged this (0: nothing)
    std::string bytes;
    size_t replies;
  };
  std::deque<Held> held;
  uint64_t output_lsn = 0;        // the last record a reply or event of this connection reports
  std::deque<uint64_t> arrivals;  // when each unanswered request was read (latency metric)
  size_t replies_held = 0;
  size_t held_bytes = 0;

  // Set once a standby's `replicate` was answered: the connection then carries the log.
  std::unique_ptr<ReplicaStream> replica;

  size_t output_bytes() const { return pending.size() + writing.size() + held_bytes; }
};

}  // namespace smsx::net
