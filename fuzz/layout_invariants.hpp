// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/decode.hpp>
#include <vsmmu/layout/dynamic.hpp>
#include <vsmmu/layout/layout.hpp>
#include <vsmmu/layout/value.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "check.hpp"

// The invariants every layout must keep whatever bytes a guest (or a host) hands it. One
// function, instantiated for each layout of the library, so that a layout added later is
// covered by listing it in a harness.
namespace vsmmu::fuzz {

namespace detail {

// The field's value as the run-time API sees it (in-place addresses in place, enums and bools
// as their encodings).
template <class F>
[[nodiscard]] constexpr std::uint64_t as_u64(typename F::value_type v) noexcept {
  return F::to_raw(v);
}

template <class F>
[[nodiscard]] constexpr typename F::value_type from_u64(std::uint64_t v) noexcept {
  using T = typename F::value_type;
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0;
  } else if constexpr (std::is_enum_v<T>) {
    return static_cast<T>(static_cast<std::underlying_type_t<T>>(v));
  } else {
    return static_cast<T>(v);
  }
}

// One bit per structure bit: set for the bits of the field at [msb:lsb].
template <std::size_t Bytes>
[[nodiscard]] constexpr std::array<std::uint8_t, Bytes> bit_mask(unsigned msb, unsigned lsb) {
  std::array<std::uint8_t, Bytes> m{};
  for (unsigned b = lsb; b <= msb; ++b)
    m[b / 8] = static_cast<std::uint8_t>(m[b / 8] | 1U << b % 8);
  return m;
}

// memcmp rather than a loop: a loop's compares would each be traced for the fuzzer, for nothing.
template <std::size_t N>
[[nodiscard]] bool same_bytes(std::span<const std::byte, N> a, std::span<const std::byte, N> b) {
  return std::memcmp(a.data(), b.data(), N) == 0;
}

// Every field: the typed value, the view and the run-time read agree.
template <vsmmu::layout::layout_type L, class F>
void check_field_read(const vsmmu::layout::value<L>& v, const vsmmu::layout::view<L>& w,
                      std::span<const std::byte, L::byte_count> bytes) {
  namespace vl = vsmmu::layout;
  const vl::field_info& info = L::field_infos[L::template index_of<F>];
  VSMMU_FUZZ_CHECK(info.name == F::name && info.msb == F::msb && info.lsb == F::lsb,
                   "field_infos entry differs from the field type");

  const auto typed = v.template get<F>();
  VSMMU_FUZZ_CHECK(w.template get<F>() == typed, "view and value disagree on a field");
  // read_value is read_raw shifted into place; read_raw itself is checked on the writes.
  VSMMU_FUZZ_CHECK(vl::read_value(info, bytes) == as_u64<F>(typed),
                   "read_value disagrees with the typed get");
  VSMMU_FUZZ_CHECK(F::fits(typed), "a decoded value does not fit its own field");
}

// A write of a value from the input through each of the three write paths (value::init,
// mutable_view::init, write_value) gives the same bytes, reads back, and leaves every bit
// outside the field alone; a value that does not fit is refused and changes nothing.
template <vsmmu::layout::layout_type L, class F>
void check_field_write(const vsmmu::layout::value<L>& v,
                       std::span<const std::byte, L::byte_count> bytes, reader& in) {
  namespace vl = vsmmu::layout;
  constexpr std::size_t n = L::byte_count;
  const vl::field_info& info = L::field_infos[L::template index_of<F>];
  VSMMU_FUZZ_CHECK(vl::read_raw(info, bytes) == v.template raw<F>(),
                   "read_raw disagrees with the typed raw bits");
  const std::uint64_t candidate = field_candidate(in, F::width, F::value_shift);
  const bool fits = (candidate & ~F::value_mask) == 0;
  VSMMU_FUZZ_CHECK(vl::value_fits(info, candidate) == fits, "value_fits disagrees with the mask");

  std::array<std::byte, n> by_dynamic{};
  std::copy(bytes.begin(), bytes.end(), by_dynamic.begin());
  const bool written = vl::write_value(info, by_dynamic, candidate);
  VSMMU_FUZZ_CHECK(written == fits,
                   "write_value accepted a value that does not fit, or refused "
                   "one that does");
  if (!fits) {
    VSMMU_FUZZ_CHECK(same_bytes<n>(by_dynamic, bytes), "a refused write_value changed bytes");
    return;
  }
  const auto typed_candidate = from_u64<F>(candidate);
  VSMMU_FUZZ_CHECK(as_u64<F>(typed_candidate) == candidate,
                   "a fitting value does not survive the field's value type");

  vl::value<L> by_value = v;
  by_value.template init<F>(typed_candidate);
  std::array<std::byte, n> by_view{};
  std::copy(bytes.begin(), bytes.end(), by_view.begin());
  vl::mutable_view<L>(std::span<std::byte, n>(by_view)).template init<F>(typed_candidate);

  const auto value_bytes = by_value.bytes();
  VSMMU_FUZZ_CHECK(same_bytes<n>(value_bytes, by_dynamic), "value::init and write_value differ");
  VSMMU_FUZZ_CHECK(same_bytes<n>(by_view, by_dynamic), "mutable_view::init and write_value differ");
  VSMMU_FUZZ_CHECK(by_value.template get<F>() == typed_candidate,
                   "a written field reads back "
                   "differently");
  VSMMU_FUZZ_CHECK(vl::read_value(info, by_dynamic) == candidate,
                   "read_value after write_value differs");

  constexpr auto mask = bit_mask<n>(F::msb, F::lsb);
  for (std::size_t i = 0; i < n; ++i) {
    const auto changed = std::to_integer<std::uint8_t>(by_dynamic[i] ^ bytes[i]);
    VSMMU_FUZZ_CHECK((changed & ~mask[i]) == 0, "a field write changed bits outside the field");
  }

  if constexpr (vl::software_writable(F::access_mode)) {
    vl::value<L> by_set = v;
    by_set.template set<F>(typed_candidate);
    VSMMU_FUZZ_CHECK(by_set == by_value, "set and init differ on a writable field");
    VSMMU_FUZZ_CHECK(v.template with<F>(typed_candidate) == by_value, "with and init differ");
  }
}

}  // namespace detail

// Every invariant for one layout over `bytes` (the structure as a guest wrote it); `in`
// supplies the values to write.
template <vsmmu::layout::layout_type L>
void check_layout(std::span<const std::byte, L::byte_count> bytes, reader& in) {
  namespace vl = vsmmu::layout;
  using word = typename L::word_type;
  const auto v = vl::value<L>::from_bytes(bytes);
  const vl::view<L> w(bytes);

  VSMMU_FUZZ_CHECK(detail::same_bytes<L::byte_count>(v.bytes(), bytes),
                   "from_bytes then bytes() is not the identity");
  VSMMU_FUZZ_CHECK(w.copy() == v, "view::copy differs from from_bytes");

  bool clear = true;
  for (std::size_t i = 0; i < L::word_count; ++i) {
    VSMMU_FUZZ_CHECK(w.word(static_cast<unsigned>(i)) == v.words()[i],
                     "view and value words differ");
    if ((v.words()[i] & static_cast<word>(~L::declared_mask[i])) != 0) clear = false;
  }
  VSMMU_FUZZ_CHECK(v.undeclared_bits_clear() == clear, "undeclared_bits_clear is wrong");

  // encode(decode(x)) == x on the declared bits, and nothing outside them.
  const auto d = vl::decode(v);
  VSMMU_FUZZ_CHECK(vl::decode(w) == d, "decoding a view and a value differ");
  const auto e = vl::encode(d);
  for (std::size_t i = 0; i < L::word_count; ++i) {
    VSMMU_FUZZ_CHECK(((e.words()[i] ^ v.words()[i]) & L::declared_mask[i]) == 0,
                     "encode(decode(x)) differs from x on a declared bit");
    VSMMU_FUZZ_CHECK((e.words()[i] & static_cast<word>(~L::declared_mask[i])) == 0,
                     "encode set an undeclared bit");
  }
  VSMMU_FUZZ_CHECK(vl::decode(e) == d, "decode(encode(d)) differs from d");

  const vl::layout_info info = vl::info_of_layout<L>();
  VSMMU_FUZZ_CHECK(info.byte_count() == L::byte_count && info.fields.size() == L::field_count,
                   "layout_info differs from the layout");

  L::visit_fields([&]<class F>() { detail::check_field_read<L, F>(v, w, bytes); });

  // Writes through a few fields the input picks: writing every field of a 100-field STE on
  // every run would cost more than the rest together, for no more coverage.
  std::array<bool, L::field_count> chosen{};
  const unsigned writes = 1 + in.integer<std::uint8_t>() % 4;
  for (unsigned i = 0; i < writes; ++i) chosen[in.integer<std::uint8_t>() % L::field_count] = true;
  L::visit_fields([&]<class F>() {
    if (chosen[L::template index_of<F>]) detail::check_field_write<L, F>(v, bytes, in);
  });
}

// The bytes of one L from the input (zero-filled when the input is short), then the checks.
template <vsmmu::layout::layout_type L>
void check_layout_from(reader& in) {
  std::array<std::byte, L::byte_count> bytes{};
  in.bytes(bytes);
  check_layout<L>(std::span<const std::byte, L::byte_count>(bytes), in);
}

// The run-time description a catalogue holds must be the typed layout's.
template <vsmmu::layout::layout_type L>
void check_same_info(const vsmmu::layout::layout_info& info) {
  VSMMU_FUZZ_CHECK(info.name == L::name && info.bit_count == L::bit_count &&
                       info.word_bits == L::word_bits && info.fields.size() == L::field_count,
                   "a catalogue entry's layout differs from the typed layout");
  for (std::size_t i = 0; i < L::field_count; ++i) {
    const auto& a = info.fields[i];
    const auto& b = L::field_infos[i];
    VSMMU_FUZZ_CHECK(a.name == b.name && a.msb == b.msb && a.lsb == b.lsb &&
                         a.access_mode == b.access_mode && a.in_place == b.in_place,
                     "a catalogue entry's field differs from the typed layout's");
  }
}

}  // namespace vsmmu::fuzz
