// Replies and events out: the encoding half of the protocol codec (docs/protocol.md lists
// every field written here).
//
// Each write_* call appends exactly one JSON object and a '\n' to *out, the connection's
// output buffer, building it in place: no temporary strings, integers through
// std::to_chars. *out only grows (amortised by std::string), so a batch of replies for one
// write(2) is just consecutive calls on the same buffer.
//
// Replies: {"id":"…","ok":true,<fields of the op>} or {"id":"…","ok":false,"error":"CODE",
// "message":"…"} (plus min_price for MAX_PRICE_TOO_LOW and seconds_left for EARLY_CANCEL).
// "id" comes first and is left out when the request had none.
//
// Strings are escaped as JSON requires: '"' and '\' with a backslash, control characters
// (U+0000..U+001F) as \b \f \n \r \t or \u00XX; everything else, valid UTF-8 included, is
// copied as is. Bytes that are not valid UTF-8 (possible only from a bug, since requests
// are validated as UTF-8) are replaced with U+FFFD, one per maximal invalid subsequence
// (Unicode's recommended practice), so the output is always valid JSON and UTF-8.
//
// Stateless functions; thread-safe for distinct buffers.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "core/command.h"
#include "core/errors.h"
#include "net/config.h"
#include "net/request_parser.h"

namespace smsx::net {

// A field the server adds to a reply (for example its own counters to stats).
struct ExtraField {
  std::string_view name;  // written as is: plain ASCII, at most 64 bytes, never escaped
  std::variant<std::uint64_t, std::int64_t, bool, std::string_view> value;
};

// The reply to an engine op: `command` is the request that was applied (its op picks the
// reply's fields; number.remove echoes its number), `reply` what the engine answered.
// An error reply when reply.error != kNone. `extra` fields follow the op's own on success.
void write_reply(std::string* out, std::string_view id, const Command& command, const Reply& reply,
                 std::span<const ExtraField> extra = {});

// An error reply. An empty `message` is replaced by a generic one for the code.
void write_error(std::string* out, std::string_view id, smsx::Error code, std::string_view message);
// The reply to a line the parser refused (code, message, and the id if it was readable).
void write_parse_error(std::string* out, const ParseError& error);

// Replies to the server's own ops.
void write_hello_reply(std::string* out, std::string_view id, Role role, std::uint64_t epoch,
                       std::uint64_t lsn, bool primary);
// {"id":…,"ok":true} and the extras: subscribe, and anything with no fields of its own.
void write_ok_reply(std::string* out, std::string_view id, std::span<const ExtraField> extra = {});
void write_snapshot_reply(std::string* out, std::string_view id, std::uint64_t lsn,
                          std::string_view path);
void write_promote_reply(std::string* out, std::string_view id, std::uint64_t epoch);
// {"id":…,"ok":true,"lsn":…,"digest":"<16 hex digits>"}: the state after record `lsn`.
void write_digest_reply(std::string* out, std::string_view id, std::uint64_t lsn,
                        std::uint64_t digest);

// One pushed event: {"event":"order.sms",…} (docs/protocol.md "Events").
void write_event(std::string* out, const Event& event);

// `s` as a quoted, escaped JSON string (see above), appended to *out.
void append_json_string(std::string* out, std::string_view s);

}  // namespace smsx::net
