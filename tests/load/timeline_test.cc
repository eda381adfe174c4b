// The per-second rows behind smsx-load's --plot.
#include "tools/load/timeline.h"

#include <gtest/gtest.h>

#include <sstream>

namespace smsx::load {
namespace {

constexpr uint64_t kS = Timeline::kSecondNs;
constexpr uint64_t kStart = 5 * kS;  // an arbitrary clock origin

TEST(Timeline, RowsAddUpAndKeepTheirSecond) {
  Timeline t(kStart);
  // Second 0: 100 replies of 1..100 us; second 1: none; second 2: 10 errors of 1 ms.
  for (uint64_t i = 1; i <= 100; ++i) t.record(kStart + i * 1000, i * 1000, false);
  for (uint64_t i = 0; i < 10; ++i) t.record(kStart + 2 * kS + i, 1'000'000, true);
  t.finish(kStart + 2 * kS + kS / 4);
  ASSERT_EQ(t.rows().size(), 3u);
  uint64_t total = 0;
  for (size_t i = 0; i < t.rows().size(); ++i) {
    EXPECT_EQ(t.rows()[i].second, i);
    total += t.rows()[i].requests;
  }
  EXPECT_EQ(total, 110u);
  EXPECT_EQ(t.count(), 110u);
  const TimelineRow& r0 = t.rows()[0];
  EXPECT_EQ(r0.requests, 100u);
  EXPECT_EQ(r0.errors, 0u);
  EXPECT_NEAR(r0.p50_ns, 50'000.0, 50'000 * 0.01);
  EXPECT_NEAR(r0.p99_ns, 99'000.0, 99'000 * 0.01);
  EXPECT_EQ(r0.max_ns, 100'000u);
  EXPECT_DOUBLE_EQ(r0.seconds, 1.0);
  EXPECT_EQ(t.rows()[1].requests, 0u);  // an empty second still has its row
  EXPECT_EQ(t.rows()[1].max_ns, 0u);
  const TimelineRow& r2 = t.rows()[2];
  EXPECT_EQ(r2.requests, 10u);
  EXPECT_EQ(r2.errors, 10u);
  EXPECT_EQ(r2.max_ns, 1'000'000u);
  EXPECT_DOUBLE_EQ(r2.seconds, 0.25);  // the last row covers a quarter second
}

TEST(Timeline, DataFileHasOneLinePerRowWithTheRate) {
  Timeline t(kStart);
  for (int i = 0; i < 30; ++i) t.record(kStart + kS / 2, 2000, false);
  for (int i = 0; i < 5; ++i) t.record(kStart + kS + kS / 10, 4000, i == 0);
  t.finish(kStart + kS + kS / 2);
  std::istringstream in(t.data());
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header[0], '#');
  uint64_t second, requests, errors, sum = 0;
  double seconds, rate, p50, p99, max;
  std::vector<double> rates;
  while (in >> second >> seconds >> requests >> rate >> errors >> p50 >> p99 >> max) {
    sum += requests;
    rates.push_back(rate);
  }
  EXPECT_EQ(sum, 35u);
  ASSERT_EQ(rates.size(), 2u);
  EXPECT_DOUBLE_EQ(rates[0], 30.0);
  EXPECT_DOUBLE_EQ(rates[1], 10.0);  // 5 replies in half a second
}

TEST(Timeline, ScriptNamesTheFiles) {
  std::string s = Timeline::gnuplot_script("/tmp/x.dat", "/tmp/x.png", "title");
  EXPECT_NE(s.find("set output \"/tmp/x.png\""), std::string::npos);
  EXPECT_NE(s.find("plot \"/tmp/x.dat\""), std::string::npos);
  EXPECT_NE(s.find("pngcairo"), std::string::npos);
}

}  // namespace
}  // namespace smsx::load
