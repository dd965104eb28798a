#include <catch2/catch.hpp>

#include <vsmmu/pcie/pasid_synthesis.hpp>

#include <cstdint>

#include "pcie/fixtures.hpp"

namespace {

using namespace vsmmu::pcie;
using pcie_test::put32;

pasid_synthesis_request request(std::uint8_t ssidsize, std::uint8_t host_width, bool exec = false,
                                bool priv = false) {
  pasid_synthesis_request r;
  r.ssidsize = ssidsize;
  r.host = {host_width, exec, priv};
  return r;
}

// A list whose tail has a known size, so that the last 8 bytes are free.
config_model device() {
  return pcie_test::device_with({{0x100, ext_cap_id::aer, 2, 0x38},
                                 {0x140, ext_cap_id::dsn, 1, 0x0C},
                                 {0x150, ext_cap_id::ats, 1, 0x08}});
}

}  // namespace

TEST_CASE("PASID synthesis at the seed's default place, the last 8 bytes") {
  config_model m = device();
  const pasid_synthesis_result r = synthesize_pasid(m, request(20, 16, true, false));
  REQUIRE(r.ok());
  CHECK(r.offset == 0xFF8);
  CHECK(r.width == 16);
  CHECK(ext_cap::next_capability_offset(load32(m.config, 0x150)) == 0xFF8);
  CHECK(load32(m.config, 0xFF8) == ext_cap::make_header(ext_cap_id::pasid, 1, 0));
  CHECK(load16(m.config, 0xFFC) == 0x1002);
  // All 8 bytes are the VMM's.
  CHECK(load32(m.emulated, 0xFF8) == 0xFFFF'FFFFu);
  CHECK(load32(m.emulated, 0xFFC) == 0xFFFF'FFFFu);
  CHECK(find_ext_cap(m.config, ext_cap_id::pasid)->offset == 0xFF8);
}

TEST_CASE("the advertised width is the smaller of the host's and the vSMMU's SSIDSIZE") {
  // The seed advertises the host's width (20 here) although the vSMMU only handles 8-bit
  // SubstreamIDs.
  config_model m = device();
  const pasid_synthesis_result r = synthesize_pasid(m, request(8, 20, false, true));
  REQUIRE(r.ok());
  CHECK(r.width == 8);
  CHECK(load16(m.config, r.offset + 4u) == 0x0804);
  CHECK(advertised_pasid_width(5, 20) == 5);
  CHECK(advertised_pasid_width(31, 31) == 20);
}

TEST_CASE("PASID synthesis policy: when not to") {
  config_model m = device();
  const config_model before = m;
  CHECK(synthesize_pasid(m, request(0, 20)).status == pasid_synthesis_status::viommu_without_pasid);
  CHECK(synthesize_pasid(m, request(20, 0)).status == pasid_synthesis_status::host_without_pasid);
  CHECK(synthesize_pasid(m, request(21, 20)).status == pasid_synthesis_status::invalid_ssidsize);
  CHECK(m == before);

  // The physical list already exposes PASID: nothing to add, no duplicate.
  config_model with_pasid = pcie_test::device_with(
      {{0x100, ext_cap_id::aer, 2, 0x38}, {0x200, ext_cap_id::pasid, 1, 0x08}});
  const config_model with_before = with_pasid;
  const pasid_synthesis_result r = synthesize_pasid(with_pasid, request(20, 20));
  CHECK(r.status == pasid_synthesis_status::already_present);
  CHECK(r.offset == 0x200);
  CHECK(with_pasid == with_before);
}

TEST_CASE("PASID synthesis placement: the user's offset, the gap finder, failures") {
  SECTION("user offset") {
    config_model m = device();
    auto req = request(20, 20);
    req.offset = 0x158;
    const pasid_synthesis_result r = synthesize_pasid(m, req);
    REQUIRE(r.ok());
    CHECK(r.offset == 0x158);
    CHECK(ext_cap::next_capability_offset(load32(m.config, 0x150)) == 0x158);
  }
  SECTION("a refused offset leaves the device without PASID, and says why") {
    config_model m = device();
    const config_model before = m;
    for (const std::uint16_t bad : {0xFFC, 0x144, 0x14E, 0x100, 0x80}) {
      auto req = request(20, 20);
      req.offset = bad;
      const pasid_synthesis_result r = synthesize_pasid(m, req);
      INFO("offset " << bad);
      CHECK(r.status == pasid_synthesis_status::placement_failed);
      CHECK_FALSE(r.insert.ok());
      CHECK(m == before);
    }
    auto req = request(20, 20);
    req.offset = 0x144;  // inside the DSN body
    const pasid_synthesis_result r = synthesize_pasid(m, req);
    CHECK(r.insert.error == insert_error::overlaps_body);
    REQUIRE(r.insert.conflict);
    CHECK(r.insert.conflict->id == ext_cap_id::dsn);
    CHECK(r.insert.conflict->offset == 0x140);
  }
  SECTION("the default place taken by a capability of unknown size") {
    config_model m = pcie_test::device_with(
        {{0x100, ext_cap_id::aer, 2, 0x38}, {0xF00, ext_cap_id::ide, 1, 0x04}});
    const config_model before = m;
    // Strict: FF8h is not a header, and IDE's size is unknown: nothing says it is in use. The
    // gap finder is more careful and takes the free space below F00h.
    auto req = request(20, 20);
    req.use_gap_finder = true;
    const pasid_synthesis_result r = synthesize_pasid(m, req);
    REQUIRE(r.ok());
    CHECK(r.offset == 0xEF8);
    m = before;
    CHECK(synthesize_pasid(m, request(20, 20)).offset == 0xFF8);
  }
  SECTION("a header in the last 8 bytes") {
    config_model m = pcie_test::device_with(
        {{0x100, ext_cap_id::aer, 2, 0x38}, {0xFFC, ext_cap_id::ide, 1, 0x04}});
    const config_model before = m;
    const pasid_synthesis_result r = synthesize_pasid(m, request(20, 20));
    CHECK(r.status == pasid_synthesis_status::placement_failed);
    CHECK(r.insert.error == insert_error::overlaps_header);
    CHECK(r.insert.conflict->offset == 0xFFC);
    CHECK(m == before);
  }
  SECTION("a device with no extended capabilities gets PASID at 100h") {
    // The seed never synthesises one here (its extended-capability routine returns early).
    config_model m = pcie_test::device_with({});
    const pasid_synthesis_result r = synthesize_pasid(m, request(20, 20));
    REQUIRE(r.ok());
    CHECK(r.offset == 0x100);
    CHECK(walk_ext_caps(m.config).count == 1);
  }
  SECTION("a broken list") {
    config_model m = device();
    put32(m, 0x150, ext_cap::make_header(ext_cap_id::ats, 1, 0x140));
    const config_model before = m;
    const pasid_synthesis_result r = synthesize_pasid(m, request(20, 20));
    CHECK(r.status == pasid_synthesis_status::placement_failed);
    CHECK(r.insert.error == insert_error::broken_list);
    auto req = request(20, 20);
    req.use_gap_finder = true;
    CHECK(synthesize_pasid(m, req).gap == gap_error::broken_list);
    CHECK(m == before);
  }
}
