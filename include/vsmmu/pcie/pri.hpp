// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstddef>
#include <cstdint>

#include <vsmmu/layout/field.hpp>
#include <vsmmu/layout/layout.hpp>
#include <vsmmu/pcie/ext_cap.hpp>

// The Page Request Extended Capability (PRI), PCIe Base Spec r6.2 §10.5.2: the header, the
// 16-bit Page Request Control (+04h) and Status (+06h) registers, then the 32-bit Outstanding
// Page Request Capacity (+08h) and Allocation (+0Ch) registers.
namespace vsmmu::pcie::pri {
using vsmmu::layout::field;
using vsmmu::layout::w32;
using enum vsmmu::layout::access;

using ext_cap::CapabilityID;
using ext_cap::CapabilityVersion;
using ext_cap::NextCapabilityOffset;

inline constexpr ext_cap_id id = ext_cap_id::pri;
inline constexpr std::uint8_t version = 1;  // "Must be 1h for this version of the specification"
inline constexpr std::size_t size_bytes = 16;

// dword 1, bits [15:0]: Page Request Control register (+04h)
struct Enable final : field<"Enable", w32<1, 0, 0>, bool, rw> {};
// RW in the spec's table, but "reads of this field return 0b": writing 1 acts (clears the
// credit counter and pending state while disabled), nothing is stored. That is write-only.
struct Reset final : field<"Reset", w32<1, 1, 1>, bool, wo> {};
// dword 1, bits [31:16]: Page Request Status register (+06h)
struct ResponseFailure final : field<"ResponseFailure", w32<1, 16, 16>, bool, w1c> {};
struct UnexpectedPageRequestGroupIndex final
    : field<"UnexpectedPageRequestGroupIndex", w32<1, 17, 17>, bool, w1c> {};
// Reads 1 out of reset; only meaningful while Enable is Clear.
struct Stopped final : field<"Stopped", w32<1, 24, 24>, bool, ro> {};
struct PRGResponsePASIDRequired final
    : field<"PRGResponsePASIDRequired", w32<1, 31, 31>, bool, ro> {};
// dword 2: Outstanding Page Request Capacity (+08h)
struct OutstandingPageRequestCapacity final
    : field<"OutstandingPageRequestCapacity", w32<2, 31, 0>, std::uint32_t, ro> {};
// dword 3: Outstanding Page Request Allocation (+0Ch)
struct OutstandingPageRequestAllocation final
    : field<"OutstandingPageRequestAllocation", w32<3, 31, 0>, std::uint32_t, rw> {};

using layout =
    vsmmu::layout::layout<"PRI", 128, std::uint32_t, CapabilityID, CapabilityVersion,
                          NextCapabilityOffset, Enable, Reset, ResponseFailure,
                          UnexpectedPageRequestGroupIndex, Stopped, PRGResponsePASIDRequired,
                          OutstandingPageRequestCapacity, OutstandingPageRequestAllocation>;
static_assert(layout::byte_count == size_bytes);

// What software may change, DWORD by DWORD (derived from the fields above).
inline constexpr auto write_masks = config_write_masks_of<layout>();

}  // namespace vsmmu::pcie::pri
