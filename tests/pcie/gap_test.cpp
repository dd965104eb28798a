#include <catch2/catch.hpp>

#include <vsmmu/pcie/gap.hpp>
#include <vsmmu/pcie/insert.hpp>

#include <cstdint>

#include "pcie/fixtures.hpp"

namespace {

using namespace vsmmu::pcie;
using pcie_test::put32;

gap_request request(std::uint32_t size, gap_placement placement = gap_placement::end,
                    std::uint32_t alignment = 4, std::uint32_t near = 0) {
  gap_request r;
  r.size = size;
  r.placement = placement;
  r.alignment = alignment;
  r.near = near;
  return r;
}

}  // namespace

TEST_CASE("gap finder on a realistic list") {
  const config_model m = pcie_test::nic();
  // The last capability (IDE at 300h) has no known size: it is taken to reach the end.
  CHECK(find_gap(m.config, request(8)).error == gap_error::none);
  CHECK(find_gap(m.config, request(8)).offset == 0x2F8);
  CHECK(find_gap(m.config, request(8, gap_placement::start)).offset == 0x138);
  CHECK(find_gap(m.config, request(0x10, gap_placement::start, 0x10)).offset == 0x1F0);
  // Near 1C4h: 1C8h (after ATS) is closer than 1B8h (after ACS).
  CHECK(find_gap(m.config, request(8, gap_placement::near, 4, 0x1C4)).offset == 0x1C8);
  // Between 2B4h and 300h there are 4Ch bytes: 4Ch fits, 50h does not.
  CHECK(find_gap(m.config, request(0x4C, gap_placement::near, 4, 0x2B4)).offset == 0x2B4);
  CHECK(find_gap(m.config, request(0xB8, gap_placement::end)).offset == 0x1EC);
  CHECK(find_gap(m.config, request(0xBC)).error == gap_error::no_room);
}

TEST_CASE("gap finder prefers the end of the space when the tail is known") {
  config_model m = pcie_test::device_with(
      {{0x100, ext_cap_id::aer, 2, 0x38}, {0x148, ext_cap_id::ltr, 1, 0x08}});
  CHECK(find_gap(m.config, request(8)).offset == 0xFF8);
  CHECK(find_gap(m.config, request(8, gap_placement::start)).offset == 0x138);
  CHECK(find_gap(m.config, request(0x10, gap_placement::start, 0x10)).offset == 0x150);
  CHECK(find_gap(m.config, request(8, gap_placement::near, 4, 0x800)).offset == 0x800);
  // A place the strict insert accepts.
  const gap_result g = find_gap(m.config, request(8, gap_placement::start));
  CHECK(insert_ext_cap(m, ext_cap_id::pasid, 1, g.offset, 8));
}

TEST_CASE("gap finder edge cases") {
  config_model m = pcie_test::device_with({});
  CHECK(find_gap(m.config, request(8)).offset == 0x100);  // an empty list grows at its head
  CHECK(find_gap(m.config, request(8, gap_placement::end, 0x200)).error == gap_error::no_room);
  CHECK(find_gap(m.config, request(4)).error == gap_error::bad_request);
  CHECK(find_gap(m.config, request(0xF04)).error == gap_error::bad_request);
  CHECK(find_gap(m.config, request(8, gap_placement::end, 6)).error == gap_error::bad_request);
  CHECK(find_gap(m.config, request(8, gap_placement::end, 2)).error == gap_error::bad_request);
  put32(m, 0x100, ext_cap::make_header(ext_cap_id::aer, 1, 0x100));
  CHECK(find_gap(m.config, request(8)).error == gap_error::broken_list);
  CHECK(find_gap(m.config, request(8)).walk == walk_end::loop);
  std::fill(m.config.begin() + 0x100, m.config.end(), std::byte{0xFF});
  CHECK(find_gap(m.config, request(8)).error == gap_error::no_extended_space);
  // A full space.
  config_model full;
  put32(full, 0x100, ext_cap::make_header(ext_cap_id::vsec, 1, 0));
  put32(full, 0x104, 0xF00u << 20);
  CHECK(find_gap(full.config, request(8)).error == gap_error::no_room);
}
