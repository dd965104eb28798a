// A compile-time constant wider than its field.
// EXPECT: constant_does_not_fit_field<.*Config, 8
#include <vsmmu/layout/value.hpp>
using namespace vsmmu::layout;
struct Config final : field<"Config", bits<3, 1>> {};
using ste = layout<"STE", 512, std::uint64_t, Config>;
void write() {
  value<ste> v;
  v.set<Config, 8>();
}
