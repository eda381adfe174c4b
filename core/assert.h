// Always-on assertions for bugs (STYLE point 4): a broken invariant prints file:line and
// aborts, in every build type. Domain rejections are never asserts; they are Error values.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace smsx {

[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expr);
  std::fflush(stderr);
  std::abort();
}

}  // namespace smsx

#define SMSX_ASSERT(cond) \
  ((cond) ? static_cast<void>(0) : ::smsx::assert_fail(#cond, __FILE__, __LINE__))
