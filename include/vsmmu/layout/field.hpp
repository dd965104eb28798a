// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/access.hpp>
#include <vsmmu/layout/fixed_string.hpp>

#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace vsmmu::layout {

// Where a field sits, as IHI 0070 tables write it: bits [Msb:Lsb] counted from bit 0 of the
// structure (STE.S1ContextPtr is "bits [55:6]", STE.S2TTB "bits [247:196]").
template <unsigned Msb, unsigned Lsb>
struct bits {
  static_assert(Msb >= Lsb, "vsmmu: a field's msb is below its lsb");
  static_assert(Msb - Lsb < 64, "vsmmu: a field is wider than 64 bits");
  static constexpr unsigned msb = Msb;
  static constexpr unsigned lsb = Lsb;
};

// The same position written per 64-bit dword (the Linux driver's view: STE dword 3 [55:4]).
template <unsigned Dword, unsigned Msb, unsigned Lsb>
using dw = bits<Dword * 64 + Msb, Dword * 64 + Lsb>;

// The same position written per 32-bit word (PCIe config dwords, the spec's command figures).
template <unsigned Word, unsigned Msb, unsigned Lsb>
using w32 = bits<Word * 32 + Msb, Word * 32 + Lsb>;

// Value-type tag for address fields kept "in place": reading STE.S1ContextPtr[55:6] yields the
// address with bits [5:0] zero, as the spec writes it (the kernel's FIELD_GET on GENMASK(55,6)
// without the shift). The address bit of the field's lsb is lsb % 64.
struct address {};

namespace detail {
template <class Value>
struct value_of {
  using type = Value;
};
template <>
struct value_of<address> {
  using type = std::uint64_t;
};

template <class T>
inline constexpr bool valid_value_type = std::is_same_v<T, bool> || std::is_enum_v<T> ||
                                         std::is_same_v<T, address> ||
                                         (std::is_unsigned_v<T> && std::is_integral_v<T>);

[[nodiscard]] constexpr std::uint64_t low_mask(unsigned width) noexcept {
  return width >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1;
}

// Conversions between a field's value and its raw bits, instantiated once per value type rather
// than once per field (a layout has up to a hundred fields, over a handful of value types).
// `raw` is already masked to the field's width.
template <class V>
[[nodiscard]] constexpr V value_from_raw(std::uint64_t raw, unsigned shift) noexcept {
  if constexpr (std::is_same_v<V, bool>) {
    return raw != 0;
  } else if constexpr (std::is_enum_v<V>) {
    return static_cast<V>(static_cast<std::underlying_type_t<V>>(raw));
  } else {
    return static_cast<V>(raw << shift);
  }
}
template <class V>
[[nodiscard]] constexpr std::uint64_t raw_from_value(V v) noexcept {
  if constexpr (std::is_enum_v<V>) {
    return static_cast<std::uint64_t>(static_cast<std::underlying_type_t<V>>(v));
  } else {
    return static_cast<std::uint64_t>(v);
  }
}
}  // namespace detail

// One field, declared once: spec name, position, value type, access, and whether it may
// overlap other fields (an alias, e.g. a field whose meaning depends on another field).
//   struct Config final : field<"Config", bits<3, 1>, ste_config> {};
template <fixed_string Name, class Position, class Value = std::uint64_t,
          access Access = access::rw, bool Alias = false>
struct field {
  static_assert(detail::valid_value_type<Value>,
                "vsmmu: a field's value type is bool, an enum, an unsigned integer or address");

  using value_type = typename detail::value_of<Value>::type;
  static constexpr std::string_view name = Name.view();
  static constexpr unsigned msb = Position::msb;
  static constexpr unsigned lsb = Position::lsb;
  static constexpr unsigned width = msb - lsb + 1;
  static constexpr access access_mode = Access;
  static constexpr bool alias = Alias;
  static constexpr bool in_place = std::is_same_v<Value, address>;
  static constexpr bool is_enum = std::is_enum_v<Value>;
  // Shift between the raw bits and the value: non-zero only for in-place addresses.
  static constexpr unsigned value_shift = in_place ? lsb % 64 : 0;
  static constexpr std::uint64_t raw_mask = detail::low_mask(width);
  // The bits a value of this field may have set.
  static constexpr std::uint64_t value_mask = raw_mask << value_shift;

  static_assert(!in_place || value_shift + width <= 64,
                "vsmmu: an in-place address field does not fit a 64-bit address");
  static_assert(!std::is_same_v<Value, bool> || width == 1, "vsmmu: a bool field is one bit");
  static_assert(std::is_enum_v<Value> || std::is_same_v<Value, bool> || in_place ||
                    width <= sizeof(value_type) * 8,
                "vsmmu: a field is wider than its value type");

  [[nodiscard]] static constexpr std::uint64_t to_raw(value_type v) noexcept {
    return detail::raw_from_value(v);
  }
  [[nodiscard]] static constexpr value_type from_raw(std::uint64_t raw) noexcept {
    return detail::value_from_raw<value_type>(raw & raw_mask, value_shift);
  }
  // True when v is representable: no bit outside the field (for addresses: no bit below the
  // field's lsb either).
  [[nodiscard]] static constexpr bool fits(value_type v) noexcept {
    return (to_raw(v) & ~value_mask) == 0;
  }
};

// A reserved range, so that a layout can name RES0/RES1 bits that the spec draws.
template <class Position, access Access = access::res0>
struct reserved_bits : field<"RES0", Position, std::uint64_t, Access> {
  static_assert(Access == access::res0 || Access == access::res1,
                "vsmmu: reserved_bits is RES0 or RES1");
};

// Plain member checks, without return-type constraints: this concept is checked for every field
// a layout names, and std::convertible_to there is measurable in compile time.
template <class F>
concept field_type = requires {
  typename F::value_type;
  F::name;
  F::msb;
  F::lsb;
  F::access_mode;
};

// Run-time description of a field: what the CLI, dumps and by-name lookup work from.
struct field_info {
  std::string_view name;
  unsigned msb;
  unsigned lsb;
  access access_mode;
  bool in_place;
  bool alias;
  bool is_enum;

  [[nodiscard]] constexpr unsigned width() const noexcept { return msb - lsb + 1; }
  [[nodiscard]] constexpr unsigned value_shift() const noexcept { return in_place ? lsb % 64 : 0; }
  [[nodiscard]] constexpr bool is_reserved() const noexcept { return reserved(access_mode); }
};

template <field_type F>
[[nodiscard]] constexpr field_info info_of() noexcept {
  return {F::name, F::msb, F::lsb, F::access_mode, F::in_place, F::alias, F::is_enum};
}

}  // namespace vsmmu::layout
