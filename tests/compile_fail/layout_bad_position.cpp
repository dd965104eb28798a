// msb below lsb.
// EXPECT: msb is below its lsb
#include <vsmmu/layout/field.hpp>
using namespace vsmmu::layout;
struct Backwards final : field<"Backwards", bits<1, 3>> {};
static_assert(Backwards::width > 0);
