// smsxd end to end: the real binary on a loopback port, talked to over TCP.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "tests/e2e/smsxd_util.h"

namespace smsx::e2e {
namespace {

// A server with a short order lifetime and refund window, and one connection per role.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ =
        std::make_unique<SmsxdProcess>("[orders]\nttl = \"1s\"\n[refunds]\nwindow = \"3s\"\n");
    ASSERT_NO_FATAL_FAILURE(server_->start());
    connect_all();
  }
  void connect_all() {
    customer_ = std::make_unique<Client>(server_->port());
    supplier_ = std::make_unique<Client>(server_->port());
    payments_ = std::make_unique<Client>(server_->port());
    admin_ = std::make_unique<Client>(server_->port());
    ASSERT_TRUE(customer_->hello(kCustomerToken));
    ASSERT_TRUE(supplier_->hello(kSupplierToken));
    ASSERT_TRUE(payments_->hello(kPaymentsToken));
    ASSERT_TRUE(admin_->hello(kAdminToken));
  }
  // A priced pool with one fresh number in a fresh country; returns (country, number).
  std::pair<std::string, std::string> pool(int price = 120) {
    int k = ++fresh_;
    std::string country = "c" + std::to_string(k);
    std::string number = std::to_string(15550000000LL + k);
    EXPECT_TRUE(is_ok(admin_->call(request("price.set", {{"service", "wa"},
                                                         {"country", country},
                                                         {"pool", "p"},
                                                         {"price", price},
                                                         {"payout", price / 2}}))));
    EXPECT_TRUE(is_ok(supplier_->call(
        request("number.add",
                {{"number", number}, {"country", country}, {"operator", "op"}, {"pool", "p"}}))));
    return {country, number};
  }
  int64_t account(int64_t amount = 1000) {
    int64_t acct = 900000 + ++fresh_;
    std::string r = payments_->call(request("deposit", {{"account", acct},
                                                        {"amount", amount},
                                                        {"method", "card"},
                                                        {"ref", "ref-" + std::to_string(acct)}}));
    EXPECT_TRUE(is_ok(r)) << r;
    return acct;
  }
  std::pair<int64_t, int64_t> balance(int64_t acct) {
    std::string r = customer_->call(request("balance", {{"account", acct}}));
    return {int_field(r, "available"), int_field(r, "held")};
  }

  std::unique_ptr<SmsxdProcess> server_;
  std::unique_ptr<Client> customer_, supplier_, payments_, admin_;
  int fresh_ = 0;
};

TEST_F(ServerTest, PlaceSmsFinishOverTcp) {
  auto [country, number] = pool();
  int64_t acct = account();
  std::string placed = customer_->call(
      request("order.place", {{"account", acct}, {"service", "wa"}, {"country", country}}));
  ASSERT_TRUE(is_ok(placed)) << placed;
  EXPECT_EQ(field(placed, "number"), number);
  EXPECT_EQ(int_field(placed, "price"), 120);
  int64_t order = int_field(placed, "order");
  EXPECT_EQ(balance(acct), std::make_pair(int64_t{880}, int64_t{120}));
  std::string sms =
      supplier_->call(request("sms.deliver", {{"number", number}, {"text", "Your code: 123-456"}}));
  EXPECT_EQ(int_field(sms, "order"), order) << sms;
  EXPECT_EQ(field(sms, "code"), "123456");
  std::string fin = customer_->call(request("order.finish", {{"order", order}}));
  EXPECT_EQ(int_field(fin, "charged"), 120) << fin;
  EXPECT_EQ(balance(acct), std::make_pair(int64_t{880}, int64_t{0}));
}

TEST_F(ServerTest, AnOrderWithNoSmsExpiresWithAFullRefundAndAnEvent) {
  auto [country, number] = pool();
  int64_t acct = account();
  Client sub(server_->port());
  ASSERT_TRUE(sub.hello(kCustomerToken));
  ASSERT_TRUE(is_ok(sub.call(request("subscribe", {{"events", Raw{"[\"order.expired\"]"}}}))));
  std::string placed = customer_->call(
      request("order.place", {{"account", acct}, {"service", "wa"}, {"country", country}}));
  ASSERT_TRUE(is_ok(placed)) << placed;
  auto ev = sub.wait_event("order.expired");
  ASSERT_TRUE(ev.has_value()) << server_->log();
  EXPECT_EQ(int_field(*ev, "order"), int_field(placed, "order"));
  EXPECT_EQ(int_field(*ev, "refunded"), 120);
  EXPECT_GE(int_field(*ev, "at"), int_field(placed, "expires_at"));
  EXPECT_EQ(balance(acct), std::make_pair(int64_t{1000}, int64_t{0}));
}

TEST_F(ServerTest, ARetryOnANewConnectionReturnsTheFirstReplyAndChargesOnce) {
  auto [country, number] = pool();
  int64_t acct = account();
  std::string line = request(
      "order.place", {{"account", acct}, {"service", "wa"}, {"country", country}}, "retry-me");
  std::string first = customer_->call(line);
  ASSERT_TRUE(is_ok(first));
  customer_ = std::make_unique<Client>(server_->port());  // the gateway reconnected
  ASSERT_TRUE(customer_->hello(kCustomerToken));
  EXPECT_EQ(customer_->call(line), first);
  EXPECT_EQ(balance(acct), std::make_pair(int64_t{880}, int64_t{120}));
  std::string other = customer_->call(request(
      "order.place", {{"account", acct}, {"service", "tg"}, {"country", country}}, "retry-me"));
  EXPECT_EQ(error_of(other), "ID_REUSED");
}

TEST_F(ServerTest, BadInputGetsTheDocumentedErrorAndChangesNothing) {
  int64_t acct = account(500);
  struct Case {
    std::string line;
    const char* error;
  };
  const Case cases[] = {
      {"this is not json", "BAD_REQUEST"},
      {"[1,2,3]", "BAD_REQUEST"},
      {"\"a string\"", "BAD_REQUEST"},
      {"{\"id\":\"x1\",\"op\":\"no.such.op\"}", "UNKNOWN_OP"},
      {request("deposit", {{"account", acct}, {"amount", -5}, {"method", "card"}, {"ref", "n1"}}),
       "BAD_REQUEST"},
      {request("deposit", {{"account", acct},
                           {"amount", Raw{"99999999999999999999999"}},
                           {"method", "card"},
                           {"ref", "n2"}}),
       "BAD_REQUEST"},
      {request("deposit",
               {{"account", acct}, {"amount", Raw{"1.5"}}, {"method", "card"}, {"ref", "n3"}}),
       "BAD_REQUEST"},
      {request("deposit", {{"account", "1001"}, {"amount", 5}, {"method", "card"}, {"ref", "n4"}}),
       "BAD_REQUEST"},
      {request("deposit", {{"account", acct}, {"amount", 5}, {"method", "cash"}, {"ref", "n5"}}),
       "BAD_REQUEST"},
      {request("deposit.refund", {{"deposit", 999999}}), "DEPOSIT_NOT_FOUND"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    std::string r = payments_->call(c.line);
    EXPECT_EQ(error_of(r), c.error) << r;
  }
  EXPECT_EQ(error_of(customer_->call(request("balance", {{"account", 424242}}))), "NO_ACCOUNT");
  EXPECT_EQ(error_of(customer_->call(request("order.get", {{"order", 987654}}))),
            "ORDER_NOT_FOUND");
  // Binary garbage, then the connection still works.
  std::string garbage("\x01\x02\xff\xfe{\x00}", 7);
  payments_->send_raw(garbage + "\n");
  EXPECT_EQ(error_of(*payments_->read_line()), "BAD_REQUEST");
  EXPECT_EQ(balance(acct), std::make_pair(int64_t{500}, int64_t{0}));
}

TEST_F(ServerTest, AnOversizedFrameIsRefusedAndClosedWhileOthersAreServed) {
  Client big(server_->port());
  ASSERT_TRUE(big.hello(kCustomerToken));
  big.send_raw(std::string(70 * 1024, 'x'));
  auto reply = big.read_line();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(error_of(*reply), "FRAME_TOO_LARGE");
  EXPECT_TRUE(big.closed_by_server());
  account();  // the server still serves everyone else
}

TEST_F(ServerTest, ALineSplitIntoSingleBytesIsOneRequest) {
  int64_t acct = account(700);
  std::string line = request("balance", {{"account", acct}}) + "\n";
  for (char ch : line) customer_->send_raw(std::string_view(&ch, 1));
  auto reply = customer_->read_line();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(int_field(*reply, "available"), 700);
}

TEST_F(ServerTest, TenThousandPipelinedRequestsAreAnsweredInOrder) {
  int64_t acct = account(1);
  std::string batch;
  for (int i = 0; i < 10000; ++i) {
    batch += request("balance", {{"account", acct}}, "p" + std::to_string(i)) + "\n";
  }
  std::thread sender([&] { customer_->send_raw(batch); });
  for (int i = 0; i < 10000; ++i) {
    auto reply = customer_->read_line();
    ASSERT_TRUE(reply.has_value()) << "reply " << i;
    ASSERT_EQ(field(*reply, "id"), "p" + std::to_string(i));
  }
  sender.join();
}

// A client that resets its connection while the server is writing its replies must cost the
// server nothing but that connection (ECONNRESET/EPIPE on the write; SIGPIPE is ignored).
TEST(ServerLimits, ClientsThatResetWhileRepliesAreWrittenDoNotStopTheServer) {
  SmsxdProcess server;
  ASSERT_NO_FATAL_FAILURE(server.start());
  std::string batch;
  for (int i = 0; i < 20000; ++i) batch += request("balance", {{"account", 1}}) + "\n";
  for (int round = 0; round < 20; ++round) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    std::string hello = request("hello", {{"token", kCustomerToken}}) + "\n" + batch;
    size_t sent = 0;
    while (sent < hello.size()) {
      ssize_t n = ::send(fd, hello.data() + sent, hello.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    char first[4096];  // the server is now writing the replies
    ASSERT_GT(::recv(fd, first, sizeof first, 0), 0) << server.log();
    linger reset{1, 0};  // close with RST while most replies are still to be written
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(fd);
  }
  Client admin(server.port());
  ASSERT_TRUE(admin.connected()) << server.log();
  ASSERT_TRUE(admin.hello(kAdminToken)) << server.log();
  EXPECT_TRUE(is_ok(admin.call(request("stats", {})))) << server.log();
  EXPECT_TRUE(server.running());
}

TEST(ServerLimits, AClientThatNeverReadsIsDisconnectedWithAReasonAndOthersAreServed) {
  SmsxdProcess server("[limits]\noutput_bytes_max = \"64KiB\"\nrequests_in_flight_max = 1000000\n");
  ASSERT_NO_FATAL_FAILURE(server.start());
  Client lazy(server.port());
  ASSERT_TRUE(lazy.hello(kCustomerToken));
  std::string chunk;
  for (int i = 0; i < 1000; ++i) chunk += request("orders.active", {{"account", 1}}) + "\n";
  // Send without ever reading until the server gives up on us (bounded: 200 MB or 60 s).
  bool reset = false;
  size_t sent = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!reset && sent < (200u << 20) && std::chrono::steady_clock::now() < deadline) {
    ssize_t n = lazy.send_some(chunk);
    if (n < 0) reset = true;
    if (n > 0) sent += static_cast<size_t>(n);
    if (n == 0 && server.log().find("disconnecting") != std::string::npos) reset = true;
  }
  EXPECT_TRUE(reset) << "sent " << sent << " bytes without being disconnected";
  EXPECT_NE(server.log().find("unread (output_bytes_max"), std::string::npos) << server.log();
  Client other(server.port());
  ASSERT_TRUE(other.hello(kAdminToken));
  EXPECT_TRUE(is_ok(other.call(request("stats", {}))));
}

}  // namespace
}  // namespace smsx::e2e
