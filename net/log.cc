#include "net/log.h"

#include <cstdio>
#include <cstring>
#include <ctime>

namespace smsx::net {

namespace log_internal {
LogLevel threshold = LogLevel::kInfo;
}  // namespace log_internal

namespace {

LogSink sink_fn = nullptr;
void* sink_context = nullptr;

constexpr std::string_view kEllipsis = "...";

std::int64_t now_unix_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// Rewrites control characters in [begin, begin + length) as escapes, within `capacity`
// bytes; returns the new length and sets *cut when the tail had to be dropped to fit.
// Works backwards so it needs no second buffer.
std::size_t escape_controls(char* begin, std::size_t length, std::size_t capacity, bool* cut) {
  std::size_t extra = 0;
  for (std::size_t i = 0; i < length; ++i) {
    const auto c = static_cast<unsigned char>(begin[i]);
    if (c < 0x20 || c == 0x7f) extra += (c == '\n' || c == '\r' || c == '\t') ? 1 : 3;
  }
  if (extra == 0) return length;
  // Drop the tail that no longer fits once escaped.
  while (length + extra > capacity) {
    *cut = true;
    const auto c = static_cast<unsigned char>(begin[--length]);
    if (c < 0x20 || c == 0x7f) extra -= (c == '\n' || c == '\r' || c == '\t') ? 1 : 3;
  }
  std::size_t out = length + extra;
  const std::size_t result = out;
  for (std::size_t i = length; i-- > 0;) {
    const auto c = static_cast<unsigned char>(begin[i]);
    if (c >= 0x20 && c != 0x7f) {
      begin[--out] = static_cast<char>(c);
    } else if (c == '\n' || c == '\r' || c == '\t') {
      begin[--out] = c == '\n' ? 'n' : (c == '\r' ? 'r' : 't');
      begin[--out] = '\\';
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      begin[--out] = kHex[c & 0xf];
      begin[--out] = kHex[c >> 4];
      begin[--out] = 'x';
      begin[--out] = '\\';
    }
  }
  return result;
}

void write_line(std::string_view line) {
  if (sink_fn != nullptr) {
    sink_fn(line, sink_context);
    return;
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void log_v(LogLevel level, const char* format, va_list args) {
  char line[kLogLineBytesMax];
  const std::size_t length = format_log_line(line, sizeof line, now_unix_ms(), level, format, args);
  write_line(std::string_view(line, length));
}

}  // namespace

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return std::nullopt;
}

void set_log_level(LogLevel level) { log_internal::threshold = level; }

LogLevel log_level() { return log_internal::threshold; }

void set_log_sink(LogSink sink, void* context) {
  sink_fn = sink;
  sink_context = context;
}

std::size_t format_log_line(char* out, std::size_t out_bytes, std::int64_t unix_ms, LogLevel level,
                            const char* format, va_list args) {
  // Room for "YYYY-MM-DDTHH:MM:SS.mmmZ ERROR " and the newline.
  if (out_bytes < 64) __builtin_trap();
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  const int millis = static_cast<int>(unix_ms % 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::size_t length = std::strftime(out, out_bytes, "%Y-%m-%dT%H:%M:%S", &utc);
  const std::string_view name = log_level_name(level);
  length +=
      static_cast<std::size_t>(std::snprintf(out + length, out_bytes - length, ".%03dZ %.*s ",
                                             millis, static_cast<int>(name.size()), name.data()));
  const std::size_t message_start = length;
  // The message may use everything but the byte for '\n' (and vsnprintf's terminating NUL).
  const std::size_t message_capacity = out_bytes - 1 - message_start;
  const int wanted = std::vsnprintf(out + message_start, message_capacity + 1, format, args);
  std::size_t message_length = 0;
  bool truncated = false;
  if (wanted > 0) {
    message_length = static_cast<std::size_t>(wanted);
    if (message_length > message_capacity) {
      message_length = message_capacity;
      truncated = true;
    }
  }
  message_length =
      escape_controls(out + message_start, message_length, message_capacity, &truncated);
  if (truncated && message_length >= kEllipsis.size()) {
    std::memcpy(out + message_start + message_length - kEllipsis.size(), kEllipsis.data(),
                kEllipsis.size());
  }
  length = message_start + message_length;
  out[length++] = '\n';
  return length;
}

void log_write(LogLevel level, const char* format, ...) {
  if (!log_enabled(level)) return;
  va_list args;
  va_start(args, format);
  log_v(level, format, args);
  va_end(args);
}

#define SMSX_NET_DEFINE_LOG_FN(fn_name, level) \
  void fn_name(const char* format, ...) {      \
    if (!log_enabled(level)) return;           \
    va_list args;                              \
    va_start(args, format);                    \
    log_v(level, format, args);                \
    va_end(args);                              \
  }

SMSX_NET_DEFINE_LOG_FN(log_debug, LogLevel::kDebug)
SMSX_NET_DEFINE_LOG_FN(log_info, LogLevel::kInfo)
SMSX_NET_DEFINE_LOG_FN(log_warn, LogLevel::kWarn)
SMSX_NET_DEFINE_LOG_FN(log_error, LogLevel::kError)

#undef SMSX_NET_DEFINE_LOG_FN

}  // namespace smsx::net
