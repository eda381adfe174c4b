#include "persistence/status.h"

#include <cstring>

#include "core/assert.h"

namespace smsx::persistence {
namespace {

// strerror_r has two signatures (GNU returns char*, XSI returns int); both are handled so
// that a helper thread never shares strerror's buffer.
[[maybe_unused]] const char* pick(const char* gnu_result, const char*) { return gnu_result; }
[[maybe_unused]] const char* pick(int, const char* buffer) { return buffer; }

std::string error_text(int err) {
  char buffer[128] = "unknown error";
  return pick(strerror_r(err, buffer, sizeof(buffer)), buffer);
}

}  // namespace

Status::Status(Code code, int error_number, std::string message)
    : rep_(std::make_unique<Rep>(Rep{code, error_number, std::move(message)})) {
  SMSX_ASSERT(code != Code::kOk);
}

Status::Status(const Status& other)
    : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
  return *this;
}

Status Status::io_error(int err, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += error_text(err);
  message += " (errno " + std::to_string(err) + ")";
  return Status(Code::kIoError, err, std::move(message));
}

Status Status::corruption(std::string_view what) {
  return Status(Code::kCorruption, 0, std::string(what));
}

Status Status::invalid_argument(std::string_view what) {
  return Status(Code::kInvalidArgument, 0, std::string(what));
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return rep_ ? rep_->message : kEmpty;
}

std::string Status::to_string() const {
  switch (code()) {
    case Code::kOk:
      return "OK";
    case Code::kIoError:
      return "IO error: " + rep_->message;
    case Code::kCorruption:
      return "Corruption: " + rep_->message;
    case Code::kInvalidArgument:
      return "Invalid argument: " + rep_->message;
  }
  return "Unknown status code";
}

}  // namespace smsx::persistence
