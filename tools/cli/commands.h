// The CLI's commands: one per operation of PROTOCOL.md, named by the op's words
// (`order place` for order.place; the dotted name works too), with the op's required
// fields as positional arguments in the protocol's order and its optional fields as
// `--flags`. This table is the single source of the usage lines, the help and the request
// each command sends. Values are checked here as far as their JSON type goes (integers,
// booleans, event lists); names, phone numbers and ranges are left to the server, whose
// BAD_REQUEST names the field.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/roles.h"

namespace smsx::cli {

enum class ValueKind { kU64, kI64, kString, kApprove, kEvents };

struct ArgSpec {
  const char* name;   // ACCOUNT, shown in usage
  const char* field;  // the request field it fills
  ValueKind kind;
};

struct OptSpec {
  const char* flag;   // --max-price
  const char* field;  // max_price
  ValueKind kind;
  bool required;
  const char* help;
};

struct Command {
  const char* words;  // "order place"
  net::OpKind op;
  std::vector<ArgSpec> args;  // a kEvents argument takes every remaining word
  std::vector<OptSpec> opts;
  const char* summary;
};

// Every command, in the order of `smsx --help`.
std::span<const Command> commands();

// The command named by args[0] (and args[1] for two-word commands, or a dotted op name);
// *used is how many words it took.
const Command* find_command(std::span<const std::string> args, size_t* used);

// "smsx order place ACCOUNT SERVICE COUNTRY [--pool P] ..." on one line.
std::string usage_line(const Command& c);
// The usage line, the summary and every option with its help.
std::string command_help(const Command& c);

// The fields of one request as JSON members (",\"account\":1001,..."), from the positional
// words and the options (flag -> value) that were given; nullopt with *error when a value
// is missing or not of its kind.
std::optional<std::string> build_fields(
    const Command& c, std::span<const std::string> positional,
    const std::vector<std::pair<std::string, std::string>>& opts, std::string* error);

// `smsx call OP FIELD=VALUE FIELD:=JSON ...`: any op by its wire name, for ops this table
// does not have yet. FIELD=VALUE sends VALUE as a string; FIELD:=JSON sends JSON as it is
// (numbers, true/false, lists), which must be valid JSON. nullopt with *error otherwise.
std::optional<std::string> build_call_fields(std::span<const std::string> words,
                                             std::string* error);

// A JSON string literal of `text`, quotes included.
std::string json_string(std::string_view text);

}  // namespace smsx::cli
