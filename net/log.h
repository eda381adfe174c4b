// Logging: one line per event on stderr, for people and for log shippers.
//
//   2025-11-22T12:52:00.123Z INFO listening on 127.0.0.1:7700
//
// Each line is an ISO-8601 UTC timestamp with milliseconds, the level (DEBUG, INFO, WARN,
// ERROR) and a printf-style message. Control characters in the message are escaped so that
// one event is always exactly one line, even when it quotes client input. A message longer
// than kLogLineBytesMax is cut and ends in "...".
//
// Threading: the threshold and the sink are process-wide and meant to be set once at start-up
// on the loop thread; a line is written with one fwrite, so helper threads may log too.
// Cost when disabled: a call, one load and one compare; nothing is formatted. The arguments
// are still evaluated, so on a hot path guard with `if (log_enabled(LogLevel::kDebug))`.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace smsx::net {

enum class LogLevel : std::uint8_t { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Longest line written, including the timestamp, level and newline.
inline constexpr std::size_t kLogLineBytesMax = 4096;

// "DEBUG", "INFO", "WARN", "ERROR".
std::string_view log_level_name(LogLevel level);
// Accepts the lower-case configuration spellings: debug, info, warn, error.
std::optional<LogLevel> parse_log_level(std::string_view text);

void set_log_level(LogLevel level);
LogLevel log_level();

namespace log_internal {
extern LogLevel threshold;
}  // namespace log_internal

inline bool log_enabled(LogLevel level) { return level >= log_internal::threshold; }

// Where finished lines go (each ends in '\n'). nullptr restores the default, stderr.
using LogSink = void (*)(std::string_view line, void* context);
void set_log_sink(LogSink sink, void* context);

// Formats one line into `out` (capacity `out_bytes`, at least 64) for the given wall-clock
// time in milliseconds since the Unix epoch; returns its length (always ends in '\n').
std::size_t format_log_line(char* out, std::size_t out_bytes, std::int64_t unix_ms, LogLevel level,
                            const char* format, va_list args);

[[gnu::format(printf, 2, 3)]] void log_write(LogLevel level, const char* format, ...);

// log_debug / log_info / log_warn / log_error: check the threshold, then format and write.
[[gnu::format(printf, 1, 2)]] void log_debug(const char* format, ...);
[[gnu::format(printf, 1, 2)]] void log_info(const char* format, ...);
[[gnu::format(printf, 1, 2)]] void log_warn(const char* format, ...);
[[gnu::format(printf, 1, 2)]] void log_error(const char* format, ...);

}  // namespace smsx::net
