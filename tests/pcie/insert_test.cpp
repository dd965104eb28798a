#include <catch2/catch.hpp>

#include <vsmmu/pcie/insert.hpp>

#include <range/v3/range/conversion.hpp>
#include <range/v3/view/transform.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "pcie/fixtures.hpp"

namespace {

using namespace vsmmu::pcie;
using pcie_test::cap_spec;
using pcie_test::put32;

std::vector<std::uint16_t> offsets(const config_model& m) {
  return ext_caps(m.config) |
         ranges::views::transform([](const ext_cap_entry& e) { return e.offset; }) |
         ranges::to<std::vector>();
}

bool overlaps(std::uint32_t a, std::uint32_t a_size, std::uint32_t b, std::uint32_t b_size) {
  return a < b + b_size && b < a + a_size;
}

// What insert_ext_cap must answer, from the rules as the issue states them and the sizes the
// fixtures give by hand.
insert_error expected(const std::vector<cap_spec>& caps, std::uint32_t offset, std::uint32_t size,
                      insert_mode mode) {
  if (offset % 4 != 0) return insert_error::misaligned;
  if (size < 8) return insert_error::too_small;
  if (offset < 0x100 || offset >= 0x1000 || offset + size > 0x1000) {
    return insert_error::out_of_range;
  }
  if (caps.empty())
    return offset == 0x100 ? insert_error::none : insert_error::empty_list_not_at_head;
  if (mode == insert_mode::strict &&
      !std::is_sorted(caps.begin(), caps.end(),
                      [](const cap_spec& a, const cap_spec& b) { return a.offset < b.offset; })) {
    return insert_error::not_ascending;
  }
  for (const auto& c : caps) {
    if (c.offset == offset) return insert_error::overlaps_header;
  }
  if (mode == insert_mode::seed) return insert_error::none;
  for (const auto& c : caps) {
    if (overlaps(offset, size, c.offset, 4)) return insert_error::overlaps_header;
  }
  for (const auto& c : caps) {
    if (overlaps(offset, size, c.offset, c.size)) return insert_error::overlaps_body;
  }
  return insert_error::none;
}

// The list after inserting at `offset`, in QEMU's order: after the last capability (in list
// order) at or below it, before the first one above it.
std::vector<std::uint16_t> expected_order(const std::vector<cap_spec>& caps, std::uint16_t offset) {
  std::vector<std::uint16_t> out;
  bool placed = false;
  for (const auto& c : caps) {
    if (!placed && c.offset > offset) {
      out.push_back(offset);
      placed = true;
    }
    out.push_back(c.offset);
  }
  if (!placed) out.push_back(offset);
  return out;
}

void check_every_offset(const config_model& original, const std::vector<cap_spec>& caps,
                        insert_mode mode) {
  for (const std::uint32_t size : {4u, 8u, 16u, 0x40u}) {
    for (std::uint32_t offset = 0; offset <= 0x1000; ++offset) {
      config_model m = original;
      const insert_result r = insert_ext_cap(m, ext_cap_id::pasid, 1, offset, size, mode);
      const insert_error want = expected(caps, offset, size, mode);
      if (r.error != want) {
        FAIL_CHECK("offset " << offset << " size " << size << ": got " << to_string(r.error)
                             << ", expected " << to_string(want));
        continue;
      }
      if (!r) {
        if (!(m == original)) FAIL_CHECK("refused insert at " << offset << " changed the model");
        continue;
      }
      const auto off = static_cast<std::uint16_t>(offset);
      if (offsets(m) != expected_order(caps, off)) {
        FAIL_CHECK("list after insert at " << offset << " is out of order");
      }
      const walk_outcome o = walk_ext_caps(m.config);
      if (o.end != walk_end::end_of_list) FAIL_CHECK("walk after insert at " << offset);
      // The new range is read-only and checked.
      for (std::uint32_t b = offset; b < offset + size; ++b) {
        if (m.wmask[b] != std::byte{0} || m.w1cmask[b] != std::byte{0} ||
            m.cmask[b] != std::byte{0xFF}) {
          FAIL_CHECK("masks of the new range at " << offset);
          break;
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("insertion at every offset of a realistic ascending list") {
  const config_model nic = pcie_test::nic();
  SECTION("strict") { check_every_offset(nic, pcie_test::nic_caps, insert_mode::strict); }
  SECTION("seed") { check_every_offset(nic, pcie_test::nic_caps, insert_mode::seed); }
}

TEST_CASE("insertion at every offset of a list that is not ascending") {
  const config_model m = pcie_test::unordered();
  SECTION("strict refuses every insertion cleanly") {
    check_every_offset(m, pcie_test::unordered_caps, insert_mode::strict);
  }
  SECTION("seed inserts in QEMU's order and never creates a cycle") {
    check_every_offset(m, pcie_test::unordered_caps, insert_mode::seed);
  }
}

TEST_CASE("insertion into an empty list") {
  const config_model empty = pcie_test::device_with({});
  SECTION("strict") { check_every_offset(empty, {}, insert_mode::strict); }
  SECTION("seed") { check_every_offset(empty, {}, insert_mode::seed); }
  config_model m = empty;
  REQUIRE(insert_ext_cap(m, ext_cap_id::pasid, 1, 0x100, 8));
  CHECK(load32(m.config, 0x100) == 0x0001'001Bu);
}

TEST_CASE("a Null capability of version 0 is refused: its header could read as no capability") {
  // Found by the pcie_walk fuzzer (docs/reliability.md, F1): accepted, ID 0 version 0 with Next
  // 0 wrote 00000000h, which walks as an empty list at 100h and as a broken list elsewhere.
  for (const insert_mode mode : {insert_mode::strict, insert_mode::seed}) {
    config_model empty = pcie_test::device_with({});
    const config_model before = empty;
    CHECK(insert_ext_cap(empty, ext_cap_id::null, 0, 0x100, 8, mode).error ==
          insert_error::null_header);
    CHECK(empty.config == before.config);

    config_model one = pcie_test::device_with({{0x100, ext_cap_id::aer, 1, 0}});
    CHECK(append_ext_cap(one, ext_cap_id::null, 0, 0x200, 8, mode).error ==
          insert_error::null_header);
    CHECK(walk_ext_caps(one.config).ok());
    // A Null capability with a version is a header like any other.
    REQUIRE(append_ext_cap(one, ext_cap_id::null, 1, 0x200, 8, mode));
    CHECK(walk_ext_caps(one.config).count == 2);
  }
}

TEST_CASE("the seed's blind spots, and what strict mode says") {
  // Seed patch 34 review: inserting at 148h with size 8 when a capability starts at 14Ch
  // passes, and the PASID registers written at +4 would overwrite the 14Ch header.
  config_model base = pcie_test::device_with(
      {{0x100, ext_cap_id::aer, 1, 0x38}, {0x14C, ext_cap_id::ltr, 1, 0x08}});
  {
    config_model m = base;
    const insert_result r = insert_ext_cap(m, ext_cap_id::pasid, 1, 0x148, 8);
    CHECK(r.error == insert_error::overlaps_header);
    REQUIRE(r.conflict);
    CHECK(r.conflict->offset == 0x14C);
    CHECK(r.conflict->id == ext_cap_id::ltr);
    CHECK(m == base);
    CHECK(insert_ext_cap(m, ext_cap_id::pasid, 1, 0x148, 8, insert_mode::seed));
  }
  // A 40h-byte capability at 100h and an insertion at 120h: the seed accepts it.
  {
    config_model m = pcie_test::device_with(
        {{0x100, ext_cap_id::vsec, 1, 0x40}, {0x200, ext_cap_id::ltr, 1, 0x08}});
    put32(m, 0x104, 0x040u << 20);
    const config_model before = m;
    const insert_result r = insert_ext_cap(m, ext_cap_id::pasid, 1, 0x120, 8);
    CHECK(r.error == insert_error::overlaps_body);
    REQUIRE(r.conflict);
    CHECK(r.conflict->offset == 0x100);
    CHECK(m == before);
    CHECK(insert_ext_cap(m, ext_cap_id::pasid, 1, 0x120, 8, insert_mode::seed));
  }
  // 100h -> 200h -> 150h, inserting at 150h: QEMU overwrites the 150h header and makes the
  // cycle 150h -> 200h -> 150h. Both modes refuse.
  {
    config_model m = pcie_test::device_with({{0x100, ext_cap_id::aer, 1, 0x38},
                                             {0x200, ext_cap_id::dsn, 1, 0x0C},
                                             {0x150, ext_cap_id::ltr, 1, 0x08}});
    const config_model before = m;
    CHECK(insert_ext_cap(m, ext_cap_id::pasid, 1, 0x150, 8, insert_mode::seed).error ==
          insert_error::overlaps_header);
    CHECK(insert_ext_cap(m, ext_cap_id::pasid, 1, 0x150, 8).error == insert_error::not_ascending);
    CHECK(m == before);
  }
}

TEST_CASE("insertion relinks previous -> new -> next and keeps the previous header") {
  config_model m = pcie_test::nic();
  const std::uint32_t before_1c0 = load32(m.config, 0x1C0);
  const insert_result r = insert_ext_cap(m, ext_cap_id::pri, 1, 0x1C8, 8);
  REQUIRE(r);
  CHECK(r.previous == std::uint16_t{0x1C0});
  CHECK(r.next == 0x1D0);
  CHECK(load32(m.config, 0x1C8) == ext_cap::make_header(ext_cap_id::pri, 1, 0x1D0));
  // Only the Next bits of the previous header changed, and the VMM now serves them.
  CHECK((load32(m.config, 0x1C0) & 0x000F'FFFFu) == (before_1c0 & 0x000F'FFFFu));
  CHECK(ext_cap::next_capability_offset(load32(m.config, 0x1C0)) == 0x1C8);
  CHECK(load32(m.emulated, 0x1C0) == 0xFFF0'0000u);
}

TEST_CASE("broken lists and absent extended space refuse insertion") {
  config_model m = pcie_test::device_with({});
  put32(m, 0x100, ext_cap::make_header(ext_cap_id::aer, 1, 0x100));  // a loop
  config_model before = m;
  for (const auto mode : {insert_mode::seed, insert_mode::strict}) {
    const insert_result r = insert_ext_cap(m, ext_cap_id::pasid, 1, 0x200, 8, mode);
    CHECK(r.error == insert_error::broken_list);
    CHECK(r.walk == walk_end::loop);
    CHECK(m == before);
  }
  std::fill(m.config.begin() + 0x100, m.config.end(), std::byte{0xFF});
  before = m;
  CHECK(insert_ext_cap(m, ext_cap_id::pasid, 1, 0x200, 8).error == insert_error::no_extended_space);
  CHECK(insert_ext_cap(m, ext_cap_id::pasid, 16, 0x200, 8).error == insert_error::bad_version);
  CHECK(m == before);
}

TEST_CASE("append links at the tail; strict keeps the list ascending") {
  config_model m = pcie_test::nic();
  const config_model before = m;
  // Below the tail (300h): seed accepts (QEMU links anywhere), strict refuses.
  CHECK(append_ext_cap(m, ext_cap_id::pasid, 1, 0x2B4, 8).error == insert_error::not_ascending);
  CHECK(append_ext_cap(m, ext_cap_id::pasid, 1, 0x2A8, 8).error == insert_error::overlaps_body);
  CHECK(append_ext_cap(m, ext_cap_id::pasid, 1, 0x300, 8).error == insert_error::overlaps_header);
  CHECK(m == before);
  REQUIRE(append_ext_cap(m, ext_cap_id::pasid, 1, 0x400, 8));
  CHECK(offsets(m).back() == 0x400);
  CHECK(ext_cap::next_capability_offset(load32(m.config, 0x300)) == 0x400);
  CHECK(ext_cap::next_capability_offset(load32(m.config, 0x400)) == 0);

  config_model seed = before;
  REQUIRE(append_ext_cap(seed, ext_cap_id::pasid, 1, 0x2B4, 8, insert_mode::seed));
  CHECK(offsets(seed).back() == 0x2B4);
  CHECK(walk_ext_caps(seed.config).ok());

  config_model empty = pcie_test::device_with({});
  CHECK(append_ext_cap(empty, ext_cap_id::pasid, 1, 0x200, 8).error ==
        insert_error::empty_list_not_at_head);
  REQUIRE(append_ext_cap(empty, ext_cap_id::pasid, 1, 0x100, 8));
  CHECK(offsets(empty) == std::vector<std::uint16_t>{0x100});
}
