// Commands and replies of the deterministic simulation, in a form that owns its strings.
//
// smsx::Command holds string views that must outlive Engine::apply; a SimCommand owns the
// strings so that it can be kept (the recent requests a workload retries, the last steps
// printed on a failure) and turned into a Command at any time. The idempotency key is
// derived from (gateway, request_id) exactly as the server does.
//
// format_reply() prints the fields a reply of each op is defined to carry (PROTOCOL.md),
// and nothing else, so two replies that format equally are equal as far as gateways can
// tell. The simulation compares the engine's reply with the model's this way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/command.h"

namespace smsx::sim {

struct SimCommand {
  Op op = Op::kStats;
  uint64_t now_ms = 0;
  std::string gateway;     // the actor; with request_id it makes the idempotency key
  std::string request_id;  // empty for read-only ops and ticks
  uint64_t account = 0;
  uint64_t target = 0;
  Amount amount = 0;
  Amount payout = 0;
  std::optional<Amount> max_price;
  PayMethod method = PayMethod::kNone;
  bool approve = false;
  std::string ref, address, service, country, pool, operator_name, number, text, sender;
  uint32_t max_expired = 0;
  bool replay = false;
  std::vector<uint64_t> replay_expired;

  // A Command viewing this SimCommand's strings (valid while it lives, unchanged).
  Command to_command() const;
};

std::string_view op_name(Op op);
// A deep copy (Reply owns its list data through a unique_ptr).
Reply copy_reply(const Reply& r);
// One line naming the op and every field it uses.
std::string format_command(const SimCommand& c);
// One line with the error, `changed`, `replayed` and the op's reply fields.
std::string format_reply(Op op, const Reply& r);
std::string format_order(const OrderView& v);
std::string format_events(const std::vector<Event>& events);

}  // namespace smsx::sim
