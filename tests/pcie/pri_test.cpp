#include <catch2/catch.hpp>

#include <vsmmu/layout/decode.hpp>
#include <vsmmu/layout/value.hpp>
#include <vsmmu/pcie/pri.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

#include "source_table.hpp"

namespace pcie = vsmmu::pcie;
namespace pri = vsmmu::pcie::pri;
using enum vsmmu::layout::access;
using pri_value = vsmmu::layout::value<pri::layout>;

TEST_CASE("PRI: fields sit where the sources put them") {
  // Linux pci_regs.h and pciutils: PCI_PRI_CTRL 0x04 (ENABLE 0x0001, RESET 0x0002),
  // PCI_PRI_STATUS 0x06 (RF 0x0001, UPRGI 0x0002, STOPPED 0x0100, PASID 0x8000),
  // PCI_PRI_MAX_REQ 0x08, PCI_PRI_ALLOC_REQ 0x0c; access from PCIe r6.2 §10.5.2 (RW, RW1C, RO).
  // Reset is RW in the spec's table but always reads 0b: modelled write-only.
  static constexpr std::array<pcie_test::source_field, 11> table{{
      {"CapabilityID", 0, 0x0000'FFFF, ro},
      {"CapabilityVersion", 0, 0x000F'0000, ro},
      {"NextCapabilityOffset", 0, 0xFFF0'0000, ro},
      {"Enable", 4, 0x0001, rw},
      {"Reset", 4, 0x0002, wo},
      {"ResponseFailure", 6, 0x0001, w1c},
      {"UnexpectedPageRequestGroupIndex", 6, 0x0002, w1c},
      {"Stopped", 6, 0x0100, ro},
      {"PRGResponsePASIDRequired", 6, 0x8000, ro},
      {"OutstandingPageRequestCapacity", 8, 0xFFFF'FFFF, ro},
      {"OutstandingPageRequestAllocation", 12, 0xFFFF'FFFF, rw},
  }};
  pcie_test::check_against_sources<pri::layout>(table);
}

TEST_CASE("PRI: size and identity constants") {
  STATIC_REQUIRE(pri::size_bytes == 16);
  STATIC_REQUIRE(pri::layout::byte_count == 16);
  STATIC_REQUIRE(pri::layout::word_count == 4);
  STATIC_REQUIRE(pri::layout::name == "PRI");
  STATIC_REQUIRE(static_cast<std::uint16_t>(pri::id) == 0x0013);
  STATIC_REQUIRE(pri::version == 1);
}

TEST_CASE("PRI: known vector, a stopped interface with 512 requests of capacity") {
  // PRI v1 at 1C0h ending the list; Stopped and PRG Response PASID Required set; capacity 200h,
  // allocation 20h.
  const std::array<std::byte, 16> bytes{
      std::byte{0x13}, std::byte{0x00}, std::byte{0x01}, std::byte{0x00},   // header
      std::byte{0x00}, std::byte{0x00}, std::byte{0x00}, std::byte{0x81},   // control, status
      std::byte{0x00}, std::byte{0x02}, std::byte{0x00}, std::byte{0x00},   // capacity
      std::byte{0x20}, std::byte{0x00}, std::byte{0x00}, std::byte{0x00}};  // allocation
  const vsmmu::layout::view<pri::layout> view(bytes);
  CHECK(view.get<pri::CapabilityID>() == pcie::ext_cap_id::pri);
  CHECK(view.get<pri::NextCapabilityOffset>() == 0);
  CHECK_FALSE(view.get<pri::Enable>());
  CHECK(view.get<pri::Stopped>());
  CHECK(view.get<pri::PRGResponsePASIDRequired>());
  CHECK_FALSE(view.get<pri::ResponseFailure>());
  CHECK(view.get<pri::OutstandingPageRequestCapacity>() == 0x200);
  CHECK(view.get<pri::OutstandingPageRequestAllocation>() == 0x20);

  pri_value v;
  v.init<pri::CapabilityID>(pri::id)
      .init<pri::CapabilityVersion>(pri::version)
      .init<pri::Stopped>(true)
      .init<pri::PRGResponsePASIDRequired>(true)
      .init<pri::OutstandingPageRequestCapacity>(0x200)
      .set<pri::OutstandingPageRequestAllocation>(0x20);
  CHECK(v.words() == pri_value::storage_type{0x0001'0013U, 0x8100'0000U, 0x200U, 0x20U});
  CHECK(v.bytes() == bytes);
  CHECK(vsmmu::layout::encode(vsmmu::layout::decode(v)) == v);
}

TEST_CASE("PRI: write masks come from the layout") {
  STATIC_REQUIRE(pri::write_masks.size() == 4);
  STATIC_REQUIRE(pri::write_masks[0] == pcie::config_write_masks{});
  // Control: Enable RW, Reset write-only; Status: RF and UPRGI write-1-to-clear.
  STATIC_REQUIRE(pri::write_masks[1] == pcie::config_write_masks{0x0000'0001, 0x0003'0000, 0x2});
  STATIC_REQUIRE(pri::write_masks[2] == pcie::config_write_masks{});
  STATIC_REQUIRE(pri::write_masks[3] == pcie::config_write_masks{0xFFFF'FFFF, 0, 0});
}

TEST_CASE("PRI: a guest write clears status bits by writing ones, and Reset never reads back") {
  constexpr auto& m = pri::write_masks[1];
  // Stopped, UPRGI and Response Failure set; the guest enables and clears Response Failure only.
  STATIC_REQUIRE(m.apply(0x0103'0000, 0x0001'0001) == 0x0102'0001);
  // Writing zeros clears nothing and disables.
  STATIC_REQUIRE(m.apply(0x0102'0001, 0x0000'0000) == 0x0102'0000);
  // Reset is accepted but reads back 0; Stopped (RO) cannot be written.
  STATIC_REQUIRE(m.apply(0x0000'0000, 0x0100'0002) == 0x0000'0000);
  // The capacity is read-only, the allocation fully writable.
  STATIC_REQUIRE(pri::write_masks[2].apply(0x200, 0xFFFF'FFFF) == 0x200);
  STATIC_REQUIRE(pri::write_masks[3].apply(0x20, 0x40) == 0x40);
}
