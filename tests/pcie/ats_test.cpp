#include <catch2/catch.hpp>

#include <vsmmu/layout/decode.hpp>
#include <vsmmu/layout/value.hpp>
#include <vsmmu/pcie/ats.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

#include "source_table.hpp"

namespace pcie = vsmmu::pcie;
namespace ats = vsmmu::pcie::ats;
using enum vsmmu::layout::access;
using ats_value = vsmmu::layout::value<ats::layout>;

TEST_CASE("ATS: fields sit where the sources put them") {
  // Linux pci_regs.h: PCI_ATS_CAP 0x04 (QDEP 0x1f, PAGE_ALIGNED 0x0020), PCI_ATS_CTRL 0x06
  // (STU 0x1f, ENABLE 0x8000). NetBSD pcireg.h and the Windows WDK add Global Invalidate
  // Supported (bit 6) and Relaxed Ordering Supported (bit 7). The ATS Memory Attributes fields
  // (capability bit 8, control [13:11] and 14) are from PCIe r6.2 §10.5.1.2/3: no header has
  // them yet.
  static constexpr std::array<pcie_test::source_field, 12> table{{
      {"CapabilityID", 0, 0x0000'FFFF, ro},
      {"CapabilityVersion", 0, 0x000F'0000, ro},
      {"NextCapabilityOffset", 0, 0xFFF0'0000, ro},
      {"InvalidateQueueDepth", 4, 0x001F, ro},
      {"PageAlignedRequest", 4, 0x0020, ro},
      {"GlobalInvalidateSupported", 4, 0x0040, ro},
      {"RelaxedOrderingSupported", 4, 0x0080, ro},
      {"ATSMemoryAttributesSupported", 4, 0x0100, ro},
      {"SmallestTranslationUnit", 6, 0x001F, rw},
      {"ATSMemoryAttributesDefault", 6, 0x3800, rw},
      {"ATSMemoryAttributesEnable", 6, 0x4000, rw},
      {"Enable", 6, 0x8000, rw},
  }};
  pcie_test::check_against_sources<ats::layout>(table);
}

TEST_CASE("ATS: size and identity constants") {
  STATIC_REQUIRE(ats::size_bytes == 8);
  STATIC_REQUIRE(ats::layout::byte_count == 8);
  STATIC_REQUIRE(ats::layout::name == "ATS");
  STATIC_REQUIRE(static_cast<std::uint16_t>(ats::id) == 0x000F);
  STATIC_REQUIRE(ats::version == 1);
}

TEST_CASE(
    "ATS: known vector, what lspci shows as 'ATSCtl: Enable+, Smallest Translation Unit: 00'") {
  // ATS v1 at 100h pointing to 1C0h; Page Aligned Request set, queue depth 0 (= 32), enabled.
  const std::array<std::byte, 8> bytes{std::byte{0x0F}, std::byte{0x00}, std::byte{0x01},
                                       std::byte{0x1C}, std::byte{0x20}, std::byte{0x00},
                                       std::byte{0x00}, std::byte{0x80}};
  const vsmmu::layout::view<ats::layout> view(bytes);
  CHECK(view.get<ats::CapabilityID>() == pcie::ext_cap_id::ats);
  CHECK(view.get<ats::CapabilityVersion>() == 1);
  CHECK(view.get<ats::NextCapabilityOffset>() == 0x1C0);
  CHECK(view.get<ats::InvalidateQueueDepth>() == 0);
  CHECK(view.get<ats::PageAlignedRequest>());
  CHECK_FALSE(view.get<ats::GlobalInvalidateSupported>());
  CHECK(view.get<ats::SmallestTranslationUnit>() == 0);
  CHECK(view.get<ats::Enable>());

  ats_value v;
  v.init<ats::CapabilityID>(ats::id)
      .init<ats::CapabilityVersion>(ats::version)
      .init<ats::NextCapabilityOffset>(0x1C0)
      .init<ats::PageAlignedRequest>(true)
      .set<ats::Enable>(true);
  CHECK(v.word(0) == 0x1C01'000FU);
  CHECK(v.word(1) == 0x8000'0020U);
  CHECK(v.bytes() == bytes);
}

TEST_CASE("ATS: every capability bit and a 32 KiB STU") {
  ats_value v;
  v.init<ats::InvalidateQueueDepth>(0x1F)
      .init<ats::PageAlignedRequest>(true)
      .init<ats::GlobalInvalidateSupported>(true)
      .init<ats::RelaxedOrderingSupported>(true)
      .init<ats::ATSMemoryAttributesSupported>(true);
  CHECK(v.word(1) == 0x0000'01FFU);
  v.set<ats::SmallestTranslationUnit>(3).set<ats::Enable>(true);
  CHECK(v.word(1) == 0x8003'01FFU);
  v.set<ats::ATSMemoryAttributesDefault>(5).set<ats::ATSMemoryAttributesEnable>(true);
  CHECK(v.word(1) == 0xE803'01FFU);
  CHECK(v.get<ats::ATSMemoryAttributesDefault>() == 5);
  CHECK_FALSE(ats::SmallestTranslationUnit::fits(32));
  CHECK(v.undeclared_bits_clear());
  CHECK(vsmmu::layout::encode(vsmmu::layout::decode(v)) == v);
}

TEST_CASE("ATS: write masks come from the layout: the control register's fields") {
  STATIC_REQUIRE(ats::write_masks[0] == pcie::config_write_masks{});
  // STU [20:16], AMAD [29:27], AMAE 30, Enable 31.
  STATIC_REQUIRE(ats::write_masks[1] == pcie::config_write_masks{0xF81F'0000, 0, 0});
  constexpr std::uint32_t cap = 0x0000'0060;  // Page Aligned Request, Global Invalidate
  STATIC_REQUIRE(ats::write_masks[1].apply(cap, 0xFFFF'FFFF) == 0xF81F'0060);
  STATIC_REQUIRE(ats::write_masks[1].apply(0xF81F'0060, 0x8002'0000) == 0x8002'0060);
}
