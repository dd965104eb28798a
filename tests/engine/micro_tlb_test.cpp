// The per-thread micro-TLB (engine/micro_tlb.hpp) in front of the engine: what it answers, what
// it leaves to the engine, and that every change the engine sees (each invalidation command,
// register state, caching, reset) makes the next translation take the engine's path.

#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/fixture.hpp"

using namespace ex;
using vsmmu::queue::command_status;
using vw::access_kind;
using vw::outcome;

namespace {

using engine = ve::smmu_engine<memory, recording_notifier, 256>;

vt::leaf_attrs attrs(bool write = true, bool user = true) {
  vt::leaf_attrs a;
  a.global = false;
  a.write = write;
  a.user = user;
  return a;
}

// SID 1: stage 1 (ASID 5, VMID 3) with a 4KB page 0x40000000 -> 0x80000000 and a 2MB block
// 0x40200000 -> 0x80200000. SID 2: stage 2 only (VMID 4), IPA 0x40000000 -> 0x90000000.
// SID 5: bypass. SID 7: stage 1 in the NS-EL2 StreamWorld (needs IDR0.Hyp).
struct micro_world : world {
  std::uint64_t root = b.new_root(s1_fmt);
  std::uint64_t s2root = b.new_root(s2_fmt);
  std::uint64_t el2root = b.new_root(s1_fmt);
  micro_world() {
    st.features.hyp = true;
    put_ste(1, s1_ste(cd_table(1), 0, vsmmu::smmuv3::s1_dss::terminate, 3));
    put_cd(1, 0, 0, s1_cd(root, 5));
    b.map(s1_fmt, root, 0x4000'0000, 0x8000'0000, 3, attrs());
    b.map(s1_fmt, root, 0x4020'0000, 0x8020'0000, 2, attrs());
    put_ste(2,
            with_s2(S::value{}.with<S::V>(true).with<S::Config>(ste_config::s2_trans), s2root, 4));
    b.map(s2_fmt, s2root, 0x4000'0000, 0x9000'0000, 3);
    put_ste(5, S::value{}.with<S::V>(true).with<S::Config>(ste_config::bypass));
    put_ste(7, s1_ste(cd_table(7)).with<S::STRW>(vsmmu::smmuv3::strw::el2));
    put_cd(7, 0, 0, s1_cd(el2root, 0));
    b.map(s1_fmt, el2root, 0x4000'0000, 0xa000'0000, 3, attrs());
  }
};

}  // namespace

TEST_CASE("micro-TLB: a second translation of the page is answered without the engine",
          "[engine][micro_tlb]") {
  micro_world w;
  engine e(*w.mem, w.st);
  ve::micro_tlb<16> u;
  const auto t = txn(1, 0x4000'0123);
  const auto first = e.translate(t, u);
  REQUIRE(first.kind == outcome::translated);
  CHECK(same_result(first, w.walk(t)));
  CHECK(u.misses() == 1);
  CHECK(u.hits() == 0);
  const auto before = e.stats();
  // Another offset, another access and privilege: answered here when the leaf allows it, field
  // for field the walk's. (A privileged instruction fetch from a page EL0 can write is a
  // permission fault, VMSAv8's implicit PXN: the engine's path decides it.)
  std::uint64_t allowed = 0;
  for (const auto a : {access_kind::read, access_kind::write, access_kind::exec}) {
    for (const bool priv : {false, true}) {
      const auto t2 = txn(1, 0x4000'0ff8, a, priv);
      const auto ref = w.walk(t2);
      CHECK(same_result(e.translate(t2, u), ref));
      if (ref.kind == outcome::translated) ++allowed;
    }
  }
  CHECK(allowed == 5);
  CHECK(u.hits() == allowed);
  CHECK(u.misses() == 1 + (6 - allowed));
  const auto after = e.stats();
  // The engine saw only the refused access (its leaf found, declined, walked).
  CHECK(after.leaf_hits == before.leaf_hits + (6 - allowed));
  CHECK(after.stream_hits == before.stream_hits + (6 - allowed));
  // Another page, another stream, a SubstreamID: not this entry.
  CHECK(e.translate(txn(1, 0x4000'1000), u).kind == outcome::fault);
  CHECK(e.translate(with_ssid(t, 0), u).kind == outcome::fault);  // S1CDMax 0: C_BAD_SUBSTREAMID
  CHECK(u.hits() == allowed);
  // The plain translate() neither uses nor needs a micro-TLB.
  CHECK(same_result(e.translate(t), first));
}

TEST_CASE("micro-TLB: a block is answered for every page of it", "[engine][micro_tlb]") {
  micro_world w;
  engine e(*w.mem, w.st);
  ve::micro_tlb<4> u;
  const auto t = txn(1, 0x4020'0010);
  REQUIRE(e.translate(t, u).output_address() == 0x8020'0010);
  // Same 4KB page: its slot holds the block.
  CHECK(e.translate(txn(1, 0x4020'0ff0), u).output_address() == 0x8020'0ff0);
  CHECK(u.hits() == 1);
  // Other pages of the block land in other slots, each filled once (from the IOTLB).
  for (std::uint64_t off = 0x1000; off < 0x4000; off += 0x1000) {
    const auto t2 = txn(1, 0x4020'0000 + off + 8, access_kind::write);
    CHECK(same_result(e.translate(t2, u), w.walk(t2)));
    CHECK(same_result(e.translate(t2, u), w.walk(t2)));
  }
  CHECK(u.hits() == 4);
  // An address beyond the block in a slot that holds it is not answered by it.
  const auto out = txn(1, 0x4040'0010);
  CHECK(same_result(e.translate(out, u), w.walk(out)));
  CHECK(u.hits() == 4);
}

TEST_CASE("micro-TLB: a stale translation stays until its invalidation, as in any TLB",
          "[engine][micro_tlb]") {
  micro_world w;
  engine e(*w.mem, w.st);
  ve::micro_tlb<16> u;
  const auto t = txn(1, 0x4000'0040);
  REQUIRE(e.translate(t, u).output_address() == 0x8000'0040);
  // Unmapped without a TLBI: the cached translation may (and here does) stay.
  w.b.write64(w.b.descriptor_address(s1_fmt, w.root, 0x4000'0000, 3), 0);
  CHECK(e.translate(t, u).output_address() == 0x8000'0040);
  CHECK(u.hits() == 1);
  // The TLBI: the next translation takes the engine's path and faults as the walk does.
  REQUIRE(e.execute(nh_va(3, 5, 0x4000'0000)) == command_status::ok);
  const auto r = e.translate(t, u);
  CHECK(r.kind == outcome::fault);
  CHECK(r.event.type() == vsmmu::smmuv3::evt::type::f_translation);
  CHECK(same_result(r, w.walk(t)));
  CHECK(u.misses() == 2);
  // A fault is never kept: asked again, the engine decides again.
  CHECK(e.translate(t, u).kind == outcome::fault);
  CHECK(u.misses() == 3);
  CHECK(u.hits() == 1);
}

TEST_CASE("micro-TLB: every invalidation and state change ends what it answers",
          "[engine][micro_tlb]") {
  // Each case: the state the engine starts in; a change to guest memory the caches do not see
  // yet; the command or call after which they must (or, conservatively, need not). The next
  // translation must be the engine's (a micro-TLB miss) and, when the command suffices, equal
  // the walk of the new memory and state.
  enum class expect { new_result, old_result, either };
  struct change {
    std::string name;
    std::function<void(micro_world&)> setup;
    std::function<void(micro_world&)> write;
    std::function<void(engine&, micro_world&)> apply;
    vw::transaction t;
    expect after = expect::new_result;
  };
  const auto nothing = [](micro_world&) {};
  const auto remap = [](micro_world& w) {
    w.b.map(s1_fmt, w.root, 0x4000'0000, 0x8800'0000, 3, attrs());
  };
  const auto remap_s2 = [](micro_world& w) {
    w.b.map(s2_fmt, w.s2root, 0x4000'0000, 0x9800'0000, 3);
  };
  const auto remap_el2 = [](micro_world& w) {
    w.b.map(s1_fmt, w.el2root, 0x4000'0000, 0xa800'0000, 3, attrs());
  };
  const auto bad_ste = [](micro_world& w) { w.put_ste(1, S::value{}); };
  const auto bad_cd = [](micro_world& w) { w.put_cd(1, 0, 0, C::value{}); };
  const auto command = [](vsmmu::queue::command c) {
    return [c](engine& e, micro_world&) { REQUIRE(e.execute(c) == command_status::ok); };
  };
  const auto state = [](std::function<void(vw::smmu_state&)> f) {
    return [f](engine& e, micro_world& w) {
      f(w.st);
      e.set_state(w.st);
    };
  };
  range_fields r3;
  r3.tg = cmd::tlbi_tg::size_4k;
  r3.num = 3;
  const vw::transaction s1 = txn(1, 0x4000'0010);
  const vw::transaction s2 = txn(2, 0x4000'0010);
  const vw::transaction el2 = txn(7, 0x4000'0010);
  const vw::transaction bypass = txn(5, 0x1234'5678, access_kind::write);
  const std::vector<change> changes = {
      {"CFGI_STE", nothing, bad_ste, command(cfgi_ste(1)), s1},
      {"CFGI_STE_RANGE", nothing, bad_ste, command(cfgi_ste_range(0, 3)), s1},
      {"CFGI_ALL", nothing, bad_ste, command(cfgi_ste_range(0, 31)), s1},
      {"CFGI_CD", nothing, bad_cd, command(cfgi_cd(1, 0)), s1},
      {"CFGI_CD_ALL", nothing, bad_cd, command(cfgi_cd_all(1)), s1},
      {"CFGI_STE of a bypass stream", nothing,
       [](micro_world& w) { w.put_ste(5, S::value{}.with<S::V>(true)); },  // Config abort
       command(cfgi_ste(5)), bypass},
      {"TLBI_NH_ALL", nothing, remap, command(nh_all(3)), s1},
      {"TLBI_NH_ASID", nothing, remap, command(nh_asid(3, 5)), s1},
      {"TLBI_NH_VA", nothing, remap, command(nh_va(3, 5, 0x4000'0000)), s1},
      {"TLBI_NH_VA with a range", nothing, remap, command(nh_va(3, 5, 0x4000'0000, r3)), s1},
      {"TLBI_NH_VAA", nothing, remap, command(nh_vaa(3, 0x4000'0000)), s1},
      {"TLBI_NSNH_ALL", nothing, remap, command(nsnh_all()), s1},
      {"TLBI_S12_VMALL", nothing, remap_s2, command(s12_vmall(4)), s2},
      {"TLBI_S2_IPA", nothing, remap_s2, command(s2_ipa(4, 0x4000'0000)), s2},
      {"TLBI_EL2_ALL", nothing, remap_el2,
       command(as_command(cmd::make<cmd::tlbi_el2_all::layout>())), el2},
      {"TLBI_EL2_VA", nothing, remap_el2,
       command(as_command(ranged<cmd::tlbi_el2_va::layout, cmd::Address>(0x4000'0000, {}))), el2},
      {"TLBI_EL2_VAA", nothing, remap_el2,
       command(as_command(ranged<cmd::tlbi_el2_vaa::layout, cmd::Address>(0x4000'0000, {}))), el2},
      // Commands that match nothing cached still end the micro-TLB's entries (conservative):
      // the engine then answers from its own caches, with the old translation.
      {"TLBI_NH_ASID of another ASID", nothing, remap, command(nh_asid(3, 6)), s1,
       expect::old_result},
      {"TLBI_EL2_ASID", nothing, remap_el2,
       command(as_command(cmd::make<cmd::tlbi_el2_asid::layout>().with<cmd::ASID>(0))), el2,
       expect::either},
      {"CFGI_STE of another stream", nothing, bad_ste, command(cfgi_ste(9)), s1,
       expect::old_result},
      {"invalidate_all (reset, restore)", nothing, remap,
       [](engine& e, micro_world&) { e.invalidate_all(); }, s1},
      {"set_caching(false)", nothing, remap, [](engine& e, micro_world&) { e.set_caching(false); },
       s1},
      {"set_state: SMMUEN off", nothing, nothing,
       state([](vw::smmu_state& st) { st.smmuen = false; }), s1},
      {"set_state: SMMUEN on", [](micro_world& w) { w.st.smmuen = false; }, nothing,
       state([](vw::smmu_state& st) { st.smmuen = true; }), s1},
      {"set_state: GBPA.ABORT", [](micro_world& w) { w.st.smmuen = false; }, nothing,
       state([](vw::smmu_state& st) { st.gbpa_abort = true; }), s1},
      {"set_state: STRTAB_BASE_CFG", nothing, remap,
       state([](vw::smmu_state& st) { st.strtab.log2size = 5; }), s1},
      {"set_state: CR2.RECINVSID", nothing, remap,
       state([](vw::smmu_state& st) { st.recinvsid = false; }), s1, expect::old_result},
      {"set_state: nothing changed", nothing, remap, state([](vw::smmu_state&) {}), s1,
       expect::old_result},
  };
  for (const change& c : changes) {
    SECTION(c.name) {
      micro_world w;
      c.setup(w);
      engine e(*w.mem, w.st);
      ve::micro_tlb<16> u;
      const auto old = e.translate(c.t, u);
      REQUIRE((old.kind == outcome::translated || old.kind == outcome::bypass));
      CHECK(same_result(old, w.walk(c.t)));
      c.write(w);
      // Not yet invalidated: the micro-TLB answers, with the old result.
      CHECK(same_result(e.translate(c.t, u), old));
      REQUIRE(u.hits() == 1);
      c.apply(e, w);
      const auto now = e.translate(c.t, u);
      CHECK(u.misses() == 2);
      CHECK(u.hits() == 1);
      CHECK(same_result(now, e.translate(c.t)));
      if (c.after == expect::new_result) {
        CHECK(same_result(now, w.walk(c.t)));
        CHECK_FALSE(same_result(now, old));
      } else if (c.after == expect::old_result) {
        CHECK(same_result(now, old));
      }
    }
  }
}

TEST_CASE("micro-TLB: commands that invalidate nothing the SMMU caches keep its entries",
          "[engine][micro_tlb]") {
  micro_world w;
  engine e(*w.mem, w.st);
  ve::micro_tlb<16> u;
  const auto t = txn(1, 0x4000'0010);
  REQUIRE(e.translate(t, u).kind == outcome::translated);
  REQUIRE(e.execute(as_command(cmd::make<cmd::prefetch_config::layout>().with<cmd::StreamID>(1))) ==
          command_status::ok);
  REQUIRE(e.execute(as_command(cmd::make<cmd::prefetch_addr::layout>())) == command_status::ok);
  REQUIRE(e.execute(atc_inv(1, 0x4000'0000, 0)) == command_status::ok);  // the endpoint's ATC
  REQUIRE(e.synchronize() == command_status::ok);
  e.set_vmid_wildcard(0);  // matters to invalidations only
  CHECK(e.translate(t, u).output_address() == 0x8000'0010);
  CHECK(u.hits() == 1);
}

TEST_CASE("micro-TLB: a hit checks the access like the IOTLB does", "[engine][micro_tlb]") {
  micro_world w;
  // Read-only, and privileged-only pages.
  w.b.map(s1_fmt, w.root, 0x4000'1000, 0x8000'1000, 3, attrs(false));
  w.b.map(s1_fmt, w.root, 0x4000'2000, 0x8000'2000, 3, attrs(true, false));
  engine e(*w.mem, w.st);
  ve::micro_tlb<16> u;
  const auto rd = txn(1, 0x4000'1008);
  REQUIRE(e.translate(rd, u).kind == outcome::translated);
  // The write is refused by the entry: the engine's path, and its permission fault.
  const auto wr = txn(1, 0x4000'1010, access_kind::write);
  const auto f = e.translate(wr, u);
  CHECK(f.kind == outcome::fault);
  CHECK(f.event.type() == vsmmu::smmuv3::evt::type::f_permission);
  CHECK(same_result(f, w.walk(wr)));
  CHECK(u.hits() == 0);
  // The fault replaced nothing: reads still hit, with the read's permissions.
  const auto again = e.translate(txn(1, 0x4000'1018, access_kind::read, true), u);
  CHECK(u.hits() == 1);
  CHECK(again.xlat.perm == vw::permissions{true, false, true});
  CHECK(same_result(again, w.walk(txn(1, 0x4000'1018, access_kind::read, true))));
  // Privileged-only: filled by a privileged read; an unprivileged one faults.
  REQUIRE(e.translate(txn(1, 0x4000'2000, access_kind::read, true), u).kind == outcome::translated);
  const auto user = txn(1, 0x4000'2000);
  CHECK(same_result(e.translate(user, u), w.walk(user)));
  CHECK(e.translate(user, u).kind == outcome::fault);
  CHECK(u.hits() == 1);
}

TEST_CASE("micro-TLB: STE.PRIVCFG and INSTCFG override the access as on the engine's path",
          "[engine][micro_tlb]") {
  micro_world w;
  w.b.map(s1_fmt, w.root, 0x4000'2000, 0x8000'2000, 3, attrs(true, false));  // privileged only
  const unsigned privcfg = GENERATE(0U, 2U, 3U);
  const unsigned instcfg = GENERATE(0U, 2U, 3U);
  w.put_ste(1, s1_ste(cd_table(1), 0, vsmmu::smmuv3::s1_dss::terminate, 3)
                   .with<S::PRIVCFG>(static_cast<std::uint8_t>(privcfg))
                   .with<S::INSTCFG>(static_cast<std::uint8_t>(instcfg)));
  engine e(*w.mem, w.st);
  ve::micro_tlb<16> u;
  // Fill with each access in turn, then ask every access; all equal the walk.
  for (const auto fill_access : {access_kind::read, access_kind::write, access_kind::exec}) {
    for (const bool fill_priv : {false, true}) {
      REQUIRE(e.execute(nsnh_all()) == command_status::ok);
      (void)e.translate(txn(1, 0x4000'2000, fill_access, fill_priv), u);
      for (const auto a : {access_kind::read, access_kind::write, access_kind::exec}) {
        for (const bool priv : {false, true}) {
          const auto t = txn(1, 0x4000'2040, a, priv);
          INFO("privcfg " << privcfg << " instcfg " << instcfg << " access " << int(a) << " priv "
                          << priv);
          CHECK(same_result(e.translate(t, u), w.walk(t)));
        }
      }
    }
  }
  if (privcfg != 2) CHECK(u.hits() > 0);  // PRIVCFG 0b10: every access unprivileged, all fault
}

TEST_CASE("micro-TLB: bypasses are kept, faults are not", "[engine][micro_tlb]") {
  micro_world w;
  engine e(*w.mem, w.st);
  ve::micro_tlb<16> u;
  // STE bypass: every access of the page.
  const auto t = txn(5, 0x1234'5678);
  const auto first = e.translate(t, u);
  CHECK(first.kind == outcome::bypass);
  for (const auto a : {access_kind::read, access_kind::write, access_kind::exec}) {
    const auto t2 = txn(5, 0x1234'5000, a, true);
    CHECK(same_result(e.translate(t2, u), w.walk(t2)));
  }
  CHECK(u.hits() == 3);
  // A bypass STE with a SubstreamID faults (C_BAD_SUBSTREAMID): another key, never kept.
  const auto ss = with_ssid(t, 1);
  CHECK(same_result(e.translate(ss, u), w.walk(ss)));
  CHECK(same_result(e.translate(ss, u), w.walk(ss)));
  CHECK(u.hits() == 3);
  // SMMU disabled: the global bypass is kept too; beyond the OAS, the silent abort is not.
  w.st.smmuen = false;
  e.set_state(w.st);
  const auto g = txn(1, 0x4000'0010, access_kind::write);
  CHECK(e.translate(g, u).kind == outcome::bypass);
  CHECK(same_result(e.translate(g, u), w.walk(g)));
  CHECK(u.hits() == 4);
  const auto far = txn(1, std::uint64_t{1} << 60);
  CHECK(e.translate(far, u).kind == outcome::abort);
  CHECK(e.translate(far, u).kind == outcome::abort);
  CHECK(u.hits() == 4);
}

TEST_CASE("micro-TLB: nothing is kept with caching off", "[engine][micro_tlb]") {
  micro_world w;
  engine e(*w.mem, w.st);
  e.set_caching(false);
  ve::micro_tlb<16> u;
  const auto t = txn(1, 0x4000'0010);
  CHECK(same_result(e.translate(t, u), w.walk(t)));
  // Without caches a changed mapping is seen at once, micro-TLB or not.
  w.b.map(s1_fmt, w.root, 0x4000'0000, 0x8800'0000, 3, attrs());
  CHECK(e.translate(t, u).output_address() == 0x8800'0010);
  CHECK(u.hits() == 0);
  e.set_caching(true);
  CHECK(e.translate(t, u).output_address() == 0x8800'0010);
  CHECK(e.translate(t, u).output_address() == 0x8800'0010);
  CHECK(u.hits() == 1);
}

TEST_CASE("micro-TLB: HTTU — a write to a clean DBM leaf walks and records the dirty state",
          "[engine][micro_tlb]") {
  constexpr std::uint64_t ap2 = 1U << 7;
  constexpr std::uint64_t dbm = std::uint64_t{1} << 51;
  micro_world w;
  w.st.features.httu = vw::httu::access_and_dirty;
  w.put_cd(1, 0, 0, s1_cd(w.root, 5).with<C::HA>(true).with<C::HD>(true));
  const std::uint64_t leaf = w.b.map(s1_fmt, w.root, 0x4000'1000, 0x8000'1000, 3, attrs());
  w.b.write64(leaf, w.b.read64(leaf) | ap2 | dbm);
  engine e(*w.mem, w.st);
  ve::micro_tlb<16> u;
  const auto rd = e.translate(txn(1, 0x4000'1008), u);
  REQUIRE(rd.kind == outcome::translated);
  CHECK(rd.xlat.s1_dbm_clean);
  CHECK(e.translate(txn(1, 0x4000'1010), u).kind == outcome::translated);
  CHECK(u.hits() == 1);
  CHECK((w.b.read64(leaf) & ap2) != 0);
  // The write is not answered by the clean entry: the walk dirties the descriptor.
  const auto wr = e.translate(txn(1, 0x4000'1018, access_kind::write), u);
  CHECK(u.hits() == 1);
  REQUIRE(wr.kind == outcome::translated);
  CHECK_FALSE(wr.xlat.s1_dbm_clean);
  CHECK((w.b.read64(leaf) & ap2) == 0);
  // Dirty now: the next write is a hit.
  const auto wr2 = e.translate(txn(1, 0x4000'1020, access_kind::write), u);
  CHECK(u.hits() == 2);
  CHECK(same_result(wr2, w.walk(txn(1, 0x4000'1020, access_kind::write))));
}

TEST_CASE("micro-TLB: one used with another engine starts again", "[engine][micro_tlb]") {
  micro_world w1;
  micro_world w2;
  w2.b.map(s1_fmt, w2.root, 0x4000'0000, 0x8800'0000, 3, attrs());
  ve::micro_tlb<16> u;
  const auto t = txn(1, 0x4000'0010);
  {
    engine a(*w1.mem, w1.st);
    CHECK(a.translate(t, u).output_address() == 0x8000'0010);
  }
  // Another engine, possibly at the dead one's address, in the same epoch (0).
  engine b(*w2.mem, w2.st);
  CHECK(b.translate(t, u).output_address() == 0x8800'0010);
  CHECK(u.hits() == 0);
  u.clear();
  CHECK(b.translate(t, u).output_address() == 0x8800'0010);
  CHECK(b.translate(t, u).output_address() == 0x8800'0010);
  CHECK(u.hits() == 1);
}

TEST_CASE("micro-TLB: a SubstreamID wider than 20 bits is no alias of its low bits",
          "[engine][micro_tlb]") {
  micro_world w;
  // SID 3: stage 1 with 4 CDs; CD 1 uses the same tables as SID 1 (ASID 6).
  w.put_ste(3, s1_ste(cd_table(3), 2, vsmmu::smmuv3::s1_dss::substream0, 3));
  w.put_cd(3, 2, 1, s1_cd(w.root, 6));
  engine e(*w.mem, w.st);
  ve::micro_tlb<16> u;
  const auto t = with_ssid(txn(3, 0x4000'0010), 1);
  REQUIRE(e.translate(t, u).kind == outcome::translated);
  for (const std::uint32_t high : {1U << 20, 1U << 31, 0xffff'ffffU}) {
    const auto h = with_ssid(txn(3, 0x4000'0010), 1 | high);
    const auto r = e.translate(h, u);
    CHECK(r.kind == outcome::fault);
    CHECK(same_result(r, w.walk(h)));
  }
  // Without SSV the SubstreamID is ignored: S1DSS == 0b10 selects CD 0, which is invalid here.
  auto no_ssv = txn(3, 0x4000'0010);
  no_ssv.ssid = 1;
  CHECK(same_result(e.translate(no_ssv, u), w.walk(no_ssv)));
  CHECK(u.hits() == 0);
  CHECK(same_result(e.translate(t, u), w.walk(t)));
  CHECK(u.hits() == 1);
}
