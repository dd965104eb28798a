// Two fields with one spec name.
// EXPECT: duplicate_field_name<.*First.*Second
#include <vsmmu/layout/layout.hpp>
using namespace vsmmu::layout;
struct First final : field<"ASID", bits<15, 0>> {};
struct Second final : field<"ASID", bits<31, 16>> {};
using broken = layout<"REG", 32, std::uint32_t, First, Second>;
static_assert(broken::well_formed);
