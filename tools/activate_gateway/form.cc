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
  std::size_t i = 0;
  while (i < in.size()) {
    std::size_t plain = i;  // a run of bytes that stay as they are
    while (plain < in.size() && in[plain] != '+' && in[plain] != '%') ++plain;
    out->append(in.data() + i, plain - i);
    i = plain;
    if (i == in.size()) break;
    if (in[i] == '+') {
      out->push_back(' ');
    } else if (i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      out->push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
      i += 2;
    } else {
      out->push_back('%');
    }
    ++i;
  }
}

bool Params::add(std::string_view encoded) {
  bytes_.reserve(bytes_.size() + encoded.size());
  if (pairs_.capacity() == 0) pairs_.reserve(8);
  while (!encoded.empty()) {
    const std::size_t amp = encoded.find('&');
    const std::string_view pair = encoded.substr(0, amp);
    encoded = amp == std::string_view::npos ? std::string_view() : encoded.substr(amp + 1);
    if (pair.empty()) continue;
    if (pairs_.size() >= kParamsMax) return false;
    const std::size_t eq = pair.find('=');
    Pair p;
    p.name = static_cast<std::uint32_t>(bytes_.size());
    form_decode(pair.substr(0, eq), &bytes_);
    p.name_size = static_cast<std::uint32_t>(bytes_.size() - p.name);
    p.value = static_cast<std::uint32_t>(bytes_.size());
    if (eq != std::string_view::npos) form_decode(pair.substr(eq + 1), &bytes_);
    p.value_size = static_cast<std::uint32_t>(bytes_.size() - p.value);
    pairs_.push_back(p);
  }
  return true;
}

std::optional<std::string_view> Params::get(std::string_view name) const {
  const std::string_view bytes = bytes_;
  for (auto it = pairs_.rbegin(); it != pairs_.rend(); ++it) {
    if (bytes.substr(it->name, it->name_size) == name)
      return bytes.substr(it->value, it->value_size);
  }
  return std::nullopt;
}

}  // namespace smsx::activate
