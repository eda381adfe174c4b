// The operations of the wire protocol (PROTOCOL.md "Operations") and which roles may do each.
//
// OpKind names every op a gateway can send: the engine's ops (one per smsx::Op except
// tick, which only the loop issues) and the server's own (hello, subscribe, snapshot,
// promote, digest, and replicate for the standby's log stream). The request parser produces one,
// the server authorizes it here before anything else looks at the request (PROTOCOL.md:
// UNAUTHORIZED and FORBIDDEN come before every other error), then dispatches on it.
//
// Pure functions over constant tables; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/command.h"
#include "core/errors.h"
#include "net/config.h"

namespace smsx::net {

enum class OpKind : std::uint8_t {
  // Engine ops, in the order of smsx::Op.
  kBalance,
  kDeposit,
  kDepositRefund,
  kOrderPlace,
  kOrderGet,
  kOrderCancel,
  kOrderFinish,
  kOrderRetry,
  kOrderDispute,
  kOrdersActive,
  kNumberAdd,
  kNumberRemove,
  kSmsDeliver,
  kPayoutsPending,
  kPayoutConfirm,
  kStock,
  kPriceSet,
  kDisputeResolve,
  kStats,
  // Server ops: answered by the server itself, never applied to the engine.
  kHello,
  kSubscribe,
  kSnapshot,
  kPromote,
  kDigest,
  // A standby asks for the log stream (docs/protocol.md "replicate").
  kReplicate,
  kCount,
};

inline constexpr std::size_t kOpKindCount = static_cast<std::size_t>(OpKind::kCount);

// The wire name: "order.place", "hello", ...
std::string_view op_name(OpKind op);
// The op a request names, if the parser accepts that name.
std::optional<OpKind> op_kind_from_name(std::string_view name);
// The engine op behind a wire op; nullopt for server ops.
std::optional<Op> engine_op(OpKind op);
// True for ops whose requests need an `id` (the idempotency key): engine ops that may
// change state.
bool needs_id(OpKind op);

// May a connection authenticated as `role` do `op`? hello: every role.
bool allowed(Role role, OpKind op);

// The role check of one request, done before its other errors. `role` is nullopt until the
// connection's hello succeeded; `op` is nullopt when the line did not name a known op.
// Returns kUnauthorized (no hello yet, for anything but a hello), kForbidden (the role may
// not do that op), or kNone (go on: answer the parse error, if any, or apply it).
smsx::Error access_error(std::optional<Role> role, std::optional<OpKind> op);

}  // namespace smsx::net
