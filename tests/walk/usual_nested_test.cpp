// The usual nested configuration's route (walk::detail::nested_usual: stage 1 through stage 2
// and the output's stage 2 in one, taken by translate() for 48-bit, little-endian, HTTU-free
// tables) against the general walk (detail::translate<..., false>, which never takes it): the
// whole result, for random CD and STE flags, random leaf and table descriptor attributes and
// random accesses; the route's own answer field by field where it answers; and that it answers
// the usual cases (a route that always declined would pass the first check alone). Over memory
// translate() only reads: where it writes HTTU updates back the route is not taken.
// walk_cache_test.cpp varies the granules, endianness and stage 2 flags with corrupted tables.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <random>
#include <utility>

#include <vsmmu/walk/detail/usual_nested.hpp>

#include "fixture.hpp"

using namespace fx;

namespace {

using mem_type = memory<0x400000>;

// Stage 2 (4KB, 48-bit IPA) in [1MB, 2MB) maps the structures' IPAs [0, 1MB) onto themselves and
// the data IPAs 0x7f'0000'0000 + [0, 2MB) onto PA 2MB + offset, with pages or one 2MB block;
// stage 1 (granule s1g, 48-bit VA) with its tables and the CD in [0x40000, 0x80000) maps VA
// 0x7fff'0000'0000 + [0, 2MB) onto those IPAs with pages or (4KB) one 2MB block.
struct usual_world {
  mem_type mem;
  vw::smmu_state st = state();
  vt::table_builder<mem_type> s2b{mem, 0x100000, 0x100000};
  vt::table_builder<mem_type> s1b{mem, 0x40000, 0x40000};
  vt::tt_format s1fmt;
  vt::tt_format s2fmt = vt::s2_format(12, 48, 0);
  std::uint64_t s1root = 0;
  std::uint64_t s2root = 0;
  std::uint64_t cd_at = 0;
  int s1_leaf = 3;
  int s2_leaf = 3;

  usual_world(unsigned s1g, bool s1_block, bool s2_block) : s1fmt(vt::s1_format(s1g, 48)) {
    st.features.httu = vw::httu::access_and_dirty;  // HA/HD legal in the CD and the STE
    s1_leaf = s1_block ? 2 : 3;
    s2_leaf = s2_block ? 2 : 3;
    s2root = s2b.new_root(s2fmt);
    for (std::uint64_t ipa = 0; ipa < 0x100000; ipa += 0x1000) s2b.map(s2fmt, s2root, ipa, ipa, 3);
    if (s2_block) {
      s2b.map(s2fmt, s2root, 0x7f'0000'0000, 0x200000, 2);
    } else {
      for (std::uint64_t off = 0; off < 0x200000; off += 0x1000)
        s2b.map(s2fmt, s2root, 0x7f'0000'0000 + off, 0x200000 + off, 3);
    }
    cd_at = s1b.alloc(64, 64);
    s1root = s1b.new_root(s1fmt);
    const std::uint64_t step = std::uint64_t{1} << vw::vmsa::level_lsb(s1g, s1_leaf);
    for (std::uint64_t off = 0; off < 0x200000; off += step)
      s1b.map(s1fmt, s1root, 0x7fff'0000'0000 + off, 0x7f'0000'0000 + off, s1_leaf);
  }

  void install(const C::value& cd, const S::value& ste) {
    s1b.install_cd(cd_at, vsmmu::smmuv3::s1_fmt::linear, 0, 0, cd);
    s2b.install_ste(st.strtab, 1, ste);
  }
  [[nodiscard]] C::value usual_cd() const {
    return s1_cd(s1root, 48,
                 s1fmt.granule_shift == 12   ? granule::size_4k
                 : s1fmt.granule_shift == 14 ? granule::size_16k
                                             : granule::size_64k);
  }
  [[nodiscard]] S::value usual_ste() const {
    S::value ste = with_s2(s1_ste(cd_at), s2root, 48, 2);
    ste.set<S::Config>(ste_config::nested);
    return ste;
  }

  // The general walk's result.
  [[nodiscard]] vw::result reference(const vw::transaction& t) const {
    vw::uncached p;
    return vw::detail::translate<const mem_type, vw::uncached, false>(mem, st, t, p);
  }

  // nested_usual alone on this world's configuration (an empty walk cache): whether it answers,
  // with its translation in `x`.
  [[nodiscard]] bool route(const vw::transaction& t, vw::translation& x) const {
    const vw::stream_lookup ste = vw::uncached{}.stream(mem, st, t.sid);
    if (ste.status != vw::ste_fetch_status::ok || ste.illegal) return false;
    const vw::stream_config& cfg = ste.config;
    if (cfg.mode != vw::stream_mode::nested) return false;
    const vw::s2_plan s2p(cfg.s2);
    vw::vmsa::walk_cache wc;
    auto cd_pa = [&](std::uint64_t a) {
      vw::or_fault<std::uint64_t> o;
      vw::s2_leaf l;
      o.failed = !vw::detail::s2_lookup<true>(
          mem, s2p, a, vw::s2_access{false, false, vsmmu::smmuv3::evt::fault_class::cd}, l,
          o.fault);
      o.value = l.pa;
      return o;
    };
    const vw::context_lookup cd = vw::uncached{}.context(mem, st, cfg, t.sid, 0, cd_pa);
    if (cd.status != vw::cd_locate_status::ok || cd.illegal) return false;
    const vw::event_attrs a = vw::detail::effective_attrs(t, &cfg);
    const vw::s1_request req{t.address, !a.rnw, a.ind, a.pnu, true};
    return vw::detail::nested_usual(mem, cd.config, nullptr, s2p, cfg.s2.walk.granule_shift, wc,
                                    req, x);
  }
};

// The route's translation against the general walk's, every field it writes.
void check_route_fields(const vw::translation& x, const vw::translation& ref) {
  CHECK(x.output_address == ref.output_address);
  CHECK(x.ipa == ref.ipa);
  CHECK(x.size_shift == ref.size_shift);
  CHECK(x.asid == ref.asid);
  CHECK(x.global == ref.global);
  CHECK(x.s1_attr_index == ref.s1_attr_index);
  CHECK(x.s1_mem_attr == ref.s1_mem_attr);
  CHECK(x.s1_sh == ref.s1_sh);
  CHECK(x.s1_level == ref.s1_level);
  CHECK(x.s1_size_shift == ref.s1_size_shift);
  CHECK(x.s2_mem_attr == ref.s2_mem_attr);
  CHECK(x.s2_sh == ref.s2_sh);
  CHECK(x.s2_level == ref.s2_level);
  CHECK(x.s2_size_shift == ref.s2_size_shift);
  CHECK(x.s1_perm_set == ref.s1_perm_set);
  CHECK(x.s2_perm_set == ref.s2_perm_set);
  CHECK(x.s1_dbm_clean == ref.s1_dbm_clean);
  CHECK(x.s2_dbm_clean == ref.s2_dbm_clean);
  CHECK(x.s1_granule_shift == ref.s1_granule_shift);
  CHECK(x.s2_granule_shift == ref.s2_granule_shift);
}

// Flips a random bit of `bits` (a mask of candidate bit positions) in the descriptor at `at`.
void flip_one(mem_type& mem, std::mt19937_64& rng, std::uint64_t at, std::uint64_t bits) {
  if (at == 0 || bits == 0) return;
  unsigned b = 0;
  do {
    b = static_cast<unsigned>(rng() % 64);
  } while (((bits >> b) & 1) == 0);
  (void)mem.write64(at, mem.read64(at).value ^ (std::uint64_t{1} << b));
}

}  // namespace

TEST_CASE("usual nested route: answers the usual walks as the general walk does",
          "[walk][usual_nested]") {
  for (const unsigned s1g : {12U, 14U, 16U}) {
    for (const bool s1_block : {false, true}) {
      if (s1_block && s1g != 12) continue;
      for (const bool s2_block : {false, true}) {
        auto w = std::make_unique<usual_world>(s1g, s1_block, s2_block);
        w->install(w->usual_cd(), w->usual_ste());
        INFO("s1 granule " << s1g << (s1_block ? " s1 block" : "") << (s2_block ? " s2 block" : ""));
        for (const std::uint64_t off : {0x123ULL, 0x5008ULL, 0x1f'fff8ULL}) {
          for (const auto kind : {vw::access_kind::read, vw::access_kind::write}) {
            const vw::transaction t = with_access(read_at(0x7fff'0000'0000 + off), kind);
            const vw::result ref = w->reference(t);
            REQUIRE(ref.kind == vw::outcome::translated);
            CHECK(ref.output_address() == 0x200000 + off);
            vw::translation x;
            REQUIRE(w->route(t, x));
            check_route_fields(x, ref.xlat);
            CHECK(vw::translate(std::as_const(w->mem), w->st, t) == ref);
          }
        }
      }
    }
  }
}

TEST_CASE("usual nested route: declines what it does not answer, the general walk faults",
          "[walk][usual_nested]") {
  auto w = std::make_unique<usual_world>(12, false, false);
  const vw::transaction t = read_at(0x7fff'0000'0123);
  vw::translation x;
  // A stage 1 leaf without AF, a stage 2 leaf of a stage 1 table not readable, a stage 2 output
  // leaf not writable for a write: each a fault of the general walk, declined by the route.
  w->install(w->usual_cd(), w->usual_ste());
  const std::uint64_t s1_leaf = w->s1b.descriptor_address(w->s1fmt, w->s1root, t.address, 3);
  (void)w->mem.write64(s1_leaf, w->mem.read64(s1_leaf).value & ~vw::vmsa::desc_af);
  CHECK_FALSE(w->route(t, x));
  CHECK(w->reference(t).event.type() == vsmmu::smmuv3::evt::type::f_access);
  CHECK(vw::translate(std::as_const(w->mem), w->st, t) == w->reference(t));
  (void)w->mem.write64(s1_leaf, w->mem.read64(s1_leaf).value | vw::vmsa::desc_af);
  REQUIRE(w->route(t, x));

  const std::uint64_t table_s2 = w->s2b.descriptor_address(w->s2fmt, w->s2root, w->s1root, 3);
  (void)w->mem.write64(table_s2, w->mem.read64(table_s2).value & ~(std::uint64_t{1} << 6));
  CHECK_FALSE(w->route(t, x));
  const vw::result denied = w->reference(t);
  CHECK(denied.event.type() == vsmmu::smmuv3::evt::type::f_permission);
  CHECK(vw::translate(std::as_const(w->mem), w->st, t) == denied);
  (void)w->mem.write64(table_s2, w->mem.read64(table_s2).value | (std::uint64_t{1} << 6));

  const std::uint64_t out_s2 = w->s2b.descriptor_address(w->s2fmt, w->s2root, 0x7f'0000'0000, 3);
  (void)w->mem.write64(out_s2, w->mem.read64(out_s2).value & ~(std::uint64_t{1} << 7));
  const vw::transaction wr = with_access(t, vw::access_kind::write);
  CHECK_FALSE(w->route(wr, x));
  CHECK(vw::translate(std::as_const(w->mem), w->st, wr) == w->reference(wr));
  CHECK(w->route(t, x));  // a read still answered

  // A configuration it leaves to the general walk: HTTU in the CD.
  C::value cd = w->usual_cd();
  w->install(cd.set<C::HA>(true), w->usual_ste());
  CHECK_FALSE(w->route(t, x));
  CHECK(vw::translate(std::as_const(w->mem), w->st, t) == w->reference(t));
}

TEST_CASE("usual nested route: random CD and STE flags, descriptor attributes and accesses",
          "[walk][usual_nested]") {
  std::mt19937_64 rng(20261124);
  unsigned answered = 0;
  unsigned translated = 0;
  for (int round = 0; round < 300; ++round) {
    const unsigned s1g = 12 + 2 * static_cast<unsigned>(round % 3);
    const bool s1_block = s1g == 12 && (round / 3) % 4 == 1;
    const bool s2_block = (round / 3) % 3 == 2;
    auto w = std::make_unique<usual_world>(s1g, s1_block, s2_block);
    C::value cd = w->usual_cd();
    const auto bit = [&rng] { return rng() % 4 == 0; };
    const bool cd_httu = rng() % 4 == 0;
    const bool ste_httu = rng() % 4 == 0;
    cd.set<C::PAN>(bit())
        .set<C::WXN>(bit())
        .set<C::AFFD>(bit())
        .set<C::TBI0>(bit())
        .set<C::E0PD0>(bit())
        .set<C::HA>(cd_httu && rng() % 2 == 0)
        .set<C::HD>(cd_httu)
        .set<C::ASID>(static_cast<std::uint16_t>(rng()))
        .set<C::MAIR0>(static_cast<std::uint32_t>(rng()))
        .set<C::MAIR1>(static_cast<std::uint32_t>(rng()));
    S::value ste = w->usual_ste();
    ste.set<S::S2PTW>(bit())
        .set<S::S2AFFD>(bit())
        .set<S::S2HA>(ste_httu)
        .set<S::S2HD>(ste_httu && rng() % 2 == 0)
        .set<S::INSTCFG>(static_cast<std::uint8_t>(rng() % 4))
        .set<S::PRIVCFG>(static_cast<std::uint8_t>(rng() % 4))
        .set<S::S2VMID>(static_cast<std::uint16_t>(rng()));
    w->install(cd, ste);
    // Attributes of one stage 1 leaf, its table descriptors, and one stage 2 leaf (of the data or
    // of a stage 1 table): AttrIndx, AP, SH, AF, nG, DBM, contiguous, PXN/UXN; APTable,
    // XNTable/PXNTable; MemAttr, S2AP, SH, AF, DBM, XN.
    const std::uint64_t va = 0x7fff'0000'0000 + (rng() % 0x200000);
    const std::uint64_t s1_attrs = 0x0078'0000'0000'0ffcULL;
    const std::uint64_t table_attrs = 0xf800'0000'0000'0000ULL;
    const std::uint64_t s2_attrs = 0x0068'0000'0000'07fcULL;
    for (int k = 0; k < 3; ++k) {
      const auto what = rng() % 4;
      if (what == 0) {
        flip_one(w->mem, rng, w->s1b.descriptor_address(w->s1fmt, w->s1root, va, w->s1_leaf),
                 s1_attrs);
      } else if (what == 1) {
        const int level = w->s1fmt.start_level +
                          static_cast<int>(rng() % static_cast<unsigned>(w->s1_leaf -
                                                                         w->s1fmt.start_level));
        flip_one(w->mem, rng, w->s1b.descriptor_address(w->s1fmt, w->s1root, va, level),
                 table_attrs);
      } else {
        const std::uint64_t ipa =
            what == 2 ? 0x7f'0000'0000 + (va & 0x1f'ffff)
                      : w->s1b.descriptor_address(w->s1fmt, w->s1root, va, w->s1fmt.start_level);
        flip_one(w->mem, rng,
                 w->s2b.descriptor_address(w->s2fmt, w->s2root, ipa,
                                           what == 2 ? w->s2_leaf : 3),
                 s2_attrs);
      }
    }
    INFO("round " << round << " s1 granule " << s1g);
    for (int i = 0; i < 8; ++i) {
      vw::transaction t = read_at(i == 0 ? va : 0x7fff'0000'0000 + (rng() % 0x200000));
      const auto kind = rng() % 3;
      t = with_access(t,
                      kind == 0   ? vw::access_kind::read
                      : kind == 1 ? vw::access_kind::write
                                  : vw::access_kind::exec,
                      rng() % 2 == 0);
      if (rng() % 8 == 0) t.address ^= (rng() % 256) << 56;  // a tag, or a VA out of range
      INFO("address " << std::hex << t.address << std::dec << " kind " << kind << " privileged "
                      << t.privileged);
      const vw::result ref = w->reference(t);
      CHECK(vw::translate(std::as_const(w->mem), w->st, t) == ref);
      const vw::decode_limits limits(w->st.features);
      const vw::uncached fast{&limits};
      CHECK(vw::translate(std::as_const(w->mem), w->st, t, fast) == ref);
      vw::translation x;
      const bool answers = w->route(t, x);
      if (answers) {
        ++answered;
        REQUIRE(ref.kind == vw::outcome::translated);
        check_route_fields(x, ref.xlat);
      }
      // Without HTTU it declines only what the general walk does not translate.
      if (ref.kind == vw::outcome::translated && !cd_httu && !ste_httu) {
        ++translated;
        CHECK(answers);
      }
    }
  }
  INFO("answered " << answered << ", " << translated << " translations without HTTU");
  CHECK(translated > 500);
  CHECK(answered >= translated);
}
