// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/value.hpp>

#include <array>
#include <cstddef>
#include <tuple>
#include <utility>

namespace vsmmu::layout {

template <layout_type L>
class decoded;

namespace detail {
// One value per field, as a flat set of bases keyed by the field type itself: O(n) to
// instantiate, and get<F> is a plain derived-to-base cast. (A std::tuple of a 100-field STE
// costs O(n^2); bases keyed by index need a deduction of the index per lookup, which tries
// every base.)
template <class F>
struct decoded_slot {
  typename F::value_type value{};
  friend constexpr bool operator==(const decoded_slot&, const decoded_slot&) noexcept = default;
};
template <class... Fields>
struct decoded_slots : decoded_slot<Fields>... {
  friend constexpr bool operator==(const decoded_slots&, const decoded_slots&) noexcept = default;

  // Every field from the words, in one function: no per-field function instantiations.
  template <class Word, class WordAt>
  constexpr void read(WordAt word) noexcept {
    ((static_cast<decoded_slot<Fields>&>(*this).value = value_from_raw<typename Fields::value_type>(
          extract_bits<Word>(word, Fields::lsb, Fields::msb), Fields::value_shift)),
     ...);
  }

  // Every field into the words, alias fields first so the fields they alias take precedence.
  template <class Word, class WordRef>
  constexpr void write(WordRef word) const noexcept {
    ((Fields::alias ? insert_bits<Word>(
                          word, Fields::lsb, Fields::msb,
                          raw_from_value(static_cast<const decoded_slot<Fields>&>(*this).value) >>
                              Fields::value_shift)
                    : void()),
     ...);
    ((Fields::alias ? void()
                    : insert_bits<Word>(
                          word, Fields::lsb, Fields::msb,
                          raw_from_value(static_cast<const decoded_slot<Fields>&>(*this).value) >>
                              Fields::value_shift)),
     ...);
  }
};
template <class Tuple>
struct decoded_slots_of;
template <class... Fields>
struct decoded_slots_of<std::tuple<Fields...>> {
  using type = decoded_slots<Fields...>;
};

struct decoded_access {
  template <class L>
  static constexpr auto& slots(decoded<L>& d) noexcept {
    return d.values_;
  }
  template <class L>
  static constexpr const auto& slots(const decoded<L>& d) noexcept {
    return d.values_;
  }
};
}  // namespace detail

// Every field of a layout as a plain value, decoded at once: read it, change it, encode it.
template <layout_type L>
class decoded {
 public:
  template <field_of<L> F>
  [[nodiscard]] constexpr const typename F::value_type& get() const noexcept {
    return static_cast<const detail::decoded_slot<F>&>(values_).value;
  }
  template <field_of<L> F>
  [[nodiscard]] constexpr typename F::value_type& get() noexcept {
    return static_cast<detail::decoded_slot<F>&>(values_).value;
  }
  friend constexpr bool operator==(const decoded&, const decoded&) noexcept = default;

 private:
  friend struct detail::decoded_access;
  typename detail::decoded_slots_of<typename L::fields>::type values_{};
};

template <layout_type L, class X>
[[nodiscard]] constexpr decoded<L> decode(const X& x) noexcept {
  decoded<L> out;
  if constexpr (requires { x.word(0U); }) {
    detail::decoded_access::slots(out).template read<typename L::word_type>(
        [&x](unsigned i) { return x.word(i); });
  } else {
    L::visit_fields([&]<class F>() { out.template get<F>() = x.template get<F>(); });
  }
  return out;
}

template <class X>
[[nodiscard]] constexpr auto decode(const X& x) noexcept {
  return decode<typename X::layout_type>(x);
}

// Writes every field, whatever its access (an encoder builds the whole structure); alias
// fields are written first so the fields they alias take precedence.
template <layout_type L>
[[nodiscard]] constexpr value<L> encode(const decoded<L>& d) noexcept {
  using word_type = typename L::word_type;
  value<L> out;
  auto& words = out.words();
  detail::decoded_access::slots(d).template write<word_type>(
      [&words](unsigned i) -> word_type& { return words[i]; });
  return out;
}

}  // namespace vsmmu::layout
