// PRI without ATS (IHI 0070 §6.3.1: SMMU_IDR0.PRI is RES0 when ATS == 0).
// EXPECT: feature_rule_violated<[a-z0-9:]*rule::pri_requires_ats>
#include <vsmmu/smmuv3/conformance.hpp>
using namespace vsmmu::smmuv3;
constexpr id_registers pri_without_ats =
    default_id_registers.with<regs::idr0::ATS>(false).with<regs::idr0::PRI>(true);
static_assert(conforms<pri_without_ats>);
