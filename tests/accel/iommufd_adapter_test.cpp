// SPDX-License-Identifier: BSL-1.0
#include <catch2/catch.hpp>

#include <vsmmu/accel/iommufd/adapter.hpp>

#include <cerrno>
#include <string>

using namespace vsmmu::accel::iommufd;

TEST_CASE("result: a value or an error carrying errno and the operation") {
  const result<object_id> good = object_id{7};
  CHECK(good.ok());
  CHECK(static_cast<bool>(good));
  CHECK(*good == 7);
  CHECK(good.err() == 0);

  const result<object_id> bad = fail(operation::alloc_viommu, EINVAL);
  CHECK_FALSE(bad.ok());
  CHECK(bad.err() == EINVAL);
  CHECK(bad.error().op == operation::alloc_viommu);
  CHECK(bad.value() == 0);  // never UB, a value-initialised T

  const result<void> v;
  CHECK(v.ok());
  const result<void> vbad = fail(operation::attach, EBUSY);
  CHECK(vbad.err() == EBUSY);
  CHECK(vbad.error().op == operation::attach);
}

TEST_CASE("result: an error built with errno 0 is still a failure (EIO)") {
  const result<object_id> r = host_error{0, operation::destroy};
  CHECK_FALSE(r.ok());
  CHECK(r.err() == EIO);
  const result<void> v = host_error{0, operation::destroy};
  CHECK(v.err() == EIO);
}

TEST_CASE("host_error: the message names the ioctl, the errno text and number") {
  // The seed's messages start with the ioctl name and "failed" ("IOMMU_VIOMMU_ALLOC failed").
  const std::string m = host_error{EINVAL, operation::alloc_viommu}.message();
  CHECK(m.rfind("IOMMU_VIOMMU_ALLOC failed: ", 0) == 0);
  CHECK(m.find("(errno 22)") != std::string::npos);
  CHECK(m.find("Invalid argument") != std::string::npos);
  CHECK(host_error{EEXIST, operation::alloc_vdevice}.message().rfind("IOMMU_VDEVICE_ALLOC failed",
                                                                     0) == 0);
  CHECK(host_error{ENOENT, operation::attach}.message().rfind(
            "VFIO_DEVICE_ATTACH_IOMMUFD_PT failed", 0) == 0);
  CHECK(std::string(operation_name(operation::invalidate)) == "IOMMU_HWPT_INVALIDATE");
  CHECK(std::string(operation_name(operation::alloc_nested_hwpt)) == "IOMMU_HWPT_ALLOC");
  CHECK(std::string(errno_name(EOPNOTSUPP)) == "EOPNOTSUPP");
  CHECK(errno_name(12345) == nullptr);
}

TEST_CASE("hw_info: PASID EXEC/PRIV are ignored when the PASID width is 0") {
  hw_info h;
  h.capabilities = hw_cap::pci_pasid_exec | hw_cap::pci_pasid_priv;
  CHECK_FALSE(h.has_pasid());
  CHECK_FALSE(h.pasid_exec());
  CHECK_FALSE(h.pasid_priv());
  h.max_pasid_log2 = 20;
  CHECK(h.pasid_exec());
  CHECK(h.pasid_priv());
  h.capabilities = hw_cap::pci_pasid_exec;
  CHECK(h.pasid_exec());
  CHECK_FALSE(h.pasid_priv());
  CHECK_FALSE(h.dirty_tracking());
}

TEST_CASE("vevent_record: the lost-events flag") {
  vevent_record r;
  CHECK_FALSE(r.lost_events());
  r.flags = vevent_flag_lost_events;
  CHECK(r.lost_events());
}
