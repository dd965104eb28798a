// SPDX-License-Identifier: BSL-1.0
#include "number.hpp"

#include <limits>

namespace vsmmu::cli {

namespace {

[[nodiscard]] int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

[[nodiscard]] bool has_hex_prefix(std::string_view text) noexcept {
  return text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
}

}  // namespace

result<std::uint64_t> parse_number(std::string_view label, std::string_view text,
                                   number_form form) {
  const auto fail = [&](std::string_view why) {
    std::string message{label};
    message += ' ';
    message += quoted(text);
    message += ": ";
    message += why;
    return data_error(std::move(message));
  };
  const std::string_view kind =
      form == number_form::hex ? "not a hex number" : "not a number (decimal, or hex with 0x)";
  if (text.empty()) return fail("empty, expected a number");
  if (text[0] == '-') return fail("negative numbers are not accepted");

  const bool prefixed = has_hex_prefix(text);
  if (form == number_form::hex || prefixed) {
    const std::string_view digits = prefixed ? text.substr(2) : text;
    if (digits.empty()) return fail("no digits after 0x");
    std::uint64_t value = 0;
    for (const char c : digits) {
      const int d = hex_digit(c);
      if (d < 0) return fail(kind);
      value = (value << 4) | static_cast<std::uint64_t>(d);
    }
    // Checked after the digits so that "0xZZ...Z" says "not a hex number", which is the
    // more useful message.
    if (digits.size() > 16) return fail("more than 16 hex digits");
    return value;
  }

  std::uint64_t value = 0;
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  bool overflow = false;
  for (const char c : text) {
    if (c < '0' || c > '9') return fail(kind);
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (value > (max - d) / 10) overflow = true;
    value = value * 10 + d;
  }
  if (overflow) return fail("larger than 2^64 - 1");
  return value;
}

std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += "\\u00";
          out += "0123456789abcdef"[u >> 4];
          out += "0123456789abcdef"[u & 0xf];
        } else {
          out += c;  // UTF-8 passes through unchanged, as JSON allows
        }
    }
  }
  out += '"';
  return out;
}

std::string hex(std::uint64_t value, unsigned digits) {
  char buffer[16];
  unsigned n = 0;
  do {
    buffer[n++] = "0123456789abcdef"[value & 0xf];
    value >>= 4;
  } while (value != 0 && n < sizeof buffer);
  std::string out = "0x";
  for (unsigned pad = n; pad < digits; ++pad) out += '0';
  while (n > 0) out += buffer[--n];
  return out;
}

}  // namespace vsmmu::cli
