#include <catch2/catch.hpp>

#include <vsmmu/smmuv3/ste.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "smmuv3/spec_positions_structures.hpp"

namespace ste = vsmmu::smmuv3::ste;
namespace smmuv3 = vsmmu::smmuv3;

// Every field at the spec's bits, every spec field declared, every bit accounted for.
static_assert(vsmmu_test::position_mismatches<ste::layout>() == 0);
static_assert(vsmmu_test::bits_accounted<ste::layout>());
static_assert(ste::layout::word_count == 8 && ste::size_bytes == 64);

// Value types the encodings fix (IHI 0070 §5.2).
static_assert(std::is_same_v<ste::Config::value_type, smmuv3::ste_config>);
static_assert(std::is_same_v<ste::S1Fmt::value_type, smmuv3::s1_fmt>);
static_assert(std::is_same_v<ste::S1DSS::value_type, smmuv3::s1_dss>);
static_assert(std::is_same_v<ste::EATS::value_type, smmuv3::eats>);
static_assert(std::is_same_v<ste::STRW::value_type, smmuv3::strw>);
static_assert(std::is_same_v<ste::S2PS::value_type, smmuv3::address_size>);
static_assert(std::is_same_v<ste::S2TG::value_type, smmuv3::granule>);
static_assert(std::is_same_v<ste::S_S2TG::value_type, smmuv3::granule>);
static_assert(ste::S1ContextPtr::in_place && ste::S2TTB::in_place && ste::S_S2TTB::in_place &&
              ste::VMSPtr::in_place);
// In-place addresses keep the address bits the spec gives: S2TTB is address [55:4], VMSPtr
// address [55:12].
static_assert(ste::S1ContextPtr::value_mask == 0x00ff'ffff'ffff'ffc0);
static_assert(ste::S2TTB::value_mask == 0x00ff'ffff'ffff'fff0);
static_assert(ste::VMSPtr::value_mask == 0x00ff'ffff'ffff'f000);
// No STE field is an alias: the STE has no version-dependent bit meanings.
static_assert([] {
  for (const auto& f : ste::layout::field_infos) {
    if (f.alias) return false;
  }
  return true;
}());

TEST_CASE("every STE field sits where IHI 0070 5.2 puts it, and every spec field is declared") {
  for (const auto& f : ste::layout::field_infos) {
    INFO("STE." << f.name);
    const auto* row = vsmmu_test::spec_row("STE", f.name);
    REQUIRE(row != nullptr);
    CHECK(row->msb == f.msb);
    CHECK(row->lsb == f.lsb);
  }
  std::size_t rows = 0;
  for (const auto& row : vsmmu_test::spec_positions_structures) {
    if (row.structure != "STE") continue;
    ++rows;
    INFO("spec STE." << row.field);
    CHECK(vsmmu_test::layout_field<ste::layout>(row.field) != nullptr);
  }
  CHECK(rows == ste::layout::field_count);
  CHECK(vsmmu_test::bits_accounted<ste::layout>());
}

TEST_CASE("every STE field round-trips through value, views and the run-time description") {
  vsmmu_test::check_fields_round_trip<ste::layout>(0x5eed'0052);
}

TEST_CASE("STE decode and encode are inverse over the declared bits") {
  vsmmu_test::check_decode_encode<ste::layout>(0x5eed'0520);
}

// Linux-driver positions agree with these words: STRTAB_STE_0_CFG [3:1], S1CDMAX dword 0
// [63:59], STRTAB_STE_1_S1DSS [1:0], S1STALLD bit 27, EATS [29:28], SHCFG [45:44], MEV bit 19,
// STRTAB_STE_2_S2VMID [15:0]. Linux masks S1ContextPtr as GENMASK(51, 6) (and older drivers
// GENMASK(47, 6)); the spec's field is [55:6], which we follow.
TEST_CASE("a stage-1 STE as a driver writes it: known dwords") {
  ste::value v;
  v.set<ste::V>(true)
      .set<ste::Config>(smmuv3::ste_config::s1_trans)
      .set<ste::S1Fmt>(smmuv3::s1_fmt::two_level_4k)
      .set<ste::S1ContextPtr>(0x8000'0040)  // 64-byte L1CD table: 2^(9 - 6) entries
      .set<ste::S1CDMax>(9)
      .set<ste::S1DSS>(smmuv3::s1_dss::substream0)
      .set<ste::S1CIR>(0b01)  // WB RA
      .set<ste::S1COR>(0b01)
      .set<ste::S1CSH>(0b11)  // Inner Shareable
      .set<ste::MEV>(true)
      .set<ste::S1STALLD>(true)
      .set<ste::EATS>(smmuv3::eats::full)
      .set<ste::STRW>(smmuv3::strw::el1)
      .set<ste::SHCFG>(0b01)  // use incoming
      .set<ste::S2VMID>(0x0042);

  // dword 0: V | Config 0b101 << 1 | S1Fmt 0b01 << 4 | 0x8000_0040 | S1CDMax 9 << 59
  // dword 1: S1DSS 0b10 | S1CIR 1 << 2 | S1COR 1 << 4 | S1CSH 3 << 6 | MEV << 19
  //          | S1STALLD << 27 | EATS 1 << 28 | SHCFG 1 << 44
  constexpr std::array<std::uint64_t, 8> expected{
      0x4800'0000'8000'005b, 0x0000'1000'1808'00d6, 0x0000'0000'0000'0042, 0, 0, 0, 0, 0};
  CHECK(v.words() == expected);
  CHECK(v.undeclared_bits_clear());
  CHECK(ste::res0_bits_clear(v));

  // Little-endian in memory: byte 0 is dword 0's low byte.
  const auto bytes = v.bytes();
  CHECK(bytes[0] == std::byte{0x5b});
  CHECK(bytes[7] == std::byte{0x48});
  CHECK(bytes[8] == std::byte{0xd6});
  CHECK(bytes[16] == std::byte{0x42});

  const ste::view seen(bytes);
  CHECK(seen.get<ste::V>());
  CHECK(seen.get<ste::Config>() == smmuv3::ste_config::s1_trans);
  CHECK(seen.get<ste::S1ContextPtr>() == 0x8000'0040);
  CHECK(seen.get<ste::S1CDMax>() == 9);
  CHECK(seen.get<ste::S1DSS>() == smmuv3::s1_dss::substream0);
  CHECK(seen.get<ste::EATS>() == smmuv3::eats::full);
  CHECK(seen.get<ste::S2VMID>() == 0x42);
  CHECK_FALSE(seen.get<ste::S2AA64>());
}

// QEMU's smmuv3-internal.h reads S2TTB as address bits [47:4] (32-bit word 6 [31:4] and word 7
// [15:0]), the SMMUv3.0 width; the spec's field is [247:196], address bits [55:4]. Early QEMU
// also had STE.S2HD/S2HA/S2S at word 5 bits 24/25/26, one above the spec's 183/184/185.
TEST_CASE("a nested STE with stage 2 configured: known dwords") {
  ste::value v;
  v.set<ste::V>(true)
      .set<ste::Config>(smmuv3::ste_config::nested)
      .set<ste::S1ContextPtr>(0x8000'0040)
      .set<ste::S2VMID>(0x0102)
      .set<ste::S2T0SZ>(24)  // 40-bit IPA
      .set<ste::S2SL0>(0b01)
      .set<ste::S2IR0>(0b01)
      .set<ste::S2OR0>(0b01)
      .set<ste::S2SH0>(0b11)
      .set<ste::S2TG>(smmuv3::granule::size_4k)
      .set<ste::S2PS>(smmuv3::address_size::bits44)
      .set<ste::S2AA64>(true)
      .set<ste::S2PTW>(true)
      .set<ste::S2R>(true)
      .set<ste::S2TTB>(0x0009'8765'4000);

  // dword 0: V | Config 0b111 << 1 | 0x8000_0040
  // dword 2: S2VMID | S2T0SZ 24 << 32 | S2SL0 1 << 38 | S2IR0 1 << 40 | S2OR0 1 << 42
  //          | S2SH0 3 << 44 | S2PS 0b100 << 48 | S2AA64 << 51 | S2PTW << 54 | S2R << 58
  // dword 3: S2TTB in place, address bits [55:4] at dword 3 [55:4]
  constexpr std::array<std::uint64_t, 8> expected{
      0x0000'0000'8000'004f, 0, 0x044c'3558'0000'0102, 0x0000'0009'8765'4000, 0, 0, 0, 0};
  CHECK(v.words() == expected);
  CHECK(v.get<ste::S2TTB>() == 0x0009'8765'4000);
  CHECK(v.get<ste::S2PS>() == smmuv3::address_size::bits44);
  CHECK(smmuv3::address_bits(v.get<ste::S2PS>()) == 44);

  // The widest S2TTB (VMSAv9-128, address bit 55) fits; an unaligned one does not.
  CHECK(ste::S2TTB::fits(0x00ff'ffff'ffff'fff0));
  CHECK_FALSE(ste::S2TTB::fits(0x0100'0000'0000'0000));
  CHECK_FALSE(ste::S2TTB::fits(0x1008));
}

TEST_CASE("STE: a mutable view edits guest memory in place") {
  alignas(8) std::array<std::byte, ste::size_bytes> guest{};
  ste::mutable_view m(guest);
  m.set<ste::V>(true).set<ste::Config>(smmuv3::ste_config::bypass).set<ste::S2VMID>(0xbeef);
  CHECK(guest[0] == std::byte{0x09});  // V | 0b100 << 1
  CHECK(guest[16] == std::byte{0xef});
  CHECK(guest[17] == std::byte{0xbe});
  CHECK(ste::value::from_bytes(guest).get<ste::S2VMID>() == 0xbeef);
}

TEST_CASE("STE: reserved encodings are kept as they are") {
  ste::value v;
  v.init<ste::Config>(static_cast<smmuv3::ste_config>(0b010));  // reserved, behaves as abort
  v.init<ste::S1Fmt>(static_cast<smmuv3::s1_fmt>(0b11));
  CHECK(v.word(0) == ((0b010U << 1) | (0b11U << 4)));
  CHECK(static_cast<unsigned>(v.get<ste::Config>()) == 0b010);
  CHECK(static_cast<unsigned>(v.get<ste::S1Fmt>()) == 0b11);
}

TEST_CASE("STE: RES0 and IMPLEMENTATION DEFINED bits are told apart") {
  ste::value v;
  v.set<ste::V>(true);
  CHECK(v.undeclared_bits_clear());
  CHECK(ste::res0_bits_clear(v));

  SECTION("a RES0 bit") {
    v.words()[0] |= std::uint64_t{1} << 56;  // bits [58:56]
    CHECK_FALSE(v.undeclared_bits_clear());
    CHECK_FALSE(ste::res0_bits_clear(v));
  }
  SECTION("RES0 bit 447, between S_S2SKL and S2POI0") {
    v.words()[6] |= std::uint64_t{1} << 63;
    CHECK_FALSE(ste::res0_bits_clear(v));
  }
  SECTION("IMPLEMENTATION DEFINED bits are undeclared but not RES0") {
    v.words()[1] |= std::uint64_t{1} << 60;  // [127:116]
    v.words()[2] |= std::uint64_t{1} << 20;  // [159:144]
    v.words()[4] |= 0xffff;                  // [271:256]
    CHECK_FALSE(v.undeclared_bits_clear());
    CHECK(ste::res0_bits_clear(v));
    CHECK(ste::res0_bits_clear(ste::view(v.bytes())));
  }
  // The masks agree with the spec's headings: the IMPLEMENTATION DEFINED ranges exactly.
  std::array<std::uint64_t, 8> from_table{};
  for (const auto& e : vsmmu_test::spec_excluded_headings) {
    if (e.structure != "STE" || e.kind != vsmmu_test::excluded_kind::implementation_defined) {
      continue;
    }
    from_table = vsmmu_test::with_bits<ste::layout>(from_table, e.msb, e.lsb,
                                                    ~std::uint64_t{0} >> (63 - (e.msb - e.lsb)));
  }
  CHECK(from_table == ste::implementation_defined_mask);
}
