#include "net/reply_writer.h"

#include <array>
#include <charconv>
#include <cstring>

#include "core/assert.h"

namespace smsx::net {
namespace {

// The stats reply writes every counter of EngineStats: a new counter must be added there.
static_assert(sizeof(EngineStats) == 16 * sizeof(std::uint64_t),
              "EngineStats changed: update write_stats()");

// Said when the engine gave no message (people read it; gateways act on `error`).
std::string_view default_message(smsx::Error code) {
  switch (code) {
    case smsx::Error::kNone:
      return "";
    case smsx::Error::kBadRequest:
      return "bad request";
    case smsx::Error::kUnknownOp:
      return "unknown op";
    case smsx::Error::kFrameTooLarge:
      return "request line longer than frame_bytes_max";
    case smsx::Error::kUnauthorized:
      return "send hello with a valid token first";
    case smsx::Error::kForbidden:
      return "this gateway's role may not do that";
    case smsx::Error::kReadOnly:
      return "this server is a standby: it refuses writes";
    case smsx::Error::kOverloaded:
      return "overloaded";
    default:
      return "refused";
  }
}

void append_escaped(std::string* out, std::string_view s);
bool needs_escaping(std::string_view s);

// One JSON object being appended. Each field's key, separator and (for numbers and
// literals) value are assembled on the stack and appended at once: one capacity check per
// field rather than one per piece. Keys are trusted ASCII (never escaped).
class Object {
 public:
  static constexpr std::size_t kKeyBytesMax = 64;

  explicit Object(std::string* out) : out_(out) {}
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  // Appends the key; the caller appends the value.
  std::string* key(std::string_view name) {
    char buf[kScratchBytes];
    out_->append(buf, begin(buf, name));
    return out_;
  }
  Object& u64(std::string_view name, std::uint64_t v) { return number(name, v); }
  Object& i64(std::string_view name, std::int64_t v) { return number(name, v); }
  Object& boolean(std::string_view name, bool v) { return literal(name, v ? "true" : "false"); }
  Object& null(std::string_view name) { return literal(name, "null"); }
  // A short value that needs no escaping (ids, names, numbers, codes: nearly every value)
  // goes out with its key in one append.
  [[gnu::always_inline]] Object& str(std::string_view name, std::string_view v) {
    char buf[kStringScratchBytes];
    std::size_t n = begin(buf, name);
    buf[n++] = '"';
    if (v.size() <= kShortValueBytesMax && !needs_escaping(v)) {
      std::memcpy(buf + n, v.data(), v.size());
      n += v.size();
      buf[n++] = '"';
      out_->append(buf, n);
      return *this;
    }
    out_->append(buf, n);
    append_escaped(out_, v);
    out_->push_back('"');
    return *this;
  }
  Object& extra(std::span<const ExtraField> fields) {
    for (const ExtraField& f : fields) {
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::uint64_t>) {
              u64(f.name, v);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
              i64(f.name, v);
            } else if constexpr (std::is_same_v<T, bool>) {
              boolean(f.name, v);
            } else {
              str(f.name, v);
            }
          },
          f.value);
    }
    return *this;
  }
  void close() { out_->append(first_ ? "{}" : "}"); }
  // Closes a top-level object: one line.
  void end_line() { out_->append(first_ ? "{}\n" : "}\n"); }

 private:
  // Separator, two quotes, colon, then room for a 20-digit number and its sign.
  static constexpr std::size_t kScratchBytes = kKeyBytesMax + 4 + 21;
  static constexpr std::size_t kShortValueBytesMax = 64;
  // Separator, key, colon and a short string value with its quotes.
  static constexpr std::size_t kStringScratchBytes = kKeyBytesMax + 4 + kShortValueBytesMax + 2;

  // Writes `{"name":` (first field) or `,"name":` into buf; returns its length. Inlined, so
  // that the copy of a literal name has a known length.
  [[gnu::always_inline]] std::size_t begin(char* buf, std::string_view name) {
    SMSX_ASSERT(name.size() <= kKeyBytesMax);
    buf[0] = first_ ? '{' : ',';
    first_ = false;
    buf[1] = '"';
    std::memcpy(buf + 2, name.data(), name.size());
    std::size_t n = 2 + name.size();
    buf[n++] = '"';
    buf[n++] = ':';
    return n;
  }
  template <typename Int>
  [[gnu::always_inline]] Object& number(std::string_view name, Int v) {
    char buf[kScratchBytes];
    const std::size_t n = begin(buf, name);
    auto [end, ec] = std::to_chars(buf + n, buf + sizeof(buf), v);
    SMSX_ASSERT(ec == std::errc());
    out_->append(buf, static_cast<std::size_t>(end - buf));
    return *this;
  }
  [[gnu::always_inline]] Object& literal(std::string_view name, std::string_view text) {
    char buf[kScratchBytes];
    std::size_t n = begin(buf, name);
    std::memcpy(buf + n, text.data(), text.size());
    out_->append(buf, n + text.size());
    return *this;
  }

  std::string* out_;
  bool first_ = true;
};

// The start of every reply: {"id":…,"ok":…
void begin_reply(Object& o, std::string_view id, bool ok) {
  if (!id.empty()) o.str("id", id);
  o.boolean("ok", ok);
}

template <typename T, typename Fn>
void write_list(std::string* out, const std::vector<T>& items, Fn&& write_item) {
  out->push_back('[');
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out->push_back(',');
    Object item(out);
    write_item(item, items[i]);
    item.close();
  }
  out->push_back(']');
}

// The fields of an order as order.get gives them (also each element of orders.active).
void write_order(Object& o, const OrderView& v) {
  o.u64("order", v.order).u64("account", v.account).str("state", order_state_name(v.state));
  o.str("number", v.number).str("service", v.service).str("country", v.country);
  o.str("pool", v.pool).i64("price", v.price);
  o.u64("created_at", v.created_at_ms).u64("expires_at", v.expires_at_ms);
  write_list(o.key("sms"), v.sms, [](Object& s, const Sms& sms) {
    s.u64("at", sms.at_ms).str("sender", sms.sender).str("text", sms.text);
    if (sms.code) {
      s.str("code", *sms.code);
    } else {
      s.null("code");
    }
  });
}

void write_stats(Object& o, const EngineStats& s) {
  o.u64("active_orders", s.active_orders).u64("closed_orders_kept", s.closed_orders_kept);
  o.u64("accounts", s.accounts).u64("numbers_free", s.numbers_free);
  o.u64("numbers_busy", s.numbers_busy).u64("numbers_removed", s.numbers_removed);
  o.u64("orders_placed", s.orders_placed).u64("orders_expired", s.orders_expired);
  o.u64("orders_finished", s.orders_finished).u64("orders_cancelled", s.orders_cancelled);
  o.u64("sms_delivered", s.sms_delivered).u64("sms_dropped", s.sms_dropped);
  o.u64("deposits", s.deposits).u64("payouts_pending", s.payouts_pending);
  o.u64("remembered_requests", s.remembered_requests).u64("engine_time", s.engine_time_ms);
}

const ReplyData& data_of(const Reply& reply) {
  static const ReplyData kEmpty;
  return reply.data ? *reply.data : kEmpty;
}

// The op's own fields of a successful reply.
void write_fields(Object& o, const Command& c, const Reply& r) {
  switch (c.op) {
    case Op::kBalance:
      o.i64("available", r.available).i64("held", r.held);
      return;
    case Op::kDeposit:
      o.u64("deposit", r.id).i64("available", r.available);
      return;
    case Op::kDepositRefund:
      o.u64("refund", r.id).i64("amount", r.amount).str("destination", r.text);
      return;
    case Op::kOrderPlace:
      o.u64("order", r.id).str("number", r.text).i64("price", r.amount);
      o.u64("expires_at", r.expires_at_ms);
      return;
    case Op::kOrderGet:
      SMSX_ASSERT(r.data != nullptr);
      write_order(o, r.data->order);
      return;
    case Op::kOrderCancel:
      o.i64("refunded", r.amount);
      return;
    case Op::kOrderFinish:
      o.i64("charged", r.amount);
      return;
    case Op::kOrderRetry:
    case Op::kOrderDispute:
      o.str("state", order_state_name(r.state));
      return;
    case Op::kOrdersActive:
      write_list(o.key("orders"), data_of(r).orders, write_order);
      return;
    case Op::kNumberAdd:
      o.str("number", c.number);
      return;
    case Op::kNumberRemove:
      o.str("number", c.number).str("state", r.text);
      return;
    case Op::kSmsDeliver:
      if (r.has_order) {
        o.u64("order", r.id);
      } else {
        o.null("order");
      }
      if (r.code) {
        o.str("code", *r.code);
      } else {
        o.null("code");
      }
      return;
    case Op::kPayoutsPending:
      write_list(o.key("payouts"), data_of(r).payouts, [](Object& p, const PayoutView& v) {
        p.u64("refund", v.refund).u64("deposit", v.deposit).u64("account", v.account);
        p.i64("amount", v.amount).str("method", pay_method_name(v.method));
        p.str("destination", v.destination).u64("at", v.at_ms);
      });
      return;
    case Op::kPayoutConfirm:
      o.u64("refund", r.id).str("state", "paid");
      return;
    case Op::kStock:
      write_list(o.key("stock"), data_of(r).stock, [](Object& s, const StockRow& row) {
        s.str("service", row.service).str("country", row.country).str("pool", row.pool);
        s.i64("price", row.price).u64("free", row.free);
      });
      return;
    case Op::kPriceSet:
      return;
    case Op::kDisputeResolve:
      o.i64("credited", r.amount);
      return;
    case Op::kStats:
      write_stats(o, data_of(r).stats);
      return;
    case Op::kTick:
    case Op::kCount:
      break;
  }
  SMSX_ASSERT(false && "not an op of the wire");
}

// Decodes the UTF-8 sequence at p[0] (n >= 1 bytes available, p[0] >= 0x80). Returns its
// length when valid; otherwise the length of its maximal invalid subpart (>= 1), negated.
std::ptrdiff_t utf8_sequence(const unsigned char* p, std::size_t n) {
  const unsigned char c = p[0];
  std::size_t continuation;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte (Unicode Table 3-7)
  if (c >= 0xC2 && c <= 0xDF) {
    continuation = 1;
  } else if (c == 0xE0) {
    continuation = 2;
    lo = 0xA0;
  } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    continuation = 2;
  } else if (c == 0xED) {
    continuation = 2;
    hi = 0x9F;  // no surrogates
  } else if (c == 0xF0) {
    continuation = 3;
    lo = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3) {
    continuation = 3;
  } else if (c == 0xF4) {
    continuation = 3;
    hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return -1;
  }
  for (std::size_t k = 1; k <= continuation; ++k) {
    if (k >= n || p[k] < lo || p[k] > hi) return -static_cast<std::ptrdiff_t>(k);
    lo = 0x80;
    hi = 0xBF;
  }
  return static_cast<std::ptrdiff_t>(continuation + 1);
}

void append_escape(std::string* out, unsigned char c) {
  switch (c) {
    case '"':
      out->append("\\\"");
      return;
    case '\\':
      out->append("\\\\");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\f':
      out->append("\\f");
      return;
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\t':
      out->append("\\t");
      return;
    default: {
      constexpr char kHex[] = "0123456789abcdef";
      const char escaped[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out->append(escaped, sizeof(escaped));
      return;
    }
  }
}

// Bytes that are not copied as they are: controls, '"', '\\', and every non-ASCII byte
// (checked as UTF-8).
constexpr std::array<bool, 256> kNeedsCare = [] {
  std::array<bool, 256> care{};
  for (int c = 0; c < 256; ++c) care[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  return care;
}();

bool needs_escaping(std::string_view s) {
  for (const char c : s) {
    if (kNeedsCare[static_cast<unsigned char>(c)]) return true;
  }
  return false;
}

// The inside of a JSON string: `s` escaped (see the header), without the quotes.
void append_escaped(std::string* out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t run = 0;  // start of the bytes not yet copied
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (!kNeedsCare[c]) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const std::ptrdiff_t length = utf8_sequence(p + i, n - i);
      if (length > 0) {
        i += static_cast<std::size_t>(length);
        continue;
      }
      out->append(s.data() + run, i - run);
      out->append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
      i += static_cast<std::size_t>(-length);
      run = i;
      continue;
    }
    out->append(s.data() + run, i - run);
    append_escape(out, c);
    run = ++i;
  }
  out->append(s.data() + run, n - run);
}

}  // namespace

void append_json_string(std::string* out, std::string_view s) {
  out->push_back('"');
  append_escaped(out, s);
  out->push_back('"');
}

void write_reply(std::string* out, std::string_view id, const Command& command, const Reply& reply,
                 std::span<const ExtraField> extra) {
  if (reply.error != smsx::Error::kNone) {
    Object o(out);
    begin_reply(o, id, false);
    o.str("error", error_name(reply.error));
    o.str("message", reply.message.empty() ? default_message(reply.error) : reply.message);
    if (reply.error == smsx::Error::kMaxPriceTooLow) o.i64("min_price", reply.amount);
    if (reply.error == smsx::Error::kEarlyCancel) o.u64("seconds_left", reply.seconds_left);
    o.end_line();
    return;
  }
  Object o(out);
  begin_reply(o, id, true);
  write_fields(o, command, reply);
  o.extra(extra);
  o.end_line();
}

void write_error(std::string* out, std::string_view id, smsx::Error code,
                 std::string_view message) {
  SMSX_ASSERT(code != smsx::Error::kNone);
  Object o(out);
  begin_reply(o, id, false);
  o.str("error", error_name(code));
  o.str("message", message.empty() ? default_message(code) : message);
  o.end_line();
}

void write_parse_error(std::string* out, const ParseError& error) {
  write_error(out, error.id, error.code, error.message);
}

void write_hello_reply(std::string* out, std::string_view id, Role role, std::uint64_t epoch,
                       std::uint64_t lsn, bool primary) {
  Object o(out);
  begin_reply(o, id, true);
  o.str("role", role_name(role)).u64("epoch", epoch).u64("lsn", lsn).boolean("primary", primary);
  o.end_line();
}

void write_ok_reply(std::string* out, std::string_view id, std::span<const ExtraField> extra) {
  Object o(out);
  begin_reply(o, id, true);
  o.extra(extra);
  o.end_line();
}

void write_snapshot_reply(std::string* out, std::string_view id, std::uint64_t lsn,
                          std::string_view path) {
  Object o(out);
  begin_reply(o, id, true);
  o.u64("lsn", lsn).str("path", path);
  o.end_line();
}

void write_digest_reply(std::string* out, std::string_view id, std::uint64_t lsn,
                        std::uint64_t digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  char hex[16];
  for (int i = 0; i < 16; ++i) hex[i] = kHex[(digest >> (60 - 4 * i)) & 0xf];
  Object o(out);
  begin_reply(o, id, true);
  o.u64("lsn", lsn).str("digest", std::string_view(hex, sizeof hex));
  o.end_line();
}

void write_promote_reply(std::string* out, std::string_view id, std::uint64_t epoch) {
  Object o(out);
  begin_reply(o, id, true);
  o.u64("epoch", epoch);
  o.end_line();
}

void write_event(std::string* out, const Event& e) {
  Object o(out);
  o.str("event", event_name(e.kind));
  switch (e.kind) {
    case EventKind::kOrderSms:
      o.u64("order", e.order).u64("account", e.account);
      if (e.code) {
        o.str("code", *e.code);
      } else {
        o.null("code");
      }
      o.str("text", e.text);
      break;
    case EventKind::kOrderExpired:
      o.u64("order", e.order).u64("account", e.account).i64("refunded", e.amount);
      break;
    case EventKind::kOrderFinished:
      o.u64("order", e.order).u64("account", e.account).i64("charged", e.amount);
      o.boolean("auto", e.auto_finish);
      break;
    case EventKind::kRefundPayout:
      o.u64("refund", e.refund).u64("deposit", e.deposit).u64("account", e.account);
      o.i64("amount", e.amount).str("method", pay_method_name(e.method));
      o.str("destination", e.destination);
      break;
  }
  o.u64("at", e.at_ms);
  o.end_line();
}

}  // namespace smsx::net
