// An order as smsxd's order.get and orders.active show it, read from the reply (views into
// the parsed reply: valid only while the upstream callback runs), and how the protocol shows
// its state.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace smsx::activate {

struct SmsView {
  std::string_view code;  // "" when the SMS had no code
  std::string_view text;
};

struct OrderView {
  std::uint64_t order = 0;
  std::uint64_t account = 0;
  std::string_view state, number, service, country;
  std::int64_t price = 0;
  std::int64_t created_at = 0;
  std::vector<SmsView> sms;  // oldest first
};

// False when a field is missing or ill-typed.
bool parse_order(simdjson::dom::element element, OrderView* out);

// The getStatus reply: STATUS_WAIT_CODE, STATUS_WAIT_RETRY:<code>, STATUS_OK:<code>,
// STATUS_CANCEL. The code shown is the newest SMS's code, or its text when it had none.
std::string status_text(const OrderView& order);
// The same, appended to *out.
void append_status_text(const OrderView& order, std::string* out);

// What the newest SMS shows (its code, else its text); "" when there is none.
std::string_view newest_code(const OrderView& order);

bool state_active(std::string_view state);    // waiting, received, retry
bool state_refunded(std::string_view state);  // cancelled, expired

}  // namespace smsx::activate
