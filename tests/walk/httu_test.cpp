// Hardware update of the Access flag and dirty state (IHI 0070 §3.13; DDI 0487 D8 "hardware
// management of the access flag and dirty state"): written back through a writable adapter,
// never through a read-only one.

#include <catch2/catch.hpp>

#include <cstdint>
#include <span>

#include "walk/fixture.hpp"

using namespace fx;
using vw::access_kind;
using vw::outcome;

namespace {

constexpr std::uint64_t dbm = std::uint64_t{1} << 51;
constexpr std::uint64_t af = 1U << 10;
constexpr std::uint64_t ap2 = 1U << 7;    // stage 1 read-only
constexpr std::uint64_t s2ap1 = 1U << 7;  // stage 2 writable

vw::transaction at(std::uint64_t a, access_kind k = access_kind::read, bool priv = false) {
  return with_access(read_at(a), k, priv);
}

// A writable adapter over the world's memory that refuses writes to one PA and can make a
// compare-and-exchange see a changed descriptor a number of times.
struct faulty {
  world::mem_type* m;
  std::uint64_t refuse_write = ~std::uint64_t{0};
  int writes = 0;
  vsmmu::memory::read_result read64(std::uint64_t pa) const noexcept { return m->read64(pa); }
  vsmmu::memory::access_status read_bytes(std::uint64_t pa,
                                          std::span<std::byte> out) const noexcept {
    return m->read_bytes(pa, out);
  }
  vsmmu::memory::access_status write64(std::uint64_t pa, std::uint64_t v) noexcept {
    ++writes;
    if (pa == refuse_write) return vsmmu::memory::access_status::external_abort;
    return m->write64(pa, v);
  }
  vsmmu::memory::access_status write_bytes(std::uint64_t pa,
                                           std::span<const std::byte> in) noexcept {
    return m->write_bytes(pa, in);
  }
};

struct with_cas : faulty {
  int exchanges = 0;
  int fail_first = 0;  // this many exchanges find another value
  vsmmu::memory::read_result compare_exchange64(std::uint64_t pa, std::uint64_t expected,
                                                std::uint64_t desired) noexcept {
    ++exchanges;
    const auto cur = m->read64(pa);
    if (!cur.ok()) return cur;
    if (exchanges <= fail_first) return {expected ^ 1, vsmmu::memory::access_status::ok};
    if (cur.value == expected) (void)m->write64(pa, desired);
    return cur;
  }
};
static_assert(vsmmu::memory::guest_memory<faulty>);

// A cache of one leaf.
struct one_leaf {
  vw::uncached inner;
  bool have = false;
  vw::translation x{};
  int hits = 0;
  vw::stream_lookup stream(const world::mem_type& m, const vw::smmu_state& st, std::uint32_t sid) {
    return inner.stream(m, st, sid);
  }
  template <class ToPa>
  vw::context_lookup context(const world::mem_type& m, const vw::smmu_state& st,
                             const vw::stream_config& c, std::uint32_t sid, std::uint32_t i,
                             ToPa&& to_pa) {
    return inner.context(m, st, c, sid, i, to_pa);
  }
  vw::leaf_hit find_leaf(const vw::leaf_key&, std::uint64_t) {
    if (have) ++hits;
    return {have, x};
  }
  void record_leaf(const vw::leaf_key&, std::uint64_t, const vw::translation& t) {
    have = true;
    x = t;
  }
};

}  // namespace

TEST_CASE("HTTU stage 1: Access flag", "[walk][httu]") {
  auto w = make_world();
  w->st.features.httu = vw::httu::access_flag;
  const auto fmt = vt::s1_format(12, 48);
  const auto root = w->stage1(fmt);
  const auto leaf = w->b.map(fmt, root, 0x4000, 0x9000, 3, {.af = false});
  const std::uint64_t before = w->b.read64(leaf);

  SECTION("without HA: F_ACCESS, nothing written") {
    CHECK(vw::translate(w->mem, w->st, at(0x4000)).event.type() == E::type::f_access);
    CHECK(w->b.read64(leaf) == before);
  }
  w->put_cd(s1_cd(root).with<C::HA>(true));
  SECTION("read-only adapter: translated as now, the descriptor is unchanged") {
    const world& ro = *w;
    CHECK(ro.run(at(0x4000)).output_address() == 0x9000);
    CHECK(w->b.read64(leaf) == before);
  }
  SECTION("writable adapter: the access sets AF and nothing else") {
    const auto r = vw::translate(w->mem, w->st, at(0x4123));
    REQUIRE(r.kind == outcome::translated);
    CHECK(r.output_address() == 0x9123);
    CHECK(w->b.read64(leaf) == (before | af));
    // A second access finds AF set: no further write.
    faulty counted{&w->mem};
    CHECK(vw::translate(counted, w->st, at(0x4123)).kind == outcome::translated);
    CHECK(counted.writes == 0);
  }
  SECTION("AFFD: the descriptor is used as if AF were set, and not updated") {
    w->put_cd(s1_cd(root).with<C::HA>(true).with<C::AFFD>(true));
    CHECK(vw::translate(w->mem, w->st, at(0x4000)).kind == outcome::translated);
    CHECK(w->b.read64(leaf) == before);
  }
  SECTION("a faulting access does not set AF (the spec leaves it UNKNOWN)") {
    w->b.write64(leaf, before | ap2);  // read-only
    CHECK(vw::translate(w->mem, w->st, at(0x4000, access_kind::write)).event.type() ==
          E::type::f_permission);
    CHECK(w->b.read64(leaf) == (before | ap2));
  }
  SECTION("a block descriptor at level 2 is updated the same way") {
    const auto block = w->b.map(fmt, root, 0x20'0000, 0x40'0000, 2, {.af = false});
    CHECK(vw::translate(w->mem, w->st, at(0x20'1234)).output_address() == 0x40'1234);
    CHECK((w->b.read64(block) & af) != 0);
  }
  SECTION("an update that cannot be written is an external abort on the walk") {
    faulty f{&w->mem};
    f.refuse_write = leaf;
    const auto r = vw::translate(f, w->st, at(0x4000));
    REQUIRE(r.kind == outcome::fault);
    REQUIRE(r.event.type() == E::type::f_walk_eabt);
    const auto e = r.event.as<E::f_walk_eabt::layout>();
    CHECK(e.get<E::FetchAddr>() == (leaf & E::FetchAddr::value_mask));
    CHECK(e.get<E::CLASS>() == E::fault_class::tt);
    CHECK_FALSE(e.get<E::S2>());
  }
  SECTION("compare-and-exchange: a changed descriptor is walked again, boundedly") {
    with_cas once{{&w->mem}};
    once.fail_first = 1;
    CHECK(vw::translate(once, w->st, at(0x4000)).kind == outcome::translated);
    CHECK(once.exchanges == 2);
    CHECK(once.writes == 0);  // the update is the exchange, not a write
    CHECK((w->b.read64(leaf) & af) != 0);

    w->b.write64(leaf, before);
    with_cas never{{&w->mem}};
    never.fail_first = 1000;
    const auto r = vw::translate(never, w->st, at(0x4000));
    CHECK(r.event.type() == E::type::f_walk_eabt);
    CHECK(never.exchanges == static_cast<int>(vw::detail::max_update_attempts));
    CHECK(w->b.read64(leaf) == before);
  }
}

TEST_CASE("HTTU stage 1: dirty state", "[walk][httu]") {
  auto w = make_world();
  w->st.features.httu = vw::httu::access_and_dirty;
  const auto fmt = vt::s1_format(12, 48);
  const auto root = w->stage1(fmt);
  w->put_cd(s1_cd(root).with<C::HA>(true).with<C::HD>(true));
  // Writable-clean: read-only with DBM, AF clear.
  const auto clean = w->b.map(fmt, root, 0x4000, 0x9000, 3, {.write = false, .af = false});
  w->b.write64(clean, w->b.read64(clean) | dbm);
  const std::uint64_t before = w->b.read64(clean);
  // Read-only for good: no DBM.
  const auto ro = w->b.map(fmt, root, 0x5000, 0xa000, 3, {.write = false});

  SECTION("a read sets AF and leaves the page clean") {
    REQUIRE(vw::translate(w->mem, w->st, at(0x4000)).kind == outcome::translated);
    CHECK(w->b.read64(clean) == (before | af));
  }
  SECTION("a write marks the page dirty (AP[2] cleared) and accessed") {
    const auto r = vw::translate(w->mem, w->st, at(0x4008, access_kind::write));
    REQUIRE(r.kind == outcome::translated);
    CHECK(r.xlat.perm.w);
    CHECK_FALSE(r.xlat.s1_dbm_clean);
    CHECK(w->b.read64(clean) == ((before | af) & ~ap2));
    CHECK((w->b.read64(clean) & dbm) != 0);  // the SMMU never clears DBM
  }
  SECTION("the read-only adapter allows the write but writes nothing") {
    const world& c = *w;
    const auto r = c.run(at(0x4008, access_kind::write));
    CHECK(r.kind == outcome::translated);
    CHECK(r.xlat.s1_dbm_clean);
    CHECK(w->b.read64(clean) == before);
  }
  SECTION("without DBM a write is a Permission fault and nothing changes") {
    const std::uint64_t v = w->b.read64(ro);
    CHECK(vw::translate(w->mem, w->st, at(0x5000, access_kind::write)).event.type() ==
          E::type::f_permission);
    CHECK(w->b.read64(ro) == v);
  }
  SECTION("HA without HD: DBM does not make the page writable") {
    w->put_cd(s1_cd(root).with<C::HA>(true));
    CHECK(vw::translate(w->mem, w->st, at(0x4000, access_kind::write)).event.type() ==
          E::type::f_permission);
    CHECK(w->b.read64(clean) == before);
  }
  SECTION("APTable read-only is not overridden by DBM") {
    // Rebuild 0x4000 under a table descriptor with APTable[1] (no writes below it).
    const auto l2 = w->b.descriptor_address(fmt, root, 0x4000, 2);
    w->b.write64(l2, w->b.read64(l2) | (std::uint64_t{2} << 61));
    CHECK(vw::translate(w->mem, w->st, at(0x4000, access_kind::write)).event.type() ==
          E::type::f_permission);
    CHECK(w->b.read64(clean) == before);
  }
  SECTION("big-endian tables are updated in their byte order") {
    const auto be = vt::s1_format(12, 48);
    // Every table descriptor must be big-endian too: find the path first, then rewrite it.
    std::uint64_t path[3] = {};
    for (int level = 0; level < 3; ++level)
      path[level] = w->b.descriptor_address(be, root, 0x4000, level);
    for (const std::uint64_t d : path) {
      REQUIRE(d != 0);
      w->b.write64(d, vsmmu::walk::vmsa::byteswap64(w->b.read64(d)));
    }
    w->b.write64(clean, vsmmu::walk::vmsa::byteswap64(before));
    w->put_cd(s1_cd(root).with<C::HA>(true).with<C::HD>(true).with<C::ENDI>(true));
    REQUIRE(vw::translate(w->mem, w->st, at(0x4000, access_kind::write)).output_address() ==
            0x9000);
    CHECK(vsmmu::walk::vmsa::byteswap64(w->b.read64(clean)) == ((before | af) & ~ap2));
  }
}

TEST_CASE("HTTU stage 2 and nested", "[walk][httu]") {
  auto w = make_world();
  w->st.features.httu = vw::httu::access_and_dirty;
  const auto s2fmt = vt::s2_format(12, 40, 1);
  const auto s2root = w->b.new_root(s2fmt);

  SECTION("stage 2 only: AF, then dirty with S2HD") {
    const auto leaf =
        w->b.map(s2fmt, s2root, 0x8000'0000, 0x1'0000'0000, 3, {.write = false, .af = false});
    w->b.write64(leaf, w->b.read64(leaf) | dbm);
    const std::uint64_t before = w->b.read64(leaf);
    S::value ste;
    ste.set<S::V>(true).set<S::Config>(ste_config::s2_trans);
    w->put_ste(with_s2(ste, s2root, 40, 1).with<S::S2HA>(true).with<S::S2HD>(true));
    REQUIRE(vw::translate(w->mem, w->st, at(0x8000'0010)).output_address() == 0x1'0000'0010);
    CHECK(w->b.read64(leaf) == (before | af));
    REQUIRE(vw::translate(w->mem, w->st, at(0x8000'0010, access_kind::write)).kind ==
            outcome::translated);
    CHECK(w->b.read64(leaf) == (before | af | s2ap1));
    // S2HA only: no dirty state, so a write to the (now writable) page needs no update; a new
    // clean page stays unwritable.
    const auto other = w->b.map(s2fmt, s2root, 0x8000'1000, 0x1'0000'1000, 3, {.write = false});
    w->b.write64(other, w->b.read64(other) | dbm);
    w->put_ste(with_s2(ste, s2root, 40, 1).with<S::S2HA>(true));
    const auto r = vw::translate(w->mem, w->st, at(0x8000'1000, access_kind::write));
    CHECK(r.event.type() == E::type::f_permission);
    CHECK(r.event.as<E::f_permission::layout>().get<E::S2>());
  }

  // Nested: stage 2 maps the pool and the CD page page by page; stage 1 has one page.
  std::uint64_t cd_page_s2 = 0;
  for (std::uint64_t pa = 0; pa < 0x30000; pa += 0x1000) {
    const auto d = w->b.map(s2fmt, s2root, pa, pa, 3);
    if (pa == 0) cd_page_s2 = d;
  }
  w->b.map(s2fmt, s2root, 0x80'0000, 0x1'0000'0000, 2);
  const auto fmt = vt::s1_format(12, 48);
  const auto root = w->stage1(fmt);
  const auto s1leaf = w->b.map(fmt, root, 0x1000'0000, 0x80'1000, 3, {.af = false});
  S::value nested = with_s2(s1_ste(), s2root, 40, 1);
  nested.set<S::Config>(ste_config::nested).set<S::S2HA>(true).set<S::S2HD>(true);
  w->put_ste(nested);
  w->put_cd(s1_cd(root).with<C::HA>(true).with<C::HD>(true));
  // The stage 2 descriptor that maps the page holding the stage 1 leaf.
  const auto s2_of_leaf = w->b.descriptor_address(s2fmt, s2root, s1leaf, 3);

  SECTION("the stage 1 update is a stage 2 write: dirties a DBM stage 2 page") {
    const std::uint64_t v = w->b.read64(s2_of_leaf);
    w->b.write64(s2_of_leaf, (v & ~s2ap1) | dbm);
    REQUIRE(vw::translate(w->mem, w->st, at(0x1000'0010)).output_address() == 0x1'0000'1010);
    CHECK((w->b.read64(s1leaf) & af) != 0);
    CHECK((w->b.read64(s2_of_leaf) & s2ap1) != 0);
  }
  SECTION("a stage 2 mapping without write: stage 2 F_PERMISSION, CLASS TT, TTRnW 0") {
    w->b.write64(s2_of_leaf, w->b.read64(s2_of_leaf) & ~s2ap1);
    const auto r = vw::translate(w->mem, w->st, at(0x1000'0010));
    REQUIRE(r.event.type() == E::type::f_permission);
    const auto e = r.event.as<E::f_permission::layout>();
    CHECK(e.get<E::S2>());
    CHECK(e.get<E::CLASS>() == E::fault_class::tt);
    CHECK_FALSE(e.get<E::f_permission::TTRnW>());
    CHECK(e.get<E::IPA>() == (s1leaf & E::IPA::value_mask));
    CHECK((w->b.read64(s1leaf) & af) == 0);
    // Read only, the same configuration translates (nothing to write).
    const world& ro = *w;
    CHECK(ro.run(at(0x1000'0010)).kind == outcome::translated);
  }
  SECTION("the stage 2 translation of the CD fetch sets AF but never dirties") {
    const std::uint64_t v = w->b.read64(cd_page_s2);
    w->b.write64(cd_page_s2, ((v & ~af) & ~s2ap1) | dbm);
    REQUIRE(vw::translate(w->mem, w->st, at(0x1000'0010)).kind == outcome::translated);
    CHECK(w->b.read64(cd_page_s2) == ((((v & ~af) & ~s2ap1) | dbm) | af));
  }
}

TEST_CASE("HTTU with a leaf cache: a write to a clean cached leaf walks and dirties",
          "[walk][httu][policy]") {
  auto w = make_world();
  w->st.features.httu = vw::httu::access_and_dirty;
  const auto fmt = vt::s1_format(12, 48);
  const auto root = w->stage1(fmt);
  w->put_cd(s1_cd(root).with<C::HA>(true).with<C::HD>(true));
  const auto clean = w->b.map(fmt, root, 0x4000, 0x9000, 3, {.write = false});
  w->b.write64(clean, w->b.read64(clean) | dbm);

  one_leaf p;
  REQUIRE(vw::translate(w->mem, w->st, at(0x4000), p).kind == outcome::translated);
  CHECK(p.x.s1_dbm_clean);
  CHECK(vw::translate(w->mem, w->st, at(0x4000), p).kind == outcome::translated);
  CHECK(p.hits == 1);
  const auto wr = vw::translate(w->mem, w->st, at(0x4000, access_kind::write), p);
  CHECK(wr.kind == outcome::translated);
  CHECK((w->b.read64(clean) & ap2) == 0);
  CHECK_FALSE(p.x.s1_dbm_clean);  // recorded again after the walk
}

// In constant evaluation: the flat adapter is writable there too.
static_assert([] {
  memory<> mem;
  vt::table_builder b(mem, pool, 0x10000);
  const auto fmt = vt::s1_format(12, 48);
  const std::uint64_t root = b.new_root(fmt);
  const auto leaf = b.map(fmt, root, 0x4000, 0x9000, 3, {.af = false});
  b.install_ste(state().strtab, 1, s1_ste());
  b.install_cd(cd_ptr, vsmmu::smmuv3::s1_fmt::linear, 0, 0, s1_cd(root).with<C::HA>(true));
  vw::smmu_state st = state();
  st.features.httu = vw::httu::access_flag;
  const auto r = vw::translate(mem, st, read_at(0x4000));
  return r.kind == vw::outcome::translated && (b.read64(leaf) & af) != 0;
}());
