// smsxd: the smsx server. For now it only runs its libuv loop, logs that it is ready and
// exits cleanly on SIGINT / SIGTERM; the gateway listener arrives with the server issue.
#include <uv.h>

#include <cstdio>
#include <ctime>

namespace {

void log_line(const char* level, const char* text) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::fprintf(stderr, "%s.%03ldZ %s %s\n", stamp, ts.tv_nsec / 1'000'000, level, text);
}

void on_signal(uv_signal_t* handle, int signum) {
  log_line("INFO", signum == SIGINT ? "SIGINT: stopping" : "SIGTERM: stopping");
  uv_stop(handle->loop);
}

}  // namespace

int main() {
  uv_loop_t* loop = uv_default_loop();
  uv_signal_t sigint{};
  uv_signal_t sigterm{};
  uv_signal_init(loop, &sigint);
  uv_signal_init(loop, &sigterm);
  uv_signal_start(&sigint, on_signal, SIGINT);
  uv_signal_start(&sigterm, on_signal, SIGTERM);
  log_line("INFO", "smsxd ready");
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  log_line("INFO", "smsxd stopped");
  return 0;
}
