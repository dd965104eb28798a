// Decoding STEs and CDs: typed accessors against hand shift/mask, whole-structure decode, and
// what a configuration-cache miss costs: the STE and the CD fetched from guest memory and decoded
// into walk::stream_config / walk::context_config with every validity check. Reports only;
// timings never fail a build.
#include <vsmmu/layout/decode.hpp>
#include <vsmmu/memory/flat.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/testing/table_builder.hpp>
#include <vsmmu/walk/cd_config.hpp>
#include <vsmmu/walk/ste_config.hpp>
#include <vsmmu/walk/stream_table.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

namespace {

namespace ste = vsmmu::smmuv3::ste;

std::vector<ste::value> random_stes(std::size_t n) {
  std::mt19937_64 rng(42);
  std::vector<ste::value> out(n);
  for (auto& s : out) {
    for (auto& w : s.words()) w = rng();
  }
  return out;
}

void hand_fields(benchmark::State& state) {
  const auto stes = random_stes(1024);
  for (auto _ : state) {
    std::uint64_t acc = 0;
    for (const auto& s : stes) {
      const auto& w = s.words();
      acc += (w[0] >> 1) & 0x7;                // Config
      acc ^= w[0] & 0x00ff'ffff'ffff'ffc0ULL;  // S1ContextPtr
      acc += (w[2] & 0xffff);                  // S2VMID
      acc ^= w[3] & 0x00ff'ffff'ffff'fff0ULL;  // S2TTB
    }
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(hand_fields);

void typed_fields(benchmark::State& state) {
  const auto stes = random_stes(1024);
  for (auto _ : state) {
    std::uint64_t acc = 0;
    for (const auto& s : stes) {
      acc += static_cast<std::uint64_t>(s.get<ste::Config>());
      acc ^= s.get<ste::S1ContextPtr>();
      acc += s.get<ste::S2VMID>();
      acc ^= s.get<ste::S2TTB>();
    }
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(typed_fields);

void whole_decode(benchmark::State& state) {
  const auto stes = random_stes(1024);
  for (auto _ : state) {
    for (const auto& s : stes) {
      auto d = vsmmu::layout::decode(s);
      benchmark::DoNotOptimize(d);
    }
  }
  state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(whole_decode);

void view_over_bytes(benchmark::State& state) {
  const auto stes = random_stes(1024);
  std::vector<std::array<std::byte, 64>> raw(stes.size());
  for (std::size_t i = 0; i < stes.size(); ++i) raw[i] = stes[i].bytes();
  for (auto _ : state) {
    std::uint64_t acc = 0;
    for (const auto& b : raw) {
      ste::view v(b);
      acc += static_cast<std::uint64_t>(v.get<ste::Config>());
      acc ^= v.get<ste::S2TTB>();
    }
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(view_over_bytes);

// ---- STE + CD from guest memory

namespace vw = vsmmu::walk;
namespace C = vsmmu::smmuv3::cd;
namespace sm = vsmmu::smmuv3;
using guest_memory = vsmmu::memory::flat_memory<0x40000>;

constexpr std::uint32_t streams = 64;

// A linear stream table of 64 STEs at 0, each stage 1-only with its own single CD, both valid
// and distinct (ASID, TTB0, T0SZ differ), as a guest driver would write them.
struct guest_tables {
  std::unique_ptr<guest_memory> mem = std::make_unique<guest_memory>();
  vw::smmu_features features{};
  vw::stream_table_config strtab{0, false, 6, 6};  // base, two-level, split, log2size
  guest_tables() {
    vsmmu::testing::table_builder b(*mem, 0x10000, 0x30000);
    for (std::uint32_t sid = 0; sid < streams; ++sid) {
      const std::uint64_t cd_at = 0x8000 + std::uint64_t{sid} * C::size_bytes;
      C::value cd;
      cd.set<C::V>(true)
          .set<C::AA64>(true)
          .set<C::T0SZ>(16 + sid % 8)
          .set<C::EPD1>(true)
          .set<C::IPS>(sm::address_size::bits48)
          .set<C::ASET>(true)
          .set<C::ASID>(static_cast<std::uint16_t>(sid + 1))
          .set<C::A>(true)
          .set<C::R>(true)
          .set<C::TTB0>(0x100000 + (std::uint64_t{sid} << 12));
      b.install_cd(cd_at, sm::s1_fmt::linear, 0, 0, cd);
      ste::value e;
      e.set<ste::V>(true).set<ste::Config>(sm::ste_config::s1_trans).set<ste::S1ContextPtr>(cd_at);
      b.install_ste(strtab, sid, e);
    }
  }
};

[[nodiscard]] vw::or_fault<std::uint64_t> identity(std::uint64_t a) noexcept {
  return {a, {}, false};
}

// One configuration-cache miss: fetch the STE (8 reads), decode it, fetch its CD (8 reads),
// decode it. StreamIDs in a shuffled order.
void ste_cd_from_memory(benchmark::State& state) {
  const guest_tables g;
  const guest_memory& mem = *g.mem;
  std::array<std::uint32_t, streams> order{};
  for (std::uint32_t i = 0; i < streams; ++i) order[i] = (i * 37) % streams;
  const vw::decode_limits limits(g.features);
  std::size_t i = 0;
  for (auto _ : state) {
    const std::uint32_t sid = order[i++ % streams];
    const auto f = vw::fetch_ste(mem, g.features, g.strtab, sid);
    const auto s = vw::decode_ste(f.ste, limits);
    const auto c = vw::fetch_cd(mem, s.config, g.features, 0, identity);
    const auto d = vw::decode_cd(c.cd, s.config, limits);
    benchmark::DoNotOptimize(s.config);
    benchmark::DoNotOptimize(d.config);
    if (f.status != vw::ste_fetch_status::ok || s.illegal() ||
        c.status != vw::cd_locate_status::ok || d.illegal()) {
      state.SkipWithError("a valid STE or CD did not decode");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(ste_cd_from_memory);

// Every stream's STE and CD, read once from guest memory: the decode benchmarks' input.
struct fetched_entries {
  guest_tables g;
  std::vector<ste::value> stes = std::vector<ste::value>(streams);
  std::vector<C::value> cds = std::vector<C::value>(streams);

  fetched_entries() {
    for (std::uint32_t sid = 0; sid < streams; ++sid) {
      stes[sid] = vw::fetch_ste(*g.mem, g.features, g.strtab, sid).ste;
      const auto s = vw::decode_ste(stes[sid], g.features);
      cds[sid] = vw::fetch_cd(*g.mem, s.config, g.features, 0, identity).cd;
    }
  }
};

// The decode half alone, from STE and CD values already read (QEMU's figure is for this): the
// decode_limits overloads, whose fast path accepts these common entries.
void ste_cd_from_buffers(benchmark::State& state) {
  const fetched_entries e;
  const auto& [g, stes, cds] = e;
  // Derived once per feature set, as a configuration cache keeps it.
  const vw::decode_limits limits(g.features);
  std::size_t i = 0;
  for (auto _ : state) {
    const std::size_t k = (i++ * 37) % streams;
    const auto s = vw::decode_ste(stes[k], limits);
    const auto d = vw::decode_cd(cds[k], s.config, limits);
    // Both kept in memory, as a configuration cache keeps them: the inlined fast path could
    // otherwise leave the STE's configuration in registers and never store it.
    benchmark::DoNotOptimize(s.config);
    benchmark::DoNotOptimize(d.config);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(ste_cd_from_buffers);

// The same through the rule-by-rule decoder alone (every SteIllegal / CdIllegal rule in turn),
// which the decode_limits overloads fall back to when their mask-and-table fast path does not
// accept an entry: what an ILLEGAL or unusual entry costs.
void ste_cd_from_buffers_rule_by_rule(benchmark::State& state) {
  const fetched_entries e;
  const auto& [g, stes, cds] = e;
  const vw::decode_limits limits(g.features);
  std::size_t i = 0;
  for (auto _ : state) {
    const std::size_t k = (i++ * 37) % streams;
    vw::ste_decode s;
    s.error = vw::detail::decode_ste(stes[k], limits, s.config);
    vw::cd_decode d;
    d.error = vw::detail::decode_cd(cds[k], s.config, limits, d.config);
    benchmark::DoNotOptimize(s.config);
    benchmark::DoNotOptimize(d.config);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(ste_cd_from_buffers_rule_by_rule);

// The same through the smmu_features overloads, which take the rule-by-rule decoder and derive
// the limits it reaches on every call: what a caller that does not keep a decode_limits pays.
void ste_cd_from_buffers_uncached_limits(benchmark::State& state) {
  const fetched_entries e;
  const auto& [g, stes, cds] = e;
  std::size_t i = 0;
  for (auto _ : state) {
    const std::size_t k = (i++ * 37) % streams;
    const auto s = vw::decode_ste(stes[k], g.features);
    const auto d = vw::decode_cd(cds[k], s.config, g.features);
    benchmark::DoNotOptimize(s.config);
    benchmark::DoNotOptimize(d.config);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(ste_cd_from_buffers_uncached_limits);

}  // namespace

BENCHMARK_MAIN();
