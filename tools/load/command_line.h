// The command line smsx-load (load_main.cc) and bench/redis's smsx-redis-load share:
// reading flags and their values, the flags both take, the mix, and what the report says
// of them. Each program keeps its own usage text and the flags only it takes.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>

#include "tools/load/mix.h"
#include "tools/load/report.h"

namespace smsx::load {

// Prints `error` and the program's usage on stderr and exits with status 2.
using Usage = void (*)(const std::string& error);

// Walks argv[1..] flag by flag; a flag's value is the argument after it.
class FlagReader {
 public:
  FlagReader(int argc, char** argv, Usage usage) : argc_(argc), argv_(argv), usage_(usage) {}

  // Moves to the next flag; false when there is none left.
  bool next() {
    if (++i_ >= argc_) return false;
    flag_ = argv_[i_];
    return true;
  }
  const std::string& flag() const { return flag_; }

  // The flag's value; fails when it is missing.
  std::string value() {
    if (i_ + 1 >= argc_) fail("missing value for " + flag_);
    return argv_[++i_];
  }

  // The flag's value as a decimal number; fails when it is not one.
  uint64_t number() {
    std::string v = value();
    char* end = nullptr;
    uint64_t n = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0') fail(flag_ + ": expected a number, got " + v);
    return n;
  }

  [[noreturn]] void fail(const std::string& error) const {
    usage_(error);
    std::abort();  // not reached: usage exits
  }

 private:
  int argc_;
  char** argv_;
  Usage usage_;
  int i_ = 0;
  std::string flag_;
};

// Reads the current flag into *o when it is one both programs take: --address,
// --connections, --pipeline, --requests, --mix (its spec into *mix_spec, for
// mix_or_fail), --accounts, --numbers, --services, --pools, --leave-pct, --json, --quiet.
// False for any other flag.
template <class Options>
bool read_common_flag(FlagReader& r, Options* o, std::string* mix_spec) {
  const std::string& a = r.flag();
  if (a == "--address") {
    std::string v = r.value();
    size_t colon = v.rfind(':');
    if (colon == std::string::npos) r.fail("--address: expected HOST:PORT");
    o->host = v.substr(0, colon);
    o->port = static_cast<decltype(o->port)>(std::atoi(v.c_str() + colon + 1));
  } else if (a == "--connections") {
    o->connections = static_cast<uint32_t>(r.number());
  } else if (a == "--pipeline") {
    o->pipeline = static_cast<uint32_t>(r.number());
  } else if (a == "--requests") {
    o->requests = r.number();
  } else if (a == "--mix") {
    *mix_spec = r.value();
  } else if (a == "--accounts") {
    o->accounts = static_cast<uint32_t>(r.number());
  } else if (a == "--numbers") {
    o->numbers = r.number();
  } else if (a == "--services") {
    o->services = static_cast<uint32_t>(r.number());
  } else if (a == "--pools") {
    o->pools = static_cast<uint32_t>(r.number());
  } else if (a == "--leave-pct") {
    o->leave_pct = static_cast<uint32_t>(r.number());
  } else if (a == "--json") {
    o->json = true;
  } else if (a == "--quiet") {
    o->quiet = true;
  } else {
    return false;
  }
  return true;
}

// The mix of --mix's spec (parse_mix); fails with parse_mix's error.
inline Mix mix_or_fail(const FlagReader& r, const std::string& spec) {
  std::string error;
  auto mix = parse_mix(spec, &error);
  if (!mix) r.fail(error);
  return *mix;
}

// What the report says of the run's set-up: open loop with a `rate` (requests/s), else
// closed; the connections, pipeline and mix of `o`.
template <class Options>
void describe_run(const Options& o, double rate, Report* r) {
  r->mode = rate > 0 ? "open" : "closed";
  r->connections = o.connections;
  r->pipeline = o.pipeline;
  r->rate = rate;
  r->mix = o.mix.to_string();
}

}  // namespace smsx::load
