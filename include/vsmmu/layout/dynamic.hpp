// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include <vsmmu/layout/field.hpp>
#include <vsmmu/layout/layout.hpp>

// Field access by run-time description, over the structure's little-endian bytes: for tools
// (the CLI, dumps, by-name lookup) where the field is known only at run time. The typed
// accessors in value.hpp are the fast path.
namespace vsmmu::layout {

struct layout_info {
  std::string_view name;
  std::size_t bit_count;
  std::size_t word_bits;
  std::span<const field_info> fields;

  [[nodiscard]] constexpr std::size_t byte_count() const noexcept { return bit_count / 8; }

  [[nodiscard]] constexpr const field_info* find(std::string_view field_name) const noexcept {
    for (const auto& f : fields) {
      if (!f.is_reserved() && f.name == field_name) return &f;
    }
    return nullptr;
  }
};

template <layout_type L>
[[nodiscard]] constexpr layout_info info_of_layout() noexcept {
  return {L::name, L::bit_count, L::word_bits, L::field_infos};
}

// The field's bits, not shifted into place.
[[nodiscard]] constexpr std::uint64_t read_raw(const field_info& f,
                                               std::span<const std::byte> bytes) noexcept {
  std::uint64_t raw = 0;
  for (unsigned b = f.msb + 1; b-- > f.lsb;) {
    const auto byte = std::to_integer<unsigned>(bytes[b / 8]);
    raw = (raw << 1) | ((byte >> (b % 8)) & 1U);
  }
  return raw;
}

// The field's value: in-place addresses come back with their low bits zero.
[[nodiscard]] constexpr std::uint64_t read_value(const field_info& f,
                                                 std::span<const std::byte> bytes) noexcept {
  return read_raw(f, bytes) << f.value_shift();
}

// True when `value` fits the field (for an in-place address: no bit below its lsb either).
[[nodiscard]] constexpr bool value_fits(const field_info& f, std::uint64_t value) noexcept {
  const std::uint64_t mask = detail::low_mask(f.width()) << f.value_shift();
  return (value & ~mask) == 0;
}

// Writes `value` into the field; false (and nothing written) when it does not fit.
constexpr bool write_value(const field_info& f, std::span<std::byte> bytes,
                           std::uint64_t value) noexcept {
  if (!value_fits(f, value)) return false;
  const std::uint64_t raw = value >> f.value_shift();
  for (unsigned b = f.lsb; b <= f.msb; ++b) {
    const unsigned bit = static_cast<unsigned>((raw >> (b - f.lsb)) & 1U);
    auto byte = std::to_integer<unsigned>(bytes[b / 8]);
    byte = (byte & ~(1U << (b % 8))) | (bit << (b % 8));
    bytes[b / 8] = static_cast<std::byte>(byte);
  }
  return true;
}

}  // namespace vsmmu::layout
