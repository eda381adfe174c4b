// How a line is read: one pass stores each known key's value in its slot (Slots), checking
// only its JSON type; decode() then takes the slots the op needs, in the op's field order,
// and checks their content. Values of unknown keys are walked to validate them as JSON.
#include "net/request_parser.h"

#include <cstring>

#include "core/assert.h"
#include "core/limits.h"
#include "core/names.h"
#include "core/phone.h"

namespace smsx::net {
namespace {

namespace ondemand = simdjson::ondemand;
using simdjson::error_code;

// Every key the protocol knows, whatever the op. A key has one JSON type in every op.
enum class Key : std::uint8_t {
  kId,
  kOp,
  kToken,
  kEvents,
  kAccount,
  kAmount,
  kMethod,
  kRef,
  kFromAddress,
  kDeposit,
  kToAddress,
  kService,
  kCountry,
  kPool,
  kOperator,
  kMaxPrice,
  kOrder,
  kReason,
  kNumber,
  kText,
  kSender,
  kRefund,
  kTxid,
  kPrice,
  kPayout,
  kApprove,
  kFromLsn,
  kEpoch,
  kListen,
  kLastRecordCrc,
  kCount,
};
constexpr std::size_t kKeyCount = static_cast<std::size_t>(Key::kCount);
static_assert(kKeyCount <= 32, "slot bit sets are 32 bits wide");

enum class Kind : std::uint8_t { kString, kUnsigned, kInteger, kBool, kEvents };

struct KeyInfo {
  std::string_view name;
  Kind kind;
  // The message when the value has another JSON type (or, for most, an invalid content).
  std::string_view expected;
};

// In enum order (checked below).
constexpr KeyInfo kKeys[] = {
    {"id", Kind::kString, "field 'id': expected a string of 1 to 64 bytes"},
    {"op", Kind::kString, "field 'op': expected a string"},
    {"token", Kind::kString, "field 'token': expected a string"},
    {"events", Kind::kEvents,
     "field 'events': expected a list of event names (order.sms, order.expired, "
     "order.finished, refund.payout)"},
    {"account", Kind::kUnsigned, "field 'account': expected an unsigned 64-bit integer"},
    {"amount", Kind::kInteger, "field 'amount': expected a positive integer"},
    {"method", Kind::kString, "field 'method': expected \"card\" or \"crypto\""},
    {"ref", Kind::kString, "field 'ref': expected a string of 1 to 128 bytes"},
    {"from_address", Kind::kString, "field 'from_address': expected a string of 1 to 128 bytes"},
    {"deposit", Kind::kUnsigned, "field 'deposit': expected an unsigned 64-bit integer"},
    {"to_address", Kind::kString, "field 'to_address': expected a string of 1 to 128 bytes"},
    {"service", Kind::kString, "field 'service': expected a name of 1 to 16 of [a-z0-9_-]"},
    {"country", Kind::kString, "field 'country': expected a name of 1 to 16 of [a-z0-9_-]"},
    {"pool", Kind::kString, "field 'pool': expected a name of 1 to 16 of [a-z0-9_-]"},
    {"operator", Kind::kString, "field 'operator': expected a name of 1 to 16 of [a-z0-9_-]"},
    {"max_price", Kind::kInteger, "field 'max_price': expected an integer >= 0"},
    {"order", Kind::kUnsigned, "field 'order': expected an unsigned 64-bit integer"},
    {"reason", Kind::kString, "field 'reason': expected a string of at most 512 bytes"},
    {"number", Kind::kString, "field 'number': expected a string of 6 to 15 digits"},
    {"text", Kind::kString, "field 'text': expected a string of at most 1024 bytes"},
    {"sender", Kind::kString, "field 'sender': expected a string of at most 64 bytes"},
    {"refund", Kind::kUnsigned, "field 'refund': expected an unsigned 64-bit integer"},
    {"txid", Kind::kString, "field 'txid': expected a string of at most 128 bytes"},
    {"price", Kind::kInteger, "field 'price': expected an integer from 0 to 2147483647"},
    {"payout", Kind::kInteger, "field 'payout': expected an integer from 0 to price"},
    {"approve", Kind::kBool, "field 'approve': expected true or false"},
    {"from_lsn", Kind::kUnsigned, "field 'from_lsn': expected an LSN of at least 1"},
    {"epoch", Kind::kUnsigned, "field 'epoch': expected an unsigned 64-bit integer"},
    {"listen", Kind::kString, "field 'listen': expected host:port of at most 128 bytes"},
    {"last_record_crc", Kind::kInteger,
     "field 'last_record_crc': expected an integer from 0 to 4294967295"},
};
static_assert(sizeof(kKeys) / sizeof(kKeys[0]) == kKeyCount);

static_assert(limits::kRequestIdBytesMax == 64 && limits::kRefBytesMax == 128 &&
                  limits::kAddressBytesMax == 128 && limits::kDisputeReasonBytesMax == 512 &&
                  limits::kSmsTextBytesMax == 1024 && limits::kSmsSenderBytesMax == 64 &&
                  limits::kPriceMax == 2147483647 && limits::kNameBytesMax == 16,
              "the messages of kKeys quote these limits");

constexpr std::uint32_t bit(Key k) { return std::uint32_t{1} << static_cast<unsigned>(k); }
constexpr std::size_t index(Key k) { return static_cast<std::size_t>(k); }

// The key a field name is, if any: by length first, so that a name is compared with at
// most five others, each comparison of a known length (inlined). Agrees with kKeys (below).
constexpr std::optional<Key> key_of(std::string_view name) {
  switch (name.size()) {
    case 2:
      if (name == "id") return Key::kId;
      if (name == "op") return Key::kOp;
      break;
    case 3:
      if (name == "ref") return Key::kRef;
      break;
    case 4:
      if (name == "pool") return Key::kPool;
      if (name == "text") return Key::kText;
      if (name == "txid") return Key::kTxid;
      break;
    case 5:
      if (name == "order") return Key::kOrder;
      if (name == "price") return Key::kPrice;
      if (name == "token") return Key::kToken;
      if (name == "epoch") return Key::kEpoch;
      break;
    case 6:
      if (name == "amount") return Key::kAmount;
      if (name == "method") return Key::kMethod;
      if (name == "number") return Key::kNumber;
      if (name == "sender") return Key::kSender;
      if (name == "events") return Key::kEvents;
      if (name == "refund") return Key::kRefund;
      if (name == "reason") return Key::kReason;
      if (name == "payout") return Key::kPayout;
      if (name == "listen") return Key::kListen;
      break;
    case 7:
      if (name == "account") return Key::kAccount;
      if (name == "service") return Key::kService;
      if (name == "country") return Key::kCountry;
      if (name == "deposit") return Key::kDeposit;
      if (name == "approve") return Key::kApprove;
      break;
    case 8:
      if (name == "operator") return Key::kOperator;
      if (name == "from_lsn") return Key::kFromLsn;
      break;
    case 9:
      if (name == "max_price") return Key::kMaxPrice;
      break;
    case 10:
      if (name == "to_address") return Key::kToAddress;
      break;
    case 12:
      if (name == "from_address") return Key::kFromAddress;
      break;
    case 15:
      if (name == "last_record_crc") return Key::kLastRecordCrc;
      break;
    default:
      break;
  }
  return std::nullopt;
}

constexpr bool key_of_agrees_with_the_table() {
  for (std::size_t i = 0; i < kKeyCount; ++i) {
    if (key_of(kKeys[i].name) != static_cast<Key>(i)) return false;
  }
  return true;
}
static_assert(key_of_agrees_with_the_table());

constexpr std::string_view kEventNames[] = {"order.sms", "order.expired", "order.finished",
                                            "refund.payout"};
static_assert(static_cast<int>(EventKind::kOrderSms) == 1 &&
              static_cast<int>(EventKind::kRefundPayout) == 4);

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// Checks that `v` is valid JSON, consuming it. `depth` is the level of `v` (the request
// object is level 1).
error_code validate(ondemand::value v, std::size_t depth) {
  if (depth > RequestParser::kNestingDepthMax) return simdjson::DEPTH_ERROR;
  std::string_view raw = v.raw_json_token();
  if (raw.empty()) return simdjson::TAPE_ERROR;
  switch (raw[0]) {
    case '{': {
      ondemand::object object;
      if (error_code e = v.get_object().get(object)) return e;
      for (auto field : object) {
        std::string_view key;
        if (error_code e = field.unescaped_key().get(key)) return e;
        ondemand::value inner;
        if (error_code e = field.value().get(inner)) return e;
        if (error_code e = validate(inner, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case '[': {
      ondemand::array array;
      if (error_code e = v.get_array().get(array)) return e;
      for (auto element : array) {
        ondemand::value inner;
        if (error_code e = std::move(element).get(inner)) return e;
        if (error_code e = validate(inner, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case '"': {
      std::string_view s;
      return v.get_string().get(s);
    }
    case 't':
      return trim_right(raw) == "true" ? simdjson::SUCCESS : simdjson::T_ATOM_ERROR;
    case 'f':
      return trim_right(raw) == "false" ? simdjson::SUCCESS : simdjson::F_ATOM_ERROR;
    case 'n':
      return trim_right(raw) == "null" ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    default:
      return is_json_number(trim_right(raw)) ? simdjson::SUCCESS : simdjson::NUMBER_ERROR;
  }
}

// A key without escapes is read where it is, between its quotes, instead of being copied
// through simdjson's string buffer (a third of the strings of a typical request are keys).
// Stage 1 has checked that the closing quote exists and that no raw control character or
// invalid UTF-8 is inside. False for a key with a backslash: unescape it.
bool plain_key(const ondemand::field& field, std::string_view* key) {
  const char* const begin = field.key().raw();
  const char* end = begin;
  for (; *end != '"'; ++end) {
    if (*end == '\\') return false;
  }
  *key = std::string_view(begin, static_cast<std::size_t>(end - begin));
  return true;
}

}  // namespace

std::optional<EventKind> event_kind_from_name(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kEventNames); ++i) {
    if (kEventNames[i] == name) return static_cast<EventKind>(i + 1);
  }
  return std::nullopt;
}

// What one line gave for each known key. A key is in at most one of present/null/bad;
// `repeated` marks a key seen more than once (the first value is kept, and refused later
// if the op uses that key).
struct RequestParser::Slots {
  std::uint32_t present = 0;  // a value of the key's JSON type (content not yet checked)
  std::uint32_t null = 0;     // null: the same as absent for optional fields
  std::uint32_t bad = 0;      // another JSON type, or an unknown event name
  std::uint32_t repeated = 0;
  std::array<std::string_view, kKeyCount> text{};
  std::array<std::uint64_t, kKeyCount> unsigned_value{};
  std::array<std::int64_t, kKeyCount> integer{};
  bool approve = false;
  EventSet events = 0;

  void clear() { present = null = bad = repeated = 0; }
  bool seen(Key k) const { return ((present | null | bad) & bit(k)) != 0; }

  // Reads the value of key `k`; a JSON syntax error stops the line.
  error_code read(Key k, ondemand::value v) {
    if (seen(k)) {
      repeated |= bit(k);
      return validate(v, 2);
    }
    const std::size_t i = index(k);
    switch (kKeys[i].kind) {
      case Kind::kString:
        if (v.get_string().get(text[i]) == simdjson::SUCCESS) return mark_present(k);
        break;
      case Kind::kUnsigned:
        if (v.get_uint64().get(unsigned_value[i]) == simdjson::SUCCESS) return mark_present(k);
        break;
      case Kind::kInteger:
        if (v.get_int64().get(integer[i]) == simdjson::SUCCESS) return mark_present(k);
        break;
      case Kind::kBool:
        if (v.get_bool().get(approve) == simdjson::SUCCESS) return mark_present(k);
        break;
      case Kind::kEvents:
        return read_events(k, v);
    }
    return mark_other(k, v);
  }

  error_code mark_present(Key k) {
    present |= bit(k);
    return simdjson::SUCCESS;
  }

  // Not of the key's type: null, another type, or invalid JSON.
  error_code mark_other(Key k, ondemand::value v) {
    if (trim_right(v.raw_json_token()) == "null") {
      null |= bit(k);
      return simdjson::SUCCESS;
    }
    bad |= bit(k);
    return validate(v, 2);
  }

  error_code read_events(Key k, ondemand::value v) {
    ondemand::array array;
    if (v.get_array().get(array) != simdjson::SUCCESS) return mark_other(k, v);
    events = 0;
    bool ok = true;
    for (auto element : array) {
      ondemand::value inner;
      if (error_code e = std::move(element).get(inner)) return e;
      std::string_view name;
      if (ok && inner.get_string().get(name) == simdjson::SUCCESS) {
        std::optional<EventKind> kind = event_kind_from_name(name);
        ok = kind.has_value();
        if (ok) events |= event_bit(*kind);
        continue;
      }
      ok = false;
      if (error_code e = validate(inner, 3)) return e;
    }
    (ok ? present : bad) |= bit(k);
    return simdjson::SUCCESS;
  }
};

namespace {

// The op's view of the slots: each getter takes one field, checks it, and on a problem
// fills the error (naming the field) and returns false. Fields are taken in the order of
// the op's row in docs/protocol.md, so the first bad one is reported.
class Fields {
 public:
  Fields(const RequestParser::Slots& slots, ParseError* error) : s_(slots), error_(error) {}

  // *got: the field has a value of its type. Refused: repeated, ill-typed, or absent (or
  // null) when required.
  bool take(Key k, bool required, bool* got) {
    *got = false;
    if (s_.repeated & bit(k)) return fail_with("duplicate field '", k);
    if (s_.bad & bit(k)) return fail(k);
    if (s_.present & bit(k)) {
      *got = true;
      return true;
    }
    if (required) return fail_with("missing field '", k);
    return true;
  }

  bool u64(Key k, std::uint64_t* out) {
    bool got;
    if (!take(k, true, &got)) return false;
    *out = s_.unsigned_value[index(k)];
    return true;
  }

  bool integer(Key k, bool required, std::int64_t min, std::int64_t max, bool* got,
               std::int64_t* out) {
    if (!take(k, required, got)) return false;
    if (!*got) return true;
    const std::int64_t v = s_.integer[index(k)];
    if (v < min || v > max) return fail(k);
    *out = v;
    return true;
  }

  bool integer(Key k, std::int64_t min, std::int64_t max, std::int64_t* out) {
    bool got;
    return integer(k, true, min, max, &got, out);
  }

  bool string(Key k, bool required, std::size_t min, std::size_t max, std::string_view* out) {
    bool got;
    if (!take(k, required, &got)) return false;
    if (!got) return true;
    const std::string_view v = s_.text[index(k)];
    if (v.size() < min || v.size() > max) return fail(k);
    *out = v;
    return true;
  }

  bool name(Key k, bool required, std::string_view* out) {
    bool got;
    if (!take(k, required, &got)) return false;
    if (!got) return true;
    const std::string_view v = s_.text[index(k)];
    if (!valid_name(v)) return fail(k);
    *out = v;
    return true;
  }

  bool phone(Key k, std::string_view* out) {
    bool got;
    if (!take(k, true, &got)) return false;
    const std::string_view v = s_.text[index(k)];
    if (!pack_phone(v)) return fail(k);
    *out = v;
    return true;
  }

  bool method(PayMethod* out) {
    std::string_view v;
    if (!string(Key::kMethod, true, 0, SIZE_MAX, &v)) return false;
    if (v == "card") {
      *out = PayMethod::kCard;
    } else if (v == "crypto") {
      *out = PayMethod::kCrypto;
    } else {
      return fail(Key::kMethod);
    }
    return true;
  }

  // Refuses a field whose value has the right type but not an acceptable content.
  bool refuse(Key k) { return fail(k); }

  bool boolean(Key k, bool* out) {
    bool got;
    if (!take(k, true, &got)) return false;
    *out = s_.approve;
    return true;
  }

  bool events(EventSet* out) {
    bool got;
    if (!take(Key::kEvents, true, &got)) return false;
    *out = s_.events;
    return true;
  }

 private:
  bool fail(Key k) {
    error_->code = smsx::Error::kBadRequest;
    error_->message.assign(kKeys[index(k)].expected);
    return false;
  }
  bool fail_with(std::string_view prefix, Key k) {
    error_->code = smsx::Error::kBadRequest;
    error_->message.assign(prefix);
    error_->message.append(kKeys[index(k)].name);
    error_->message.push_back('\'');
    return false;
  }

  const RequestParser::Slots& s_;
  ParseError* error_;
};

// The fields of engine op `op` into *c (docs/protocol.md, "Operations").
bool decode_command(OpKind op, Fields& f, Command* c) {
  constexpr std::int64_t kInt64Max = INT64_MAX;
  bool got = false;
  switch (op) {
    case OpKind::kBalance:
    case OpKind::kOrdersActive:
      return f.u64(Key::kAccount, &c->account);
    case OpKind::kDeposit:
      if (!f.u64(Key::kAccount, &c->account) ||
          !f.integer(Key::kAmount, 1, limits::kAmountMax, &c->amount) || !f.method(&c->method) ||
          !f.string(Key::kRef, true, 1, limits::kRefBytesMax, &c->ref)) {
        return false;
      }
      // A card deposit has no origin address: from_address is ignored, not kept.
      return c->method != PayMethod::kCrypto ||
             f.string(Key::kFromAddress, true, 1, limits::kAddressBytesMax, &c->address);
    case OpKind::kDepositRefund:
      return f.u64(Key::kDeposit, &c->target) &&
             f.string(Key::kToAddress, false, 1, limits::kAddressBytesMax, &c->address);
    case OpKind::kOrderPlace: {
      std::int64_t max_price = 0;
      if (!f.u64(Key::kAccount, &c->account) || !f.name(Key::kService, true, &c->service) ||
          !f.name(Key::kCountry, true, &c->country) || !f.name(Key::kPool, false, &c->pool) ||
          !f.name(Key::kOperator, false, &c->operator_name) ||
          !f.integer(Key::kMaxPrice, false, 0, kInt64Max, &got, &max_price)) {
        return false;
      }
      if (got) c->max_price = max_price;
      return true;
    }
    case OpKind::kOrderGet:
    case OpKind::kOrderCancel:
    case OpKind::kOrderFinish:
    case OpKind::kOrderRetry:
      return f.u64(Key::kOrder, &c->target);
    case OpKind::kOrderDispute:
      return f.u64(Key::kOrder, &c->target) &&
             f.string(Key::kReason, true, 0, limits::kDisputeReasonBytesMax, &c->text);
    case OpKind::kNumberAdd:
      return f.phone(Key::kNumber, &c->number) && f.name(Key::kCountry, true, &c->country) &&
             f.name(Key::kOperator, true, &c->operator_name) && f.name(Key::kPool, true, &c->pool);
    case OpKind::kNumberRemove:
      return f.phone(Key::kNumber, &c->number);
    case OpKind::kSmsDeliver:
      return f.phone(Key::kNumber, &c->number) &&
             f.string(Key::kText, true, 0, limits::kSmsTextBytesMax, &c->text) &&
             f.string(Key::kSender, false, 0, limits::kSmsSenderBytesMax, &c->sender);
    case OpKind::kPayoutConfirm:
      return f.u64(Key::kRefund, &c->target) &&
             f.string(Key::kTxid, false, 0, limits::kRefBytesMax, &c->ref);
    case OpKind::kStock:
      return f.name(Key::kService, false, &c->service) &&
             f.name(Key::kCountry, false, &c->country) && f.name(Key::kPool, false, &c->pool);
    case OpKind::kPriceSet:
      return f.name(Key::kService, true, &c->service) && f.name(Key::kCountry, true, &c->country) &&
             f.name(Key::kPool, true, &c->pool) &&
             f.integer(Key::kPrice, 0, limits::kPriceMax, &c->amount) &&
             f.integer(Key::kPayout, 0, c->amount, &c->payout);
    case OpKind::kDisputeResolve:
      return f.u64(Key::kOrder, &c->target) && f.boolean(Key::kApprove, &c->approve);
    case OpKind::kPayoutsPending:
    case OpKind::kStats:
      return true;
    default:
      break;
  }
  SMSX_ASSERT(false && "not an engine op");
  return false;
}

void fail(ParseError* error, smsx::Error code, std::string_view message) {
  error->code = code;
  error->message.assign(message);
}

void fail_json(ParseError* error, error_code e) {
  error->code = smsx::Error::kBadRequest;
  error->message.assign("invalid JSON: ");
  error->message.append(simdjson::error_message(e));
}

}  // namespace

RequestParser::RequestParser(std::size_t frame_bytes_max)
    : frame_bytes_max_(frame_bytes_max), json_(frame_bytes_max), slots_(new Slots) {
  SMSX_ASSERT(frame_bytes_max > 0);
  // Allocated once for the largest line, so that parsing never allocates.
  const error_code allocated = json_.allocate(frame_bytes_max);
  SMSX_ASSERT(allocated == simdjson::SUCCESS);
}

RequestParser::~RequestParser() = default;

bool RequestParser::parse(std::string_view line, std::size_t readable_bytes, ParsedRequest* out,
                          ParseError* error) {
  SMSX_ASSERT(readable_bytes >= line.size() + kPaddingBytes);
  slots_->clear();
  *error = ParseError{.message = std::move(error->message)};
  error->message.clear();
  if (line.size() > frame_bytes_max_) {
    fail(error, smsx::Error::kBadRequest, "request line longer than frame_bytes_max");
    return false;
  }
  ondemand::document doc;
  if (error_code e = json_.iterate(line.data(), line.size(), readable_bytes).get(doc)) {
    fail_json(error, e);
    return false;
  }
  if (!read_object(doc, error)) {
    // Echo the id if it was read before the problem was found, and is valid.
    const std::string_view id = slots_->text[index(Key::kId)];
    if ((slots_->present & bit(Key::kId)) && !(slots_->repeated & bit(Key::kId)) && !id.empty() &&
        id.size() <= limits::kRequestIdBytesMax) {
      error->id = id;
    }
    return false;
  }
  return decode(out, error);
}

bool RequestParser::parse_copy(std::string_view line, ParsedRequest* out, ParseError* error) {
  if (line.size() > frame_bytes_max_) {
    *error = ParseError{.code = smsx::Error::kBadRequest,
                        .message = "request line longer than frame_bytes_max"};
    return false;
  }
  // Value-initialised once: the padding is zeros, never uninitialised memory.
  if (!copy_) copy_.reset(new char[frame_bytes_max_ + kPaddingBytes]());
  if (!line.empty()) std::memcpy(copy_.get(), line.data(), line.size());
  return parse(std::string_view(copy_.get(), line.size()), frame_bytes_max_ + kPaddingBytes, out,
               error);
}

bool RequestParser::read_object(ondemand::document& doc, ParseError* error) {
  ondemand::json_type type;
  if (error_code e = doc.type().get(type)) {
    fail_json(error, e);
    return false;
  }
  if (type != ondemand::json_type::object) {
    fail(error, smsx::Error::kBadRequest, "not a JSON object");
    return false;
  }
  ondemand::object object;
  error_code e = doc.get_object().get(object);
  if (e == simdjson::SUCCESS) {
    for (auto field : object) {
      std::string_view key;
      ondemand::value v;
      if ((e = field.error())) break;
      if (!plain_key(field.value_unsafe(), &key) && (e = field.unescaped_key().get(key))) break;
      if ((e = field.value().get(v))) break;
      std::optional<Key> k = key_of(key);
      e = k ? slots_->read(*k, v) : validate(v, 2);
      if (e) break;
    }
  }
  // Fully read: nothing may follow the object but whitespace.
  if (e == simdjson::SUCCESS && doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    e = simdjson::TRAILING_CONTENT;
  }
  if (e) {
    fail_json(error, e);
    return false;
  }
  return true;
}

bool RequestParser::decode(ParsedRequest* out, ParseError* error) {
  const Slots& s = *slots_;
  *out = ParsedRequest{};
  Fields f(s, error);
  if (!f.string(Key::kId, false, 1, limits::kRequestIdBytesMax, &out->id)) return false;
  error->id = out->id;
  std::string_view op_text;
  if (!f.string(Key::kOp, true, 0, SIZE_MAX, &op_text)) return false;
  std::optional<OpKind> op = op_kind_from_name(op_text);
  if (!op) {
    constexpr std::size_t kShownBytesMax = 32;
    error->code = smsx::Error::kUnknownOp;
    error->message.assign("unknown op \"");
    error->message.append(op_text.substr(0, kShownBytesMax));
    error->message.append(op_text.size() > kShownBytesMax ? "...\"" : "\"");
    return false;
  }
  error->op = op;
  out->op = *op;
  if (needs_id(*op) && out->id.empty()) {
    fail(error, smsx::Error::kBadRequest,
         "missing field 'id' (required for ops that change state)");
    return false;
  }
  if (std::optional<Op> engine = engine_op(*op)) {
    out->command.op = *engine;
    return decode_command(*op, f, &out->command);
  }
  switch (*op) {
    case OpKind::kHello:
      return f.string(Key::kToken, true, 0, SIZE_MAX, &out->token);
    case OpKind::kSubscribe:
      return f.events(&out->events);
    case OpKind::kSnapshot:
    case OpKind::kPromote:
    case OpKind::kDigest:
      return true;
    case OpKind::kReplicate: {
      if (!f.u64(Key::kFromLsn, &out->from_lsn) || !f.u64(Key::kEpoch, &out->epoch) ||
          !f.string(Key::kListen, false, 0, 128, &out->listen)) {
        return false;
      }
      if (out->from_lsn == 0) return f.refuse(Key::kFromLsn);
      bool got = false;
      std::int64_t crc = 0;
      if (!f.integer(Key::kLastRecordCrc, false, 0, UINT32_MAX, &got, &crc)) return false;
      if (got) out->last_record_crc = static_cast<std::uint32_t>(crc);
      return true;
    }
    default:
      break;
  }
  SMSX_ASSERT(false && "an op the parser accepts has no decoder");
  return false;
}

}  // namespace smsx::net
