#include "tools/load/report.h"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace smsx::load {
namespace {

TEST(Report, OkPlusErrorsIsSent) {
  Report r;
  r.sent = 10;
  for (int i = 0; i < 7; ++i) r.add_ok(1000 * (i + 1));
  r.add_error("NO_NUMBERS", 5000);
  r.add_error("NO_NUMBERS", 6000);
  r.add_error("CHECK_FAILED", 7000);
  EXPECT_EQ(r.ok, 7u);
  EXPECT_EQ(r.error_count(), 3u);
  EXPECT_EQ(r.answered(), 10u);
  EXPECT_EQ(r.latency.count(), 10u);
  EXPECT_TRUE(r.consistent());
  r.sent = 11;  // one request never answered
  EXPECT_FALSE(r.consistent());
}

TEST(Report, JsonHasEveryFigure) {
  Report r;
  r.mode = "closed";
  r.connections = 2;
  r.pipeline = 8;
  r.mix = "place=1";
  r.seconds = 2;
  r.sent = 4;
  r.add_ok(1000);
  r.add_ok(2000);
  r.add_ok(3000);
  r.add_error("NO_BALANCE", 4000);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string json = r.to_json();
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(int64_t(doc["requests"]), 4);
  EXPECT_EQ(int64_t(doc["sent"]), 4);
  EXPECT_EQ(int64_t(doc["ok"]), 3);
  EXPECT_EQ(int64_t(doc["errors"]["NO_BALANCE"]), 1);
  EXPECT_DOUBLE_EQ(double(doc["throughput"]), 2.0);
  EXPECT_NEAR(double(doc["latency_us"]["p50"]), 2.0, 0.02);
  EXPECT_NEAR(double(doc["latency_us"]["max"]), 4.0, 0.001);
  EXPECT_EQ(doc["send_lag_us"]["max"].get_double().error(), simdjson::SUCCESS);
  EXPECT_NE(r.to_text().find("NO_BALANCE"), std::string::npos);
  EXPECT_EQ(int64_t(doc["held_back"]), 0);
  EXPECT_EQ(int64_t(doc["sent_by_op"]["place"]), 0);
}

TEST(Report, PlacementsHeldBackAreReportedAndWarnedAboutAboveOnePercent) {
  Report r;
  r.sent = 1000;
  r.sent_by_op[static_cast<size_t>(Op::kPlace)] = 990;
  r.sent_by_op[static_cast<size_t>(Op::kCancel)] = 10;
  r.held_back = 10;  // 1%: reported, no warning
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string json = r.to_json();
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(int64_t(doc["sent_by_op"]["place"]), 990);
  EXPECT_EQ(int64_t(doc["sent_by_op"]["cancel"]), 10);
  EXPECT_EQ(int64_t(doc["held_back"]), 10);
  EXPECT_NE(r.to_text().find("placements held back by the active-order limit: 10 (1.00%)"),
            std::string::npos)
      << r.to_text();
  EXPECT_EQ(r.to_text().find("warning"), std::string::npos) << r.to_text();
  r.held_back = 11;
  EXPECT_NE(r.to_text().find("warning: the mix was not kept"), std::string::npos) << r.to_text();
}

}  // namespace
}  // namespace smsx::load
