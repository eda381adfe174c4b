// Readable output of replies and events for people; --json prints the raw line instead.
//
// A reply's fields (without `id` and `ok`) are printed one per line, "name  value", names
// aligned; engine times (`at`, `created_at`, `expires_at`, `engine_time`) also as UTC dates;
// null as "-". A list of objects (stock, orders, payouts, sms) becomes a table whose
// columns are the first row's fields; a list inside a table cell is shown as its length.
// A reply with no fields prints "ok". Field order is the server's, so fields added later
// show up without a change here.
#pragma once

#include <string>
#include <string_view>

namespace smsx::cli {

// The text for an ok reply; a line that is not a JSON object is returned as it is.
std::string render_reply(std::string_view line);
// "NO_NUMBERS: no free number for wa/us (min_price 90)" for an error reply.
std::string render_error(std::string_view line);
// One line for an event: "order.sms  order=77 account=1001 code=482913 …".
std::string render_event(std::string_view line);
// True if the reply line says "ok":true.
bool reply_ok(std::string_view line);

}  // namespace smsx::cli
