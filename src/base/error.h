// Errors for user input and the environment (tier 1 of three; see docs/architecture.md).
// A fallible function returns Result<T> or Status; the caller decides how to report it
// (CLI message, HTTP error in the API's format). Internal invariants use AS_CHECK instead.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace agentserve {

enum class ErrorKind {
  kInvalidArgument,    // the caller asked for something malformed
  kNotFound,           // a file, model or token that does not exist
  kIo,                 // the OS refused (open, read, mmap, write)
  kFormat,             // a file exists but its content is not what it must be
  kUnsupported,        // well-formed, but this build cannot do it (yet)
  kOutOfRange,         // a limit was exceeded (context, body size, max_tokens)
  kResourceExhausted,  // memory or KV pages ran out
  kCancelled,
  kInternal,
};

const char* error_kind_name(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;

  // "format error: model.safetensors: tensor 'x' has dtype F64, expected BF16, F16 or F32"
  std::string to_string() const;
};

inline Error make_error(ErrorKind kind, std::string message) { return Error{kind, std::move(message)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }
  Error&& take_error() { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  static Status ok_status() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return error_; }
  Error&& take_error() { assert(!ok_); return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace agentserve

#define AS_CONCAT_INNER(a, b) a##b
#define AS_CONCAT(a, b) AS_CONCAT_INNER(a, b)

// Propagate an error from a Status- or Result-returning expression.
#define AS_TRY(expr)                                      \
  do {                                                    \
    auto&& as_try_result_ = (expr);                       \
    if (!as_try_result_.ok()) return as_try_result_.take_error(); \
  } while (0)

// AS_ASSIGN_OR_RETURN(auto x, f()); binds x to the value or returns the error.
#define AS_ASSIGN_OR_RETURN(lhs, expr) AS_ASSIGN_OR_RETURN_IMPL(AS_CONCAT(as_res_, __LINE__), lhs, expr)
#define AS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.take_error();        \
  lhs = std::move(tmp).value()
