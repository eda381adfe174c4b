// The order actions: getNumber, getNumberV2, getStatus, setStatus.
#include <cstring>
#include <ctime>

#include "tools/activate_gateway/gateway.h"
#include "tools/activate_gateway/money.h"
#include "tools/activate_gateway/order_view.h"
#include "tools/activate_gateway/reply_json.h"

namespace smsx::activate {

void Gateway::get_number(Call call, const Params& params, bool v2) {
  const std::string_view service = params.get("service").value_or("");
  if (!engine_name_valid(service)) return text(call, "BAD_SERVICE");
  std::string country_id(params.get("country").value_or(""));
  if (country_id.empty()) country_id = config_.default_country;
  const std::string_view country = config_.countries.to_engine(country_id);
  if (!engine_name_valid(country)) return text(call, "NO_NUMBERS");  // no such country
  std::string_view op = params.get("operator").value_or("");
  op = op.substr(0, op.find(','));  // a list: the engine takes one operator, the first
  if (op == "any") op = {};
  if (!op.empty() && !engine_name_valid(op)) return text(call, "NO_NUMBERS");
  std::string fields = ",\"account\":" + std::to_string(call.account) + ",\"service\":\"" +
                       std::string(service) + "\",\"country\":\"" + std::string(country) + "\"";
  if (!op.empty()) fields += ",\"operator\":\"" + std::string(op) + "\"";
  const std::string_view max_price = params.get("maxPrice").value_or("");
  if (!max_price.empty()) {
    const auto minor = parse_money(max_price, config_.money_scale);
    if (!minor) return text(call, "ERROR_SQL");  // "a parameter has an invalid value"
    fields += ",\"max_price\":" + std::to_string(*minor);
  }
  std::string operator_name = op.empty() ? "any" : std::string(op);
  upstream_->call(
      "order.place", fields,
      [this, call = std::move(call), v2, country_id = std::move(country_id),
       operator_name = std::move(operator_name),
       service = std::string(service)](const UpstreamReply& r) {
        if (!r.delivered) return text(call, "ERROR_SQL");
        if (!r.ok) {
          if (r.error == "NO_NUMBERS") return text(call, "NO_NUMBERS");
          if (r.error == "NO_BALANCE") return text(call, "NO_BALANCE");
          if (r.error == "NO_PRICE") return no_price(call, service);
          if (r.error == "MAX_PRICE_TOO_LOW") {
            std::int64_t min_price = 0;
            if (r.doc["min_price"].get(min_price) != simdjson::SUCCESS) {
              return text(call, "ERROR_SQL");
            }
            std::string reply = "WRONG_MAX_PRICE:";
            append_money(&reply, min_price, config_.money_scale);
            return text(call, reply);
          }
          return text(call, "ERROR_SQL");
        }
        std::uint64_t order = 0;
        std::string_view number;
        std::int64_t price = 0;
        if (r.doc["order"].get(order) != simdjson::SUCCESS ||
            r.doc["number"].get(number) != simdjson::SUCCESS ||
            r.doc["price"].get(price) != simdjson::SUCCESS) {
          return text(call, "ERROR_SQL");
        }
        if (!v2) {
          return text(call, "ACCESS_NUMBER:" + std::to_string(order) + ":" + std::string(number));
        }
        std::string body = "{\"activationId\":" + std::to_string(order) + ",\"phoneNumber\":";
        append_json_string(&body, number);
        body += ",\"activationCost\":";
        append_money(&body, price, config_.money_scale);
        body += ",\"countryCode\":";
        append_json_string(&body, country_id);
        body += ",\"canGetAnotherSms\":true,\"activationTime\":\"";
        append_datetime(&body, static_cast<std::int64_t>(std::time(nullptr)) * 1000);
        body += "\",\"activationOperator\":";
        append_json_string(&body, operator_name);
        body += '}';
        json(call, std::move(body));
      });
}

void Gateway::no_price(Call call, std::string service) {
  upstream_->call("stock", ",\"service\":\"" + service + "\"",
                  [this, call = std::move(call)](const UpstreamReply& r) {
                    if (!r.delivered || !r.ok) return text(call, "ERROR_SQL");
                    simdjson::dom::array rows;
                    if (r.doc["stock"].get(rows) != simdjson::SUCCESS)
                      return text(call, "ERROR_SQL");
                    text(call, rows.size() == 0 ? "BAD_SERVICE" : "NO_NUMBERS");
                  });
}

void Gateway::get_status(Call call, const Params& params) {
  const std::string_view id = params.get("id").value_or("");
  if (!order_id_valid(id)) return text(call, "NO_ACTIVATION");
  char fields[32] = ",\"order\":";  // id is at most 20 digits
  const std::size_t prefix = std::strlen(fields);
  std::memcpy(fields + prefix, id.data(), id.size());
  upstream_->call("order.get", std::string_view(fields, prefix + id.size()),
                  [this, call = std::move(call)](const UpstreamReply& r) {
                    if (!r.delivered) return text(call, "ERROR_SQL");
                    if (!r.ok) {
                      return text(call,
                                  r.error == "ORDER_NOT_FOUND" ? "NO_ACTIVATION" : "ERROR_SQL");
                    }
                    OrderView order;
                    if (!parse_order(r.doc, &order)) return text(call, "ERROR_SQL");
                    if (order.account != call.account) return text(call, "NO_ACTIVATION");
                    scratch_.clear();
                    append_status_text(order, &scratch_);
                    text(call, scratch_);
                  });
}

void Gateway::set_status(Call call, const Params& params) {
  const std::string_view id = params.get("id").value_or("");
  if (!order_id_valid(id)) return text(call, "NO_ACTIVATION");
  const std::string_view status = params.get("status").value_or("");
  if (status != "1" && status != "3" && status != "6" && status != "8" && status != "-1") {
    return text(call, "BAD_STATUS");
  }
  const char kind = status == "-1" ? '8' : status[0];
  upstream_->call(
      "order.get", ",\"order\":" + std::string(id),
      [this, call, kind, id = std::string(id)](const UpstreamReply& r) {
        if (!r.delivered) return text(call, "ERROR_SQL");
        if (!r.ok) return text(call, r.error == "ORDER_NOT_FOUND" ? "NO_ACTIVATION" : "ERROR_SQL");
        OrderView order;
        if (!parse_order(r.doc, &order)) return text(call, "ERROR_SQL");
        if (order.account != call.account) return text(call, "NO_ACTIVATION");
        const bool refunded = state_refunded(order.state);
        switch (kind) {
          case '1':  // "the SMS was sent": nothing for the engine to do
            if (refunded) return text(call, "STATUS_CANCEL");
            return text(call, state_active(order.state) ? "ACCESS_READY" : "BAD_STATUS");
          case '3':
            if (refunded) return text(call, "STATUS_CANCEL");
            return change(call, "order.retry", id, "ACCESS_RETRY_GET");
          case '6':
            if (refunded) return text(call, "STATUS_CANCEL");
            if (order.state == "finished") return text(call, "ACCESS_ACTIVATION");  // again
            return change(call, "order.finish", id, "ACCESS_ACTIVATION");
          default:                                             // 8 and -1
            if (refunded) return text(call, "ACCESS_CANCEL");  // already
            return change(call, "order.cancel", id, "ACCESS_CANCEL");
        }
      });
}

void Gateway::change(Call call, std::string_view op, std::string_view order_id,
                     std::string_view ok_text) {
  upstream_->call(
      op, ",\"order\":" + std::string(order_id), [this, call, ok_text](const UpstreamReply& r) {
        if (!r.delivered) return text(call, "ERROR_SQL");
        if (r.ok) return text(call, ok_text);
        if (r.error == "EARLY_CANCEL") return text(call, "EARLY_CANCEL_DENIED");
        if (r.error == "ORDER_NOT_FOUND") return text(call, "NO_ACTIVATION");
        if (r.error == "NO_SMS_YET" || r.error == "CODE_RECEIVED" || r.error == "ORDER_CLOSED") {
          return text(call, "BAD_STATUS");
        }
        text(call, "ERROR_SQL");
      });
}

}  // namespace smsx::activate
