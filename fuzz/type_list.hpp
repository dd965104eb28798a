// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstddef>

// A list of layouts a harness covers, and the run-time choice of one of them by index.
namespace vsmmu::fuzz {

template <class... Ts>
struct type_list {
  static constexpr std::size_t size = sizeof...(Ts);

  // Calls fn.template operator()<T>() for the index-th type (index < size).
  template <class Fn>
  static void with(std::size_t index, Fn&& fn) {
    std::size_t i = 0;
    (void)((i++ == index ? (fn.template operator()<Ts>(), true) : false) || ...);
  }

  // Calls fn.template operator()<T>() for every type.
  template <class Fn>
  static void each(Fn&& fn) {
    (fn.template operator()<Ts>(), ...);
  }
};

}  // namespace vsmmu::fuzz
