#include <catch2/catch.hpp>

#include <vsmmu/smmuv3/l1.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "smmuv3/spec_positions_structures.hpp"

namespace l1std = vsmmu::smmuv3::l1std;
namespace l1cd = vsmmu::smmuv3::l1cd;

static_assert(vsmmu_test::position_mismatches<l1std::layout>() == 0);
static_assert(vsmmu_test::position_mismatches<l1cd::layout>() == 0);
static_assert(vsmmu_test::bits_accounted<l1std::layout>());
static_assert(vsmmu_test::bits_accounted<l1cd::layout>());
static_assert(l1std::size_bytes == 8 && l1cd::size_bytes == 8);
static_assert(l1std::L2Ptr::in_place && l1cd::L2Ptr::in_place);
static_assert(l1std::L2Ptr::value_mask == 0x00ff'ffff'ffff'ffc0);  // address bits [55:6]
static_assert(l1cd::L2Ptr::value_mask == 0x00ff'ffff'ffff'f000);   // address bits [55:12]

TEST_CASE("L1STD and L1CD fields sit where IHI 0070 5.1 and 5.3 put them") {
  for (const auto& f : l1std::layout::field_infos) {
    INFO("L1STD." << f.name);
    const auto* row = vsmmu_test::spec_row("L1STD", f.name);
    REQUIRE(row != nullptr);
    CHECK(row->msb == f.msb);
    CHECK(row->lsb == f.lsb);
  }
  for (const auto& f : l1cd::layout::field_infos) {
    INFO("L1CD." << f.name);
    const auto* row = vsmmu_test::spec_row("L1CD", f.name);
    REQUIRE(row != nullptr);
    CHECK(row->msb == f.msb);
    CHECK(row->lsb == f.lsb);
  }
  std::size_t std_rows = 0;
  std::size_t cd_rows = 0;
  for (const auto& row : vsmmu_test::spec_positions_structures) {
    INFO("spec " << row.structure << "." << row.field);
    if (row.structure == "L1STD") {
      ++std_rows;
      CHECK(vsmmu_test::layout_field<l1std::layout>(row.field) != nullptr);
    } else if (row.structure == "L1CD") {
      ++cd_rows;
      CHECK(vsmmu_test::layout_field<l1cd::layout>(row.field) != nullptr);
    }
  }
  CHECK(std_rows == l1std::layout::field_count);
  CHECK(cd_rows == l1cd::layout::field_count);
}

TEST_CASE("L1STD and L1CD fields round-trip") {
  vsmmu_test::check_fields_round_trip<l1std::layout>(0x5eed'0051, 64);
  vsmmu_test::check_fields_round_trip<l1cd::layout>(0x5eed'0053, 64);
  vsmmu_test::check_decode_encode<l1std::layout>(0x5eed'0510, 64);
  vsmmu_test::check_decode_encode<l1cd::layout>(0x5eed'0530, 64);
}

// Linux masks L1STD.L2Ptr as GENMASK(51, 6) (older drivers (47, 6)) and L1CD.L2Ptr as
// GENMASK(51, 12); the spec's fields reach address bit 55.
TEST_CASE("L1STD: a 256-STE level-2 array, known word") {
  l1std::value v;
  v.set<l1std::Span>(9).set<l1std::L2Ptr>(0x0008'0000'4000);  // 16KB array, 16KB-aligned
  CHECK(v.word(0) == 0x0000'0008'0000'4009);
  CHECK(v.undeclared_bits_clear());
  CHECK(l1std::ste_count(v.get<l1std::Span>()) == 256);
  CHECK(l1std::ste_count(v.get<l1std::Span>()) * 64 == 0x4000);

  const auto bytes = v.bytes();
  CHECK(bytes[0] == std::byte{0x09});
  CHECK(bytes[4] == std::byte{0x08});
  CHECK(l1std::view(bytes).get<l1std::L2Ptr>() == 0x0008'0000'4000);

  v.words()[0] |= std::uint64_t{1} << 5;  // bit [5] is RES0
  CHECK_FALSE(v.undeclared_bits_clear());
}

TEST_CASE("L1STD.Span: 0 and 12..31 describe no STEs, 1..11 describe 2^(Span-1)") {
  CHECK(l1std::ste_count(0) == 0);
  CHECK(l1std::ste_count(1) == 1);
  CHECK(l1std::ste_count(2) == 2);
  CHECK(l1std::ste_count(11) == 1024);
  for (std::uint8_t span = 12; span < 32; ++span) {
    INFO("Span " << unsigned{span});
    CHECK(l1std::ste_count(span) == 0);
  }
  static_assert(l1std::ste_count(11) == 1024);
}

TEST_CASE("L1CD: a valid pointer to a level-2 CD table, known word") {
  l1cd::value v;
  v.set<l1cd::V>(true).set<l1cd::L2Ptr>(0x0009'0000'3000);
  CHECK(v.word(0) == 0x0000'0009'0000'3001);
  CHECK(v.undeclared_bits_clear());
  CHECK_FALSE(l1cd::L2Ptr::fits(0x0009'0000'3800));  // below 4KB alignment
  CHECK(l1cd::L2Ptr::fits(0x00ff'ffff'ffff'f000));

  alignas(8) std::array<std::byte, l1cd::size_bytes> guest{};
  l1cd::mutable_view(guest).set<l1cd::V>(true).set<l1cd::L2Ptr>(0x0009'0000'3000);
  CHECK(l1cd::value::from_bytes(guest) == v);

  v.words()[0] |= std::uint64_t{1} << 11;  // bits [11:1] are RES0
  CHECK_FALSE(v.undeclared_bits_clear());
  v.words()[0] = (v.words()[0] & ~(std::uint64_t{1} << 11)) | (std::uint64_t{1} << 56);
  CHECK_FALSE(v.undeclared_bits_clear());
}
