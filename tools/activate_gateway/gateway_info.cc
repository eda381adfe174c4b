// The listing actions: getActiveActivations, getNumbersStatus, getPrices.
#include <map>
#include <string>

#include "tools/activate_gateway/gateway.h"
#include "tools/activate_gateway/money.h"
#include "tools/activate_gateway/order_view.h"
#include "tools/activate_gateway/reply_json.h"

namespace smsx::activate {
namespace {

// activationStatus in getActiveActivations: 1 waiting for an SMS, 2 an SMS arrived, 3
// waiting for another SMS (after setStatus 3).
std::string_view activation_status(std::string_view state) {
  if (state == "received") return "2";
  if (state == "retry") return "3";
  return "1";
}

struct Offer {
  std::int64_t cheapest_free = -1;  // cheapest price among pools with free numbers
  std::int64_t cheapest = -1;       // cheapest price of all pools
  std::uint64_t count = 0;          // free numbers
};

// Reads the rows of a stock reply; false when they are malformed.
template <typename F>
bool each_stock_row(simdjson::dom::element doc, F&& f) {
  simdjson::dom::array rows;
  if (doc["stock"].get(rows) != simdjson::SUCCESS) return false;
  for (simdjson::dom::element row : rows) {
    std::string_view service, country;
    std::int64_t price = 0;
    std::uint64_t free = 0;
    if (row["service"].get(service) != simdjson::SUCCESS ||
        row["country"].get(country) != simdjson::SUCCESS ||
        row["price"].get(price) != simdjson::SUCCESS ||
        row["free"].get(free) != simdjson::SUCCESS) {
      return false;
    }
    f(service, country, price, free);
  }
  return true;
}

}  // namespace

void Gateway::get_active(Call call) {
  upstream_->call("orders.active", ",\"account\":" + std::to_string(call.account),
                  [this, call](const UpstreamReply& r) {
                    if (!r.delivered || !r.ok) return text(call, "ERROR_SQL");
                    simdjson::dom::array orders;
                    if (r.doc["orders"].get(orders) != simdjson::SUCCESS)
                      return text(call, "ERROR_SQL");
                    std::string body = "{\"status\":\"success\",\"activeActivations\":[";
                    bool first = true;
                    for (simdjson::dom::element e : orders) {
                      OrderView o;
                      if (!parse_order(e, &o)) return text(call, "ERROR_SQL");
                      if (o.account != call.account)
                        continue;  // never show another account's order
                      if (!first) body += ',';
                      first = false;
                      body +=
                          "{\"activationId\":\"" + std::to_string(o.order) + "\",\"serviceCode\":";
                      append_json_string(&body, o.service);
                      body += ",\"phoneNumber\":";
                      append_json_string(&body, o.number);
                      body += ",\"activationCost\":\"";
                      append_money(&body, o.price, config_.money_scale);
                      body += "\",\"activationStatus\":\"";
                      body += activation_status(o.state);
                      body += "\",\"smsCode\":";
                      bool any_code = false;
                      for (const SmsView& sms : o.sms) {
                        if (sms.code.empty()) continue;
                        body += any_code ? "," : "[";
                        append_json_string(&body, sms.code);
                        any_code = true;
                      }
                      body += any_code ? "]" : "null";
                      body += ",\"smsText\":";
                      if (o.sms.empty()) {
                        body += "null";
                      } else {
                        append_json_string(&body, o.sms.back().text);
                      }
                      body += ",\"activationTime\":\"";
                      append_datetime(&body, o.created_at);
                      body += "\",\"discount\":\"0\",\"repeated\":\"0\",\"countryCode\":";
                      append_json_string(&body, config_.countries.to_id(o.country));
                      body += ",\"countryName\":";
                      append_json_string(&body, o.country);
                      body += ",\"canGetAnotherSms\":\"1\"}";
                    }
                    body += "]}";
                    json(call, std::move(body));
                  });
}

void Gateway::get_numbers_status(Call call, const Params& params) {
  std::string country_id(params.get("country").value_or(""));
  if (country_id.empty()) country_id = config_.default_country;
  const std::string_view country = config_.countries.to_engine(country_id);
  if (!engine_name_valid(country)) return json(call, "{}");
  upstream_->call("stock", ",\"country\":\"" + std::string(country) + "\"",
                  [this, call = std::move(call)](const UpstreamReply& r) {
                    if (!r.delivered || !r.ok) return text(call, "ERROR_SQL");
                    std::map<std::string, std::uint64_t, std::less<>> free_by_service;
                    const bool ok = each_stock_row(
                        r.doc,
                        [&](std::string_view service, std::string_view, std::int64_t,
                            std::uint64_t n) { free_by_service[std::string(service)] += n; });
                    if (!ok) return text(call, "ERROR_SQL");
                    std::string body = "{";
                    for (const auto& [service, n] : free_by_service) {
                      if (body.size() > 1) body += ',';
                      append_json_string(&body, service + "_0");
                      body += ":\"" + std::to_string(n) + "\"";
                    }
                    body += '}';
                    json(call, std::move(body));
                  });
}

void Gateway::get_prices(Call call, const Params& params) {
  std::string fields;
  const std::string_view service = params.get("service").value_or("");
  if (!service.empty()) {
    if (!engine_name_valid(service)) return json(call, "{}");
    fields += ",\"service\":\"" + std::string(service) + "\"";
  }
  const std::string_view country_id = params.get("country").value_or("");
  if (!country_id.empty()) {
    const std::string_view country = config_.countries.to_engine(country_id);
    if (!engine_name_valid(country)) return json(call, "{}");
    fields += ",\"country\":\"" + std::string(country) + "\"";
  }
  upstream_->call("stock", fields, [this, call = std::move(call)](const UpstreamReply& r) {
    if (!r.delivered || !r.ok) return text(call, "ERROR_SQL");
    // country id -> service -> offer, sorted for a stable answer.
    std::map<std::string, std::map<std::string, Offer>> offers;
    const bool ok =
        each_stock_row(r.doc, [&](std::string_view row_service, std::string_view row_country,
                                  std::int64_t price, std::uint64_t free) {
          Offer& offer =
              offers[std::string(config_.countries.to_id(row_country))][std::string(row_service)];
          if (offer.cheapest < 0 || price < offer.cheapest) offer.cheapest = price;
          if (free > 0 && (offer.cheapest_free < 0 || price < offer.cheapest_free)) {
            offer.cheapest_free = price;
          }
          offer.count += free;
        });
    if (!ok) return text(call, "ERROR_SQL");
    std::string body = "{";
    for (const auto& [country, services] : offers) {
      if (body.size() > 1) body += ',';
      append_json_string(&body, country);
      body += ":{";
      bool first = true;
      for (const auto& [service_name, offer] : services) {
        if (!first) body += ',';
        first = false;
        append_json_string(&body, service_name);
        body += ":{\"cost\":";
        append_money(&body, offer.cheapest_free >= 0 ? offer.cheapest_free : offer.cheapest,
                     config_.money_scale);
        body += ",\"count\":" + std::to_string(offer.count) + "}";
      }
      body += '}';
    }
    body += '}';
    json(call, std::move(body));
  });
}

}  // namespace smsx::activate
