#include <catch2/catch.hpp>

#include <vsmmu/pcie/capability_size.hpp>
#include <vsmmu/pcie/gap.hpp>
#include <vsmmu/pcie/insert.hpp>
#include <vsmmu/pcie/lspci_dump.hpp>
#include <vsmmu/pcie/pasid_synthesis.hpp>
#include <vsmmu/pcie/walk.hpp>

#include <cstdint>
#include <random>
#include <string>

#include "pcie/fixtures.hpp"

// Walk, size, insert, gap finder, synthesis and the dump reader over many random and mutated
// configuration spaces (fixed seed), checking the invariants guest data may never break:
// bounded walks, no cycle made by an insertion, refusals that change nothing, gaps that the
// strict insertion accepts. Run under -fsanitize=address,undefined as well.

namespace {

using namespace vsmmu::pcie;
using pcie_test::put32;

using rng = std::mt19937_64;

std::uint32_t below(rng& g, std::uint32_t n) {
  return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(g);
}

// Random bytes everywhere.
config_model random_space(rng& g) {
  config_model m;
  for (auto& b : m.config) b = static_cast<std::byte>(below(g, 256));
  return m;
}

// A list of random headers: IDs mostly known, Next pointing forwards, backwards, into the
// legacy region, at itself or with reserved bits; registers random.
config_model random_list(rng& g) {
  config_model m = below(g, 2) ? random_space(g) : pcie_test::device_with({});
  std::uint32_t at = 0x100;
  const std::uint32_t count = 1 + below(g, 40);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t next = 0;
    switch (below(g, 8)) {
      case 0:
        next = 0;
        break;
      case 1:
        next = below(g, 0x1000);
        break;  // anything, reserved bits too
      case 2:
        next = below(g, 0x100) & ~3u;
        break;  // the legacy region
      case 3:
        next = 0x100 + 4 * below(g, 960);
        break;  // anywhere aligned
      default:
        next = at + 4 * (1 + below(g, 32));
        break;  // ascending, near
    }
    if (next >= 0x1000) next = 0;
    const auto id =
        static_cast<std::uint16_t>(below(g, 4) == 0 ? below(g, 0x10000) : below(g, 0x3B));
    put32(m, at, id | (below(g, 16) << 16) | (next << 20));
    if (next < 0x100 || next >= 0x1000 || (next & 3) != 0) break;
    at = next;
  }
  if (below(g, 8) == 0) put32(m, 0x100, 0xFFFF'FFFFu);
  if (below(g, 8) == 0) put32(m, 0x100, 0);
  return m;
}

// A realistic device with a few bytes changed, mostly in headers.
config_model mutated(rng& g) {
  config_model m = below(g, 2) ? pcie_test::nic() : pcie_test::unordered();
  const std::uint32_t changes = 1 + below(g, 4);
  for (std::uint32_t i = 0; i < changes; ++i) {
    const auto& caps = below(g, 2) ? pcie_test::nic_caps : pcie_test::unordered_caps;
    const std::uint32_t at =
        below(g, 4) == 0
            ? below(g, 0x1000)
            : caps[below(g, static_cast<std::uint32_t>(caps.size()))].offset + below(g, 8);
    m.config[at] = static_cast<std::byte>(below(g, 256));
  }
  return m;
}

// What the random inputs exercised: a run that never inserts proves little.
struct exercised {
  int inserted = 0;
  int refused = 0;
  int gaps_inserted = 0;
  int synthesized = 0;
};

void check_invariants(const config_model& original, rng& g, exercised& seen) {
  // Bounded walk, consistent between the view and the summary.
  const walk_outcome o = walk_ext_caps(original.config);
  REQUIRE(o.count <= max_ext_caps);
  std::size_t n = 0;
  for (const ext_cap_entry& e : ext_caps(original.config)) {
    ++n;
    REQUIRE(e.offset >= 0x100);
    REQUIRE(e.offset <= 0xFFC);
    REQUIRE(e.offset % 4 == 0);
    const auto extent = ext_cap_extent(original.config, e);
    if (extent) REQUIRE(e.offset + *extent <= 0x1000);
    REQUIRE(n <= max_ext_caps);
  }
  REQUIRE(n == o.count);

  // Insertions: refused ones change nothing; accepted ones leave a well-formed list one longer,
  // with the new capability in it.
  for (int i = 0; i < 6; ++i) {
    config_model m = original;
    const std::uint32_t offset = below(g, 3) == 0 ? below(g, 0x1100) : 0x100 + 4 * below(g, 960);
    const std::uint32_t size = below(g, 2) ? 8 : below(g, 0x80);
    const insert_mode mode = below(g, 2) ? insert_mode::strict : insert_mode::seed;
    const bool append = below(g, 4) == 0;
    const insert_result r = append ? append_ext_cap(m, ext_cap_id::pasid, 1, offset, size, mode)
                                   : insert_ext_cap(m, ext_cap_id::pasid, 1, offset, size, mode);
    if (!r) {
      REQUIRE(m == original);
      ++seen.refused;
      continue;
    }
    ++seen.inserted;
    const walk_outcome after = walk_ext_caps(m.config);
    INFO("insert at " << offset << " size " << size << " mode " << static_cast<int>(mode));
    REQUIRE(after.ok());
    REQUIRE(after.end == walk_end::end_of_list);
    REQUIRE(after.count == (o.end == walk_end::empty_list ? 1 : o.count + 1));
    REQUIRE(find_ext_cap(m.config, ext_cap_id::pasid).has_value());
    // Nothing outside the new range and the previous capability's Next changed.
    for (std::size_t b = 0; b < config_space_size; ++b) {
      const bool in_new = b >= offset && b < offset + size;
      const bool in_prev_next = r.previous && b >= *r.previous + 2u && b < *r.previous + 4u;
      if (!in_new && !in_prev_next && m.config[b] != original.config[b]) {
        FAIL("byte " << b << " changed");
      }
    }
  }

  // Gaps: in range, aligned, and accepted by the strict insertion on an ascending list.
  for (int i = 0; i < 3; ++i) {
    gap_request req;
    req.size = 8 + 4 * below(g, 32);
    req.alignment = 4u << below(g, 4);
    req.placement = static_cast<gap_placement>(below(g, 3));
    req.near = below(g, 0x1000);
    const gap_result gap = find_gap(original.config, req);
    if (!gap) continue;
    REQUIRE(gap.offset >= 0x100);
    REQUIRE(gap.offset % req.alignment == 0);
    REQUIRE(gap.offset + req.size <= 0x1000);
    if (o.ascending) {
      config_model m = original;
      INFO("gap at " << gap.offset << " size " << req.size);
      REQUIRE(insert_ext_cap(m, ext_cap_id::pasid, 1, gap.offset, req.size).ok());
      ++seen.gaps_inserted;
    }
  }

  // Synthesis: all or nothing.
  config_model m = original;
  pasid_synthesis_request req;
  req.ssidsize = static_cast<std::uint8_t>(below(g, 22));
  req.host = {static_cast<std::uint8_t>(below(g, 22)), below(g, 2) == 1, below(g, 2) == 1};
  if (below(g, 2)) req.offset = static_cast<std::uint16_t>(below(g, 0x1000));
  req.use_gap_finder = below(g, 3) == 0;
  req.mode = below(g, 2) ? insert_mode::strict : insert_mode::seed;
  const pasid_synthesis_result s = synthesize_pasid(m, req);
  if (!s.ok()) {
    REQUIRE(m == original);
  } else {
    REQUIRE(walk_ext_caps(m.config).ok());
    REQUIRE(find_ext_cap(m.config, ext_cap_id::pasid)->offset == s.offset);
    REQUIRE(s.width <= req.ssidsize);
    REQUIRE(s.width <= req.host.width);
    REQUIRE(load32(m.emulated, s.offset + 4u) == 0xFFFF'FFFFu);
    ++seen.synthesized;
  }
}

}  // namespace

TEST_CASE("random configuration spaces") {
  rng g{0x5EED'0007};
  exercised seen;
  for (int i = 0; i < 300; ++i) check_invariants(random_space(g), g, seen);
  CHECK(seen.refused > 1000);  // random bytes rarely make a list that walks cleanly
}

TEST_CASE("random capability lists") {
  rng g{0x5EED'0107};
  exercised seen;
  for (int i = 0; i < 1500; ++i) check_invariants(random_list(g), g, seen);
  CHECK(seen.inserted > 500);
  CHECK(seen.refused > 500);
  CHECK(seen.gaps_inserted > 200);
  CHECK(seen.synthesized > 100);
}

TEST_CASE("mutated realistic devices") {
  rng g{0x5EED'0207};
  exercised seen;
  for (int i = 0; i < 1500; ++i) check_invariants(mutated(g), g, seen);
  CHECK(seen.inserted > 500);
  CHECK(seen.refused > 500);
  CHECK(seen.gaps_inserted > 200);
  CHECK(seen.synthesized > 100);
}

TEST_CASE("the dump reader takes any text") {
  rng g{0x5EED'0307};
  const std::string good = format_lspci_dump(pcie_test::nic().config);
  for (int i = 0; i < 300; ++i) {
    std::string text = good.substr(0, below(g, static_cast<std::uint32_t>(good.size())));
    const std::uint32_t changes = below(g, 8);
    for (std::uint32_t c = 0; c < changes && !text.empty(); ++c) {
      text[below(g, static_cast<std::uint32_t>(text.size()))] = static_cast<char>(below(g, 256));
    }
    const dump_parse_result r = parse_lspci_dump(text);
    if (r.ok()) {
      REQUIRE(r.bytes_given % 16 == 0);
      REQUIRE(r.bytes_given <= config_space_size);
    } else if (r.error != dump_error::no_data) {
      REQUIRE(r.line >= 1);
    }
  }
}
