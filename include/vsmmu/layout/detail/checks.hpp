// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/field.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

// Layout checks run in consteval code over an array of field_info. (A pairwise check over a Hana
// tuple costs ~23 s per 128-field layout.)
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

// FNV-1a of a field name, for the duplicate-name check. constexpr, not consteval: clang 14
// rejects a consteval call on a parameter inside another consteval function template.
constexpr std::uint64_t name_hash(std::string_view name) noexcept {
  std::uint64_t h = 0xcbf29ce484222325;
  for (const char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3;
  return h;
}

// Linear in the number of fields: overlaps against a bitmap of the bits claimed so far, duplicate
// names through a hash table. (Sorting the fields twice, by position and by name, made this
// check a quarter of the cost of including the STE header: constant evaluation is slow per
// step, and string comparisons are many steps.) The error names the first field in declaration
// order that breaks a rule and an earlier field it conflicts with.
template <std::size_t Bits, std::size_t N>
consteval check_result check_layout(const std::array<field_info, N>& fields) {
  for (std::size_t i = 0; i < N; ++i) {
    if (fields[i].msb >= Bits) return {layout_error::field_outside_layout, i, i};
  }
  if constexpr (N > 1) {
    std::array<std::uint64_t, (Bits + 63) / 64> claimed{};
    for (std::size_t i = 0; i < N; ++i) {
      const field_info& f = fields[i];
      if (f.alias) continue;
      bool overlaps = false;
      for (unsigned w = f.lsb / 64; w <= f.msb / 64; ++w) {
        const unsigned lo = w * 64 > f.lsb ? 0 : f.lsb % 64;
        const unsigned hi = (w + 1) * 64 - 1 < f.msb ? 63 : f.msb % 64;
        const std::uint64_t mask = low_mask(hi - lo + 1) << lo;
        overlaps = overlaps || (claimed[w] & mask) != 0;
        claimed[w] |= mask;
      }
      if (overlaps) {
        for (std::size_t j = 0; j < i; ++j) {
          if (!fields[j].alias && fields[j].lsb <= f.msb && f.lsb <= fields[j].msb) {
            return {layout_error::fields_overlap, j, i};
          }
        }
      }
    }
    // Open addressing, at most half full; slots hold index + 1.
    constexpr std::size_t table_size = std::bit_ceil(2 * N);
    std::array<std::size_t, table_size> table{};
    for (std::size_t i = 0; i < N; ++i) {
      if (fields[i].is_reserved()) continue;
      for (std::size_t slot = name_hash(fields[i].name) & (table_size - 1);;
           slot = (slot + 1) & (table_size - 1)) {
        if (table[slot] == 0) {
          table[slot] = i + 1;
          break;
        }
        if (fields[table[slot] - 1].name == fields[i].name) {
          return {layout_error::duplicate_name, table[slot] - 1, i};
        }
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
