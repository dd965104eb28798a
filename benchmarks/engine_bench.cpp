// The engine's hot paths (issue 4): an end-to-end translate() that hits the configuration cache
// and the IOTLB, for stage 1, stage 2 and nested streams, against the same translation with
// caching off; and STE + CD lookup: fetched from guest memory and decoded, against the
// configuration cache; and the same hits answered by a per-thread micro-TLB (no mutex); and a
// translation that misses the configuration cache (STE and CD fetched and decoded) but hits the
// IOTLB; and one that misses the IOTLB but hits the configuration cache (a new page: the walk with
// the cached STE, CD and walk plans). Reports only; timings never fail a build.
#include <vsmmu/cache/config_cache.hpp>
#include <vsmmu/engine/smmu_engine.hpp>
#include <vsmmu/memory/flat.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/testing/table_builder.hpp>
#include <vsmmu/walk/translate.hpp>

#include <cstdint>
#include <memory>

#include <benchmark/benchmark.h>

namespace {

namespace vw = vsmmu::walk;
namespace vt = vsmmu::testing;
namespace ve = vsmmu::engine;
namespace S = vsmmu::smmuv3::ste;
namespace C = vsmmu::smmuv3::cd;
using mem_type = vsmmu::memory::flat_memory<0x80000>;

enum class mode { s1, s2, nested };

constexpr std::uint64_t cd_addr = 0x800;
constexpr std::uint64_t va = 0x7f'0000'0000;
// Pages mapped from `va` on (one last-level table's worth), for the IOTLB-miss benchmarks.
constexpr unsigned leaf_pages = 512;

// SID 1 with 4-level tables (4KB granule, 48-bit inputs) mapping `pages` pages from `va` on;
// SID 2 has the same STE (its CD, ASID and VMID too: it shares SID 1's IOTLB entries).
struct setup {
  std::unique_ptr<mem_type> mem = std::make_unique<mem_type>();
  vw::smmu_state st;
  explicit setup(mode m, unsigned pages = 1) {
    vt::table_builder b(*mem, 0x1000, 0x7f000);
    st.strtab = {0, false, 6, 4};
    const auto s1fmt = vt::s1_format(12, 48);
    const auto s2fmt = vt::s2_format(12, 48, 0);
    S::value ste;
    ste.set<S::V>(true).set<S::S1ContextPtr>(cd_addr).set<S::S2VMID>(1);
    if (m != mode::s1) {
      const auto s2root = b.new_root(s2fmt);
      for (std::uint64_t pa = 0; pa < 0x80000; pa += 0x1000) b.map(s2fmt, s2root, pa, pa, 3);
      for (unsigned i = 0; i < pages; ++i) {
        b.map(s2fmt, s2root, va + i * 0x1000ULL, 0x1'0000'0000 + i * 0x1000ULL, 3);
      }
      ste.set<S::S2T0SZ>(16)
          .set<S::S2SL0>(2)
          .set<S::S2TG>(vsmmu::smmuv3::granule::size_4k)
          .set<S::S2PS>(vsmmu::smmuv3::address_size::bits48)
          .set<S::S2AA64>(true)
          .set<S::S2R>(true)
          .set<S::S2TTB>(s2root);
    }
    ste.set<S::Config>(m == mode::s1   ? vsmmu::smmuv3::ste_config::s1_trans
                       : m == mode::s2 ? vsmmu::smmuv3::ste_config::s2_trans
                                       : vsmmu::smmuv3::ste_config::nested);
    if (m != mode::s2) {
      const auto s1root = b.new_root(s1fmt);
      // Non-global, as Linux's io-pgtable maps stage 1 (a global entry costs a second probe).
      vt::leaf_attrs ng;
      ng.global = false;
      for (unsigned i = 0; i < pages; ++i) {
        const std::uint64_t a = va + i * 0x1000ULL;
        b.map(s1fmt, s1root, a, m == mode::s1 ? 0x1'0000'0000 + i * 0x1000ULL : a, 3, ng);
      }
      C::value cd;
      cd.set<C::V>(true)
          .set<C::AA64>(true)
          .set<C::T0SZ>(16)
          .set<C::TG0>(vsmmu::smmuv3::granule::size_4k)
          .set<C::EPD1>(true)
          .set<C::IPS>(vsmmu::smmuv3::address_size::bits48)
          .set<C::A>(true)
          .set<C::R>(true)
          .set<C::ASID>(3)
          .set<C::TTB0>(s1root);
      b.install_cd(cd_addr, vsmmu::smmuv3::s1_fmt::linear, 0, 0, cd);
    }
    b.install_ste(st.strtab, 1, ste);
    b.install_ste(st.strtab, 2, ste);
  }
};

vw::transaction txn(std::uint64_t address, std::uint32_t sid = 1) {
  vw::transaction t;
  t.sid = sid;
  t.address = address;
  return t;
}

// translate() on an IOTLB hit (the first call fills the caches), or with caching off; with
// `micro`, translate(t, micro_tlb&) answered by the micro-TLB (the first call fills it too).
void translate(benchmark::State& state, mode m, bool caching, bool micro = false) {
  setup s(m);
  ve::smmu_engine<mem_type> e(*s.mem, s.st);
  e.set_caching(caching);
  ve::micro_tlb<16> u;
  const vw::transaction t = txn(va + 0x10);
  if ((micro ? e.translate(t, u) : e.translate(t)).kind != vw::outcome::translated) {
    state.SkipWithError("translation failed");
    return;
  }
  if (micro) {
    for (auto _ : state) {
      auto r = e.translate(t, u);
      benchmark::DoNotOptimize(r);
    }
    state.counters["micro_hits"] = static_cast<double>(u.hits());
    return;
  }
  for (auto _ : state) {
    auto r = e.translate(t);
    benchmark::DoNotOptimize(r);
  }
  state.counters["leaf_hits"] = static_cast<double>(e.stats().leaf_hits);
}

// A configuration-cache miss that hits the IOTLB: one-entry configuration pools and SIDs 1 and 2
// in turn, so every translation fetches and decodes the STE (and the CD, with stage 1), fills
// (evicting the other SID's), then finds the shared leaf in the IOTLB. What the decoders cost in
// the engine, with the fetches and the fills around them.
void translate_config_miss(benchmark::State& state, mode m) {
  setup s(m);
  ve::engine_options o;
  o.config = {1, 1};
  ve::smmu_engine<mem_type> e(*s.mem, s.st, {}, o);
  const vw::transaction t[2] = {txn(va + 0x10, 1), txn(va + 0x10, 2)};
  if (e.translate(t[0]).kind != vw::outcome::translated ||
      e.translate(t[1]).kind != vw::outcome::translated) {
    state.SkipWithError("translation failed");
    return;
  }
  unsigned i = 0;
  for (auto _ : state) {
    auto r = e.translate(t[i]);
    i ^= 1U;
    benchmark::DoNotOptimize(r);
  }
  const ve::engine_stats st = e.stats();
  state.counters["stream_misses"] = static_cast<double>(st.stream_misses);
  state.counters["leaf_hits"] = static_cast<double>(st.leaf_hits);
}

// An IOTLB miss whose STE and CD are cached: a 64-entry IOTLB and 512 pages translated in turn,
// so every translation walks (stage 1, stage 2 or both) from configuration-cache hits, then fills
// the IOTLB (evicting). What a new page costs a device whose configuration stays cached.
void translate_leaf_miss(benchmark::State& state, mode m) {
  setup s(m, leaf_pages);
  ve::smmu_engine<mem_type, ve::null_notifier, 64> e(*s.mem, s.st);
  for (unsigned i = 0; i < leaf_pages; ++i) {
    if (e.translate(txn(va + i * 0x1000ULL + 0x10)).kind != vw::outcome::translated) {
      state.SkipWithError("translation failed");
      return;
    }
  }
  const ve::engine_stats before = e.stats();
  unsigned i = 0;
  for (auto _ : state) {
    auto r = e.translate(txn(va + i * 0x1000ULL + 0x10));
    i = i + 1 == leaf_pages ? 0 : i + 1;
    benchmark::DoNotOptimize(r);
  }
  // Per translation: 1 leaf miss, 1 STE hit, 1 CD hit (stage 1), 0 configuration misses.
  const ve::engine_stats st = e.stats();
  const auto n = static_cast<double>(state.iterations());
  state.counters["leaf_misses"] = static_cast<double>(st.leaf_misses - before.leaf_misses) / n;
  state.counters["stream_hits"] = static_cast<double>(st.stream_hits - before.stream_hits) / n;
  state.counters["context_hits"] = static_cast<double>(st.context_hits - before.context_hits) / n;
  state.counters["config_misses"] =
      static_cast<double>(st.stream_misses + st.context_misses - before.stream_misses -
                          before.context_misses) /
      n;
}

// The configuration part of a translation: the STE and the CD, fetched from guest memory and
// decoded (what every translation costs without a configuration cache)...
void ste_cd_from_memory(benchmark::State& state) {
  setup s(mode::s1);
  const vw::uncached u;
  for (auto _ : state) {
    const vw::stream_lookup ste = u.stream(*s.mem, s.st, 1);
    auto cd = u.context(*s.mem, s.st, ste.config, 1, 0, [](std::uint64_t a) {
      return vw::or_fault<std::uint64_t>{a, {}, false};
    });
    benchmark::DoNotOptimize(cd);
  }
}

// ...and the same two structures from the configuration cache.
void ste_cd_cached(benchmark::State& state) {
  setup s(mode::s1);
  const vw::uncached u;
  const vw::stream_lookup ste = u.stream(*s.mem, s.st, 1);
  const auto cd = u.context(*s.mem, s.st, ste.config, 1, 0, [](std::uint64_t a) {
    return vw::or_fault<std::uint64_t>{a, {}, false};
  });
  vsmmu::cache::config_cache c;
  c.insert_stream(1, ste.config);
  (void)c.insert_context(1, 0, cd.config);
  for (auto _ : state) {
    const vw::stream_config* sc = c.find_stream(1);
    const vw::context_config* cc = c.find_context(1, 0);
    benchmark::DoNotOptimize(sc);
    benchmark::DoNotOptimize(cc);
  }
}

// Hits from several threads at once: the cost of the engine's one mutex under contention.
ve::smmu_engine<mem_type>* shared_engine = nullptr;
void translate_hit_threads(benchmark::State& state) {
  static std::unique_ptr<setup> s;
  static std::unique_ptr<ve::smmu_engine<mem_type>> e;
  if (state.thread_index() == 0) {
    s = std::make_unique<setup>(mode::s1);
    e = std::make_unique<ve::smmu_engine<mem_type>>(*s->mem, s->st);
    (void)e->translate(txn(va + 0x10));
    shared_engine = e.get();
  }
  const vw::transaction t = txn(va + 0x10);
  for (auto _ : state) {
    auto r = shared_engine->translate(t);
    benchmark::DoNotOptimize(r);
  }
}

// The same with a micro-TLB per thread: hits share only the engine's epoch (read-only).
void translate_hit_threads_micro_tlb(benchmark::State& state) {
  static std::unique_ptr<setup> s;
  static std::unique_ptr<ve::smmu_engine<mem_type>> e;
  if (state.thread_index() == 0) {
    s = std::make_unique<setup>(mode::s1);
    e = std::make_unique<ve::smmu_engine<mem_type>>(*s->mem, s->st);
    (void)e->translate(txn(va + 0x10));
    shared_engine = e.get();
  }
  ve::micro_tlb<16> u;
  const vw::transaction t = txn(va + 0x10);
  for (auto _ : state) {
    auto r = shared_engine->translate(t, u);
    benchmark::DoNotOptimize(r);
  }
}

}  // namespace

BENCHMARK_CAPTURE(translate, hit_stage1, mode::s1, true);
BENCHMARK_CAPTURE(translate, hit_stage1_micro_tlb, mode::s1, true, true);
BENCHMARK_CAPTURE(translate, hit_nested_micro_tlb, mode::nested, true, true);
BENCHMARK_CAPTURE(translate, hit_stage2, mode::s2, true);
BENCHMARK_CAPTURE(translate, hit_nested, mode::nested, true);
BENCHMARK_CAPTURE(translate, uncached_stage1, mode::s1, false);
BENCHMARK_CAPTURE(translate, uncached_nested, mode::nested, false);
// Named next to the translate/ ones.
BENCHMARK_CAPTURE(translate_config_miss, stage1, mode::s1)->Name("translate/config_miss_stage1");
BENCHMARK_CAPTURE(translate_config_miss, stage2, mode::s2)->Name("translate/config_miss_stage2");
BENCHMARK_CAPTURE(translate_config_miss, nested, mode::nested)
    ->Name("translate/config_miss_nested");
BENCHMARK_CAPTURE(translate_leaf_miss, stage1, mode::s1)->Name("translate/leaf_miss_stage1");
BENCHMARK_CAPTURE(translate_leaf_miss, stage2, mode::s2)->Name("translate/leaf_miss_stage2");
BENCHMARK_CAPTURE(translate_leaf_miss, nested, mode::nested)->Name("translate/leaf_miss_nested");
BENCHMARK(ste_cd_from_memory);
BENCHMARK(ste_cd_cached);
BENCHMARK(translate_hit_threads)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(translate_hit_threads_micro_tlb)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK_MAIN();
