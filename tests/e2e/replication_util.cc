#include "tests/e2e/replication_util.h"

#include <signal.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace smsx::e2e {
namespace fs = std::filesystem;
namespace {

// How long a load or check connection waits for one reply before giving up on the node.
constexpr std::chrono::seconds kReplyTimeout{5};
// Mismatches listed in a check's message; the rest are only counted.
constexpr int kProblemsListedMax = 12;

// Collects problems for a check's message, listing the first few.
class Problems {
 public:
  void add(const std::string& what) {
    if (++count_ <= kProblemsListedMax) text_ += what + "\n";
  }
  std::string str() const {
    if (count_ == 0) return "";
    std::string out = std::to_string(count_) + " problem(s):\n" + text_;
    if (count_ > kProblemsListedMax) out += "...\n";
    return out;
  }

 private:
  int count_ = 0;
  std::string text_;
};

// The ids of the orders in an `orders.active` reply.
std::vector<int64_t> order_ids(const std::string& reply) {
  std::vector<int64_t> ids;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(reply).get(doc) != simdjson::SUCCESS) return ids;
  simdjson::dom::array orders;
  if (doc["orders"].get_array().get(orders) != simdjson::SUCCESS) return ids;
  for (simdjson::dom::element o : orders) {
    uint64_t id = 0;
    if (o["order"].get_uint64().get(id) == simdjson::SUCCESS)
      ids.push_back(static_cast<int64_t>(id));
  }
  return ids;
}

// The refund ids in a `payouts.pending` reply.
std::vector<int64_t> refund_ids(const std::string& reply) {
  std::vector<int64_t> ids;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(reply).get(doc) != simdjson::SUCCESS) return ids;
  simdjson::dom::array payouts;
  if (doc["payouts"].get_array().get(payouts) != simdjson::SUCCESS) return ids;
  for (simdjson::dom::element p : payouts) {
    uint64_t id = 0;
    if (p["refund"].get_uint64().get(id) == simdjson::SUCCESS)
      ids.push_back(static_cast<int64_t>(id));
  }
  return ids;
}

// A connection that said hello as `token`, or nullptr.
std::unique_ptr<Client> connect_as(uint16_t port, const char* token) {
  auto c = std::make_unique<Client>(port, kReplyTimeout);
  if (!c->connected()) return nullptr;
  auto r = try_call(*c, std::string("{\"id\":\"h\",\"op\":\"hello\",\"token\":\"") + token + "\"}");
  if (!r || !is_ok(*r)) return nullptr;
  return c;
}

// One connection per gateway token, opened on first use.
class Gateways {
 public:
  explicit Gateways(uint16_t port) : port_(port) {}
  Client* as(const char* token) {
    auto& slot = clients_[token];
    if (!slot) slot = connect_as(port_, token);
    return slot.get();
  }

 private:
  uint16_t port_;
  std::map<std::string, std::unique_ptr<Client>> clients_;
};

}  // namespace

std::string standby_toml(uint16_t primary_port) {
  return "[replication]\nprimary = \"127.0.0.1:" + std::to_string(primary_port) + "\"\ntoken = \"" +
         kReplicaToken + "\"\n";
}

std::optional<std::string> try_call(Client& client, const std::string& line) {
  if (!client.connected()) return std::nullopt;
  std::string bytes = line + "\n";
  std::string_view rest = bytes;
  auto deadline = std::chrono::steady_clock::now() + kReplyTimeout;
  while (!rest.empty()) {
    ssize_t n = client.send_some(rest);
    if (n < 0) return std::nullopt;
    if (n == 0) {
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the socket buffer is full
      continue;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  for (;;) {
    auto reply = client.read_line();
    if (!reply) return std::nullopt;
    if (reply->rfind("{\"event\"", 0) == 0) {
      client.events.push_back(*reply);
      continue;
    }
    return reply;
  }
}

std::string admin_call(uint16_t port, const std::string& line) {
  auto c = connect_as(port, kAdminToken);
  if (!c) return "";
  return try_call(*c, line).value_or("");
}

DigestAt digest_of(uint16_t port) {
  DigestAt d;
  d.reply = admin_call(port, "{\"id\":\"digest\",\"op\":\"digest\"}");
  if (!is_ok(d.reply)) return d;
  d.lsn = int_field(d.reply, "lsn");
  d.digest = field(d.reply, "digest").value_or("");
  return d;
}

std::string hello_of(uint16_t port) {
  Client c(port, kReplyTimeout);
  return try_call(c,
                  std::string("{\"id\":\"h\",\"op\":\"hello\",\"token\":\"") + kAdminToken + "\"}")
      .value_or("");
}

std::string stats_of(uint16_t port) { return admin_call(port, "{\"id\":\"st\",\"op\":\"stats\"}"); }

std::string log_tail(const SmsxdProcess& node, size_t bytes) {
  // Without the lines about each connection, most of them the checks' own.
  std::istringstream lines(node.log());
  std::string log, line;
  while (std::getline(lines, line)) {
    if (line.find(" INFO connection ") == std::string::npos) log += line + "\n";
  }
  if (log.size() <= bytes) return log;
  return "..." + log.substr(log.size() - bytes);
}

::testing::AssertionResult same_digest_at_same_lsn(const SmsxdProcess& primary,
                                                   const SmsxdProcess& standby,
                                                   std::chrono::milliseconds timeout) {
  DigestAt p, s;
  bool same_lsn = poll_until(
      [&] {
        p = digest_of(primary.port());
        s = digest_of(standby.port());
        return p.lsn > 0 && p.lsn == s.lsn;
      },
      timeout);
  auto context = [&] {
    std::stringstream out;
    out << "\nprimary digest: " << p.reply << "\nstandby digest: " << s.reply
        << "\nprimary stats: " << stats_of(primary.port())
        << "\nstandby stats: " << stats_of(standby.port()) << "\n--- primary log:\n"
        << log_tail(primary) << "\n--- standby log:\n"
        << log_tail(standby);
    return out.str();
  };
  if (!same_lsn) {
    return ::testing::AssertionFailure() << "the standby did not reach the primary's LSN within "
                                         << timeout.count() << " ms" << context();
  }
  if (p.digest.size() != 16 || p.digest != s.digest) {
    return ::testing::AssertionFailure() << "different state at LSN " << p.lsn << ": " << p.digest
                                         << " vs " << s.digest << context();
  }
  return ::testing::AssertionSuccess() << "digest " << p.digest << " at LSN " << p.lsn;
}

std::optional<double> metric(uint16_t metrics_port, const std::string& name) {
  Client c(metrics_port, std::chrono::seconds(2));
  if (!c.connected()) return std::nullopt;
  c.send_raw("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  std::optional<double> value;
  while (auto line = c.read_line()) {
    if (!value && line->size() > name.size() && line->compare(0, name.size(), name) == 0 &&
        (*line)[name.size()] == ' ') {
      value = std::strtod(line->c_str() + name.size() + 1, nullptr);
    }
  }
  return value;
}

pid_t pid_of(const SmsxdProcess& node) {
  // The harness writes the configuration beside its own data folder.
  std::string config = (fs::path(node.data_dir()).parent_path() / "smsx.toml").string();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat_file(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid != getpid()) continue;  // only this process's own children
    std::ifstream cmd_file(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(cmd_file)), {});
    std::stringstream args(cmdline);
    std::string arg;
    while (std::getline(args, arg, '\0')) {
      if (arg == config) return static_cast<pid_t>(std::stol(name));
    }
  }
  return -1;
}

MixedLoad::MixedLoad(uint16_t port, int workers, int steps, int space)
    : port_(port),
      workers_(workers),
      steps_(steps),
      space_(space),
      acked_(static_cast<size_t>(workers)),
      in_flight_(static_cast<size_t>(workers)) {}

MixedLoad::~MixedLoad() {
  stop();
  join();
}

void MixedLoad::start() {
  running_ = workers_;
  for (int w = 0; w < workers_; ++w) threads_.emplace_back([this, w] { run_worker(w); });
}

void MixedLoad::stop() { stop_ = true; }

void MixedLoad::join() {
  for (auto& t : threads_) t.join();
  threads_.clear();
}

bool MixedLoad::wait_acknowledged(int n, std::chrono::milliseconds timeout) {
  poll_until([&] { return acknowledged_.load() >= n || running_.load() == 0; }, timeout);
  return acknowledged_.load() >= n;
}

// One worker: its own three accounts, country, pool and numbers; one request at a time.
// Every ten steps: a price change, deposits (card and crypto), two numbers, two orders, an
// SMS to the oldest waiting order, a finish of the oldest received one, a cancel of the
// newest waiting one and a refund of the newest deposit.
void MixedLoad::run_worker(int w) {
  struct Done {
    std::atomic<int>* running;
    ~Done() { --*running; }
  } done{&running_};
  Gateways gw(port_);
  const std::string prefix = "s" + std::to_string(space_) + "w" + std::to_string(w);
  const std::string country = "c" + std::to_string(space_) + "x" + std::to_string(w);
  const int64_t account_base = 1'000'000LL * (space_ + 1) + 100LL * w;
  int64_t next_number = 0;
  std::deque<std::pair<int64_t, std::string>> waiting;  // (order, number), oldest first
  std::deque<int64_t> received;
  std::vector<int64_t> deposits;  // not yet refunded, newest last
  for (int i = 0; i < steps_ && !stop_.load(); ++i) {
    const int64_t account = account_base + (i / 10) % 3;
    const std::string id = prefix + "-" + std::to_string(i);
    auto new_number = [&] {
      char digits[16];
      std::snprintf(digits, sizeof digits, "1%d%02d%07lld", space_, w,
                    static_cast<long long>(next_number++));
      return std::string(digits);
    };
    auto deposit = [&] {
      bool crypto = i % 20 == 9;
      if (crypto) {
        return Sent{kPaymentsToken, request("deposit",
                                            {{"account", account},
                                             {"amount", 1000},
                                             {"method", "crypto"},
                                             {"ref", "ref-" + id},
                                             {"from_address", "addr-" + id}},
                                            id)};
      }
      return Sent{kPaymentsToken, request("deposit",
                                          {{"account", account},
                                           {"amount", 1000 + i % 7},
                                           {"method", "card"},
                                           {"ref", "ref-" + id}},
                                          id)};
    };
    Sent s;
    switch (i % 10) {
      case 0:
        s = {kAdminToken, request("price.set",
                                  {{"service", "wa"},
                                   {"country", country},
                                   {"pool", "p"},
                                   {"price", 100 + 5 * ((i / 10) % 5)},
                                   {"payout", 50}},
                                  id)};
        break;
      case 1:
        s = deposit();
        break;
      case 2:
      case 3:
        s = {
            kSupplierToken,
            request(
                "number.add",
                {{"number", new_number()}, {"country", country}, {"operator", "op"}, {"pool", "p"}},
                id)};
        break;
      case 4:
      case 7:
        s = {kCustomerToken,
             request("order.place", {{"account", account}, {"service", "wa"}, {"country", country}},
                     id)};
        break;
      case 5:
        if (waiting.empty()) {
          s = deposit();
        } else {
          s = {kSupplierToken, request("sms.deliver",
                                       {{"number", waiting.front().second},
                                        {"text", "Your code is " + std::to_string(100000 + i)},
                                        {"sender", "WA"}},
                                       id)};
        }
        break;
      case 6:
        if (received.empty()) {
          s = deposit();
        } else {
          s = {kCustomerToken, request("order.finish", {{"order", received.front()}}, id)};
        }
        break;
      case 8:
        if (waiting.empty()) {
          s = deposit();
        } else {
          s = {kCustomerToken, request("order.cancel", {{"order", waiting.back().first}}, id)};
        }
        break;
      default:
        if (deposits.empty()) {
          s = deposit();
        } else {
          s = {kPaymentsToken, request("deposit.refund", {{"deposit", deposits.back()}}, id)};
        }
        break;
    }
    in_flight_[static_cast<size_t>(w)] = s;
    Client* client = gw.as(s.token);
    std::optional<std::string> reply = client ? try_call(*client, s.line) : std::nullopt;
    if (!reply) return;  // the node went away: this request stays in flight
    in_flight_[static_cast<size_t>(w)].reset();
    ++answered_;
    std::string op = field(s.line, "op").value_or("");
    if (!is_ok(*reply)) {
      ++refused_;
      if (op == "deposit.refund") deposits.pop_back();  // spent or not covered: leave it
      // These cannot be refused here; should one be, do not try it again and again.
      if (op == "sms.deliver") waiting.pop_front();
      if (op == "order.finish") received.pop_front();
      if (op == "order.cancel") waiting.pop_back();
      continue;
    }
    s.reply = *reply;
    ++acknowledged_;
    if (op == "deposit") {
      deposits.push_back(int_field(*reply, "deposit"));
    } else if (op == "deposit.refund") {
      deposits.pop_back();
    } else if (op == "order.place") {
      waiting.emplace_back(int_field(*reply, "order"), field(*reply, "number").value_or(""));
    } else if (op == "sms.deliver") {
      received.push_back(waiting.front().first);
      waiting.pop_front();
    } else if (op == "order.finish") {
      received.pop_front();
    } else if (op == "order.cancel") {
      waiting.pop_back();
    }
    acked_[static_cast<size_t>(w)].push_back(std::move(s));
  }
}

std::string MixedLoad::resend_acked(uint16_t port) const {
  Problems problems;
  Gateways gw(port);
  for (size_t w = 0; w < acked_.size(); ++w) {
    for (const Sent& s : acked_[w]) {
      Client* client = gw.as(s.token);
      std::optional<std::string> now = client ? try_call(*client, s.line) : std::nullopt;
      if (!now) {
        problems.add("no reply from the node to " + s.line);
        return problems.str();
      }
      if (*now != s.reply) {
        problems.add("retry of " + s.line + "\n  first reply: " + s.reply +
                     "\n  now:         " + *now);
      }
    }
  }
  return problems.str();
}

std::string MixedLoad::resolve_in_flight(uint16_t port) {
  Problems problems;
  Gateways gw(port);
  for (size_t w = 0; w < in_flight_.size(); ++w) {
    if (!in_flight_[w]) continue;
    Sent s = *in_flight_[w];
    Client* client = gw.as(s.token);
    std::optional<std::string> reply = client ? try_call(*client, s.line) : std::nullopt;
    if (!reply) {
      problems.add("no reply to the retry of " + s.line);
      continue;
    }
    in_flight_[w].reset();
    if (is_ok(*reply)) {
      s.reply = *reply;
      acked_[w].push_back(std::move(s));
    }
  }
  return problems.str();
}

std::string MixedLoad::check_ledger(uint16_t port) const {
  struct Account {
    int64_t deposited = 0, charged = 0;
  };
  struct Order {
    int64_t account = 0, price = 0;
    std::string state;
  };
  std::map<int64_t, Account> accounts;
  std::map<int64_t, Order> orders;
  std::map<int64_t, int64_t> deposit_account;
  std::vector<int64_t> refunds;
  for (const auto& worker : acked_) {
    for (const Sent& s : worker) {
      std::string op = field(s.line, "op").value_or("");
      if (op == "deposit") {
        int64_t account = int_field(s.line, "account");
        accounts[account].deposited += int_field(s.line, "amount");
        deposit_account[int_field(s.reply, "deposit")] = account;
      } else if (op == "deposit.refund") {
        accounts[deposit_account[int_field(s.line, "deposit")]].deposited -=
            int_field(s.reply, "amount");
        refunds.push_back(int_field(s.reply, "refund"));
      } else if (op == "order.place") {
        orders[int_field(s.reply, "order")] = {int_field(s.line, "account"),
                                               int_field(s.reply, "price"), "waiting"};
      } else if (op == "sms.deliver") {
        auto it = orders.find(int_field(s.reply, "order"));
        if (it != orders.end() && it->second.state == "waiting") it->second.state = "received";
      } else if (op == "order.finish") {
        Order& o = orders[int_field(s.line, "order")];
        o.state = "finished";
        accounts[o.account].charged += int_field(s.reply, "charged");
      } else if (op == "order.cancel") {
        orders[int_field(s.line, "order")].state = "cancelled";
      }
    }
  }
  Problems problems;
  Gateways gw(port);
  Client* customer = gw.as(kCustomerToken);
  Client* payments = gw.as(kPaymentsToken);
  if (customer == nullptr || payments == nullptr) return "cannot connect to the node";
  auto ask = [&](Client* c, const std::string& line) { return try_call(*c, line).value_or(""); };
  for (const auto& [account, a] : accounts) {
    std::string balance = ask(customer, request("balance", {{"account", account}}, "chk"));
    int64_t held_expected = 0;
    std::vector<int64_t> active_expected;
    for (const auto& [id, o] : orders) {
      if (o.account == account && (o.state == "waiting" || o.state == "received")) {
        held_expected += o.price;
        active_expected.push_back(id);
      }
    }
    int64_t available = int_field(balance, "available"), held = int_field(balance, "held");
    if (available + held != a.deposited - a.charged || held != held_expected) {
      problems.add("account " + std::to_string(account) + ": " + balance + "; the replies say " +
                   std::to_string(a.deposited) + " deposited net of refunds, " +
                   std::to_string(a.charged) + " charged, " + std::to_string(held_expected) +
                   " held");
    }
    std::string active = ask(customer, request("orders.active", {{"account", account}}, "chk"));
    if (order_ids(active) != active_expected) {
      problems.add("account " + std::to_string(account) + ": active orders " + active +
                   " differ from the " + std::to_string(active_expected.size()) +
                   " the replies leave active");
    }
  }
  for (const auto& [id, o] : orders) {
    std::string got = ask(customer, request("order.get", {{"order", id}}, "chk"));
    if (field(got, "state") != o.state) {
      problems.add("order " + std::to_string(id) + " should be " + o.state + ": " + got);
    }
  }
  std::string pending = ask(payments, request("payouts.pending", {}, "chk"));
  std::vector<int64_t> pending_ids = refund_ids(pending);
  for (int64_t r : refunds) {
    if (std::find(pending_ids.begin(), pending_ids.end(), r) == pending_ids.end()) {
      problems.add("refund " + std::to_string(r) +
                   " is not a pending payout: " + pending.substr(0, 300));
    }
  }
  return problems.str();
}

int64_t stat_of(uint16_t port, const char* name) { return int_field(stats_of(port), name); }

::testing::AssertionResult standbys_connected(const SmsxdProcess& primary,
                                              const SmsxdProcess& standby, int64_t n) {
  if (poll_until([&] { return stat_of(primary.port(), "standbys") == n; },
                 std::chrono::seconds(10))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "the primary does not count " << n << " standby: " << stats_of(primary.port())
         << "\n--- primary log:\n"
         << log_tail(primary) << "\n--- standby log:\n"
         << log_tail(standby);
}

void pause_node(pid_t pid) { ASSERT_EQ(kill(pid, SIGSTOP), 0); }
void resume_node(pid_t pid) { ASSERT_EQ(kill(pid, SIGCONT), 0); }

// Runs a whole MixedLoad against `node`; most of it must be acknowledged (a few requests
// are refused by design, e.g. a refund of a deposit already spent).
::testing::AssertionResult run_load(const SmsxdProcess& node, int workers, int steps, int space) {
  MixedLoad load(node.port(), workers, steps, space);
  load.start();
  load.join();
  if (load.acknowledged() * 10 >= workers * steps * 8) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "only " << load.acknowledged() << " of "
                                       << workers * steps << " requests acknowledged\n"
                                       << log_tail(node);
}

::testing::AssertionResult accepting_writes(const SmsxdProcess& node) {
  std::string stats;
  if (poll_until(
          [&] {
            stats = stats_of(node.port());
            return field(stats, "accepting_writes") == "true";
          },
          std::chrono::seconds(10))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "not accepting writes: " << stats << "\n"
                                       << log_tail(node);
}

std::vector<std::string> segments(const SmsxdProcess& node) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(node.data_dir() + "/wal", ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Makes `primary` delete its first WAL segment (LSN 1 onwards), writing loads in `space`
// and `space` + 1: a restart begins a new segment; then two snapshots, the older of which
// covers the first segment, let pruning delete it.
void prune_first_segment(SmsxdProcess& primary, int space) {
  ASSERT_EQ(primary.stop_term(), 0) << primary.log();
  ASSERT_NO_FATAL_FAILURE(primary.start());
  ASSERT_TRUE(accepting_writes(primary));
  ASSERT_TRUE(run_load(primary, 2, 300, space));
  std::string snap = admin_call(primary.port(), request("snapshot", {}, "snap-1"));
  ASSERT_TRUE(is_ok(snap)) << snap;
  ASSERT_TRUE(run_load(primary, 1, 100, space + 1));
  // The second snapshot is refused (OVERLOADED) while the first is still being written.
  std::string snap2;
  ASSERT_TRUE(poll_until(
      [&] {
        snap2 = admin_call(primary.port(), request("snapshot", {}, "snap-2"));
        return is_ok(snap2);
      },
      std::chrono::seconds(20)))
      << snap2;
  const std::string first_segment = "wal-00000000000000000001.log";
  ASSERT_TRUE(poll_until(
      [&] {
        auto names = segments(primary);
        return !names.empty() &&
               std::find(names.begin(), names.end(), first_segment) == names.end();
      },
      std::chrono::seconds(20)))
      << "the first segment was not pruned\n"
      << log_tail(primary);
}

}  // namespace smsx::e2e
