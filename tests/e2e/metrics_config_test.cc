// /metrics over HTTP, and a start with no configuration at all.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/e2e/smsxd_util.h"

namespace smsx::e2e {
namespace {

std::string http_get(uint16_t port, const std::string& path) {
  Client c(port);
  c.send_raw("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  std::string all;
  while (auto line = c.read_line()) all += *line + "\n";
  return all;
}

// The token of the admin gateway in a generated gateways file.
std::string admin_token_in(const std::string& gateways_file) {
  std::ifstream in(gateways_file);
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  const size_t role = s.find("role = \"admin\"");
  if (role == std::string::npos) return "";
  const size_t tok = s.find("token = \"", role);
  if (tok == std::string::npos) return "";
  return s.substr(tok + 9, s.find('"', tok + 9) - tok - 9);
}

TEST(Metrics, ScrapedAndParsedAsPrometheusText) {
  SmsxdProcess server;
  ASSERT_NO_FATAL_FAILURE(server.start());
  Client adm(server.port());
  ASSERT_TRUE(adm.hello(kAdminToken));
  ASSERT_TRUE(is_ok(adm.call(request("stats", {}))));
  std::string body = http_get(server.metrics_port(), "/metrics");
  ASSERT_NE(body.find("200 OK"), std::string::npos) << body;
  std::istringstream lines(body.substr(body.find("\r\n\r\n") + 4));
  std::string line;
  int samples = 0;
  bool saw_stats = false, saw_latency = false, saw_fsync = false;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    char* end = nullptr;
    std::strtod(line.c_str() + space + 1, &end);
    EXPECT_EQ(*end, '\0') << "value is not a number: " << line;
    ++samples;
    saw_stats |= line.find("smsx_requests_total{op=\"stats\",result=\"ok\"} 1") == 0;
    saw_latency |= line.find("smsx_request_latency_seconds_count") == 0;
    saw_fsync |= line.find("smsx_wal_commit_seconds_bucket") == 0;
  }
  EXPECT_GT(samples, 10);
  EXPECT_TRUE(saw_stats) << body;
  EXPECT_TRUE(saw_latency);
  EXPECT_TRUE(saw_fsync);
  EXPECT_NE(http_get(server.metrics_port(), "/nope").find("404"), std::string::npos);
}

TEST(Configuration, NoConfigurationAtAllGeneratesTokensAndServes) {
  char tmpl[] = "/tmp/smsx-noconf-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  uint16_t port = free_port(), mport = free_port();
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(126);
    std::string listen = "127.0.0.1:" + std::to_string(port);
    std::string metrics = "127.0.0.1:" + std::to_string(mport);
    // Only the ports are given, so that parallel tests do not collide on 7700.
    execl(SMSXD_PATH, "smsxd", "--listen", listen.c_str(), "--metrics_listen", metrics.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string gateways = dir + "/smsx-data/gateways.toml";
  bool up = false;
  for (int i = 0; i < 1000 && !up; ++i) {
    Client probe(port, std::chrono::milliseconds(100));
    up = probe.connected();
    if (!up) usleep(20'000);  // polling for the port, not synchronising with a sleep
  }
  ASSERT_TRUE(up);
  struct stat st {};
  ASSERT_EQ(stat(gateways.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string token = admin_token_in(gateways);
  ASSERT_FALSE(token.empty());
  Client adm(port);
  EXPECT_TRUE(adm.hello(token.c_str()));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::filesystem::remove_all(dir);
}

// Port 0 lets the system choose; the "ready" log line must name the ports it chose, since
// that is the only way an operator (or a script) learns them.
TEST(Configuration, PortZeroListensWhereTheReadyLineSays) {
  char tmpl[] = "/tmp/smsx-port0-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  int err[2];
  ASSERT_EQ(pipe(err), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(err[1], 2);
    close(err[0]);
    std::string data = dir + "/data";
    execl(SMSXD_PATH, "smsxd", "--listen", "127.0.0.1:0", "--metrics_listen", "127.0.0.1:0",
          "--data_dir", data.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(err[1]);
  FILE* log = fdopen(err[0], "r");
  std::string ready;
  char line[1024];
  while (ready.empty() && fgets(line, sizeof line, log) != nullptr) {  // ends if smsxd exits
    if (std::string(line).find("smsxd ready:") != std::string::npos) ready = line;
  }
  ASSERT_FALSE(ready.empty());
  unsigned gateway_port = 0, metrics_port = 0;
  const size_t at = ready.find("gateways on 127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << ready;
  ASSERT_EQ(std::sscanf(ready.c_str() + at, "gateways on 127.0.0.1:%u, metrics on 127.0.0.1:%u",
                        &gateway_port, &metrics_port),
            2)
      << ready;
  EXPECT_NE(gateway_port, 0u) << ready;
  EXPECT_NE(metrics_port, 0u) << ready;
  const std::string token = admin_token_in(dir + "/data/gateways.toml");
  ASSERT_FALSE(token.empty());
  Client adm(static_cast<uint16_t>(gateway_port));
  EXPECT_TRUE(adm.hello(token.c_str()));
  EXPECT_NE(http_get(static_cast<uint16_t>(metrics_port), "/metrics").find("200 OK"),
            std::string::npos);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  fclose(log);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace smsx::e2e
