// The table builder writes what the architecture says, checked word by word against
// hand-encoded descriptors (DDI 0487 D8.3, IHI 0070 §5.1-§5.4).

#include <catch2/catch.hpp>

#include <vsmmu/memory/flat.hpp>
#include <vsmmu/memory/sparse.hpp>
#include <vsmmu/testing/table_builder.hpp>

#include <cstdint>

namespace vt = vsmmu::testing;
namespace vm = vsmmu::memory;
namespace S = vsmmu::smmuv3::ste;
namespace C = vsmmu::smmuv3::cd;

TEST_CASE("leaf descriptors", "[testing]") {
  const auto s1 = vt::s1_format(12, 48);
  const auto s2 = vt::s2_format(12, 40, 1);
  // Stage 1 page, defaults (RW, exec, EL0, AF, global, Inner Shareable, AttrIndx 0):
  // bits 0,1 valid+page, AP[1] (6), SH 0b11 (9:8), AF (10).
  CHECK(vt::leaf_bits(s1, {}, 3) == 0x743);
  // Read-only, no exec, privileged, not global, AttrIndx 1, block:
  // AttrIndx (4:2) = 1 -> 0x4, AP[2] (7), SH (9:8), AF (10), nG (11), PXN|UXN (54:53).
  CHECK(vt::leaf_bits(s1,
                      {.write = false, .exec = false, .user = false, .global = false, .attr = 1},
                      2) == (0x0060'0000'0000'0000 | 0xf85));
  // Stage 2 page: MemAttr 0xF (5:2), S2AP 0b11 (7:6), SH, AF.
  CHECK(vt::leaf_bits(s2, {}, 3) == 0x7ff);
  // Stage 2 read-only, XN, Device MemAttr 0b0001.
  CHECK(vt::leaf_bits(s2, {.write = false, .exec = false, .attr = 1}, 3) ==
        (0x0040'0000'0000'0000 | 0x747));
  // 52-bit output with the 64KB granule: OA[51:48] in bits [15:12].
  CHECK(vt::encode_oa(vt::s1_format(16, 52, 52), 0xa'0000'0001'0000) == 0x1'a000);
}

TEST_CASE("map writes table descriptors and the leaf where the indices say", "[testing]") {
  vm::flat_memory<0x10000> mem;
  vt::table_builder b(mem, 0x1000, 0xf000);
  const auto fmt = vt::s1_format(12, 39);  // start level 1
  const auto root = b.new_root(fmt);
  CHECK(root == 0x1000);  // 4KB start table (512 entries), aligned
  // VA 0x40'2030'4000: L1 index (VA[38:30]) 0x100, L2 0x101, L3 0x104.
  const auto leaf = b.map(fmt, root, 0x40'2030'4000, 0x8000'0000, 3);
  const auto l1 = b.read64(root + 0x100 * 8);
  CHECK((l1 & 3) == 3);
  const std::uint64_t l2_table = l1 & 0xffff'ffff'f000;
  CHECK(l2_table == 0x2000);
  const auto l2 = b.read64(l2_table + 0x101 * 8);
  const std::uint64_t l3_table = l2 & 0xffff'ffff'f000;
  CHECK(l3_table == 0x3000);
  CHECK(leaf == l3_table + 0x104 * 8);
  CHECK(b.read64(leaf) == (0x8000'0000 | 0x743));
  // A second mapping under the same level 2 table reuses it.
  b.map(fmt, root, 0x40'2030'5000, 0x8000'1000, 3);
  CHECK(b.read64(l3_table + 0x105 * 8) == (0x8000'1000 | 0x743));
  CHECK(b.alloc(0x1000, 0x1000) == 0x4000);
  // The pool is finite: an allocation past its end returns 0.
  CHECK(b.alloc(0x10000, 0x1000) == 0);
}

TEST_CASE("Stream table and CD table installation", "[testing]") {
  vm::sparse_memory mem;  // far-apart structures; the builder maps what it allocates
  mem.map(0x8000'0000, 0x1000);
  vt::table_builder b(mem, 0x1'0000'0000, 0x100'0000);
  S::value ste;
  ste.set<S::V>(true).set<S::Config>(vsmmu::smmuv3::ste_config::bypass);

  SECTION("linear") {
    const auto at = b.install_ste({0x8000'0000, false, 6, 5}, 3, ste);
    CHECK(at == 0x8000'0000 + 3 * 64);
    CHECK(mem.read64(at).value == 0x9);  // V | Config 0b100 << 1
  }
  SECTION("2-level: an L1STD with Span = SPLIT + 1 and a level 2 array") {
    const auto at = b.install_ste({0x8000'0000, true, 8, 16}, 0x345, ste);
    const auto l1 = mem.read64(0x8000'0000 + 3 * 8).value;
    CHECK((l1 & 0x1f) == 9);
    CHECK((l1 & ~std::uint64_t{0x3f}) == 0x1'0000'0000);  // 16KB array, first allocation
    CHECK(at == 0x1'0000'0000 + 0x45 * 64);
    CHECK(mem.read64(at).value == 0x9);
  }
  SECTION("2-level CD table: L1CD.V and L2Ptr") {
    C::value cd;
    cd.set<C::V>(true);
    const auto at = b.install_cd(0x8000'0000, vsmmu::smmuv3::s1_fmt::two_level_4k, 10, 130, cd);
    const auto l1 = mem.read64(0x8000'0000 + 2 * 8).value;  // SSID 130 >> 6 = 2
    CHECK((l1 & 1) == 1);
    CHECK((l1 & ~std::uint64_t{1}) == 0x1'0000'0000);       // 4KB, 64 CDs
    CHECK(at == 0x1'0000'0000 + 2 * 64);                    // 130 & 63
    CHECK(mem.read64(at).value == std::uint64_t{1} << 31);  // CD.V
  }
}
