// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <array>
#include <cstddef>

#include <vsmmu/layout/field.hpp>

// Layout checks run in consteval code over an array of field_info: sort once, compare
// neighbours. (A pairwise check over a Hana tuple costs ~23 s per 128-field layout.)
namespace vsmmu::layout::detail {

enum class layout_error : unsigned char {
  none,
  field_outside_layout,
  fields_overlap,
  duplicate_name,
};

struct check_result {
  layout_error error = layout_error::none;
  std::size_t first = 0;   // index of the offending field in declaration order
  std::size_t second = 0;  // the other field, for overlaps and duplicates
};

// Insertion sort of indices: layouts have at most a few hundred fields, and std::sort would be
// instantiated afresh for every layout size (a measurable share of a TU's compile time).
template <std::size_t N, class Less>
consteval void sort_indices(std::array<std::size_t, N>& order, Less less) {
  for (std::size_t i = 1; i < N; ++i) {
    const std::size_t key = order[i];
    std::size_t j = i;
    for (; j > 0 && less(key, order[j - 1]); --j) order[j] = order[j - 1];
    order[j] = key;
  }
}

template <std::size_t N>
consteval check_result check_layout(const std::array<field_info, N>& fields, std::size_t bits) {
  for (std::size_t i = 0; i < N; ++i) {
    if (fields[i].msb >= bits) return {layout_error::field_outside_layout, i, i};
  }
  if constexpr (N > 1) {
    std::array<std::size_t, N> order{};
    for (std::size_t i = 0; i < N; ++i) order[i] = i;
    sort_indices(order, [&](std::size_t a, std::size_t b) {
      return fields[a].lsb < fields[b].lsb || (fields[a].lsb == fields[b].lsb && a < b);
    });
    // Among non-alias fields sorted by lsb, an overlap always shows between neighbours
    // (skipping aliases) as long as we track the highest msb seen so far.
    bool have_previous = false;
    std::size_t previous = 0;
    for (std::size_t k = 0; k < N; ++k) {
      const std::size_t i = order[k];
      if (fields[i].alias) continue;
      if (have_previous && fields[i].lsb <= fields[previous].msb) {
        return {layout_error::fields_overlap, previous < i ? previous : i, previous < i ? i : previous};
      }
      if (!have_previous || fields[i].msb > fields[previous].msb) previous = i;
      have_previous = true;
    }
    std::array<std::size_t, N> by_name{};
    for (std::size_t i = 0; i < N; ++i) by_name[i] = i;
    sort_indices(by_name, [&](std::size_t a, std::size_t b) {
      return fields[a].name < fields[b].name || (fields[a].name == fields[b].name && a < b);
    });
    for (std::size_t k = 1; k < N; ++k) {
      const auto& a = fields[by_name[k - 1]];
      const auto& b = fields[by_name[k]];
      if (a.name == b.name && !a.is_reserved() && !b.is_reserved()) {
        return {layout_error::duplicate_name, by_name[k - 1], by_name[k]};
      }
    }
  }
  return {};
}

template <std::size_t N>
consteval std::uint64_t defined_bit_count(const std::array<field_info, N>& fields) {
  std::uint64_t total = 0;
  for (const auto& f : fields) total += f.alias ? 0 : f.width();
  return total;
}

}  // namespace vsmmu::layout::detail

// Declared, never defined: instantiating one stops compilation with the culprits' names in the
// message ("incomplete type error::fields_overlap<ste::S1Fmt, ste::Config>").
namespace vsmmu::layout::error {
template <class Layout, class Field>
struct field_outside_layout;
template <class Field, class OtherField>
struct fields_overlap;
template <class Field, class OtherField>
struct duplicate_field_name;
template <class Field>
struct write_to_read_only_field;
template <class Field, auto Value>
struct constant_does_not_fit_field;
}  // namespace vsmmu::layout::error
