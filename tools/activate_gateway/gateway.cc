#include "tools/activate_gateway/gateway.h"

#include <charconv>
#include <cstring>

#include "tools/activate_gateway/money.h"

namespace smsx::activate {

bool engine_name_valid(std::string_view name) {
  if (name.empty() || name.size() > 16) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

bool order_id_valid(std::string_view id) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
  return !id.empty() && id.size() <= 20 && ec == std::errc() && end == id.data() + id.size();
}

Gateway::Gateway(const GatewayConfig& config, KeyTable keys, Upstream* upstream,
                 net::Registry* metrics)
    : config_(config), keys_(std::move(keys)), upstream_(upstream), metrics_(metrics) {
  rate_limited_ = &metrics->counter("smsx_activate_rate_limited_total",
                                    "Requests refused by limits.requests_per_key_per_second.");
}

void Gateway::count(std::string_view action, std::string_view reply) {
  // The key "action reply", built on the stack (both parts are short).
  char buffer[96];
  std::string long_key;
  std::string_view key;
  const std::size_t size = action.size() + 1 + reply.size();
  if (size <= sizeof buffer) {
    std::memcpy(buffer, action.data(), action.size());
    buffer[action.size()] = ' ';
    std::memcpy(buffer + action.size() + 1, reply.data(), reply.size());
    key = std::string_view(buffer, size);
  } else {
    long_key.append(action).append(" ").append(reply);
    key = long_key;
  }
  auto it = replies_.find(key);
  if (it == replies_.end()) {
    // Both labels come from this program's fixed sets, never from client input.
    net::Counter& counter =
        metrics_->counter("smsx_activate_replies_total", "Answers by action and reply code.",
                          {{"action", action}, {"reply", reply}});
    it = replies_.emplace(std::string(key), &counter).first;
  }
  it->second->inc();
}

void Gateway::text(const Call& call, std::string_view text) {
  count(call.action, text.substr(0, text.find(':')));
  call.done(ActivateReply{text, false});
}

void Gateway::json(const Call& call, std::string body) {
  count(call.action, "JSON");
  call.done(ActivateReply{body, true});
}

void Gateway::handle(const Params& params, std::uint64_t now_ms, ReplyDone done) {
  Call call{"none", 0, std::move(done)};
  const auto key = params.get("api_key");
  if (!key || key->empty()) return text(call, "NO_KEY");
  KeyEntry* entry = keys_.find(*key);
  if (entry == nullptr) return text(call, "BAD_KEY");
  call.account = entry->account;
  if (!take_token(entry, config_.limits.requests_per_key_per_second, now_ms)) {
    rate_limited_->inc();
    call.action = "limited";
    return text(call, "ERROR_SQL");
  }
  const std::string_view action = params.get("action").value_or("");
  if (action == "getBalance") {
    call.action = "getBalance";
    get_balance(std::move(call));
  } else if (action == "getNumber") {
    call.action = "getNumber";
    get_number(std::move(call), params, false);
  } else if (action == "getNumberV2") {
    call.action = "getNumberV2";
    get_number(std::move(call), params, true);
  } else if (action == "getStatus") {
    call.action = "getStatus";
    get_status(std::move(call), params);
  } else if (action == "setStatus") {
    call.action = "setStatus";
    set_status(std::move(call), params);
  } else if (action == "getActiveActivations") {
    call.action = "getActiveActivations";
    get_active(std::move(call));
  } else if (action == "getNumbersStatus") {
    call.action = "getNumbersStatus";
    get_numbers_status(std::move(call), params);
  } else if (action == "getPrices") {
    call.action = "getPrices";
    get_prices(std::move(call), params);
  } else {
    call.action = "unknown";
    text(call, "BAD_ACTION");
  }
}

void Gateway::get_balance(Call call) {
  std::string fields = ",\"account\":" + std::to_string(call.account);
  upstream_->call("balance", fields, [this, call = std::move(call)](const UpstreamReply& r) {
    if (!r.delivered) return text(call, "ERROR_SQL");
    std::int64_t available = 0;
    if (r.ok) {
      if (r.doc["available"].get(available) != simdjson::SUCCESS) return text(call, "ERROR_SQL");
    } else if (r.error != "NO_ACCOUNT") {  // never deposited: a balance of zero
      return text(call, "ERROR_SQL");
    }
    std::string reply = "ACCESS_BALANCE:";
    append_money(&reply, available, config_.money_scale);
    text(call, reply);
  });
}

}  // namespace smsx::activate
