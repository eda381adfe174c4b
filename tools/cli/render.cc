#include "tools/cli/render.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

namespace smsx::cli {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool is_time_field(std::string_view key) {
  return key == "at" || key == "created_at" || key == "expires_at" || key == "engine_time";
}

std::string utc(int64_t ms) {
  time_t seconds = static_cast<time_t>(ms / 1000);
  tm t{};
  gmtime_r(&seconds, &t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d UTC", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

// A scalar (or a nested value, minified) as text.
std::string scalar(element v) {
  switch (v.type()) {
    case element_type::STRING:
      return std::string(std::string_view(v));
    case element_type::NULL_VALUE:
      return "-";
    case element_type::ARRAY:
      return "[" + std::to_string(simdjson::dom::array(v).size()) + "]";
    default:
      return simdjson::minify(v);
  }
}

std::string cell(std::string_view key, element v) {
  std::string text = scalar(v);
  if (is_time_field(key) && v.type() == element_type::INT64) text = utc(int64_t(v));
  return text;
}

// A list of objects as a table; other lists as one value per line.
void table(simdjson::dom::array rows, std::string* out) {
  if (rows.size() == 0) {
    *out += "  (none)\n";
    return;
  }
  std::vector<std::string> columns;
  for (element row : rows) {
    if (row.type() != element_type::OBJECT) {
      *out += "  " + scalar(row) + "\n";
      continue;
    }
    if (columns.empty()) {
      for (auto [k, v] : simdjson::dom::object(row)) columns.emplace_back(k);
    }
  }
  if (columns.empty()) return;
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> width;
  for (const auto& c : columns) width.push_back(c.size());
  for (element row : rows) {
    if (row.type() != element_type::OBJECT) continue;
    std::vector<std::string> line;
    for (size_t i = 0; i < columns.size(); ++i) {
      element v;
      line.push_back(row[columns[i]].get(v) == simdjson::SUCCESS ? cell(columns[i], v) : "");
      width[i] = std::max(width[i], line.back().size());
    }
    cells.push_back(std::move(line));
  }
  auto emit = [&](const std::vector<std::string>& line) {
    std::string text = " ";
    for (size_t i = 0; i < line.size(); ++i) {
      text += " " + line[i];
      if (i + 1 < line.size()) text.append(width[i] - line[i].size() + 1, ' ');
    }
    *out += text + "\n";
  };
  emit(columns);
  for (const auto& line : cells) emit(line);
}

bool parse(simdjson::dom::parser& parser, std::string_view line, element* doc) {
  return parser.parse(line.data(), line.size()).get(*doc) == simdjson::SUCCESS &&
         doc->type() == element_type::OBJECT;
}

}  // namespace

bool reply_ok(std::string_view line) {
  simdjson::dom::parser parser;
  element doc;
  bool ok = false;
  return parse(parser, line, &doc) && doc["ok"].get_bool().get(ok) == simdjson::SUCCESS && ok;
}

std::string render_reply(std::string_view line) {
  simdjson::dom::parser parser;
  element doc;
  if (!parse(parser, line, &doc)) return std::string(line) + "\n";
  size_t width = 0;
  for (auto [k, v] : simdjson::dom::object(doc)) {
    if (k != "id" && k != "ok" && v.type() != element_type::ARRAY)
      width = std::max(width, k.size());
  }
  std::string out, lists;
  for (auto [k, v] : simdjson::dom::object(doc)) {
    if (k == "id" || k == "ok") continue;
    if (v.type() == element_type::ARRAY) {
      lists += std::string(k) + ":\n";
      table(simdjson::dom::array(v), &lists);
      continue;
    }
    std::string text = scalar(v);
    if (is_time_field(k) && v.type() == element_type::INT64) {
      text += "  (" + utc(int64_t(v)) + ")";
    }
    out += std::string(k) + std::string(width - k.size() + 2, ' ') + text + "\n";
  }
  out += lists;
  return out.empty() ? "ok\n" : out;
}

std::string render_error(std::string_view line) {
  simdjson::dom::parser parser;
  element doc;
  if (!parse(parser, line, &doc)) return "bad reply: " + std::string(line);
  std::string_view code = "?", message;
  if (doc["error"].get_string().get(code) != simdjson::SUCCESS) code = "?";
  if (doc["message"].get_string().get(message) != simdjson::SUCCESS) message = "";
  std::string out(code);
  if (!message.empty()) out += ": " + std::string(message);
  std::string extra;
  for (auto [k, v] : simdjson::dom::object(doc)) {
    if (k == "id" || k == "ok" || k == "error" || k == "message") continue;
    extra += (extra.empty() ? "" : ", ") + std::string(k) + " " + scalar(v);
  }
  if (!extra.empty()) out += " (" + extra + ")";
  return out;
}

std::string render_event(std::string_view line) {
  simdjson::dom::parser parser;
  element doc;
  if (!parse(parser, line, &doc)) return std::string(line);
  std::string_view name;
  if (doc["event"].get_string().get(name) != simdjson::SUCCESS) name = "event";
  std::string out(name);
  for (auto [k, v] : simdjson::dom::object(doc)) {
    if (k == "event") continue;
    std::string text = cell(k, v);
    if (v.type() == element_type::STRING) text = "\"" + text + "\"";
    out += " " + std::string(k) + "=" + text;
  }
  return out;
}

}  // namespace smsx::cli
