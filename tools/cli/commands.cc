#include "tools/cli/commands.h"

#include <simdjson.h>

#include <cctype>
#include <charconv>
#include <cstdio>

#include "core/assert.h"

namespace smsx::cli {
namespace {

using K = ValueKind;
using net::OpKind;

const std::vector<Command>& table() {
  static const std::vector<Command> kCommands = {
      {"hello", OpKind::kHello, {}, {}, "say hello: the role, epoch and lsn of your token"},
      {"balance",
       OpKind::kBalance,
       {{"ACCOUNT", "account", K::kU64}},
       {},
       "available and held balance of an account"},
      {"deposit",
       OpKind::kDeposit,
       {{"ACCOUNT", "account", K::kU64}, {"AMOUNT", "amount", K::kI64}},
       {{"--method", "method", K::kString, true, "card or crypto"},
        {"--ref", "ref", K::kString, true, "the processor's receipt id or transaction hash"},
        {"--from-address", "from_address", K::kString, false, "origin address (crypto)"}},
       "credit an account (payments)"},
      {"deposit refund",
       OpKind::kDepositRefund,
       {{"DEPOSIT", "deposit", K::kU64}},
       {{"--to-address", "to_address", K::kString, false, "must be the deposit's origin"}},
       "refund a deposit in full (payments)"},
      {"order place",
       OpKind::kOrderPlace,
       {{"ACCOUNT", "account", K::kU64},
        {"SERVICE", "service", K::kString},
        {"COUNTRY", "country", K::kString}},
       {{"--pool", "pool", K::kString, false, "only this pool"},
        {"--operator", "operator", K::kString, false, "only numbers of this operator"},
        {"--max-price", "max_price", K::kI64, false, "refuse anything dearer"}},
       "buy a number for a service (customer)"},
      {"order get",
       OpKind::kOrderGet,
       {{"ORDER", "order", K::kU64}},
       {},
       "an order with its state and SMS"},
      {"order cancel",
       OpKind::kOrderCancel,
       {{"ORDER", "order", K::kU64}},
       {},
       "cancel an order that got no SMS; refunds it (customer)"},
      {"order finish",
       OpKind::kOrderFinish,
       {{"ORDER", "order", K::kU64}},
       {},
       "finish an order that got a code; charges it (customer)"},
      {"order retry",
       OpKind::kOrderRetry,
       {{"ORDER", "order", K::kU64}},
       {},
       "ask for another SMS (customer)"},
      {"order dispute",
       OpKind::kOrderDispute,
       {{"ORDER", "order", K::kU64}, {"REASON", "reason", K::kString}},
       {},
       "say the code was rejected (customer)"},
      {"orders active",
       OpKind::kOrdersActive,
       {{"ACCOUNT", "account", K::kU64}},
       {},
       "an account's active orders"},
      {"number add",
       OpKind::kNumberAdd,
       {{"NUMBER", "number", K::kString},
        {"COUNTRY", "country", K::kString},
        {"OPERATOR", "operator", K::kString},
        {"POOL", "pool", K::kString}},
       {},
       "add a number to the inventory (supplier)"},
      {"number remove",
       OpKind::kNumberRemove,
       {{"NUMBER", "number", K::kString}},
       {},
       "take a number out of the inventory (supplier)"},
      {"sms deliver",
       OpKind::kSmsDeliver,
       {{"NUMBER", "number", K::kString}, {"TEXT", "text", K::kString}},
       {{"--sender", "sender", K::kString, false, "who sent it"}},
       "deliver an SMS to a number (supplier)"},
      {"payouts pending", OpKind::kPayoutsPending, {}, {}, "refunds not yet paid out (payments)"},
      {"payout confirm",
       OpKind::kPayoutConfirm,
       {{"REFUND", "refund", K::kU64}},
       {{"--txid", "txid", K::kString, false, "the payout's transaction id"}},
       "mark a refund paid (payments)"},
      {"stock",
       OpKind::kStock,
       {},
       {{"--service", "service", K::kString, false, "filter"},
        {"--country", "country", K::kString, false, "filter"},
        {"--pool", "pool", K::kString, false, "filter"}},
       "priced pools and their free numbers"},
      {"price set",
       OpKind::kPriceSet,
       {{"SERVICE", "service", K::kString},
        {"COUNTRY", "country", K::kString},
        {"POOL", "pool", K::kString},
        {"PRICE", "price", K::kI64},
        {"PAYOUT", "payout", K::kI64}},
       {},
       "set a pool's price and supplier payout (admin)"},
      {"dispute resolve",
       OpKind::kDisputeResolve,
       {{"ORDER", "order", K::kU64}, {"approve|reject", "approve", K::kApprove}},
       {},
       "approve (credit back) or reject a dispute (admin)"},
      {"stats", OpKind::kStats, {}, {}, "the server's counters (admin)"},
      {"subscribe",
       OpKind::kSubscribe,
       {{"EVENT...", "events", K::kEvents}},
       {},
       "print events as they come (order.sms order.expired order.finished refund.payout)"},
      {"snapshot", OpKind::kSnapshot, {}, {}, "write a snapshot now (admin)"},
      {"promote", OpKind::kPromote, {}, {}, "make a standby the primary (admin)"},
      {"digest", OpKind::kDigest, {}, {}, "the state digest and its lsn (admin; walks all state)"},
  };
  return kCommands;
}

bool valid_integer(const std::string& v, ValueKind kind) {
  if (v.empty()) return false;
  const char* end = v.data() + v.size();
  if (kind == ValueKind::kU64) {
    uint64_t out;
    auto r = std::from_chars(v.data(), end, out);
    return r.ec == std::errc() && r.ptr == end;
  }
  int64_t out;
  auto r = std::from_chars(v.data(), end, out);
  return r.ec == std::errc() && r.ptr == end;
}

// The JSON value of `v` for `kind`, or nullopt.
std::optional<std::string> encode(const std::string& v, ValueKind kind) {
  switch (kind) {
    case ValueKind::kU64:
    case ValueKind::kI64:
      if (!valid_integer(v, kind)) return std::nullopt;
      return v;
    case ValueKind::kString:
      return json_string(v);
    case ValueKind::kApprove:
      if (v == "approve" || v == "true") return "true";
      if (v == "reject" || v == "false") return "false";
      return std::nullopt;
    case ValueKind::kEvents:
      return std::nullopt;  // built from several words by build_fields
  }
  return std::nullopt;
}

std::string expected(ValueKind kind) {
  switch (kind) {
    case ValueKind::kU64:
      return "an unsigned integer";
    case ValueKind::kI64:
      return "an integer";
    case ValueKind::kApprove:
      return "approve or reject";
    default:
      return "a value";
  }
}

}  // namespace

std::span<const Command> commands() { return table(); }

const Command* find_command(std::span<const std::string> args, size_t* used) {
  if (args.empty()) return nullptr;
  std::string first = args[0];
  for (char& ch : first) {
    if (ch == '.') ch = ' ';
  }
  const Command* one_word = nullptr;
  for (const Command& c : table()) {
    if (args.size() >= 2 && c.words == first + " " + args[1]) {
      *used = 2;
      return &c;
    }
    if (c.words == first) one_word = &c;
  }
  *used = 1;
  return one_word;
}

std::string usage_line(const Command& c) {
  std::string out = std::string("smsx ") + c.words;
  for (const ArgSpec& a : c.args) out += std::string(" ") + a.name;
  for (const OptSpec& o : c.opts) {
    std::string value = o.flag + 2;
    for (char& ch : value) ch = ch == '-' ? '_' : static_cast<char>(std::toupper(ch));
    std::string opt = std::string(o.flag) + " " + value;
    out += o.required ? " " + opt : " [" + opt + "]";
  }
  return out;
}

std::string command_help(const Command& c) {
  std::string out = "usage: " + usage_line(c) + " [--json] [--id ID]\n\n" + c.summary + "\n";
  out += "op: " + std::string(net::op_name(c.op)) + "\n";
  if (!c.opts.empty()) out += "\noptions:\n";
  for (const OptSpec& o : c.opts) {
    char line[256];
    std::snprintf(line, sizeof line, "  %-16s %s%s\n", o.flag, o.help,
                  o.required ? " (required)" : "");
    out += line;
  }
  out += "\nrun 'smsx --help' for the connection flags (--addr, --token, --config)\n";
  return out;
}

std::optional<std::string> build_fields(
    const Command& c, std::span<const std::string> positional,
    const std::vector<std::pair<std::string, std::string>>& opts, std::string* error) {
  std::string out;
  size_t i = 0;
  for (const ArgSpec& a : c.args) {
    if (a.kind == ValueKind::kEvents) {
      SMSX_ASSERT(&a == &c.args.back());  // it takes every remaining word
      out += std::string(",\"") + a.field + "\":[";
      for (size_t k = i; k < positional.size(); ++k) {
        out += (k > i ? "," : "") + json_string(positional[k]);
      }
      out += "]";
      i = positional.size();
      continue;
    }
    if (i >= positional.size()) {
      *error = std::string("missing ") + a.name;
      return std::nullopt;
    }
    auto value = encode(positional[i], a.kind);
    if (!value) {
      *error =
          std::string(a.name) + ": expected " + expected(a.kind) + ", got '" + positional[i] + "'";
      return std::nullopt;
    }
    out += std::string(",\"") + a.field + "\":" + *value;
    ++i;
  }
  if (i < positional.size()) {
    *error = "unexpected argument '" + positional[i] + "'";
    return std::nullopt;
  }
  for (const OptSpec& o : c.opts) {
    const std::pair<std::string, std::string>* given = nullptr;
    for (const auto& kv : opts) {
      if (kv.first == o.flag) given = &kv;
    }
    if (given == nullptr) {
      if (o.required) {
        *error = std::string("missing ") + o.flag;
        return std::nullopt;
      }
      continue;
    }
    auto value = encode(given->second, o.kind);
    if (!value) {
      *error =
          std::string(o.flag) + ": expected " + expected(o.kind) + ", got '" + given->second + "'";
      return std::nullopt;
    }
    out += std::string(",\"") + o.field + "\":" + *value;
  }
  return out;
}

std::optional<std::string> build_call_fields(std::span<const std::string> words,
                                             std::string* error) {
  std::string out;
  simdjson::dom::parser parser;
  for (const std::string& w : words) {
    size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0 || (eq == 1 && w[0] == ':')) {
      *error = "expected FIELD=VALUE or FIELD:=JSON, got '" + w + "'";
      return std::nullopt;
    }
    bool raw = w[eq - 1] == ':';
    std::string key = w.substr(0, raw ? eq - 1 : eq), value = w.substr(eq + 1);
    if (raw) {
      simdjson::dom::element doc;
      if (parser.parse(value).get(doc) != simdjson::SUCCESS) {
        *error = key + ":= expects JSON, got '" + value + "'";
        return std::nullopt;
      }
      out += "," + json_string(key) + ":" + value;
    } else {
      out += "," + json_string(key) + ":" + json_string(value);
    }
  }
  return out;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (unsigned char ch : text) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (ch < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", ch);
          out += esc;
        } else {
          out += static_cast<char>(ch);
        }
    }
  }
  return out + "\"";
}

}  // namespace smsx::cli
