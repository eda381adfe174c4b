// smsx-activate: the SMS-Activate-compatible HTTP gateway in front of smsxd
// (docs/activate_gateway.md). Reads its configuration and keys file, connects to smsxd as a
// customer gateway, serves HTTP until SIGINT/SIGTERM; SIGHUP reloads the keys file.
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "net/log.h"
#include "net/metrics.h"
#include "tools/activate_gateway/config.h"
#include "tools/activate_gateway/gateway.h"
#include "tools/activate_gateway/http_server.h"
#include "tools/activate_gateway/upstream.h"

namespace {

using namespace smsx;
using namespace smsx::activate;

constexpr std::string_view kTextType = "text/plain; charset=utf-8";

bool token_valid(std::string_view token) {
  for (char c : token) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x21 || c == 0x7f) return false;
  }
  return !token.empty();
}

struct App {
  GatewayConfig config;
  uv_loop_t* loop = nullptr;
  net::Registry metrics;
  std::unique_ptr<Upstream> upstream;
  std::unique_ptr<Gateway> gateway;
  std::unique_ptr<HttpServer> http;
  net::Histogram* latency = nullptr;
  uv_signal_t sigint{}, sigterm{}, sighup{};
  Params request_params;  // reused by serve(): its memory stays allocated between requests

  void serve(const HttpRequest& request, ReplyHandle handle) {
    if (request.path == "/metrics") {
      if (request.method != "GET") {
        return http->reply(handle, 405, kTextType, "only GET is served\n", "Allow: GET\r\n");
      }
      return http->reply(handle, 200, "text/plain; version=0.0.4", metrics.render());
    }
    if (request.path != "/stubs/handler_api.php" && request.path != "/stubs/handler_api") {
      return http->reply(handle, 404, kTextType, "not found; the API is /stubs/handler_api.php\n");
    }
    if (request.method != "GET" && request.method != "POST") {
      return http->reply(handle, 405, kTextType, "only GET and POST are served\n",
                         "Allow: GET, POST\r\n");
    }
    Params& params = request_params;
    params.clear();
    bool fits = params.add(request.query);
    if (request.method == "POST") fits = params.add(request.body) && fits;
    if (!fits) return http->reply(handle, 200, kTextType, "ERROR_SQL");
    const std::uint64_t started_ns = uv_hrtime();
    gateway->handle(params, uv_now(loop), [this, handle, started_ns](const ActivateReply& reply) {
      latency->observe(static_cast<double>(uv_hrtime() - started_ns) / 1e9);
      http->reply(handle, 200, reply.json ? "application/json" : kTextType, reply.body);
    });
  }

  void stop() {
    net::log_info("stopping");
    http->stop();
    upstream->stop();
    for (uv_signal_t* s : {&sigint, &sigterm, &sighup}) {
      uv_signal_stop(s);
      uv_close(reinterpret_cast<uv_handle_t*>(s), nullptr);
    }
  }

  void reload_keys() {
    auto keys = KeyTable::load(config.keys_file);
    if (!keys.ok()) {
      net::log_error("keys not reloaded: %s", keys.error().c_str());
      return;
    }
    net::log_info("reloaded %zu keys from %s", keys->size(), config.keys_file.c_str());
    gateway->set_keys(std::move(*keys));
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  auto loaded = load_gateway_config(args);
  if (!loaded.ok()) {
    std::fprintf(stderr, "smsx-activate: %s\n", loaded.error().c_str());
    return 2;
  }
  if (loaded->help) {
    std::fputs(gateway_help().c_str(), stdout);
    return 0;
  }
  // A client that goes away while answers are being written must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  App app;
  app.config = std::move(*loaded);
  net::set_log_level(app.config.log_level);
  if (!token_valid(app.config.token)) {
    net::log_error("token: visible ASCII characters without '\"' or '\\'");
    return 2;
  }
  auto keys = KeyTable::load(app.config.keys_file);
  if (!keys.ok()) {
    net::log_error("%s", keys.error().c_str());
    return 2;
  }
  const std::size_t key_count = keys->size();

  app.loop = uv_default_loop();
  app.latency = &app.metrics.histogram("smsx_activate_request_seconds",
                                       "Time from a complete API request to its answer.",
                                       net::kLatencyBucketsSeconds);
  app.upstream = std::make_unique<Upstream>(app.loop, app.config.smsxd, app.config.token,
                                            app.config.upstream_connections, &app.metrics);
  app.gateway =
      std::make_unique<Gateway>(app.config, std::move(*keys), app.upstream.get(), &app.metrics);
  HttpLimits limits{app.config.limits.body_bytes_max, app.config.limits.connections_max,
                    app.config.limits.requests_in_flight_max};
  app.http = std::make_unique<HttpServer>(
      app.loop, limits,
      [&app](const HttpRequest& request, ReplyHandle handle) { app.serve(request, handle); },
      &app.metrics);
  const std::string error = app.http->listen(app.config.listen);
  if (!error.empty()) {
    net::log_error("%s", error.c_str());
    return 2;
  }
  app.upstream->start();

  auto on_signal = [](uv_signal_t* s, int signum) {
    auto* a = static_cast<App*>(s->data);
    if (signum == SIGHUP) {
      a->reload_keys();
    } else {
      a->stop();
    }
  };
  for (auto [handle, signum] : {std::pair{&app.sigint, SIGINT}, std::pair{&app.sigterm, SIGTERM},
                                std::pair{&app.sighup, SIGHUP}}) {
    uv_signal_init(app.loop, handle);
    handle->data = &app;
    uv_signal_start(handle, on_signal, signum);
  }
  net::log_info("smsx-activate listening on 127.0.0.1:%u (%s), %zu keys, smsxd at %s",
                static_cast<unsigned>(app.http->port()), app.config.listen.to_string().c_str(),
                key_count, app.config.smsxd.to_string().c_str());
  uv_run(app.loop, UV_RUN_DEFAULT);
  uv_loop_close(app.loop);
  return 0;
}
