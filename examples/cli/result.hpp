// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <string>
#include <utility>
#include <variant>

// Errors as values: the CLI reports every bad input as one line and an exit status, so nothing
// below run() throws for bad input.
namespace vsmmu::cli {

// Exit statuses, documented in docs/cli.md.
enum class status : int {
  ok = 0,
  bad_data = 1,  // the command line has the right shape, but a value or name is rejected
  usage = 2,     // the command line does not have the shape the command wants
};

struct failure {
  status code;
  std::string message;  // without the "vsmmu: decode ste: " prefix, no newline
};

[[nodiscard]] inline failure usage_error(std::string message) {
  return {status::usage, std::move(message)};
}
[[nodiscard]] inline failure data_error(std::string message) {
  return {status::bad_data, std::move(message)};
}

// A value or the failure that prevented it.
template <class T>
class result {
 public:
  result(T value) : state_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  result(failure error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return std::holds_alternative<T>(state_); }
  explicit operator bool() const noexcept { return ok(); }
  [[nodiscard]] const T& operator*() const& { return std::get<T>(state_); }
  [[nodiscard]] T& operator*() & { return std::get<T>(state_); }
  [[nodiscard]] const T* operator->() const { return &std::get<T>(state_); }
  [[nodiscard]] const failure& error() const& { return std::get<failure>(state_); }

 private:
  std::variant<T, failure> state_;
};

}  // namespace vsmmu::cli
