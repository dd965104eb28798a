#include <catch2/catch.hpp>

#include <vsmmu/pcie/ext_cap.hpp>

#include <array>
#include <cstdint>
#include <set>
#include <string_view>

#include "source_table.hpp"

namespace pcie = vsmmu::pcie;
namespace ext_cap = vsmmu::pcie::ext_cap;
using pcie::ext_cap_id;
using enum vsmmu::layout::access;

namespace {

struct id_row {
  std::uint16_t value;
  ext_cap_id id;
  std::string_view name;
};

// Written from pciutils lib/header.h (PCI_EXT_CAP_ID_*, taken from the PCI Code and ID
// Assignment spec rev 1.18), Linux include/uapi/linux/pci_regs.h (0x0C CAC, 0x14 "Reserved for
// AMD", which pciutils omits) and PCIe Base Spec r6.x §7.9.25 (0x2D Shadow Functions, which
// neither header has). Names: what pciutils' ls-ecaps.c prints; PCI-SIG names where it prints
// only "Extended Capability ID 0x..".
constexpr std::array<id_row, 59> id_table{{
    {0x00, ext_cap_id::null, "Null"},
    {0x01, ext_cap_id::aer, "Advanced Error Reporting"},
    {0x02, ext_cap_id::vc, "Virtual Channel"},
    {0x03, ext_cap_id::dsn, "Device Serial Number"},
    {0x04, ext_cap_id::power_budgeting, "Power Budgeting"},
    {0x05, ext_cap_id::rc_link_declaration, "Root Complex Link"},
    {0x06, ext_cap_id::rc_internal_link_control, "Root Complex Internal Link"},
    {0x07, ext_cap_id::rcec_association, "Root Complex Event Collector Endpoint Association"},
    {0x08, ext_cap_id::mfvc, "Multi-Function Virtual Channel"},
    {0x09, ext_cap_id::vc_with_mfvc, "Virtual Channel"},
    {0x0A, ext_cap_id::rcrb_header, "Root Complex Register Block"},
    {0x0B, ext_cap_id::vsec, "Vendor Specific Information"},
    {0x0C, ext_cap_id::cac, "Configuration Access Correlation"},
    {0x0D, ext_cap_id::acs, "Access Control Services"},
    {0x0E, ext_cap_id::ari, "Alternative Routing-ID Interpretation (ARI)"},
    {0x0F, ext_cap_id::ats, "Address Translation Service (ATS)"},
    {0x10, ext_cap_id::sriov, "Single Root I/O Virtualization (SR-IOV)"},
    {0x11, ext_cap_id::mriov, "Multi-Root I/O Virtualization"},
    {0x12, ext_cap_id::multicast, "Multicast"},
    {0x13, ext_cap_id::pri, "Page Request Interface (PRI)"},
    {0x14, ext_cap_id::amd_reserved, "Reserved for AMD"},
    {0x15, ext_cap_id::resizable_bar, "Physical Resizable BAR"},
    {0x16, ext_cap_id::dpa, "Dynamic Power Allocation"},
    {0x17, ext_cap_id::tph, "Transaction Processing Hints"},
    {0x18, ext_cap_id::ltr, "Latency Tolerance Reporting"},
    {0x19, ext_cap_id::secondary_pcie, "Secondary PCI Express"},
    {0x1A, ext_cap_id::pmux, "Protocol Multiplexing"},
    {0x1B, ext_cap_id::pasid, "Process Address Space ID (PASID)"},
    {0x1C, ext_cap_id::lnr, "LN Requester"},
    {0x1D, ext_cap_id::dpc, "Downstream Port Containment"},
    {0x1E, ext_cap_id::l1pm_substates, "L1 PM Substates"},
    {0x1F, ext_cap_id::ptm, "Precision Time Measurement"},
    {0x20, ext_cap_id::mpcie, "PCI Express over M_PHY"},
    {0x21, ext_cap_id::frs_queueing, "FRS Queueing"},
    {0x22, ext_cap_id::readiness_time_reporting, "Readiness Time Reporting"},
    {0x23, ext_cap_id::dvsec, "Designated Vendor-Specific"},
    {0x24, ext_cap_id::vf_resizable_bar, "Virtual Resizable BAR"},
    {0x25, ext_cap_id::data_link_feature, "Data Link Feature"},
    {0x26, ext_cap_id::physical_layer_16gt, "Physical Layer 16.0 GT/s"},
    {0x27, ext_cap_id::lane_margining, "Lane Margining at the Receiver"},
    {0x28, ext_cap_id::hierarchy_id, "Hierarchy ID"},
    {0x29, ext_cap_id::npem, "Native PCIe Enclosure Management"},
    {0x2A, ext_cap_id::physical_layer_32gt, "Physical Layer 32.0 GT/s"},
    {0x2B, ext_cap_id::alternate_protocol, "Alternate Protocol"},
    {0x2C, ext_cap_id::sfi, "System Firmware Intermediary"},
    {0x2D, ext_cap_id::shadow_functions, "Shadow Functions"},
    {0x2E, ext_cap_id::doe, "Data Object Exchange"},
    {0x2F, ext_cap_id::device3, "Device 3"},
    {0x30, ext_cap_id::ide, "Integrity & Data Encryption"},
    {0x31, ext_cap_id::physical_layer_64gt, "Physical Layer 64.0 GT/s"},
    {0x32, ext_cap_id::flit_logging, "Flit Logging"},
    {0x33, ext_cap_id::flit_performance_measurement, "Flit Performance Measurement"},
    {0x34, ext_cap_id::flit_error_injection, "Flit Error Injection"},
    {0x35, ext_cap_id::svc, "Streamlined Virtual Channel"},
    {0x36, ext_cap_id::mmio_rbl, "MMIO Register Block Locator"},
    {0x37, ext_cap_id::nop_flit, "NOP Flit"},
    {0x38, ext_cap_id::siov, "Scalable I/O Virtualization"},
    {0x39, ext_cap_id::physical_layer_128gt, "Physical Layer 128.0 GT/s"},
    {0x3A, ext_cap_id::captured_data, "Captured Data"},
}};

}  // namespace

TEST_CASE("extended capability IDs have the PCI-SIG values") {
  for (const auto& row : id_table) {
    INFO("ID 0x" << std::hex << row.value);
    CHECK(static_cast<std::uint16_t>(row.id) == row.value);
    CHECK(static_cast<ext_cap_id>(row.value) == row.id);
  }
}

TEST_CASE("all_ext_cap_ids lists every assigned ID once, in order") {
  REQUIRE(pcie::all_ext_cap_ids.size() == id_table.size());
  std::set<std::uint16_t> seen;
  for (std::size_t i = 0; i < id_table.size(); ++i) {
    CHECK(pcie::all_ext_cap_ids[i] == id_table[i].id);
    seen.insert(static_cast<std::uint16_t>(pcie::all_ext_cap_ids[i]));
  }
  CHECK(seen.size() == id_table.size());
}

TEST_CASE("name() gives lspci's name, or the PCI-SIG name, for every ID") {
  for (const auto& row : id_table) {
    INFO("ID 0x" << std::hex << row.value);
    CHECK(pcie::name(row.id) == row.name);
  }
  STATIC_REQUIRE(pcie::name(ext_cap_id::pasid) == "Process Address Space ID (PASID)");
}

TEST_CASE("name() is empty for IDs the PCI-SIG has not assigned") {
  for (std::uint16_t v : {std::uint16_t{0x003B}, std::uint16_t{0x0100}, std::uint16_t{0xFFFF}}) {
    INFO("ID 0x" << std::hex << v);
    CHECK(pcie::name(static_cast<ext_cap_id>(v)).empty());
  }
}

TEST_CASE("the header layout matches the sources' masks") {
  // Linux PCI_EXT_CAP_ID/VER/NEXT and pciutils: ID [15:0], version [19:16], next [31:20].
  static constexpr std::array<pcie_test::source_field, 3> table{{
      {"CapabilityID", 0, 0x0000'FFFF, ro},
      {"CapabilityVersion", 0, 0x000F'0000, ro},
      {"NextCapabilityOffset", 0, 0xFFF0'0000, ro},
  }};
  STATIC_REQUIRE(ext_cap::header::bit_count == 32);
  STATIC_REQUIRE(ext_cap::header::byte_count == pcie::ext_cap_header_size);
  pcie_test::check_against_sources<ext_cap::header>(table);
}

TEST_CASE("header decoders return the raw fields, even for all-ones and all-zeros") {
  // What a read of an absent Function or an empty list returns; the walk deals with them later.
  STATIC_REQUIRE(static_cast<std::uint16_t>(ext_cap::capability_id(0xFFFF'FFFF)) == 0xFFFF);
  STATIC_REQUIRE(ext_cap::capability_version(0xFFFF'FFFF) == 0xF);
  STATIC_REQUIRE(ext_cap::next_capability_offset(0xFFFF'FFFF) == 0xFFF);
  STATIC_REQUIRE(ext_cap::capability_id(0) == ext_cap_id::null);
  STATIC_REQUIRE(ext_cap::capability_version(0) == 0);
  STATIC_REQUIRE(ext_cap::next_capability_offset(0) == 0);
}

TEST_CASE("header decoders agree with the shifts and masks of the sources") {
  // Linux: ID = h & 0xffff, VER = (h >> 16) & 0xf, NEXT = (h >> 20) & 0xffc (it also drops the
  // two reserved low bits, which our raw decoder keeps).
  for (std::uint32_t h : {0x1482'0001U, 0x0001'001BU, 0x1C01'000FU, 0xABCD'1234U, 0x0013'FFFEU,
                          0x0010'0000U, 0xFFF0'0000U}) {
    INFO("header 0x" << std::hex << h);
    CHECK(static_cast<std::uint16_t>(ext_cap::capability_id(h)) == (h & 0xFFFF));
    CHECK(ext_cap::capability_version(h) == ((h >> 16) & 0xF));
    CHECK(ext_cap::next_capability_offset(h) == (h >> 20));
    CHECK((ext_cap::next_capability_offset(h) & ~3U) == ((h >> 20) & 0xFFC));
  }
}

TEST_CASE("make_header builds known header DWORDs and round-trips") {
  // AER v2 at 100h pointing to 148h; PASID v1 ending the list; ATS v1 pointing to 1C0h.
  STATIC_REQUIRE(ext_cap::make_header(ext_cap_id::aer, 2, 0x148) == 0x1482'0001U);
  STATIC_REQUIRE(ext_cap::make_header(ext_cap_id::pasid, 1, 0x000) == 0x0001'001BU);
  STATIC_REQUIRE(ext_cap::make_header(ext_cap_id::ats, 1, 0x1C0) == 0x1C01'000FU);
  for (const auto id : pcie::all_ext_cap_ids) {
    const std::uint32_t h = ext_cap::make_header(id, 0xA, 0xFFC);
    CHECK(ext_cap::capability_id(h) == id);
    CHECK(ext_cap::capability_version(h) == 0xA);
    CHECK(ext_cap::next_capability_offset(h) == 0xFFC);
  }
}

TEST_CASE("make_header drops bits beyond the fields, and fits() says so first") {
  CHECK_FALSE(ext_cap::CapabilityVersion::fits(0x11));
  CHECK_FALSE(ext_cap::NextCapabilityOffset::fits(0x1000));
  CHECK(ext_cap::NextCapabilityOffset::fits(0xFFC));
  const std::uint32_t h = ext_cap::make_header(ext_cap_id::pri, 0x11, 0x1104);
  CHECK(h == 0x1041'0013U);  // version 1, next 104h, ID untouched
}

TEST_CASE("config_write_masks: RW stored, W1C cleared by ones, WO never stored") {
  constexpr pcie::config_write_masks m{0x0000'00FF, 0x00FF'0000, 0x0000'0100};
  STATIC_REQUIRE(m.writable() == 0x00FF'01FF);
  // RW bits take the written value, RO bits keep theirs.
  STATIC_REQUIRE(m.apply(0xA500'0000, 0x0000'0042) == 0xA500'0042);
  STATIC_REQUIRE(m.apply(0xA500'00FF, 0xFF00'0000) == 0xA500'0000);
  // W1C: a 1 clears, a 0 leaves.
  STATIC_REQUIRE(m.apply(0x0033'0000, 0x0011'0000) == 0x0022'0000);
  STATIC_REQUIRE(m.apply(0x0033'0000, 0x0000'0000) == 0x0033'0000);
  // WO: accepted, never read back.
  STATIC_REQUIRE(m.apply(0x0000'0000, 0x0000'0100) == 0);
}

TEST_CASE("the header has no software-writable bit") {
  constexpr auto masks = pcie::config_write_masks_of<ext_cap::header>();
  STATIC_REQUIRE(masks.size() == 1);
  STATIC_REQUIRE(masks[0] == pcie::config_write_masks{});
  STATIC_REQUIRE(masks[0].apply(0x1482'0001U, 0xFFFF'FFFF) == 0x1482'0001U);
}
