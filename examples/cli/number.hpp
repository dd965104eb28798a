// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "result.hpp"

namespace vsmmu::cli {

// The two number forms the CLI accepts, decided in one place (parse_number):
//   hex:     dwords and register values; hex digits with or without "0x", at most 16 digits.
//   integer: every other number (field values, IDs, addresses); "0x"-prefixed hex, or decimal.
// Neither accepts a sign, spaces, an empty string or a value above 2^64 - 1.
enum class number_form { hex, integer };

// `label` names the argument in the message: `D1 "0xZZ": not a hex number`.
[[nodiscard]] result<std::uint64_t> parse_number(std::string_view label, std::string_view text,
                                                 number_form form);

// Text as a double-quoted JSON string (also how messages quote user input, so that a message
// stays on one line whatever the user typed).
[[nodiscard]] std::string quoted(std::string_view text);

// "0x1f": lowercase hex without padding. `digits` pads with zeros to that many digits.
[[nodiscard]] std::string hex(std::uint64_t value, unsigned digits = 0);

}  // namespace vsmmu::cli
