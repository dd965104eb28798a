// 16-bit StreamIDs with only a linear Stream table (IHI 0070 §6.3.2: SIDSIZE >= 7 requires
// SMMU_IDR0.ST_LEVEL != 0b00).
// EXPECT: feature_rule_violated<[a-z0-9:]*rule::sidsize_7_or_more_needs_two_level_table>
#include <vsmmu/smmuv3/conformance.hpp>
using namespace vsmmu::smmuv3;
constexpr regs::idr1::value idr1 = [] {
  regs::idr1::value v;
  v.init<regs::idr1::SIDSIZE>(16).init<regs::idr1::CMDQS>(8).init<regs::idr1::EVENTQS>(8);
  return v;
}();
constexpr id_registers linear_only =
    default_id_registers.with(idr1).with<regs::idr0::ST_LEVEL>(regs::st_level::linear);
static_assert(conforms<linear_only>);
