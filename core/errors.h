// Domain results of the engine, named exactly as PROTOCOL.md's error codes. A rejection is
// a value, never an exception; the first applicable one in each op's documented order wins.
#pragma once

#include <cstdint>
#include <string_view>

namespace smsx {

enum class Error : uint8_t {
  kNone = 0,
  kBadRequest,
  kUnknownOp,
  kFrameTooLarge,
  kUnauthorized,
  kForbidden,
  kIdReused,
  kNoAccount,
  kNoBalance,
  kNoNumbers,
  kNoPrice,
  kMaxPriceTooLow,
  kOrderNotFound,
  kOrderClosed,
  kCodeReceived,
  kEarlyCancel,
  kNoSmsYet,
  kDuplicateRef,
  kDepositNotFound,
  kRefundNotFound,
  kRefundWindowClosed,
  kDepositSpent,
  kAlreadyRefunded,
  kInsufficientAvailable,
  kRefundDestinationMismatch,
  kNumberExists,
  kNumberNotFound,
  kReadOnly,
  kOverloaded,
  kCount,
};

constexpr std::string_view error_name(Error e) {
  constexpr std::string_view kNames[] = {
      "OK",
      "BAD_REQUEST",
      "UNKNOWN_OP",
      "FRAME_TOO_LARGE",
      "UNAUTHORIZED",
      "FORBIDDEN",
      "ID_REUSED",
      "NO_ACCOUNT",
      "NO_BALANCE",
      "NO_NUMBERS",
      "NO_PRICE",
      "MAX_PRICE_TOO_LOW",
      "ORDER_NOT_FOUND",
      "ORDER_CLOSED",
      "CODE_RECEIVED",
      "EARLY_CANCEL",
      "NO_SMS_YET",
      "DUPLICATE_REF",
      "DEPOSIT_NOT_FOUND",
      "REFUND_NOT_FOUND",
      "REFUND_WINDOW_CLOSED",
      "DEPOSIT_SPENT",
      "ALREADY_REFUNDED",
      "INSUFFICIENT_AVAILABLE",
      "REFUND_DESTINATION_MISMATCH",
      "NUMBER_EXISTS",
      "NUMBER_NOT_FOUND",
      "READ_ONLY",
      "OVERLOADED",
  };
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(Error::kCount));
  return kNames[static_cast<size_t>(e)];
}

}  // namespace smsx
