// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstddef>
#include <tuple>
#include <utility>

#include <vsmmu/layout/value.hpp>

namespace vsmmu::layout {

namespace detail {
// One value per field, as a flat set of bases: O(n) to instantiate, where a std::tuple of a
// 100-field STE costs O(n^2) (and dominated the compile time of a TU that decodes one).
template <std::size_t I, class T>
struct decoded_slot {
  T value{};
  friend constexpr bool operator==(const decoded_slot&, const decoded_slot&) noexcept = default;
};
template <class Seq, class... Fields>
struct decoded_slots;
template <std::size_t... I, class... Fields>
struct decoded_slots<std::index_sequence<I...>, Fields...>
    : decoded_slot<I, typename Fields::value_type>... {
  friend constexpr bool operator==(const decoded_slots&, const decoded_slots&) noexcept = default;
};
template <class Tuple>
struct decoded_slots_of;
template <class... Fields>
struct decoded_slots_of<std::tuple<Fields...>> {
  using type = decoded_slots<std::index_sequence_for<Fields...>, Fields...>;
};
}  // namespace detail

// Every field of a layout as a plain value, decoded at once: read it, change it, encode it.
template <layout_type L>
class decoded {
 public:
  template <field_of<L> F>
  [[nodiscard]] constexpr const typename F::value_type& get() const noexcept {
    return static_cast<const slot<F>&>(values_).value;
  }
  template <field_of<L> F>
  [[nodiscard]] constexpr typename F::value_type& get() noexcept {
    return static_cast<slot<F>&>(values_).value;
  }
  friend constexpr bool operator==(const decoded&, const decoded&) noexcept = default;

 private:
  template <class F>
  using slot = detail::decoded_slot<L::template index_of<F>, typename F::value_type>;
  typename detail::decoded_slots_of<typename L::fields>::type values_{};
};

template <layout_type L, class X>
[[nodiscard]] constexpr decoded<L> decode(const X& x) noexcept {
  decoded<L> out;
  L::visit_fields([&]<class F>() { out.template get<F>() = x.template get<F>(); });
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
  value<L> out;
  L::visit_fields([&]<class F>() {
    if constexpr (F::alias) out.template init<F>(d.template get<F>());
  });
  L::visit_fields([&]<class F>() {
    if constexpr (!F::alias) out.template init<F>(d.template get<F>());
  });
  return out;
}

}  // namespace vsmmu::layout
