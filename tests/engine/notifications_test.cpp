// The range splitter behind IOTLB notifications, and the engine's packing of a walk's leaf into
// an IOTLB entry and back.

#include <catch2/catch.hpp>

#include <vsmmu/engine/detail/leaf_codec.hpp>
#include <vsmmu/engine/notifications.hpp>
#include <vsmmu/tlb/iotlb.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace ve = vsmmu::engine;
namespace vw = vsmmu::walk;
using vsmmu::tlb::address_range;

namespace {

std::vector<ve::range_piece> split(std::uint64_t first, std::uint64_t last) {
  std::vector<ve::range_piece> out;
  const unsigned n = ve::split_range(address_range{first, last},
                                     [&](const ve::range_piece& p) { out.push_back(p); });
  REQUIRE(n == out.size());
  return out;
}

// The pieces tile [first, last] exactly, in order, each aligned to its size, and no two
// neighbours could merge into one aligned piece (the split is minimal).
void check_tiling(std::uint64_t first, std::uint64_t last) {
  const auto pieces = split(first, last);
  REQUIRE_FALSE(pieces.empty());
  REQUIRE(pieces.size() <= 128);
  std::uint64_t next = first;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const auto& p = pieces[i];
    REQUIRE(p.base == next);
    if (p.size_shift < 64) REQUIRE((p.base & ((std::uint64_t{1} << p.size_shift) - 1)) == 0);
    if (i + 1 < pieces.size()) {
      const auto& q = pieces[i + 1];
      const bool mergeable = p.size_shift == q.size_shift && p.size_shift < 63 &&
                             (p.base & ((std::uint64_t{2} << p.size_shift) - 1)) == 0;
      REQUIRE_FALSE(mergeable);
    }
    next = p.last() + 1;
  }
  REQUIRE(pieces.back().last() == last);
}

}  // namespace

TEST_CASE("split_range: small ranges, exhaustively", "[engine][notify]") {
  for (std::uint64_t first = 0; first < 70; ++first) {
    for (std::uint64_t last = first; last < 70; ++last) check_tiling(first, last);
  }
}

TEST_CASE("split_range: known splits", "[engine][notify]") {
  // Three 4KB pages from 0x1000: 4KB then 8KB.
  CHECK(split(0x1000, 0x3fff) == std::vector<ve::range_piece>{{0x1000, 12}, {0x2000, 13}});
  // An aligned power of two is one piece.
  CHECK(split(0x20'0000, 0x3f'ffff) == std::vector<ve::range_piece>{{0x20'0000, 21}});
  // One byte.
  CHECK(split(0x1234, 0x1234) == std::vector<ve::range_piece>{{0x1234, 0}});
  // Everything, and the top of the space.
  constexpr auto top = std::numeric_limits<std::uint64_t>::max();
  CHECK(split(0, top) == std::vector<ve::range_piece>{{0, 64}});
  CHECK(split(std::uint64_t{1} << 63, top) == std::vector<ve::range_piece>{{1ULL << 63, 63}});
  CHECK(split(top, top) == std::vector<ve::range_piece>{{top, 0}});
  CHECK(ve::range_piece{0, 64}.last() == top);
  // Empty (first > last): nothing.
  CHECK(split(2, 1).empty());
}

TEST_CASE("split_range: random ranges tile exactly", "[engine][notify]") {
  std::mt19937_64 rng(4);
  for (int i = 0; i < 2000; ++i) {
    std::uint64_t a = rng() >> (rng() % 64);
    std::uint64_t b = rng() >> (rng() % 64);
    if (a > b) std::swap(a, b);
    check_tiling(a, b);
  }
  check_tiling(1, std::numeric_limits<std::uint64_t>::max());  // the worst case: 64 pieces
  CHECK(split(1, std::numeric_limits<std::uint64_t>::max()).size() == 64);
}

namespace {

bool same(const vw::translation& a, const vw::translation& b) {
  return a.output_address == b.output_address && a.ipa == b.ipa && a.size_shift == b.size_shift &&
         a.asid == b.asid && a.global == b.global && a.s1_attr_index == b.s1_attr_index &&
         a.s1_mem_attr == b.s1_mem_attr && a.s1_sh == b.s1_sh && a.s1_level == b.s1_level &&
         a.s1_size_shift == b.s1_size_shift && a.s2_mem_attr == b.s2_mem_attr &&
         a.s2_sh == b.s2_sh && a.s2_level == b.s2_level && a.s2_size_shift == b.s2_size_shift &&
         a.s1_perm_set == b.s1_perm_set && a.s2_perm_set == b.s2_perm_set &&
         a.s1_dbm_clean == b.s1_dbm_clean && a.s2_dbm_clean == b.s2_dbm_clean &&
         a.s1_granule_shift == b.s1_granule_shift && a.s2_granule_shift == b.s2_granule_shift &&
         a.s1_enabled == b.s1_enabled && a.s2_enabled == b.s2_enabled && a.vmid == b.vmid;
}

}  // namespace

// A walk's translation, stored as an IOTLB entry and read back for any address of the block,
// is what the walk of that address gives (less `perm`, which translate() derives on a hit).
TEST_CASE("leaf codec: a translation survives the IOTLB entry", "[engine][codec]") {
  std::mt19937_64 rng(7);
  vsmmu::tlb::iotlb<64> tlb;
  for (int i = 0; i < 5000; ++i) {
    vw::leaf_key k;
    const unsigned kind = rng() % 4;  // s1, s2, nested, el2
    k.s1 = kind != 1;
    k.s2 = kind == 1 || kind == 2;
    k.el2 = kind == 3;
    k.vmid = k.el2 ? 0 : static_cast<std::uint16_t>(rng());
    k.asid = k.s1 && !k.el2 ? static_cast<std::uint16_t>(rng()) : 0;
    const unsigned g1 = 12 + 2 * (rng() % 3);
    const unsigned g2 = 12 + 2 * (rng() % 3);
    const unsigned s1_shift = g1 + static_cast<unsigned>(rng() % 20);
    const unsigned s2_shift = g2 + static_cast<unsigned>(rng() % 20);
    vw::translation x;
    x.s1_enabled = k.s1;
    x.s2_enabled = k.s2;
    x.vmid = k.vmid;
    unsigned shift = 64;
    if (k.s1) {
      x.asid = k.asid;
      x.global = k.el2 || (rng() & 1) != 0;  // the EL2 StreamWorld is always global
      x.s1_attr_index = static_cast<std::uint8_t>(rng() % 8);
      x.s1_mem_attr = static_cast<std::uint8_t>(rng());
      x.s1_sh = static_cast<std::uint8_t>(rng() % 4);
      x.s1_level = static_cast<int>(rng() % 4);
      x.s1_size_shift = s1_shift;
      x.s1_perm_set = static_cast<std::uint8_t>(rng() % 64);
      x.s1_dbm_clean = (rng() & 1) != 0;
      x.s1_granule_shift = static_cast<std::uint8_t>(g1);
      shift = s1_shift;
    }
    if (k.s2) {
      x.s2_mem_attr = static_cast<std::uint8_t>(rng() % 16);
      x.s2_sh = static_cast<std::uint8_t>(rng() % 4);
      x.s2_level = static_cast<int>(1 + rng() % 3);
      x.s2_size_shift = s2_shift;
      x.s2_perm_set = static_cast<std::uint8_t>(9 * (rng() % 8));
      x.s2_dbm_clean = (rng() & 1) != 0;
      x.s2_granule_shift = static_cast<std::uint8_t>(g2);
      shift = std::min(shift, s2_shift);
    }
    x.size_shift = shift;
    const std::uint64_t mask = (std::uint64_t{1} << shift) - 1;
    const std::uint64_t in_base = (rng() & 0x0000'ffff'ffff'ffffULL) & ~mask;
    const std::uint64_t out_base = (rng() & 0x000f'ffff'ffff'ffffULL) & ~mask;
    const std::uint64_t ipa_base = (rng() & 0x000f'ffff'ffff'ffffULL) & ~mask;
    auto walk_at = [&](std::uint64_t addr) {
      vw::translation w = x;
      const std::uint64_t off = addr & mask;
      w.output_address = out_base + off;
      w.ipa = k.s1 && k.s2 ? ipa_base + off : k.s1 ? w.output_address : addr;
      return w;
    };
    const std::uint64_t a = in_base + (rng() & mask);
    const std::uint64_t b = in_base + (rng() & mask);
    const auto e = ve::detail::to_entry(k, a, walk_at(a));
    CHECK(e.input == in_base);
    CHECK(e.tag == ve::detail::tlb_context(k));
    // Through a real IOTLB, which normalises what it stores.
    tlb.insert(e);
    const vsmmu::tlb::entry* got = tlb.lookup(ve::detail::tlb_context(k), b);
    REQUIRE(got != nullptr);
    REQUIRE(same(ve::detail::from_entry(k, *got, b), walk_at(b)));
    tlb.invalidate_all();
  }
}
