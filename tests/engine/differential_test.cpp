// Issue 4 item 7: random workloads of maps, unmaps, configuration changes, invalidations and
// translations give identical results with the caches on and off, and with per-thread
// micro-TLBs (engine/micro_tlb.hpp) in front of the caches.
//
// The guest is vsmmu/testing/guest_model.hpp (shared with fuzz/engine_fuzzer.cpp), drawing from
// a seeded PRNG: it always issues the invalidations the architecture requires after a change
// (§3.21, §4.3, §4.4), without which a caching engine may legally keep using what it cached, and
// keeps to what software must ensure for a cache to be usable at all (a global mapping is used by
// one ASID only, every table set has its own (VMID, ASID) tag).

#include <catch2/catch.hpp>

#include <vsmmu/testing/guest_model.hpp>

#include <cstdint>
#include <memory>

#include "engine/fixture.hpp"

using namespace ex;
using vsmmu::queue::command_status;

namespace {

using guest = vt::guest_model<vt::seeded_choices>;
using gmemory = guest::memory;
using engine64 = ve::smmu_engine<gmemory, ve::null_notifier, 64>;

struct workload {
  vt::seeded_choices in{20261123};
  guest g{in};  // with SMMU_IDR0.Hyp: STRW = EL2 streams and the EL2 TLBIs exist
  engine64 cached{g.mem(), g.state()};
  engine64 uncached{g.mem(), g.state()};
  // Caching, translating through two micro-TLBs as two device threads would: one entry
  // (replaced at almost every translation) and sixteen.
  engine64 micro{g.mem(), g.state()};
  ve::micro_tlb<1> utlb1;
  ve::micro_tlb<16> utlb16;
  std::uint64_t translations = 0;

  std::uint64_t pick(std::uint64_t n) { return in.pick(n); }
  bool chance(unsigned percent) { return in.chance(percent); }

  workload() {
    cached.set_caching(true);
    uncached.set_caching(false);
    g.populate(2000);  // initial mappings
  }

  // Every command the guest issues must be accepted by all three engines.
  void both(const vsmmu::queue::command& c) {
    REQUIRE(cached.execute(c) == command_status::ok);
    REQUIRE(uncached.execute(c) == command_status::ok);
    REQUIRE(micro.execute(c) == command_status::ok);
  }
  [[nodiscard]] auto issue() {
    return [this](const vsmmu::queue::command& c, bool) { both(c); };
  }

  void set_state_everywhere() {
    cached.set_state(g.state());
    uncached.set_state(g.state());
    micro.set_state(g.state());
  }

  [[nodiscard]] vw::result walk(const vw::transaction& t) const {
    ve::walk_only p;
    return vw::translate(g.mem(), g.state(), t, p);
  }

  // Commands that change nothing the workload relies on; register state changes.
  void noise() {
    switch (pick(7)) {
      case 5:
        set_state_everywhere();  // the same state again
        break;
      case 6: {
        // The SMMU disabled for a while (GBPA bypass or abort), translating meanwhile.
        g.state().smmuen = false;
        g.state().gbpa_abort = chance(50);
        set_state_everywhere();
        for (int i = static_cast<int>(pick(6)); i > 0; --i) translate_and_compare();
        g.state().smmuen = true;
        g.state().gbpa_abort = false;
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

  void translate_and_compare() { translate_and_compare(g.random_transaction()); }
  void translate_and_compare(const vw::transaction& t) {
    const vw::result on = cached.translate(t);
    const vw::result off = uncached.translate(t);
    const vw::result mic = chance(20) ? micro.translate(t, utlb1) : micro.translate(t, utlb16);
    const vw::result ref = walk(t);
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
      vw::transaction t = g.random_transaction();
      translate_and_compare(t);
      // Again, nearby, with another access: the likelier hit.
      for (int i = static_cast<int>(pick(4)); i > 0; --i) {
        t = g.nearby(t);
        translate_and_compare(t);
      }
    } else if (op < 86) {
      g.change_mapping(issue());
    } else if (op < 93) {
      g.change_cd(issue());
    } else if (op < 97) {
      g.change_ste(issue());
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
  ve::smmu_engine<gmemory, ve::null_notifier, 4> tiny(wl->g.mem(), wl->g.state(), {}, o);
  ve::micro_tlb<2> u;  // and, every other translation, a two-entry micro-TLB in front
  for (int i = 0; i < 1500; ++i) {
    const auto t = wl->g.random_transaction();
    REQUIRE(same_result(i % 2 == 0 ? tiny.translate(t) : tiny.translate(t, u), wl->walk(t)));
    if (i % 7 == 0) {
      wl->g.populate(1);
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
