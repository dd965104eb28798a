// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/dynamic.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

// What the CLI does with one structure, known only by its run-time description: print its
// fields, find bits that should be zero, build it from "Field=value" arguments. Nothing here
// knows which structure it is, so tests can drive it with their own layouts.
namespace vsmmu::cli {

using layout::field_info;
using layout::layout_info;

// Little-endian bytes from 64-bit dwords (D0 = bytes 0-7) and back.
[[nodiscard]] std::vector<std::byte> bytes_of_dwords(std::span<const std::uint64_t> dwords);
[[nodiscard]] std::vector<std::uint64_t> dwords_of_bytes(std::span<const std::byte> bytes);
// A register value as its little-endian bytes, and back (at most 8 bytes).
[[nodiscard]] std::vector<std::byte> bytes_of_value(std::uint64_t value, std::size_t byte_count);
[[nodiscard]] std::uint64_t value_of_bytes(std::span<const std::byte> bytes);

// "[55:6]", or "[0]" for one bit: how IHI 0070 writes a field's position.
[[nodiscard]] std::string bit_range(unsigned msb, unsigned lsb);

struct bit_span {
  unsigned msb;
  unsigned lsb;
};

// The set bits that belong to no named field and are not RES1: RES0 ranges and bits the
// layout leaves undeclared, except those in `ignored` (one mask per 64-bit dword, e.g. the
// IMPLEMENTATION DEFINED ranges of an STE). RES1 bits are not checked. Runs of adjacent bits
// are merged.
[[nodiscard]] std::vector<bit_span> reserved_bits_set(const layout_info& info,
                                                      std::span<const std::byte> bytes,
                                                      std::span<const std::uint64_t> ignored = {});

// {"kind": "ste", "name": "STE", "fields": {"V": 1, ...}} with every named field in layout
// order, values in decimal (addresses in place), plus "reserved_nonzero": true when
// reserved_bits_set() is not empty. No trailing newline.
[[nodiscard]] std::string to_json(std::string_view kind, std::string_view name,
                                  const layout_info& info, std::span<const std::byte> bytes,
                                  std::span<const std::uint64_t> ignored = {});

// The structure's name on a line, then one line per named field: name, bit range, hex value,
// in aligned columns starting at column 0 (so that `grep '^Config '` picks a field); then a
// line "reserved bits set: [4] [59:58]" if any are. Ends with a newline.
[[nodiscard]] std::string to_text(std::string_view name, const layout_info& info,
                                  std::span<const std::byte> bytes,
                                  std::span<const std::uint64_t> ignored = {});

// The starting point of an encode: all zero but the RES1 fields.
[[nodiscard]] std::vector<std::byte> blank(const layout_info& info);

// Writes "Field=value" assignments (values: number_form::integer) into `bytes`. Refuses
// anything but a named field (reserved fields have no name), a value that does not fit, the
// same field twice, and two overlapping (alias) fields given different bits.
[[nodiscard]] std::optional<failure> apply_assignments(
    const layout_info& info, std::span<const std::string_view> assignments,
    std::span<std::byte> bytes);

// The candidate closest to `typed` (case-insensitive edit distance of at most 2, and less than
// the typed length), or empty. For "did you mean" hints.
[[nodiscard]] std::string_view closest_name(std::string_view typed,
                                            std::span<const std::string_view> candidates);

// `unknown <what> "typed"`, with a hint when a candidate is close.
[[nodiscard]] std::string unknown_name(std::string_view what, std::string_view typed,
                                       std::span<const std::string_view> candidates);

}  // namespace vsmmu::cli
