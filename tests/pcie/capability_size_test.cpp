#include <catch2/catch.hpp>

#include <vsmmu/pcie/capability_size.hpp>

#include <cstdint>
#include <optional>

#include "pcie/fixtures.hpp"

// Expected sizes are the register maps of PCIe Base Spec r6.2 (as Linux's pci_regs.h gives the
// offsets), worked out by hand here.

namespace {

using namespace vsmmu::pcie;
using pcie_test::put32;

std::optional<std::uint32_t> size_at(const config_model& m, std::uint16_t at, ext_cap_id id,
                                     std::uint8_t version = 1) {
  return ext_cap_size(m.config, {at, id, version, 0});
}

}  // namespace

TEST_CASE("fixed sizes") {
  CHECK(fixed_ext_cap_size(ext_cap_id::dsn) == 0x0Cu);    // header + 64-bit serial number
  CHECK(fixed_ext_cap_size(ext_cap_id::sriov) == 0x40u);  // up to VF Migration State
  CHECK(fixed_ext_cap_size(ext_cap_id::pasid) == 0x08u);  // = pasid::size_bytes
  CHECK(fixed_ext_cap_size(ext_cap_id::ats) == 0x08u);    // = ats::size_bytes
  CHECK(fixed_ext_cap_size(ext_cap_id::pri) == 0x10u);    // = pri::size_bytes
  CHECK(fixed_ext_cap_size(ext_cap_id::multicast) == 0x30u);
  CHECK(fixed_ext_cap_size(ext_cap_id::l1pm_substates) == 0x10u);
  CHECK(fixed_ext_cap_size(ext_cap_id::doe) == 0x18u);
  CHECK(fixed_ext_cap_size(ext_cap_id::null) == 0x04u);
  CHECK_FALSE(fixed_ext_cap_size(ext_cap_id::vsec));  // variable
  CHECK_FALSE(fixed_ext_cap_size(ext_cap_id::ide));   // not known
  CHECK_FALSE(fixed_ext_cap_size(static_cast<ext_cap_id>(0x7777)));
}

TEST_CASE("variable sizes come from the capability's own registers") {
  config_model m = pcie_test::device_with({});
  constexpr std::uint16_t at = 0x200;

  SECTION("AER: 38h, 48h with the TLP Prefix Log") {
    CHECK(size_at(m, at, ext_cap_id::aer) == 0x38u);
    put32(m, at + 0x18, 1u << 11);
    CHECK(size_at(m, at, ext_cap_id::aer) == 0x48u);
  }
  SECTION("VSEC and DVSEC: the length field") {
    put32(m, at + 4, (0x2Cu << 20) | (1u << 16) | 0x1234);
    CHECK(size_at(m, at, ext_cap_id::vsec) == 0x2Cu);
    CHECK(size_at(m, at, ext_cap_id::dvsec) == 0x2Cu);
  }
  SECTION("Resizable BAR: 8 bytes per BAR, the count in the first control register") {
    put32(m, at + 8, 3u << 5);
    CHECK(size_at(m, at, ext_cap_id::resizable_bar) == 4u + 3 * 8);
    CHECK(size_at(m, at, ext_cap_id::vf_resizable_bar) == 4u + 3 * 8);
    put32(m, at + 8, 0);  // not a legal count: at least one BAR is described
    CHECK(size_at(m, at, ext_cap_id::resizable_bar) == 4u + 8);
    put32(m, at + 8, 7u << 5);  // not legal either: at most six
    CHECK(size_at(m, at, ext_cap_id::resizable_bar) == 4u + 6 * 8);
  }
  SECTION("ACS: the egress control vector") {
    CHECK(size_at(m, at, ext_cap_id::acs) == 8u);
    put32(m, at + 4, (40u << 8) | (1u << 5));  // 40 bits: two DWORDs
    CHECK(size_at(m, at, ext_cap_id::acs) == 8u + 8);
    put32(m, at + 4, (0u << 8) | (1u << 5));  // 0 means 256 bits: eight DWORDs
    CHECK(size_at(m, at, ext_cap_id::acs) == 8u + 32);
  }
  SECTION("TPH: the ST table when it is in the capability") {
    put32(m, at + 4, (7u << 16) | (2u << 9));  // table in the MSI-X table: not counted
    CHECK(size_at(m, at, ext_cap_id::tph) == 0x0Cu);
    put32(m, at + 4, (7u << 16) | (1u << 9));  // 8 entries of 2 bytes
    CHECK(size_at(m, at, ext_cap_id::tph) == 0x0Cu + 16);
    put32(m, at + 4, (2u << 16) | (1u << 9));  // 3 entries: 6 bytes, in 2 DWORDs
    CHECK(size_at(m, at, ext_cap_id::tph) == 0x0Cu + 8);
  }
  SECTION("DPA: one byte per substate") {
    put32(m, at + 4, 5);  // substates 0..5
    CHECK(size_at(m, at, ext_cap_id::dpa) == 0x10u + 8);
  }
  SECTION("Root Complex Link Declaration: 16 bytes per link entry") {
    put32(m, at + 4, 2u << 8);
    CHECK(size_at(m, at, ext_cap_id::rc_link_declaration) == 0x10u + 0x20);
  }
  SECTION("RCEC association: version 2 adds the bus numbers") {
    CHECK(size_at(m, at, ext_cap_id::rcec_association, 1) == 0x08u);
    CHECK(size_at(m, at, ext_cap_id::rcec_association, 2) == 0x0Cu);
  }
  SECTION("per-lane registers are sized by the PCIe capability's link width (x8 here)") {
    CHECK(size_at(m, at, ext_cap_id::secondary_pcie) == 0x0Cu + 16);
    CHECK(size_at(m, at, ext_cap_id::physical_layer_16gt) == 0x20u + 8);
    CHECK(size_at(m, at, ext_cap_id::lane_margining) == 0x08u + 32);
    m.config[0x06] = std::byte{0};  // no legacy list: the widest link, 32 lanes
    CHECK(size_at(m, at, ext_cap_id::lane_margining) == 0x08u + 128);
  }
  SECTION("DPC: the RP PIO logs with RP Extensions") {
    CHECK(size_at(m, at, ext_cap_id::dpc) == 0x0Cu);
    put32(m, at + 4, (1u << 5) | (9u << 8));  // header log, ImpSpec log, 4 prefix log DWORDs
    CHECK(size_at(m, at, ext_cap_id::dpc) == 0x44u);
  }
  SECTION("Virtual Channel: one resource block per VC, and the arbitration tables") {
    put32(m, at + 4, 1);  // Extended VC Count 1: VC0 and VC1
    CHECK(size_at(m, at, ext_cap_id::vc) == 0x10u + 2 * 0x0C);
    CHECK(size_at(m, at, ext_cap_id::mfvc) == 0x10u + 2 * 0x0C);
    // A VC Arbitration Table at 30h (3 x 16 bytes) of 64 phases, 4 bits each: 32 bytes.
    put32(m, at + 8, (3u << 24) | 0x4u);
    CHECK(size_at(m, at, ext_cap_id::vc) == 0x30u + 32);
    // VC1's Port Arbitration Table at 60h, 128 phases of 2-bit entries: 32 bytes.
    put32(m, at + 4, 1 | (1u << 10));
    put32(m, at + 0x10 + 0x0C, (6u << 24) | 0x8u);
    CHECK(size_at(m, at, ext_cap_id::vc) == 0x60u + 32);
  }
}

TEST_CASE("the extent is at least the header and stops at the end of the space") {
  config_model m = pcie_test::device_with({});
  put32(m, 0xFF0 + 4, (0xFFFu << 20));  // a VSEC claiming 4095 bytes at FF0h
  CHECK(ext_cap_size(m.config, {0xFF0, ext_cap_id::vsec, 1, 0}) == 0xFFFu);
  CHECK(ext_cap_extent(m.config, {0xFF0, ext_cap_id::vsec, 1, 0}) == 0x10u);
  put32(m, 0x200 + 4, 0);  // a VSEC claiming no bytes at all
  CHECK(ext_cap_extent(m.config, {0x200, ext_cap_id::vsec, 1, 0}) == 4u);
  CHECK_FALSE(ext_cap_extent(m.config, {0x200, ext_cap_id::ide, 1, 0}));
}

TEST_CASE("every capability of the realistic lists fits before the next one") {
  const config_model m = pcie_test::nic();
  for (const auto& c : pcie_test::nic_caps) {
    INFO("capability at " << c.offset);
    const auto extent = ext_cap_extent(m.config, {c.offset, c.id, c.version, 0});
    if (c.size == 4) {
      CHECK_FALSE(extent);
    } else {
      CHECK(extent == c.size);
    }
  }
}
