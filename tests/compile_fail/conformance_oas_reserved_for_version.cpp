// A 52-bit OAS claimed by an SMMUv3.0 (IHI 0070 §6.3.6: OAS 0b110 is reserved in SMMUv3.0).
// EXPECT: feature_rule_violated<[a-z0-9:]*rule::oas_reserved_for_version>
#include <vsmmu/smmuv3/conformance.hpp>
using namespace vsmmu::smmuv3;
constexpr id_registers v30_with_52_bit_pa =
    default_id_registers.with<regs::aidr::ArchMinorRev>(regs::arch_minor_rev::v3_0)
        .with<regs::idr5::OAS>(address_size::bits52);
static_assert(conforms<v30_with_52_bit_pa>);
