// Invalidation forwarding in accelerated mode, on the simulated kernel: a guest's run of N
// forwardable commands ended by CMD_SYNC, sent batched until CMD_SYNC (vsmmu's way) or one
// command per IOMMU_HWPT_INVALIDATE (the seed's, QEMU's way). Reports forwarded commands per
// ioctl and ns per forwarded command (vSMMU side plus the simulated kernel's conversion; a real
// ioctl adds a syscall, about a microsecond, per call, which is what batching saves). Reports
// only; never fails.
#include <vsmmu/accel/accelerated_vsmmu.hpp>
#include <vsmmu/accel/iommufd/simulated_kernel.hpp>
#include <vsmmu/smmuv3/commands.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

namespace {

namespace A = vsmmu::accel;
namespace K = vsmmu::accel::iommufd;
namespace C = vsmmu::smmuv3::cmd;

struct setup {
  K::simulated_kernel k;
  std::unique_ptr<A::accelerated_vsmmu<K::simulated_kernel>> v;
  std::vector<vsmmu::queue::command> cmds;

  setup(std::size_t run, std::size_t max_batch) {
    const std::size_t smmu = k.add_smmu(K::sim_smmu{});
    const K::device_id dev = k.add_device({smmu, 1, 0x10, false, 0, false, false});
    const K::object_id ioas = *k.alloc_ioas();
    const K::object_id s2 = *k.alloc_s2_hwpt(dev, ioas, K::hwpt_flag::nest_parent);
    (void)k.attach(dev, s2);
    k.set_tracing(false);
    k.set_record_issued(false);
    A::accel_config cfg;
    cfg.max_batch = max_batch;
    v = std::make_unique<A::accelerated_vsmmu<K::simulated_kernel>>(k, cfg);
    A::device_desc d;
    d.sid = 0x0308;
    d.host.dev_id = dev;
    d.host.s2_hwpt = s2;
    d.host.iommu_group = 1;
    (void)v->attach_device(d);
    // What a Linux guest sends when unmapping: per-page TLBI_NH_VA, CFGI_CD now and then.
    for (std::size_t i = 0; i < run; ++i) {
      if (i % 8 == 7) {
        cmds.push_back({C::make<C::cfgi_cd::layout>().with<C::StreamID>(0x0308).words()});
      } else {
        cmds.push_back({C::make<C::tlbi_nh_va::layout>()
                            .with<C::ASID>(1)
                            .with<C::Address>(0x4000'0000 + (i << 12))
                            .words()});
      }
    }
    cmds.push_back({C::make<C::sync::layout>().words()});
  }
};

void run(benchmark::State& state, std::size_t max_batch) {
  const auto n = static_cast<std::size_t>(state.range(0));
  setup s(n, max_batch);
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const A::forward_result r = s.v->forward(s.cmds);
    benchmark::DoNotOptimize(r.consumed);
  }
  const double forwarded = static_cast<double>(s.v->forwarded_commands());
  const double calls = static_cast<double>(s.v->invalidate_calls());
  state.counters["cmds_per_ioctl"] = calls > 0 ? forwarded / calls : 0;
  const auto elapsed =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0);
  const double commands = static_cast<double>(state.iterations()) * static_cast<double>(n);
  state.counters["ns_per_cmd"] = commands > 0 ? elapsed.count() / commands : 0;
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void BM_forward_batched(benchmark::State& state) { run(state, 128); }
void BM_forward_one_per_ioctl(benchmark::State& state) { run(state, 1); }

BENCHMARK(BM_forward_batched)->Arg(1)->Arg(8)->Arg(32)->Arg(128);
BENCHMARK(BM_forward_one_per_ioctl)->Arg(1)->Arg(8)->Arg(32)->Arg(128);

}  // namespace

BENCHMARK_MAIN();
