// Issue 4 item 7: random workloads of maps, unmaps, configuration changes, invalidations and
// translations give identical results with the caches on and off, and with per-thread
// micro-TLBs (engine/micro_tlb.hpp) in front of the caches.
//
// The workload always issues the invalidations the architecture requires after a change (§3.21,
// §4.3, §4.4): without them a caching engine may legally keep using what it cached, and differ.
// It also keeps to what software must ensure for a cache to be usable at all: a global mapping
// is used by one ASID only (global entries match every ASID of the VMID), and every table set
// has its own (VMID, ASID) tag.

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <random>

#include "engine/fixture.hpp"

using namespace ex;
using vsmmu::queue::command_status;
using vsmmu::smmuv3::s1_dss;

namespace {

// Stage 1 VA windows: 32 4KB pages (level 3) and 4 2MB blocks (level 2). Stage 2 input windows
// (stage 2-only IPAs, and nested stage 1 outputs) likewise.
constexpr std::uint64_t page_va = 0x1000'0000;
constexpr std::uint64_t block_va = 0x4000'0000;
constexpr std::uint64_t nested_page_ipa = 0x8000'0000;
constexpr std::uint64_t nested_block_ipa = 0xc000'0000;
constexpr unsigned pages = 32;
constexpr unsigned blocks = 4;

// One CD slot: two table sets it can point at, its ASID, whether it is valid.
struct cd_slot {
  std::uint32_t sid = 0;
  std::uint32_t index = 0;
  std::array<std::uint64_t, 2> roots{};
  unsigned active = 0;
  bool valid = true;
  std::uint16_t asid = 0;
};

struct stream {
  std::uint32_t sid = 0;
  std::uint16_t vmid = 0;
  unsigned s1cdmax = 0;
  bool globals = false;  // the only stream of its VMID with one CD: may map global pages
  bool nested = false;
  bool el2 = false;  // STRW = EL2: no ASID, no VMID, every entry global
};

// SMMU_IDR0.Hyp, so that STRW = EL2 streams and the EL2 TLBIs exist.
vw::smmu_state hyp_state() {
  vw::smmu_state st = state();
  st.features.hyp = true;
  return st;
}

struct workload {
  world w{.st = hyp_state()};
  std::mt19937_64 rng{20261123};
  ve::smmu_engine<memory, ve::null_notifier, 64> cached{*w.mem, w.st};
  ve::smmu_engine<memory, ve::null_notifier, 64> uncached{*w.mem, w.st};
  // Caching, translating through two micro-TLBs as two device threads would: one entry
  // (replaced at almost every translation) and sixteen.
  ve::smmu_engine<memory, ve::null_notifier, 64> micro{*w.mem, w.st};
  ve::micro_tlb<1> utlb1;
  ve::micro_tlb<16> utlb16;
  std::vector<stream> streams;
  std::vector<cd_slot> cds;
  std::uint64_t s2_only_root = 0;    // SID 3, VMID 4
  std::uint64_t nested_s2_root = 0;  // SID 4, VMID 5
  s1_dss sid1_dss = s1_dss::substream0;
  unsigned sid6_mode = 0;
  std::uint64_t translations = 0;

  std::uint64_t pick(std::uint64_t n) { return rng() % n; }
  bool chance(unsigned percent) { return pick(100) < percent; }

  workload() {
    cached.set_caching(true);
    uncached.set_caching(false);
    // SID 0: stage 1, one CD, VMID 1, global pages allowed.
    streams.push_back({0, 1, 0, true, false});
    // SID 1: stage 1, 4 CDs, S1DSS changes, VMID 2.
    streams.push_back({1, 2, 2, false, false});
    // SID 2: stage 1, 2 CDs, S1DSS = bypass, VMID 3.
    streams.push_back({2, 3, 1, false, false});
    // SID 4: nested, one CD, VMID 5. SID 6: stage 1, one CD, VMID 6, STE changes. SID 7: the
    // NS-EL2 StreamWorld.
    streams.push_back({4, 5, 0, false, true});
    streams.push_back({6, 6, 0, false, false});
    streams.push_back({7, 0, 0, true, false, true});
    std::uint16_t asid = 1;
    for (const stream& s : streams) {
      for (std::uint32_t i = 0; i < (1U << s.s1cdmax); ++i) {
        cd_slot c;
        c.sid = s.sid;
        c.index = i;
        c.roots = {w.b.new_root(s1_fmt), w.b.new_root(s1_fmt)};
        c.asid = asid++;
        cds.push_back(c);
        write_cd(c);
      }
    }
    write_ste(0);
    write_ste(1);
    write_ste(2);
    write_ste(6);
    write_ste(7);
    // SID 3: stage 2 only.
    s2_only_root = w.b.new_root(s2_fmt);
    w.put_ste(3, with_s2(S::value{}.with<S::V>(true).with<S::Config>(ste_config::s2_trans),
                         s2_only_root, 4));
    // SID 4: nested; structures reached through an identity 1GB block over guest memory.
    nested_s2_root = w.b.new_root(s2_fmt);
    w.b.map(s2_fmt, nested_s2_root, 0, 0, 1);
    w.put_ste(4,
              with_s2(s1_ste(cd_table(4)).with<S::Config>(ste_config::nested), nested_s2_root, 5));
    // SID 5: bypass.
    w.put_ste(5, S::value{}.with<S::V>(true).with<S::Config>(ste_config::bypass));
    // Initial mappings.
    for (int i = 0; i < 2000; ++i) change_mapping(false);
  }

  const stream& stream_of(std::uint32_t sid) const {
    for (const stream& s : streams) {
      if (s.sid == sid) return s;
    }
    return streams.front();
  }

  void write_cd(const cd_slot& c) {
    C::value cd = s1_cd(c.roots[c.active], c.asid);
    cd.set<C::V>(c.valid);
    w.put_cd(c.sid, stream_of(c.sid).s1cdmax, c.index, cd);
  }

  void write_ste(std::uint32_t sid) {
    const stream& s = stream_of(sid);
    if (sid == 1) {
      w.put_ste(1, s1_ste(cd_table(1), s.s1cdmax, sid1_dss, s.vmid));
    } else if (sid == 2) {
      w.put_ste(2, s1_ste(cd_table(2), s.s1cdmax, s1_dss::bypass, s.vmid));
    } else if (sid == 6) {
      S::value ste = s1_ste(cd_table(6), 0, s1_dss::terminate, s.vmid);
      if (sid6_mode == 1) ste.set<S::V>(false);
      if (sid6_mode == 2) ste.set<S::Config>(ste_config::abort);
      if (sid6_mode == 3) ste.set<S::Config>(ste_config::bypass);
      w.put_ste(6, ste);
    } else if (sid == 7) {
      w.put_ste(7, s1_ste(cd_table(7)).with<S::STRW>(vsmmu::smmuv3::strw::el2));
    } else {
      w.put_ste(sid, s1_ste(cd_table(sid), s.s1cdmax, s1_dss::terminate, s.vmid));
    }
  }

  void both(const vsmmu::queue::command& c) {
    REQUIRE(cached.execute(c) == command_status::ok);
    REQUIRE(uncached.execute(c) == command_status::ok);
    REQUIRE(micro.execute(c) == command_status::ok);
  }

  void set_state_everywhere() {
    cached.set_state(w.st);
    uncached.set_state(w.st);
    micro.set_state(w.st);
  }

  vt::leaf_attrs random_attrs(bool stage2, bool global_ok) {
    vt::leaf_attrs a;
    a.read = !stage2 || chance(95);
    a.write = chance(85);
    a.exec = chance(80);
    a.user = chance(85);
    a.af = chance(96);
    a.global = global_ok && chance(50);
    a.attr = static_cast<std::uint8_t>(stage2 ? pick(16) : pick(8));
    a.sh = static_cast<std::uint8_t>(pick(2) == 0 ? 2 : 3);
    return a;
  }

  // The same for the NS-EL2 StreamWorld (SMMU_CR2.E2H == 0: the ASID is not matched).
  void invalidate_el2(std::uint64_t va, int level) {
    switch (pick(4)) {
      case 0:
        both(as_command(ranged<cmd::tlbi_el2_va::layout, cmd::Address>(va + pick(0x1000), {})
                            .with<cmd::ASID>(static_cast<std::uint16_t>(rng()))));
        break;
      case 1: {
        range_fields r;
        r.tg = cmd::tlbi_tg::size_4k;
        r.num = static_cast<std::uint8_t>(pick(4));
        r.ttl = static_cast<std::uint8_t>(level);
        both(as_command(ranged<cmd::tlbi_el2_vaa::layout, cmd::Address>(va, r)));
        break;
      }
      case 2:
        both(as_command(ranged<cmd::tlbi_el2_vaa::layout, cmd::Address>(va + pick(0x1000), {})));
        break;
      default:
        both(as_command(cmd::make<cmd::tlbi_el2_all::layout>()));
        break;
    }
  }

  // The TLBIs a stage 1 change at va needs, one of the sufficient ones at random.
  void invalidate_s1(std::uint16_t vmid, std::uint16_t asid, std::uint64_t va, int level,
                     bool global_possible) {
    switch (pick(6)) {
      case 0: {
        range_fields r;
        r.leaf = chance(50);
        both(nh_va(vmid, asid, va + pick(0x1000), r));
        break;
      }
      case 1: {
        range_fields r;
        r.tg = cmd::tlbi_tg::size_4k;
        r.num = static_cast<std::uint8_t>(pick(4));
        r.scale = static_cast<std::uint8_t>(pick(2));
        r.ttl = static_cast<std::uint8_t>(chance(50) ? level : 0);
        if (r.num == 0 && r.scale == 0 && r.ttl == 0) r.num = 1;
        both(nh_va(vmid, asid, va, r));
        break;
      }
      case 2:
        both(nh_vaa(vmid, va + pick(0x1000)));
        break;
      case 3:
        if (!global_possible) {
          both(nh_asid(vmid, asid));
          break;
        }
        [[fallthrough]];
      case 4:
        both(nh_all(vmid));
        break;
      default:
        both(nsnh_all());
        break;
    }
  }

  // Maps or unmaps one stage 1 or stage 2 leaf, then invalidates as required.
  void change_mapping(bool invalidate = true) {
    const bool unmap = chance(15);
    const bool block = chance(25);
    const unsigned slot = static_cast<unsigned>(block ? pick(blocks) : pick(pages));
    const int level = block ? 2 : 3;
    const std::uint64_t size = block ? 0x20'0000 : 0x1000;
    const unsigned what = static_cast<unsigned>(pick(10));
    if (what < 6) {  // a stage 1 leaf of some CD's table set (active or not)
      const cd_slot& c = cds[pick(cds.size())];
      const stream& s = stream_of(c.sid);
      const std::uint64_t root = c.roots[pick(2)];
      const std::uint64_t va = (block ? block_va : page_va) + slot * size;
      if (unmap) {
        if (const auto at = w.b.descriptor_address(s1_fmt, root, va, level); at != 0) {
          w.b.write64(at, 0);
        }
      } else {
        std::uint64_t out = 0x1'0000'0000ULL + pick(0x1000) * size;
        if (s.nested) out = (block ? nested_block_ipa : nested_page_ipa) + pick(blocks) * size;
        if (s.nested && !block) out = nested_page_ipa + pick(pages) * size;
        w.b.map(s1_fmt, root, va, out, level, random_attrs(false, s.globals));
      }
      if (invalidate && s.el2) {
        invalidate_el2(va, level);
      } else if (invalidate) {
        invalidate_s1(s.vmid, c.asid, va, level, s.globals);
      }
    } else if (what < 8) {  // stage 2-only stream
      const std::uint64_t ipa = (block ? block_va : page_va) + slot * size;
      if (unmap) {
        if (const auto at = w.b.descriptor_address(s2_fmt, s2_only_root, ipa, level); at != 0) {
          w.b.write64(at, 0);
        }
      } else {
        w.b.map(s2_fmt, s2_only_root, ipa, 0x2'0000'0000ULL + pick(0x1000) * size, level,
                random_attrs(true, false));
      }
      if (!invalidate) return;
      switch (pick(4)) {
        case 0:
          both(s2_ipa(4, ipa + pick(0x1000)));
          break;
        case 1: {
          range_fields r;
          r.tg = cmd::tlbi_tg::size_4k;
          r.num = static_cast<std::uint8_t>(1 + pick(3));
          both(s2_ipa(4, ipa, r));
          break;
        }
        case 2:
          both(s12_vmall(4));
          break;
        default:
          both(nsnh_all());
          break;
      }
    } else {  // stage 2 of the nested stream (data IPAs only, never its structures)
      const std::uint64_t ipa = (block ? nested_block_ipa : nested_page_ipa) + slot * size;
      if (unmap) {
        if (const auto at = w.b.descriptor_address(s2_fmt, nested_s2_root, ipa, level); at != 0) {
          w.b.write64(at, 0);
        }
      } else {
        w.b.map(s2_fmt, nested_s2_root, ipa, 0x3'0000'0000ULL + pick(0x1000) * size, level,
                random_attrs(true, false));
      }
      if (!invalidate) return;
      // §4.4.3.1: S2_IPA need not remove combined entries; it goes with NH_ALL (or S12_VMALL).
      switch (pick(3)) {
        case 0:
          both(s2_ipa(5, ipa));
          both(nh_all(5));
          break;
        case 1:
          both(s12_vmall(5));
          break;
        default:
          both(nsnh_all());
          break;
      }
    }
  }

  // A CFGI that covers sid's STE or (when cd_only) the CD at index.
  void invalidate_config(std::uint32_t sid, std::uint32_t index, bool cd_only) {
    switch (pick(cd_only ? 5 : 3)) {
      case 0:
        both(cfgi_ste(sid));
        break;
      case 1:
        both(cfgi_ste_range(sid ^ static_cast<std::uint32_t>(pick(2)),
                            static_cast<std::uint8_t>(pick(4))));
        break;
      case 2:
        both(cfgi_ste_range(0, 31));
        break;
      case 3:
        both(cfgi_cd(sid, index));
        break;
      default:
        both(cfgi_cd_all(sid));
        break;
    }
  }

  void change_cd() {
    cd_slot& c = cds[pick(cds.size())];
    const stream& s = stream_of(c.sid);
    if (chance(20)) {
      c.valid = !c.valid;
    } else {
      c.active ^= 1U;
    }
    write_cd(c);
    invalidate_config(c.sid, c.index, true);
    // The old tables' translations are tagged with the same ASID: they go too.
    if (s.el2) {
      both(as_command(cmd::make<cmd::tlbi_el2_all::layout>()));
    } else if (s.globals || chance(30)) {
      both(nh_all(s.vmid));
    } else {
      both(nh_asid(s.vmid, c.asid));
    }
  }

  void change_ste() {
    if (chance(50)) {
      constexpr s1_dss modes[] = {s1_dss::substream0, s1_dss::bypass, s1_dss::terminate};
      sid1_dss = modes[pick(3)];
      write_ste(1);
      invalidate_config(1, 0, false);
    } else {
      sid6_mode = static_cast<unsigned>(pick(4));
      write_ste(6);
      invalidate_config(6, 0, false);
    }
  }

  // Commands that change nothing the workload relies on; register state changes.
  void noise() {
    switch (pick(7)) {
      case 5:
        set_state_everywhere();  // the same state again
        break;
      case 6: {
        // The SMMU disabled for a while (GBPA bypass or abort), translating meanwhile.
        w.st.smmuen = false;
        w.st.gbpa_abort = chance(50);
        set_state_everywhere();
        for (int i = static_cast<int>(pick(6)); i > 0; --i) translate_and_compare();
        w.st.smmuen = true;
        w.st.gbpa_abort = false;
        set_state_everywhere();
        break;
      }
      case 0:
        both(as_command(cmd::make<cmd::prefetch_config::layout>().with<cmd::StreamID>(1)));
        break;
      case 1:
        both(atc_inv(1, 0x1000, static_cast<std::uint8_t>(pick(53))));
        break;
      case 2:
        both(cfgi_ste(40 + static_cast<std::uint32_t>(pick(10))));
        break;
      case 3:
        both(nh_asid(2, 500));
        break;
      default:
        both(cfgi_cd(0, 3));
        break;
    }
  }

  vw::transaction random_transaction() {
    constexpr std::uint32_t sids[] = {0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 9, 100};
    vw::transaction t;
    t.sid = sids[pick(std::size(sids))];
    if (chance(40)) {
      t.ssv = true;
      t.ssid = static_cast<std::uint32_t>(pick(6));
    }
    const unsigned where = static_cast<unsigned>(pick(10));
    if (where < 5) {
      t.address = page_va + pick(pages) * 0x1000 + pick(0x1000);
    } else if (where < 9) {
      t.address = block_va + pick(blocks) * 0x20'0000 + pick(0x20'0000);
    } else {
      t.address = rng() >> pick(64);
    }
    t.access = static_cast<vw::access_kind>(pick(3));
    t.privileged = chance(50);
    return t;
  }

  void translate_and_compare() { translate_and_compare(random_transaction()); }
  void translate_and_compare(const vw::transaction& t) {
    const vw::result on = cached.translate(t);
    const vw::result off = uncached.translate(t);
    const vw::result mic = chance(20) ? micro.translate(t, utlb1) : micro.translate(t, utlb16);
    const vw::result ref = w.walk(t);
    ++translations;
    INFO("sid " << t.sid << " ssv " << t.ssv << " ssid " << t.ssid << " address 0x" << std::hex
                << t.address << std::dec << " access " << int(t.access) << " priv "
                << t.privileged);
    REQUIRE(same_result(off, ref));
    REQUIRE(same_result(on, ref));
    REQUIRE(same_result(mic, ref));
  }

  void step() {
    const unsigned op = static_cast<unsigned>(pick(100));
    if (op < 62) {
      vw::transaction t = random_transaction();
      translate_and_compare(t);
      // Again, nearby, with another access: the likelier hit.
      for (int i = static_cast<int>(pick(4)); i > 0; --i) {
        t.address ^= pick(0x1000);
        t.access = static_cast<vw::access_kind>(pick(3));
        t.privileged = chance(50);
        translate_and_compare(t);
      }
    } else if (op < 86) {
      change_mapping();
    } else if (op < 93) {
      change_cd();
    } else if (op < 97) {
      change_ste();
    } else {
      noise();
    }
  }
};

}  // namespace

TEST_CASE("engine differential: caches on and off agree on a random workload", "[engine][diff]") {
  auto wl = std::make_unique<workload>();
  for (int i = 0; i < 6000; ++i) wl->step();
  const auto s = wl->cached.stats();
  // The workload really exercised the caches.
  CHECK(wl->translations > 5000);
  CHECK(s.leaf_hits > 300);
  CHECK(s.stream_hits > 4000);
  CHECK(s.context_hits > 800);
  CHECK(wl->uncached.stats().leaf_hits == 0);
  // ...and the micro-TLBs answered a good share.
  CHECK(wl->utlb16.hits() > 300);
  CHECK(wl->utlb1.hits() > 20);
  INFO("micro-TLB hits " << wl->utlb16.hits() << " + " << wl->utlb1.hits());
  CHECK(wl->utlb16.hits() + wl->utlb1.hits() <= wl->translations);
}

TEST_CASE("engine differential: a tiny cache (constant replacement) agrees too", "[engine][diff]") {
  auto wl = std::make_unique<workload>();
  // Few entries: eviction on nearly every fill.
  ve::engine_options o;
  o.config = {2, 2};
  ve::smmu_engine<memory, ve::null_notifier, 4> tiny(*wl->w.mem, wl->w.st, {}, o);
  ve::micro_tlb<2> u;  // and, every other translation, a two-entry micro-TLB in front
  for (int i = 0; i < 1500; ++i) {
    const auto t = wl->random_transaction();
    REQUIRE(same_result(i % 2 == 0 ? tiny.translate(t) : tiny.translate(t, u), wl->w.walk(t)));
    if (i % 7 == 0) {
      wl->change_mapping(false);
      REQUIRE(tiny.execute(nsnh_all()) == command_status::ok);
      REQUIRE(tiny.execute(as_command(cmd::make<cmd::tlbi_el2_all::layout>())) ==
              command_status::ok);
      REQUIRE(tiny.execute(cfgi_ste_range(0, 31)) == command_status::ok);
    }
  }
  const auto s = tiny.stats();
  CHECK(s.leaves_cached <= 4);
  CHECK(s.streams_cached <= 2);
  CHECK(s.contexts_cached <= 2);
}
