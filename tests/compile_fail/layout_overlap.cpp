// Two fields claiming the same bits: the error names both.
// EXPECT: fields_overlap<.*Config.*S1Fmt|fields_overlap<.*S1Fmt.*Config
#include <vsmmu/layout/layout.hpp>
using namespace vsmmu::layout;
struct Config final : field<"Config", bits<3, 1>> {};
struct S1Fmt final : field<"S1Fmt", bits<5, 3>> {};  // bit 3 is Config's
using broken = layout<"STE", 512, std::uint64_t, Config, S1Fmt>;
static_assert(broken::well_formed);
