// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/value.hpp>

#include <cstddef>
#include <cstdint>

// The level-1 descriptors of two-level tables: L1STD (IHI 0070 §5.1) for the Stream table and
// L1CD (§5.3) for CD tables. All bits outside the fields are RES0.

// L1STD, Level 1 Stream Table Descriptor.
namespace vsmmu::smmuv3::l1std {

using vsmmu::layout::address;
using vsmmu::layout::bits;
using vsmmu::layout::field;

struct Span final : field<"Span", bits<4, 0>, std::uint8_t> {};
// Address bits [55:6]; the SMMU also ignores L2Ptr[5 + Span - 1:0], aligning the level-2 array
// to its size.
struct L2Ptr final : field<"L2Ptr", bits<55, 6>, address> {};

using layout = vsmmu::layout::layout<"L1STD", 64, std::uint64_t, Span, L2Ptr>;
using value = vsmmu::layout::value<layout>;
using view = vsmmu::layout::view<layout>;
using mutable_view = vsmmu::layout::mutable_view<layout>;

// "L1STD is a 8-byte structure".
inline constexpr std::size_t size_bytes = 8;
static_assert(layout::byte_count == size_bytes);

// Number of STEs in the level-2 array a Span describes: 2^(Span - 1) for Span 1..11; 0 for
// Span 0 (L2Ptr invalid) and for 12..31 (Reserved, behaves as 0).
[[nodiscard]] constexpr std::uint32_t ste_count(std::uint8_t span) noexcept {
  return span >= 1 && span <= 11 ? std::uint32_t{1} << (span - 1) : 0;
}

}  // namespace vsmmu::smmuv3::l1std

// L1CD, Level 1 Context Descriptor.
namespace vsmmu::smmuv3::l1cd {

using vsmmu::layout::address;
using vsmmu::layout::bits;
using vsmmu::layout::field;

struct V final : field<"V", bits<0, 0>, bool> {};
// Address bits [55:12]: level-2 CD tables are at least 4KB-aligned (IHI 0070 §5.2 S1Fmt).
struct L2Ptr final : field<"L2Ptr", bits<55, 12>, address> {};

using layout = vsmmu::layout::layout<"L1CD", 64, std::uint64_t, V, L2Ptr>;
using value = vsmmu::layout::value<layout>;
using view = vsmmu::layout::view<layout>;
using mutable_view = vsmmu::layout::mutable_view<layout>;

// "L1CD is a 8-byte structure".
inline constexpr std::size_t size_bytes = 8;
static_assert(layout::byte_count == size_bytes);

}  // namespace vsmmu::smmuv3::l1cd
