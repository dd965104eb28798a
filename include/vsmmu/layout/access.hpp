// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstdint>
#include <string_view>

namespace vsmmu::layout {

// How software sees a field, with the spec's abbreviations (IHI 0070 §6.2 conventions).
enum class access : std::uint8_t {
  rw,    // read/write
  ro,    // read-only: writes are ignored
  wo,    // write-only: reads return zero
  w1c,   // write 1 to clear
  res0,  // reserved, should be zero
  res1,  // reserved, should be one
};

[[nodiscard]] constexpr bool software_writable(access a) noexcept {
  return a == access::rw || a == access::wo || a == access::w1c;
}

[[nodiscard]] constexpr bool reserved(access a) noexcept {
  return a == access::res0 || a == access::res1;
}

[[nodiscard]] constexpr std::string_view to_string(access a) noexcept {
  switch (a) {
    case access::rw: return "RW";
    case access::ro: return "RO";
    case access::wo: return "WO";
    case access::w1c: return "W1C";
    case access::res0: return "RES0";
    case access::res1: return "RES1";
  }
  return "?";
}

}  // namespace vsmmu::layout
