// Software cannot write a read-only field through set<F>.
// EXPECT: write_to_read_only_field<.*S1P
#include <vsmmu/layout/value.hpp>
using namespace vsmmu::layout;
struct S1P final : field<"S1P", bits<1, 1>, bool, access::ro> {};
using idr = layout<"IDR0", 32, std::uint32_t, S1P>;
void write() {
  value<idr> v;
  v.set<S1P>(true);
}
