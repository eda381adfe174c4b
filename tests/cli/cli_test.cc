// The smsx CLI against a real smsxd: readable output, --json, exit codes, usage errors,
// where the token and address come from, and request ids.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/cli/cli_util.h"
#include "tests/e2e/smsxd_util.h"

namespace smsx::cli_test {
namespace {

// The value printed after `key` on a readable "key  value" line, or "" when absent.
std::string value_of(const std::string& out, const std::string& key) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + " ", 0) != 0) continue;
    size_t start = line.find_first_not_of(' ', key.size());
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

// smsxd's gateways, as a gateways file the CLI can be pointed at with --config.
std::string gateways_file() {
  std::string text;
  const std::pair<const char*, const char*> gateways[] = {{"customer", e2e::kCustomerToken},
                                                          {"supplier", e2e::kSupplierToken},
                                                          {"payments", e2e::kPaymentsToken},
                                                          {"admin", e2e::kAdminToken}};
  for (auto [role, token] : gateways) {
    text += std::string("[[gateways]]\nname = \"") + role + "-cli\"\nrole = \"" + role +
            "\"\ntoken = \"" + token + "\"\n";
  }
  return write_temp_file("gateways.toml", text);
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.start();
    addr_ = "127.0.0.1:" + std::to_string(server_.port());
    config_ = gateways_file();
  }
  // smsx --addr … --config <gateways file> ARGS
  CliResult smsx(std::vector<std::string> args) {
    args.insert(args.begin(), {"--addr", addr_, "--config", config_});
    return run_cli(args);
  }
  // A priced pool with one number, and account 1001 with 500.
  void stock_one_number() {
    ASSERT_EQ(smsx({"price", "set", "wa", "us", "p1", "120", "80"}).status, 0);
    ASSERT_EQ(smsx({"number", "add", "15550001234", "us", "tmobile", "p1"}).status, 0);
    ASSERT_EQ(smsx({"deposit", "1001", "500", "--method", "card", "--ref", "r-1"}).status, 0);
  }

  e2e::SmsxdProcess server_;
  std::string addr_, config_;
};

TEST(CliHelp, ListsEveryCommandAndExplainsOne) {
  CliResult all = run_cli({"--help"});
  EXPECT_EQ(all.status, 0);
  for (const char* c : {"deposit", "order place", "sms deliver", "number add", "stats",
                        "payout confirm", "dispute resolve", "subscribe", "digest"}) {
    EXPECT_NE(all.out.find(std::string("  ") + c + " "), std::string::npos) << c << all.out;
  }
  CliResult one = run_cli({"order", "place", "--help"});
  EXPECT_EQ(one.status, 0);
  EXPECT_NE(one.out.find("usage: smsx order place ACCOUNT SERVICE COUNTRY [--pool POOL]"),
            std::string::npos)
      << one.out;
}

TEST(CliUsage, BadInputExitsTwoWithUsage) {
  CliResult missing = run_cli({"order", "place", "1001"});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("missing SERVICE"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("usage: smsx order place ACCOUNT"), std::string::npos);
  CliResult not_number = run_cli({"balance", "abc"});
  EXPECT_EQ(not_number.status, 2);
  EXPECT_NE(not_number.err.find("ACCOUNT: expected an unsigned integer, got 'abc'"),
            std::string::npos)
      << not_number.err;
  CliResult unknown = run_cli({"order", "teleport"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.err.find("unknown command"), std::string::npos) << unknown.err;
  CliResult flag = run_cli({"stats", "--pool", "p1"});
  EXPECT_EQ(flag.status, 2);
  EXPECT_NE(flag.err.find("unknown flag --pool"), std::string::npos) << flag.err;
  CliResult no_method = run_cli({"deposit", "1001", "500", "--ref", "r"});
  EXPECT_EQ(no_method.status, 2);
  EXPECT_NE(no_method.err.find("missing --method"), std::string::npos) << no_method.err;
  EXPECT_TRUE(missing.out.empty() && not_number.out.empty());
}

TEST(CliUsage, NoServerExitsThree) {
  CliResult r = run_cli({"--addr", "127.0.0.1:" + std::to_string(e2e::free_port()), "--token",
                         e2e::kAdminToken, "stats"});
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.err.find("cannot connect to 127.0.0.1:"), std::string::npos) << r.err;
}

TEST_F(CliTest, OrderLifecycleReadable) {
  stock_one_number();
  CliResult place = smsx({"order", "place", "1001", "wa", "us"});
  ASSERT_EQ(place.status, 0) << place.err;
  std::string order = value_of(place.out, "order");
  EXPECT_FALSE(order.empty()) << place.out;
  EXPECT_EQ(value_of(place.out, "number"), "15550001234");
  EXPECT_EQ(value_of(place.out, "price"), "120");
  EXPECT_NE(value_of(place.out, "expires_at").find(" UTC)"), std::string::npos) << place.out;

  CliResult balance = smsx({"balance", "1001"});
  EXPECT_EQ(balance.status, 0);
  EXPECT_EQ(value_of(balance.out, "available"), "380") << balance.out;
  EXPECT_EQ(value_of(balance.out, "held"), "120") << balance.out;

  CliResult sms = smsx({"sms", "deliver", "--sender", "WA", "--", "15550001234",
                        "--Your code is 482-913"});  // after --, a word may start with --
  EXPECT_EQ(sms.status, 0) << sms.err;
  EXPECT_EQ(value_of(sms.out, "order"), order);
  EXPECT_EQ(value_of(sms.out, "code"), "482913");

  CliResult get = smsx({"order.get", order});  // the dotted op name works too
  EXPECT_EQ(get.status, 0) << get.err;
  EXPECT_EQ(value_of(get.out, "state"), "received");
  EXPECT_EQ(value_of(get.out, "account"), "1001");
  EXPECT_NE(get.out.find("sms:\n"), std::string::npos) << get.out;
  EXPECT_NE(get.out.find("--Your code is 482-913"), std::string::npos) << get.out;

  CliResult finish = smsx({"order", "finish", order});
  EXPECT_EQ(finish.status, 0) << finish.err;
  EXPECT_EQ(value_of(finish.out, "charged"), "120");

  CliResult stats = smsx({"stats"});
  EXPECT_EQ(stats.status, 0) << stats.err;
  EXPECT_EQ(value_of(stats.out, "orders_finished"), "1") << stats.out;
  EXPECT_EQ(value_of(stats.out, "numbers_free"), "1") << stats.out;

  CliResult digest = smsx({"digest"});
  EXPECT_EQ(digest.status, 0) << digest.err;
  EXPECT_EQ(value_of(digest.out, "digest").size(), 16u) << digest.out;

  CliResult stock = smsx({"stock", "--service", "wa"});
  EXPECT_EQ(stock.status, 0);
  EXPECT_NE(stock.out.find("service  country  pool  price  free"), std::string::npos) << stock.out;
}

TEST_F(CliTest, ServerErrorExitsOne) {
  CliResult r = smsx({"order", "place", "1001", "wa", "us"});  // nothing priced
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("smsx: NO_PRICE"), std::string::npos) << r.err;

  CliResult json = smsx({"order", "place", "1001", "wa", "us", "--json"});
  EXPECT_EQ(json.status, 1);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json.out).get(doc), simdjson::SUCCESS) << json.out;
  EXPECT_EQ(std::string_view(doc["error"]), "NO_PRICE");
  EXPECT_FALSE(bool(doc["ok"]));

  stock_one_number();
  CliResult low = smsx({"order", "place", "1001", "wa", "us", "--max-price", "100"});
  EXPECT_EQ(low.status, 1);
  EXPECT_NE(low.err.find("MAX_PRICE_TOO_LOW"), std::string::npos) << low.err;
  EXPECT_NE(low.err.find("min_price 120"), std::string::npos) << low.err;
}

TEST_F(CliTest, JsonPrintsTheRawReplyWithAFreshId) {
  CliResult a = smsx({"deposit", "1001", "500", "--method", "card", "--ref", "r-a", "--json"});
  CliResult b = smsx({"deposit", "1001", "250", "--method", "card", "--ref", "r-b", "--json"});
  ASSERT_EQ(a.status, 0) << a.out << a.err;
  ASSERT_EQ(b.status, 0) << b.out << b.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(a.out).get(doc), simdjson::SUCCESS) << a.out;
  std::string id_a{std::string_view(doc["id"])};
  EXPECT_EQ(int64_t(doc["available"]), 500);
  ASSERT_EQ(parser.parse(b.out).get(doc), simdjson::SUCCESS) << b.out;
  std::string id_b{std::string_view(doc["id"])};
  EXPECT_EQ(int64_t(doc["available"]), 750);
  EXPECT_EQ(id_a.rfind("cli-", 0), 0u) << id_a;
  EXPECT_NE(id_a, id_b);
  EXPECT_EQ(a.out.back(), '\n');
  EXPECT_EQ(a.out.find('\n'), a.out.size() - 1) << "one line";
}

TEST_F(CliTest, GivenIdMakesRetriesIdempotent) {
  std::vector<std::string> deposit = {"deposit", "7",   "300",  "--method", "card",
                                      "--ref",   "r-7", "--id", "retry-1",  "--json"};
  CliResult first = smsx(deposit);
  CliResult again = smsx(deposit);
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(first.out, again.out);  // the first reply, replayed
  EXPECT_EQ(value_of(smsx({"balance", "7"}).out, "available"), "300");
  CliResult other =
      smsx({"deposit", "7", "301", "--method", "card", "--ref", "r-8", "--id", "retry-1"});
  EXPECT_EQ(other.status, 1);
  EXPECT_NE(other.err.find("ID_REUSED"), std::string::npos) << other.err;
}

TEST_F(CliTest, AddressAndTokenFromFlagsEnvironmentAndFile) {
  // Environment only.
  CliResult env = run_cli({"hello"}, {{"SMSX_ADDR", addr_}, {"SMSX_TOKEN", e2e::kAdminToken}});
  EXPECT_EQ(env.status, 0) << env.err;
  EXPECT_EQ(value_of(env.out, "role"), "admin") << env.out;
  // A flag beats the environment.
  CliResult flag = run_cli({"hello", "--token", e2e::kSupplierToken},
                           {{"SMSX_ADDR", addr_}, {"SMSX_TOKEN", e2e::kAdminToken}});
  EXPECT_EQ(value_of(flag.out, "role"), "supplier") << flag.out << flag.err;
  // A CLI file in $XDG_CONFIG_HOME/smsx/cli.toml naming a gateways file and a gateway.
  std::string gateways = gateways_file();
  std::string dir = gateways.substr(0, gateways.rfind('/'));
  std::string cli_dir = dir + "/smsx";
  std::filesystem::create_directories(cli_dir);
  {
    std::ofstream(cli_dir + "/cli.toml") << "address = \"" << addr_ << "\"\ngateways_file = \""
                                         << gateways << "\"\ngateway = \"payments-cli\"\n";
  }
  CliResult file = run_cli({"hello"}, {{"XDG_CONFIG_HOME", dir}});
  EXPECT_EQ(file.status, 0) << file.err;
  EXPECT_EQ(value_of(file.out, "role"), "payments") << file.out;
  // With a gateways file and no preferred gateway, each op gets a role that may do it.
  CliResult deposit = smsx({"deposit", "9", "10", "--method", "card", "--ref", "r-9"});
  EXPECT_EQ(deposit.status, 0) << deposit.err;
  CliResult add = smsx({"number", "add", "15550009999", "us", "tmobile", "p1"});
  EXPECT_EQ(add.status, 0) << add.err;
  // A role that may not: the server's FORBIDDEN, exit 1.
  CliResult forbidden = run_cli({"--addr", addr_, "--token", e2e::kCustomerToken, "stats"});
  EXPECT_EQ(forbidden.status, 1);
  EXPECT_NE(forbidden.err.find("FORBIDDEN"), std::string::npos) << forbidden.err;
  // A bad token: hello refused, exit 1.
  CliResult bad = run_cli({"--addr", addr_, "--token", "not-a-token-at-all", "stats"});
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("hello refused: UNAUTHORIZED"), std::string::npos) << bad.err;
}

// `call` sends any op by its wire name: FIELD=VALUE as a string, FIELD:=JSON as it is.
TEST_F(CliTest, CallSendsAnyOpByName) {
  CliResult add = smsx(
      {"call", "number.add", "number=15550007777", "country=us", "operator=tmobile", "pool=p1"});
  EXPECT_EQ(add.status, 0) << add.err;
  EXPECT_EQ(value_of(add.out, "number"), "15550007777");
  ASSERT_EQ(smsx({"deposit", "1001", "500", "--method", "card", "--ref", "r-c"}).status, 0);
  CliResult balance = smsx({"call", "balance", "account:=1001", "--json"});
  EXPECT_EQ(balance.status, 0) << balance.err;
  EXPECT_NE(balance.out.find("\"available\":500"), std::string::npos) << balance.out;
  CliResult ill_typed = smsx({"call", "balance", "account=1001"});  // a string: refused
  EXPECT_EQ(ill_typed.status, 1);
  EXPECT_NE(ill_typed.err.find("BAD_REQUEST"), std::string::npos) << ill_typed.err;
  EXPECT_EQ(run_cli({"call", "order.teleport"}).status, 2);
  CliResult bad_json = run_cli({"call", "balance", "account:=12x"});
  EXPECT_EQ(bad_json.status, 2);
  EXPECT_NE(bad_json.err.find("account:= expects JSON"), std::string::npos) << bad_json.err;
}

// subscribe prints the events that arrive and exits after --count of them. SMS are
// delivered until the subscriber has seen one (it may subscribe after the first ones).
TEST_F(CliTest, SubscribePrintsEventsUntilCount) {
  stock_one_number();
  CliResult place = smsx({"order", "place", "1001", "wa", "us"});
  ASSERT_EQ(place.status, 0) << place.err;
  std::string order = value_of(place.out, "order");
  std::atomic<bool> done{false};
  CliResult sub;
  std::thread subscriber([&] {
    sub = smsx({"subscribe", "order.sms", "--count", "1", "--timeout", "20s"});
    done = true;
  });
  e2e::Client supplier(server_.port());
  ASSERT_TRUE(supplier.hello(e2e::kSupplierToken));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(e2e::is_ok(supplier.call(
        e2e::request("sms.deliver", {{"number", "15550001234"}, {"text", "code 482-913"}}))));
  }
  subscriber.join();
  EXPECT_EQ(sub.status, 0) << sub.err;
  EXPECT_EQ(sub.out.rfind("ok\norder.sms order=" + order + " account=1001 code=\"482913\"", 0), 0u)
      << sub.out;
  EXPECT_EQ(std::count(sub.out.begin(), sub.out.end(), '\n'), 2) << sub.out;
}

}  // namespace
}  // namespace smsx::cli_test
