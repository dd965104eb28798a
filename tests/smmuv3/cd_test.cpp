#include <catch2/catch.hpp>

#include <vsmmu/layout/decode.hpp>
#include <vsmmu/smmuv3/cd.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "smmuv3/spec_positions_structures.hpp"

namespace cd = vsmmu::smmuv3::cd;
namespace smmuv3 = vsmmu::smmuv3;

static_assert(vsmmu_test::position_mismatches<cd::layout>() == 0);
static_assert(vsmmu_test::bits_accounted<cd::layout>());
static_assert(cd::layout::word_count == 8 && cd::size_bytes == 64);

static_assert(std::is_same_v<cd::TG0::value_type, smmuv3::granule>);
static_assert(std::is_same_v<cd::TG1::value_type, smmuv3::granule_tg1>);
static_assert(std::is_same_v<cd::IPS::value_type, smmuv3::address_size>);
static_assert(cd::TTB0::in_place && cd::TTB1::in_place);
static_assert(cd::TTB0::value_mask == 0x00ff'ffff'ffff'fff0);  // address bits [55:4]
static_assert(cd::TTB1::value_mask == 0x00ff'ffff'ffff'fff0);

// Exactly the SMMU_IDR5.D128 == 1 meanings are aliases.
static_assert([] {
  for (const auto& f : cd::layout::field_infos) {
    const bool d128 =
        f.name == "DisCH0" || f.name == "DisCH1" || f.name == "SKL0" || f.name == "SKL1";
    if (f.alias != d128) return false;
  }
  return true;
}());

TEST_CASE("every CD field sits where IHI 0070 5.4 puts it, and every spec field is declared") {
  for (const auto& f : cd::layout::field_infos) {
    INFO("CD." << f.name);
    const auto* row = vsmmu_test::spec_row("CD", f.name);
    REQUIRE(row != nullptr);
    CHECK(row->msb == f.msb);
    CHECK(row->lsb == f.lsb);
  }
  std::size_t rows = 0;
  for (const auto& row : vsmmu_test::spec_positions_structures) {
    if (row.structure != "CD") continue;
    ++rows;
    INFO("spec CD." << row.field);
    CHECK(vsmmu_test::layout_field<cd::layout>(row.field) != nullptr);
  }
  CHECK(rows == cd::layout::field_count);
  CHECK(vsmmu_test::bits_accounted<cd::layout>());
}

TEST_CASE("every CD field round-trips through value, views and the run-time description") {
  vsmmu_test::check_fields_round_trip<cd::layout>(0x5eed'0054);
}

TEST_CASE("CD decode and encode are inverse over the declared bits") {
  vsmmu_test::check_decode_encode<cd::layout>(0x5eed'0540);
}

// Linux-driver positions agree: CTXDESC_CD_0_TCR_T0SZ [5:0], TG0 [7:6], IRGN0 [9:8], ORGN0
// [11:10], SH0 [13:12], EPD1 bit 30, V bit 31, IPS [34:32], HD 42, HA 43, R 45, A 46, AA64 41,
// ASID [63:48], TTB0 dword 1 [51:4] (the spec's is [55:4]), MAIR dword 3. Early QEMU read CD.V
// at bit 30 (which is EPD1); the spec puts V at bit 31.
TEST_CASE("a CD as a driver writes it: known dwords") {
  cd::value v;
  v.set<cd::T0SZ>(16)  // 48-bit VA
      .set<cd::TG0>(smmuv3::granule::size_4k)
      .set<cd::IR0>(0b01)
      .set<cd::OR0>(0b01)
      .set<cd::SH0>(0b11)
      .set<cd::EPD1>(true)
      .set<cd::V>(true)
      .set<cd::IPS>(smmuv3::address_size::bits48)
      .set<cd::AA64>(true)
      .set<cd::HD>(true)
      .set<cd::HA>(true)
      .set<cd::R>(true)
      .set<cd::A>(true)
      .set<cd::ASID>(0x1234)
      .set<cd::TTB0>(0x0008'1234'5000)
      .set<cd::MAIR0>(0x0044'ff04)   // Attr0 Device-nGnRE, Attr1 Normal WB, Attr2 Normal NC
      .set<cd::MAIR1>(0x0000'00bb);  // Attr4 Normal WT

  // dword 0: T0SZ 16 | IR0 1 << 8 | OR0 1 << 10 | SH0 3 << 12 | EPD1 << 30 | V << 31
  //          | IPS 0b101 << 32 | AA64 << 41 | HD << 42 | HA << 43 | R << 45 | A << 46
  //          | ASID 0x1234 << 48
  // dword 1: TTB0 in place, address bits [55:4] at dword 1 [55:4]
  // dword 3: MAIR1 << 32 | MAIR0
  constexpr std::array<std::uint64_t, 8> expected{
      0x1234'6e05'c000'3510, 0x0000'0008'1234'5000, 0, 0x0000'00bb'0044'ff04, 0, 0, 0, 0};
  CHECK(v.words() == expected);
  CHECK(v.undeclared_bits_clear());
  CHECK(cd::res0_bits_clear(v));

  const auto bytes = v.bytes();
  const cd::view seen(bytes);
  CHECK(seen.get<cd::V>());
  CHECK(seen.get<cd::T0SZ>() == 16);
  CHECK(seen.get<cd::IPS>() == smmuv3::address_size::bits48);
  CHECK(seen.get<cd::ASID>() == 0x1234);
  CHECK(seen.get<cd::TTB0>() == 0x0008'1234'5000);
  CHECK(seen.get<cd::TTB1>() == 0);
  CHECK(seen.get<cd::MAIR0>() == 0x0044'ff04);
  CHECK(seen.get<cd::MAIR1>() == 0xbb);
  CHECK(bytes[24] == std::byte{0x04});  // dword 3, little-endian
}

TEST_CASE("CD.TG0 and CD.TG1 use different encodings for the same granule") {
  cd::value v;
  v.set<cd::TG0>(smmuv3::granule::size_4k).set<cd::TG1>(smmuv3::granule_tg1::size_4k);
  CHECK(v.raw<cd::TG0>() == 0b00);
  CHECK(v.raw<cd::TG1>() == 0b10);
  CHECK(v.word(0) == (std::uint64_t{0b10} << 22));
  v.set<cd::TG0>(smmuv3::granule::size_64k).set<cd::TG1>(smmuv3::granule_tg1::size_64k);
  CHECK(v.word(0) == ((std::uint64_t{0b01} << 6) | (std::uint64_t{0b11} << 22)));
  CHECK(smmuv3::granule_shift(v.get<cd::TG0>()) == smmuv3::granule_shift(v.get<cd::TG1>()));
}

TEST_CASE("CD: the SMMU_IDR5.D128 == 1 fields read the same bits as the fields they alias") {
  cd::value v;
  v.set<cd::HAD0>(true).set<cd::HWU061>(true).set<cd::HWU062>(false);
  CHECK(v.get<cd::DisCH0>());
  CHECK(v.get<cd::SKL0>() == 0b01);  // bit 126 is SKL0[0]
  v.set<cd::SKL1>(0b10);
  CHECK_FALSE(v.get<cd::HWU161>());
  CHECK(v.get<cd::HWU162>());
  v.set<cd::DisCH1>(true);
  CHECK(v.get<cd::HAD1>());
  CHECK(v.word(1) == ((std::uint64_t{1} << 1) | (std::uint64_t{1} << 62)));
  CHECK(v.word(2) == ((std::uint64_t{1} << 1) | (std::uint64_t{1} << 63)));

  // encode() writes aliases first, so the primary (SMMU_IDR5.D128 == 0) meaning wins.
  auto d = vsmmu::layout::decode(cd::value{});
  d.get<cd::SKL0>() = 0b11;
  d.get<cd::HWU061>() = false;
  d.get<cd::HWU062>() = true;
  CHECK(vsmmu::layout::encode(d).get<cd::SKL0>() == 0b10);
}

TEST_CASE("CD: the PIIU and PIIP permission interpretations are 3-bit fields per index") {
  cd::value v;
  v.set<cd::PIIU0>(0b101).set<cd::PIIU15>(0b111).set<cd::PIIP0>(0b011).set<cd::PIIP15>(0b001);
  CHECK(v.word(6) == (std::uint64_t{0b101} | (std::uint64_t{0b111} << 45)));
  CHECK(v.word(7) == (std::uint64_t{0b011} | (std::uint64_t{0b001} << 45)));
  CHECK(cd::res0_bits_clear(v));
  v.words()[6] |= std::uint64_t{1} << 48;  // [447:432] RES0
  CHECK_FALSE(cd::res0_bits_clear(v));
}

TEST_CASE("CD: the IMPLEMENTATION DEFINED range is undeclared but not RES0") {
  cd::value v;
  v.words()[5] = 0xffff'ffff;  // [351:320]
  CHECK_FALSE(v.undeclared_bits_clear());
  CHECK(cd::res0_bits_clear(v));
  v.words()[5] |= std::uint64_t{1} << 56;  // [383:376] RES0
  CHECK_FALSE(cd::res0_bits_clear(v));

  std::array<std::uint64_t, 8> from_table{};
  for (const auto& e : vsmmu_test::spec_excluded_headings) {
    if (e.structure != "CD" || e.kind != vsmmu_test::excluded_kind::implementation_defined) {
      continue;
    }
    from_table = vsmmu_test::with_bits<cd::layout>(from_table, e.msb, e.lsb,
                                                   ~std::uint64_t{0} >> (63 - (e.msb - e.lsb)));
  }
  CHECK(from_table == cd::implementation_defined_mask);
}
