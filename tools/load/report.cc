#include "tools/load/report.h"

#include <cstdio>

namespace smsx::load {

namespace {
double us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::string format(const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}
}  // namespace

void Report::add_ok(uint64_t latency_ns) {
  ++ok;
  latency.record(latency_ns);
}

void Report::add_error(const std::string& code, uint64_t latency_ns) {
  ++errors[code];
  latency.record(latency_ns);
}

uint64_t Report::error_count() const {
  uint64_t n = 0;
  for (const auto& [code, count] : errors) n += count;
  return n;
}

std::string Report::to_text() const {
  std::string out;
  out += format("mode %s, %u connections x pipeline %u", mode.c_str(), connections, pipeline);
  if (rate > 0) out += format(", offered %.0f requests/s", rate);
  out += "\nmix " + mix + "\n";
  out += format("requests %llu in %.3f s: %.0f requests/s\n",
                static_cast<unsigned long long>(answered()), seconds, throughput());
  out += format("ok %llu, errors %llu\n", static_cast<unsigned long long>(ok),
                static_cast<unsigned long long>(error_count()));
  for (const auto& [code, count] : errors) {
    out += format("  %-24s %llu\n", code.c_str(), static_cast<unsigned long long>(count));
  }
  out += "sent by op:";
  for (size_t i = 0; i < kOpCount; ++i) {
    out += format(" %s %llu", std::string(kOpNames[i]).c_str(),
                  static_cast<unsigned long long>(sent_by_op[i]));
  }
  out += format("\nplacements held back by the active-order limit: %llu (%.2f%%)\n",
                static_cast<unsigned long long>(held_back), 100 * held_back_share());
  if (held_back_share() > kHeldBackShareWarn) {
    out +=
        "warning: the mix was not kept (workers held their limit of active orders and sent "
        "other ops instead of placements); give the run more --numbers\n";
  }
  out += format("latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
                us(latency.percentile(0.5)), us(latency.percentile(0.9)),
                us(latency.percentile(0.99)), us(latency.percentile(0.999)), us(latency.max()));
  if (rate > 0) {
    out += format("send lag us (actual - intended send): p50 %.1f  p99 %.1f  max %.1f\n",
                  us(send_lag.percentile(0.5)), us(send_lag.percentile(0.99)), us(send_lag.max()));
  }
  return out;
}

std::string Report::to_json() const {
  std::string out = "{";
  out += format("\"mode\":\"%s\",\"connections\":%u,\"pipeline\":%u,\"rate\":%.0f,", mode.c_str(),
                connections, pipeline, rate);
  out += "\"mix\":\"" + mix + "\",";
  out += format("\"seconds\":%.6f,\"sent\":%llu,\"requests\":%llu,\"ok\":%llu,", seconds,
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(answered()),
                static_cast<unsigned long long>(ok));
  out += "\"sent_by_op\":{";
  for (size_t i = 0; i < kOpCount; ++i) {
    out += format("%s\"%s\":%llu", i ? "," : "", std::string(kOpNames[i]).c_str(),
                  static_cast<unsigned long long>(sent_by_op[i]));
  }
  out += format("},\"held_back\":%llu,", static_cast<unsigned long long>(held_back));
  out += format("\"throughput\":%.1f,\"errors\":{", throughput());
  bool first = true;
  for (const auto& [code, count] : errors) {
    out += format("%s\"%s\":%llu", first ? "" : ",", code.c_str(),
                  static_cast<unsigned long long>(count));
    first = false;
  }
  out += format(
      "},\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p99_9\":%.1f,\"max\":%.1f}}",
      us(latency.percentile(0.5)), us(latency.percentile(0.9)), us(latency.percentile(0.99)),
      us(latency.percentile(0.999)), us(latency.max()));
  out.pop_back();  // the closing brace, reopened for send_lag_us
  out += format(",\"send_lag_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f}}",
                us(send_lag.percentile(0.5)), us(send_lag.percentile(0.99)), us(send_lag.max()));
  return out;
}

void Report::print(bool json) const {
  if (json) {
    std::printf("%s\n", to_json().c_str());
  } else {
    std::printf("%s", to_text().c_str());
  }
}

bool Report::failed() const {
  return errors.count("CHECK_FAILED") || errors.count("DISCONNECTED") ||
         errors.count("BAD_REPLY") || !consistent();
}

}  // namespace smsx::load
