// VMSAv8-32 LPAE tables only: architecturally allowed, refused by vsmmu's policy.
// EXPECT: feature_rule_violated<[a-z0-9:]*rule::policy_aarch64_tables_required>
#include <vsmmu/smmuv3/conformance.hpp>
using namespace vsmmu::smmuv3;
constexpr id_registers aarch32_only =
    default_id_registers.with<regs::idr0::TTF>(regs::ttf::aarch32_lpae);
static_assert(conforms<aarch32_only>);
