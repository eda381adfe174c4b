// Request lines in, ParsedRequests out: the decoding half of the protocol codec
// (docs/protocol.md is the reference for every rule enforced here).
//
//   RequestParser parser(config.limits.frame_bytes_max);
//   ParsedRequest request;
//   ParseError error;
//   if (parser.parse(line, framer.readable_bytes_from(line), &request, &error)) { ... }
//
// One pass over the object with simdjson on-demand (error codes, no exceptions) and one
// parser reused for every line. Each known key's value is read into its slot whatever the
// op; once the whole line has been read, the op decides which slots it needs, in the order
// of its fields in docs/protocol.md, and the first missing or ill-typed one is the error.
// So the id is found wherever it appears, and fields that the op does not use are ignored
// even when ill-typed (they must still be valid JSON: the whole line is validated).
//
// Lifetime: every string_view in a ParsedRequest or ParseError (id, token, the Command's
// names and texts) points into the parser's own buffers, never into the input line: it
// stays valid until the next parse on this parser and no longer. Copy what must outlive it.
//
// Not set here: Command::now_ms, key and actor; the server stamps them (key =
// make_request_key(gateway name, id) for ops where needs_id(op) holds).
//
// Bounds: lines up to frame_bytes_max bytes (the parser's buffers are allocated for that
// size up front, never grown); nesting inside ignored fields up to kNestingDepthMax levels.
//
// Single-threaded: one parser per loop thread, not shared.
#pragma once

#include <simdjson.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/command.h"
#include "core/errors.h"
#include "net/roles.h"

namespace smsx::net {

// One bit per event kind a connection may subscribe to.
using EventSet = std::uint8_t;
constexpr EventSet event_bit(EventKind kind) {
  return static_cast<EventSet>(1u << static_cast<unsigned>(kind));
}
// The event kind a subscription names ("order.sms", ...), if any.
std::optional<EventKind> event_kind_from_name(std::string_view name);

struct ParsedRequest {
  std::string_view id;  // empty when the request had none
  OpKind op = OpKind::kStats;
  Command command;         // engine ops: command.op and the op's fields; else default
  std::string_view token;  // hello
  EventSet events = 0;     // subscribe: the kinds listed (an empty list gives 0)
  // replicate: the standby's next LSN, its epoch, its own gateway address (may be empty)
  // and the CRC field of its record at from_lsn - 1 (when it has that record in its log)
  std::uint64_t from_lsn = 0;
  std::uint64_t epoch = 0;
  std::string_view listen;
  std::optional<std::uint32_t> last_record_crc;
};

// Why a line was refused: kBadRequest or kUnknownOp, a message for people that names the
// field, and what was readable of the request so that the server can check the role first
// (`op`) and echo the id in the error reply (`id`, empty when absent or itself invalid).
struct ParseError {
  smsx::Error code = smsx::Error::kNone;
  std::string message;
  std::string_view id;
  std::optional<OpKind> op;
};

class RequestParser {
 public:
  // Values inside ignored fields may nest this deep (the request's own object is level 1).
  static constexpr std::size_t kNestingDepthMax = 32;
  static constexpr std::size_t kFrameBytesMaxDefault = 64 * 1024;
  static constexpr std::size_t kPaddingBytes = simdjson::SIMDJSON_PADDING;

  explicit RequestParser(std::size_t frame_bytes_max = kFrameBytesMaxDefault);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;
  ~RequestParser();

  // Parses `line` in place. At least line.size() + kPaddingBytes bytes must be readable from
  // line.data() (`readable_bytes`), as LineFramer guarantees; their content does not matter.
  // True and *out filled, or false and *error filled (*out is then unspecified).
  bool parse(std::string_view line, std::size_t readable_bytes, ParsedRequest* out,
             ParseError* error);

  // The same for any bytes: copies `line` into a padded buffer the parser owns first. For
  // tests and tools; lines longer than frame_bytes_max are BAD_REQUEST.
  bool parse_copy(std::string_view line, ParsedRequest* out, ParseError* error);

  std::size_t frame_bytes_max() const { return frame_bytes_max_; }

  struct Slots;  // what one line gave for each known key (request_parser.cc)

 private:
  bool read_object(simdjson::ondemand::document& doc, ParseError* error);
  bool decode(ParsedRequest* out, ParseError* error);

  std::size_t frame_bytes_max_;
  simdjson::ondemand::parser json_;
  std::unique_ptr<Slots> slots_;
  std::unique_ptr<char[]> copy_;  // parse_copy's padded buffer: frame_bytes_max + padding
};

}  // namespace smsx::net
