#include "persistence/command_codec.h"

#include <string>

#include "core/assert.h"
#include "core/byte_io.h"
#include "core/limits.h"
#include "persistence/wal_format.h"

namespace smsx::persistence {
namespace {

// The first payload byte. Bits 0-1 are common to every op; bits 2-7 belong to the op and
// must be zero where the op defines none.
constexpr uint8_t kFlagKey = 1 << 0;          // a 16-byte idempotency key follows the time
constexpr uint8_t kFlagBeforeEpoch = 1 << 1;  // the time is kCommandEpochMs minus the varint
constexpr uint8_t kFlagsCommon = kFlagKey | kFlagBeforeEpoch;
// order.place
constexpr uint8_t kFlagPool = 1 << 2;
constexpr uint8_t kFlagOperator = 1 << 3;
constexpr uint8_t kFlagMaxPrice = 1 << 4;
constexpr uint8_t kFlagPackedNames = 1 << 5;  // one byte holds both name lengths
// deposit: the payment method in bits 2-3
constexpr int kMethodShift = 2;
constexpr uint8_t kFlagsMethod = 3 << kMethodShift;
// dispute.resolve
constexpr uint8_t kFlagApprove = 1 << 2;

// The size budget of a typical order.place (account 1001, "wa", "us", no filters, a time
// between 2024 and 2163): flags, time, key, account, packed name lengths, the two names.
constexpr size_t kTypicalPlacePayloadBytes = 1 + 6 + 16 + 2 + 1 + 2 + 2;
static_assert(varint_bytes((uint64_t{1} << 42) - 1) == 6, "139 years of ms in 6 bytes");
static_assert(varint_bytes(1001) == 2);
static_assert(kTypicalPlacePayloadBytes <= kPlaceOrderPayloadBytesMax,
              "a typical place-order record must fit in 48 WAL bytes");

uint8_t op_flags_allowed(Op op) {
  switch (op) {
    case Op::kOrderPlace:
      return kFlagsCommon | kFlagPool | kFlagOperator | kFlagMaxPrice | kFlagPackedNames;
    case Op::kDeposit:
      return kFlagsCommon | kFlagsMethod;
    case Op::kDisputeResolve:
      return kFlagsCommon | kFlagApprove;
    default:
      return kFlagsCommon;
  }
}

bool packable_name(std::string_view s) { return !s.empty() && s.size() <= limits::kNameBytesMax; }

uint8_t op_flags(const Command& c) {
  switch (c.op) {
    case Op::kOrderPlace: {
      uint8_t f = 0;
      if (!c.pool.empty()) f |= kFlagPool;
      if (!c.operator_name.empty()) f |= kFlagOperator;
      if (c.max_price) f |= kFlagMaxPrice;
      if (packable_name(c.service) && packable_name(c.country)) f |= kFlagPackedNames;
      return f;
    }
    case Op::kDeposit:
      SMSX_ASSERT(static_cast<uint8_t>(c.method) <= 2);
      return static_cast<uint8_t>(static_cast<uint8_t>(c.method) << kMethodShift);
    case Op::kDisputeResolve:
      return c.approve ? kFlagApprove : 0;
    default:
      return 0;
  }
}

void encode_fields(const Command& c, const Reply& reply, uint8_t flags, ByteWriter& w) {
  switch (c.op) {
    case Op::kDeposit:
      w.varint(c.account);
      w.varint(static_cast<uint64_t>(c.amount));
      w.bytes(c.ref);
      w.bytes(c.address);
      break;
    case Op::kDepositRefund:
      w.varint(c.target);
      w.bytes(c.address);
      break;
    case Op::kOrderPlace:
      w.varint(c.account);
      if (flags & kFlagPackedNames) {
        w.u8(static_cast<uint8_t>((c.service.size() - 1) << 4 | (c.country.size() - 1)));
        w.raw(c.service);
        w.raw(c.country);
      } else {
        w.bytes(c.service);
        w.bytes(c.country);
      }
      if (flags & kFlagPool) w.bytes(c.pool);
      if (flags & kFlagOperator) w.bytes(c.operator_name);
      if (flags & kFlagMaxPrice) w.varint(static_cast<uint64_t>(*c.max_price));
      break;
    case Op::kOrderCancel:
    case Op::kOrderFinish:
    case Op::kOrderRetry:
    case Op::kDisputeResolve:
      w.varint(c.target);
      break;
    case Op::kOrderDispute:
      w.varint(c.target);
      w.bytes(c.text);
      break;
    case Op::kNumberAdd:
      w.bytes(c.actor);
      w.bytes(c.number);
      w.bytes(c.country);
      w.bytes(c.operator_name);
      w.bytes(c.pool);
      break;
    case Op::kNumberRemove:
      w.bytes(c.actor);
      w.bytes(c.number);
      break;
    case Op::kSmsDeliver:
      w.bytes(c.actor);
      w.bytes(c.number);
      w.bytes(c.text);
      w.bytes(c.sender);
      break;
    case Op::kPayoutConfirm:
      w.varint(c.target);
      w.bytes(c.ref);
      break;
    case Op::kPriceSet:
      w.bytes(c.service);
      w.bytes(c.country);
      w.bytes(c.pool);
      w.varint(static_cast<uint64_t>(c.amount));
      w.varint(static_cast<uint64_t>(c.payout));
      break;
    case Op::kTick: {
      // Ids in expiry order: (deadline, id), mostly ascending, so deltas are small.
      w.varint(c.max_expired);
      w.varint(reply.expired.size());
      uint64_t previous = 0;
      for (uint64_t id : reply.expired) {
        w.zigzag(static_cast<int64_t>(id - previous));
        previous = id;
      }
      break;
    }
    default:
      SMSX_ASSERT(false && "not a mutating op");
  }
}

class FieldDecoder {
 public:
  FieldDecoder(std::span<const uint8_t> payload, DecodedCommand* out)
      : r_(payload), out_(out), c_(out->command) {}

  void decode() {
    flags_ = r_.u8();
    if (r_.ok() && (flags_ & ~op_flags_allowed(c_.op)) != 0) r_.fail("unknown flag bits");
    decode_time();
    if (flags_ & kFlagKey) {
      c_.key.hi = r_.fixed64();
      c_.key.lo = r_.fixed64();
      if (r_.ok() && c_.key.empty()) r_.fail("key flag with an empty key");
    }
    decode_fields();
    if (r_.ok() && !r_.at_end()) r_.fail("trailing bytes");
  }
  const ByteReader& reader() const { return r_; }

 private:
  void decode_time() {
    const uint64_t delta = r_.varint();
    if (!(flags_ & kFlagBeforeEpoch)) {
      if (delta > UINT64_MAX - kCommandEpochMs) r_.fail("time overflows");
      c_.now_ms = kCommandEpochMs + delta;
    } else {
      if (delta == 0 || delta > kCommandEpochMs) r_.fail("bad time before the epoch");
      c_.now_ms = kCommandEpochMs - delta;
    }
  }

  std::string_view str(size_t max_bytes, const char* what) { return r_.bytes(max_bytes, what); }
  std::string_view name(const char* what) { return str(limits::kNameBytesMax, what); }
  std::string_view actor() { return str(SIZE_MAX, ""); }
  std::string_view number() { return str(limits::kPhoneDigitsMax, "number too long"); }

  void decode_fields() {
    switch (c_.op) {
      case Op::kDeposit: {
        const uint8_t method = (flags_ & kFlagsMethod) >> kMethodShift;
        if (method > static_cast<uint8_t>(PayMethod::kCrypto)) r_.fail("bad payment method");
        c_.method = static_cast<PayMethod>(method);
        c_.account = r_.varint();
        c_.amount = static_cast<Amount>(r_.varint());
        c_.ref = str(limits::kRefBytesMax, "ref too long");
        c_.address = str(limits::kAddressBytesMax, "address too long");
        break;
      }
      case Op::kDepositRefund:
        c_.target = r_.varint();
        c_.address =
            str(std::max(limits::kAddressBytesMax, limits::kRefBytesMax), "address too long");
        break;
      case Op::kOrderPlace:
        decode_place();
        break;
      case Op::kOrderCancel:
      case Op::kOrderFinish:
      case Op::kOrderRetry:
        c_.target = r_.varint();
        break;
      case Op::kDisputeResolve:
        c_.target = r_.varint();
        c_.approve = (flags_ & kFlagApprove) != 0;
        break;
      case Op::kOrderDispute:
        c_.target = r_.varint();
        c_.text = str(limits::kDisputeReasonBytesMax, "reason too long");
        break;
      case Op::kNumberAdd:
        c_.actor = actor();
        c_.number = number();
        c_.country = name("country too long");
        c_.operator_name = name("operator too long");
        c_.pool = name("pool too long");
        break;
      case Op::kNumberRemove:
        c_.actor = actor();
        c_.number = number();
        break;
      case Op::kSmsDeliver:
        c_.actor = actor();
        c_.number = number();
        c_.text = str(limits::kSmsTextBytesMax, "SMS text too long");
        c_.sender = str(limits::kSmsSenderBytesMax, "sender too long");
        break;
      case Op::kPayoutConfirm:
        c_.target = r_.varint();
        c_.ref = str(limits::kRefBytesMax, "txid too long");
        break;
      case Op::kPriceSet:
        c_.service = name("service too long");
        c_.country = name("country too long");
        c_.pool = name("pool too long");
        c_.amount = static_cast<Amount>(r_.varint());
        c_.payout = static_cast<Amount>(r_.varint());
        break;
      case Op::kTick:
        decode_tick();
        break;
      default:
        r_.fail("not a command type");
    }
  }

  void decode_place() {
    c_.account = r_.varint();
    if (flags_ & kFlagPackedNames) {
      const uint8_t lengths = r_.u8();
      c_.service = r_.raw((lengths >> 4) + 1u);
      c_.country = r_.raw((lengths & 0xf) + 1u);
    } else {
      c_.service = name("service too long");
      c_.country = name("country too long");
    }
    if (flags_ & kFlagPool) {
      c_.pool = name("pool too long");
      if (r_.ok() && c_.pool.empty()) r_.fail("pool flag with an empty pool");
    }
    if (flags_ & kFlagOperator) {
      c_.operator_name = name("operator too long");
      if (r_.ok() && c_.operator_name.empty()) r_.fail("operator flag with an empty operator");
    }
    if (flags_ & kFlagMaxPrice) c_.max_price = static_cast<Amount>(r_.varint());
  }

  void decode_tick() {
    c_.max_expired = static_cast<uint32_t>(r_.varint_max(UINT32_MAX, "max_expired too large"));
    const uint64_t count = r_.count(1, "more expired ids than bytes");
    out_->expired.reserve(count);
    uint64_t id = 0;
    for (uint64_t i = 0; i < count && r_.ok(); ++i) {
      id += static_cast<uint64_t>(r_.zigzag());
      if (id == 0) r_.fail("expired order id 0");
      out_->expired.push_back(id);
    }
    c_.replay = true;
    c_.replay_expired = out_->expired;
  }

  ByteReader r_;
  DecodedCommand* out_;
  Command& c_;
  uint8_t flags_ = 0;
};

}  // namespace

bool is_command_type(uint8_t type) {
  return type != kRecordTypeReserved && type < static_cast<uint8_t>(Op::kCount) &&
         is_mutating(static_cast<Op>(type));
}

uint8_t encode_command(const Command& command, const Reply& reply, std::vector<uint8_t>* out) {
  SMSX_ASSERT(is_mutating(command.op));
  out->clear();
  ByteWriter w(out);
  uint8_t flags = op_flags(command);
  if (!command.key.empty()) flags |= kFlagKey;
  const bool before_epoch = command.now_ms < kCommandEpochMs;
  if (before_epoch) flags |= kFlagBeforeEpoch;
  w.u8(flags);
  w.varint(before_epoch ? kCommandEpochMs - command.now_ms : command.now_ms - kCommandEpochMs);
  if (!command.key.empty()) {
    w.fixed64(command.key.hi);
    w.fixed64(command.key.lo);
  }
  encode_fields(command, reply, flags, w);
  w.finish();
  SMSX_ASSERT(out->size() <= kRecordPayloadBytesMax);
  return command_record_type(command.op);
}

Status decode_command(uint8_t type, std::span<const uint8_t> payload, DecodedCommand* out) {
  out->command = Command{};
  out->expired.clear();
  if (!is_command_type(type)) {
    return Status::corruption("record type " + std::to_string(type) + " is not a command");
  }
  out->command.op = static_cast<Op>(type);
  FieldDecoder decoder(payload, out);
  decoder.decode();
  const ByteReader& r = decoder.reader();
  if (r.ok()) return Status();
  return Status::corruption("command record of type " + std::to_string(type) + ": " + r.error() +
                            " at payload byte " + std::to_string(r.error_offset()) + " of " +
                            std::to_string(payload.size()));
}

Status decode_command(const WalRecord& record, DecodedCommand* out) {
  Status status = decode_command(record.type, record.payload, out);
  if (status.ok()) return status;
  return Status::corruption("LSN " + std::to_string(record.lsn) + ": " + status.message());
}

}  // namespace smsx::persistence
