// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstddef>
#include <cstdint>

#include <vsmmu/layout/field.hpp>
#include <vsmmu/layout/layout.hpp>
#include <vsmmu/pcie/ext_cap.hpp>

// The ATS Extended Capability, PCIe Base Spec r6.2 §10.5.1: the header, then the 16-bit ATS
// Capability register at +04h and the 16-bit ATS Control register at +06h, as two DWORDs.
namespace vsmmu::pcie::ats {
using vsmmu::layout::field;
using vsmmu::layout::w32;
using enum vsmmu::layout::access;

using ext_cap::CapabilityID;
using ext_cap::CapabilityVersion;
using ext_cap::NextCapabilityOffset;

inline constexpr ext_cap_id id = ext_cap_id::ats;
inline constexpr std::uint8_t version = 1;  // "Must be 1h for this version of the specification"
inline constexpr std::size_t size_bytes = 8;

// dword 1, bits [15:0]: ATS Capability register (+04h)
// 0 means 32 requests (a VF reads 0 and uses its PF's queue).
struct InvalidateQueueDepth final : field<"InvalidateQueueDepth", w32<1, 4, 0>, std::uint8_t, ro> {
};
struct PageAlignedRequest final : field<"PageAlignedRequest", w32<1, 5, 5>, bool, ro> {};
struct GlobalInvalidateSupported final
    : field<"GlobalInvalidateSupported", w32<1, 6, 6>, bool, ro> {};
struct RelaxedOrderingSupported final : field<"RelaxedOrderingSupported", w32<1, 7, 7>, bool, ro> {
};
// r6.x; Linux's pci_regs.h and pciutils have no constant for it yet.
struct ATSMemoryAttributesSupported final
    : field<"ATSMemoryAttributesSupported", w32<1, 8, 8>, bool, ro> {};
// dword 1, bits [31:16]: ATS Control register (+06h)
// STU: translations come in 2^STU 4 KiB blocks (VF: RO zero, the PF's value applies).
struct SmallestTranslationUnit final
    : field<"SmallestTranslationUnit", w32<1, 20, 16>, std::uint8_t, rw> {};
// AMAD and AMAE are RW/RO: hardwired to zero without ATSMemoryAttributesSupported.
struct ATSMemoryAttributesDefault final
    : field<"ATSMemoryAttributesDefault", w32<1, 29, 27>, std::uint8_t, rw> {};
struct ATSMemoryAttributesEnable final
    : field<"ATSMemoryAttributesEnable", w32<1, 30, 30>, bool, rw> {};
struct Enable final : field<"Enable", w32<1, 31, 31>, bool, rw> {};

using layout = vsmmu::layout::layout<"ATS", 64, std::uint32_t, CapabilityID, CapabilityVersion,
                                     NextCapabilityOffset, InvalidateQueueDepth, PageAlignedRequest,
                                     GlobalInvalidateSupported, RelaxedOrderingSupported,
                                     ATSMemoryAttributesSupported, SmallestTranslationUnit,
                                     ATSMemoryAttributesDefault, ATSMemoryAttributesEnable, Enable>;
static_assert(layout::byte_count == size_bytes);

// What software may change, DWORD by DWORD (derived from the fields above).
inline constexpr auto write_masks = config_write_masks_of<layout>();

}  // namespace vsmmu::pcie::ats
