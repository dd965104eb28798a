// No stage of translation at all (IHI 0070 §3.3: an SMMU supports at least one).
// EXPECT: feature_rule_violated<[a-z0-9:]*rule::at_least_one_stage>
#include <vsmmu/smmuv3/conformance.hpp>
using namespace vsmmu::smmuv3;
constexpr id_registers no_stage = default_id_registers.with<regs::idr0::S1P>(false)
                                      .with<regs::idr0::S2P>(false)
                                      .with<regs::idr0::Hyp>(false);
static_assert(conforms<no_stage>);
