#include "tools/cli/settings.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

namespace smsx::cli {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// The file a CLI configuration comes from: "" when none was asked for and the default
// one does not exist.
std::string config_path(const SettingFlags& flags) {
  if (!flags.config_path.empty()) return flags.config_path;
  if (std::string p = env("SMSX_CONFIG"); !p.empty()) return p;
  std::string base = env("XDG_CONFIG_HOME");
  if (base.empty()) {
    std::string home = env("HOME");
    if (home.empty()) return "";
    base = home + "/.config";
  }
  std::string p = base + "/smsx/cli.toml";
  std::ifstream probe(p);
  return probe ? p : "";
}

struct FileSettings {
  std::string address, token, gateway;
  std::vector<net::GatewayConfig> gateways;
};

net::Result<std::vector<net::GatewayConfig>> load_gateways_file(const std::string& path) {
  std::string text;
  if (!read_file(path, &text)) return net::Error{path + ": cannot read"};
  return net::parse_gateways_toml(text, path);
}

// A gateways file as smsxd writes it, or a CLI file (address, token, gateway,
// gateways_file). A relative gateways_file is relative to the CLI file's folder.
net::Result<FileSettings> load_file(const std::string& path) {
  std::string text;
  if (!read_file(path, &text)) return net::Error{path + ": cannot read (--config)"};
  FileSettings out;
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return net::Error{path + ":" + std::to_string(e.source().begin.line) +
                      ": invalid TOML: " + std::string(e.description())};
  }
  if (root.contains("gateways")) {
    auto gateways = net::parse_gateways_toml(text, path);
    if (!gateways) return net::Error{gateways.error()};
    out.gateways = std::move(*gateways);
    return out;
  }
  std::string gateways_file;
  for (const auto& [key, node] : root) {
    const std::string_view k = key.str();
    const auto* value = node.as_string();
    if (value == nullptr)
      return net::Error{path + ": key '" + std::string(k) + "': expected a string"};
    if (k == "address") {
      out.address = value->get();
    } else if (k == "token") {
      out.token = value->get();
    } else if (k == "gateway") {
      out.gateway = value->get();
    } else if (k == "gateways_file") {
      gateways_file = value->get();
    } else {
      return net::Error{path + ": unknown key '" + std::string(k) +
                        "' (expected address, token, gateway, gateways_file or [[gateways]])"};
    }
  }
  if (!gateways_file.empty()) {
    if (gateways_file.front() != '/') {
      size_t slash = path.rfind('/');
      if (slash != std::string::npos) gateways_file = path.substr(0, slash + 1) + gateways_file;
    }
    auto gateways = load_gateways_file(gateways_file);
    if (!gateways) return net::Error{gateways.error()};
    out.gateways = std::move(*gateways);
  }
  return out;
}

// Order in which roles are tried for an op several roles may do.
constexpr net::Role kPreference[] = {net::Role::kAdmin, net::Role::kCustomer, net::Role::kPayments,
                                     net::Role::kSupplier};

}  // namespace

net::Result<Settings> load_settings(const SettingFlags& flags) {
  Settings s;
  std::string address = !flags.address.empty() ? flags.address : env("SMSX_ADDR");
  s.token = !flags.token.empty() ? flags.token : env("SMSX_TOKEN");
  s.gateway = !flags.gateway.empty() ? flags.gateway : env("SMSX_GATEWAY");
  s.source = !flags.token.empty() ? "--token" : "SMSX_TOKEN";
  const std::string path = config_path(flags);
  if (!path.empty()) {  // read even when flags cover it: a broken file should be said
    auto file = load_file(path);
    if (!file) return net::Error{file.error()};
    if (address.empty()) address = file->address;
    if (s.token.empty()) {
      s.token = file->token;
      s.gateways = std::move(file->gateways);
      s.source = path;
    }
    if (s.gateway.empty()) s.gateway = file->gateway;
  }
  if (address.empty()) address = kDefaultAddress;
  auto endpoint = net::parse_endpoint(address, net::HostKind::kIpLiteralOrName);
  if (!endpoint) {
    return net::Error{"bad address '" + address + "': expected HOST:PORT, e.g. 127.0.0.1:7700"};
  }
  s.address = *endpoint;
  return s;
}

net::Result<std::string> token_for(const Settings& settings, net::OpKind op) {
  if (!settings.token.empty()) return settings.token;
  if (settings.gateways.empty()) {
    return net::Error{
        "no token: give --token, set SMSX_TOKEN, or write one in ~/.config/smsx/cli.toml "
        "(or point --config at smsxd's gateways.toml)"};
  }
  if (!settings.gateway.empty()) {
    for (const auto& g : settings.gateways) {
      if (g.name == settings.gateway) return g.token;
    }
    return net::Error{"no gateway named '" + settings.gateway + "' in " + settings.source};
  }
  for (net::Role role : kPreference) {
    if (!net::allowed(role, op)) continue;
    for (const auto& g : settings.gateways) {
      if (g.role == role) return g.token;
    }
  }
  return net::Error{"no gateway in " + settings.source + " may do " +
                    std::string(net::op_name(op))};
}

}  // namespace smsx::cli
