#pragma once
// Errors as values. Every component returns Result<T> at its public surface; each surface
// (HTTP, CLI, agent tools) maps ErrorCode once, in a switch, so a new code forces a decision.
#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pluto {

enum class ErrorCode {
  invalid_argument,   // the caller's input is wrong (bad option, bad JSON field)
  invalid_config,     // a setting has a bad value
  sql_error,          // the database rejected the statement (parse, bind, runtime)
  not_found,          // a named thing (table, run, file) does not exist
  conflict,           // the operation clashes with current state (already finished, exists)
  unavailable,        // cannot reach or open what was asked (file, server, database)
  locked,             // another process holds the resource (e.g. the warehouse file lock)
  permission_denied,  // not allowed (path outside allowed dirs, forbidden by policy)
  unauthenticated,    // missing or wrong credentials
  too_large,          // over a configured size limit
  timed_out,          // ran past its time limit
  cancelled,          // stopped on request
  internal,           // a bug or an unexpected state
};

std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;  // what went wrong, naming the thing
  std::string hint;     // how to fix it; may be empty

  Error() = default;
  Error(ErrorCode c, std::string msg, std::string h = {}) : code(c), message(std::move(msg)), hint(std::move(h)) {}
};

// A value or an Error. Small and explicit: check ok() before value().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : data_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<T>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(data_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<Error>(data_);
  }
  Error&& take_error() {
    assert(!ok());
    return std::get<Error>(std::move(data_));
  }

 private:
  std::variant<T, Error> data_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }
  Error&& take_error() {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() {
  return {};
}

}  // namespace pluto

#define PLUTO_CONCAT_INNER(a, b) a##b
#define PLUTO_CONCAT(a, b) PLUTO_CONCAT_INNER(a, b)

// `tmp` and `lhs` are a name and a declaration, which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
// Early return of an error from a function returning Result<...>.
#define PLUTO_TRY(expr) PLUTO_TRY_IMPL(PLUTO_CONCAT(pluto_try_, __COUNTER__), expr)
#define PLUTO_TRY_IMPL(tmp, expr) \
  do {                            \
    auto tmp = (expr);            \
    if (!tmp.ok()) {              \
      return tmp.take_error();    \
    }                             \
  } while (false)

// Binds the value of a Result to `lhs`, or returns its error.
#define PLUTO_ASSIGN_OR_RETURN(lhs, expr) PLUTO_ASSIGN_OR_RETURN_IMPL(PLUTO_CONCAT(pluto_r_, __COUNTER__), lhs, expr)
#define PLUTO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) {                                  \
    return tmp.take_error();                        \
  }                                                 \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
