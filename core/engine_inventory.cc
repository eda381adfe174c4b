// Inventory: numbers, SMS delivery, prices and stock.
#include "core/assert.h"
#include "core/code_extract.h"
#include "core/engine.h"
#include "core/limits.h"

namespace smsx {
namespace {

// The number named by a supplier request, if it exists and that supplier owns it. Anyone
// else's number is reported exactly like a missing one (PROTOCOL.md).
std::optional<uint32_t> owned_number(const Inventory& inv, std::string_view digits,
                                     std::string_view supplier) {
  auto phone = pack_phone(digits);
  if (!phone) return std::nullopt;
  auto index = inv.find(*phone);
  if (!index) return std::nullopt;
  const Number& n = inv.number(*index);
  if (inv.names().suppliers.name(n.supplier) != supplier) return std::nullopt;
  return index;
}

}  // namespace

Reply Engine::add_number(const Command& c) {
  auto phone = pack_phone(c.number);
  if (!phone) return error_reply(Error::kBadRequest, "number must be 6 to 15 digits");
  if (!valid_name(c.country) || !valid_name(c.operator_name) || !valid_name(c.pool)) {
    return error_reply(Error::kBadRequest, "country, operator and pool must be names");
  }
  if (c.actor.empty()) return error_reply(Error::kBadRequest, "no supplier");
  Error e = inventory_.add(*phone, c.country, c.operator_name, c.pool, c.actor);
  if (e == Error::kNumberExists) return error_reply(e, "number already registered");
  if (e != Error::kNone) return error_reply(e, "too many names or operators in the pool");
  Reply r;
  r.changed = true;
  r.text = std::string(c.number);
  return r;
}

Reply Engine::remove_number(const Command& c) {
  if (!pack_phone(c.number)) return error_reply(Error::kBadRequest, "bad number");
  auto index = owned_number(inventory_, c.number, c.actor);
  if (!index) return error_reply(Error::kNumberNotFound, "no such number");
  Reply r;
  NumberState before = inventory_.number(*index).state;
  NumberState after = before == NumberState::kRemoving ? before : inventory_.remove(*index);
  r.changed = after != before;
  r.text = std::string(number_state_name(after));
  return r;
}

Reply Engine::deliver_sms(const Command& c, std::vector<Event>* events) {
  if (!pack_phone(c.number)) return error_reply(Error::kBadRequest, "bad number");
  if (c.text.size() > limits::kSmsTextBytesMax || c.sender.size() > limits::kSmsSenderBytesMax) {
    return error_reply(Error::kBadRequest, "text or sender too long");
  }
  auto index = owned_number(inventory_, c.number, c.actor);
  if (!index) return error_reply(Error::kNumberNotFound, "no such number");
  Reply r;
  r.changed = true;
  r.code = extract_code(c.text);
  const Number& n = inventory_.number(*index);
  if (n.order == 0) {
    ++sms_dropped_;  // counted and dropped: no active order on that number
    return r;
  }
  Order* o = orders_.find(n.order);
  SMSX_ASSERT(o != nullptr && o->active());
  if (!o->extras) o->extras = std::make_unique<OrderExtras>();
  if (o->extras->sms.size() < limits::kSmsPerOrderMax) {
    o->extras->sms.push_back(Sms{now_ms_, std::string(c.sender), std::string(c.text), r.code});
  }
  // Any SMS makes the order received: the user has been sent something and can read it,
  // even when no code could be extracted; the number is used for this service from now on.
  o->state = OrderState::kReceived;
  inventory_.mark_used(*index, o->service);
  ++sms_delivered_;
  r.has_order = true;
  r.id = o->id;
  if (events) {
    events->push_back(Event{.kind = EventKind::kOrderSms,
                            .order = o->id,
                            .account = o->account,
                            .at_ms = now_ms_,
                            .code = r.code,
                            .text = std::string(c.text)});
  }
  return r;
}

Reply Engine::set_price(const Command& c) {
  if (!valid_name(c.service) || !valid_name(c.country) || !valid_name(c.pool)) {
    return error_reply(Error::kBadRequest, "service, country and pool must be names");
  }
  if (c.amount < 0 || c.amount > limits::kPriceMax || c.payout < 0 || c.payout > c.amount) {
    return error_reply(Error::kBadRequest, "need 0 <= payout <= price <= 2^31-1");
  }
  Error e = inventory_.set_price(c.service, c.country, c.pool, static_cast<uint32_t>(c.amount),
                                 static_cast<uint32_t>(c.payout));
  if (e != Error::kNone) return error_reply(e, "too many names or pools");
  Reply r;
  r.changed = true;
  return r;
}

Reply Engine::stock(const Command& c) {
  Reply r;
  r.mutable_data().stock = inventory_.stock(c.service, c.country, c.pool);
  return r;
}

}  // namespace smsx
