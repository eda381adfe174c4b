#include "tools/activate_gateway/order_view.h"

#include <string>

namespace smsx::activate {

bool parse_order(simdjson::dom::element e, OrderView* out) {
  if (e["order"].get(out->order) != simdjson::SUCCESS) return false;
  if (e["account"].get(out->account) != simdjson::SUCCESS) return false;
  if (e["state"].get(out->state) != simdjson::SUCCESS) return false;
  if (e["number"].get(out->number) != simdjson::SUCCESS) return false;
  if (e["service"].get(out->service) != simdjson::SUCCESS) return false;
  if (e["country"].get(out->country) != simdjson::SUCCESS) return false;
  if (e["price"].get(out->price) != simdjson::SUCCESS) return false;
  if (e["created_at"].get(out->created_at) != simdjson::SUCCESS) return false;
  simdjson::dom::array sms;
  if (e["sms"].get(sms) != simdjson::SUCCESS) return false;
  out->sms.clear();
  for (simdjson::dom::element s : sms) {
    SmsView view;
    if (s["text"].get(view.text) != simdjson::SUCCESS) return false;
    if (s["code"].get(view.code) != simdjson::SUCCESS) view.code = {};  // null
    out->sms.push_back(view);
  }
  return true;
}

std::string_view newest_code(const OrderView& order) {
  if (order.sms.empty()) return {};
  const SmsView& sms = order.sms.back();
  return sms.code.empty() ? sms.text : sms.code;
}

bool state_active(std::string_view state) {
  return state == "waiting" || state == "received" || state == "retry";
}

bool state_refunded(std::string_view state) { return state == "cancelled" || state == "expired"; }

std::string status_text(const OrderView& order) {
  if (order.state == "waiting") return "STATUS_WAIT_CODE";
  if (state_refunded(order.state)) return "STATUS_CANCEL";
  if (order.state == "retry") return "STATUS_WAIT_RETRY:" + std::string(newest_code(order));
  if (order.sms.empty()) return "STATUS_CANCEL";          // closed without an SMS
  return "STATUS_OK:" + std::string(newest_code(order));  // received, finished, disputed, …
}

}  // namespace smsx::activate
