#include "net/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <source_location>

namespace smsx::net {
namespace {

void check(bool condition, std::string_view what, std::string_view name,
           std::source_location where = std::source_location::current()) {
  if (condition) return;
  std::fprintf(stderr, "%s:%u: metrics: %.*s: %.*s\n", where.file_name(),
               static_cast<unsigned>(where.line()), static_cast<int>(name.size()), name.data(),
               static_cast<int>(what.size()), what.data());
  std::abort();
}

bool name_char(char c, bool first, bool colon_allowed) {
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  const bool digit = c >= '0' && c <= '9';
  return letter || (colon_allowed && c == ':') || (!first && digit);
}

// [a-zA-Z_:][a-zA-Z0-9_:]* for metrics, without ':' for labels.
bool valid_name(std::string_view name, bool colon_allowed) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, colon_allowed)) return false;
  }
  return true;
}

// Label values escape '\', '"' and newline; HELP text escapes '\' and newline.
void append_escaped(std::string* out, std::string_view text, bool quote_too) {
  for (char c : text) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '"' && quote_too) {
      *out += "\\\"";
    } else {
      *out += c;
    }
  }
}

void append_uint(std::string* out, std::uint64_t value) {
  char text[24];
  const auto result = std::to_chars(text, text + sizeof text, value);
  out->append(text, result.ptr);
}

// Go's ParseFloat reads every spelling this writes; whole numbers print without exponent.
void append_double(std::string* out, double value) {
  if (std::isnan(value)) {
    *out += "NaN";
  } else if (std::isinf(value)) {
    *out += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::trunc(value) && std::fabs(value) < 9.0e15) {
    char text[32];
    const auto result = std::to_chars(text, text + sizeof text, static_cast<std::int64_t>(value));
    out->append(text, result.ptr);
  } else {
    char text[32];
    const auto result = std::to_chars(text, text + sizeof text, value);
    out->append(text, result.ptr);
  }
}

}  // namespace

struct Registry::Series {
  std::string labels;  // rendered: op="order.place",result="ok" (empty without labels)
  Counter counter;
  Gauge gauge;
  std::optional<Histogram> histogram;
};

struct Registry::Family {
  std::string name;
  std::string help;
  Type type;
  std::vector<std::string> label_names;
  std::vector<double> bounds;
  std::vector<std::unique_ptr<Series>> series;
};

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()), counts_(bounds.size() + 1, 0) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    check(std::isfinite(bounds_[i]), "histogram bounds must be finite", "");
    check(i == 0 || bounds_[i - 1] < bounds_[i], "histogram bounds must increase", "");
  }
}

void Histogram::observe(double value) {
  const std::size_t bucket =
      std::isnan(value)
          ? bounds_.size()
          : static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                     bounds_.begin());
  ++counts_[bucket];
  ++count_;
  sum_ += value;
}

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Series& Registry::series(std::string_view name, std::string_view help, Type type,
                                   std::span<const double> bounds, MetricLabels labels) {
  check(valid_name(name, true), "invalid metric name", name);
  std::string rendered;
  for (const auto& [label, value] : labels) {
    check(valid_name(label, false) && !label.starts_with("__"), "invalid label name", name);
    check(!(type == Type::kHistogram && label == "le"), "label le is reserved", name);
    if (!rendered.empty()) rendered += ',';
    rendered += label;
    rendered += "=\"";
    append_escaped(&rendered, value, true);
    rendered += '"';
  }
  Family* family = nullptr;
  for (const auto& existing : families_) {
    if (existing->name == name) family = existing.get();
  }
  if (family == nullptr) {
    families_.push_back(std::make_unique<Family>());
    family = families_.back().get();
    family->name = std::string(name);
    family->help = std::string(help);
    family->type = type;
    for (const auto& label : labels) family->label_names.emplace_back(label.first);
    family->bounds.assign(bounds.begin(), bounds.end());
  }
  check(family->type == type, "registered before with another type", name);
  check(std::equal(bounds.begin(), bounds.end(), family->bounds.begin(), family->bounds.end()),
        "registered before with other histogram bounds", name);
  check(family->label_names.size() == labels.size(), "registered before with other labels", name);
  std::size_t i = 0;
  for (const auto& label : labels) {
    check(family->label_names[i++] == label.first, "registered before with other labels", name);
  }
  for (const auto& existing : family->series) {
    if (existing->labels == rendered) return *existing;
  }
  family->series.push_back(std::make_unique<Series>());
  Series& created = *family->series.back();
  created.labels = std::move(rendered);
  if (type == Type::kHistogram) created.histogram.emplace(bounds);
  return created;
}

Counter& Registry::counter(std::string_view name, std::string_view help, MetricLabels labels) {
  return series(name, help, Type::kCounter, {}, labels).counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, MetricLabels labels) {
  return series(name, help, Type::kGauge, {}, labels).gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help,
                               std::span<const double> bounds, MetricLabels labels) {
  return *series(name, help, Type::kHistogram, bounds, labels).histogram;
}

namespace {

// name{labels} or name{labels,extra} or name, then a space.
void append_series_name(std::string* out, std::string_view name, std::string_view suffix,
                        std::string_view labels, std::string_view extra) {
  *out += name;
  *out += suffix;
  if (!labels.empty() || !extra.empty()) {
    *out += '{';
    *out += labels;
    if (!labels.empty() && !extra.empty()) *out += ',';
    *out += extra;
    *out += '}';
  }
  *out += ' ';
}

}  // namespace

void Registry::render(std::string* out) const {
  for (const auto& family : families_) {
    *out += "# HELP ";
    *out += family->name;
    *out += ' ';
    append_escaped(out, family->help, false);
    *out += "\n# TYPE ";
    *out += family->name;
    *out += family->type == Type::kCounter ? " counter\n"
            : family->type == Type::kGauge ? " gauge\n"
                                           : " histogram\n";
    for (const auto& series : family->series) {
      if (family->type == Type::kCounter) {
        append_series_name(out, family->name, "", series->labels, "");
        append_uint(out, series->counter.value());
        *out += '\n';
      } else if (family->type == Type::kGauge) {
        append_series_name(out, family->name, "", series->labels, "");
        append_double(out, series->gauge.value());
        *out += '\n';
      } else {
        const Histogram& histogram = *series->histogram;
        std::uint64_t cumulative = 0;
        std::string le;
        for (std::size_t i = 0; i <= histogram.bounds().size(); ++i) {
          cumulative += histogram.bucket(i);
          le = "le=\"";
          if (i < histogram.bounds().size()) {
            append_double(&le, histogram.bounds()[i]);
          } else {
            le += "+Inf";
          }
          le += '"';
          append_series_name(out, family->name, "_bucket", series->labels, le);
          append_uint(out, cumulative);
          *out += '\n';
        }
        append_series_name(out, family->name, "_sum", series->labels, "");
        append_double(out, histogram.sum());
        *out += '\n';
        append_series_name(out, family->name, "_count", series->labels, "");
        append_uint(out, histogram.count());
        *out += '\n';
      }
    }
  }
}

std::string Registry::render() const {
  std::string out;
  render(&out);
  return out;
}

HttpRequestKind classify_http_request(std::string_view buffer) {
  const std::size_t head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    return buffer.size() > kHttpRequestBytesMax ? HttpRequestKind::kBadRequest
                                                : HttpRequestKind::kIncomplete;
  }
  if (head_end + 4 > kHttpRequestBytesMax) return HttpRequestKind::kBadRequest;
  // METHOD SP TARGET SP HTTP/1.x
  const std::string_view line = buffer.substr(0, buffer.find("\r\n"));
  const std::size_t first_space = line.find(' ');
  if (first_space == std::string_view::npos) return HttpRequestKind::kBadRequest;
  const std::size_t second_space = line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos) return HttpRequestKind::kBadRequest;
  const std::string_view method = line.substr(0, first_space);
  const std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
  const std::string_view version = line.substr(second_space + 1);
  if (method.empty() || target.empty() || target.front() != '/' ||
      (version != "HTTP/1.1" && version != "HTTP/1.0")) {
    return HttpRequestKind::kBadRequest;
  }
  if (method != "GET") return HttpRequestKind::kMethodNotAllowed;
  const std::string_view path = target.substr(0, target.find('?'));
  return path == "/metrics" ? HttpRequestKind::kMetrics : HttpRequestKind::kNotFound;
}

void write_http_response(HttpRequestKind kind, const Registry& registry, std::string* out) {
  std::string body;
  std::string_view status;
  std::string_view content_type = "text/plain; charset=utf-8";
  std::string_view extra_header;
  switch (kind) {
    case HttpRequestKind::kMetrics:
      status = "200 OK";
      content_type = "text/plain; version=0.0.4";
      registry.render(&body);
      break;
    case HttpRequestKind::kNotFound:
      status = "404 Not Found";
      body = "not found; metrics are at /metrics\n";
      break;
    case HttpRequestKind::kMethodNotAllowed:
      status = "405 Method Not Allowed";
      extra_header = "Allow: GET\r\n";
      body = "only GET is served\n";
      break;
    case HttpRequestKind::kBadRequest:
    case HttpRequestKind::kIncomplete:  // a caller bug; answer rather than hang
      status = "400 Bad Request";
      body = "bad request\n";
      break;
  }
  *out += "HTTP/1.1 ";
  *out += status;
  *out += "\r\nContent-Type: ";
  *out += content_type;
  *out += "\r\nContent-Length: ";
  append_uint(out, body.size());
  *out += "\r\n";
  *out += extra_header;
  *out += "Connection: close\r\n\r\n";
  *out += body;
}

}  // namespace smsx::net
