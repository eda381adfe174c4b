#include "tools/activate_gateway/form.h"

#include "tools/activate_gateway/limits.h"

namespace smsx::activate {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void form_decode(std::string_view in, std::string* out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out->push_back(' ');
    } else if (c == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      out->push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
      i += 2;
    } else {
      out->push_back(c);
    }
  }
}

bool Params::add(std::string_view encoded) {
  while (!encoded.empty()) {
    const std::size_t amp = encoded.find('&');
    const std::string_view pair = encoded.substr(0, amp);
    encoded = amp == std::string_view::npos ? std::string_view() : encoded.substr(amp + 1);
    if (pair.empty()) continue;
    if (pairs_.size() >= kParamsMax) return false;
    const std::size_t eq = pair.find('=');
    std::string name, value;
    form_decode(pair.substr(0, eq), &name);
    if (eq != std::string_view::npos) form_decode(pair.substr(eq + 1), &value);
    pairs_.emplace_back(std::move(name), std::move(value));
  }
  return true;
}

std::optional<std::string_view> Params::get(std::string_view name) const {
  for (auto it = pairs_.rbegin(); it != pairs_.rend(); ++it) {
    if (it->first == name) return std::string_view(it->second);
  }
  return std::nullopt;
}

}  // namespace smsx::activate
