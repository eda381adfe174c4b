// smsx-load against the real smsxd: a short run must complete with every reply checked.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "tests/e2e/smsxd_util.h"

namespace smsx::load {
namespace {

std::string run_load(uint16_t port, const std::string& flags, int* status) {
  std::string cmd = std::string(SMSX_LOAD_PATH) + " --address 127.0.0.1:" + std::to_string(port) +
                    " --customer-token " + e2e::kCustomerToken + " --supplier-token " +
                    e2e::kSupplierToken + " --payments-token " + e2e::kPaymentsToken +
                    " --admin-token " + e2e::kAdminToken + " --json --quiet " + flags;
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  *status = pclose(p);
  return out;
}

void expect_clean_report(const std::string& out, int64_t requests) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
  int64_t sent = doc["sent"], ok = doc["ok"], answered = doc["requests"];
  int64_t errors = 0;
  for (auto [code, count] : simdjson::dom::object(doc["errors"])) {
    EXPECT_NE(code, "CHECK_FAILED") << out;
    EXPECT_NE(code, "DISCONNECTED") << out;
    errors += int64_t(count);
  }
  EXPECT_EQ(sent, requests) << out;
  EXPECT_EQ(answered, ok + errors) << out;
  EXPECT_EQ(answered, sent) << out;
  EXPECT_GT(ok, requests * 9 / 10) << out;  // the default mix mostly succeeds
}

TEST(LoadRun, ClosedLoopAgainstRealServer) {
  e2e::SmsxdProcess server;
  server.start();
  int status = 0;
  std::string out = run_load(server.port(),
                             "--connections 2 --pipeline 16 --requests 2000 --numbers 2000 "
                             "--accounts 4",
                             &status);
  EXPECT_EQ(status, 0) << out << server.log();
  expect_clean_report(out, 2000);
}

TEST(LoadRun, OpenLoopAgainstRealServer) {
  e2e::SmsxdProcess server("durability = \"none\"");
  server.start();
  int status = 0;
  std::string out =
      run_load(server.port(), "--connections 1 --pipeline 64 --requests 2000 --rate 4000", &status);
  EXPECT_EQ(status, 0) << out << server.log();
  expect_clean_report(out, 2000);
}

// Orders that expire during the run change balances behind the generator's back: its
// exact balance checks must catch that as CHECK_FAILED and exit with status 1.
TEST(LoadRun, BalanceChangedBehindItsBackIsCheckFailed) {
  e2e::SmsxdProcess server("durability = \"none\"\norders.ttl = \"100ms\"");
  server.start();
  int status = 0;
  std::string out = run_load(server.port(),
                             "--connections 1 --pipeline 4 --duration 1s --numbers 1000 "
                             "--accounts 2 --mix place=10,balance=10",
                             &status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status << out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
  int64_t failed = 0;
  EXPECT_EQ(doc["errors"]["CHECK_FAILED"].get(failed), simdjson::SUCCESS) << out;
  EXPECT_GT(failed, 0) << out;
}

}  // namespace
}  // namespace smsx::load
