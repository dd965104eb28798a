#include <catch2/catch.hpp>

#include <vsmmu/pcie/init.hpp>
#include <vsmmu/pcie/insert.hpp>

#include <cstdint>

#include "pcie/fixtures.hpp"

// Register values are written out from the PCIe Base Spec bit positions (and QEMU's constants,
// for the seed's test vector), not from the layouts under test.

namespace {

using namespace vsmmu::pcie;

config_model with_cap(ext_cap_id id, std::uint16_t offset, std::uint32_t size) {
  config_model m = pcie_test::nic();
  REQUIRE(insert_ext_cap(m, id, 1, offset, size));
  return m;
}

}  // namespace

TEST_CASE("PASID initialisation: the seed's test vector") {
  config_model m = with_cap(ext_cap_id::pasid, 0x1C8, 8);
  REQUIRE(init_pasid(m, 0x1C8, {20, true, false}) == init_error::none);
  // Capability register 1402h (width 20 in [12:8], Execute Permission Supported), Control 0.
  CHECK(load16(m.config, 0x1CC) == 0x1402);
  CHECK(load16(m.config, 0x1CE) == 0x0000);
  // QEMU makes Control bits [2:0] writable (0007h) whatever is supported. The spec makes
  // Privileged Mode Enable RsvdP when Privileged Mode Supported is Clear (§7.8.9.3): 0003h.
  CHECK(load16(m.wmask, 0x1CC) == 0x0000);
  CHECK(load16(m.wmask, 0x1CE) == 0x0003);
  CHECK(load32(m.w1cmask, 0x1CC) == 0);
  // The header is the list's.
  CHECK(load32(m.config, 0x1C8) == ext_cap::make_header(ext_cap_id::pasid, 1, 0x1D0));
}

TEST_CASE("PASID control takes guest writes of exactly the supported enables") {
  config_model m = with_cap(ext_cap_id::pasid, 0x1C8, 8);
  REQUIRE(init_pasid(m, 0x1C8, {16, true, true}) == init_error::none);
  CHECK(load16(m.config, 0x1CC) == 0x1006);
  CHECK(load16(m.wmask, 0x1CE) == 0x0007);
  REQUIRE(guest_write(m, 0x1CC, 0xFFFF'FFFFu, 4));
  CHECK(load16(m.config, 0x1CC) == 0x1006);  // read-only
  CHECK(load16(m.config, 0x1CE) == 0x0007);  // Enable, Execute Enable, Privileged Enable
  REQUIRE(guest_write(m, 0x1CE, 0x0000, 2));
  CHECK(load16(m.config, 0x1CE) == 0x0000);
}

TEST_CASE("PASID initialisation refuses what does not fit") {
  config_model m = with_cap(ext_cap_id::pasid, 0x1C8, 8);
  const config_model before = m;
  CHECK(init_pasid(m, 0x1C8, {21, false, false}) == init_error::bad_parameter);
  CHECK(init_pasid(m, 0x1C0, {8, false, false}) == init_error::wrong_capability);  // ATS
  CHECK(init_pasid(m, 0xFFC, {8, false, false}) == init_error::out_of_range);
  CHECK(init_pasid(m, 0x1C9, {8, false, false}) == init_error::out_of_range);
  CHECK(init_pasid(m, 0x80, {8, false, false}) == init_error::out_of_range);
  CHECK(m == before);
}

TEST_CASE("ATS initialisation") {
  config_model m = with_cap(ext_cap_id::ats, 0x1C8, 8);
  REQUIRE(init_ats(m, 0x1C8, {0, true, true, false}) == init_error::none);
  // Capability: Page Aligned Request (5), Global Invalidate Supported (6). Control: 0.
  CHECK(load16(m.config, 0x1CC) == 0x0060);
  CHECK(load16(m.config, 0x1CE) == 0x0000);
  // Control: Enable (15) and STU [4:0] writable (QEMU's ATS write mask is the same, 801Fh).
  CHECK(load16(m.wmask, 0x1CE) == 0x801F);
  CHECK(load16(m.wmask, 0x1CC) == 0x0000);
  CHECK(init_ats(m, 0x1C8, {32, false, false, false}) == init_error::bad_parameter);
  REQUIRE(init_ats(m, 0x1C8, {31, false, false, true}) == init_error::none);
  CHECK(load16(m.config, 0x1CC) == 0x009F);
}

TEST_CASE("PRI initialisation") {
  config_model m = with_cap(ext_cap_id::pri, 0x1EC, 16);
  REQUIRE(init_pri(m, 0x1EC, {0x200, true}) == init_error::none);
  // Control 0, Status: Stopped (bit 8) and PRG Response PASID Required (bit 15).
  CHECK(load16(m.config, 0x1F0) == 0x0000);
  CHECK(load16(m.config, 0x1F2) == 0x8100);
  CHECK(load32(m.config, 0x1F4) == 0x200);
  CHECK(load32(m.config, 0x1F8) == 0);
  // Enable writable; Reset (bit 1) is write-only and reads 0: not in the masks.
  CHECK(load16(m.wmask, 0x1F0) == 0x0001);
  // Response Failure (0) and Unexpected PRG Index (1) are write-1-to-clear.
  CHECK(load16(m.w1cmask, 0x1F2) == 0x0003);
  CHECK(load32(m.wmask, 0x1F4) == 0);
  CHECK(load32(m.wmask, 0x1F8) == 0xFFFF'FFFFu);
  // A guest clears a status bit by writing 1.
  pcie_test::put32(m, 0x1F0, 0x8103'0000u);
  REQUIRE(guest_write(m, 0x1F2, 0x0001, 2));
  CHECK(load16(m.config, 0x1F2) == 0x8102);
}
