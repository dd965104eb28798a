// Decoding STEs: typed accessors against hand shift/mask, and whole-structure decode. Reports
// only; timings never fail a build.
#include <vsmmu/layout/decode.hpp>
#include <vsmmu/smmuv3/ste.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

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
      acc += (w[0] >> 1) & 0x7;                    // Config
      acc ^= w[0] & 0x00ff'ffff'ffff'ffc0ULL;      // S1ContextPtr
      acc += (w[2] & 0xffff);                      // S2VMID
      acc ^= w[3] & 0x00ff'ffff'ffff'fff0ULL;      // S2TTB
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

}  // namespace

BENCHMARK_MAIN();
