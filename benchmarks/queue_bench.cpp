// Command queue throughput: fetching, validating and dispatching a realistic mix of
// CMD_TLBI_NH_VA and CMD_SYNC from guest memory to a trivial handler, one full queue per
// iteration. Reports ns per command (items/s is its inverse); timings never fail a build.
#include <vsmmu/memory/flat.hpp>
#include <vsmmu/queue/command_queue.hpp>
#include <vsmmu/queue/signals.hpp>
#include <vsmmu/smmuv3/commands.hpp>

#include <cstdint>
#include <memory>

#include <benchmark/benchmark.h>

namespace {

namespace c = vsmmu::smmuv3::cmd;
namespace q = vsmmu::queue;

constexpr std::uint64_t queue_base = 0x10000;
using mem_type = vsmmu::memory::flat_memory<0x20000>;

// Counts what it is given: the cheapest handler that the optimiser cannot drop.
struct trivial_handler {
  std::uint64_t sum = 0;
  q::command_status execute(const q::command& cmd) noexcept {
    sum += cmd.words[1];
    return q::command_status::ok;
  }
};

// A queue of 2^Log2 entries at queue_base: `per_sync` TLBI_NH_VAs, then a CMD_SYNC, repeated.
template <unsigned Log2>
struct setup {
  std::unique_ptr<mem_type> mem = std::make_unique<mem_type>();
  q::command_queue_config cfg;
  explicit setup(unsigned per_sync, c::cs cs = c::cs::sig_none) {
    cfg.base = queue_base;
    cfg.geometry = q::ring(Log2);
    cfg.enabled = true;
    for (std::uint32_t i = 0; i < cfg.geometry.size(); ++i) {
      const bool is_sync = (i % (per_sync + 1)) == per_sync;
      const auto words = is_sync ? c::make<c::sync::layout>()
                                       .with<c::sync::CS>(cs)
                                       .with<c::sync::MSIAddress>(queue_base + 16 * i)
                                       .words()
                                 : c::make<c::tlbi_nh_va::layout>()
                                       .with<c::ASID>(static_cast<std::uint16_t>(1 + i % 7))
                                       .with<c::VMID>(3)
                                       .with<c::Leaf>(true)
                                       .with<c::Address>(0x7f00'0000'0000ULL + 0x1000ULL * i)
                                       .words();
      (void)mem->write64(queue_base + 16 * i, words[0]);
      (void)mem->write64(queue_base + 16 * i + 8, words[1]);
    }
  }
};

template <unsigned Log2>
void run(benchmark::State& state, unsigned per_sync, c::cs cs) {
  setup<Log2> s(per_sync, cs);
  q::command_queue_state st;
  q::global_errors errors;
  q::no_signals signals;
  trivial_handler handler;
  const std::uint32_t n = s.cfg.geometry.size();
  for (auto _ : state) {
    st.prod = s.cfg.geometry.advance(st.cons, n);  // software fills the whole queue
    const auto r = q::consume_commands(st, errors, s.cfg, *s.mem, handler, signals);
    benchmark::DoNotOptimize(r.consumed);
  }
  benchmark::DoNotOptimize(handler.sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * n);
  // kIsRate | kInvert gives seconds per unit: count units of 1e-9 commands to read ns.
  state.counters["ns_per_command"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * n * 1e-9,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// One TLBI_NH_VA, one CMD_SYNC: the unbatched unmap of a single page.
template <unsigned Log2>
void cmdq_tlbi_va_sync_1to1(benchmark::State& state) {
  run<Log2>(state, 1, c::cs::sig_none);
}
// Seven TLBI_NH_VAs per CMD_SYNC: a batched unmap.
template <unsigned Log2>
void cmdq_tlbi_va_sync_7to1(benchmark::State& state) {
  run<Log2>(state, 7, c::cs::sig_none);
}
// As 1:1, with CMD_SYNC completions signalled by MSI (a no-op sink: the cost is the consumer's).
template <unsigned Log2>
void cmdq_tlbi_va_sync_1to1_msi(benchmark::State& state) {
  run<Log2>(state, 1, c::cs::sig_irq);
}

}  // namespace

BENCHMARK_TEMPLATE(cmdq_tlbi_va_sync_1to1, 8);
BENCHMARK_TEMPLATE(cmdq_tlbi_va_sync_1to1, 12);
BENCHMARK_TEMPLATE(cmdq_tlbi_va_sync_7to1, 8);
BENCHMARK_TEMPLATE(cmdq_tlbi_va_sync_7to1, 12);
BENCHMARK_TEMPLATE(cmdq_tlbi_va_sync_1to1_msi, 8);

BENCHMARK_MAIN();
