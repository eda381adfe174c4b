// Status: the result of an I/O operation in persistence/, returned instead of throwing.
//
// An ok Status holds no allocation, so returning one on the hot path (WalWriter::append)
// costs a null pointer. An error carries a code, the errno of the failed call (0 when the
// error is not a system call's, e.g. a checksum mismatch) and a message that names the
// file and the byte offset, so an operator can find the damage without a debugger.
// Statuses are values: copyable, movable, not thread-safe to mutate concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace smsx::persistence {

class [[nodiscard]] Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    kIoError,          // a system call failed; errno() says why
    kCorruption,       // bytes on disk do not verify (CRC, magic, LSN gap, unknown type)
    kInvalidArgument,  // the caller asked for something the files contradict
  };

  Status() = default;
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status ok_status() { return Status(); }
  // `what` names the operation, the file and the offset, e.g. "write /d/wal-…log at
  // offset 4096"; the text of strerror(err) is appended.
  static Status io_error(int err, std::string_view what);
  static Status corruption(std::string_view what);
  static Status invalid_argument(std::string_view what);

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  bool is_io_error() const { return code() == Code::kIoError; }
  bool is_corruption() const { return code() == Code::kCorruption; }
  // errno of the failed system call, 0 for ok and for non-I/O errors.
  int error_number() const { return rep_ ? rep_->error_number : 0; }
  // The full message ("" for ok).
  const std::string& message() const;
  // "OK", or "IO error: <message>", "Corruption: <message>", …
  std::string to_string() const;

 private:
  struct Rep {
    Code code;
    int error_number;
    std::string message;
  };
  Status(Code code, int error_number, std::string message);

  std::unique_ptr<Rep> rep_;
};

// Returns from the enclosing function when `expr` is not ok.
#define PERSIST_RETURN_IF_ERROR(expr)                                  \
  do {                                                                 \
    ::smsx::persistence::Status persist_returned_status = (expr);      \
    if (!persist_returned_status.ok()) return persist_returned_status; \
  } while (false)

}  // namespace smsx::persistence
