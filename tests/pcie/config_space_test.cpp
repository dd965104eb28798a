#include <catch2/catch.hpp>

#include <vsmmu/pcie/config_space.hpp>

namespace pcie = vsmmu::pcie;

TEST_CASE("configuration space geometry (PCIe Base Spec §7.2, §7.6)") {
  STATIC_REQUIRE(pcie::config_space_size == 4096);
  STATIC_REQUIRE(pcie::legacy_config_size == 256);
  STATIC_REQUIRE(pcie::extended_config_start == 0x100);
  STATIC_REQUIRE(pcie::capability_alignment == 4);
  STATIC_REQUIRE(pcie::ext_cap_header_size == 4);
}

TEST_CASE("the extended region is what a 12-bit Next Capability Offset can address") {
  // Next Capability Offset is 12 bits: every DWORD-aligned offset below 1000h is reachable, and
  // the first extended capability follows the PCI-compatible region directly.
  STATIC_REQUIRE(pcie::config_space_size == (std::size_t{1} << 12));
  STATIC_REQUIRE(pcie::extended_config_start == pcie::legacy_config_size);
  STATIC_REQUIRE(
      (pcie::config_space_size - pcie::extended_config_start) % pcie::capability_alignment == 0);
}
