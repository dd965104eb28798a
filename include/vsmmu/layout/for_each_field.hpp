// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <boost/hana/for_each.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include <vsmmu/layout/layout.hpp>

namespace vsmmu::layout {

namespace detail {
template <class Tuple>
struct hana_fields;
template <class... Fields>
struct hana_fields<std::tuple<Fields...>> {
  static constexpr auto value = boost::hana::tuple_t<Fields...>;
};
}  // namespace detail

// Calls f(boost::hana::type_c<F>) for each field F of L in declaration order:
//   for_each_field<ste_layout>([&](auto t) { using F = typename decltype(t)::type; ... });
template <layout_type L, class Fn>
constexpr void for_each_field(Fn&& f) {
  boost::hana::for_each(detail::hana_fields<typename L::fields>::value, f);
}

}  // namespace vsmmu::layout
