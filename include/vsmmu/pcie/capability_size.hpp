// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/pcie/config_model.hpp>
#include <vsmmu/pcie/ext_cap.hpp>
#include <vsmmu/pcie/walk.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>

// How many bytes an Extended Capability occupies, header included: a table for the fixed-size
// ones, and for the others the size their own registers give (PCIe Base Spec r6.2 §7.8-§7.9;
// offsets as in Linux's pci_regs.h). Used to refuse insertions over a capability's body and by
// the gap finder. Sizes are computed from vendor data: they may run past 1000h, and callers
// clip them.
namespace vsmmu::pcie {

namespace detail {

[[nodiscard]] constexpr std::uint32_t round_up4(std::uint32_t n) noexcept { return (n + 3u) & ~3u; }

// The Link's maximum width from the PCI Express Capability's Link Capabilities register (+0Ch,
// bits [9:4]); the per-lane registers of the Physical Layer capabilities are sized by it. 32
// lanes, the most a Link has, when the legacy list does not give it.
[[nodiscard]] constexpr std::uint32_t max_link_width(config_span c) noexcept {
  constexpr std::uint32_t widest = 32;
  const std::uint8_t pcie = find_legacy_cap(c, legacy_cap_id_pcie);
  if (pcie == 0) return widest;
  const std::uint32_t width = (load32(c, pcie + 0x0Cu) >> 4) & 0x3Fu;
  return width == 0 || width > widest ? widest : width;
}

// Bytes an arbitration table takes: `phases` entries of `bits` bits (§7.9.1.3, §7.9.1.7).
[[nodiscard]] constexpr std::uint32_t table_bytes(std::uint32_t phases,
                                                  std::uint32_t bits) noexcept {
  return round_up4(phases * bits / 8);
}

// Virtual Channel and MFVC (§7.9.1, §7.9.2): the port registers, one 12-byte resource block
// per VC (VC0 plus Extended VC Count), and the arbitration tables their offsets point at.
[[nodiscard]] constexpr std::uint32_t vc_size(config_span c, std::uint16_t at) noexcept {
  const std::uint32_t cap1 = load32(c, at + 0x04u);
  const std::uint32_t cap2 = load32(c, at + 0x08u);
  const std::uint32_t vcs = (cap1 & 0x7u) + 1;
  std::uint32_t end = 0x10 + vcs * 0x0C;
  // VC Arbitration Table: 4-bit entries; 32, 64 or 128 phases by the capability bits [3:1].
  if (const std::uint32_t table = (cap2 >> 24) & 0xFFu; table != 0) {
    const std::uint32_t phases = (cap2 & 0x8u) ? 128 : (cap2 & 0x4u) ? 64 : 32;
    end = std::max(end, table * 16 + table_bytes(phases, 4));
  }
  // Port Arbitration Tables: entries of 1, 2, 4 or 8 bits (Port VC Capability 1 [11:10]).
  const std::uint32_t entry_bits = 1u << ((cap1 >> 10) & 0x3u);
  for (std::uint32_t vc = 0; vc < vcs; ++vc) {
    const std::uint32_t resource = load32(c, at + 0x10u + vc * 0x0Cu);
    if (const std::uint32_t table = (resource >> 24) & 0xFFu; table != 0) {
      const std::uint32_t phases = (resource & 0x20u)   ? 256
                                   : (resource & 0x18u) ? 128
                                   : (resource & 0x04u) ? 64
                                                        : 32;
      end = std::max(end, table * 16 + table_bytes(phases, entry_bits));
    }
  }
  return end;
}

}  // namespace detail

// Size of a capability of this ID whatever its registers hold; nullopt when it varies or is
// not known.
[[nodiscard]] constexpr std::optional<std::uint32_t> fixed_ext_cap_size(ext_cap_id id) noexcept {
  switch (id) {
    case ext_cap_id::null:
      return 0x04;  // the header only
    case ext_cap_id::dsn:
      return 0x0C;
    case ext_cap_id::power_budgeting:
      return 0x10;
    case ext_cap_id::rc_internal_link_control:
      return 0x0C;
    case ext_cap_id::rcrb_header:
      return 0x14;
    case ext_cap_id::ari:
      return 0x08;
    case ext_cap_id::ats:
      return 0x08;
    case ext_cap_id::sriov:
      return 0x40;
    case ext_cap_id::multicast:
      return 0x30;
    case ext_cap_id::pri:
      return 0x10;
    case ext_cap_id::ltr:
      return 0x08;
    case ext_cap_id::pasid:
      return 0x08;
    case ext_cap_id::lnr:
      return 0x08;
    case ext_cap_id::l1pm_substates:
      return 0x10;
    case ext_cap_id::ptm:
      return 0x0C;
    case ext_cap_id::frs_queueing:
      return 0x10;
    case ext_cap_id::readiness_time_reporting:
      return 0x0C;
    case ext_cap_id::data_link_feature:
      return 0x0C;
    case ext_cap_id::npem:
      return 0x10;
    case ext_cap_id::doe:
      return 0x18;
    case ext_cap_id::device3:
      return 0x10;
    default:
      return std::nullopt;
  }
}

// The bytes the capability at `cap.offset` occupies, from the table or its registers; nullopt
// for an ID whose size is not known (then only its header is known to be there).
[[nodiscard]] constexpr std::optional<std::uint32_t> ext_cap_size(
    config_span c, const ext_cap_entry& cap) noexcept {
  if (const auto fixed = fixed_ext_cap_size(cap.id)) return fixed;
  const std::uint16_t at = cap.offset;
  const auto reg = [&](std::uint32_t off) { return load32(c, at + off); };
  switch (cap.id) {
    case ext_cap_id::aer:
      // §7.8.4: up to the Error Source Identification register; the TLP Prefix Log (38h-47h)
      // when AER Capabilities and Control bit 11, TLP Prefix Log Present, says so.
      return (reg(0x18) & (1u << 11)) ? 0x48u : 0x38u;
    case ext_cap_id::vc:
    case ext_cap_id::vc_with_mfvc:
    case ext_cap_id::mfvc:
      return detail::vc_size(c, at);
    case ext_cap_id::rc_link_declaration:
      // §7.9.8: 16 bytes per Link Entry, Number of Link Entries in Element Self Description.
      return 0x10u + 0x10u * ((reg(0x04) >> 8) & 0xFFu);
    case ext_cap_id::rcec_association:
      // §7.9.10: version 2 added the Associated Bus Numbers register.
      return cap.version >= 2 ? 0x0Cu : 0x08u;
    case ext_cap_id::vsec:
    case ext_cap_id::dvsec:
      // §7.9.5, §7.9.6: the length, header included, in bits [31:20] of the DWORD at 04h.
      return (reg(0x04) >> 20) & 0xFFFu;
    case ext_cap_id::acs: {
      // §7.7.8: the Egress Control Vector, when the E bit (5) is set, of ECVS bits (0 = 256),
      // in whole DWORDs.
      const std::uint32_t cap_reg = reg(0x04) & 0xFFFFu;
      if ((cap_reg & (1u << 5)) == 0) return 0x08u;
      std::uint32_t bits = (cap_reg >> 8) & 0xFFu;
      if (bits == 0) bits = 256;
      return 0x08u + 4u * ((bits + 31) / 32);
    }
    case ext_cap_id::resizable_bar:
    case ext_cap_id::vf_resizable_bar: {
      // §7.8.6: 8 bytes per BAR; the count (1-6) is in the first Control register [7:5].
      std::uint32_t bars = (reg(0x08) >> 5) & 0x7u;
      bars = std::clamp<std::uint32_t>(bars, 1, 6);
      return 0x04u + 0x08u * bars;
    }
    case ext_cap_id::dpa:
      // §7.9.12: one Power Allocation byte per substate, 0 to Substate_Max (bits [4:0]).
      return 0x10u + detail::round_up4((reg(0x04) & 0x1Fu) + 1);
    case ext_cap_id::tph: {
      // §7.9.13: the ST Table is in the capability when ST Table Location is 01b; 2 bytes per
      // entry, ST Table Size + 1 entries.
      const std::uint32_t cap_reg = reg(0x04);
      if (((cap_reg >> 9) & 0x3u) != 0x1u) return 0x0Cu;
      return 0x0Cu + detail::round_up4(2 * (((cap_reg >> 16) & 0x7FFu) + 1));
    }
    case ext_cap_id::secondary_pcie:
      // §7.7.3: a 16-bit Lane Equalization Control register per lane from 0Ch.
      return 0x0Cu + detail::round_up4(2 * detail::max_link_width(c));
    case ext_cap_id::dpc: {
      // §7.9.14: without RP Extensions, up to the Error Source ID; with them, the RP PIO logs
      // of RP PIO Log Size DWORDs (bits [11:8], bit 12 its fifth bit) from 20h.
      const std::uint32_t cap_reg = reg(0x04) & 0xFFFFu;
      if ((cap_reg & (1u << 5)) == 0) return 0x0Cu;
      const std::uint32_t log = ((cap_reg >> 8) & 0xFu) | ((cap_reg >> 8) & 0x10u);
      return 0x20u + 4u * std::max<std::uint32_t>(log, 4);
    }
    case ext_cap_id::physical_layer_16gt:
      // §7.7.5: one Lane Equalization Control byte per lane from 20h.
      return 0x20u + detail::round_up4(detail::max_link_width(c));
    case ext_cap_id::lane_margining:
      // §7.7.7: a Lane Control and Status DWORD per lane from 08h.
      return 0x08u + 4u * detail::max_link_width(c);
    default:
      return std::nullopt;
  }
}

// The bytes the capability occupies inside the configuration space: its size, at least its
// header, clipped at 1000h; nullopt when its size is not known.
[[nodiscard]] constexpr std::optional<std::uint32_t> ext_cap_extent(
    config_span c, const ext_cap_entry& cap) noexcept {
  const auto size = ext_cap_size(c, cap);
  if (!size) return std::nullopt;
  const std::uint32_t room = static_cast<std::uint32_t>(config_space_size) - cap.offset;
  return std::min(std::max<std::uint32_t>(*size, ext_cap_header_size), room);
}

}  // namespace vsmmu::pcie
