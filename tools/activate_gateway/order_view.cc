#include "tools/activate_gateway/order_view.h"

#include <string>

namespace smsx::activate {

bool parse_order(simdjson::dom::element e, OrderView* out) {
  simdjson::dom::object object;
  if (e.get(object) != simdjson::SUCCESS) return false;
  // One pass over the members; the first of each name counts, as a lookup by name would.
  enum : unsigned {
    kOrder = 1,
    kAccount = 2,
    kState = 4,
    kNumber = 8,
    kService = 16,
    kCountry = 32,
    kPrice = 64,
    kCreatedAt = 128,
    kSms = 256,
    kAll = 511
  };
  unsigned seen = 0;
  simdjson::dom::array sms;
  for (const simdjson::dom::key_value_pair field : object) {
    const std::string_view key = field.key;
    unsigned bit = 0;
    simdjson::error_code error = simdjson::SUCCESS;
    if (key == "order") {
      bit = kOrder;
      if ((seen & bit) == 0) error = field.value.get(out->order);
    } else if (key == "account") {
      bit = kAccount;
      if ((seen & bit) == 0) error = field.value.get(out->account);
    } else if (key == "state") {
      bit = kState;
      if ((seen & bit) == 0) error = field.value.get(out->state);
    } else if (key == "number") {
      bit = kNumber;
      if ((seen & bit) == 0) error = field.value.get(out->number);
    } else if (key == "service") {
      bit = kService;
      if ((seen & bit) == 0) error = field.value.get(out->service);
    } else if (key == "country") {
      bit = kCountry;
      if ((seen & bit) == 0) error = field.value.get(out->country);
    } else if (key == "price") {
      bit = kPrice;
      if ((seen & bit) == 0) error = field.value.get(out->price);
    } else if (key == "created_at") {
      bit = kCreatedAt;
      if ((seen & bit) == 0) error = field.value.get(out->created_at);
    } else if (key == "sms") {
      bit = kSms;
      if ((seen & bit) == 0) error = field.value.get(sms);
    }
    if (error != simdjson::SUCCESS) return false;
    seen |= bit;
  }
  if (seen != kAll) return false;
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

void append_status_text(const OrderView& order, std::string* out) {
  if (order.state == "waiting") {
    *out += "STATUS_WAIT_CODE";
  } else if (state_refunded(order.state)) {
    *out += "STATUS_CANCEL";
  } else if (order.state == "retry") {
    *out += "STATUS_WAIT_RETRY:";
    *out += newest_code(order);
  } else if (order.sms.empty()) {
    *out += "STATUS_CANCEL";  // closed without an SMS
  } else {
    *out += "STATUS_OK:";  // received, finished, disputed, …
    *out += newest_code(order);
  }
}

std::string status_text(const OrderView& order) {
  std::string text;
  append_status_text(order, &text);
  return text;
}

}  // namespace smsx::activate
