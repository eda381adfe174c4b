// A small Prometheus registry for the single-threaded server, and the HTTP answer to
// GET /metrics.
//
// Register each metric, with its label values, once at start-up (or when a new label value
// first appears) and keep the returned reference: Counter::inc, Gauge::set and
// Histogram::observe are then a few instructions with no allocation and no lookup. The
// references stay valid for the registry's lifetime. render() writes the text exposition
// format 0.0.4: per family "# HELP" and "# TYPE", then one "name{labels} value" line per
// series; families and series appear in registration order.
//
// Misuse is a bug and aborts with a message: an invalid metric or label name, one name
// registered with two types, label names that differ within a family, histogram bounds that
// differ within a family or are not strictly increasing.
//
// Not thread-safe: the loop thread owns the registry. Helper threads report through the loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smsx::net {

// Request latency buckets, in seconds: 50us .. 1s (+Inf is implied).
inline constexpr double kLatencyBucketsSeconds[] = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};

using MetricLabels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class Counter {
 public:
  void inc(std::uint64_t by = 1) { value_ += by; }
  std::uint64_t value() const { return value_; }

 private:
  std::uint64_t value_ = 0;
};

class Gauge {
 public:
  void set(double value) { value_ = value; }
  void add(double by) { value_ += by; }
  void inc() { value_ += 1; }
  void dec() { value_ -= 1; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

class Histogram {
 public:
  // `bounds` are the finite upper bounds ("le"), strictly increasing; +Inf is added.
  explicit Histogram(std::span<const double> bounds);

  // Counts `value` in the first bucket whose bound is >= value (NaN goes to +Inf).
  // O(log buckets), no allocation.
  void observe(double value);

  std::span<const double> bounds() const { return bounds_; }
  // Observations in bucket i alone (not cumulative); i == bounds().size() is +Inf.
  std::uint64_t bucket(std::size_t i) const { return counts_[i]; }
  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // bounds_.size() + 1
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The series `name{labels}`, created on first use; the same call again returns the same
  // series. `help` is taken from the first registration of the family.
  Counter& counter(std::string_view name, std::string_view help, MetricLabels labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, MetricLabels labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, std::span<const double> bounds,
                       MetricLabels labels = {});

  // Appends the exposition text to *out.
  void render(std::string* out) const;
  std::string render() const;

 private:
  enum class Type : std::uint8_t { kCounter, kGauge, kHistogram };
  struct Family;
  struct Series;
  Series& series(std::string_view name, std::string_view help, Type type,
                 std::span<const double> bounds, MetricLabels labels);

  std::vector<std::unique_ptr<Family>> families_;
};

// --- GET /metrics over HTTP/1.1 ---------------------------------------------------------

// A request head longer than this is answered 400 and the connection closed.
inline constexpr std::size_t kHttpRequestBytesMax = 8 * 1024;

enum class HttpRequestKind : std::uint8_t {
  kIncomplete,        // no complete request head yet ("\r\n\r\n"); read more
  kMetrics,           // GET /metrics (a query string is ignored)
  kNotFound,          // GET of any other path: 404
  kMethodNotAllowed,  // any other method: 405
  kBadRequest,        // not an HTTP/1.x request line, or a head over kHttpRequestBytesMax
};

// Looks at the bytes received so far on a metrics connection.
HttpRequestKind classify_http_request(std::string_view buffer);

// Appends a complete HTTP/1.1 response for `kind` (not kIncomplete) to *out: status line,
// Content-Type (for metrics "text/plain; version=0.0.4"), Content-Length and
// "Connection: close" (the server closes after writing it), then the body.
void write_http_response(HttpRequestKind kind, const Registry& registry, std::string* out);

}  // namespace smsx::net
