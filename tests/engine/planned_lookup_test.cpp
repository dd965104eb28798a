// The configuration cache keeps each STE and CD with its walk plans (the stage 2 plan, the plan
// of each enabled TTB range), and an IOTLB miss whose configuration is cached walks with them.
// What is checked: such walks equal the uncached walk (both TTB ranges, stage 2 only, nested);
// a plan outlives a change of the structure in memory until the CFGI_* that drops it (a cached
// plan is the one that walks: the old tables are used until then); a change of the features
// rebuilds it.

#include <catch2/catch.hpp>

#include <vsmmu/cache/config_cache.hpp>

#include <cstdint>

#include "engine/fixture.hpp"

using namespace ex;
using vsmmu::queue::command_status;
using vw::outcome;

namespace {

using engine = ve::smmu_engine<memory, recording_notifier, 256>;

vt::leaf_attrs non_global() {
  vt::leaf_attrs a;
  a.global = false;
  return a;
}

// Translations of `pages` new 4KB pages from `va` on: each misses the IOTLB and hits the
// configuration cache (after the first), and equals the walk.
void walk_new_pages(engine& e, const world& w, std::uint32_t sid, std::uint64_t va, unsigned pages,
                    std::uint64_t pa) {
  for (unsigned i = 0; i < pages; ++i) {
    const auto t = txn(sid, va + i * 0x1000ULL + 0x18);
    const auto r = e.translate(t);
    REQUIRE(r.kind == outcome::translated);
    CHECK(r.output_address() == pa + i * 0x1000ULL + 0x18);
    CHECK(same_result(r, w.walk(t)));
  }
}

}  // namespace

TEST_CASE("config cache: cached STEs and CDs carry the plans of their configuration", "[cache]") {
  vsmmu::cache::config_cache c;
  vw::stream_config ste;
  ste.mode = vw::stream_mode::nested;
  ste.s2.walk.table_base = 0x5000;
  ste.s2.walk.granule_shift = 12;
  ste.s2.walk.ia_bits = 40;
  ste.s2.walk.oa_bits = 48;
  ste.s2.walk.start_level = 1;
  ste.s2.walk.stage2 = true;
  REQUIRE(ste.s2_enabled());
  c.insert_stream(1, ste);
  const vw::planned_stream_lookup* s = c.find_stream_lookup(1);
  REQUIRE(s != nullptr);
  CHECK(s->status == vw::ste_fetch_status::ok);
  CHECK_FALSE(s->illegal);
  CHECK(s->stage2_plan.walk.table_base == 0x5000);
  CHECK(s->stage2_plan.walk.start_level == 1);
  CHECK(s->stage2_plan.beyond_ia == vw::s2_plan(ste.s2).beyond_ia);
  CHECK(c.find_stream(1) == &s->config);

  vw::context_config cd;
  cd.tt[1].enabled = true;
  cd.tt[1].walk.table_base = 0x9000;
  cd.tt[1].walk.granule_shift = 16;
  cd.tt[1].walk.ia_bits = 42;
  cd.tt[1].walk.oa_bits = 48;
  cd.tt[1].walk.start_level = 2;
  REQUIRE(c.insert_context(1, 0, cd));
  const vw::planned_context_lookup* l = c.find_context_lookup(1, 0);
  REQUIRE(l != nullptr);
  CHECK(l->tt_plans[1].table_base == 0x9000);
  CHECK(l->tt_plans[1].start_level == 2);
  CHECK(l->tt_plans[1].level_stride == vw::vmsa::walk_plan(cd.tt[1].walk).level_stride);
  CHECK(l->tt_plans[0].table_base == 0);  // a disabled range is not planned
  // The plans go with their entry.
  c.invalidate_ste(1);
  CHECK(c.find_stream_lookup(1) == nullptr);
  CHECK(c.find_context_lookup(1, 0) == nullptr);
}

TEST_CASE("engine: IOTLB misses walk with the cached plans of both TTB ranges", "[engine]") {
  world w;
  const std::uint64_t r0 = w.b.new_root(s1_fmt);
  const std::uint64_t r1 = w.b.new_root(s1_fmt);
  for (unsigned i = 0; i < 8; ++i) {
    w.b.map(s1_fmt, r0, 0x4000'0000 + i * 0x1000ULL, 0x8000'0000 + i * 0x1000ULL, 3, non_global());
    w.b.map(s1_fmt, r1, 0xffff'ffc0'0000'0000 + i * 0x1000ULL, 0x9000'0000 + i * 0x1000ULL, 3,
            non_global());
  }
  // TTB1 enabled as well: a 39-bit upper range (T1SZ 25) at r1.
  w.put_cd(1, 0, 0, s1_cd(r0, 5).with<C::EPD1>(false).with<C::T1SZ>(25).with<C::TTB1>(r1));
  w.put_ste(1, s1_ste(cd_table(1)));
  engine e(*w.mem, w.st);
  walk_new_pages(e, w, 1, 0x4000'0000, 8, 0x8000'0000);
  walk_new_pages(e, w, 1, 0xffff'ffc0'0000'0000, 8, 0x9000'0000);
  const ve::engine_stats s = e.stats();
  CHECK(s.stream_misses == 1);
  CHECK(s.context_misses == 1);
  CHECK(s.stream_hits == 15);
  CHECK(s.context_hits == 15);
  CHECK(s.leaf_misses == 16);
  CHECK(s.leaf_hits == 0);
}

TEST_CASE("engine: a cached CD's plans walk until CMD_CFGI_CD drops them", "[engine]") {
  world w;
  const std::uint64_t old_root = w.b.new_root(s1_fmt);
  const std::uint64_t new_root = w.b.new_root(s1_fmt);
  for (unsigned i = 0; i < 4; ++i) {
    w.b.map(s1_fmt, old_root, 0x4000'0000 + i * 0x1000ULL, 0x8000'0000 + i * 0x1000ULL, 3,
            non_global());
    w.b.map(s1_fmt, new_root, 0x4000'0000 + i * 0x1000ULL, 0xa000'0000 + i * 0x1000ULL, 3,
            non_global());
  }
  w.put_ste(1, s1_ste(cd_table(1)));
  w.put_cd(1, 0, 0, s1_cd(old_root, 5));
  engine e(*w.mem, w.st);
  REQUIRE(e.translate(txn(1, 0x4000'0000)).output_address() == 0x8000'0000);
  // TTB0 moved in memory: a new page still walks the cached plan (the old tables), which the
  // architecture allows until the CD is invalidated.
  w.put_cd(1, 0, 0, s1_cd(new_root, 5));
  CHECK(e.translate(txn(1, 0x4000'1000)).output_address() == 0x8000'1000);
  CHECK(e.execute(cfgi_cd(1, 0)) == command_status::ok);
  CHECK(e.translate(txn(1, 0x4000'2000)).output_address() == 0xa000'2000);
  CHECK(same_result(e.translate(txn(1, 0x4000'3000)), w.walk(txn(1, 0x4000'3000))));
}

TEST_CASE("engine: a cached STE's stage 2 plan walks until CMD_CFGI_STE drops it", "[engine]") {
  world w;
  // SID 3 stage 2 only; SID 4 nested, its CD and tables through an identity 1GB block.
  const std::uint64_t old_s2 = w.b.new_root(s2_fmt);
  const std::uint64_t new_s2 = w.b.new_root(s2_fmt);
  w.b.map(s2_fmt, old_s2, 0, 0, 1);
  w.b.map(s2_fmt, new_s2, 0, 0, 1);
  const std::uint64_t s1 = w.b.new_root(s1_fmt);
  for (unsigned i = 0; i < 4; ++i) {
    w.b.map(s2_fmt, old_s2, 0x4000'0000 + i * 0x1000ULL, 0x5000'0000 + i * 0x1000ULL, 3);
    w.b.map(s2_fmt, new_s2, 0x4000'0000 + i * 0x1000ULL, 0x6000'0000 + i * 0x1000ULL, 3);
    w.b.map(s1_fmt, s1, 0x7000'0000 + i * 0x1000ULL, 0x4000'0000 + i * 0x1000ULL, 3, non_global());
  }
  const auto s2_ste = S::value{}.with<S::V>(true).with<S::Config>(ste_config::s2_trans);
  const auto nested_ste = s1_ste(cd_table(4)).with<S::Config>(ste_config::nested);
  w.put_ste(3, with_s2(s2_ste, old_s2, 7));
  w.put_ste(4, with_s2(nested_ste, old_s2, 8));
  w.put_cd(4, 0, 0, s1_cd(s1, 20));
  engine e(*w.mem, w.st);
  walk_new_pages(e, w, 3, 0x4000'0000, 2, 0x5000'0000);
  walk_new_pages(e, w, 4, 0x7000'0000, 2, 0x5000'0000);
  CHECK(e.stats().stream_misses == 2);
  CHECK(e.stats().context_misses == 1);

  w.put_ste(3, with_s2(s2_ste, new_s2, 7));
  w.put_ste(4, with_s2(nested_ste, new_s2, 8));
  // New pages, cached STEs: the old stage 2 tables.
  CHECK(e.translate(txn(3, 0x4000'2000)).output_address() == 0x5000'2000);
  CHECK(e.translate(txn(4, 0x7000'2000)).output_address() == 0x5000'2000);
  CHECK(e.execute(cfgi_ste(3)) == command_status::ok);
  CHECK(e.execute(cfgi_ste(4)) == command_status::ok);
  CHECK(e.translate(txn(3, 0x4000'3000)).output_address() == 0x6000'3000);
  CHECK(e.translate(txn(4, 0x7000'3000)).output_address() == 0x6000'3000);
  CHECK(same_result(e.translate(txn(4, 0x7000'3008)), w.walk(txn(4, 0x7000'3008))));
}

TEST_CASE("engine: a change of the features rebuilds the plans", "[engine]") {
  world w;
  const std::uint64_t root = w.b.new_root(s1_fmt);
  // Outputs with bit 36 set: within a 48-bit OAS, beyond a 36-bit one (F_ADDR_SIZE).
  for (unsigned i = 0; i < 4; ++i) {
    w.b.map(s1_fmt, root, 0x4000'0000 + i * 0x1000ULL, 0x10'0000'0000 + i * 0x1000ULL, 3,
            non_global());
  }
  w.put_ste(1, s1_ste(cd_table(1)));
  w.put_cd(1, 0, 0, s1_cd(root, 5));
  engine e(*w.mem, w.st);
  walk_new_pages(e, w, 1, 0x4000'0000, 2, 0x10'0000'0000);
  w.st.features.oas = vsmmu::smmuv3::address_size::bits36;
  e.set_state(w.st);
  const auto t = txn(1, 0x4000'2000);
  const auto r = e.translate(t);
  CHECK(r.kind == outcome::fault);
  CHECK(r.event.type() == vsmmu::smmuv3::evt::type::f_addr_size);
  CHECK(same_result(r, w.walk(t)));
  w.st.features.oas = vsmmu::smmuv3::address_size::bits48;
  e.set_state(w.st);
  walk_new_pages(e, w, 1, 0x4000'2000, 2, 0x10'0000'2000);
}
