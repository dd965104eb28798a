// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstddef>

// The shape of a PCIe Function's Configuration Space, as the PCI Express Base Specification
// gives it (section numbers as in r6.2).
namespace vsmmu::pcie {

// PCIe Base Spec r6.2 §7.2: 4096 bytes per Function.
inline constexpr std::size_t config_space_size = 0x1000;

// PCIe Base Spec r6.2 §7.2: the PCI-compatible region is the first 256 bytes.
inline constexpr std::size_t legacy_config_size = 0x100;

// PCIe Base Spec r6.2 §7.6.1: Extended Capabilities always begin at offset 100h.
inline constexpr std::size_t extended_config_start = 0x100;

// PCIe Base Spec r6.2 §7.6.3: capabilities are DWORD-aligned (the two low bits of Next
// Capability Offset are reserved).
inline constexpr std::size_t capability_alignment = 4;

// PCIe Base Spec r6.2 §7.6.3: the Extended Capability header is one DWORD.
inline constexpr std::size_t ext_cap_header_size = 4;

static_assert(extended_config_start == legacy_config_size);
static_assert(extended_config_start % capability_alignment == 0);
static_assert(config_space_size % capability_alignment == 0);

}  // namespace vsmmu::pcie
