// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/accel/iommufd/simulated_kernel.hpp>

#include <cstdint>

// A simulated host shared by the simulated-kernel tests: two physical SMMUs, five devices (d4 and
// d5 share host IOMMU group 12, the others are alone in theirs), one IOAS and a nesting-parent S2
// per SMMU.
namespace iommufd_test {

using namespace vsmmu::accel::iommufd;

inline constexpr nested_ste abort_ste{{0x1, 0}};   // V, Config = abort
inline constexpr nested_ste bypass_ste{{0x9, 0}};  // V, Config = bypass
// V, Config = S1 translate, S1Fmt = 0, S1ContextPtr = 0x8_1234_5000, S1CDMax = 0.
inline constexpr std::uint64_t s1_ctx = 0x8'1234'5000ull;
inline constexpr nested_ste s1_ste(std::uint64_t dword1 = 0) { return {{0xB | s1_ctx, dword1}}; }

struct host {
  simulated_kernel k;
  std::size_t smmu0 = 0, smmu1 = 0;
  device_id d1 = 0, d2 = 0, d3 = 0, d4 = 0, d5 = 0;
  object_id ioas = 0, s2_0 = 0, s2_1 = 0;

  explicit host(kernel_behaviour b = {}) : k(b) {
    smmu0 = k.add_smmu(sim_smmu{});
    smmu1 = k.add_smmu(sim_smmu{});
    d1 = k.add_device(sim_device{smmu0, 10, 0x100, true, 20, true, false});
    d2 = k.add_device(sim_device{smmu0, 11, 0x200, false, 0, false, false});
    d3 = k.add_device(sim_device{smmu1, 20, 0x300, false, 0, false, false});
    d4 = k.add_device(sim_device{smmu0, 12, 0x101, false, 0, false, false});
    d5 = k.add_device(sim_device{smmu0, 12, 0x102, false, 0, false, false});
    ioas = *k.alloc_ioas();
    s2_0 = *k.alloc_s2_hwpt(d1, ioas, hwpt_flag::nest_parent);
    s2_1 = *k.alloc_s2_hwpt(d3, ioas, hwpt_flag::nest_parent);
    k.clear_trace();
  }
};

}  // namespace iommufd_test
