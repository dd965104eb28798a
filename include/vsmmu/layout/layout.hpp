// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/detail/checks.hpp>
#include <vsmmu/layout/field.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace vsmmu::layout {

namespace detail {
// Field → index for index_of: the map derives from indexed_field<I, F> for each field, and
// deduction finds I. The accessors do not use it (see field_set).
template <std::size_t I, class F>
struct indexed_field {};
template <class Seq, class... Fields>
struct field_index_map;
template <std::size_t... I, class... Fields>
struct field_index_map<std::index_sequence<I...>, Fields...> : indexed_field<I, Fields>... {};
template <class F, std::size_t I>
constexpr std::size_t index_in(const indexed_field<I, F>*) noexcept {
  return I;
}

// Membership without deduction: the set derives from field_tag<F> for each field, and
// std::is_base_of (a compiler intrinsic) answers has<F>. Deducing I against the index map above
// tries every base, once per lookup: O(n) per field, O(n^2) for a decode of the whole layout.
template <class F>
struct field_tag {};
template <class... Fields>
struct field_set : field_tag<Fields>... {};

// Raw bits [msb:lsb] from words read through `word(i)`; a field may cross words. One
// instantiation per storage type, not per field (a layout's accessors, decode and encode share it).
// Always inlined, so that the position is a constant again where the code is generated
// (tests/zero_cost).
#if defined(__GNUC__) || defined(__clang__)
#define VSMMU_LAYOUT_INLINE [[gnu::always_inline]] inline
#else
#define VSMMU_LAYOUT_INLINE inline
#endif
template <class Word, class WordAt>
[[nodiscard]] VSMMU_LAYOUT_INLINE constexpr std::uint64_t extract_bits(WordAt word, unsigned lsb,
                                                                       unsigned msb) noexcept {
  constexpr unsigned wb = sizeof(Word) * 8;
  const unsigned first = lsb / wb;
  const unsigned last = msb / wb;
  const unsigned shift = lsb % wb;
  std::uint64_t raw = static_cast<std::uint64_t>(word(first)) >> shift;
  for (unsigned i = first + 1; i <= last; ++i) {
    raw |= static_cast<std::uint64_t>(word(i)) << (wb * (i - first) - shift);
  }
  return raw & low_mask(msb - lsb + 1);
}

// Writes raw bits into [msb:lsb] through `word(i)` returning a Word&.
template <class Word, class WordRef>
VSMMU_LAYOUT_INLINE constexpr void insert_bits(WordRef word, unsigned lsb, unsigned msb,
                                               std::uint64_t raw) noexcept {
  constexpr unsigned wb = sizeof(Word) * 8;
  const unsigned first = lsb / wb;
  const unsigned last = msb / wb;
  const unsigned shift = lsb % wb;
  const std::uint64_t field_mask = low_mask(msb - lsb + 1);
  raw &= field_mask;
  for (unsigned i = first; i <= last; ++i) {
    const int offset = static_cast<int>(shift) - static_cast<int>(wb * (i - first));
    const std::uint64_t m = offset >= 0 ? field_mask << offset : field_mask >> -offset;
    const std::uint64_t v = offset >= 0 ? raw << offset : raw >> -offset;
    Word& w = word(i);
    w = static_cast<Word>((w & ~static_cast<Word>(m)) | static_cast<Word>(v));
  }
}
#undef VSMMU_LAYOUT_INLINE

template <class Layout, class Tuple, check_result R>
constexpr bool report() {
  using tuple = Tuple;
  if constexpr (R.error == layout_error::field_outside_layout) {
    using f = std::tuple_element_t<R.first, tuple>;
    static_assert(sizeof(error::field_outside_layout<Layout, f>) > 0,
                  "vsmmu: a field lies outside its layout");
    return false;
  } else if constexpr (R.error == layout_error::fields_overlap) {
    using a = std::tuple_element_t<R.first, tuple>;
    using b = std::tuple_element_t<R.second, tuple>;
    static_assert(sizeof(error::fields_overlap<a, b>) > 0,
                  "vsmmu: two fields overlap (declare one as an alias if that is meant)");
    return false;
  } else if constexpr (R.error == layout_error::duplicate_name) {
    using a = std::tuple_element_t<R.first, tuple>;
    using b = std::tuple_element_t<R.second, tuple>;
    static_assert(sizeof(error::duplicate_field_name<a, b>) > 0,
                  "vsmmu: two fields of a layout share a name");
    return false;
  } else {
    return true;
  }
}
}  // namespace detail

// A register or in-memory structure: Bits wide, stored as little-endian Words (std::uint32_t
// for registers and PCIe config dwords, std::uint64_t for STEs, CDs, commands and events).
template <fixed_string Name, std::size_t Bits, std::unsigned_integral Word, field_type... Fields>
struct layout {
  static_assert(Bits % (sizeof(Word) * 8) == 0, "vsmmu: a layout is a whole number of words");

  using word_type = Word;
  using fields = std::tuple<Fields...>;  // used only as a type list; never instantiated
  static constexpr std::string_view name = Name.view();
  static constexpr std::size_t bit_count = Bits;
  static constexpr std::size_t word_bits = sizeof(Word) * 8;
  static constexpr std::size_t word_count = Bits / word_bits;
  static constexpr std::size_t byte_count = Bits / 8;
  static constexpr std::size_t field_count = sizeof...(Fields);
  // Built in place rather than through info_of<F>(): one function instantiation fewer per field.
  static constexpr std::array<field_info, sizeof...(Fields)> field_infos{
      {{Fields::name, Fields::msb, Fields::lsb, Fields::access_mode, Fields::in_place,
        Fields::alias, Fields::is_enum}...}};

  using index_map = detail::field_index_map<std::index_sequence_for<Fields...>, Fields...>;
  using field_set = detail::field_set<Fields...>;

  template <class F>
  static constexpr bool has = std::is_base_of_v<detail::field_tag<F>, field_set>;

  // Position of F in the declaration order (F must be one of the fields).
  template <class F>
  static constexpr std::size_t index_of =
      detail::index_in<F>(static_cast<const index_map*>(nullptr));

  // Calls fn.template operator()<F>() for each field F, in declaration order.
  template <class Fn>
  static constexpr void visit_fields(Fn&& fn) {
    (fn.template operator()<Fields>(), ...);
  }

  // Every declared field, reserved ones included, as a mask per word: bits outside it are
  // undeclared (RES0 unless the spec says otherwise).
  static constexpr std::array<Word, word_count> declared_mask = [] {
    // A word at a time, not a bit at a time: constant evaluation is slow per step.
    std::array<Word, word_count> m{};
    for (const auto& f : field_infos) {
      detail::insert_bits<Word>([&m](unsigned i) -> Word& { return m[i]; }, f.lsb, f.msb,
                                ~std::uint64_t{0});
    }
    return m;
  }();

 private:
  static constexpr detail::check_result check = detail::check_layout<Bits>(field_infos);

 public:
  static constexpr bool well_formed = detail::report<layout, fields, check>();
};

template <class L>
concept layout_type = requires {
  typename L::word_type;
  L::bit_count;
  L::field_infos;
  requires L::well_formed;
};

// F is one of L's fields: `template <field_of<L> F>`.
template <class F, class L>
concept field_of = layout_type<L> && field_type<F> && L::template has<F>;

namespace detail {

template <class Word>
[[nodiscard]] constexpr Word byte_swap(Word w) noexcept {
  if constexpr (sizeof(Word) == 8) {
    return __builtin_bswap64(w);
  } else if constexpr (sizeof(Word) == 4) {
    return __builtin_bswap32(w);
  } else {
    return __builtin_bswap16(w);
  }
}

// Little-endian words from guest bytes. At run time one (possibly unaligned) load, swapped on a
// big-endian host; in constant evaluation, byte by byte.
template <class Word>
[[nodiscard]] constexpr Word load_le(const std::byte* p) noexcept {
  if (!std::is_constant_evaluated()) {
    Word w;
    std::memcpy(&w, p, sizeof(Word));
    if constexpr (std::endian::native == std::endian::big) w = byte_swap(w);
    return w;
  }
  Word w = 0;
  for (std::size_t i = 0; i < sizeof(Word); ++i) {
    w = static_cast<Word>(w | (static_cast<Word>(std::to_integer<std::uint8_t>(p[i])) << (8 * i)));
  }
  return w;
}

template <class Word>
constexpr void store_le(std::byte* p, Word w) noexcept {
  if (!std::is_constant_evaluated()) {
    if constexpr (std::endian::native == std::endian::big) w = byte_swap(w);
    std::memcpy(p, &w, sizeof(Word));
    return;
  }
  for (std::size_t i = 0; i < sizeof(Word); ++i) {
    p[i] = static_cast<std::byte>(static_cast<std::uint8_t>(w >> (8 * i)));
  }
}

// Raw bits [F::msb:F::lsb] from words read through `word(i)`; a field may cross words. Plain
// loops with constant bounds: the optimiser unrolls them (tests/zero_cost), and they cost less
// to instantiate than index-sequence folds, once per field access in every TU.
template <class F, class Word, class WordAt>
[[nodiscard]] constexpr std::uint64_t extract(WordAt word) noexcept {
  constexpr unsigned wb = sizeof(Word) * 8;
  constexpr unsigned first = F::lsb / wb;
  constexpr unsigned last = F::msb / wb;
  constexpr unsigned shift = F::lsb % wb;
  std::uint64_t raw = static_cast<std::uint64_t>(word(first)) >> shift;
  for (unsigned i = first + 1; i <= last; ++i) {
    raw |= static_cast<std::uint64_t>(word(i)) << (wb * (i - first) - shift);
  }
  return raw & F::raw_mask;
}

// Writes raw bits into [F::msb:F::lsb] through `word(i)` returning a Word&.
template <class F, class Word, class WordRef>
constexpr void insert(WordRef word, std::uint64_t raw) noexcept {
  constexpr unsigned wb = sizeof(Word) * 8;
  constexpr unsigned first = F::lsb / wb;
  constexpr unsigned last = F::msb / wb;
  constexpr unsigned shift = F::lsb % wb;
  raw &= F::raw_mask;
  for (unsigned i = first; i <= last; ++i) {
    // Position of the field's bit 0 relative to word i's bit 0.
    const int offset = static_cast<int>(shift) - static_cast<int>(wb * (i - first));
    const std::uint64_t m = offset >= 0 ? F::raw_mask << offset : F::raw_mask >> -offset;
    const std::uint64_t v = offset >= 0 ? raw << offset : raw >> -offset;
    Word& w = word(i);
    // raw is already masked, so v lies inside m: no second mask (it would cost an instruction).
    w = static_cast<Word>((w & ~static_cast<Word>(m)) | static_cast<Word>(v));
  }
}

}  // namespace detail

}  // namespace vsmmu::layout
