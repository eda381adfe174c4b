// Request parameters: the query string and an application/x-www-form-urlencoded body,
// decoded into (name, value) pairs.
//
// Decoding follows the WHATWG urlencoded rules that PHP's $_GET/$_POST also use: pairs are
// separated by '&', the name ends at the first '=', '+' is a space, "%XY" is the byte 0xXY.
// A '%' not followed by two hex digits is kept as it is (never an error), empty pairs are
// skipped. Values are bytes; nothing checks UTF-8 (the gateway validates what it uses).
//
// Lookup: the last pair with a name wins, and the body is added after the query string, so a
// form field overrides a query parameter of the same name (PHP's $_REQUEST with the default
// request_order "GP").
//
// Bounds: at most kParamsMax pairs; add() returns false beyond that.
//
// Storage: the decoded names and values are kept in one buffer (decoding never makes a part
// longer), so a request's parameters cost one or two allocations whatever their number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smsx::activate {

// Appends the decoded form of `in` to *out.
void form_decode(std::string_view in, std::string* out);

class Params {
 public:
  // Adds every pair of `encoded` (a query string or a form body); false if the total would
  // exceed kParamsMax pairs (the pairs that fit are kept).
  bool add(std::string_view encoded);
  // The value of the last pair named `name`.
  std::optional<std::string_view> get(std::string_view name) const;
  std::size_t size() const { return pairs_.size(); }
  // Forgets every pair, keeping the memory for the next request.
  void clear() {
    bytes_.clear();
    pairs_.clear();
  }

 private:
  struct Pair {
    std::uint32_t name = 0, name_size = 0, value = 0, value_size = 0;  // offsets into bytes_
  };
  std::string bytes_;
  std::vector<Pair> pairs_;
};

}  // namespace smsx::activate
