// Translation miss cost: a full walk from StreamID to PA for 4-level stage 1, 4-level stage 2
// and nested (4 x 4 + 4 + CD) configurations, with the memory reads each walk makes; the same
// walks with the STE and CD already decoded (an IOTLB miss that hits the configuration cache:
// only the translation tables are read); and the cost of those reads alone, replayed from the
// addresses one walk read, which is the "memory reads" part of the "reads + <= 60 ns" target.
// Reports only; timings never fail a build.
#include <vsmmu/memory/flat.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/testing/counting_memory.hpp>
#include <vsmmu/testing/table_builder.hpp>
#include <vsmmu/walk/translate.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <benchmark/benchmark.h>

namespace {

namespace vw = vsmmu::walk;
namespace vt = vsmmu::testing;
namespace S = vsmmu::smmuv3::ste;
namespace C = vsmmu::smmuv3::cd;
using mem_type = vsmmu::memory::flat_memory<0x80000>;

// Counts reads, to report memory reads per walk next to the time.
using counting = vsmmu::testing::counting_memory<mem_type>;

// Records the address of every read, to replay them alone; and each access (a descriptor, or
// the dwords of an STE or CD fetched together) with its first read's index, for the chained
// replay.
struct recording {
  const mem_type* m;
  mutable std::vector<std::uint64_t> addrs;
  mutable std::vector<std::size_t> access_starts;
  vsmmu::memory::read_result read64(std::uint64_t pa) const noexcept {
    access_starts.push_back(addrs.size());
    addrs.push_back(pa);
    return m->read64(pa);
  }
  vsmmu::memory::access_status read_bytes(std::uint64_t pa,
                                          std::span<std::byte> out) const noexcept {
    access_starts.push_back(addrs.size());
    for (std::size_t i = 0; i < out.size(); i += 8) addrs.push_back(pa + i);
    return m->read_bytes(pa, out);
  }
  vsmmu::memory::access_status read_dwords(std::uint64_t pa,
                                           std::span<std::uint64_t> out) const noexcept {
    access_starts.push_back(addrs.size());
    for (std::size_t i = 0; i < out.size(); ++i) addrs.push_back(pa + 8 * i);
    return m->read_dwords(pa, out);
  }
};

// A configuration cache that is always warm: the STE and CD lookups of the first walk are
// kept with their walk plans and returned by reference, as a configuration cache can; no leaf is
// cached, so each walk still reads every translation table level.
struct config_cached {
  static constexpr bool caches_leaves = false;
  mutable std::optional<vw::planned_stream_lookup> ste;
  mutable std::optional<vw::planned_context_lookup> cd;

  template <class M>
  const vw::planned_stream_lookup& stream(const M& mem, const vw::smmu_state& st,
                                          std::uint32_t sid) const {
    if (!ste) ste.emplace(vw::uncached{}.stream(mem, st, sid));
    return *ste;
  }
  template <class M, class StructurePa>
  const vw::planned_context_lookup& context(const M& mem, const vw::smmu_state& st,
                                            const vw::stream_config& s, std::uint32_t sid,
                                            std::uint32_t cd_index,
                                            StructurePa&& structure_pa) const {
    if (!cd) cd.emplace(vw::uncached{}.context(mem, st, s, sid, cd_index, structure_pa));
    return *cd;
  }
  vw::leaf_hit find_leaf(const vw::leaf_key&, std::uint64_t) const noexcept { return {}; }
  void record_leaf(const vw::leaf_key&, std::uint64_t, const vw::translation&) const noexcept {}
};

enum class mode { s1, s2, nested };

struct setup {
  std::unique_ptr<mem_type> mem = std::make_unique<mem_type>();
  vw::smmu_state st;
  mode kind;
  explicit setup(mode m) : kind(m) {
    vt::table_builder b(*mem, 0x1000, 0x7f000);
    st.strtab = {0, false, 6, 4};
    const auto s1fmt = vt::s1_format(12, 48);     // levels 0-3
    const auto s2fmt = vt::s2_format(12, 48, 0);  // levels 0-3 (S2SL0 2)
    S::value ste;
    ste.set<S::V>(true).set<S::S1ContextPtr>(0x800);
    if (m != mode::s1) {
      const auto s2root = b.new_root(s2fmt);
      // Stage 2 maps the tables' IPAs page by page (identity) and the data page.
      for (std::uint64_t pa = 0; pa < 0x80000; pa += 0x1000) b.map(s2fmt, s2root, pa, pa, 3);
      b.map(s2fmt, s2root, 0x7f'0000'0000, 0x1'0000'0000, 3);
      ste.set<S::S2T0SZ>(16)
          .set<S::S2SL0>(2)
          .set<S::S2TG>(vsmmu::smmuv3::granule::size_4k)
          .set<S::S2PS>(vsmmu::smmuv3::address_size::bits48)
          .set<S::S2AA64>(true)
          .set<S::S2R>(true)
          .set<S::S2TTB>(s2root);
    }
    if (m == mode::s2) {
      ste.set<S::Config>(vsmmu::smmuv3::ste_config::s2_trans);
    } else {
      const auto s1root = b.new_root(s1fmt);
      b.map(s1fmt, s1root, 0x7fff'0000'0000, m == mode::s1 ? 0x1'0000'0000 : 0x7f'0000'0000, 3);
      C::value cd;
      cd.set<C::V>(true)
          .set<C::AA64>(true)
          .set<C::T0SZ>(16)
          .set<C::EPD1>(true)
          .set<C::IPS>(vsmmu::smmuv3::address_size::bits48)
          .set<C::A>(true)
          .set<C::R>(true)
          .set<C::TTB0>(s1root);
      b.install_cd(0x800, vsmmu::smmuv3::s1_fmt::linear, 0, 0, cd);
      ste.set<S::Config>(m == mode::s1 ? vsmmu::smmuv3::ste_config::s1_trans
                                       : vsmmu::smmuv3::ste_config::nested);
    }
    b.install_ste(st.strtab, 1, ste);
  }
  // The read on SID 1 that every walk of this set-up translates to PA 0x1'0000'0123.
  [[nodiscard]] vw::transaction transaction() const {
    vw::transaction t;
    t.sid = 1;
    t.address = kind == mode::s2 ? 0x7f'0000'0123 : 0x7fff'0000'0123;
    return t;
  }
};

void walk(benchmark::State& state, mode m) {
  const setup s(m);
  const vw::transaction t = s.transaction();
  const mem_type& mem = *s.mem;
  // What an engine's configuration-cache miss does: the decoders' fast path, with limits derived
  // once from the features.
  const vw::decode_limits limits(s.st.features);
  const vw::uncached policy{&limits};
  for (auto _ : state) {
    auto r = vw::translate(mem, s.st, t, policy);
    // The whole result, as a caller (or an IOTLB fill) receives it: consuming one field let the
    // compiler drop the stores of the others, which no embedder could.
    benchmark::DoNotOptimize(r);
  }
  // Reads are counted on one more walk, outside the timed loop.
  const counting counted{s.mem.get()};
  if (vw::translate(counted, s.st, t, policy).output_address() != 0x1'0000'0123) {
    state.SkipWithError("the walk did not translate");
  }
  state.counters["reads/walk"] = benchmark::Counter(static_cast<double>(counted.reads));
}

void walk_config_cached(benchmark::State& state, mode m) {
  const setup s(m);
  const vw::transaction t = s.transaction();
  const mem_type& mem = *s.mem;
  const config_cached policy;
  (void)vw::translate(mem, s.st, t, policy);  // warms the two lookups
  for (auto _ : state) {
    auto r = vw::translate(mem, s.st, t, policy);
    benchmark::DoNotOptimize(r);
  }
  const counting counted{s.mem.get()};
  if (vw::translate(counted, s.st, t, policy).output_address() != 0x1'0000'0123) {
    state.SkipWithError("the walk did not translate");
  }
  state.counters["reads/walk"] = benchmark::Counter(static_cast<double>(counted.reads));
}

// The reads of one walk alone, from the same flat_memory at the same addresses, each checked as
// a walk checks it: what the target calls the walk's memory reads.
// The reads of one walk of `s`, recorded: with its STE and CD from a warm configuration cache,
// or fetched.
recording record_walk(const setup& s, bool config_is_cached) {
  const vw::transaction t = s.transaction();
  const recording rec{s.mem.get(), {}, {}};
  const config_cached policy;
  if (config_is_cached) {
    (void)vw::translate(*s.mem, s.st, t, policy);
    (void)vw::translate(rec, s.st, t, policy);
  } else {
    (void)vw::translate(rec, s.st, t);
  }
  return rec;
}

void reads_alone(benchmark::State& state, mode m, bool config_is_cached) {
  const setup s(m);
  const std::vector<std::uint64_t> addrs = record_walk(s, config_is_cached).addrs;
  const mem_type& mem = *s.mem;
  for (auto _ : state) {
    std::uint64_t acc = 0;
    for (const std::uint64_t a : addrs) {
      benchmark::DoNotOptimize(a);
      const auto r = mem.read64(a);
      if (!r.ok()) state.SkipWithError("read failed");
      acc ^= r.value;
    }
    benchmark::DoNotOptimize(acc);
  }
  state.counters["reads/walk"] = benchmark::Counter(static_cast<double>(addrs.size()));
}

// The STE part of a full miss alone: uncached::stream (locate, read, decode with the limits'
// fast path) for the walks' STEs.
void stream_lookup(benchmark::State& state, mode m) {
  const setup s(m);
  const mem_type& mem = *s.mem;
  const vw::decode_limits limits(s.st.features);
  const vw::uncached policy{&limits};
  for (auto _ : state) {
    auto l = policy.stream(mem, s.st, 1);
    benchmark::DoNotOptimize(l);
  }
  if (policy.stream(mem, s.st, 1).illegal) state.SkipWithError("the STE did not decode");
}

// The same reads with the walk's own dependencies: each access's address waits for the data of
// the access before it (a zero computed from that data is added to it), as in the walk, where
// a level's descriptor gives the next level's table, the STE gives the CD's address and a stage
// 2 leaf gives the stage 1 descriptor's PA; the dwords of one STE or CD fetch are independent of
// each other. What no walk over this memory can go below: the reads' latency in series.
void reads_chained(benchmark::State& state, mode m, bool config_is_cached) {
  const setup s(m);
  const recording rec = record_walk(s, config_is_cached);
  const std::vector<std::uint64_t>& addrs = rec.addrs;
  std::vector<std::size_t> starts = rec.access_starts;
  starts.push_back(addrs.size());
  const mem_type& mem = *s.mem;
  std::uint64_t zero = 0;
  benchmark::DoNotOptimize(zero);  // opaque to the compiler: data & zero is 0, but waits for data
  for (auto _ : state) {
    std::uint64_t carry = 0;
    std::uint64_t acc = 0;
    for (std::size_t a = 0; a + 1 < starts.size(); ++a) {
      std::uint64_t data = 0;
      for (std::size_t i = starts[a]; i < starts[a + 1]; ++i) {
        const auto r = mem.read64(addrs[i] + carry);
        if (!r.ok()) state.SkipWithError("read failed");
        data ^= r.value;
      }
      acc ^= data;
      carry = data & zero;
    }
    benchmark::DoNotOptimize(acc);
  }
  state.counters["reads/walk"] = benchmark::Counter(static_cast<double>(addrs.size()));
  state.counters["accesses/walk"] = benchmark::Counter(static_cast<double>(starts.size() - 1));
}

}  // namespace

BENCHMARK_CAPTURE(walk, stage1_4level, mode::s1);
BENCHMARK_CAPTURE(walk, stage2_4level, mode::s2);
BENCHMARK_CAPTURE(walk, nested_4x4, mode::nested);
BENCHMARK_CAPTURE(walk_config_cached, stage1_4level, mode::s1);
BENCHMARK_CAPTURE(walk_config_cached, stage2_4level, mode::s2);
BENCHMARK_CAPTURE(walk_config_cached, nested_4x4, mode::nested);
BENCHMARK_CAPTURE(reads_alone, stage1_4level, mode::s1, false);
BENCHMARK_CAPTURE(reads_alone, stage2_4level, mode::s2, false);
BENCHMARK_CAPTURE(reads_alone, nested_4x4, mode::nested, false);
BENCHMARK_CAPTURE(reads_alone, stage1_4level_config_cached, mode::s1, true);
BENCHMARK_CAPTURE(reads_alone, stage2_4level_config_cached, mode::s2, true);
BENCHMARK_CAPTURE(reads_alone, nested_4x4_config_cached, mode::nested, true);
BENCHMARK_CAPTURE(reads_chained, stage1_4level, mode::s1, false);
BENCHMARK_CAPTURE(reads_chained, stage2_4level, mode::s2, false);
BENCHMARK_CAPTURE(reads_chained, nested_4x4, mode::nested, false);
BENCHMARK_CAPTURE(reads_chained, stage1_4level_config_cached, mode::s1, true);
BENCHMARK_CAPTURE(reads_chained, stage2_4level_config_cached, mode::s2, true);
BENCHMARK_CAPTURE(reads_chained, nested_4x4_config_cached, mode::nested, true);
BENCHMARK_CAPTURE(stream_lookup, stage1, mode::s1);
BENCHMARK_CAPTURE(stream_lookup, stage2, mode::s2);
BENCHMARK_CAPTURE(stream_lookup, nested, mode::nested);
BENCHMARK_MAIN();
