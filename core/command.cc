#include "core/command.h"

namespace smsx {

std::string_view order_state_name(OrderState s) {
  switch (s) {
    case OrderState::kWaiting:
      return "waiting";
    case OrderState::kReceived:
      return "received";
    case OrderState::kRetry:
      return "retry";
    case OrderState::kFinished:
      return "finished";
    case OrderState::kCancelled:
      return "cancelled";
    case OrderState::kExpired:
      return "expired";
    case OrderState::kDisputed:
      return "disputed";
    case OrderState::kCredited:
      return "credited";
  }
  return "?";
}

std::string_view pay_method_name(PayMethod m) {
  switch (m) {
    case PayMethod::kCard:
      return "card";
    case PayMethod::kCrypto:
      return "crypto";
    case PayMethod::kNone:
      break;
  }
  return "";
}

std::string_view event_name(EventKind k) {
  switch (k) {
    case EventKind::kOrderSms:
      return "order.sms";
    case EventKind::kOrderExpired:
      return "order.expired";
    case EventKind::kOrderFinished:
      return "order.finished";
    case EventKind::kRefundPayout:
      return "refund.payout";
  }
  return "?";
}

}  // namespace smsx
