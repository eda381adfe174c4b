// Helpers for the replication end-to-end tests: configurations of a primary/standby pair,
// the state digest and stats of a node, and a mixed load whose acknowledged requests are
// kept so that they can be checked on another node (after a failover).
//
// MixedLoad runs one thread per worker; each worker has its own accounts, numbers and
// country (so its part of the state follows from its own replies alone) and sends one
// request at a time over its own connections. Nothing here sleeps to synchronise: waiting
// for a condition is a poll with a deadline.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/smsxd_util.h"

namespace smsx::e2e {

// The [replication] section of a standby following the primary on `primary_port`.
std::string standby_toml(uint16_t primary_port);

// The pause between two polls of a condition (polling, not synchronising).
inline constexpr std::chrono::milliseconds kPollPause{20};

// Polls `condition` until it holds or `timeout` passes; its last value.
template <typename F>
bool poll_until(F condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollPause);  // between polls of a condition
  }
}

// One reply from a fresh admin connection ("" when the node cannot be reached).
std::string admin_call(uint16_t port, const std::string& line);

struct DigestAt {
  int64_t lsn = -1;
  std::string digest;
  std::string reply;  // the whole reply, for diagnostics
};
DigestAt digest_of(uint16_t port);

// The node's `hello` reply for the admin token.
std::string hello_of(uint16_t port);
// The node's `stats` reply.
std::string stats_of(uint16_t port);

// Polls both nodes' `digest` until they report the same LSN (within `timeout`), then
// compares the digests. The failure message carries both nodes' replies and logs.
::testing::AssertionResult same_digest_at_same_lsn(
    const SmsxdProcess& primary, const SmsxdProcess& standby,
    std::chrono::milliseconds timeout = std::chrono::seconds(20));

// The last `bytes` of a node's log, for failure messages.
std::string log_tail(const SmsxdProcess& node, size_t bytes = 4000);

// GET /metrics; the value of the first sample named exactly `name`, labels included as
// rendered (`smsx_x_total{source="live"}`).
std::optional<double> metric(uint16_t metrics_port, const std::string& name);

// The pid of a running SmsxdProcess that this test process started (found by its own
// configuration path among this process's children), or -1. For SIGSTOP/SIGCONT.
pid_t pid_of(const SmsxdProcess& node);

// An integer field of the node's `stats` (-1 if absent).
int64_t stat_of(uint16_t port, const char* name);

// Polls the primary's stats until `n` standbys are connected (10 s).
::testing::AssertionResult standbys_connected(const SmsxdProcess& primary,
                                              const SmsxdProcess& standby, int64_t n = 1);

// Polls a node's stats until it accepts writes (10 s): a restarted primary first asks its
// last standby whether a newer primary exists.
::testing::AssertionResult accepting_writes(const SmsxdProcess& node);

// SIGSTOP / SIGCONT of a node this test started (by its pid), so that it stops
// acknowledging without closing its connection.
void pause_node(pid_t pid);
void resume_node(pid_t pid);

// A node's WAL segment files (names only, sorted).
std::vector<std::string> segments(const SmsxdProcess& node);

// Runs a whole MixedLoad against `node`; most of it must be acknowledged.
::testing::AssertionResult run_load(const SmsxdProcess& node, int workers, int steps, int space);

// Makes `primary` (which has written something) delete its first WAL segment, writing
// loads in `space` and `space` + 1. Fails the test (gtest) if it cannot.
void prune_first_segment(SmsxdProcess& primary, int space);

// A request sent by the load and, once answered, its reply.
struct Sent {
  const char* token = nullptr;  // the gateway it was sent as
  std::string line;
  std::string reply;
};

// Sends `line` and reads the reply (skipping events) without failing the test when the
// server has gone away: nullopt then.
std::optional<std::string> try_call(Client& client, const std::string& line);

class MixedLoad {
 public:
  // `workers` threads of `steps` requests each against `port`. `space` (0..9) keeps the
  // accounts, numbers, countries and request ids of different loads on one node apart.
  MixedLoad(uint16_t port, int workers, int steps, int space);
  ~MixedLoad();  // stops and joins

  void start();
  void stop();  // workers finish their current request and end
  void join();
  // Requests answered so far (any answer), and those answered ok.
  int answered() const { return answered_.load(); }
  int acknowledged() const { return acknowledged_.load(); }
  // Polls until at least `n` requests were acknowledged, or every worker ended.
  bool wait_acknowledged(int n, std::chrono::milliseconds timeout);

  // After join(): every mutating request answered ok, per worker, in order.
  const std::vector<std::vector<Sent>>& acked() const { return acked_; }
  // After join(): the request each worker had sent but got no reply for (if any).
  const std::vector<std::optional<Sent>>& in_flight() const { return in_flight_; }
  // Requests refused with an error (they changed nothing).
  int refused() const { return refused_.load(); }

  // Sends every acknowledged request again, as the same gateway, to `port`; each must get
  // exactly its first reply. Returns the mismatches ("" if none).
  std::string resend_acked(uint16_t port) const;
  // Sends each worker's unanswered request to `port` (a gateway retrying after the crash)
  // and records its reply as acknowledged if ok, so that the model below includes it.
  // Returns problems ("" if none).
  std::string resolve_in_flight(uint16_t port);
  // Checks the state on `port` against what the replies say: for each account,
  // available + held = deposits - refunds - charges and held = the prices of its active
  // orders, its active orders are exactly those the replies leave active, and every order
  // is in the state its replies left it in. Returns problems ("" if none).
  std::string check_ledger(uint16_t port) const;

 private:
  void run_worker(int w);

  uint16_t port_;
  int workers_, steps_, space_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int> answered_{0}, acknowledged_{0}, refused_{0}, running_{0};
  std::vector<std::vector<Sent>> acked_;
  std::vector<std::optional<Sent>> in_flight_;
};

}  // namespace smsx::e2e
