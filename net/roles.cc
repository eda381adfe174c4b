#include "net/roles.h"

#include <algorithm>
#include <array>

#include "core/assert.h"

namespace smsx::net {
namespace {

constexpr std::uint8_t bit(Role role) { return std::uint8_t{1} << static_cast<unsigned>(role); }

constexpr std::uint8_t kCustomer = bit(Role::kCustomer);
constexpr std::uint8_t kSupplier = bit(Role::kSupplier);
constexpr std::uint8_t kPayments = bit(Role::kPayments);
constexpr std::uint8_t kAdmin = bit(Role::kAdmin);
constexpr std::uint8_t kReplica = bit(Role::kReplica);
constexpr std::uint8_t kAnyRole = kCustomer | kSupplier | kPayments | kAdmin | kReplica;

struct OpInfo {
  OpKind kind;
  std::string_view name;
  std::uint8_t roles;  // bit(role) for each role that may do it (PROTOCOL.md "role" column)
  bool parsed;         // the parser accepts the name
};

// One row per OpKind, in enum order (checked below).
constexpr std::array<OpInfo, kOpKindCount> kOps = {{
    {OpKind::kBalance, "balance", kCustomer | kPayments | kAdmin, true},
    {OpKind::kDeposit, "deposit", kPayments, true},
    {OpKind::kDepositRefund, "deposit.refund", kPayments, true},
    {OpKind::kOrderPlace, "order.place", kCustomer, true},
    {OpKind::kOrderGet, "order.get", kCustomer | kAdmin, true},
    {OpKind::kOrderCancel, "order.cancel", kCustomer, true},
    {OpKind::kOrderFinish, "order.finish", kCustomer, true},
    {OpKind::kOrderRetry, "order.retry", kCustomer, true},
    {OpKind::kOrderDispute, "order.dispute", kCustomer, true},
    {OpKind::kOrdersActive, "orders.active", kCustomer | kAdmin, true},
    {OpKind::kNumberAdd, "number.add", kSupplier, true},
    {OpKind::kNumberRemove, "number.remove", kSupplier, true},
    {OpKind::kSmsDeliver, "sms.deliver", kSupplier, true},
    {OpKind::kPayoutsPending, "payouts.pending", kPayments, true},
    {OpKind::kPayoutConfirm, "payout.confirm", kPayments, true},
    {OpKind::kStock, "stock", kCustomer | kAdmin, true},
    {OpKind::kPriceSet, "price.set", kAdmin, true},
    {OpKind::kDisputeResolve, "dispute.resolve", kAdmin, true},
    {OpKind::kStats, "stats", kAdmin, true},
    {OpKind::kHello, "hello", kAnyRole, true},
    {OpKind::kSubscribe, "subscribe", kCustomer | kPayments | kAdmin, true},
    {OpKind::kSnapshot, "snapshot", kAdmin, true},
    {OpKind::kPromote, "promote", kAdmin, true},
    {OpKind::kDigest, "digest", kAdmin, true},
    {OpKind::kReplicate, "replicate", kReplica, true},
}};

constexpr bool table_in_enum_order() {
  for (std::size_t i = 0; i < kOps.size(); ++i) {
    if (static_cast<std::size_t>(kOps[i].kind) != i) return false;
  }
  return true;
}
static_assert(table_in_enum_order());
// Engine ops map one to one onto smsx::Op, which starts at 1 and ends with tick.
static_assert(static_cast<int>(Op::kBalance) == 1);
static_assert(static_cast<int>(OpKind::kStats) + 1 == static_cast<int>(Op::kStats));
static_assert(static_cast<int>(Op::kTick) == static_cast<int>(Op::kStats) + 1);

// Every request names its op, so the name is found with one comparison: a hash of its
// length and three of its bytes picks the only candidate. The mix was chosen so that no two
// parsed names share a slot (checked below; a new op may need another mix).
constexpr std::size_t kOpHashSlots = 128;
constexpr std::size_t op_name_hash(std::string_view name) {
  const auto byte = [&](std::size_t i) { return std::size_t{static_cast<unsigned char>(name[i])}; };
  return (name.size() + 3 * byte(0) + 4 * byte(name.size() - 1) + byte(name.size() / 2)) %
         kOpHashSlots;
}

// Slot -> index into kOps, or -1; -2 marks a collision (refused at compile time).
constexpr std::array<std::int8_t, kOpHashSlots> kOpByHash = [] {
  std::array<std::int8_t, kOpHashSlots> slots{};
  slots.fill(-1);
  for (std::size_t i = 0; i < kOps.size(); ++i) {
    if (!kOps[i].parsed) continue;
    std::int8_t& slot = slots[op_name_hash(kOps[i].name)];
    slot = slot == -1 ? static_cast<std::int8_t>(i) : std::int8_t{-2};
  }
  return slots;
}();
static_assert(std::find(kOpByHash.begin(), kOpByHash.end(), -2) == kOpByHash.end(),
              "two op names share a slot of op_name_hash: change its mix");

const OpInfo& info(OpKind op) {
  SMSX_ASSERT(op < OpKind::kCount);
  return kOps[static_cast<std::size_t>(op)];
}

}  // namespace

std::string_view op_name(OpKind op) { return info(op).name; }

std::optional<OpKind> op_kind_from_name(std::string_view name) {
  if (name.empty()) return std::nullopt;
  const std::int8_t i = kOpByHash[op_name_hash(name)];
  if (i < 0 || kOps[static_cast<std::size_t>(i)].name != name) return std::nullopt;
  return kOps[static_cast<std::size_t>(i)].kind;
}

std::optional<Op> engine_op(OpKind op) {
  if (op > OpKind::kStats) return std::nullopt;
  return static_cast<Op>(static_cast<int>(op) + 1);
}

bool needs_id(OpKind op) {
  std::optional<Op> e = engine_op(op);
  return e.has_value() && is_mutating(*e);
}

bool allowed(Role role, OpKind op) { return (info(op).roles & bit(role)) != 0; }

smsx::Error access_error(std::optional<Role> role, std::optional<OpKind> op) {
  if (op == OpKind::kHello) return smsx::Error::kNone;
  if (!role) return smsx::Error::kUnauthorized;
  if (op && !allowed(*role, *op)) return smsx::Error::kForbidden;
  return smsx::Error::kNone;
}

}  // namespace smsx::net
