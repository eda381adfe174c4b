// HTTP behaviour: keep-alive and pipelining, POST form bodies, malformed and oversized
// requests, /metrics, the per-key rate, reconnection to smsxd, fresh ids after a restart.
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "tests/activate/activate_fixture_util.h"

namespace smsx::activate::test {
namespace {

std::string get_line(std::string_view target) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

TEST_F(ActivateTest, PipelinedRequestsOnOneConnectionAreAnsweredInOrder) {
  std::vector<std::pair<std::string, std::string>> bought;
  for (int i = 0; i < 3; ++i) add_number();
  for (int i = 0; i < 3; ++i) bought.push_back(buy(kKeyA, "service=wa&country=900"));
  ASSERT_TRUE(sms(bought[1].second, "code 1234"));
  std::string batch;
  std::vector<std::string> expected;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 3; ++i) {
      batch += get_line(api(kKeyA, "action=getStatus&id=" + bought[i].first));
      expected.push_back(i == 1 ? "STATUS_OK:1234" : "STATUS_WAIT_CODE");
    }
    batch += get_line(api(kKeyA, "action=getBalance"));
    expected.push_back("ACCESS_BALANCE:6.40");
    batch += get_line(api(kKeyB, "action=getStatus&id=" + bought[0].first));
    expected.push_back("NO_ACTIVATION");
  }
  HttpClient client(gateway_->port());
  client.send_raw(batch);  // one write: every request is in flight at once
  for (std::size_t i = 0; i < expected.size(); ++i) {
    auto response = client.read_response();
    ASSERT_TRUE(response.has_value()) << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, expected[i]) << i;
    EXPECT_TRUE(response->keep_alive);
  }
  // The connection is still open for more.
  EXPECT_EQ(client.get(api(kKeyA, "action=getBalance")), "ACCESS_BALANCE:6.40");
}

TEST_F(ActivateTest, ManyConnectionsAtOnceEachGetTheirOwnAnswers) {
  // Requests of many connections arrive in one turn of the loop: they go to smsxd together
  // and each answer must still reach its own connection.
  std::vector<std::pair<std::string, std::string>> bought;
  for (int i = 0; i < 4; ++i) add_number();
  for (int i = 0; i < 4; ++i) bought.push_back(buy(kKeyA, "service=wa&country=900"));
  ASSERT_TRUE(sms(bought[2].second, "code 5678"));
  constexpr int kConnections = 24;  // under the default rate of 100 requests per key
  std::vector<std::unique_ptr<HttpClient>> clients;
  std::vector<std::string> expected;
  for (int c = 0; c < kConnections; ++c) {
    clients.push_back(std::make_unique<HttpClient>(gateway_->port()));
    ASSERT_TRUE(clients.back()->connected());
  }
  for (int c = 0; c < kConnections; ++c) {
    const int i = c % 4;
    std::string target;
    if (c % 5 == 4) {
      target = api(kKeyB, "action=getStatus&id=" + bought[i].first);
      expected.push_back("NO_ACTIVATION");
    } else {
      target = api(kKeyA, "action=getStatus&id=" + bought[i].first);
      expected.push_back(i == 2 ? "STATUS_OK:5678" : "STATUS_WAIT_CODE");
    }
    // Two pipelined requests per connection: the second one a balance.
    clients[static_cast<std::size_t>(c)]->send_raw(
        get_line(target) + get_line(api(c % 5 == 4 ? kKeyB : kKeyA, "action=getBalance")));
  }
  for (int c = 0; c < kConnections; ++c) {
    HttpClient& client = *clients[static_cast<std::size_t>(c)];
    auto first = client.read_response();
    ASSERT_TRUE(first.has_value()) << c;
    EXPECT_EQ(first->body, expected[static_cast<std::size_t>(c)]) << c;
    auto second = client.read_response();
    ASSERT_TRUE(second.has_value()) << c;
    EXPECT_EQ(second->body, c % 5 == 4 ? "ACCESS_BALANCE:10.00" : "ACCESS_BALANCE:5.20") << c;
    EXPECT_EQ(client.get(api(kKeyA, "action=getStatus&id=" + bought[0].first)), "STATUS_WAIT_CODE")
        << c;
  }
}

TEST_F(ActivateTest, PostFormBodiesWorkAndOverrideTheQuery) {
  HttpClient client(gateway_->port());
  const std::string body = "api_key=" + std::string(kKeyA) + "&action=getBalance";
  client.send_raw(
      "POST /stubs/handler_api.php HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "ACCESS_BALANCE:10.00");
  // The body wins over the query string, as PHP's $_REQUEST; percent-escapes are decoded.
  const std::string body2 = "action=get%42alance";
  client.send_raw("POST /stubs/handler_api.php?action=nothing&api_key=" + std::string(kKeyA) +
                  " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body2.size()) +
                  "\r\n\r\n" + body2);
  response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "ACCESS_BALANCE:10.00");
  // Chunked bodies too.
  client.send_raw(
      "POST /stubs/handler_api.php HTTP/1.1\r\nHost: x\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      std::string("8\r\napi_key=\r\n") + "16\r\n" + kKeyA + "\r\n" +
      "11\r\n&action=getBalanc\r\n1\r\ne\r\n0\r\n\r\n");
  response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "ACCESS_BALANCE:10.00");
}

TEST_F(ActivateTest, MalformedHttpIsAnswered400AndClosed) {
  HttpClient client(gateway_->port());
  client.send_raw("THIS IS NOT HTTP\r\n\r\n");
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(ActivateTest, AResponseBeforeABadRequestStillComesFirst) {
  HttpClient client(gateway_->port());
  client.send_raw(get_line(api(kKeyA, "action=getBalance")) + "NOT-A-METHOD / HTTP/1.1\r\n\r\n");
  auto first = client.read_response();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->body, "ACCESS_BALANCE:10.00");
  auto second = client.read_response();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->status, 400);
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(ActivateTest, OversizedBodiesAndTargetsAreRefused) {
  HttpClient client(gateway_->port());
  client.send_raw(
      "POST /stubs/handler_api.php HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(client.closed_by_server());
  HttpClient client2(gateway_->port());
  client2.send_raw(get_line("/stubs/handler_api.php?x=" + std::string(9000, 'a')));
  response = client2.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 414);
}

TEST_F(ActivateTest, OtherPathsAndMethods) {
  HttpClient client(gateway_->port());
  client.send_raw(get_line("/index.html"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 404);
  client.send_raw("DELETE /stubs/handler_api.php HTTP/1.1\r\nHost: x\r\n\r\n");
  response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 405);
  // Also the path without ".php", which some clients use.
  EXPECT_EQ(client.get("/stubs/handler_api?api_key=" + std::string(kKeyA) + "&action=getBalance"),
            "ACCESS_BALANCE:10.00");
}

TEST_F(ActivateTest, Http10ClosesUnlessKeepAliveIsAsked) {
  HttpClient client(gateway_->port());
  client.send_raw("GET " + api(kKeyA, "action=getBalance") + " HTTP/1.0\r\n\r\n");
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "ACCESS_BALANCE:10.00");
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(ActivateTest, MetricsCountRequestsAndReplies) {
  EXPECT_EQ(call(kKeyA, "action=getBalance"), "ACCESS_BALANCE:10.00");
  EXPECT_EQ(call("key-unknown-0123456789", "action=getBalance"), "BAD_KEY");
  const std::string metrics = http_->get("/metrics");
  EXPECT_NE(
      metrics.find("smsx_activate_replies_total{action=\"getBalance\",reply=\"ACCESS_BALANCE\"} 1"),
      std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("smsx_activate_replies_total{action=\"none\",reply=\"BAD_KEY\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("smsx_activate_upstream_ready 2"), std::string::npos);
  EXPECT_NE(metrics.find("smsx_activate_request_seconds_count 2"), std::string::npos);
}

class RateLimitTest : public ActivateTest {
 protected:
  void SetUp() override { start("", "[limits]\nrequests_per_key_per_second = 3\n"); }
};

TEST_F(RateLimitTest, RequestsOverTheKeysRateAreRefusedAndOtherKeysAreNot) {
  std::string batch;
  for (int i = 0; i < 10; ++i) batch += get_line(api(kKeyA, "action=getBalance"));
  HttpClient client(gateway_->port());
  client.send_raw(batch);
  int ok = 0, limited = 0;
  for (int i = 0; i < 10; ++i) {
    auto response = client.read_response();
    ASSERT_TRUE(response.has_value());
    if (response->body == "ACCESS_BALANCE:10.00") ++ok;
    if (response->body == "ERROR_SQL") ++limited;
  }
  // The bucket holds 3; at most one more can trickle in while the batch is read.
  EXPECT_GE(ok, 3);
  EXPECT_LE(ok, 4);
  EXPECT_EQ(ok + limited, 10);
  EXPECT_EQ(call(kKeyB, "action=getBalance"), "ACCESS_BALANCE:10.00");
  EXPECT_NE(
      http_->get("/metrics").find("smsx_activate_rate_limited_total " + std::to_string(limited)),
      std::string::npos);
}

TEST_F(ActivateTest, ItReconnectsToSmsxdAfterARestart) {
  EXPECT_EQ(call(kKeyA, "action=getBalance"), "ACCESS_BALANCE:10.00");
  admin_.reset();
  supplier_.reset();
  payments_.reset();
  customer_.reset();
  ASSERT_EQ(smsxd_->stop_term(), 0);
  EXPECT_EQ(call(kKeyA, "action=getBalance"), "ERROR_SQL");  // nothing to ask
  ASSERT_NO_FATAL_FAILURE(smsxd_->start());                  // same port, same data
  ASSERT_TRUE(gateway_->wait_upstream_ready(2)) << gateway_->log();
  EXPECT_EQ(call(kKeyA, "action=getBalance"), "ACCESS_BALANCE:10.00");
}

TEST_F(ActivateTest, ARestartedGatewayNeverRepeatsARequestId) {
  add_number();
  add_number();
  auto [first, n1] = buy(kKeyA, "service=wa&country=900");
  ASSERT_FALSE(first.empty());
  ASSERT_EQ(gateway_->stop_term(), 0);
  gateway_ = std::make_unique<ActivateProcess>(smsxd_->port(), "[countries]\n\"900\" = \"cx\"\n");
  ASSERT_NO_FATAL_FAILURE(gateway_->start());
  http_ = std::make_unique<HttpClient>(gateway_->port());
  // The same first request again: a reused id would return the first order once more.
  auto [second, n2] = buy(kKeyA, "service=wa&country=900");
  ASSERT_FALSE(second.empty());
  EXPECT_NE(first, second);
  EXPECT_NE(n1, n2);
  EXPECT_EQ(engine_balance(kAccountA), std::make_pair(int64_t{760}, int64_t{240}));
}

TEST_F(ActivateTest, SighupReloadsTheKeysFile) {
  const std::string new_key = "key-new-0123456789abcdef";
  EXPECT_EQ(call(new_key, "action=getBalance"), "BAD_KEY");
  ASSERT_NO_FATAL_FAILURE(gateway_->reload_keys(new_key + " 1002\n"));
  // The signal is handled on the gateway's loop; ask until the new key is known.
  std::string reply;
  for (int i = 0; i < 500 && reply != "ACCESS_BALANCE:10.00"; ++i) {
    reply = call(new_key, "action=getBalance");
    if (reply == "BAD_KEY") std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(reply, "ACCESS_BALANCE:10.00");
  EXPECT_EQ(call(kKeyA, "action=getBalance"), "BAD_KEY");  // no longer in the file
  // A broken file keeps the keys that work.
  ASSERT_NO_FATAL_FAILURE(gateway_->reload_keys("short 1\n"));
  for (int i = 0; i < 500 && gateway_->log().find("keys not reloaded") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(gateway_->log().find("keys not reloaded"), std::string::npos);
  EXPECT_EQ(call(new_key, "action=getBalance"), "ACCESS_BALANCE:10.00");
}

class ConnectionLimitTest : public ActivateTest {
 protected:
  void SetUp() override { start("", "[limits]\nconnections_max = 3\n"); }
};

TEST_F(ConnectionLimitTest, ConnectionsOverTheLimitAreClosedAtOnce) {
  EXPECT_EQ(call(kKeyA, "action=getBalance"), "ACCESS_BALANCE:10.00");  // http_ is one
  std::vector<std::unique_ptr<HttpClient>> clients;
  int answered = 0, refused = 0;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<HttpClient>(gateway_->port()));
    clients.back()->send_raw(get_line(api(kKeyA, "action=getBalance")));
    auto response = clients.back()->read_response();
    if (response && response->body == "ACCESS_BALANCE:10.00") {
      ++answered;
    } else {
      ++refused;
    }
  }
  EXPECT_LE(answered, 2);
  EXPECT_EQ(answered + refused, 5);
  EXPECT_NE(http_->get("/metrics")
                .find("smsx_activate_http_connections_refused_total " + std::to_string(refused)),
            std::string::npos);
}

TEST_F(ActivateTest, ClientsThatVanishWithRequestsInFlightDoNotHurtTheGateway) {
  add_number();
  auto [id, phone] = buy(kKeyA, "service=wa&country=900");
  // Answers that come from smsxd after the client closed: writing them meets a reset
  // socket (EPIPE), which must not end the process.
  std::string batch = get_line("/metrics");  // answered at once: the first write
  for (int i = 0; i < 20; ++i) batch += get_line(api(kKeyC, "action=getBalance"));
  for (int round = 0; round < 4; ++round) {
    HttpClient client(gateway_->port());
    client.send_raw(batch);
  }  // each closes at once
  for (int round = 0; round < 2; ++round) {
    HttpClient client(gateway_->port());
    client.send_raw(batch);
    client.reset();  // a reset instead of a close
  }
  EXPECT_EQ(call(kKeyB, "action=getBalance"), "ACCESS_BALANCE:10.00") << gateway_->log();
  HttpClient fresh(gateway_->port());
  EXPECT_EQ(fresh.get(api(kKeyB, "action=getStatus&id=" + id)), "NO_ACTIVATION");
}

}  // namespace
}  // namespace smsx::activate::test
