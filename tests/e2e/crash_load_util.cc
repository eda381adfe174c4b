#include "tests/e2e/crash_load_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "tests/e2e/smsxd_util.h"

namespace smsx::e2e::crash {
namespace {

// The load's universe: few names, so that orders compete for numbers and every op meets
// both its success and its refusals.
constexpr uint64_t kAccountFirst = 1001;
constexpr uint64_t kAccounts = 16;
constexpr const char* kServices[] = {"wa", "tg", "gg", "fb"};
constexpr const char* kCountries[] = {"us", "gb"};
constexpr const char* kPools[] = {"p1", "p2"};
constexpr const char* kOperators[] = {"op1", "op2"};
constexpr size_t kSetupNumbers = 48;
constexpr int64_t kSetupDeposit = 200'000;
constexpr int kPollTimeoutMs = 10'000;
constexpr uint64_t kHelloTag = UINT64_MAX;

void erase_value(std::vector<uint64_t>* v, uint64_t x) {
  auto it = std::find(v->begin(), v->end(), x);
  if (it != v->end()) {
    *it = v->back();
    v->pop_back();
  }
}

// The code the server must extract from the texts the load sends.
std::string expected_code(std::string_view text) {
  std::string digits;
  for (char ch : text) {
    if (ch >= '0' && ch <= '9') digits.push_back(ch);
  }
  return digits;
}

}  // namespace

const char* token_of(Role role) {
  switch (role) {
    case Role::kPayments:
      return kPaymentsToken;
    case Role::kSupplier:
      return kSupplierToken;
    case Role::kAdmin:
      return kAdminToken;
    case Role::kCustomer:
      return kCustomerToken;
  }
  return "";
}

std::string OrderInfo::implied_state() const {
  if (cancelled) return "cancelled";
  if (resolved) return *resolved ? "credited" : "finished";
  if (disputed) return "disputed";
  if (finished) return "finished";
  if (sms == 0) return "waiting";
  return retried ? "retry|received" : "received";
}

bool OrderInfo::state_matches(std::string_view state) const {
  std::string implied = implied_state();
  if (implied == "retry|received") return state == "retry" || state == "received";
  return state == implied;
}

// ---- Model: generating requests ----

size_t Model::add(Op op) {
  ops_.push_back(std::move(op));
  return ops_.size() - 1;
}

size_t Model::new_deposit() {
  Op op;
  op.kind = Kind::kDeposit;
  op.role = Role::kPayments;
  op.id = "pay-" + std::to_string(++counter_);
  op.account = kAccountFirst + pick(kAccounts);
  op.amount = 500 + static_cast<int64_t>(pick(20'000));
  op.crypto = pick(3) == 0;
  std::string ref = "ref-" + std::to_string(counter_);
  op.address = op.crypto ? "bc1q" + std::to_string(rng_() % 1'000'000'007) : ref;
  op.line =
      op.crypto
          ? request("deposit",
                    {{"account", op.account},
                     {"amount", op.amount},
                     {"method", "crypto"},
                     {"ref", ref},
                     {"from_address", op.address}},
                    op.id)
          : request(
                "deposit",
                {{"account", op.account}, {"amount", op.amount}, {"method", "card"}, {"ref", ref}},
                op.id);
  return add(std::move(op));
}

size_t Model::new_number() {
  Op op;
  op.kind = Kind::kNumberAdd;
  op.role = Role::kSupplier;
  op.id = "sup-" + std::to_string(++counter_);
  op.number = std::to_string(15'550'000'000ULL + counter_);
  op.line = request("number.add",
                    {{"number", op.number},
                     {"country", kCountries[pick(2)]},
                     {"operator", kOperators[pick(2)]},
                     {"pool", kPools[pick(2)]}},
                    op.id);
  return add(std::move(op));
}

size_t Model::new_price() {
  Op op;
  op.kind = Kind::kPriceSet;
  op.role = Role::kAdmin;
  op.id = "adm-" + std::to_string(++counter_);
  int64_t price = 50 + static_cast<int64_t>(pick(250));
  op.line = request("price.set",
                    {{"service", kServices[pick(4)]},
                     {"country", kCountries[pick(2)]},
                     {"pool", kPools[pick(2)]},
                     {"price", price},
                     {"payout", price / 2}},
                    op.id);
  return add(std::move(op));
}

std::vector<size_t> Model::setup_ops() {
  std::vector<size_t> out;
  for (const char* service : kServices) {
    for (const char* country : kCountries) {
      for (int p = 0; p < 2; ++p) {
        Op op;
        op.kind = Kind::kPriceSet;
        op.role = Role::kAdmin;
        op.id = "adm-" + std::to_string(++counter_);
        op.line = request("price.set",
                          {{"service", service},
                           {"country", country},
                           {"pool", kPools[p]},
                           {"price", 100 + 50 * p},
                           {"payout", 60}},
                          op.id);
        out.push_back(add(std::move(op)));
      }
    }
  }
  for (size_t i = 0; i < kSetupNumbers; ++i) out.push_back(new_number());
  for (uint64_t a = 0; a < kAccounts; ++a) {
    Op op;
    op.kind = Kind::kDeposit;
    op.role = Role::kPayments;
    op.id = "pay-" + std::to_string(++counter_);
    op.account = kAccountFirst + a;
    op.amount = kSetupDeposit;
    op.address = "ref-" + std::to_string(counter_);
    op.line = request(
        "deposit",
        {{"account", op.account}, {"amount", op.amount}, {"method", "card"}, {"ref", op.address}},
        op.id);
    out.push_back(add(std::move(op)));
  }
  return out;
}

std::optional<size_t> Model::next(Role role) {
  uint64_t r = pick(100);
  switch (role) {
    case Role::kPayments: {
      if (r < 55 || deposit_ids_.empty()) return new_deposit();
      if (r < 85 || refund_ids_.empty()) {
        Op op;
        op.kind = Kind::kRefund;
        op.role = role;
        op.id = "pay-" + std::to_string(++counter_);
        op.target = *pick_from(deposit_ids_);
        // Sometimes name the destination: the right one, or a wrong one (refused).
        uint64_t how = pick(6);
        if (how == 0) op.address = deposits_.at(op.target).destination;
        if (how == 1) op.address = "bc1qsomebodyelse";
        op.line = op.address.empty()
                      ? request("deposit.refund", {{"deposit", op.target}}, op.id)
                      : request("deposit.refund",
                                {{"deposit", op.target}, {"to_address", op.address}}, op.id);
        return add(std::move(op));
      }
      Op op;
      op.kind = Kind::kConfirm;
      op.role = role;
      op.id = "pay-" + std::to_string(++counter_);
      size_t k = pick(refund_ids_.size());  // confirmed once: a second one changes nothing
      op.target = refund_ids_[k];
      refund_ids_[k] = refund_ids_.back();
      refund_ids_.pop_back();
      op.line = request("payout.confirm",
                        {{"refund", op.target}, {"txid", "tx" + std::to_string(counter_)}}, op.id);
      return add(std::move(op));
    }
    case Role::kSupplier: {
      if (r < 35 || numbers_.size() < 8) return new_number();
      if (r < 40) {
        Op op;
        op.kind = Kind::kNumberRemove;
        op.role = role;
        op.id = "sup-" + std::to_string(++counter_);
        size_t k = pick(numbers_.size());
        op.number = numbers_[k];
        numbers_[k] = numbers_.back();
        numbers_.pop_back();
        op.line = request("number.remove", {{"number", op.number}}, op.id);
        return add(std::move(op));
      }
      Op op;
      op.kind = Kind::kSms;
      op.role = role;
      op.id = "sup-" + std::to_string(++counter_);
      std::vector<uint64_t> active = waiting_orders_;
      active.insert(active.end(), received_orders_.begin(), received_orders_.end());
      if (r < 88 && !active.empty()) {
        op.number = orders_.at(*pick_from(active)).number;
      } else {
        op.number = *pick_from(numbers_);  // often no active order there: counted, dropped
      }
      op.text = pick(8) == 0 ? "Welcome!"
                             : "Your code is " + std::to_string(100 + pick(900)) + "-" +
                                   std::to_string(100 + pick(900));
      op.line = request("sms.deliver",
                        {{"number", op.number}, {"text", op.text}, {"sender", "WhatsApp"}}, op.id);
      return add(std::move(op));
    }
    case Role::kAdmin: {
      if (r < 70 || disputed_orders_.empty()) return new_price();
      Op op;
      op.kind = Kind::kResolve;
      op.role = role;
      op.id = "adm-" + std::to_string(++counter_);
      size_t k = pick(disputed_orders_.size());
      op.target = disputed_orders_[k];
      disputed_orders_[k] = disputed_orders_.back();
      disputed_orders_.pop_back();
      op.approve = pick(2) == 0;
      op.line = request("dispute.resolve", {{"order", op.target}, {"approve", op.approve}}, op.id);
      return add(std::move(op));
    }
    case Role::kCustomer: {
      Op op;
      op.role = role;
      op.id = "cus-" + std::to_string(++counter_);
      if (r < 45 || (waiting_orders_.empty() && received_orders_.empty())) {
        op.kind = Kind::kPlace;
        op.account = kAccountFirst + pick(kAccounts);
        op.service = kServices[pick(4)];
        std::string country = kCountries[pick(2)];
        bool with_pool = pick(4) == 0;
        std::string pool = kPools[pick(2)];
        if (pick(3) == 0) op.max_price = 80 + static_cast<int64_t>(pick(250));
        std::string extra;
        if (with_pool) extra += ",\"pool\":\"" + pool + "\"";
        if (op.max_price) extra += ",\"max_price\":" + std::to_string(*op.max_price);
        op.line = request("order.place",
                          {{"account", op.account}, {"service", op.service}, {"country", country}},
                          op.id);
        op.line.insert(op.line.size() - 1, extra);
        return add(std::move(op));
      }
      if (r >= 92 && !finished_orders_.empty()) {
        op.kind = Kind::kDispute;
        size_t k = pick(finished_orders_.size());
        op.target = finished_orders_[k];
        finished_orders_[k] = finished_orders_.back();
        finished_orders_.pop_back();
        op.line =
            request("order.dispute", {{"order", op.target}, {"reason", "code rejected"}}, op.id);
        return add(std::move(op));
      }
      bool cancel = (r < 68 && !waiting_orders_.empty()) || received_orders_.empty();
      op.target = *pick_from(cancel ? waiting_orders_ : received_orders_);
      if (!cancel && r >= 84 && retry_sent_.insert(op.target).second) {
        op.kind = Kind::kRetry;
        op.line = request("order.retry", {{"order", op.target}}, op.id);
        return add(std::move(op));
      }
      op.kind = cancel ? Kind::kCancel : Kind::kFinish;
      op.line = request(cancel ? "order.cancel" : "order.finish", {{"order", op.target}}, op.id);
      return add(std::move(op));
    }
  }
  return std::nullopt;
}

std::vector<uint64_t> Model::accounts() const {
  std::vector<uint64_t> out;
  for (uint64_t a = 0; a < kAccounts; ++a) out.push_back(kAccountFirst + a);
  return out;
}

// ---- Model: what a first reply implies ----

void Model::record(size_t index, std::string reply) {
  Op& op = ops_.at(index);
  ASSERT_FALSE(op.reply.has_value()) << "two first replies for " << op.line;
  Reader& rd = reader_;
  ASSERT_TRUE(rd.parse(reply)) << op.line << " -> " << reply;
  EXPECT_EQ(rd.str("id"), op.id) << op.line << " -> " << reply;
  op.reply = std::move(reply);
  const std::string& got = *op.reply;
  op.accepted = rd.ok();
  if (!op.accepted) return;  // a refusal changed nothing (PROTOCOL.md "Idempotency")
  switch (op.kind) {
    case Kind::kDeposit: {
      uint64_t id = static_cast<uint64_t>(rd.i64("deposit"));
      ASSERT_GT(rd.i64("deposit"), 0) << got;
      EXPECT_TRUE(deposits_.count(id) == 0) << "deposit id " << id << " given twice: " << got;
      deposits_[id] = DepositInfo{op.account, op.amount, op.address, false};
      deposit_ids_.push_back(id);
      return;
    }
    case Kind::kRefund: {
      auto it = deposits_.find(op.target);
      ASSERT_TRUE(it != deposits_.end()) << "refund of a deposit never credited: " << got;
      EXPECT_FALSE(it->second.refunded) << "deposit refunded twice: " << got;
      it->second.refunded = true;
      EXPECT_EQ(rd.i64("amount"), it->second.amount) << got;
      EXPECT_EQ(rd.str("destination"), it->second.destination) << got;
      EXPECT_TRUE(op.address.empty() || op.address == it->second.destination)
          << "a refund to a wrong address was accepted: " << op.line << " -> " << got;
      uint64_t id = static_cast<uint64_t>(rd.i64("refund"));
      ASSERT_GT(rd.i64("refund"), 0) << got;
      EXPECT_TRUE(refunds_.count(id) == 0) << "refund id " << id << " given twice: " << got;
      refunds_[id] = RefundInfo{op.target, it->second.amount, false};
      refund_ids_.push_back(id);
      erase_value(&deposit_ids_, op.target);
      return;
    }
    case Kind::kConfirm: {
      auto it = refunds_.find(op.target);
      ASSERT_TRUE(it != refunds_.end()) << "confirmed a refund never made: " << got;
      EXPECT_EQ(rd.str("state"), "paid") << got;
      EXPECT_FALSE(it->second.confirmed) << "confirmed twice: " << got;
      it->second.confirmed = true;
      return;
    }
    case Kind::kNumberAdd:
      EXPECT_EQ(rd.str("number"), op.number) << got;
      numbers_.push_back(op.number);
      return;
    case Kind::kPriceSet:
      return;
    case Kind::kPlace: {
      uint64_t id = static_cast<uint64_t>(rd.i64("order"));
      ASSERT_GT(rd.i64("order"), 0) << got;
      EXPECT_TRUE(orders_.count(id) == 0) << "order id " << id << " given twice: " << got;
      OrderInfo o;
      o.account = op.account;
      o.number = rd.str("number");
      o.service = op.service;
      o.price = rd.i64("price");
      EXPECT_GE(o.price, 0) << got;
      if (op.max_price) {
        EXPECT_LE(o.price, *op.max_price) << op.line << " -> " << got;
      }
      orders_[id] = o;
      waiting_orders_.push_back(id);
      auto [first, last] = sms_before_place_.equal_range(id);
      std::vector<std::string> numbers;
      for (auto it = first; it != last; ++it) numbers.push_back(it->second);
      sms_before_place_.erase(first, last);
      for (const std::string& number : numbers) sms_to(id, number);
      return;
    }
    case Kind::kCancel: {
      auto it = orders_.find(op.target);
      ASSERT_TRUE(it != orders_.end()) << "cancelled an order never placed: " << got;
      EXPECT_FALSE(it->second.cancelled) << "cancelled twice: " << got;
      EXPECT_EQ(rd.i64("refunded"), it->second.price) << got;
      it->second.cancelled = true;
      erase_value(&waiting_orders_, op.target);
      erase_value(&received_orders_, op.target);
      return;
    }
    case Kind::kFinish: {
      auto it = orders_.find(op.target);
      ASSERT_TRUE(it != orders_.end()) << "finished an order never placed: " << got;
      EXPECT_FALSE(it->second.finished) << "finished twice: " << got;
      EXPECT_EQ(rd.i64("charged"), it->second.price) << got;
      it->second.finished = true;
      erase_value(&waiting_orders_, op.target);
      erase_value(&received_orders_, op.target);
      finished_orders_.push_back(op.target);
      return;
    }
    case Kind::kRetry: {
      auto it = orders_.find(op.target);
      ASSERT_TRUE(it != orders_.end()) << "retried an order never placed: " << got;
      EXPECT_EQ(rd.str("state"), "retry") << got;
      it->second.retried = true;
      return;
    }
    case Kind::kDispute: {
      auto it = orders_.find(op.target);
      ASSERT_TRUE(it != orders_.end()) << "disputed an order never placed: " << got;
      EXPECT_TRUE(it->second.finished) << "only finished orders are disputed here: " << got;
      EXPECT_FALSE(it->second.disputed) << "disputed twice: " << got;
      EXPECT_EQ(rd.str("state"), "disputed") << got;
      it->second.disputed = true;
      disputed_orders_.push_back(op.target);
      return;
    }
    case Kind::kResolve: {
      auto it = orders_.find(op.target);
      ASSERT_TRUE(it != orders_.end()) << "resolved an order never placed: " << got;
      EXPECT_TRUE(it->second.disputed) << "resolved an order never disputed: " << got;
      EXPECT_FALSE(it->second.resolved.has_value()) << "resolved twice: " << got;
      EXPECT_EQ(rd.i64("credited"), op.approve ? it->second.price : 0) << got;
      it->second.resolved = op.approve;
      return;
    }
    case Kind::kNumberRemove: {
      std::string state = rd.str("state");
      EXPECT_TRUE(state == "removed" || state == "removing") << got;
      EXPECT_EQ(rd.str("number"), op.number) << got;
      return;
    }
    case Kind::kSms: {
      std::string code = expected_code(op.text);
      if (code.empty()) {
        EXPECT_TRUE(rd.is_null("code")) << got;
      } else {
        EXPECT_EQ(rd.str("code"), code) << got;
      }
      if (rd.is_null("order")) return;
      ASSERT_GT(rd.i64("order"), 0) << got;
      uint64_t id = static_cast<uint64_t>(rd.i64("order"));
      if (orders_.count(id) == 0) {
        // The number's current order was placed by a request whose reply is not in yet.
        sms_before_place_.emplace(id, op.number);
        return;
      }
      sms_to(id, op.number);
      return;
    }
  }
}

void Model::sms_to(uint64_t order, const std::string& number) {
  OrderInfo& o = orders_.at(order);
  EXPECT_EQ(o.number, number) << "an SMS to " << number << " went to order " << order
                              << " on another number";
  ++o.sms;
  if (!o.cancelled && !o.finished) {
    erase_value(&waiting_orders_, order);
    if (std::find(received_orders_.begin(), received_orders_.end(), order) ==
        received_orders_.end()) {
      received_orders_.push_back(order);
    }
  }
}

// ---- Pipeline ----

Pipeline::Pipeline(uint16_t port, const std::vector<std::pair<Role, size_t>>& roles_and_windows) {
  for (auto [role, window] : roles_and_windows) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "cannot connect to 127.0.0.1:" << port;
      if (fd >= 0) close(fd);
      ok_ = false;
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    Conn c;
    c.fd = fd;
    c.role = role;
    c.window = window;
    c.out = std::string("{\"id\":\"h\",\"op\":\"hello\",\"token\":\"") + token_of(role) + "\"}\n";
    c.inflight.push_back(kHelloTag);
    conns_.push_back(std::move(c));
  }
  ok_ = run(nullptr, [&](uint64_t tag, std::string reply) {
    EXPECT_EQ(tag, kHelloTag);
    if (!is_ok(reply)) {
      ADD_FAILURE() << "hello refused: " << reply;
      ok_ = false;
    }
  });
}

Pipeline::~Pipeline() {
  for (Conn& c : conns_) close(c.fd);
}

bool Pipeline::run(const Source& source, const Sink& sink, uint64_t stop_after) {
  uint64_t replies = 0;
  if (stop_after == 0) return true;
  std::vector<pollfd> fds(conns_.size());
  for (;;) {
    bool busy = false;
    for (Conn& c : conns_) {
      while (source && c.inflight.size() < c.window) {
        auto next = source(c.role);
        if (!next) break;
        c.out += next->second;
        c.out.push_back('\n');
        c.inflight.push_back(next->first);
      }
      busy = busy || !c.inflight.empty();
    }
    if (!busy) return true;
    for (size_t i = 0; i < conns_.size(); ++i) {
      fds[i] = pollfd{conns_[i].fd,
                      static_cast<short>(POLLIN | (conns_[i].out.empty() ? 0 : POLLOUT)), 0};
    }
    int rc = poll(fds.data(), fds.size(), kPollTimeoutMs);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) {
      ADD_FAILURE() << "no reply within " << kPollTimeoutMs << " ms";
      return false;
    }
    for (size_t i = 0; i < conns_.size(); ++i) {
      if (fds[i].revents == 0) continue;
      if (!pump(conns_[i], fds[i].revents, sink, &replies, stop_after)) return false;
      if (replies >= stop_after) return true;
    }
  }
}

bool Pipeline::pump(Conn& c, short revents, const Sink& sink, uint64_t* replies,
                    uint64_t stop_after) {
  if ((revents & POLLOUT) != 0 && !c.out.empty()) {
    ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      ADD_FAILURE() << "send failed: " << strerror(errno);
      return false;
    }
    if (n > 0) c.out.erase(0, static_cast<size_t>(n));
  }
  if ((revents & (POLLIN | POLLHUP | POLLERR)) == 0) return true;
  char chunk[65536];
  ssize_t n = ::recv(c.fd, chunk, sizeof chunk, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
  if (n <= 0) {
    ADD_FAILURE() << "the server closed a connection (" << (n == 0 ? "EOF" : strerror(errno))
                  << ")";
    return false;
  }
  c.in.append(chunk, static_cast<size_t>(n));
  size_t start = 0;
  for (;;) {
    if (*replies >= stop_after) break;
    size_t nl = c.in.find('\n', start);
    if (nl == std::string::npos) break;
    std::string line = c.in.substr(start, nl - start);
    start = nl + 1;
    if (line.rfind("{\"event\"", 0) == 0) continue;
    if (c.inflight.empty()) {
      ADD_FAILURE() << "a reply to nothing: " << line;
      return false;
    }
    uint64_t tag = c.inflight.front();
    c.inflight.pop_front();
    sink(tag, std::move(line));
    ++*replies;
  }
  c.in.erase(0, start);
  return true;
}

std::vector<uint64_t> Pipeline::in_flight() const {
  std::vector<uint64_t> out;
  for (const Conn& c : conns_) {
    for (uint64_t tag : c.inflight) {
      if (tag != kHelloTag) out.push_back(tag);
    }
  }
  return out;
}

bool send_all(uint16_t port, Role role, const std::vector<std::pair<uint64_t, std::string>>& lines,
              const Pipeline::Sink& sink, size_t window) {
  Pipeline p(port, {{role, window}});
  if (!p.ok()) return false;
  size_t next = 0;
  return p.run(
      [&](Role) -> std::optional<std::pair<uint64_t, std::string>> {
        if (next == lines.size()) return std::nullopt;
        return lines[next++];
      },
      sink);
}

// ---- Processes ----

namespace {

std::vector<int> children_of(int pid) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "children");
    int child = 0;
    while (in >> child) out.push_back(child);
  }
  return out;
}

}  // namespace

std::vector<int> grandchildren() {
  std::vector<int> out;
  for (int child : children_of(getpid())) {
    for (int g : children_of(child)) out.push_back(g);
  }
  return out;
}

// ---- Reader ----

struct Reader::Impl {
  simdjson::dom::parser parser;
  simdjson::dom::object doc;
  bool valid = false;
  simdjson::simdjson_result<simdjson::dom::element> get(std::string_view name) const {
    if (!valid) return simdjson::NO_SUCH_FIELD;
    return doc[name];
  }
};

Reader::Reader() : impl_(std::make_unique<Impl>()) {}
Reader::~Reader() = default;

bool Reader::parse(std::string_view json) {
  simdjson::dom::element e;
  impl_->valid = impl_->parser.parse(json.data(), json.size()).get(e) == simdjson::SUCCESS &&
                 e.get_object().get(impl_->doc) == simdjson::SUCCESS;
  return impl_->valid;
}

bool Reader::ok() const {
  bool b = false;
  return impl_->get("ok").get_bool().get(b) == simdjson::SUCCESS && b;
}

std::string Reader::str(std::string_view name) const {
  std::string_view s;
  if (impl_->get(name).get_string().get(s) != simdjson::SUCCESS) return "";
  return std::string(s);
}

int64_t Reader::i64(std::string_view name) const {
  int64_t v = -1;
  if (impl_->get(name).get_int64().get(v) != simdjson::SUCCESS) return -1;
  return v;
}

bool Reader::is_null(std::string_view name) const {
  simdjson::dom::element v;
  return impl_->get(name).get(v) == simdjson::SUCCESS && v.is_null();
}

size_t Reader::array_size(std::string_view name) const {
  simdjson::dom::array a;
  if (impl_->get(name).get_array().get(a) != simdjson::SUCCESS) return 0;
  return a.size();
}

std::vector<int64_t> Reader::array_field(std::string_view name, std::string_view field) const {
  std::vector<int64_t> out;
  simdjson::dom::array a;
  if (impl_->get(name).get_array().get(a) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element e : a) {
    int64_t v = -1;
    if (e[field].get_int64().get(v) != simdjson::SUCCESS) v = -1;
    out.push_back(v);
  }
  return out;
}

}  // namespace smsx::e2e::crash
