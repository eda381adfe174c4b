// The SMS-Activate actions on top of smsxd: one request's parameters in, one reply body out.
//
// handle() resolves the API key (NO_KEY, BAD_KEY), applies the key's request rate (a
// limited request is answered ERROR_SQL and counted), then runs the action, which makes one
// to three smsxd requests through Upstream and answers through `done` exactly once (maybe
// before handle() returns). docs/activate_gateway.md lists every action and reply; the
// mapping from engine errors to protocol replies is in gateway_orders.cc.
//
// Ownership: an order is shown or changed only after order.get says it belongs to the key's
// account; another account's order is NO_ACTIVATION, exactly as an order that does not exist,
// so ids of other users' orders can be neither probed nor touched.
//
// Single-threaded: the loop thread owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "net/metrics.h"
#include "tools/activate_gateway/config.h"
#include "tools/activate_gateway/form.h"
#include "tools/activate_gateway/keys_file.h"
#include "tools/activate_gateway/upstream.h"

namespace smsx::activate {

struct ActivateReply {
  std::string_view body;  // valid only during the ReplyDone call
  bool json = false;      // Content-Type application/json rather than text/plain
};

using ReplyDone = std::function<void(const ActivateReply&)>;

class Gateway {
 public:
  Gateway(const GatewayConfig& config, KeyTable keys, Upstream* upstream, net::Registry* metrics);

  void handle(const Params& params, std::uint64_t now_ms, ReplyDone done);
  // Replaces the keys (SIGHUP); rate buckets start full again.
  void set_keys(KeyTable keys) { keys_ = std::move(keys); }

 private:
  struct Call {
    std::string_view action;  // a static string: the metric label
    std::uint64_t account;
    ReplyDone done;
  };
  // Finishes `call` with a plain-text reply `text` (counted under its first word).
  void text(const Call& call, std::string_view text);
  void json(const Call& call, std::string body);
  void count(std::string_view action, std::string_view reply);

  void get_balance(Call call);
  void get_number(Call call, const Params& params, bool v2);
  void get_status(Call call, const Params& params);
  void set_status(Call call, const Params& params);
  void get_active(Call call);
  void get_numbers_status(Call call, const Params& params);
  void get_prices(Call call, const Params& params);
  // After order.place said NO_PRICE: BAD_SERVICE when nothing at all is priced for the
  // service, NO_NUMBERS otherwise.
  void no_price(Call call, std::string service);
  void change(Call call, std::string_view op, std::string_view order_id, std::string_view ok_text);

  // Heterogeneous lookup: count() finds a counter without building a std::string.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  const GatewayConfig& config_;
  KeyTable keys_;
  Upstream* upstream_;
  net::Registry* metrics_;
  // "action reply" -> counter
  std::unordered_map<std::string, net::Counter*, KeyHash, std::equal_to<>> replies_;
  std::string scratch_;  // a reply being built (reused: no allocation per request)
  net::Counter* rate_limited_ = nullptr;
};

// Engine names: 1 to 16 characters of [a-z0-9_-].
bool engine_name_valid(std::string_view name);
// An activation id: 1 to 20 digits that fit an unsigned 64-bit integer.
bool order_id_valid(std::string_view id);

}  // namespace smsx::activate
