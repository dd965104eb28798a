// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <vsmmu/layout/field.hpp>
#include <vsmmu/layout/layout.hpp>
#include <vsmmu/layout/value.hpp>
#include <vsmmu/pcie/config_space.hpp>

namespace vsmmu::pcie {

// PCI Express Extended Capability IDs as the PCI-SIG assigns them (PCI Code and ID Assignment
// Specification rev 1.18; PCIe Base Spec r6.2 §7.6.3 defines the header that carries them).
// Every value from 0000h to 003Ah is assigned. A header holding any other value decodes to it
// unchanged: there is simply no enumerator for it.
enum class ext_cap_id : std::uint16_t {
  null = 0x0000,  // at 100h: "no Extended Capabilities" (§7.6.1)
  aer = 0x0001,
  vc = 0x0002,  // Virtual Channel, when the device has no MFVC capability
  dsn = 0x0003,
  power_budgeting = 0x0004,
  rc_link_declaration = 0x0005,
  rc_internal_link_control = 0x0006,
  rcec_association = 0x0007,
  mfvc = 0x0008,
  vc_with_mfvc = 0x0009,  // Virtual Channel, when the device has an MFVC capability
  rcrb_header = 0x000A,
  vsec = 0x000B,
  cac = 0x000C,  // Configuration Access Correlation, deprecated
  acs = 0x000D,
  ari = 0x000E,
  ats = 0x000F,
  sriov = 0x0010,
  mriov = 0x0011,
  multicast = 0x0012,
  pri = 0x0013,
  amd_reserved = 0x0014,  // "Reserved for AMD"
  resizable_bar = 0x0015,
  dpa = 0x0016,
  tph = 0x0017,
  ltr = 0x0018,
  secondary_pcie = 0x0019,
  pmux = 0x001A,
  pasid = 0x001B,
  lnr = 0x001C,
  dpc = 0x001D,
  l1pm_substates = 0x001E,
  ptm = 0x001F,
  mpcie = 0x0020,
  frs_queueing = 0x0021,
  readiness_time_reporting = 0x0022,
  dvsec = 0x0023,
  vf_resizable_bar = 0x0024,
  data_link_feature = 0x0025,
  physical_layer_16gt = 0x0026,
  lane_margining = 0x0027,
  hierarchy_id = 0x0028,
  npem = 0x0029,
  physical_layer_32gt = 0x002A,
  alternate_protocol = 0x002B,
  sfi = 0x002C,
  shadow_functions = 0x002D,  // §7.9.25; pciutils has no constant for it
  doe = 0x002E,
  device3 = 0x002F,
  ide = 0x0030,
  physical_layer_64gt = 0x0031,
  flit_logging = 0x0032,
  flit_performance_measurement = 0x0033,
  flit_error_injection = 0x0034,
  svc = 0x0035,
  mmio_rbl = 0x0036,
  nop_flit = 0x0037,
  siov = 0x0038,
  physical_layer_128gt = 0x0039,
  captured_data = 0x003A,
};

// Every assigned ID, in numeric order: what tools iterate.
inline constexpr std::array all_ext_cap_ids{
    ext_cap_id::null,
    ext_cap_id::aer,
    ext_cap_id::vc,
    ext_cap_id::dsn,
    ext_cap_id::power_budgeting,
    ext_cap_id::rc_link_declaration,
    ext_cap_id::rc_internal_link_control,
    ext_cap_id::rcec_association,
    ext_cap_id::mfvc,
    ext_cap_id::vc_with_mfvc,
    ext_cap_id::rcrb_header,
    ext_cap_id::vsec,
    ext_cap_id::cac,
    ext_cap_id::acs,
    ext_cap_id::ari,
    ext_cap_id::ats,
    ext_cap_id::sriov,
    ext_cap_id::mriov,
    ext_cap_id::multicast,
    ext_cap_id::pri,
    ext_cap_id::amd_reserved,
    ext_cap_id::resizable_bar,
    ext_cap_id::dpa,
    ext_cap_id::tph,
    ext_cap_id::ltr,
    ext_cap_id::secondary_pcie,
    ext_cap_id::pmux,
    ext_cap_id::pasid,
    ext_cap_id::lnr,
    ext_cap_id::dpc,
    ext_cap_id::l1pm_substates,
    ext_cap_id::ptm,
    ext_cap_id::mpcie,
    ext_cap_id::frs_queueing,
    ext_cap_id::readiness_time_reporting,
    ext_cap_id::dvsec,
    ext_cap_id::vf_resizable_bar,
    ext_cap_id::data_link_feature,
    ext_cap_id::physical_layer_16gt,
    ext_cap_id::lane_margining,
    ext_cap_id::hierarchy_id,
    ext_cap_id::npem,
    ext_cap_id::physical_layer_32gt,
    ext_cap_id::alternate_protocol,
    ext_cap_id::sfi,
    ext_cap_id::shadow_functions,
    ext_cap_id::doe,
    ext_cap_id::device3,
    ext_cap_id::ide,
    ext_cap_id::physical_layer_64gt,
    ext_cap_id::flit_logging,
    ext_cap_id::flit_performance_measurement,
    ext_cap_id::flit_error_injection,
    ext_cap_id::svc,
    ext_cap_id::mmio_rbl,
    ext_cap_id::nop_flit,
    ext_cap_id::siov,
    ext_cap_id::physical_layer_128gt,
    ext_cap_id::captured_data,
};

// The capability's name as `lspci -vv` prints it (without the details lspci appends, such as
// the serial number after "Device Serial Number"); for IDs lspci does not name, the PCI-SIG
// name. Empty for an unassigned ID, so callers can print the number instead, as lspci does.
[[nodiscard]] constexpr std::string_view name(ext_cap_id id) noexcept {
  switch (id) {
    case ext_cap_id::null: return "Null";
    case ext_cap_id::aer: return "Advanced Error Reporting";
    case ext_cap_id::vc: return "Virtual Channel";
    case ext_cap_id::dsn: return "Device Serial Number";
    case ext_cap_id::power_budgeting: return "Power Budgeting";
    case ext_cap_id::rc_link_declaration: return "Root Complex Link";
    case ext_cap_id::rc_internal_link_control: return "Root Complex Internal Link";
    case ext_cap_id::rcec_association: return "Root Complex Event Collector Endpoint Association";
    case ext_cap_id::mfvc: return "Multi-Function Virtual Channel";
    case ext_cap_id::vc_with_mfvc: return "Virtual Channel";
    case ext_cap_id::rcrb_header: return "Root Complex Register Block";
    case ext_cap_id::vsec: return "Vendor Specific Information";
    case ext_cap_id::cac: return "Configuration Access Correlation";
    case ext_cap_id::acs: return "Access Control Services";
    case ext_cap_id::ari: return "Alternative Routing-ID Interpretation (ARI)";
    case ext_cap_id::ats: return "Address Translation Service (ATS)";
    case ext_cap_id::sriov: return "Single Root I/O Virtualization (SR-IOV)";
    case ext_cap_id::mriov: return "Multi-Root I/O Virtualization";
    case ext_cap_id::multicast: return "Multicast";
    case ext_cap_id::pri: return "Page Request Interface (PRI)";
    case ext_cap_id::amd_reserved: return "Reserved for AMD";
    case ext_cap_id::resizable_bar: return "Physical Resizable BAR";
    case ext_cap_id::dpa: return "Dynamic Power Allocation";
    case ext_cap_id::tph: return "Transaction Processing Hints";
    case ext_cap_id::ltr: return "Latency Tolerance Reporting";
    case ext_cap_id::secondary_pcie: return "Secondary PCI Express";
    case ext_cap_id::pmux: return "Protocol Multiplexing";
    case ext_cap_id::pasid: return "Process Address Space ID (PASID)";
    case ext_cap_id::lnr: return "LN Requester";
    case ext_cap_id::dpc: return "Downstream Port Containment";
    case ext_cap_id::l1pm_substates: return "L1 PM Substates";
    case ext_cap_id::ptm: return "Precision Time Measurement";
    case ext_cap_id::mpcie: return "PCI Express over M_PHY";
    case ext_cap_id::frs_queueing: return "FRS Queueing";
    case ext_cap_id::readiness_time_reporting: return "Readiness Time Reporting";
    case ext_cap_id::dvsec: return "Designated Vendor-Specific";
    case ext_cap_id::vf_resizable_bar: return "Virtual Resizable BAR";
    case ext_cap_id::data_link_feature: return "Data Link Feature";
    case ext_cap_id::physical_layer_16gt: return "Physical Layer 16.0 GT/s";
    case ext_cap_id::lane_margining: return "Lane Margining at the Receiver";
    case ext_cap_id::hierarchy_id: return "Hierarchy ID";
    case ext_cap_id::npem: return "Native PCIe Enclosure Management";
    case ext_cap_id::physical_layer_32gt: return "Physical Layer 32.0 GT/s";
    case ext_cap_id::alternate_protocol: return "Alternate Protocol";
    case ext_cap_id::sfi: return "System Firmware Intermediary";
    case ext_cap_id::shadow_functions: return "Shadow Functions";
    case ext_cap_id::doe: return "Data Object Exchange";
    case ext_cap_id::device3: return "Device 3";
    case ext_cap_id::ide: return "Integrity & Data Encryption";
    case ext_cap_id::physical_layer_64gt: return "Physical Layer 64.0 GT/s";
    case ext_cap_id::flit_logging: return "Flit Logging";
    case ext_cap_id::flit_performance_measurement: return "Flit Performance Measurement";
    case ext_cap_id::flit_error_injection: return "Flit Error Injection";
    case ext_cap_id::svc: return "Streamlined Virtual Channel";
    case ext_cap_id::mmio_rbl: return "MMIO Register Block Locator";
    case ext_cap_id::nop_flit: return "NOP Flit";
    case ext_cap_id::siov: return "Scalable I/O Virtualization";
    case ext_cap_id::physical_layer_128gt: return "Physical Layer 128.0 GT/s";
    case ext_cap_id::captured_data: return "Captured Data";
  }
  return {};
}

// How one configuration DWORD takes a software write: what a config-space emulator applies to
// a guest's write. Derived from a layout's field access modes (config_write_masks_of), never
// written by hand. Optional bits a device hardwires (RW/RO, RW/RsvdP in the spec's tables) are
// listed as writable here; a model of such a device narrows the masks.
struct config_write_masks {
  std::uint32_t rw = 0;   // stored as written
  std::uint32_t w1c = 0;  // writing 1 clears the bit, writing 0 leaves it
  std::uint32_t wo = 0;   // acted on when written, never stored: reads return 0

  [[nodiscard]] constexpr std::uint32_t writable() const noexcept { return rw | w1c | wo; }

  // The DWORD after software writes `value` over `stored`. Read-only and reserved bits keep
  // their stored value (RsvdP); write-only bits read back as zero.
  [[nodiscard]] constexpr std::uint32_t apply(std::uint32_t stored,
                                              std::uint32_t value) const noexcept {
    const std::uint32_t merged = (stored & ~rw) | (value & rw);
    return merged & ~(value & w1c) & ~wo;
  }

  friend constexpr bool operator==(const config_write_masks&,
                                   const config_write_masks&) noexcept = default;
};

// One config_write_masks per DWORD of a capability layout, from its fields' access modes.
template <vsmmu::layout::layout_type L>
requires std::same_as<typename L::word_type, std::uint32_t>
[[nodiscard]] constexpr std::array<config_write_masks, L::word_count>
config_write_masks_of() noexcept {
  using vsmmu::layout::access;
  std::array<config_write_masks, L::word_count> out{};
  for (const auto& f : L::field_infos) {
    for (unsigned b = f.lsb; b <= f.msb; ++b) {
      config_write_masks& m = out[b / 32];
      const std::uint32_t bit = std::uint32_t{1} << (b % 32);
      switch (f.access_mode) {
        case access::rw: m.rw |= bit; break;
        case access::w1c: m.w1c |= bit; break;
        case access::wo: m.wo |= bit; break;
        case access::ro:
        case access::res0:
        case access::res1: break;
      }
    }
  }
  return out;
}

// The header every Extended Capability starts with (PCIe Base Spec r6.2 §7.6.3). Its fields
// are reused by each capability layout, so generic code reads any capability's header with the
// same field types.
namespace ext_cap {
using vsmmu::layout::field;
using vsmmu::layout::w32;
using enum vsmmu::layout::access;

// dword 0
struct CapabilityID final : field<"CapabilityID", w32<0, 15, 0>, ext_cap_id, ro> {};
struct CapabilityVersion final : field<"CapabilityVersion", w32<0, 19, 16>, std::uint8_t, ro> {};
// The byte offset itself (the field is 12 bits wide, as the offset is). Its two low bits are
// reserved: a walker masks them; the decoders below do not.
struct NextCapabilityOffset final
    : field<"NextCapabilityOffset", w32<0, 31, 20>, std::uint16_t, ro> {};

using header = vsmmu::layout::layout<"ExtCapHeader", 32, std::uint32_t, CapabilityID,
                                     CapabilityVersion, NextCapabilityOffset>;
static_assert(header::byte_count == ext_cap_header_size);

// Raw decoders: 0xFFFFFFFF (no device) and 00000000h (empty list) decode like any header.
[[nodiscard]] constexpr ext_cap_id capability_id(std::uint32_t header_dword) noexcept {
  return vsmmu::layout::value<header>({header_dword}).get<CapabilityID>();
}
[[nodiscard]] constexpr std::uint8_t capability_version(std::uint32_t header_dword) noexcept {
  return vsmmu::layout::value<header>({header_dword}).get<CapabilityVersion>();
}
[[nodiscard]] constexpr std::uint16_t next_capability_offset(std::uint32_t header_dword) noexcept {
  return vsmmu::layout::value<header>({header_dword}).get<NextCapabilityOffset>();
}

// A header DWORD. Bits of `version` or `next` beyond their fields are dropped, as a register
// drops them: check CapabilityVersion::fits / NextCapabilityOffset::fits first where it matters.
[[nodiscard]] constexpr std::uint32_t make_header(ext_cap_id id, std::uint8_t version,
                                                  std::uint16_t next) noexcept {
  vsmmu::layout::value<header> h;
  h.init<CapabilityID>(id).init<CapabilityVersion>(version).init<NextCapabilityOffset>(next);
  return h.word(0);
}
}  // namespace ext_cap

}  // namespace vsmmu::pcie
