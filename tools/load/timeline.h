// Latency over time for smsx-load's --plot: one row per second of the measured phase
// (requests answered in that second, errors, p50/p99/max latency), a gnuplot data file of
// those rows, and the gnuplot script that draws them into a PNG.
//
// Replies are binned by the time they arrived, counted from the start of the measured
// phase; a second with no reply gets a row of zeros, so row i is always second i. Every
// recorded reply is in exactly one row: the rows' requests add up to count(). The last row
// covers only the part of its second before finish(), and says how long (`seconds`), so
// that its rate is requests / seconds. Header-only (the smsx_load library's source list is
// fixed in tools/CMakeLists.txt). Not thread-safe; the generator is single-threaded.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/assert.h"
#include "tools/load/latency_histogram.h"

namespace smsx::load {

struct TimelineRow {
  uint64_t second = 0;    // since the start of the measured phase
  double seconds = 1;     // how much of that second the row covers (the last: less)
  uint64_t requests = 0;  // replies that arrived in it
  uint64_t errors = 0;
  uint64_t p50_ns = 0, p99_ns = 0, max_ns = 0;
};

class Timeline {
 public:
  static constexpr uint64_t kSecondNs = 1'000'000'000;
  static constexpr uint64_t kRowsMax = 7 * 24 * 3600;  // a week of seconds

  explicit Timeline(uint64_t start_ns = 0) : start_ns_(start_ns) {}

  void start(uint64_t start_ns) { *this = Timeline(start_ns); }

  // A reply at `now_ns` that took `latency_ns`.
  void record(uint64_t now_ns, uint64_t latency_ns, bool error) {
    uint64_t second = now_ns > start_ns_ ? (now_ns - start_ns_) / kSecondNs : 0;
    if (second >= kRowsMax) second = kRowsMax - 1;
    while (current_ < second) close_row(1.0);
    current_hist_.record(latency_ns);
    if (error) ++current_errors_;
    ++count_;
  }

  // Ends the timeline at `end_ns`: closes the second in progress (and any empty ones
  // before it) as rows. Call once, after the last record().
  void finish(uint64_t end_ns) {
    uint64_t elapsed = end_ns > start_ns_ ? end_ns - start_ns_ : 0;
    uint64_t last = std::min(elapsed / kSecondNs, kRowsMax - 1);
    while (current_ < last) close_row(1.0);
    double part = static_cast<double>(elapsed - last * kSecondNs) / kSecondNs;
    if (current_hist_.count() > 0 || part > 0) close_row(part > 0 ? std::min(part, 1.0) : 1.0);
    uint64_t in_rows = 0;
    for (const TimelineRow& r : rows_) in_rows += r.requests;
    SMSX_ASSERT(in_rows == count_);  // every reply is in exactly one row
    SMSX_ASSERT(current_hist_.count() == 0);
  }

  const std::vector<TimelineRow>& rows() const { return rows_; }
  uint64_t count() const { return count_; }

  // The data file gnuplot reads: a comment header, then one row per line:
  // second seconds requests rate errors p50_us p99_us max_us
  std::string data() const {
    std::string out = "# second seconds requests rate_per_s errors p50_us p99_us max_us\n";
    for (const TimelineRow& r : rows_) {
      char line[256];
      std::snprintf(line, sizeof line, "%llu %.3f %llu %.1f %llu %.1f %.1f %.1f\n",
                    static_cast<unsigned long long>(r.second), r.seconds,
                    static_cast<unsigned long long>(r.requests),
                    r.seconds > 0 ? r.requests / r.seconds : 0.0,
                    static_cast<unsigned long long>(r.errors), r.p50_ns / 1000.0, r.p99_ns / 1000.0,
                    r.max_ns / 1000.0);
      out += line;
    }
    return out;
  }

  // A gnuplot script drawing `data_path` into `png_path`: latency (p50, p99, max, log
  // scale) on the left axis, requests/s on the right. Rows covering less than a tenth of a
  // second (the drain at the end) stay in the data but are not drawn: their few replies
  // would look like a rate and a latency. Paths must not contain '"'.
  static std::string gnuplot_script(const std::string& data_path, const std::string& png_path,
                                    const std::string& title) {
    return "set terminal pngcairo size 1200,600 noenhanced\n"
           "set output \"" +
           png_path +
           "\"\n"
           "set title \"" +
           title +
           "\"\n"
           "set xlabel \"second of the run\"\n"
           "set ylabel \"latency (us)\"\n"
           "set logscale y\n"
           "set y2label \"requests/s\"\n"
           "set y2tics\n"
           "set ytics nomirror\n"
           "set y2range [0:*]\n"
           "set key outside bottom center horizontal\n"
           "set grid\n"
           "shown(x) = (column(3) > 0 && column(2) >= 0.1) ? x : NaN\n"
           "plot \"" +
           data_path +
           "\" using 1:(shown($6)) with linespoints title \"p50\", "
           "\"\" using 1:(shown($7)) with linespoints title \"p99\", "
           "\"\" using 1:(shown($8)) with linespoints title \"max\", "
           "\"\" using 1:($2 >= 0.1 ? $4 : NaN) axes x1y2 with steps title \"requests/s\"\n";
  }

 private:
  void close_row(double seconds) {
    SMSX_ASSERT(rows_.size() == current_);  // row i is second i
    SMSX_ASSERT(seconds > 0 && seconds <= 1);
    TimelineRow r;
    r.second = current_;
    r.seconds = seconds;
    r.requests = current_hist_.count();
    r.errors = current_errors_;
    r.p50_ns = current_hist_.percentile(0.5);
    r.p99_ns = current_hist_.percentile(0.99);
    r.max_ns = current_hist_.max();
    rows_.push_back(r);
    current_hist_.reset();
    current_errors_ = 0;
    ++current_;
  }

  uint64_t start_ns_ = 0;
  uint64_t current_ = 0;  // the second being filled
  LatencyHistogram current_hist_;
  uint64_t current_errors_ = 0;
  uint64_t count_ = 0;
  std::vector<TimelineRow> rows_;
};

}  // namespace smsx::load
