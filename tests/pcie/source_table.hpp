#pragma once

// Checks a capability layout against a table written from the public sources in their own
// terms: a register's byte offset in the capability and a mask within that register (the way
// Linux's pci_regs.h and pciutils' header.h give them), not our w32<> positions.

#include <catch2/catch.hpp>

#include <vsmmu/layout/dynamic.hpp>
#include <vsmmu/layout/layout.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace pcie_test {

struct source_field {
  std::string_view name;
  unsigned offset;     // byte offset of the register within the capability
  std::uint32_t mask;  // the field's bits within that register (contiguous)
  vsmmu::layout::access access;
};

// Both directions: every row is a field of L at the same place with the same access, and every
// named field of L is a row. Then every row is encoded and decoded through the bytes.
template <vsmmu::layout::layout_type L>
void check_against_sources(std::span<const source_field> table) {
  std::size_t named_fields = 0;
  for (const auto& f : L::field_infos) {
    if (f.is_reserved()) continue;
    ++named_fields;
    INFO("layout field " << f.name);
    CHECK(std::any_of(table.begin(), table.end(),
                      [&](const source_field& row) { return row.name == f.name; }));
  }
  CHECK(named_fields == table.size());

  constexpr auto info = vsmmu::layout::info_of_layout<L>();
  for (const auto& row : table) {
    INFO("source row " << row.name);
    REQUIRE(row.mask != 0);
    const unsigned low = static_cast<unsigned>(std::countr_zero(row.mask));
    const unsigned high = 31U - static_cast<unsigned>(std::countl_zero(row.mask));
    REQUIRE(std::popcount(row.mask) == static_cast<int>(high - low + 1));  // contiguous

    const auto* f = info.find(row.name);
    REQUIRE(f != nullptr);
    CHECK(f->lsb == row.offset * 8 + low);
    CHECK(f->msb == row.offset * 8 + high);
    CHECK(f->access_mode == row.access);

    // Encode: all-ones into the field sets exactly the source's mask bytes.
    std::array<std::byte, L::byte_count> expected{};
    for (unsigned i = 0; i < 4; ++i) {
      const auto b = static_cast<std::uint8_t>(row.mask >> (8 * i));
      if (b == 0) continue;
      REQUIRE(row.offset + i < L::byte_count);
      expected[row.offset + i] = static_cast<std::byte>(b);
    }
    std::array<std::byte, L::byte_count> bytes{};
    const std::uint64_t ones = (std::uint64_t{1} << (high - low + 1)) - 1;
    REQUIRE(vsmmu::layout::write_value(*f, bytes, ones));
    CHECK(bytes == expected);

    // Decode: the source's mask reads back as all-ones in this field and zero in every other.
    CHECK(vsmmu::layout::read_value(*f, expected) == ones);
    for (const auto& other : L::field_infos) {
      if (other.name == row.name) continue;
      INFO("other field " << other.name);
      CHECK(vsmmu::layout::read_value(other, expected) == 0);
    }
  }
}

}  // namespace pcie_test
