// SMMU_IDR0.Hyp without stage 2 (IHI 0070 §6.3.1: Hyp is RES0 unless S1P and S2P are both 1).
// EXPECT: feature_rule_violated<[a-z0-9:]*rule::hyp_requires_s1p_and_s2p>
#include <vsmmu/smmuv3/conformance.hpp>
using namespace vsmmu::smmuv3;
constexpr id_registers stage1_only_with_hyp =
    default_id_registers.with<regs::idr0::S2P>(false).with<regs::idr0::Hyp>(true);
static_assert(conforms<stage1_only_with_hyp>);
