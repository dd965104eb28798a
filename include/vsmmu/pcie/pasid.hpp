// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstddef>
#include <cstdint>

#include <vsmmu/layout/field.hpp>
#include <vsmmu/layout/layout.hpp>
#include <vsmmu/pcie/ext_cap.hpp>

// The PASID Extended Capability, PCIe Base Spec r6.2 §7.8.9: the header, then the 16-bit PASID
// Capability register at +04h and the 16-bit PASID Control register at +06h, as two DWORDs.
namespace vsmmu::pcie::pasid {
using vsmmu::layout::field;
using vsmmu::layout::w32;
using enum vsmmu::layout::access;

using ext_cap::CapabilityID;
using ext_cap::CapabilityVersion;
using ext_cap::NextCapabilityOffset;

inline constexpr ext_cap_id id = ext_cap_id::pasid;
inline constexpr std::uint8_t version = 1;  // "Must be 1h for this version of the specification"
inline constexpr std::size_t size_bytes = 8;
// MaxPASIDWidth "must be between 0 and 20 (inclusive)": PASIDs are 20 bits.
inline constexpr std::uint8_t max_pasid_width = 20;

// dword 1, bits [15:0]: PASID Capability register (+04h)
struct ExecutePermissionSupported final
    : field<"ExecutePermissionSupported", w32<1, 1, 1>, bool, ro> {};
struct PrivilegedModeSupported final : field<"PrivilegedModeSupported", w32<1, 2, 2>, bool, ro> {};
// In r6.0 (from an r5.x ECN); Linux's pci_regs.h and pciutils have no constant for it yet.
struct TranslatedRequestsWithPASIDSupported final
    : field<"TranslatedRequestsWithPASIDSupported", w32<1, 3, 3>, bool, ro> {};
struct MaxPASIDWidth final : field<"MaxPASIDWidth", w32<1, 12, 8>, std::uint8_t, ro> {};
// dword 1, bits [31:16]: PASID Control register (+06h). Bits 1-3 are RsvdP when the matching
// "Supported" bit is Clear.
struct PASIDEnable final : field<"PASIDEnable", w32<1, 16, 16>, bool, rw> {};
struct ExecutePermissionEnable final
    : field<"ExecutePermissionEnable", w32<1, 17, 17>, bool, rw> {};
struct PrivilegedModeEnable final : field<"PrivilegedModeEnable", w32<1, 18, 18>, bool, rw> {};
struct TranslatedRequestsWithPASIDEnable final
    : field<"TranslatedRequestsWithPASIDEnable", w32<1, 19, 19>, bool, rw> {};

using layout = vsmmu::layout::layout<"PASID", 64, std::uint32_t, CapabilityID, CapabilityVersion,
                                     NextCapabilityOffset, ExecutePermissionSupported,
                                     PrivilegedModeSupported, TranslatedRequestsWithPASIDSupported,
                                     MaxPASIDWidth, PASIDEnable, ExecutePermissionEnable,
                                     PrivilegedModeEnable, TranslatedRequestsWithPASIDEnable>;
static_assert(layout::byte_count == size_bytes);

// What software may change, DWORD by DWORD (derived from the fields above).
inline constexpr auto write_masks = config_write_masks_of<layout>();

}  // namespace vsmmu::pcie::pasid
