// Command records (persistence/command_codec): every op round-trips with every field it
// reads, a typical order.place fits the 48-byte WAL budget, and decoding refuses every
// truncation, trailing byte, unknown flag and out-of-bounds length with an error naming the
// LSN. Random payloads are decoded too, for the sanitizers.
#include "persistence/command_codec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "persistence/wal_format.h"
#include "persistence/wal_record.h"

namespace smsx::persistence {
namespace {

constexpr uint64_t kNow = 1'764'000'123'456;  // 2025-11-24

// The fields `c.op` reads, in a printable form: equal strings mean equal commands.
std::string fields(const Command& c) {
  std::string s = std::to_string(static_cast<int>(c.op)) + " t" + std::to_string(c.now_ms) + " k" +
                  std::to_string(c.key.hi) + "." + std::to_string(c.key.lo);
  auto str = [&](const char* name, std::string_view v) {
    s += std::string(" ") + name + "='" + std::string(v) + "'";
  };
  auto num = [&](const char* name, uint64_t v) {
    s += std::string(" ") + name + "=" + std::to_string(v);
  };
  switch (c.op) {
    case Op::kDeposit:
      num("account", c.account), num("amount", static_cast<uint64_t>(c.amount));
      num("method", static_cast<uint64_t>(c.method)), str("ref", c.ref), str("address", c.address);
      break;
    case Op::kDepositRefund:
      num("target", c.target), str("address", c.address);
      break;
    case Op::kOrderPlace:
      num("account", c.account), str("service", c.service), str("country", c.country);
      str("pool", c.pool), str("operator", c.operator_name);
      s += c.max_price ? " max=" + std::to_string(*c.max_price) : " max=none";
      break;
    case Op::kOrderDispute:
      num("target", c.target), str("text", c.text);
      break;
    case Op::kDisputeResolve:
      num("target", c.target), num("approve", c.approve);
      break;
    case Op::kPayoutConfirm:
      num("target", c.target), str("ref", c.ref);
      break;
    case Op::kNumberAdd:
      str("actor", c.actor), str("number", c.number), str("country", c.country);
      str("operator", c.operator_name), str("pool", c.pool);
      break;
    case Op::kNumberRemove:
      str("actor", c.actor), str("number", c.number);
      break;
    case Op::kSmsDeliver:
      str("actor", c.actor), str("number", c.number), str("text", c.text);
      str("sender", c.sender);
      break;
    case Op::kPriceSet:
      str("service", c.service), str("country", c.country), str("pool", c.pool);
      num("price", static_cast<uint64_t>(c.amount)), num("payout", static_cast<uint64_t>(c.payout));
      break;
    case Op::kTick:
      num("max", c.max_expired), num("replay", c.replay);
      for (uint64_t id : c.replay_expired) num("id", id);
      break;
    default:  // cancel, finish, retry
      num("target", c.target);
      break;
  }
  return s;
}

std::vector<uint8_t> encode(const Command& c, const Reply& r = Reply()) {
  std::vector<uint8_t> payload;
  EXPECT_EQ(encode_command(c, r, &payload), static_cast<uint8_t>(c.op));
  return payload;
}

Command with_key(Command c) {
  c.key = make_request_key("web-1", "request-" + std::to_string(static_cast<int>(c.op)));
  return c;
}

// One command of every mutating op with every field it reads set.
std::vector<Command> every_op() {
  std::vector<Command> out;
  auto add = [&](Command c) {
    c.now_ms = kNow + out.size();
    out.push_back(with_key(c));
  };
  add({.op = Op::kDeposit,
       .account = 1001,
       .amount = 5000,
       .method = PayMethod::kCrypto,
       .ref = "0xabc",
       .address = "bc1qorigin"});
  add({.op = Op::kDeposit, .account = 7, .amount = 1, .method = PayMethod::kCard, .ref = "rcpt-1"});
  add({.op = Op::kDepositRefund, .target = 3, .address = "bc1qorigin"});
  add({.op = Op::kOrderPlace, .account = 1001, .service = "wa", .country = "us"});
  add({.op = Op::kOrderPlace,
       .account = 1ull << 40,
       .max_price = 250,
       .service = "telegram",
       .country = "gb",
       .pool = "premium-pool",
       .operator_name = "vodafone"});
  add({.op = Op::kOrderPlace,
       .account = 2,
       .max_price = 0,
       .service = "wa",
       .country = "us",
       .pool = "p1"});
  add({.op = Op::kOrderCancel, .target = 99});
  add({.op = Op::kOrderFinish, .target = 1ull << 50});
  add({.op = Op::kOrderRetry, .target = 1});
  add({.op = Op::kOrderDispute, .target = 12, .text = "the platform said the code was wrong"});
  add({.op = Op::kNumberAdd,
       .actor = "sim-bank-1",
       .country = "us",
       .pool = "p1",
       .operator_name = "tmobile",
       .number = "15550001234"});
  add({.op = Op::kNumberRemove, .actor = "sim-bank-1", .number = "15550001234"});
  add({.op = Op::kSmsDeliver,
       .actor = "sim-bank-1",
       .number = "15550001234",
       .text = "Your WhatsApp code: 123-456",
       .sender = "WhatsApp"});
  add({.op = Op::kPayoutConfirm, .target = 5, .ref = "tx-777"});
  add({.op = Op::kPriceSet,
       .amount = 120,
       .payout = 80,
       .service = "wa",
       .country = "us",
       .pool = "p1"});
  add({.op = Op::kDisputeResolve, .target = 12, .approve = true});
  add({.op = Op::kDisputeResolve, .target = 13, .approve = false});
  return out;
}

TEST(CommandCodecTest, KnownTypesAreTheMutatingOps) {
  for (int type = 0; type < 256; ++type) {
    const bool mutating =
        type > 0 && type < static_cast<int>(Op::kCount) && is_mutating(static_cast<Op>(type));
    EXPECT_EQ(is_command_type(static_cast<uint8_t>(type)), mutating) << type;
  }
}

TEST(CommandCodecTest, EveryOpRoundTripsWithEveryField) {
  for (const Command& c : every_op()) {
    const std::vector<uint8_t> payload = encode(c);
    DecodedCommand decoded;
    ASSERT_TRUE(decode_command(static_cast<uint8_t>(c.op), payload, &decoded).ok()) << fields(c);
    EXPECT_EQ(fields(decoded.command), fields(c));
    EXPECT_FALSE(decoded.command.replay);
  }
}

TEST(CommandCodecTest, DecodedStringsViewThePayload) {
  const Command c = every_op()[12];  // sms.deliver
  const std::vector<uint8_t> payload = encode(c);
  DecodedCommand decoded;
  ASSERT_TRUE(decode_command(static_cast<uint8_t>(c.op), payload, &decoded).ok());
  const auto* begin = reinterpret_cast<const char*>(payload.data());
  for (std::string_view v : {decoded.command.actor, decoded.command.number, decoded.command.text,
                             decoded.command.sender}) {
    EXPECT_GE(v.data(), begin);
    EXPECT_LE(v.data() + v.size(), begin + payload.size());
  }
}

TEST(CommandCodecTest, TickCarriesTheExpiredIdsAndDecodesAsReplay) {
  Command tick{.op = Op::kTick, .now_ms = kNow, .max_expired = 10'000};
  Reply reply;
  reply.expired = {500, 501, 499, 1ull << 40, 7, 7'000'000};  // deadline order, not id order
  const std::vector<uint8_t> payload = encode(tick, reply);
  DecodedCommand decoded;
  ASSERT_TRUE(decode_command(static_cast<uint8_t>(Op::kTick), payload, &decoded).ok());
  EXPECT_TRUE(decoded.command.replay);
  EXPECT_EQ(decoded.command.max_expired, 10'000u);
  EXPECT_EQ(std::vector<uint64_t>(decoded.command.replay_expired.begin(),
                                  decoded.command.replay_expired.end()),
            reply.expired);
  EXPECT_EQ(decoded.command.replay_expired.data(), decoded.expired.data());
  // Moving keeps the view valid: the storage moves with it.
  DecodedCommand moved = std::move(decoded);
  EXPECT_EQ(moved.command.replay_expired.data(), moved.expired.data());
  // A tick that only evicted carries no ids.
  reply.expired.clear();
  ASSERT_TRUE(decode_command(static_cast<uint8_t>(Op::kTick), encode(tick, reply), &moved).ok());
  EXPECT_TRUE(moved.command.replay_expired.empty());
}

// Issue 4: at most 48 bytes of WAL per place-order record, header included.
TEST(CommandCodecTest, TypicalPlaceOrderRecordTakesAtMost48Bytes) {
  const Command place = with_key(
      {.op = Op::kOrderPlace, .now_ms = kNow, .account = 1001, .service = "wa", .country = "us"});
  const std::vector<uint8_t> payload = encode(place);
  EXPECT_EQ(payload.size(), 30u);
  EXPECT_LE(payload.size(), kPlaceOrderPayloadBytesMax);
  std::vector<uint8_t> record;
  append_record(&record, 1, static_cast<uint8_t>(Op::kOrderPlace), payload);
  EXPECT_EQ(record.size(), 47u);
  EXPECT_LE(record.size(), kPlaceOrderRecordBytesMax);
  // Still within budget in 2163, the last year with 6-byte times.
  Command late = place;
  late.now_ms = kCommandEpochMs + (1ull << 42) - 1;
  EXPECT_LE(encode(late).size(), kPlaceOrderPayloadBytesMax);
}

TEST(CommandCodecTest, TimesAroundTheEpochAndExtremes) {
  for (uint64_t now : {uint64_t{0}, uint64_t{1}, kCommandEpochMs - 1, kCommandEpochMs,
                       kCommandEpochMs + 1, kNow, UINT64_MAX}) {
    Command c{.op = Op::kOrderCancel, .now_ms = now, .target = 5};
    DecodedCommand decoded;
    ASSERT_TRUE(decode_command(static_cast<uint8_t>(c.op), encode(c), &decoded).ok()) << now;
    EXPECT_EQ(decoded.command.now_ms, now);
    EXPECT_TRUE(decoded.command.key.empty());
  }
}

TEST(CommandCodecTest, EveryTruncationAndTrailingByteIsAnError) {
  std::vector<Command> commands = every_op();
  commands.push_back({.op = Op::kTick, .now_ms = kNow, .max_expired = 3});
  Reply reply;
  reply.expired = {10, 11, 12};
  for (const Command& c : commands) {
    const std::vector<uint8_t> payload = encode(c, reply);
    const auto type = static_cast<uint8_t>(c.op);
    DecodedCommand decoded;
    for (size_t n = 0; n < payload.size(); ++n) {
      const Status status =
          decode_command(type, std::span<const uint8_t>(payload.data(), n), &decoded);
      ASSERT_TRUE(status.is_corruption()) << fields(c) << " cut at " << n;
    }
    std::vector<uint8_t> longer = payload;
    longer.push_back(0);
    const Status status = decode_command(type, longer, &decoded);
    ASSERT_TRUE(status.is_corruption()) << fields(c);
    EXPECT_NE(status.message().find("trailing bytes"), std::string::npos) << status.to_string();
  }
}

TEST(CommandCodecTest, ErrorsNameTheLsnAndWhatIsWrong) {
  const Command place = every_op()[3];
  std::vector<uint8_t> payload = encode(place);
  payload.pop_back();
  DecodedCommand decoded;
  const Status status = decode_command(
      WalRecord{.lsn = 4242, .type = static_cast<uint8_t>(Op::kOrderPlace), .payload = payload},
      &decoded);
  ASSERT_TRUE(status.is_corruption());
  EXPECT_EQ(status.message(), "LSN 4242: command record of type 4: truncated at payload byte " +
                                  std::to_string(payload.size() - 1) + " of " +
                                  std::to_string(payload.size()));
}

TEST(CommandCodecTest, RefusesWhatNoEncoderWrites) {
  DecodedCommand decoded;
  auto refused = [&](uint8_t type, std::vector<uint8_t> payload, const std::string& why) {
    const Status status = decode_command(type, payload, &decoded);
    EXPECT_TRUE(status.is_corruption()) << why;
    EXPECT_NE(status.message().find(why), std::string::npos) << status.to_string();
  };
  const auto cancel = static_cast<uint8_t>(Op::kOrderCancel);
  for (uint8_t type :
       {uint8_t{0}, static_cast<uint8_t>(Op::kBalance), static_cast<uint8_t>(Op::kStats),
        static_cast<uint8_t>(Op::kCount), uint8_t{255}}) {
    refused(type, {0, 0, 1}, "is not a command");
  }
  refused(cancel, {0x04, 0, 1}, "unknown flag bits");
  refused(cancel, {0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
          "key flag with an empty key");
  refused(cancel, {0x02, 0, 1}, "bad time before the epoch");
  refused(cancel, {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1},
          "varint longer than 64 bits");
  refused(cancel, {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1},
          "time overflows");
  refused(static_cast<uint8_t>(Op::kDeposit), {0x0c, 0, 1, 1, 1, 'r', 0}, "bad payment method");
  // sms.deliver: actor "s", number of 16 digits.
  std::vector<uint8_t> sms = {0, 0, 1, 's', 16};
  sms.insert(sms.end(), 16, '1');
  refused(static_cast<uint8_t>(Op::kSmsDeliver), sms, "number too long");
  // price.set with a 17-byte service name.
  std::vector<uint8_t> price = {0, 0, 17};
  price.insert(price.end(), 17, 'a');
  refused(static_cast<uint8_t>(Op::kPriceSet), price, "service too long");
  refused(static_cast<uint8_t>(Op::kOrderPlace), {0x04, 0, 1, 1, 'a', 1, 'b', 0},
          "pool flag with an empty pool");
  refused(static_cast<uint8_t>(Op::kTick), {0, 0, 0, 5, 2}, "more expired ids than bytes");
  refused(static_cast<uint8_t>(Op::kTick), {0, 0, 0, 1, 0}, "expired order id 0");
  refused(static_cast<uint8_t>(Op::kTick), {0, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 0},
          "max_expired too large");
}

// Random commands of every op round-trip exactly.
TEST(CommandCodecTest, RandomCommandsRoundTrip) {
  std::mt19937_64 rng(42);
  auto text = [&](size_t max) {
    std::string s(rng() % (max + 1), ' ');
    for (char& ch : s) ch = static_cast<char>(rng());
    return s;
  };
  auto name = [&] {
    std::string s = text(15);
    return s.empty() ? std::string("x") : s;
  };
  std::vector<Op> ops;
  for (int op = 1; op < static_cast<int>(Op::kCount); ++op) {
    if (is_mutating(static_cast<Op>(op))) ops.push_back(static_cast<Op>(op));
  }
  for (int i = 0; i < 20'000; ++i) {
    std::string actor = text(40), ref = text(128), address = text(128), service = name();
    std::string country = name(), pool = rng() % 2 ? name() : "", op_name = rng() % 2 ? name() : "";
    std::string number = std::to_string(rng() % 1'000'000'000'000'000), body = text(512),
                sender = text(64);
    Command c;
    c.op = ops[rng() % ops.size()];
    c.now_ms = rng() >> (rng() % 64);
    if (rng() % 4 != 0) c.key = {rng(), rng() | 1};
    c.actor = actor, c.ref = ref, c.address = address, c.service = service, c.country = country;
    // Only order.place has optional filters; other ops always carry these names.
    if (c.op != Op::kOrderPlace) pool = name(), op_name = name();
    c.pool = pool, c.operator_name = op_name;
    c.number = number, c.text = body, c.sender = sender;
    c.account = rng() >> (rng() % 64), c.target = rng() >> (rng() % 64);
    c.amount = static_cast<Amount>(rng()), c.payout = static_cast<Amount>(rng());
    if (rng() % 2) c.max_price = static_cast<Amount>(rng());
    c.method = static_cast<PayMethod>(rng() % 3);
    c.approve = rng() % 2;
    c.max_expired = static_cast<uint32_t>(rng());
    Reply reply;
    if (c.op == Op::kTick) {
      reply.expired.resize(rng() % 50);
      for (uint64_t& id : reply.expired) id = 1 + (rng() >> (rng() % 64 | 1));
      c.replay = true;
      c.replay_expired = reply.expired;
    }
    const std::vector<uint8_t> payload = encode(c, reply);
    DecodedCommand decoded;
    const Status status = decode_command(static_cast<uint8_t>(c.op), payload, &decoded);
    ASSERT_TRUE(status.ok()) << status.to_string() << " for " << fields(c);
    ASSERT_EQ(fields(decoded.command), fields(c));
  }
}

// Whatever the bytes, decoding returns a status and touches nothing outside the payload.
TEST(CommandCodecTest, RandomPayloadsNeverCrash) {
  std::mt19937_64 rng(7);
  size_t decoded_ok = 0;
  DecodedCommand decoded;
  for (int i = 0; i < 200'000; ++i) {
    std::vector<uint8_t> payload(rng() % 48);
    for (uint8_t& b : payload) b = static_cast<uint8_t>(rng() >> 7);
    if (!payload.empty()) payload[0] &= 0x3f;  // mostly known flags, to get past the first byte
    if (decode_command(static_cast<uint8_t>(rng() % 24), payload, &decoded).ok()) ++decoded_ok;
  }
  std::printf("%zu of 200000 random payloads decoded\n", decoded_ok);
}

}  // namespace
}  // namespace smsx::persistence
