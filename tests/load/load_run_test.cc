// smsx-load against the real smsxd: a short run must complete with every reply checked.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/e2e/smsxd_util.h"

namespace smsx::load {
namespace {

// Runs a shell command; its stdout, and its wait status in *status.
std::string run_command(const std::string& cmd, int* status) {
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  *status = pclose(p);
  return out;
}

// smsx-load against the server on `port` with `flags`, its report as text (json false) or
// as JSON.
std::string run_load(uint16_t port, const std::string& flags, int* status, bool json = true) {
  return run_command(std::string(SMSX_LOAD_PATH) + " --address 127.0.0.1:" + std::to_string(port) +
                         " --customer-token " + e2e::kCustomerToken + " --supplier-token " +
                         e2e::kSupplierToken + " --payments-token " + e2e::kPaymentsToken +
                         " --admin-token " + e2e::kAdminToken + (json ? " --json" : "") +
                         " --quiet " + flags,
                     status);
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
  int64_t sent_by_op = 0;
  for (auto [op, count] : simdjson::dom::object(doc["sent_by_op"])) sent_by_op += int64_t(count);
  EXPECT_EQ(sent_by_op, sent) << out;
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

// Placements only, with numbers for 8 active orders per worker: once a worker holds 8
// orders its placement picks fall back to cancels (and, with no order waiting, to balance
// reads), and the report says so instead of passing off another mix as the one asked for.
TEST(LoadRun, PlacementsHeldBackByTheLimitAreCountedAndWarnedAbout) {
  e2e::SmsxdProcess server("durability = \"none\"");
  server.start();
  int status = 0;
  std::string out = run_load(server.port(),
                             "--connections 2 --pipeline 4 --requests 400 --numbers 32 "
                             "--accounts 2 --mix place=1",
                             &status);
  EXPECT_EQ(status, 0) << out << server.log();
  expect_clean_report(out, 400);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
  const int64_t placed = doc["sent_by_op"]["place"], cancelled = doc["sent_by_op"]["cancel"];
  const int64_t held_back = doc["held_back"];
  EXPECT_GT(cancelled, 0) << out;
  EXPECT_EQ(held_back, 400 - placed) << out;
  EXPECT_EQ(int64_t(doc["sent_by_op"]["sms"]), 0) << out;

  std::string text =
      run_load(server.port(),
               "--connections 1 --pipeline 4 --requests 100 --numbers 8 --accounts 1 --mix place=1",
               &status, /*json=*/false);
  EXPECT_EQ(status, 0) << text;
  EXPECT_NE(text.find("warning: the mix was not kept"), std::string::npos) << text;
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

// Open loop at a low rate: between its ticks the generator sleeps (a timerfd), so its CPU
// time stays far below the run's duration. A generator that spins waiting for the next
// send time takes a whole CPU from the server it measures.
TEST(LoadRun, OpenLoopSleepsBetweenSends) {
  e2e::SmsxdProcess server("durability = \"none\"");
  server.start();
  rusage before{}, after{};
  getrusage(RUSAGE_CHILDREN, &before);  // smsxd is not waited for: only smsx-load counts
  int status = 0;
  std::string out = run_load(server.port(),
                             "--connections 1 --pipeline 16 --duration 2s --rate 500 "
                             "--tick 1ms --numbers 1000",
                             &status);
  getrusage(RUSAGE_CHILDREN, &after);
  EXPECT_EQ(status, 0) << out << server.log();
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  const double cpu = seconds(after.ru_utime) - seconds(before.ru_utime) + seconds(after.ru_stime) -
                     seconds(before.ru_stime);
  EXPECT_LT(cpu, 1.0) << "smsx-load used " << cpu << " s of CPU in a 2 s run";
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
  EXPECT_GE(int64_t(doc["sent"]), 900) << out;
}

// Refused before anything is sent: exit status 2 and the reason on stderr.
TEST(LoadRun, ABadTickIsRefused) {
  for (const char* flags :
       {"--rate 100 --tick 5ns", "--rate 100 --tick 1us", "--rate 100 --tick 1s", "--tick 1ms"}) {
    int status = 0;
    std::string out = run_command(
        std::string(SMSX_LOAD_PATH) + " --address 127.0.0.1:1 " + flags + " 2>&1", &status);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << flags << ": " << out;
    EXPECT_NE(out.find("--tick: "), std::string::npos) << flags << ": " << out;
  }
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

// --plot: the data file's per-second rows add up to the report's request count, and
// gnuplot made a PNG from it.
TEST(LoadRun, PlotWritesPerSecondRowsThatAddUp) {
  e2e::SmsxdProcess server("durability = \"none\"");
  server.start();
  char tmpl[] = "/tmp/smsx-load-plot-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  int status = 0;
  std::string out = run_load(server.port(),
                             "--connections 1 --pipeline 8 --requests 3000 --rate 2000 "
                             "--numbers 2000 --plot " +
                                 dir + "/lat.png",
                             &status);
  EXPECT_EQ(status, 0) << out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
  std::ifstream data(dir + "/lat.dat");
  ASSERT_TRUE(data) << "no data file";
  std::string line;
  uint64_t rows = 0, sum = 0;
  while (std::getline(data, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    uint64_t second = 0, requests = 0;
    double seconds = 0;
    fields >> second >> seconds >> requests;
    EXPECT_EQ(second, rows) << line;
    sum += requests;
    ++rows;
  }
  EXPECT_EQ(sum, uint64_t(int64_t(doc["requests"])));
  EXPECT_GE(rows, 2u);  // 3000 requests at 2000/s take 1.5 s
  EXPECT_GT(std::filesystem::file_size(dir + "/lat.png"), 1000u);
  std::filesystem::remove_all(dir);
}

// Without gnuplot, --plot is refused before the run, with a message saying what to install.
TEST(LoadRun, PlotWithoutGnuplotIsAClearError) {
  std::string cmd = std::string("PATH=/nonexistent ") + SMSX_LOAD_PATH +
                    " --customer-token a --supplier-token b --payments-token c "
                    "--admin-token d --plot /tmp/x.png 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status << out;
  EXPECT_NE(out.find("--plot needs gnuplot"), std::string::npos) << out;
  EXPECT_NE(out.find("gnuplot-nox"), std::string::npos) << out;
}

}  // namespace
}  // namespace smsx::load
