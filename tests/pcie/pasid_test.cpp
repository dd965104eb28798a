#include <catch2/catch.hpp>

#include <vsmmu/layout/decode.hpp>
#include <vsmmu/layout/dynamic.hpp>
#include <vsmmu/layout/value.hpp>
#include <vsmmu/pcie/pasid.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "source_table.hpp"

namespace pcie = vsmmu::pcie;
namespace pasid = vsmmu::pcie::pasid;
using enum vsmmu::layout::access;
using pasid_value = vsmmu::layout::value<pasid::layout>;

TEST_CASE("PASID: fields sit where the sources put them") {
  // Linux pci_regs.h: PCI_PASID_CAP 0x04 (EXEC 0x0002, PRIV 0x0004, WIDTH 0x1f00), PCI_PASID_CTRL
  // 0x06 (ENABLE 0x0001, EXEC 0x0002, PRIV 0x0004); pciutils and NetBSD pcireg.h agree. Bit 3 of
  // both registers (Translated Requests with PASID) is from PCIe r6.2 §7.8.9.2/3: neither Linux
  // nor pciutils defines it yet.
  static constexpr std::array<pcie_test::source_field, 11> table{{
      {"CapabilityID", 0, 0x0000'FFFF, ro},
      {"CapabilityVersion", 0, 0x000F'0000, ro},
      {"NextCapabilityOffset", 0, 0xFFF0'0000, ro},
      {"ExecutePermissionSupported", 4, 0x0002, ro},
      {"PrivilegedModeSupported", 4, 0x0004, ro},
      {"TranslatedRequestsWithPASIDSupported", 4, 0x0008, ro},
      {"MaxPASIDWidth", 4, 0x1F00, ro},
      {"PASIDEnable", 6, 0x0001, rw},
      {"ExecutePermissionEnable", 6, 0x0002, rw},
      {"PrivilegedModeEnable", 6, 0x0004, rw},
      {"TranslatedRequestsWithPASIDEnable", 6, 0x0008, rw},
  }};
  pcie_test::check_against_sources<pasid::layout>(table);
}

TEST_CASE("PASID: size and identity constants") {
  STATIC_REQUIRE(pasid::size_bytes == 8);
  STATIC_REQUIRE(pasid::layout::byte_count == 8);
  STATIC_REQUIRE(pasid::layout::word_count == 2);
  STATIC_REQUIRE(pasid::layout::name == "PASID");
  STATIC_REQUIRE(static_cast<std::uint16_t>(pasid::id) == 0x001B);
  STATIC_REQUIRE(pasid::version == 1);
  STATIC_REQUIRE(pasid::MaxPASIDWidth::fits(pasid::max_pasid_width));
  // The header fields are the shared ones: generic code reads any capability's header alike.
  STATIC_REQUIRE(std::is_same_v<pasid::CapabilityID, pcie::ext_cap::CapabilityID>);
}

TEST_CASE("PASID: known vector, a capability at 1B0h ending the list") {
  // 20-bit PASIDs, Execute and Privileged supported: header 0001001Bh (ID 1Bh, version 1,
  // next 000h); capability register (20 << 8) | 0b110 = 1406h; control register 0.
  constexpr auto v = [] {
    pasid_value x;
    x.init<pasid::CapabilityID>(pasid::id)
        .init<pasid::CapabilityVersion>(pasid::version)
        .init<pasid::NextCapabilityOffset>(0x000)
        .init<pasid::ExecutePermissionSupported>(true)
        .init<pasid::PrivilegedModeSupported>(true)
        .init<pasid::MaxPASIDWidth>(20);
    return x;
  }();
  STATIC_REQUIRE(v.word(0) == 0x0001'001BU);
  STATIC_REQUIRE(v.word(1) == 0x0000'1406U);
  STATIC_REQUIRE(v.word(0) == pcie::ext_cap::make_header(pasid::id, 1, 0));
  const std::array<std::byte, 8> bytes{std::byte{0x1B}, std::byte{0x00}, std::byte{0x01},
                                       std::byte{0x00}, std::byte{0x06}, std::byte{0x14},
                                       std::byte{0x00}, std::byte{0x00}};
  CHECK(v.bytes() == bytes);

  // Decoded from the config-space bytes, as a VMM reads them.
  const vsmmu::layout::view<pasid::layout> view(bytes);
  CHECK(view.get<pasid::CapabilityID>() == pcie::ext_cap_id::pasid);
  CHECK(view.get<pasid::NextCapabilityOffset>() == 0);
  CHECK(view.get<pasid::ExecutePermissionSupported>());
  CHECK(view.get<pasid::PrivilegedModeSupported>());
  CHECK_FALSE(view.get<pasid::TranslatedRequestsWithPASIDSupported>());
  CHECK(view.get<pasid::MaxPASIDWidth>() == 20);
  CHECK_FALSE(view.get<pasid::PASIDEnable>());
  CHECK(view.copy() == v);
}

TEST_CASE("PASID: the guest enables PASID with Execute and Privileged") {
  pasid_value v;
  v.init<pasid::MaxPASIDWidth>(16);
  v.set<pasid::PASIDEnable>(true)
      .set<pasid::ExecutePermissionEnable>(true)
      .set<pasid::PrivilegedModeEnable>(true);
  CHECK(v.word(1) == 0x0007'1000U);
  v.set<pasid::TranslatedRequestsWithPASIDEnable>(true).set<pasid::PASIDEnable>(false);
  CHECK(v.word(1) == 0x000E'1000U);
  CHECK(v.get<pasid::MaxPASIDWidth>() == 16);  // neighbours untouched
  CHECK(v.undeclared_bits_clear());
}

TEST_CASE("PASID: decode and encode round-trip") {
  pasid_value v;
  v.init<pasid::CapabilityID>(pasid::id)
      .init<pasid::CapabilityVersion>(1)
      .init<pasid::NextCapabilityOffset>(0x2A0)
      .init<pasid::TranslatedRequestsWithPASIDSupported>(true)
      .init<pasid::MaxPASIDWidth>(8)
      .set<pasid::PASIDEnable>(true);
  auto d = vsmmu::layout::decode(v);
  CHECK(d.get<pasid::NextCapabilityOffset>() == 0x2A0);
  CHECK(d.get<pasid::MaxPASIDWidth>() == 8);
  CHECK(vsmmu::layout::encode(d) == v);
  CHECK(pasid_value::from_bytes(v.bytes()) == v);
}

TEST_CASE("PASID: write masks come from the layout: only the control register is writable") {
  STATIC_REQUIRE(pasid::write_masks.size() == 2);
  STATIC_REQUIRE(pasid::write_masks[0] == pcie::config_write_masks{});
  STATIC_REQUIRE(pasid::write_masks[1] == pcie::config_write_masks{0x000F'0000, 0, 0});

  // A guest writing all-ones to the DWORD at +04h sets the four enables and nothing else.
  constexpr std::uint32_t cap = 0x0000'140E;  // width 20, Exec, Priv, Translated Requests
  STATIC_REQUIRE(pasid::write_masks[1].apply(cap, 0xFFFF'FFFF) == 0x000F'140E);
  STATIC_REQUIRE(pasid::write_masks[1].apply(0x000F'140E, 0x0000'0000) == cap);
  STATIC_REQUIRE(pasid::write_masks[0].apply(0x0001'001B, 0) == 0x0001'001B);
}

TEST_CASE("PASID: run-time access by name agrees with the typed fields") {
  pasid_value v;
  v.init<pasid::MaxPASIDWidth>(20).set<pasid::PrivilegedModeEnable>(true);
  const auto bytes = v.bytes();
  constexpr auto info = vsmmu::layout::info_of_layout<pasid::layout>();
  STATIC_REQUIRE(info.name == "PASID");
  REQUIRE(info.find("MaxPASIDWidth") != nullptr);
  CHECK(vsmmu::layout::read_value(*info.find("MaxPASIDWidth"), bytes) == 20);
  CHECK(vsmmu::layout::read_value(*info.find("PrivilegedModeEnable"), bytes) == 1);
  CHECK(vsmmu::layout::read_value(*info.find("PASIDEnable"), bytes) == 0);
}
