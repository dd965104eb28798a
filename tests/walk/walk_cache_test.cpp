// The per-translation stage 2 walk cache (vmsa::walk_cache in translate()): a nested translation
// starts each stage 2 lookup at the deepest stage 2 table an earlier lookup of the same
// translation reached for the same upper IPA bits. The results must be those of the walk without
// it (detail::translate<..., false>), for every outcome, with fewer reads; and a kept
// (planned_*_lookup) configuration must give the results of the by-value one.
#include <vsmmu/testing/counting_memory.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <random>
#include <span>

#include "fixture.hpp"

using namespace fx;

namespace {

using mem_type = memory<0x400000>;

// Counts reads, to compare the walks' costs.
using counting = vsmmu::testing::counting_memory<mem_type>;

// A policy that keeps the STE and CD of its first translation, planned, and returns them by
// reference (what a configuration cache does).
struct kept {
  static constexpr bool caches_leaves = false;
  std::unique_ptr<vw::planned_stream_lookup> ste;
  std::unique_ptr<vw::planned_context_lookup> cd;

  template <class M>
  const vw::planned_stream_lookup& stream(const M& mem, const vw::smmu_state& st,
                                          std::uint32_t sid) {
    if (!ste)
      ste = std::make_unique<vw::planned_stream_lookup>(vw::uncached{}.stream(mem, st, sid));
    return *ste;
  }
  template <class M, class StructurePa>
  const vw::planned_context_lookup& context(const M& mem, const vw::smmu_state& st,
                                            const vw::stream_config& s, std::uint32_t sid,
                                            std::uint32_t cd_index, StructurePa&& to_pa) {
    if (!cd) {
      cd = std::make_unique<vw::planned_context_lookup>(
          vw::uncached{}.context(mem, st, s, sid, cd_index, to_pa));
    }
    return *cd;
  }
  vw::leaf_hit find_leaf(const vw::leaf_key&, std::uint64_t) const noexcept { return {}; }
  void record_leaf(const vw::leaf_key&, std::uint64_t, const vw::translation&) const noexcept {}
};
static_assert(vw::translation_policy<kept, mem_type>);

// A nested stream (2MB of memory; stage 2 tables in [1MB, 2MB)): stage 1 tables (4KB, 48-bit
// VA) and the CD at IPAs in [0x40000, 0x80000), mapped by
// stage 2 (granule s2g, 48-bit IPA) with pages, 2MB/32MB/512MB blocks or 1GB blocks (`s2_leaf`
// level) onto the same PAs; stage 1 maps VA 0x7fff'0000'0000 + i * 0x1000 (i < 64) to IPA
// 0x7f'0000'0000 + i * 0x1000, which stage 2 maps to PA 0x80000 + i * 0x1000.
struct nested {
  mem_type mem;
  vw::smmu_state st = state();
  vt::table_builder<mem_type> s2b{mem, 0x100000, 0x100000};     // stage 2: [1MB, 2MB)
  vt::table_builder<mem_type> s1b{mem, 0x40000, 0x40000};       // stage 1 tables and the CD
  vt::table_builder<mem_type> s1b_far{mem, 0x200000, 0x40000};  // stage 1 tables when `mixed`
  vt::tt_format s2fmt;
  std::uint64_t s2root = 0;
  std::uint64_t s1root = 0;
  std::uint64_t cd_at = 0;

  // `mixed`: the stage 1 tables at IPAs [2MB, 4MB), which stage 2 maps with one 2MB block (4KB
  // granule only), the CD in [0, 1MB) with `s2_leaf`: a lookup that stops at the block follows
  // one that reached a deeper table of another 2MB region.
  // `s1g`, `s1_big_endian`: stage 1's granule (the pages map the same 256KB) and CD.ENDI;
  // `s2_flags`: STE fields set on top (bits 0-3: S2HA, S2HD, S2PTW, S2AFFD), which decide
  // whether the nested walk takes its usual-format route (detail::s2_tables::walk) or not.
  nested(unsigned s2g, int s2_leaf, bool big_endian, bool mixed = false, unsigned s1g = 12,
         bool s1_big_endian = false, unsigned s2_flags = 0) {
    const int start = s2g == 16 ? 1 : s2g == 14 ? 1 : 0;  // 48-bit IPA
    s2fmt = vt::s2_format(s2g, 48, start);
    s2root = s2b.new_root(s2fmt);
    const unsigned lsb = vw::vmsa::level_lsb(s2g, s2_leaf);
    const std::uint64_t step = std::uint64_t{1} << lsb;
    // The structures' IPAs: identity over [0, 1MB).
    for (std::uint64_t ipa = 0; ipa < 0x100000; ipa += step)
      s2b.map(s2fmt, s2root, ipa, ipa, s2_leaf);
    // The data: IPA 0x7f'0000'0000 + off -> PA 0x80000 + off (a block maps its whole size).
    for (std::uint64_t off = 0; off < 0x40000; off += step)
      s2b.map(s2fmt, s2root, 0x7f'0000'0000 + off, 0x80000 + off, s2_leaf);
    if (mixed) s2b.map(s2fmt, s2root, 0x200000, 0x200000, 2);
    const auto s1fmt = vt::s1_format(s1g, 48);
    cd_at = s1b.alloc(64, 64);
    auto& tables = mixed ? s1b_far : s1b;
    s1root = tables.new_root(s1fmt);
    const std::uint64_t s1_page = std::uint64_t{1} << s1g;
    for (std::uint64_t off = 0; off < 0x40000; off += s1_page)
      tables.map(s1fmt, s1root, 0x7fff'0000'0000 + off, 0x7f'0000'0000 + off, 3);
    C::value cd = s1_cd(s1root, 48, s1g == 12 ? granule::size_4k
                                    : s1g == 14 ? granule::size_16k
                                                : granule::size_64k);
    cd.set<C::ENDI>(s1_big_endian);
    if (s1_big_endian) {  // the tables follow the CD: every nonzero word from the root on
      const std::uint64_t end = mixed ? 0x240000 : 0x80000;
      for (std::uint64_t pa = s1root; pa < end; pa += 8) {
        const std::uint64_t v = mem.read64(pa).value;
        if (v != 0) (void)mem.write64(pa, vw::vmsa::byteswap64(v));
      }
    }
    s1b.install_cd(cd_at, vsmmu::smmuv3::s1_fmt::linear, 0, 0, cd);
    S::value ste = with_s2(s1_ste(cd_at), s2root, 48, s2g == 12 ? 2 - start : 3 - start, tg(s2g));
    ste.set<S::Config>(ste_config::nested);
    ste.set<S::S2HA>((s2_flags & 1) != 0)
        .set<S::S2HD>((s2_flags & 2) != 0)
        .set<S::S2PTW>((s2_flags & 4) != 0)
        .set<S::S2AFFD>((s2_flags & 8) != 0);
    if (s2_flags != 0) st.features.httu = vw::httu::access_and_dirty;
    if (big_endian) {
      ste.set<S::S2ENDI>(true);
      for (std::uint64_t pa = 0x100000; pa < 0x200000; pa += 8) {
        const std::uint64_t v = mem.read64(pa).value;
        if (v != 0) (void)mem.write64(pa, vw::vmsa::byteswap64(v));
      }
    }
    s2b.install_ste(st.strtab, 1, ste);
  }

  // The result with and without the walk cache; both the same, and a translation with it reads
  // no more. (Anything else may read up to usual_nested_max_reads more: the usual
  // configuration's route, detail::nested_usual, declines such a walk and the general walk reads
  // it again.)
  void check(const vw::transaction& t, unsigned* reads_cached = nullptr,
             unsigned* reads_plain = nullptr) const {
    const counting c1{&mem};
    const counting c2{&mem};
    vw::uncached p1;
    vw::uncached p2;
    const vw::result with = vw::detail::translate(c1, st, t, p1);
    const vw::result without =
        vw::detail::translate<const counting, vw::uncached, false>(c2, st, t, p2);
    INFO("address " << std::hex << t.address);
    CHECK(with == without);
    CHECK(c1.reads <= c2.reads + (with.kind == vw::outcome::translated
                                       ? 0U
                                       : vw::detail::usual_nested_max_reads));
    kept k;
    (void)vw::translate(mem, st, t, k);  // fills k
    CHECK(vw::translate(mem, st, t, k) == without);
    if (reads_cached != nullptr) *reads_cached = c1.reads;
    if (reads_plain != nullptr) *reads_plain = c2.reads;
  }
};

}  // namespace

TEST_CASE("walk cache: nested results unchanged, fewer reads", "[walk][walk_cache]") {
  struct shape {
    unsigned g;
    int leaf;
  };
  // 4KB pages, 2MB and 1GB blocks; 16KB pages and 32MB blocks; 64KB pages and 512MB blocks.
  const shape shapes[] = {{12, 3}, {12, 2}, {12, 1}, {14, 3}, {14, 2}, {16, 3}, {16, 2}};
  for (const shape& sh : shapes) {
    for (const bool be : {false, true}) {
      auto n = std::make_unique<nested>(sh.g, sh.leaf, be);
      INFO("granule " << sh.g << " leaf level " << sh.leaf << (be ? " big-endian" : ""));
      unsigned cached = 0;
      unsigned plain = 0;
      n->check(read_at(0x7fff'0000'0123), &cached, &plain);
      // A block maps the data IPAs from its own size's alignment below PA 0x80000.
      const std::uint64_t block = std::uint64_t{1} << vw::vmsa::level_lsb(sh.g, sh.leaf);
      CHECK(vw::translate(n->mem, n->st, read_at(0x7fff'0000'0123)).output_address() ==
            ((0x80000 & ~(block - 1)) | 0x123));
      CHECK(cached < plain);
      if (sh.g == 12 && sh.leaf == 3) {
        // STE 8 + CD (4 + 8) + 4 stage 1 levels (4 + 1 + 3 * (1 + 1)) + output (3), against
        // 8 + (4 + 8) + 4 * (4 + 1) + 4.
        CHECK(cached == 31);
        CHECK(plain == 44);
      }
      for (std::uint64_t i = 0; i < 64; i += 7) {
        n->check(read_at(0x7fff'0000'0000 + i * 0x1000 + 8));
        n->check(with_access(read_at(0x7fff'0000'0000 + i * 0x1000), vw::access_kind::write));
      }
      n->check(read_at(0x7fff'0004'0000));  // unmapped at stage 1
    }
  }
}

TEST_CASE("walk cache: a lookup that stops at a block leaves no deeper table behind",
          "[walk][walk_cache]") {
  for (const bool be : {false, true}) {
    auto n = std::make_unique<nested>(12, 3, be, true);
    unsigned cached = 0;
    unsigned plain = 0;
    n->check(read_at(0x7fff'0000'0123), &cached, &plain);
    CHECK(vw::translate(n->mem, n->st, read_at(0x7fff'0000'0123)).output_address() == 0x80123);
    CHECK(cached < plain);
    for (std::uint64_t i = 0; i < 64; i += 5) n->check(read_at(0x7fff'0000'0000 + i * 0x1000));
  }
}

TEST_CASE("walk cache: stage 2 faults after a cached prefix keep level, IPA and CLASS",
          "[walk][walk_cache]") {
  // Each stage 2 descriptor on the paths of the CD, the stage 1 tables and the output, broken in
  // turn, with the prefix above it cached by earlier lookups of the same translation.
  std::mt19937_64 rng(20261123);
  for (const unsigned g : {12U, 16U}) {
    for (const bool be : {false, true}) {
      // The same tables either way; paths are followed in the little-endian one.
      const auto base = std::make_unique<nested>(g, 3, false);
      const std::uint64_t ipas[] = {base->cd_at, base->s1root, 0x7f'0000'0000};
      for (const std::uint64_t ipa : ipas) {
        for (int level = base->s2fmt.start_level; level <= 3; ++level) {
          for (int kind = 0; kind < 3; ++kind) {
            auto n = std::make_unique<nested>(g, 3, be);
            const std::uint64_t at =
                base->s2b.descriptor_address(base->s2fmt, base->s2root, ipa, level);
            REQUIRE(at != 0);
            std::uint64_t d = n->mem.read64(at).value;
            if (be) d = vw::vmsa::byteswap64(d);
            // Invalid; bit[1] clear (a reserved page, or a block where there may be one, else
            // a Translation fault); AF clear (an Access flag fault at the leaf).
            d = kind == 0   ? d & ~std::uint64_t{1}
                : kind == 1 ? d & ~std::uint64_t{2}
                            : d & ~vw::vmsa::desc_af;
            if (be) d = vw::vmsa::byteswap64(d);
            (void)n->mem.write64(at, d);
            INFO("granule " << g << " ipa " << std::hex << ipa << std::dec << " level " << level
                            << " kind " << kind << (be ? " big-endian" : ""));
            n->check(read_at(0x7fff'0000'0123));
            n->check(read_at(0x7fff'0000'0000 + (rng() % 64) * 0x1000));
          }
        }
      }
    }
  }
}

TEST_CASE("walk cache: random stage 2 corruption, same results", "[walk][walk_cache]") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    const unsigned g = round % 3 == 0 ? 12 : round % 3 == 1 ? 14 : 16;
    auto n = std::make_unique<nested>(g, round % 2 == 0 ? 3 : 2, (round & 4) != 0);
    for (int k = 0; k < 3; ++k) {  // flip bits in nonzero stage 2 descriptors
      for (int tries = 0; tries < 64; ++tries) {
        const std::uint64_t at = 0x100000 + (rng() % (0x100000 / 8)) * 8;
        const std::uint64_t v = n->mem.read64(at).value;
        if (v == 0) continue;
        (void)n->mem.write64(at, v ^ (std::uint64_t{1} << (rng() % 64)));
        break;
      }
    }
    for (int i = 0; i < 8; ++i) {
      vw::transaction t = read_at(0x7fff'0000'0000 + (rng() % 64) * 0x1000 + (rng() % 0x1000));
      if (rng() % 3 == 0) t.access = vw::access_kind::write;
      n->check(t);
    }
  }
}

TEST_CASE("walk cache: stage 1 granules and endianness, stage 2 flags, random corruption of both",
          "[walk][walk_cache]") {
  // The nested walk's usual-format route (48-bit output and little-endian at both stages, a leaf
  // path stage 2 plan) against the generic walk, over configurations on both sides of each of
  // those conditions, with stage 1 and stage 2 descriptors corrupted at random.
  std::mt19937_64 rng(20261123);
  for (int round = 0; round < 240; ++round) {
    const unsigned s1g = 12 + 2 * static_cast<unsigned>(round % 3);
    const unsigned s2g = (round / 3) % 2 == 0 ? 12 : 16;
    const bool s1_be = (round / 6) % 2 != 0;
    const bool s2_be = (round / 12) % 2 != 0;
    const unsigned flags = round < 24 ? 0U : static_cast<unsigned>(rng() % 16);
    const int s2_leaf = round % 5 == 4 ? 2 : 3;
    auto n = std::make_unique<nested>(s2g, s2_leaf, s2_be, false, s1g, s1_be, flags);
    INFO("round " << round << " s1 granule " << s1g << " s2 granule " << s2g << " flags " << flags
                  << (s1_be ? " s1 big-endian" : "") << (s2_be ? " s2 big-endian" : ""));
    const std::uint64_t va = 0x7fff'0000'0000 + (rng() % 0x40000);
    if (round % 4 != 0) {
      // One bit flipped in a descriptor on the path of `va`: stage 1's, or stage 2's for the CD,
      // a stage 1 table or the output.
      const auto s1fmt = vt::s1_format(s1g, 48);
      const std::uint64_t ipas[] = {n->cd_at, n->s1root, 0x7f'0000'0000 + (va & 0x3ffff)};
      const bool stage1 = rng() % 2 == 0;
      const int start = stage1 ? s1fmt.start_level : n->s2fmt.start_level;
      const int level = start + static_cast<int>(rng() % static_cast<unsigned>(4 - start));
      const std::uint64_t at =
          stage1 ? n->s1b.descriptor_address(s1fmt, n->s1root, va, level)
                 : n->s2b.descriptor_address(n->s2fmt, n->s2root, ipas[rng() % 3], level);
      if (at != 0) {
        const std::uint64_t v = n->mem.read64(at).value;
        (void)n->mem.write64(at, v ^ (std::uint64_t{1} << (rng() % 64)));
      }
    }
    n->check(read_at(va));
    for (int i = 0; i < 6; ++i) {
      vw::transaction t = read_at(0x7fff'0000'0000 + (rng() % 0x40000));
      const auto kind = rng() % 4;
      if (kind == 1) t = with_access(t, vw::access_kind::write, rng() % 2 == 0);
      if (kind == 2) t = with_access(t, vw::access_kind::exec, rng() % 2 == 0);
      if (kind == 3) t.address = rng() & 0x00ff'ffff'ffff'ffff;  // anywhere, mostly unmapped
      n->check(t);
    }
  }
}
