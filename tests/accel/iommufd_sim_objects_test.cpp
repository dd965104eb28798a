// SPDX-License-Identifier: BSL-1.0
#include <catch2/catch.hpp>

#include <array>
#include <cerrno>

#include "accel/iommufd_sim_fixture.hpp"

using namespace iommufd_test;

static_assert(iommufd_adapter<simulated_kernel>);
static_assert(iommufd_s2_adapter<simulated_kernel>);

TEST_CASE("sim: object IDs start at 1 and the lowest free ID is reused") {
  host h;
  CHECK(h.d1 == 1);
  CHECK(h.d2 == 2);
  CHECK(h.d3 == 3);
  CHECK(h.d4 == 4);
  CHECK(h.d5 == 5);
  CHECK(h.ioas == 6);
  CHECK(h.s2_0 == 7);
  CHECK(h.s2_1 == 8);
  const object_id v = *h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.s2_0);
  CHECK(v == 9);
  const object_id a = *h.k.alloc_nested_hwpt(h.d1, v, 0, abort_ste);
  const object_id b = *h.k.alloc_nested_hwpt(h.d1, v, 0, bypass_ste);
  CHECK(a == 10);
  CHECK(b == 11);
  REQUIRE(h.k.destroy(a).ok());
  CHECK(h.k.kind_of(a) == object_kind::free);
  CHECK(*h.k.alloc_nested_hwpt(h.d1, v, 0, abort_ste) == 10);  // xa_alloc: lowest free
  CHECK(*h.k.alloc_nested_hwpt(h.d1, v, 0, abort_ste) == 12);
  CHECK(h.k.kind_of(h.d1) == object_kind::device);
  CHECK(h.k.kind_of(v) == object_kind::viommu);
}

TEST_CASE("sim: IOMMU_VIOMMU_ALLOC rules") {
  host h;
  CHECK(h.k.alloc_viommu(h.d1, viommu_type::default_type, h.s2_0).err() == EOPNOTSUPP);
  CHECK(h.k.alloc_viommu(h.d1, viommu_type::tegra241_cmdqv, h.s2_0).err() == EOPNOTSUPP);
  CHECK(h.k.alloc_viommu(99, viommu_type::arm_smmuv3, h.s2_0).err() == ENOENT);
  CHECK(h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, 99).err() == ENOENT);
  CHECK(h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.ioas).err() == ENOENT);  // not a HWPT
  // The nesting parent must be on the device's physical SMMU.
  const auto other = h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.s2_1);
  CHECK(other.err() == EINVAL);
  CHECK(other.error().op == operation::alloc_viommu);
  // A HWPT that is not a nesting parent.
  const object_id s1 = *h.k.alloc_s2_hwpt(h.d1, h.ioas, 0);
  CHECK(h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, s1).err() == EINVAL);
  CHECK(h.k.live_objects(object_kind::viommu) == 0);
  // Two vIOMMUs (two vSMMUs) may share one nesting parent.
  const auto v1 = h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.s2_0);
  const auto v2 = h.k.alloc_viommu(h.d2, viommu_type::arm_smmuv3, h.s2_0);
  REQUIRE(v1.ok());
  REQUIRE(v2.ok());
  CHECK(h.k.vmid_of(*v1) == h.k.vmid_of(h.s2_0));
  CHECK(h.k.vmid_of(*v2) == h.k.vmid_of(h.s2_0));
  CHECK(h.k.users_of(h.s2_0) == 2);
}

TEST_CASE("sim: an SMMU without nesting refuses vIOMMUs and nesting parents") {
  simulated_kernel k;
  sim_smmu s;
  s.nesting = false;
  const auto smmu = k.add_smmu(s);
  const device_id d = k.add_device(sim_device{smmu, 1, 0x10});
  const object_id ioas = *k.alloc_ioas();
  CHECK(k.alloc_s2_hwpt(d, ioas, hwpt_flag::nest_parent).err() == EOPNOTSUPP);
  const object_id s1 = *k.alloc_s2_hwpt(d, ioas, 0);
  CHECK(k.alloc_viommu(d, viommu_type::arm_smmuv3, s1).err() == EOPNOTSUPP);
}

TEST_CASE("sim: nesting parents get a VMID per physical SMMU, freed with the HWPT") {
  host h;
  CHECK(h.k.vmid_of(h.s2_0) == 1);
  CHECK(h.k.vmid_of(h.s2_1) == 1);  // another SMMU: its own VMID space
  const object_id second = *h.k.alloc_s2_hwpt(h.d2, h.ioas, hwpt_flag::nest_parent);
  CHECK(h.k.vmid_of(second) == 2);
  REQUIRE(h.k.destroy(second).ok());
  const object_id third = *h.k.alloc_s2_hwpt(h.d2, h.ioas, hwpt_flag::nest_parent);
  CHECK(h.k.vmid_of(third) == 2);
  CHECK(h.k.alloc_s2_hwpt(h.d2, h.ioas, hwpt_flag::dirty_tracking).err() == EOPNOTSUPP);
  CHECK(h.k.alloc_s2_hwpt(h.d2, h.ioas, 1u << 7).err() == EOPNOTSUPP);
  CHECK(h.k.alloc_s2_hwpt(h.d2, 99, 0).err() == ENOENT);
  CHECK(h.k.alloc_s2_hwpt(99, h.ioas, 0).err() == ENOENT);
}

TEST_CASE("sim: IOMMU_VDEVICE_ALLOC rules: virt_id unique per vIOMMU, one vDEVICE per device") {
  host h;
  const object_id v = *h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.s2_0);
  const object_id v2 = *h.k.alloc_viommu(h.d2, viommu_type::arm_smmuv3, h.s2_0);
  const auto vd = h.k.alloc_vdevice(v, h.d1, 0x0308);
  REQUIRE(vd.ok());
  CHECK(h.k.kind_of(*vd) == object_kind::vdevice);
  CHECK(h.k.vdevice_of(h.d1) == *vd);
  const auto dup = h.k.alloc_vdevice(v, h.d2, 0x0308);
  CHECK(dup.err() == EEXIST);
  CHECK(dup.error().op == operation::alloc_vdevice);
  CHECK(h.k.alloc_vdevice(v2, h.d2, 0x0308).ok());            // same virt_id, another vIOMMU
  CHECK(h.k.alloc_vdevice(v, h.d1, 0x0400).err() == EEXIST);  // the device has one already
  CHECK(h.k.alloc_vdevice(v, h.d3, 0x0500).err() == EINVAL);  // device on another SMMU
  CHECK(h.k.alloc_vdevice(99, h.d4, 0x0500).err() == ENOENT);
  CHECK(h.k.alloc_vdevice(v, 99, 0x0500).err() == ENOENT);
  CHECK(h.k.alloc_vdevice(h.s2_0, h.d4, 0x0500).err() == ENOENT);  // not a vIOMMU
  // After destroying it the device can have a new one, and the virt_id is free again.
  REQUIRE(h.k.destroy(*vd).ok());
  CHECK(h.k.vdevice_of(h.d1) == no_object);
  CHECK(h.k.alloc_vdevice(v, h.d4, 0x0308).ok());
  CHECK(h.k.alloc_vdevice(v, h.d1, 0x0309).ok());
}

TEST_CASE("sim: lifetimes: an object in use cannot be destroyed (EBUSY)") {
  host h;
  const std::size_t base = h.k.live_objects();
  const object_id v = *h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.s2_0);
  const object_id vd = *h.k.alloc_vdevice(v, h.d1, 0x100);
  const object_id hw = *h.k.alloc_nested_hwpt(h.d1, v, 0, s1_ste());
  const veventq q = *h.k.alloc_veventq(v, 16);
  REQUIRE(h.k.attach(h.d1, hw).ok());

  CHECK(h.k.destroy(h.ioas).err() == EBUSY);  // its S2 HWPTs
  CHECK(h.k.destroy(h.s2_0).err() == EBUSY);  // the vIOMMU
  const auto busy = h.k.destroy(v);           // vDEVICE, HWPT, vEVENTQ
  CHECK(busy.err() == EBUSY);
  CHECK(busy.error().op == operation::destroy);
  CHECK(h.k.destroy(hw).err() == EBUSY);    // attached
  CHECK(h.k.destroy(q.id).err() == EBUSY);  // its fd is open
  CHECK(h.k.destroy(h.d1).err() == EBUSY);  // devices belong to VFIO
  CHECK(h.k.destroy(0).err() == ENOENT);
  CHECK(h.k.destroy(999).err() == ENOENT);

  // Unwind in the right order: everything goes and the count returns to its start.
  REQUIRE(h.k.attach(h.d1, h.s2_0).ok());
  REQUIRE(h.k.destroy(hw).ok());
  CHECK(h.k.destroy(v).err() == EBUSY);
  REQUIRE(h.k.destroy(vd).ok());
  CHECK(h.k.destroy(v).err() == EBUSY);
  REQUIRE(h.k.free_veventq(q).ok());
  REQUIRE(h.k.destroy(v).ok());
  CHECK(h.k.live_objects() == base);
  CHECK(h.k.destroy(v).err() == ENOENT);
}

TEST_CASE("sim: closing a device's cdev with a vDEVICE left leaks its ID") {
  host h;
  const std::size_t base = h.k.live_objects();
  const object_id v = *h.k.alloc_viommu(h.d2, viommu_type::arm_smmuv3, h.s2_0);
  const object_id vd = *h.k.alloc_vdevice(v, h.d2, 0x200);
  h.k.remove_device(h.d2);
  CHECK(h.k.kind_of(h.d2) == object_kind::free);
  CHECK(h.k.destroy(vd).err() == ENOENT);  // unremovable
  CHECK(h.k.live_objects() == base + 2);   // the vIOMMU and the leaked vDEVICE ID
  REQUIRE(h.k.destroy(v).ok());            // the vIOMMU is free to go
  CHECK(h.k.live_objects() == base + 1);   // the leak stays
  CHECK(*h.k.alloc_ioas() != vd);          // and its ID is not reused
}

TEST_CASE("sim: IOMMU_GET_HW_INFO reports the physical SMMU and the device's PASID") {
  simulated_kernel k;
  sim_smmu s;
  s.idr[0] |= 2u << 6;                                 // HTTU: access and dirty flags
  s.idr[1] = (s.idr[1] & ~(0x1Fu << 6)) | (16u << 6);  // SSIDSIZE 16
  s.iidr = 0x1234;
  s.aidr = 0x3;
  const auto smmu = k.add_smmu(s);
  const device_id pasid_dev = k.add_device(sim_device{smmu, 1, 0x10, true, 20, true, true});
  const device_id plain = k.add_device(sim_device{smmu, 2, 0x20, false, 0, true, true});
  const auto h = k.get_hw_info(pasid_dev);
  REQUIRE(h.ok());
  CHECK(h->type == hw_info_type::arm_smmuv3);
  CHECK(h->idr == s.idr);
  CHECK(h->iidr == 0x1234);
  CHECK(h->aidr == 0x3);
  CHECK(h->max_pasid_log2 == 16);  // the device's 20 bits, capped by the SMMU's SSIDSIZE
  CHECK(h->pasid_exec());
  CHECK(h->pasid_priv());
  CHECK(h->dirty_tracking());
  const auto p = k.get_hw_info(plain);
  REQUIRE(p.ok());
  CHECK(p->max_pasid_log2 == 0);
  CHECK(p->capabilities == hw_cap::dirty_tracking);  // no PASID: no EXEC/PRIV either
  const auto missing = k.get_hw_info(77);
  CHECK(missing.err() == ENOENT);
  CHECK(missing.error().op == operation::get_hw_info);
}

TEST_CASE("sim: a host IOMMU that is not an SMMUv3 reports its own info type") {
  simulated_kernel k;
  sim_smmu s;
  s.info_type = hw_info_type::intel_vtd;
  const auto smmu = k.add_smmu(s);
  const device_id d = k.add_device(sim_device{smmu, 1, 0x10});
  const auto h = k.get_hw_info(d);
  REQUIRE(h.ok());
  CHECK(h->type == hw_info_type::intel_vtd);
  CHECK(h->idr == std::array<std::uint32_t, 6>{});
  CHECK(h->aidr == 0);
}
