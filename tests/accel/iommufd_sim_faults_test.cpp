// SPDX-License-Identifier: BSL-1.0
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>
#include <vector>

#include "accel/iommufd_sim_fixture.hpp"

using namespace iommufd_test;

namespace {
// The seed's first bind: vIOMMU, abort proxy, bypass proxy, attach the GBPA proxy; on any failure
// undo what was created, in reverse. Written against the concept, as a vSMMU would be.
template <iommufd_adapter A>
host_error bind_first(A& a, device_id dev, object_id s2) {
  const auto v = a.alloc_viommu(dev, viommu_type::arm_smmuv3, s2);
  if (!v) return v.error();
  const auto ab = a.alloc_nested_hwpt(dev, *v, 0, abort_ste);
  if (!ab) {
    (void)a.destroy(*v);
    return ab.error();
  }
  const auto by = a.alloc_nested_hwpt(dev, *v, 0, bypass_ste);
  if (!by) {
    (void)a.destroy(*ab);
    (void)a.destroy(*v);
    return by.error();
  }
  if (const auto r = a.attach(dev, *by); !r) {
    (void)a.destroy(*by);
    (void)a.destroy(*ab);
    (void)a.destroy(*v);
    return r.error();
  }
  return {};
}
}  // namespace

TEST_CASE("sim faults: failing call N, and only it, with no effect") {
  host h;
  const std::uint64_t base = h.k.calls();
  const std::size_t objects = h.k.live_objects();
  h.k.fail_call(base + 1, ENOMEM);
  const auto v = h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.s2_0);
  CHECK(v.err() == ENOMEM);
  CHECK(v.error().op == operation::alloc_viommu);
  CHECK(h.k.live_objects() == objects);
  CHECK(h.k.calls() == base + 1);
  REQUIRE(h.k.trace().size() == 1);
  CHECK(h.k.trace()[0].injected);
  CHECK(h.k.trace()[0].err == ENOMEM);
  // The next call is not affected.
  CHECK(h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.s2_0).ok());
}

TEST_CASE("sim faults: failing an operation, after skipping some") {
  host h;
  const object_id v = *h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.s2_0);
  h.k.fail_operation(operation::alloc_nested_hwpt, EFAULT, 1);
  CHECK(h.k.alloc_nested_hwpt(h.d1, v, 0, abort_ste).ok());
  CHECK(h.k.destroy(99).err() == ENOENT);  // other operations do not count
  CHECK(h.k.alloc_nested_hwpt(h.d1, v, 0, abort_ste).err() == EFAULT);
  CHECK(h.k.alloc_nested_hwpt(h.d1, v, 0, abort_ste).ok());
  // Every operation can be failed, invalidate and the vEVENTQ calls included.
  h.k.fail_operation(operation::invalidate, ETIMEDOUT);
  const std::vector<invalidation_entry> one{{{0x10, 0}}};
  const auto r = h.k.invalidate(v, one);
  CHECK(r.error.code == ETIMEDOUT);
  CHECK(r.handled == 0);
  CHECK(h.k.issued().empty());
  const veventq q = *h.k.alloc_veventq(v, 4);
  h.k.fail_operation(operation::free_veventq, EINTR);
  CHECK(h.k.free_veventq(q).err() == EINTR);
  CHECK(h.k.kind_of(q.id) == object_kind::veventq);  // nothing happened
  h.k.fail_operation(operation::read_veventq, EFAULT);
  std::array<vevent_record, 1> out{};
  CHECK(h.k.read_veventq(q, out).err() == EFAULT);
  h.k.fail_operation(operation::get_hw_info, EIO);
  CHECK(h.k.get_hw_info(h.d1).err() == EIO);
  h.k.fail_operation(operation::attach, EBUSY);
  CHECK(h.k.attach(h.d1, h.s2_0).err() == EBUSY);
  CHECK(h.k.attached_hwpt(h.d1) == no_object);
  h.k.fail_operation(operation::alloc_vdevice, ENOMEM);
  CHECK(h.k.alloc_vdevice(v, h.d1, 1).err() == ENOMEM);
  CHECK(h.k.vdevice_of(h.d1) == no_object);
  h.k.fail_operation(operation::destroy, EBUSY);
  CHECK(h.k.destroy(q.id).err() == EBUSY);
  h.k.fail_operation(operation::alloc_ioas, ENOMEM);
  CHECK(h.k.alloc_ioas().err() == ENOMEM);
  h.k.fail_operation(operation::alloc_s2_hwpt, ENOMEM);
  CHECK(h.k.alloc_s2_hwpt(h.d1, h.ioas, 0).err() == ENOMEM);
  h.k.fail_operation(operation::alloc_veventq, ENOMEM);
  h.k.fail_operation(operation::alloc_viommu, ENOMEM);
  h.k.clear_faults();
  CHECK(h.k.alloc_viommu(h.d2, viommu_type::arm_smmuv3, h.s2_0).ok());
}

TEST_CASE("sim faults: every call of a bind fails once; nothing leaks") {
  // Count the calls of a clean bind, then fail each one in turn.
  std::uint64_t bind_calls = 0;
  {
    host h;
    const std::uint64_t before = h.k.calls();
    REQUIRE_FALSE(bind_first(h.k, h.d1, h.s2_0).failed());
    bind_calls = h.k.calls() - before;
  }
  REQUIRE(bind_calls == 4);
  for (std::uint64_t n = 1; n <= bind_calls; ++n) {
    host h;
    const std::size_t objects = h.k.live_objects();
    h.k.fail_call(h.k.calls() + n, EIO);
    const host_error e = bind_first(h.k, h.d1, h.s2_0);
    INFO("failing call " << n);
    CHECK(e.code == EIO);
    CHECK(h.k.live_objects() == objects);
    CHECK(h.k.attached_hwpt(h.d1) == no_object);
    CHECK(h.k.users_of(h.s2_0) == 0);
  }
}

TEST_CASE("sim faults: the call trace reads like strace") {
  host h;
  REQUIRE_FALSE(bind_first(h.k, h.d1, h.s2_0).failed());
  CHECK(h.k.destroy(h.s2_0).err() == EBUSY);
  std::vector<std::string> lines;
  for (const call_record& c : h.k.trace()) lines.push_back(c.to_string());
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "IOMMU_VIOMMU_ALLOC(dev=1, type=1, hwpt=7) = 9");
  CHECK(lines[1] ==
        "IOMMU_HWPT_ALLOC(dev=1, pt=9, flags=0x0, data=ARM_SMMUV3 "
        "ste=0x0000000000000001:0x0000000000000000) = 10");
  CHECK(lines[2] ==
        "IOMMU_HWPT_ALLOC(dev=1, pt=9, flags=0x0, data=ARM_SMMUV3 "
        "ste=0x0000000000000009:0x0000000000000000) = 11");
  CHECK(lines[3] == "VFIO_DEVICE_ATTACH_IOMMUFD_PT(dev=1, pt=11) = 0");
  CHECK(lines[4] == "IOMMU_DESTROY(id=7) = -EBUSY");
  CHECK(h.k.trace()[4].number == h.k.calls());

  h.k.clear_trace();
  h.k.fail_operation(operation::invalidate, ETIMEDOUT);
  (void)h.k.invalidate(9, std::vector<invalidation_entry>(3));
  REQUIRE(h.k.trace().size() == 1);
  CHECK(h.k.trace()[0].to_string() ==
        "IOMMU_HWPT_INVALIDATE(viommu=9, type=ARM_SMMUV3, entry_len=16, entries=3) = -ETIMEDOUT "
        "(handled 0) [injected]");

  h.k.set_tracing(false);
  CHECK(h.k.destroy(77).err() == ENOENT);
  CHECK(h.k.trace().size() == 1);
}

TEST_CASE("sim faults: tracing and issue recording can be turned off for benchmarks") {
  host h;
  const object_id v = *h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.s2_0);
  h.k.set_tracing(false);
  h.k.set_record_issued(false);
  const std::vector<invalidation_entry> cmds(100, invalidation_entry{{0x11, 0}});
  REQUIRE(h.k.invalidate(v, cmds).ok());
  CHECK(h.k.issued().empty());
  CHECK(h.k.issued_batch_count() == 2);
  CHECK(h.k.issued_command_count() == 100);
}
