// A field beyond the end of its layout.
// EXPECT: field_outside_layout<.*TooFar
#include <vsmmu/layout/layout.hpp>
using namespace vsmmu::layout;
struct Ok final : field<"Ok", bits<7, 0>> {};
struct TooFar final : field<"TooFar", bits<33, 32>> {};
using broken = layout<"REG", 32, std::uint32_t, Ok, TooFar>;
static_assert(broken::well_formed);
