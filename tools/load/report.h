// The load generator's report: what was sent, what came back, and how long it took.
//
// Every measured request ends up exactly once in `ok` or in `errors` (by code, including
// "CHECK_FAILED" for a reply that contradicts what the generator knows, and
// "DISCONNECTED" for a request whose connection closed before it was answered), so
// ok + sum(errors) == sent once the run is drained. Latency is recorded for every reply.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "tools/load/latency_histogram.h"
#include "tools/load/mix.h"

namespace smsx::load {

struct Report {
  std::string mode;  // "closed" or "open"
  uint32_t connections = 0;
  uint32_t pipeline = 0;
  double rate = 0;  // offered requests/s in open loop; 0 in closed loop
  std::string mix;
  double seconds = 0;  // measured phase, from the first send to the last reply
  uint64_t sent = 0;
  uint64_t ok = 0;
  std::map<std::string, uint64_t> errors;  // code -> count
  // What was actually sent, by op (kOpNames order). Picks the worker cannot apply are
  // sent as another op (resolve_op): an SMS with no waiting order as a placement (common
  // at the start), and a placement, once the worker holds its limit of active orders
  // (half of --numbers over the workers; orders left to expire stay active), as a cancel
  // or a balance read. `held_back` counts the picks that wanted a placement the limit
  // refused. A large share means the run did not keep the mix: give it more --numbers.
  std::array<uint64_t, kOpCount> sent_by_op{};
  uint64_t held_back = 0;
  LatencyHistogram latency;
  // Open loop: actual send time minus intended send time, for the requests that were
  // sent. Large values mean the generator (or the connection's pipeline) fell behind.
  LatencyHistogram send_lag;

  void add_ok(uint64_t latency_ns);
  void add_error(const std::string& code, uint64_t latency_ns);
  uint64_t error_count() const;
  uint64_t answered() const { return ok + error_count(); }
  bool consistent() const { return answered() == sent && latency.count() == answered(); }
  // The share of requests sent in place of a placement the limit refused, 0 to 1.
  double held_back_share() const { return sent > 0 ? static_cast<double>(held_back) / sent : 0; }
  // Above this share the text report warns that the mix was not kept.
  static constexpr double kHeldBackShareWarn = 0.01;
  double throughput() const { return seconds > 0 ? answered() / seconds : 0; }

  std::string to_text() const;  // for people (stderr / stdout)
  std::string to_json() const;  // one JSON object, one line

  // Prints to_json() and a newline with `json`, else to_text(), on stdout.
  void print(bool json) const;
  // A failed run: a reply contradicted what the generator knows (CHECK_FAILED), a
  // connection was lost (DISCONNECTED), a reply could not be read (BAD_REPLY), or the
  // counts do not add up.
  bool failed() const;
};

}  // namespace smsx::load
