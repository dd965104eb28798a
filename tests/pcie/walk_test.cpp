#include <catch2/catch.hpp>

#include <vsmmu/pcie/walk.hpp>

#include <range/v3/algorithm/count_if.hpp>
#include <range/v3/range/concepts.hpp>
#include <range/v3/range/conversion.hpp>
#include <range/v3/view/transform.hpp>

#include <cstdint>
#include <vector>

#include "pcie/fixtures.hpp"

namespace {

using namespace vsmmu::pcie;
using pcie_test::put32;

constexpr std::uint32_t header(ext_cap_id id, std::uint8_t version, std::uint32_t next) {
  return static_cast<std::uint32_t>(id) | (std::uint32_t{version} << 16) | (next << 20);
}

std::vector<std::uint16_t> offsets(const config_model& m) {
  return ext_caps(m.config) |
         ranges::views::transform([](const ext_cap_entry& e) { return e.offset; }) |
         ranges::to<std::vector>();
}

}  // namespace

TEST_CASE("the walk is a range-v3 view") {
  STATIC_REQUIRE(ranges::forward_range<ext_cap_view>);
  STATIC_REQUIRE(ranges::view_<ext_cap_view>);
}

TEST_CASE("walk of a realistic list yields offset, ID, version and next in list order") {
  const config_model m = pcie_test::nic();
  const std::vector<ext_cap_entry> got = ext_caps(m.config) | ranges::to<std::vector>();
  REQUIRE(got.size() == pcie_test::nic_caps.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& want = pcie_test::nic_caps[i];
    CHECK(got[i].offset == want.offset);
    CHECK(got[i].id == want.id);
    CHECK(got[i].version == want.version);
    CHECK(got[i].next == (i + 1 < got.size() ? pcie_test::nic_caps[i + 1].offset : 0));
  }
  const walk_outcome o = walk_ext_caps(m.config);
  CHECK(o.end == walk_end::end_of_list);
  CHECK(o.ok());
  CHECK(o.count == got.size());
  CHECK(o.ascending);
  CHECK_FALSE(o.reserved_next_bits);
  CHECK(ranges::count_if(ext_caps(m.config),
                         [](const ext_cap_entry& e) { return e.id == ext_cap_id::ats; }) == 1);
  CHECK(find_ext_cap(m.config, ext_cap_id::ats)->offset == 0x1C0);
  CHECK_FALSE(find_ext_cap(m.config, ext_cap_id::pasid).has_value());
}

TEST_CASE("walk follows a list that is not ascending") {
  const config_model m = pcie_test::unordered();
  CHECK(offsets(m) == std::vector<std::uint16_t>{0x100, 0x300, 0x150, 0x200});
  const walk_outcome o = walk_ext_caps(m.config);
  CHECK(o.ok());
  CHECK_FALSE(o.ascending);
}

TEST_CASE("empty list, no extended space and a Null capability") {
  config_model m = pcie_test::device_with({});
  CHECK(offsets(m).empty());
  CHECK(walk_ext_caps(m.config).end == walk_end::empty_list);
  CHECK(walk_ext_caps(m.config).ok());

  std::fill(m.config.begin() + 0x100, m.config.end(), std::byte{0xFF});
  CHECK(offsets(m).empty());
  CHECK(walk_ext_caps(m.config).end == walk_end::no_extended_space);
  CHECK_FALSE(walk_ext_caps(m.config).ok());

  // ID 0 with a non-zero Next is a capability (QEMU leaves one at 100h when it hides the first
  // physical capability), not an empty list.
  m = pcie_test::device_with({});
  put32(m, 0x100, header(ext_cap_id::null, 0, 0xFF8));
  put32(m, 0xFF8, header(ext_cap_id::pasid, 1, 0));
  CHECK(offsets(m) == std::vector<std::uint16_t>{0x100, 0xFF8});
  CHECK(ext_caps(m.config).begin()->id == ext_cap_id::null);
  CHECK(walk_ext_caps(m.config).end == walk_end::end_of_list);
}

TEST_CASE("hostile lists end the walk with an error value") {
  config_model m = pcie_test::device_with({});

  SECTION("a capability pointing at itself") {
    put32(m, 0x100, header(ext_cap_id::aer, 1, 0x100));
    const walk_outcome o = walk_ext_caps(m.config);
    CHECK(o.end == walk_end::loop);
    CHECK(o.end_offset == 0x100);
    CHECK(o.count == 1);
  }
  SECTION("a longer loop") {
    put32(m, 0x100, header(ext_cap_id::aer, 1, 0x200));
    put32(m, 0x200, header(ext_cap_id::dsn, 1, 0x180));
    put32(m, 0x180, header(ext_cap_id::ltr, 1, 0x200));
    CHECK(offsets(m) == std::vector<std::uint16_t>{0x100, 0x200, 0x180});
    const walk_outcome o = walk_ext_caps(m.config);
    CHECK(o.end == walk_end::loop);
    CHECK(o.end_offset == 0x180);
  }
  SECTION("Next into the PCI-compatible region") {
    put32(m, 0x100, header(ext_cap_id::aer, 1, 0x40));
    CHECK(walk_ext_caps(m.config).end == walk_end::next_below_extended);
    CHECK(offsets(m) == std::vector<std::uint16_t>{0x100});
  }
  SECTION("Next at FFFFFFFFh or at 0") {
    put32(m, 0x100, header(ext_cap_id::aer, 1, 0x200));
    put32(m, 0x200, 0xFFFF'FFFFu);
    CHECK(walk_ext_caps(m.config).end == walk_end::all_ones_header);
    CHECK(walk_ext_caps(m.config).end_offset == 0x200);
    put32(m, 0x200, 0);
    CHECK(walk_ext_caps(m.config).end == walk_end::zero_header);
    CHECK(offsets(m) == std::vector<std::uint16_t>{0x100});
  }
  SECTION("reserved low bits of Next are masked, and noted") {
    put32(m, 0x100, header(ext_cap_id::aer, 1, 0x203));
    put32(m, 0x200, header(ext_cap_id::dsn, 1, 0));
    CHECK(offsets(m) == std::vector<std::uint16_t>{0x100, 0x200});
    const walk_outcome o = walk_ext_caps(m.config);
    CHECK(o.ok());
    CHECK(o.reserved_next_bits);
    CHECK(ext_caps(m.config).begin()->next == 0x200);
  }
  SECTION("Next at 1, 2 or 3 masks to 0: the end of the list") {
    put32(m, 0x100, header(ext_cap_id::aer, 1, 0x003));
    const walk_outcome o = walk_ext_caps(m.config);
    CHECK(o.end == walk_end::end_of_list);
    CHECK(o.reserved_next_bits);
  }
}

TEST_CASE("the longest list is walked in max_ext_caps steps") {
  // A header in every DWORD of the extended region, each pointing at the next one.
  config_model m;
  for (std::uint32_t o = 0x100; o < 0x1000; o += 4) {
    put32(m, o, header(ext_cap_id::vsec, 1, o + 4 < 0x1000 ? o + 4 : 0));
  }
  walk_outcome o = walk_ext_caps(m.config);
  CHECK(o.end == walk_end::end_of_list);
  CHECK(o.count == max_ext_caps);
  // Close the chain into a loop: still bounded, the loop is found after every header.
  put32(m, 0xFFC, header(ext_cap_id::vsec, 1, 0x100));
  o = walk_ext_caps(m.config);
  CHECK(o.end == walk_end::loop);
  CHECK(o.count == max_ext_caps);
  CHECK(ranges::distance(ext_caps(m.config)) == static_cast<std::ptrdiff_t>(max_ext_caps));
}

TEST_CASE("the walk runs at compile time") {
  constexpr auto count = [] {
    config_model m;
    store32(m.config, 0x100, header(ext_cap_id::aer, 2, 0x140));
    store32(m.config, 0x140, header(ext_cap_id::dsn, 1, 0x100));
    return walk_ext_caps(m.config).count;
  };
  STATIC_REQUIRE(count() == 2);
}

TEST_CASE("legacy capability lookup is bounded and needs the Capabilities List bit") {
  config_model m = pcie_test::device_with({});
  CHECK(find_legacy_cap(m.config, legacy_cap_id_pcie) == 0x40);
  CHECK(find_legacy_cap(m.config, 0x05) == 0);
  m.config[0x41] = std::byte{0x40};  // the PCIe capability points at itself
  CHECK(find_legacy_cap(m.config, 0x05) == 0);
  m.config[0x06] = std::byte{0};
  CHECK(find_legacy_cap(m.config, legacy_cap_id_pcie) == 0);
}
