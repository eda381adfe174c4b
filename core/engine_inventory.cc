// Inventory: numbers, SMS delivery, prices and stock.
#include "core/assert.h"
#include "core/code_extract.h"
#include "core/engine.h"
#include "core/limits.h"

namespace smsx {
namespace {

// The number named by a supplier request, if it exists and that supplier owns it. Anyone
// else's number is reported exactly like a missing one (PROTOCOL.md).
std::optional<uint32_t> owned_number(const Inventory& inv, PackedPhone phone,
                                     std::string_view supplier) {
  auto index = inv.find(phone);
  if (!index) return std::nullopt;
  const Number& n = inv.number(*index);
  if (inv.names().suppliers.name(n.supplier) != supplier) return std::nullopt;
  return index;
}

}  // namespace

void Engine::add_number(const Command& c, Reply& r) {
  auto phone = pack_phone(c.number);
  if (!phone) return fail(r, Error::kBadRequest, "number must be 6 to 15 digits");
  if (!valid_name(c.country) || !valid_name(c.operator_name) || !valid_name(c.pool)) {
    return fail(r, Error::kBadRequest, "country, operator and pool must be names");
  }
  if (c.actor.empty()) return fail(r, Error::kBadRequest, "no supplier");
  Error e = inventory_.add(*phone, c.country, c.operator_name, c.pool, c.actor);
  if (e == Error::kNumberExists) return fail(r, e, "number already registered");
  if (e != Error::kNone) return fail(r, e, "too many names or operators in the pool");
  r.changed = true;
  r.text = std::string(c.number);
}

void Engine::remove_number(const Command& c, Reply& r) {
  auto phone = pack_phone(c.number);
  if (!phone) return fail(r, Error::kBadRequest, "bad number");
  auto index = owned_number(inventory_, *phone, c.actor);
  if (!index) return fail(r, Error::kNumberNotFound, "no such number");
  NumberState before = inventory_.number(*index).state;
  NumberState after = before == NumberState::kRemoving ? before : inventory_.remove(*index);
  r.changed = after != before;
  r.text = std::string(number_state_name(after));
}

void Engine::deliver_sms(const Command& c, std::vector<Event>* events, Reply& r) {
  auto phone = pack_phone(c.number);
  if (!phone) return fail(r, Error::kBadRequest, "bad number");
  if (c.text.size() > limits::kSmsTextBytesMax || c.sender.size() > limits::kSmsSenderBytesMax) {
    return fail(r, Error::kBadRequest, "text or sender too long");
  }
  auto index = owned_number(inventory_, *phone, c.actor);
  if (!index) return fail(r, Error::kNumberNotFound, "no such number");
  r.changed = true;
  r.code = extract_code(c.text);
  const Number& n = inventory_.number(*index);
  if (n.order == 0) {
    ++sms_dropped_;  // counted and dropped: no active order on that number
    return;
  }
  Order* o = orders_.find(n.order);
  SMSX_ASSERT(o != nullptr && o->active());
  if (!o->extras) o->extras = std::make_unique<OrderExtras>();
  if (o->extras->sms.size() < limits::kSmsPerOrderMax) {
    Sms& sms = o->extras->sms.emplace_back();  // built in place: no strings moved
    sms.at_ms = now_ms_;
    sms.sender = c.sender;
    sms.text = c.text;
    sms.code = r.code;
  }
  // Any SMS makes the order received: the user has been sent something and can read it,
  // even when no code could be extracted; the number is used for this service from now on.
  o->state = OrderState::kReceived;
  inventory_.mark_used(*index, o->service);
  ++sms_delivered_;
  r.has_order = true;
  r.id = o->id();
  if (events) {
    events->push_back(Event{.kind = EventKind::kOrderSms,
                            .order = o->id(),
                            .account = o->account,
                            .at_ms = now_ms_,
                            .code = r.code,
                            .text = std::string(c.text)});
  }
}

void Engine::set_price(const Command& c, Reply& r) {
  if (!valid_name(c.service) || !valid_name(c.country) || !valid_name(c.pool)) {
    return fail(r, Error::kBadRequest, "service, country and pool must be names");
  }
  if (c.amount < 0 || c.amount > limits::kPriceMax || c.payout < 0 || c.payout > c.amount) {
    return fail(r, Error::kBadRequest, "need 0 <= payout <= price <= 2^31-1");
  }
  Error e = inventory_.set_price(c.service, c.country, c.pool, static_cast<uint32_t>(c.amount),
                                 static_cast<uint32_t>(c.payout));
  if (e != Error::kNone) return fail(r, e, "too many names or pools");
  r.changed = true;
}

void Engine::stock(const Command& c, Reply& r) {
  r.mutable_data().stock = inventory_.stock(c.service, c.country, c.pool);
}

}  // namespace smsx
