// Commands as WAL records: the record type is the command's Op (u8) and the payload a compact
// binary encoding of every field that op reads (docs/wal_format.md, "Command records").
//
// What is logged: every command whose reply has `changed` set, in apply order. A tick is
// logged with the ids of the orders it expired (Reply::expired) and decodes as a replayed
// tick (Command::replay, replay_expired), so recovery and the standby expire exactly those
// orders instead of timing them again.
//
// Lifetime: a DecodedCommand's string fields are views into the payload that was decoded,
// and replay_expired views the DecodedCommand's own storage. Both must outlive
// Engine::apply of the command: decode, apply, then read the next record. A DecodedCommand
// may be moved (the storage moves with it) but not copied.
//
// Decoding trusts nothing: the type, every flag bit, every length and bound is checked, and
// the payload must be consumed exactly; anything else is a corruption Status. Pure
// functions, no state: any thread may call them.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/command.h"
#include "persistence/status.h"
#include "persistence/wal_record.h"

namespace smsx::persistence {

// Command times are stored as milliseconds since this epoch (2024-01-01T00:00:00Z), so a time
// between 2024 and 2163 takes 6 varint bytes instead of the 6-7 of a Unix time in ms. Times
// before it are stored as the distance back (flag bit 1). Changing it changes the format.
inline constexpr uint64_t kCommandEpochMs = 1'704'067'200'000;

// True for the types of command records: the ops that may change state (is_mutating).
// This is the WAL reader's is_known_type.
bool is_command_type(uint8_t type);

// The record type of a command of this op.
inline uint8_t command_record_type(Op op) { return static_cast<uint8_t>(op); }

// Replaces *out with the payload of `command`'s record (its reply gives a tick's expired ids)
// and returns the record type. The op must be mutating (asserted); only commands whose reply
// had `changed` set are meant to be logged.
uint8_t encode_command(const Command& command, const Reply& reply, std::vector<uint8_t>* out);

struct DecodedCommand {
  DecodedCommand() = default;
  DecodedCommand(const DecodedCommand&) = delete;
  DecodedCommand& operator=(const DecodedCommand&) = delete;
  DecodedCommand(DecodedCommand&&) = default;
  DecodedCommand& operator=(DecodedCommand&&) = default;

  Command command;                // strings view the payload; see "Lifetime" above
  std::vector<uint64_t> expired;  // a tick's expired ids, viewed by command.replay_expired
};

// Decodes one payload; the error says what is wrong at which payload byte.
Status decode_command(uint8_t type, std::span<const uint8_t> payload, DecodedCommand* out);
// The same for a record read from the WAL; the error also names its LSN and type.
Status decode_command(const WalRecord& record, DecodedCommand* out);

}  // namespace smsx::persistence
