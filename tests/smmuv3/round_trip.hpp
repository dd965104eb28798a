// Round-trip checks shared by the command and event record tests.
#pragma once

#include <catch2/catch.hpp>

#include <vsmmu/layout/decode.hpp>
#include <vsmmu/layout/for_each_field.hpp>
#include <vsmmu/layout/value.hpp>

#include <cstddef>
#include <random>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace round_trip {

namespace vl = vsmmu::layout;

// Calls fn(std::type_identity<L>{}) for each layout L of the std::tuple Layouts.
template <class Layouts, class Fn>
void for_each_layout(Fn&& fn) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (fn(std::type_identity<std::tuple_element_t<I, Layouts>>{}), ...);
  }(std::make_index_sequence<std::tuple_size_v<Layouts>>{});
}

// A value that fits F, its bits drawn at random (addresses with their low bits zero).
template <class F>
typename F::value_type random_value(std::mt19937_64& rng) {
  return F::from_raw(rng());
}

// Random values for every field survive encode -> decode, through a value and a view; raw
// words as a queue might hold them keep every declared bit through decode -> encode.
template <class L>
void check_round_trip(std::mt19937_64& rng) {
  INFO(std::string(L::name));
  for (int iteration = 0; iteration < 32; ++iteration) {
    vl::decoded<L> chosen;
    vl::for_each_field<L>([&](auto t) {
      using F = typename decltype(t)::type;
      chosen.template get<F>() = random_value<F>(rng);
    });
    const auto encoded = vl::encode(chosen);
    CHECK(vl::decode(encoded) == chosen);
    CHECK(encoded.undeclared_bits_clear());
    const auto bytes = encoded.bytes();
    CHECK(vl::decode(vl::view<L>(bytes)) == chosen);

    typename vl::value<L>::storage_type words{};
    for (auto& w : words) w = rng();
    const auto again = vl::encode(vl::decode(vl::value<L>(words)));
    for (unsigned i = 0; i < L::word_count; ++i) {
      CHECK(again.word(i) == (words[i] & L::declared_mask[i]));
    }
  }
}

}  // namespace round_trip
