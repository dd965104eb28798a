// Decoding TG/NUM/SCALE/TTL/TTL128/Leaf of CMD_TLBI_* into a range and level hint (IHI 0070
// §4.4.1.1).
#include <catch2/catch.hpp>

#include <vsmmu/layout/value.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/tlb/range_invalidation.hpp>

#include <cstdint>
#include <limits>

using vsmmu::smmuv3::cerror;
using vsmmu::smmuv3::cmd::tlbi_tg;
using vsmmu::tlb::address_range;
using vsmmu::tlb::decode_tlbi_range;
using vsmmu::tlb::range_features;
using vsmmu::tlb::tlbi_address_fields;

namespace {
constexpr range_features ril{.ril = true, .ds = false};
constexpr range_features ril_ds{.ril = true, .ds = true};
constexpr range_features no_ril{.ril = false, .ds = false};
}  // namespace

TEST_CASE("TG = 0: one address, no hint, NUM/SCALE/TTL ignored", "[tlb][ril]") {
  const auto r = decode_tlbi_range(
      tlbi_address_fields{
          .address = 0x1234'5000, .tg = tlbi_tg::any, .ttl = 2, .num = 3, .scale = 1, .leaf = true},
      ril);
  REQUIRE(r.ok());
  CHECK(r.value.range == address_range::single(0x1234'5000));
  CHECK_FALSE(r.value.granule_shift.has_value());
  CHECK_FALSE(r.value.level.has_value());
  CHECK(r.value.leaf);
}

TEST_CASE("without SMMU_IDR3.RIL the range fields are RES0 and ignored", "[tlb][ril]") {
  const auto r = decode_tlbi_range(
      tlbi_address_fields{.address = 0x8000, .tg = tlbi_tg::size_4k, .ttl = 3, .num = 7}, no_ril);
  REQUIRE(r.ok());
  CHECK(r.value.range == address_range::single(0x8000));
  CHECK_FALSE(r.value.level.has_value());
}

TEST_CASE("Range = (NUM+1) * 2^SCALE * granule from Address", "[tlb][ril]") {
  SECTION("4KB, NUM = 3, SCALE = 0: four pages") {
    const auto r = decode_tlbi_range(
        tlbi_address_fields{.address = 0x40'0000, .tg = tlbi_tg::size_4k, .num = 3}, ril);
    REQUIRE(r.ok());
    CHECK(r.value.range == address_range{0x40'0000, 0x40'3fff});
    CHECK(r.value.granule_shift == 12);
    CHECK_FALSE(r.value.level.has_value());
  }
  SECTION("16KB, NUM = 1, SCALE = 2: 2 * 4 * 16KB = 128KB") {
    const auto r = decode_tlbi_range(
        tlbi_address_fields{.address = 0x10'0000, .tg = tlbi_tg::size_16k, .num = 1, .scale = 2},
        ril);
    REQUIRE(r.ok());
    CHECK(r.value.range == address_range{0x10'0000, 0x11'ffff});
    CHECK(r.value.granule_shift == 14);
  }
  SECTION("64KB, NUM = 31, SCALE = 31, the largest without DS") {
    const auto r = decode_tlbi_range(
        tlbi_address_fields{.address = 0, .tg = tlbi_tg::size_64k, .num = 31, .scale = 31}, ril);
    REQUIRE(r.ok());
    CHECK(r.value.range.last == (std::uint64_t{32} << (31 + 16)) - 1);
  }
  SECTION("one granule with a level hint: TTL gives the level") {
    const auto r = decode_tlbi_range(
        tlbi_address_fields{.address = 0x20'0000, .tg = tlbi_tg::size_4k, .ttl = 2, .ttl128 = true},
        ril);
    REQUIRE(r.ok());
    CHECK(r.value.range == address_range{0x20'0000, 0x20'0fff});
    CHECK(r.value.level == 2);
    CHECK(r.value.ttl128);
  }
}

TEST_CASE("SCALE is 5 bits without DS, clamped to 39 with DS", "[tlb][ril]") {
  // Bit 25 (SCALE[5]) is RES0 without DS: 0x21 reads as 1.
  const auto five = decode_tlbi_range(
      tlbi_address_fields{.address = 0, .tg = tlbi_tg::size_4k, .num = 0, .scale = 0x21}, ril);
  REQUIRE(five.ok());
  CHECK(five.value.range.last == (std::uint64_t{1} << 13) - 1);
  // "Values of this field that are greater than 39 are treated as 39."
  const auto clamp = decode_tlbi_range(
      tlbi_address_fields{.address = 0, .tg = tlbi_tg::size_4k, .num = 0, .scale = 63}, ril_ds);
  REQUIRE(clamp.ok());
  CHECK(clamp.value.range.last == (std::uint64_t{1} << (39 + 12)) - 1);
}

TEST_CASE("a range past the top of the address space does not wrap", "[tlb][ril]") {
  const auto r = decode_tlbi_range(
      tlbi_address_fields{
          .address = 0xffff'ffff'fff0'0000, .tg = tlbi_tg::size_64k, .num = 31, .scale = 20},
      ril);
  REQUIRE(r.ok());
  CHECK(r.value.range.first == 0xffff'ffff'fff0'0000);
  CHECK(r.value.range.last == std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE("reserved combinations are CERROR_ILL", "[tlb][ril]") {
  // TG != 0 with NUM = SCALE = TTL = 0.
  CHECK(decode_tlbi_range(tlbi_address_fields{.address = 0x1000, .tg = tlbi_tg::size_4k}, ril)
            .error == cerror::ill);
  // 16KB with TTL = 0b01 without DS is treated as TTL = 0b00, so a single-granule one is ILL.
  CHECK(decode_tlbi_range(tlbi_address_fields{.address = 0, .tg = tlbi_tg::size_16k, .ttl = 1}, ril)
            .error == cerror::ill);
  // The same with DS is level 1.
  const auto ds = decode_tlbi_range(
      tlbi_address_fields{.address = 0, .tg = tlbi_tg::size_16k, .ttl = 1}, ril_ds);
  REQUIRE(ds.ok());
  CHECK(ds.value.level == 1);
  // With a range, the 16KB TTL = 0b01 only loses its hint.
  const auto ranged = decode_tlbi_range(
      tlbi_address_fields{.address = 0, .tg = tlbi_tg::size_16k, .ttl = 1, .num = 1}, ril);
  REQUIRE(ranged.ok());
  CHECK_FALSE(ranged.value.level.has_value());
  CHECK(ranged.value.range.last == 2 * 0x4000 - 1);
}

TEST_CASE("decoding straight from command values", "[tlb][ril]") {
  namespace cmd = vsmmu::smmuv3::cmd;
  SECTION("CMD_TLBI_NH_VA: Address[63:12]") {
    vsmmu::layout::value<cmd::tlbi_nh_va::layout> v;
    v.init<cmd::Opcode>(cmd::opcode::tlbi_nh_va)
        .init<cmd::Address>(0xffff'8000'1234'5000)
        .init<cmd::TG>(tlbi_tg::size_4k)
        .init<cmd::NUM>(1)
        .init<cmd::SCALE>(1)
        .init<cmd::TTL>(3)
        .init<cmd::Leaf>(true);
    const auto r = decode_tlbi_range(v, ril);
    REQUIRE(r.ok());
    CHECK(r.value.range == address_range{0xffff'8000'1234'5000, 0xffff'8000'1234'5000 + 0x3fff});
    CHECK(r.value.level == 3);
    CHECK(r.value.leaf);
  }
  SECTION("CMD_TLBI_S2_IPA: IPA[55:12]") {
    vsmmu::layout::value<cmd::tlbi_s2_ipa::layout> v;
    v.init<cmd::IPA>(0x00ab'cdef'0000'0000).init<cmd::TG>(tlbi_tg::size_64k).init<cmd::NUM>(0);
    v.init<cmd::TTL>(3);
    const auto r = decode_tlbi_range(v, ril);
    REQUIRE(r.ok());
    CHECK(r.value.range == address_range{0x00ab'cdef'0000'0000, 0x00ab'cdef'0000'ffff});
    CHECK(r.value.granule_shift == 16);
  }
}
