// The walk cache's leaf-table path (detail::s2_structure_lookup): a stage 2 structure lookup
// whose level 3 table the translation's walk cache already holds reads only the leaf and checks
// it inline. Every outcome of that check (Translation, Address size, Access flag, Permission
// with S2AP[0] or S2PTW, an external abort on the read) must be what the walk without the cache
// gives (detail::translate<..., false>), for the CD and for each stage 1 table level.
#include <catch2/catch.hpp>

#include <vsmmu/testing/counting_memory.hpp>

#include <cstdint>
#include <memory>
#include <span>

#include "fixture.hpp"

using namespace fx;

namespace {

using mem_type = memory<0x80000>;

// Reads fail at one address (an external abort on that descriptor fetch).
struct failing_at {
  const mem_type* m;
  std::uint64_t bad = ~std::uint64_t{0};
  vsmmu::memory::read_result read64(std::uint64_t pa) const noexcept {
    if (pa == bad) return {0, vsmmu::memory::access_status::external_abort};
    return m->read64(pa);
  }
  vsmmu::memory::access_status read_bytes(std::uint64_t pa,
                                          std::span<std::byte> out) const noexcept {
    if (bad >= pa && bad - pa < out.size()) return vsmmu::memory::access_status::external_abort;
    return m->read_bytes(pa, out);
  }
};

// A nested stream with 44-bit IPAs and a 44-bit S2PS (so that a descriptor can hold an output
// beyond it): stage 2 (4KB, levels 0-3) maps [0, 512KB) page by page onto itself and IPA
// 0x7f'0000'0000 onto PA 0x70000; stage 1 (4KB, levels 0-3) maps VA 0x7fff'0000'0000 there. All
// tables and the CD are in the first 512KB, so every stage 2 lookup after the first finds its
// level 3 table in the walk cache.
struct nested44 {
  mem_type mem;
  vw::smmu_state st = state();
  vt::table_builder<mem_type> b{mem, pool, 0x6f000};
  vt::tt_format s2fmt = vt::s2_format(12, 44, 0, 44);
  std::uint64_t s2root = 0;
  std::uint64_t s1root = 0;
  std::uint64_t cd_at = 0;
  S::value ste;

  nested44() {
    s2root = b.new_root(s2fmt);
    for (std::uint64_t pa = 0; pa < 0x80000; pa += 0x1000) b.map(s2fmt, s2root, pa, pa, 3);
    b.map(s2fmt, s2root, 0x7f'0000'0000, 0x70000, 3);
    const auto s1fmt = vt::s1_format(12, 48);
    cd_at = b.alloc(64, 64);
    s1root = b.new_root(s1fmt);
    b.map(s1fmt, s1root, 0x7fff'0000'0000, 0x7f'0000'0000, 3);
    b.install_cd(cd_at, vsmmu::smmuv3::s1_fmt::linear, 0, 0, s1_cd(s1root));
    ste = with_s2(s1_ste(cd_at), s2root, 44, 2, granule::size_4k, address_size::bits44);
    ste.set<S::Config>(ste_config::nested);
    b.install_ste(st.strtab, 1, ste);
  }
  void put_ste(const S::value& s) { b.install_ste(st.strtab, 1, s); }
  // The stage 2 leaf (level 3) descriptor of IPA `ipa`.
  [[nodiscard]] std::uint64_t s2_leaf_at(std::uint64_t ipa) {
    return b.descriptor_address(s2fmt, s2root, ipa, 3);
  }
  // The IPA of the stage 1 table descriptor read at `level` for VA 0x7fff'0000'0000.
  [[nodiscard]] std::uint64_t s1_table_ipa(int level) {
    return b.descriptor_address(vt::s1_format(12, 48), s1root, 0x7fff'0000'0000, level);
  }
};

// The result with the walk cache equals the one without it.
template <class M>
vw::result check(const M& mem, const vw::smmu_state& st, const vw::transaction& t) {
  vw::uncached p1;
  vw::uncached p2;
  const vw::result with = vw::detail::translate(mem, st, t, p1);
  const vw::result without = vw::detail::translate<const M, vw::uncached, false>(mem, st, t, p2);
  CHECK(with == without);
  return with;
}

}  // namespace

TEST_CASE("walk cache leaf path: a walk through it translates", "[walk][walk_cache]") {
  auto n = std::make_unique<nested44>();
  const vw::result r = check(n->mem, n->st, read_at(0x7fff'0000'0123));
  REQUIRE(r.kind == vw::outcome::translated);
  CHECK(r.output_address() == 0x70123);
  // Without the cache each of the four stage 1 table lookups walks stage 2 from level 0 (4
  // reads) and the output from level 0 too; with it, the CD's lookup walks, each table lookup
  // reads its leaf only and the output starts at level 1 (the IPAs share IPA[43:39]).
  const vsmmu::testing::counting_memory<mem_type> c1{&n->mem};
  const vsmmu::testing::counting_memory<mem_type> c2{&n->mem};
  vw::uncached p1;
  vw::uncached p2;
  (void)vw::detail::translate(c1, n->st, read_at(0x7fff'0000'0123), p1);
  (void)vw::detail::translate<const vsmmu::testing::counting_memory<mem_type>, vw::uncached, false>(
      c2, n->st, read_at(0x7fff'0000'0123), p2);
  CHECK(c2.reads - c1.reads == 4 * 3 + 1);
}

TEST_CASE("walk cache leaf path: each fault of the leaf it reads", "[walk][walk_cache]") {
  // The CD and the four stage 1 table descriptors: the CD is the first lookup (it fills the
  // cache), the stage 1 tables take the leaf path.
  enum kind { invalid, reserved, no_af, no_af_affd, unreadable, device_ptw, device, beyond_ps };
  const int targets[] = {-1, 0, 1, 2, 3};  // -1: the CD
  for (const int target : targets) {
    for (int k = invalid; k <= beyond_ps; ++k) {
      auto n = std::make_unique<nested44>();
      const std::uint64_t ipa = target < 0 ? n->cd_at : n->s1_table_ipa(target);
      const std::uint64_t at = n->s2_leaf_at(ipa);
      REQUIRE(at != 0);
      std::uint64_t d = n->mem.read64(at).value;
      S::value ste = n->ste;
      switch (k) {
        case invalid:
          d &= ~std::uint64_t{1};
          break;
        case reserved:
          d &= ~std::uint64_t{2};
          break;
        case no_af:
          d &= ~vw::vmsa::desc_af;
          break;
        case no_af_affd:
          d &= ~vw::vmsa::desc_af;
          ste.set<S::S2AFFD>(true);
          break;
        case unreadable:
          d &= ~(std::uint64_t{1} << 6);
          break;
        case device_ptw:
          d &= ~(std::uint64_t{0xf} << 2);  // MemAttr 0b0000: Device-nGnRnE
          ste.set<S::S2PTW>(true);
          break;
        case device:
          d &= ~(std::uint64_t{0xf} << 2);
          break;
        case beyond_ps:
          d |= std::uint64_t{1} << 45;
          break;
        default:
          break;
      }
      (void)n->mem.write64(at, d);
      n->put_ste(ste);
      INFO("target " << target << " kind " << k);
      const vw::result r = check(n->mem, n->st, read_at(0x7fff'0000'0123));
      const bool passes = k == no_af_affd || k == device;
      CHECK((r.kind == vw::outcome::translated) == passes);
      if (!passes) {
        REQUIRE(r.has_event);
        const auto ev = r.event.as<E::f_translation::layout>();
        CHECK(ev.get<E::S2>());
        CHECK(ev.get<E::CLASS>() == (target < 0 ? E::fault_class::cd : E::fault_class::tt));
        CHECK(r.event.type() == (k == invalid || k == reserved ? E::type::f_translation
                                 : k == no_af                  ? E::type::f_access
                                 : k == beyond_ps              ? E::type::f_addr_size
                                                               : E::type::f_permission));
      }
    }
  }
}

TEST_CASE("walk cache leaf path: an external abort on the leaf read", "[walk][walk_cache]") {
  const int targets[] = {-1, 0, 1, 2, 3};
  for (const int target : targets) {
    auto n = std::make_unique<nested44>();
    const std::uint64_t ipa = target < 0 ? n->cd_at : n->s1_table_ipa(target);
    const failing_at m{&n->mem, n->s2_leaf_at(ipa)};
    INFO("target " << target);
    const vw::result r = check(m, n->st, read_at(0x7fff'0000'0123));
    REQUIRE(r.has_event);
    CHECK(r.event.type() == E::type::f_walk_eabt);
    const auto ev = r.event.as<E::f_walk_eabt::layout>();
    CHECK(ev.get<E::FetchAddr>() == (n->s2_leaf_at(ipa) & E::FetchAddr::value_mask));
    CHECK(ev.get<E::S2>());
  }
}
