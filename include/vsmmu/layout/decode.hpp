// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstddef>
#include <tuple>
#include <utility>

#include <vsmmu/layout/value.hpp>

namespace vsmmu::layout {

namespace detail {
template <class Tuple>
struct decoded_storage;
template <class... Fields>
struct decoded_storage<std::tuple<Fields...>> {
  using type = std::tuple<typename Fields::value_type...>;
};
template <class F, class Tuple, std::size_t I = 0>
constexpr std::size_t index_of() {
  static_assert(I < std::tuple_size_v<Tuple>, "vsmmu: the field is not part of this layout");
  if constexpr (std::is_same_v<F, std::tuple_element_t<I, Tuple>>) {
    return I;
  } else {
    return index_of<F, Tuple, I + 1>();
  }
}
}  // namespace detail

// Every field of a layout as a plain value, decoded at once: read it, change it, encode it.
template <layout_type L>
class decoded {
 public:
  template <field_of<L> F>
  [[nodiscard]] constexpr const typename F::value_type& get() const noexcept {
    return std::get<detail::index_of<F, typename L::fields>()>(values_);
  }
  template <field_of<L> F>
  [[nodiscard]] constexpr typename F::value_type& get() noexcept {
    return std::get<detail::index_of<F, typename L::fields>()>(values_);
  }
  friend constexpr bool operator==(const decoded&, const decoded&) noexcept = default;

 private:
  typename detail::decoded_storage<typename L::fields>::type values_{};
};

template <layout_type L, class X>
[[nodiscard]] constexpr decoded<L> decode(const X& x) noexcept {
  decoded<L> out;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((out.template get<std::tuple_element_t<I, typename L::fields>>() =
          x.template get<std::tuple_element_t<I, typename L::fields>>()),
     ...);
  }(std::make_index_sequence<L::field_count>{});
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
  auto write = [&]<std::size_t I>(std::integral_constant<std::size_t, I>, bool aliases) {
    using f = std::tuple_element_t<I, typename L::fields>;
    if (f::alias == aliases) out.template init<f>(d.template get<f>());
  };
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (write(std::integral_constant<std::size_t, I>{}, true), ...);
    (write(std::integral_constant<std::size_t, I>{}, false), ...);
  }(std::make_index_sequence<L::field_count>{});
  return out;
}

}  // namespace vsmmu::layout
