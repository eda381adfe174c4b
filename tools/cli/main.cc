// smsx: the command-line tool for operators (docs/cli.md). One request per invocation:
// resolve the address and token (settings.h), build the request from the command table
// (commands.h), send hello and the request in one write, and print the reply readably
// (render.h) or raw with --json.
//
// Exit status: 0 the server answered ok; 1 it answered an error (or refused the hello);
// 2 the command line is wrong (usage on stderr); 3 the server could not be reached or did
// not answer in time.
#include <sys/random.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/assert.h"
#include "tools/cli/client.h"
#include "tools/cli/commands.h"
#include "tools/cli/render.h"
#include "tools/cli/settings.h"

namespace smsx::cli {
namespace {

constexpr int kExitOk = 0, kExitRefused = 1, kExitUsage = 2, kExitUnreachable = 3;
constexpr uint64_t kTimeoutMsDefault = 10'000;

constexpr const char* kGlobalHelp =
    "usage: smsx [FLAGS] COMMAND [ARGS] [--json]\n"
    "\n"
    "flags (anywhere on the line):\n"
    "  --addr HOST:PORT   smsxd's gateway address ($SMSX_ADDR; default 127.0.0.1:7700)\n"
    "  --token TOKEN      the gateway token to say hello with ($SMSX_TOKEN)\n"
    "  --config FILE      a CLI file or smsxd's gateways.toml ($SMSX_CONFIG;\n"
    "                     default ~/.config/smsx/cli.toml); see docs/cli.md\n"
    "  --gateway NAME     with a gateways file: use this gateway's token ($SMSX_GATEWAY)\n"
    "  --json             print the server's reply line as it is\n"
    "  --id ID            the request id (idempotency key) instead of a random one;\n"
    "                     repeat a mutating command with the same --id to retry it safely\n"
    "  --timeout D        how long to wait for the server (default 10s; 0s: forever)\n"
    "  --count N          subscribe: exit after N events\n"
    "  -h, --help         this help; 'smsx COMMAND --help' for one command\n"
    "  --                 the words after it are arguments, even if they start with --\n"
    "\n"
    "exit status: 0 ok, 1 the server answered an error, 2 usage error, 3 no answer\n"
    "\n"
    "commands:\n";

struct Invocation {
  SettingFlags settings;
  bool json = false, help = false;
  std::string id;
  uint64_t timeout_ms = kTimeoutMsDefault;
  bool timeout_given = false;
  uint64_t count = 0;
  std::vector<std::string> words;  // the command and its positional arguments
  std::vector<std::pair<std::string, std::string>> opts;  // the command's own --flags
};

std::string global_help() {
  std::string out = kGlobalHelp;
  for (const Command& c : commands()) {
    char line[256];
    std::snprintf(line, sizeof line, "  %-17s %s\n", c.words, c.summary);
    out += line;
  }
  out += "  call OP [FIELD=TEXT|FIELD:=JSON]...  any op by its wire name\n";
  out += "\nexample: smsx deposit 1001 500 --method card --ref r-1\n";
  return out;
}

[[noreturn]] void usage_error(const std::string& problem, const Command* c) {
  std::fprintf(stderr, "smsx: %s\n", problem.c_str());
  if (c != nullptr) {
    std::fprintf(stderr, "usage: %s\nrun 'smsx %s --help' for details\n", usage_line(*c).c_str(),
                 c->words);
  } else {
    std::fprintf(stderr, "usage: smsx [FLAGS] COMMAND [ARGS]; run 'smsx --help' for the list\n");
  }
  std::exit(kExitUsage);
}

bool parse_u64(const std::string& v, uint64_t* out) {
  char* end = nullptr;
  *out = std::strtoull(v.c_str(), &end, 10);
  return !v.empty() && v[0] != '-' && *end == '\0';
}

Invocation parse_args(int argc, char** argv) {
  Invocation inv;
  bool flags_done = false;  // after "--" every word is an argument (an SMS text "--x")
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (flags_done) {
      inv.words.push_back(a);
      continue;
    }
    if (a == "--") {
      flags_done = true;
      continue;
    }
    if (a == "-h" || a == "--help") {
      inv.help = true;
      continue;
    }
    if (a == "--json") {
      inv.json = true;
      continue;
    }
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
      inv.words.push_back(a);
      continue;
    }
    std::string value;
    if (size_t eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      usage_error("missing value for " + a, nullptr);
    }
    if (a == "--addr") {
      inv.settings.address = value;
    } else if (a == "--token") {
      inv.settings.token = value;
    } else if (a == "--config") {
      inv.settings.config_path = value;
    } else if (a == "--gateway") {
      inv.settings.gateway = value;
    } else if (a == "--id") {
      if (value.empty() || value.size() > 64) usage_error("--id: 1 to 64 bytes", nullptr);
      inv.id = value;
    } else if (a == "--timeout") {
      auto ms = net::parse_duration_ms(value);
      if (!ms) usage_error("--timeout: expected a duration like 10s or 500ms", nullptr);
      inv.timeout_ms = *ms;
      inv.timeout_given = true;
    } else if (a == "--count") {
      if (!parse_u64(value, &inv.count)) usage_error("--count: expected a number", nullptr);
    } else {
      inv.opts.emplace_back(a, value);
    }
  }
  return inv;
}

// A fresh id for this invocation: a random 48-bit prefix, so that two invocations never
// send the same id (the server would answer ID_REUSED, or replay an old reply).
std::string random_id() {
  unsigned char bytes[6];
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    std::perror("smsx: getrandom");
    std::exit(kExitUnreachable);
  }
  char out[32] = "cli-";
  for (size_t i = 0; i < sizeof bytes; ++i) {
    std::snprintf(out + 4 + 2 * i, 3, "%02x", bytes[i]);
  }
  return std::string(out) + "-1";
}

[[noreturn]] void unreachable(const std::string& error) {
  std::fprintf(stderr, "smsx: %s\n", error.c_str());
  std::exit(kExitUnreachable);
}

// subscribe: print events until --count of them, the timeout (if given) or the end.
int stream_events(Client* client, const Invocation& inv) {
  client->set_timeout(inv.timeout_given ? inv.timeout_ms : 0);
  for (uint64_t n = 0; inv.count == 0 || n < inv.count; ++n) {
    std::string error;
    auto line = client->read_event(&error);
    if (!line) unreachable(error);
    std::string text = inv.json ? *line : render_event(*line);
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
  }
  return kExitOk;
}

// `smsx call OP ...`: a command made up for an op given by its wire name.
const Command* call_command(const Invocation& inv, Command* storage) {
  if (inv.words.empty() || inv.words[0] != "call") return nullptr;
  if (inv.help) return nullptr;
  if (inv.words.size() < 2) usage_error("call: missing OP (an op's wire name)", nullptr);
  auto op = net::op_kind_from_name(inv.words[1]);
  if (!op) usage_error("call: unknown op '" + inv.words[1] + "'", nullptr);
  *storage = Command{"call", *op, {}, {}, "any op by its wire name"};
  return storage;
}

int run(int argc, char** argv) {
  Invocation inv = parse_args(argc, argv);
  size_t used = 0;
  Command call_storage;
  const Command* call = call_command(inv, &call_storage);
  const Command* c = call ? call : find_command(inv.words, &used);
  if (inv.help) {
    std::fputs(c ? command_help(*c).c_str() : global_help().c_str(), stdout);
    return kExitOk;
  }
  if (inv.words.empty()) usage_error("no command", nullptr);
  if (c == nullptr) usage_error("unknown command '" + inv.words[0] + "'", nullptr);
  for (const auto& [flag, value] : inv.opts) {
    bool known = false;
    for (const OptSpec& o : c->opts) known = known || flag == o.flag;
    if (!known) usage_error("unknown flag " + flag, c);
  }
  if (inv.count != 0 && c->op != net::OpKind::kSubscribe) {
    usage_error("--count is for subscribe only", c);
  }
  std::string error;
  std::span<const std::string> positional(inv.words.data() + used, inv.words.size() - used);
  std::optional<std::string> fields;
  if (call != nullptr) {
    fields = build_call_fields(std::span(inv.words).subspan(2), &error);
    if (!fields) usage_error("call: " + error, nullptr);
  } else {
    fields = build_fields(*c, positional, inv.opts, &error);
    if (!fields) usage_error(error, c);
  }

  auto settings = load_settings(inv.settings);
  if (!settings) usage_error(settings.error(), nullptr);
  auto token = token_for(*settings, c->op);
  if (!token) usage_error(token.error(), nullptr);

  std::string id = inv.id;
  if (id.empty() && net::needs_id(c->op)) id = random_id();
  std::string hello = "{\"id\":\"hello\",\"op\":\"hello\",\"token\":" + json_string(*token) + "}\n";
  SMSX_ASSERT(!net::needs_id(c->op) || !id.empty());  // mutating: always an id
  std::string request = "{";
  if (!id.empty()) request += "\"id\":" + json_string(id) + ",";
  request += "\"op\":\"" + std::string(net::op_name(c->op)) + "\"" + *fields + "}\n";

  Client client;
  if (!client.connect(settings->address, inv.timeout_ms, &error)) unreachable(error);
  const bool only_hello = c->op == net::OpKind::kHello;
  if (!client.send(only_hello ? hello : hello + request, &error)) unreachable(error);
  auto hello_reply = client.read_reply(&error);
  if (!hello_reply) unreachable(error);
  if (!reply_ok(*hello_reply) || only_hello) {
    bool ok = reply_ok(*hello_reply);
    if (inv.json) {
      std::printf("%s\n", hello_reply->c_str());
    } else if (ok) {
      std::fputs(render_reply(*hello_reply).c_str(), stdout);
    } else {
      std::fprintf(stderr, "smsx: hello refused: %s\n", render_error(*hello_reply).c_str());
    }
    return ok ? kExitOk : kExitRefused;
  }
  auto reply = client.read_reply(&error);
  if (!reply) unreachable(error);
  const bool ok = reply_ok(*reply);
  if (inv.json) {
    std::printf("%s\n", reply->c_str());
  } else if (ok) {
    std::fputs(render_reply(*reply).c_str(), stdout);
  } else {
    std::fprintf(stderr, "smsx: %s\n", render_error(*reply).c_str());
  }
  std::fflush(stdout);
  if (!ok) return kExitRefused;
  if (c->op == net::OpKind::kSubscribe) return stream_events(&client, inv);
  return kExitOk;
}

}  // namespace
}  // namespace smsx::cli

int main(int argc, char** argv) { return smsx::cli::run(argc, argv); }
