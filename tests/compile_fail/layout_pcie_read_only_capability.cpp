// A guest-facing write to a read-only capability register field (PASID Max PASID Width is RO).
// EXPECT: write_to_read_only_field<vsmmu::pcie::pasid::MaxPASIDWidth>
#include <vsmmu/layout/value.hpp>
#include <vsmmu/pcie/pasid.hpp>
void advertise() {
  vsmmu::layout::value<vsmmu::pcie::pasid::layout> cap;
  cap.set<vsmmu::pcie::pasid::MaxPASIDWidth>(20);  // the model uses init<>, software cannot
}
