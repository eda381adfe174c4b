#include "net/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <new>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

// Counts heap allocations made by this test program, to show that the increment paths
// allocate nothing. (GCC 12 mistakes the malloc/free pairing below for a mismatch.)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::size_t allocations = 0;
}  // namespace

// Every non-aligned form is replaced, so that what one form allocates another may free.
void* operator new(std::size_t bytes) {
  ++allocations;
  if (void* p = std::malloc(bytes == 0 ? 1 : bytes)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t bytes) { return operator new(bytes); }
void* operator new(std::size_t bytes, const std::nothrow_t&) noexcept {
  ++allocations;
  return std::malloc(bytes == 0 ? 1 : bytes);
}
void* operator new[](std::size_t bytes, const std::nothrow_t& tag) noexcept {
  return operator new(bytes, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace smsx::net {
namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Metrics, RendersTheExpositionFormat) {
  Registry registry;
  Counter& placed_ok = registry.counter("smsx_requests_total", "Requests by operation and result.",
                                        {{"op", "order.place"}, {"result", "ok"}});
  Counter& placed_no_numbers = registry.counter("smsx_requests_total", "ignored",
                                                {{"op", "order.place"}, {"result", "NO_NUMBERS"}});
  Gauge& connections = registry.gauge("smsx_connections", "Open gateway connections.");
  const double bounds[] = {0.001, 0.01, 0.1};
  Histogram& latency =
      registry.histogram("smsx_request_duration_seconds", "Request latency.", bounds);
  placed_ok.inc();
  placed_ok.inc(2);
  placed_no_numbers.inc();
  connections.set(7);
  connections.dec();
  latency.observe(0.0005);
  latency.observe(0.001);  // le is inclusive
  latency.observe(0.05);
  latency.observe(3);

  EXPECT_EQ(registry.render(),
            "# HELP smsx_requests_total Requests by operation and result.\n"
            "# TYPE smsx_requests_total counter\n"
            "smsx_requests_total{op=\"order.place\",result=\"ok\"} 3\n"
            "smsx_requests_total{op=\"order.place\",result=\"NO_NUMBERS\"} 1\n"
            "# HELP smsx_connections Open gateway connections.\n"
            "# TYPE smsx_connections gauge\n"
            "smsx_connections 6\n"
            "# HELP smsx_request_duration_seconds Request latency.\n"
            "# TYPE smsx_request_duration_seconds histogram\n"
            "smsx_request_duration_seconds_bucket{le=\"0.001\"} 2\n"
            "smsx_request_duration_seconds_bucket{le=\"0.01\"} 2\n"
            "smsx_request_duration_seconds_bucket{le=\"0.1\"} 3\n"
            "smsx_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"
            "smsx_request_duration_seconds_sum 3.0515\n"
            "smsx_request_duration_seconds_count 4\n");
}

TEST(Metrics, TheSameSeriesIsReturnedAgain) {
  Registry registry;
  Counter& a = registry.counter("c_total", "h", {{"op", "x"}});
  Counter& b = registry.counter("c_total", "h", {{"op", "x"}});
  Counter& other = registry.counter("c_total", "h", {{"op", "y"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &other);
  // Registering many more series does not move earlier ones.
  for (int i = 0; i < 1000; ++i) registry.counter("c_total", "h", {{"op", std::to_string(i)}});
  EXPECT_EQ(&registry.counter("c_total", "h", {{"op", "x"}}), &a);
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  Registry registry;
  registry.counter("c_total", "line one\nback\\slash \"quoted\"", {{"v", "a\"b\\c\nd"}}).inc();
  EXPECT_EQ(registry.render(),
            "# HELP c_total line one\\nback\\\\slash \"quoted\"\n"
            "# TYPE c_total counter\n"
            "c_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Metrics, GaugeValues) {
  Registry registry;
  Gauge& g = registry.gauge("g", "h");
  const std::pair<double, std::string> cases[] = {
      {0, "0"},           {-2, "-2"},          {0.5, "0.5"},
      {1e20, "1e+20"},    {0.1, "0.1"},        {12345678, "12345678"},
      {INFINITY, "+Inf"}, {-INFINITY, "-Inf"}, {NAN, "NaN"}};
  for (const auto& [value, shown] : cases) {
    g.set(value);
    EXPECT_EQ(registry.render(), "# HELP g h\n# TYPE g gauge\ng " + shown + "\n") << value;
  }
  g.set(1);
  g.add(2.5);
  g.inc();
  EXPECT_EQ(g.value(), 4.5);
}

TEST(Metrics, HistogramBucketsAndNaN) {
  const double bounds[] = {1, 2};
  Histogram h(bounds);
  h.observe(0.5);
  h.observe(1);
  h.observe(1.5);
  h.observe(2);
  h.observe(2.5);
  h.observe(NAN);
  EXPECT_EQ(h.bucket(0), 2u);
  EXPECT_EQ(h.bucket(1), 2u);
  EXPECT_EQ(h.bucket(2), 2u);
  EXPECT_EQ(h.count(), 6u);
}

// A scrape as Prometheus reads it: every sample line is `name{labels} value`, every family
// has HELP and TYPE before its samples, histogram buckets are cumulative and end in +Inf
// equal to _count, and _sum is the sum of the observations.
TEST(Metrics, ParsedLineByLine) {
  Registry registry;
  const char* ops[] = {"hello", "order.place", "order.cancel", "sms.deliver"};
  std::map<std::string, double> sums;
  std::map<std::string, std::uint64_t> counts;
  for (int i = 0; i < 4; ++i) {
    registry.counter("smsx_requests_total", "Requests.", {{"op", ops[i]}, {"result", "ok"}})
        .inc(static_cast<std::uint64_t>(i * 10));
    Histogram& h = registry.histogram("smsx_request_duration_seconds", "Latency.",
                                      kLatencyBucketsSeconds, {{"op", ops[i]}});
    for (int k = 0; k < 50 * (i + 1); ++k) {
      const double seconds = 0.00001 * (k * k % 997) * (i + 1);
      h.observe(seconds);
      sums[ops[i]] += seconds;
      ++counts[ops[i]];
    }
  }
  registry.gauge("smsx_orders_active", "Active orders.").set(12);

  const std::regex sample(
      R"re(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? (\S+))re");
  const std::regex help(R"re(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)re");
  const std::regex type(R"re(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))re");
  const std::regex bucket_op(
      R"re(smsx_request_duration_seconds_bucket\{op="([^"]*)",le="([^"]*)"\} (\d+))re");
  const std::regex sum_or_count(
      R"re(smsx_request_duration_seconds_(sum|count)\{op="([^"]*)"\} (\S+))re");

  const std::string text = registry.render();
  ASSERT_TRUE(text.ends_with("\n"));
  std::string family;
  std::string family_type;
  std::map<std::string, std::vector<std::pair<double, std::uint64_t>>> buckets;
  std::map<std::string, double> rendered_sums;
  std::map<std::string, std::uint64_t> rendered_counts;
  int samples = 0;
  std::smatch m;
  for (const std::string& line : split_lines(text)) {
    if (std::regex_match(line, m, help)) {
      family = m[1];
      family_type.clear();
      continue;
    }
    if (std::regex_match(line, m, type)) {
      ASSERT_EQ(m[1], family) << "TYPE must follow HELP of the same family";
      family_type = m[2];
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
    ASSERT_FALSE(family_type.empty()) << "sample before TYPE: " << line;
    const std::string name = m[1];
    ASSERT_TRUE(name == family || (family_type == "histogram" &&
                                   (name == family + "_bucket" || name == family + "_sum" ||
                                    name == family + "_count")))
        << line;
    char* end = nullptr;
    const std::string value = m[7];
    std::strtod(value.c_str(), &end);
    ASSERT_TRUE(*end == '\0' || value == "+Inf") << line;
    ++samples;
    if (std::regex_match(line, m, bucket_op)) {
      const double le = m[2] == "+Inf" ? INFINITY : std::stod(m[2]);
      buckets[m[1]].emplace_back(le, std::stoull(m[3]));
    } else if (std::regex_match(line, m, sum_or_count)) {
      if (m[1] == "sum") {
        rendered_sums[m[2]] = std::stod(m[3]);
      } else {
        rendered_counts[m[2]] = std::stoull(m[3]);
      }
    }
  }
  EXPECT_EQ(samples, 4 + 4 * (15 + 2) + 1);
  ASSERT_EQ(buckets.size(), 4u);
  for (const auto& [op, list] : buckets) {
    ASSERT_EQ(list.size(), std::size(kLatencyBucketsSeconds) + 1) << op;
    for (std::size_t i = 1; i < list.size(); ++i) {
      EXPECT_LT(list[i - 1].first, list[i].first) << op;
      EXPECT_LE(list[i - 1].second, list[i].second) << op << " buckets must be cumulative";
    }
    EXPECT_TRUE(std::isinf(list.back().first)) << op;
    EXPECT_EQ(list.back().second, rendered_counts[op]) << op;
    EXPECT_EQ(rendered_counts[op], counts[op]) << op;
    EXPECT_NEAR(rendered_sums[op], sums[op], 1e-9) << op;
    EXPECT_EQ(list.front().first, 0.00005);
    EXPECT_EQ(list[list.size() - 2].first, 1.0);
  }
}

TEST(Metrics, IncrementsDoNotAllocate) {
  Registry registry;
  Counter& c = registry.counter("c_total", "h", {{"op", "x"}});
  Gauge& g = registry.gauge("g", "h");
  Histogram& h = registry.histogram("h_seconds", "h", kLatencyBucketsSeconds, {{"op", "x"}});
  const std::size_t before = allocations;
  for (int i = 0; i < 100'000; ++i) {
    c.inc();
    g.add(1);
    h.observe(i * 1e-6);
  }
  EXPECT_EQ(allocations, before);
  EXPECT_EQ(c.value(), 100'000u);
  EXPECT_EQ(h.count(), 100'000u);
}

TEST(MetricsDeathTest, MisuseIsABug) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Registry registry;
  registry.counter("c_total", "h");
  EXPECT_DEATH(registry.gauge("c_total", "h"), "registered before with another type");
  EXPECT_DEATH(registry.counter("c_total", "h", {{"op", "x"}}), "other labels");
  EXPECT_DEATH(registry.counter("bad-name", "h"), "invalid metric name");
  EXPECT_DEATH(registry.counter("c2", "h", {{"__reserved", "x"}}), "invalid label name");
  EXPECT_DEATH(registry.histogram("h", "h", kLatencyBucketsSeconds, {{"le", "1"}}), "reserved");
  const double backwards[] = {2, 1};
  EXPECT_DEATH(registry.histogram("h2", "h", backwards), "bounds must increase");
}

// ---- GET /metrics ----

TEST(MetricsHttp, ClassifiesRequests) {
  EXPECT_EQ(classify_http_request(""), HttpRequestKind::kIncomplete);
  EXPECT_EQ(classify_http_request("GET /metrics HTTP/1.1\r\nHost: x\r\n"),
            HttpRequestKind::kIncomplete);
  EXPECT_EQ(classify_http_request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            HttpRequestKind::kMetrics);
  EXPECT_EQ(classify_http_request("GET /metrics?name[]=x HTTP/1.0\r\n\r\n"),
            HttpRequestKind::kMetrics);
  EXPECT_EQ(classify_http_request("GET / HTTP/1.1\r\n\r\n"), HttpRequestKind::kNotFound);
  EXPECT_EQ(classify_http_request("GET /metrics/x HTTP/1.1\r\n\r\n"), HttpRequestKind::kNotFound);
  EXPECT_EQ(classify_http_request("GET /metricsx HTTP/1.1\r\n\r\n"), HttpRequestKind::kNotFound);
  EXPECT_EQ(classify_http_request("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
            HttpRequestKind::kMethodNotAllowed);
  EXPECT_EQ(classify_http_request("HEAD /metrics HTTP/1.1\r\n\r\n"),
            HttpRequestKind::kMethodNotAllowed);
  EXPECT_EQ(classify_http_request("hello\r\n\r\n"), HttpRequestKind::kBadRequest);
  EXPECT_EQ(classify_http_request("GET /metrics HTTP/2\r\n\r\n"), HttpRequestKind::kBadRequest);
  EXPECT_EQ(classify_http_request("GET metrics HTTP/1.1\r\n\r\n"), HttpRequestKind::kBadRequest);
  EXPECT_EQ(classify_http_request("{\"op\":\"hello\"}\n"), HttpRequestKind::kIncomplete);
  EXPECT_EQ(classify_http_request(std::string(kHttpRequestBytesMax + 1, 'x')),
            HttpRequestKind::kBadRequest);
  EXPECT_EQ(classify_http_request("GET /metrics HTTP/1.1\r\nX: " +
                                  std::string(kHttpRequestBytesMax, 'x') + "\r\n\r\n"),
            HttpRequestKind::kBadRequest);
}

struct HttpResponse {
  std::string status_line;
  std::map<std::string, std::string> headers;
  std::string body;
};

HttpResponse parse_response(const std::string& raw) {
  HttpResponse response;
  const std::size_t head_end = raw.find("\r\n\r\n");
  EXPECT_NE(head_end, std::string::npos);
  std::string head = raw.substr(0, head_end);
  response.body = raw.substr(head_end + 4);
  std::size_t at = head.find("\r\n");
  response.status_line = head.substr(0, at);
  while (at != std::string::npos) {
    const std::size_t next = head.find("\r\n", at + 2);
    const std::string line = head.substr(at + 2, next == std::string::npos ? next : next - at - 2);
    const std::size_t colon = line.find(": ");
    EXPECT_NE(colon, std::string::npos) << line;
    response.headers[line.substr(0, colon)] = line.substr(colon + 2);
    at = next;
  }
  return response;
}

TEST(MetricsHttp, MetricsResponse) {
  Registry registry;
  registry.counter("smsx_requests_total", "Requests.", {{"op", "hello"}, {"result", "ok"}}).inc(5);
  std::string raw;
  write_http_response(HttpRequestKind::kMetrics, registry, &raw);
  const HttpResponse response = parse_response(raw);
  EXPECT_EQ(response.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(response.headers.at("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_EQ(response.headers.at("Content-Length"), std::to_string(response.body.size()));
  EXPECT_EQ(response.headers.at("Connection"), "close");
  EXPECT_EQ(response.body, registry.render());
  EXPECT_NE(response.body.find("smsx_requests_total{op=\"hello\",result=\"ok\"} 5\n"),
            std::string::npos);
}

TEST(MetricsHttp, ErrorResponses) {
  Registry registry;
  const std::pair<HttpRequestKind, std::string> cases[] = {
      {HttpRequestKind::kNotFound, "HTTP/1.1 404 Not Found"},
      {HttpRequestKind::kMethodNotAllowed, "HTTP/1.1 405 Method Not Allowed"},
      {HttpRequestKind::kBadRequest, "HTTP/1.1 400 Bad Request"}};
  for (const auto& [kind, status] : cases) {
    std::string raw;
    write_http_response(kind, registry, &raw);
    const HttpResponse response = parse_response(raw);
    EXPECT_EQ(response.status_line, status);
    EXPECT_EQ(response.headers.at("Content-Length"), std::to_string(response.body.size()));
    EXPECT_EQ(response.headers.at("Connection"), "close");
    EXPECT_FALSE(response.body.empty());
  }
  std::string raw;
  write_http_response(HttpRequestKind::kMethodNotAllowed, registry, &raw);
  EXPECT_EQ(parse_response(raw).headers.at("Allow"), "GET");
}

}  // namespace
}  // namespace smsx::net
