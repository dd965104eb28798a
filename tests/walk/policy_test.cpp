// The policy seam of translate(): configuration and leaf translations come from a policy, so
// that an engine can put a configuration cache and an IOTLB behind the one translation sequence.

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "walk/fixture.hpp"

using namespace fx;
using vw::access_kind;
using vw::outcome;

namespace {

// Counts the calls translate() makes and otherwise behaves as `uncached`.
struct counting {
  vw::uncached inner;
  int streams = 0, contexts = 0, finds = 0, records = 0;
  std::uint32_t last_sid = 0, last_cd_index = 0;
  vw::leaf_key last_key{};

  template <class M>
  constexpr vw::stream_lookup stream(const M& m, const vw::smmu_state& st, std::uint32_t sid) {
    ++streams;
    last_sid = sid;
    return inner.stream(m, st, sid);
  }
  template <class M, class ToPa>
  constexpr vw::context_lookup context(const M& m, const vw::smmu_state& st,
                                       const vw::stream_config& ste, std::uint32_t sid,
                                       std::uint32_t cd_index, ToPa&& to_pa) {
    ++contexts;
    last_cd_index = cd_index;
    return inner.context(m, st, ste, sid, cd_index, to_pa);
  }
  constexpr vw::leaf_hit find_leaf(const vw::leaf_key& k, std::uint64_t) {
    ++finds;
    last_key = k;
    return {};
  }
  constexpr void record_leaf(const vw::leaf_key&, std::uint64_t, const vw::translation&) {
    ++records;
  }
};
static_assert(vw::translation_policy<counting, memory<>>);
static_assert(vw::translation_policy<vw::uncached, memory<>>);
static_assert(vw::translation_policy<const vw::uncached, memory<>>);

// A leaf cache of page-aligned blocks keyed by (key, block): enough to exercise hits.
struct leaf_cache {
  vw::uncached inner;
  struct item {
    vw::leaf_key key;
    std::uint64_t block;
    vw::translation x;
  };
  std::vector<item> items;
  int hits = 0;

  template <class M>
  vw::stream_lookup stream(const M& m, const vw::smmu_state& st, std::uint32_t sid) {
    return inner.stream(m, st, sid);
  }
  template <class M, class ToPa>
  vw::context_lookup context(const M& m, const vw::smmu_state& st, const vw::stream_config& ste,
                             std::uint32_t sid, std::uint32_t cd_index, ToPa&& to_pa) {
    return inner.context(m, st, ste, sid, cd_index, to_pa);
  }
  static bool same(const vw::leaf_key& a, const vw::leaf_key& b) {
    return a.s1 == b.s1 && a.s2 == b.s2 && a.asid == b.asid && a.vmid == b.vmid && a.el2 == b.el2;
  }
  vw::leaf_hit find_leaf(const vw::leaf_key& k, std::uint64_t a) {
    for (const item& i : items) {
      if (same(i.key, k) && (a >> i.x.size_shift) == i.block) {
        ++hits;
        vw::leaf_hit h{true, i.x};
        const std::uint64_t mask = (std::uint64_t{1} << i.x.size_shift) - 1;
        h.xlat.output_address = (i.x.output_address & ~mask) | (a & mask);
        h.xlat.ipa = (i.x.ipa & ~mask) | (a & mask);
        return h;
      }
    }
    return {};
  }
  void record_leaf(const vw::leaf_key& k, std::uint64_t a, const vw::translation& x) {
    items.push_back({k, a >> x.size_shift, x});
  }
};

vw::transaction at(std::uint64_t a, access_kind k = access_kind::read, bool priv = false) {
  return with_access(read_at(a), k, priv);
}

// Stage 1 4KB: a read-only user page at 0x1000'0000 -> 0x3'0000'0000 under SSID 3 of a linear CD
// table (S1CDMax 2).
constexpr vw::result counted_s1(int& streams, int& contexts, int& finds, int& records,
                                std::uint32_t& cd_index) {
  memory<> mem;
  vt::table_builder b(mem, pool, 0x10000);
  const auto fmt = vt::s1_format(12, 48);
  const std::uint64_t root = b.new_root(fmt);
  b.map(fmt, root, 0x1000'0000, 0x3'0000'0000, 3, {.write = false});
  S::value ste = s1_ste();
  ste.set<S::S1CDMax>(2);
  b.install_ste(state().strtab, 1, ste);
  b.install_cd(cd_ptr, vsmmu::smmuv3::s1_fmt::linear, 2, 3, s1_cd(root));
  counting p;
  vw::transaction t = read_at(0x1000'0123);
  t.ssv = true;
  t.ssid = 3;
  const auto r = vw::translate(mem, state(), t, p);
  streams = p.streams;
  contexts = p.contexts;
  finds = p.finds;
  records = p.records;
  cd_index = p.last_cd_index;
  return r;
}

constexpr bool counted_in_constant_evaluation() {
  int s = 0, c = 0, f = 0, rec = 0;
  std::uint32_t idx = 0;
  const auto r = counted_s1(s, c, f, rec, idx);
  return r.kind == outcome::translated && r.output_address() == 0x3'0000'0123 && s == 1 && c == 1 &&
         f == 1 && rec == 1 && idx == 3;
}
static_assert(counted_in_constant_evaluation());

}  // namespace

TEST_CASE("policy: a counting policy sees every call", "[walk][policy]") {
  int s = 0, c = 0, f = 0, rec = 0;
  std::uint32_t idx = 0;
  const auto r = counted_s1(s, c, f, rec, idx);
  REQUIRE(r.kind == outcome::translated);
  CHECK(s == 1);
  CHECK(c == 1);
  CHECK(f == 1);
  CHECK(rec == 1);
  CHECK(idx == 3);

  auto w = make_world();
  const auto fmt = vt::s1_format(12, 48);
  const auto root = w->stage1(fmt);
  w->b.map(fmt, root, 0x4000, 0x9000, 3);

  SECTION("a fault is not recorded as a leaf") {
    counting p;
    const auto miss = vw::translate(w->mem, w->st, at(0x5000), p);
    CHECK(miss.event.type() == E::type::f_translation);
    CHECK(p.finds == 1);
    CHECK(p.records == 0);
  }
  SECTION("the key carries stages, ASID, VMID and StreamID") {
    counting p;
    REQUIRE(vw::translate(w->mem, w->st, at(0x4010), p).output_address() == 0x9010);
    CHECK(p.last_key.s1);
    CHECK_FALSE(p.last_key.s2);
    CHECK(p.last_key.asid == 0x42);
    CHECK(p.last_key.sid == 1);
    CHECK(p.last_sid == 1);
  }
  SECTION("configuration errors stop before the leaf lookup") {
    counting p;
    w->st.strtab.log2size = 0;  // SID 1 out of range: C_BAD_STREAMID
    CHECK(vw::translate(w->mem, w->st, at(0x4010), p).event.type() == E::type::c_bad_streamid);
    CHECK(p.streams == 1);
    CHECK(p.contexts == 0);
    CHECK(p.finds == 0);
  }
  SECTION("stage 1 bypass through S1DSS looks up a stage 2 leaf without a CD") {
    const auto s2fmt = vt::s2_format(12, 40, 1);
    const auto s2root = w->b.new_root(s2fmt);
    w->b.map(s2fmt, s2root, 0x4000, 0x7000, 3);
    S::value ste = with_s2(s1_ste(), s2root, 40, 1);
    ste.set<S::Config>(ste_config::nested)
        .set<S::S1CDMax>(1)
        .set<S::S1DSS>(vsmmu::smmuv3::s1_dss::bypass);
    w->put_ste(ste);
    counting p;
    CHECK(vw::translate(w->mem, w->st, at(0x4010), p).output_address() == 0x7010);
    CHECK(p.contexts == 0);
    CHECK(p.finds == 1);
    CHECK_FALSE(p.last_key.s1);
    CHECK(p.last_key.s2);
    CHECK(p.last_key.vmid == 7);
  }
}

TEST_CASE("policy: cached leaves give the walk's answer or fall back to it", "[walk][policy]") {
  auto w = make_world();
  const auto fmt = vt::s1_format(12, 48);
  const auto root = w->stage1(fmt);
  // Privileged-only read-only page; a user read-write page; a user read-only page.
  w->b.map(fmt, root, 0x4000, 0x9000, 3, {.write = false, .user = false});
  w->b.map(fmt, root, 0x20'0000, 0x40'0000, 2, {.write = true, .user = true});
  w->b.map(fmt, root, 0x6000, 0xb000, 3, {.write = false, .user = true});
  leaf_cache p;

  const auto first = vw::translate(w->mem, w->st, at(0x20'1234, access_kind::write), p);
  REQUIRE(first.kind == outcome::translated);
  REQUIRE(p.items.size() == 1);
  CHECK(p.items[0].x.s1_perm_set ==
        (vw::perm_set::r_priv | vw::perm_set::w_priv | vw::perm_set::r_unpriv |
         vw::perm_set::w_unpriv | vw::perm_set::x_unpriv));  // user-writable: no PX
  CHECK(p.items[0].x.s2_perm_set == vw::perm_set::all);
  CHECK(p.items[0].x.s1_granule_shift == 12);
  const auto again = vw::translate(w->mem, w->st, at(0x2f'fff8, access_kind::read), p);
  CHECK(p.hits == 1);
  CHECK(again.kind == outcome::translated);
  CHECK(again.output_address() == 0x4f'fff8);
  CHECK(again.xlat.perm == vw::permissions{true, true, true});
  CHECK(again.xlat.size_shift == 21);
  CHECK(p.items.size() == 1);  // a hit is not recorded again

  SECTION("a hit without the permission walks and faults exactly") {
    // Privileged instruction fetch: user-writable memory is never privileged-executable.
    const auto px = vw::translate(w->mem, w->st, at(0x20'0000, access_kind::exec, true), p);
    CHECK(px.kind == outcome::fault);
    CHECK(px.event.type() == E::type::f_permission);
    CHECK(px.event == w->run(at(0x20'0000, access_kind::exec, true)).event);
  }
  SECTION("privilege selects the half of the cached permissions") {
    const auto priv = vw::translate(w->mem, w->st, at(0x4008, access_kind::read, true), p);
    REQUIRE(priv.kind == outcome::translated);
    CHECK(p.items.size() == 2);
    const auto user = vw::translate(w->mem, w->st, at(0x4008, access_kind::read, false), p);
    CHECK(user.kind == outcome::fault);
    CHECK(user.event.type() == E::type::f_permission);
    const auto priv_write = vw::translate(w->mem, w->st, at(0x4008, access_kind::write, true), p);
    CHECK(priv_write.event.type() == E::type::f_permission);
  }
  SECTION("read-only: a cached read does not let a write through") {
    REQUIRE(vw::translate(w->mem, w->st, at(0x6000), p).kind == outcome::translated);
    const auto wr = vw::translate(w->mem, w->st, at(0x6000, access_kind::write), p);
    CHECK(wr.kind == outcome::fault);
    CHECK(wr.event.type() == E::type::f_permission);
  }
  SECTION("every hit equals the uncached result") {
    for (std::uint64_t a : {0x4000ULL, 0x4ff8ULL, 0x20'0000ULL, 0x2f'0000ULL, 0x6100ULL}) {
      for (auto k : {access_kind::read, access_kind::write, access_kind::exec}) {
        for (bool priv : {false, true}) {
          const auto walked = w->run(at(a, k, priv));
          const auto got = vw::translate(w->mem, w->st, at(a, k, priv), p);
          INFO(a << " " << static_cast<int>(k) << " " << priv);
          CHECK(got.kind == walked.kind);
          CHECK(got.event == walked.event);
          CHECK(got.output_address() == walked.output_address());
          CHECK(got.xlat.perm == walked.xlat.perm);
          CHECK(got.xlat.size_shift == walked.xlat.size_shift);
        }
      }
    }
    CHECK(p.hits > 0);
  }
}

TEST_CASE("policy: nested leaves carry both stages", "[walk][policy]") {
  auto w = make_world();
  const auto s2fmt = vt::s2_format(12, 40, 1);
  const auto s2root = w->b.new_root(s2fmt);
  // Stage 2 identity for the tables (pool and CD) and a read-only mapping of the data IPA.
  for (std::uint64_t pa = 0; pa < 0x30000; pa += 0x1000) w->b.map(s2fmt, s2root, pa, pa, 3);
  w->b.map(s2fmt, s2root, 0x80'0000, 0x1'0000'0000, 2, {.write = false});
  const auto fmt = vt::s1_format(12, 48);
  const auto root = w->stage1(fmt);
  w->b.map(fmt, root, 0x1000'0000, 0x80'1000, 3);
  S::value ste = with_s2(s1_ste(), s2root, 40, 1);
  ste.set<S::Config>(ste_config::nested);
  w->put_ste(ste);

  leaf_cache p;
  const auto rd = vw::translate(w->mem, w->st, at(0x1000'0010), p);
  REQUIRE(rd.kind == outcome::translated);
  CHECK(rd.output_address() == 0x1'0000'1010);
  REQUIRE(p.items.size() == 1);
  CHECK(p.items[0].key.s1);
  CHECK(p.items[0].key.s2);
  CHECK(p.items[0].x.s2_perm_set == (vw::perm_set::r_priv | vw::perm_set::x_priv |
                                     vw::perm_set::r_unpriv | vw::perm_set::x_unpriv));
  CHECK(p.items[0].x.s2_granule_shift == 12);
  // Stage 1 allows the write, stage 2 does not: the hit falls back and the walk reports S2.
  const auto wr = vw::translate(w->mem, w->st, at(0x1000'0010, access_kind::write), p);
  CHECK(wr.event.type() == E::type::f_permission);
  CHECK(wr.event.as<E::f_permission::layout>().get<E::S2>());
  CHECK(vw::translate(w->mem, w->st, at(0x1000'0020), p).output_address() == 0x1'0000'1020);
  CHECK(p.hits == 2);
}
