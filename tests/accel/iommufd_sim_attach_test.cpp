// SPDX-License-Identifier: BSL-1.0
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>

#include "accel/iommufd_sim_fixture.hpp"

using namespace iommufd_test;
namespace kr = vsmmu::accel::iommufd::kernel;

namespace {
struct viommu_setup {
  host h;
  object_id v = 0;
  object_id abort_hwpt = 0;
  object_id bypass_hwpt = 0;
  explicit viommu_setup(kernel_behaviour b = {}) : h(b) {
    v = *h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.s2_0);
    abort_hwpt = *h.k.alloc_nested_hwpt(h.d1, v, 0, abort_ste);
    bypass_hwpt = *h.k.alloc_nested_hwpt(h.d1, v, 0, bypass_ste);
  }
};
}  // namespace

TEST_CASE("sim: the physical STE for the abort and bypass proxies") {
  viommu_setup s;
  host& h = s.h;
  CHECK(h.k.ste_of(h.d2).kind == ste_kind::none);
  REQUIRE(h.k.attach(h.d2, s.abort_hwpt).ok());  // GBPA case: no vDEVICE needed
  CHECK(h.k.attached_hwpt(h.d2) == s.abort_hwpt);
  CHECK(h.k.ste_of(h.d2).kind == ste_kind::abort);
  CHECK(h.k.ste_of(h.d2).dwords == std::array<std::uint64_t, 4>{0x1, 0, 0, 0});
  CHECK_FALSE(h.k.event_vsid(h.d2).has_value());  // no vDEVICE: events stay in the host

  REQUIRE(h.k.attach(h.d2, s.bypass_hwpt).ok());  // replace
  const physical_ste b = h.k.ste_of(h.d2);
  CHECK(b.kind == ste_kind::s2);  // translates like the nesting parent
  CHECK(b.dwords[0] == (0x1 | (6u << 1)));
  CHECK((b.dwords[2] & kr::ste2_s2vmid) == h.k.vmid_of(h.s2_0));
  CHECK(h.k.users_of(s.abort_hwpt) == 0);
  CHECK(h.k.users_of(s.bypass_hwpt) == 1);
  CHECK_FALSE(h.k.ats_enabled(h.d2));
}

TEST_CASE("sim: a V = 0 nested STE is accepted and installed as abort") {
  viommu_setup s;
  const auto hw =
      s.h.k.alloc_nested_hwpt(s.h.d2, s.v, 0, nested_ste{{0xFFFF'0000'0000'000Aull, ~0ull}});
  REQUIRE(hw.ok());
  CHECK(s.h.k.nested_ste_of(*hw) == nested_ste{});
  REQUIRE(s.h.k.attach(s.h.d2, *hw).ok());
  CHECK(s.h.k.ste_of(s.h.d2).kind == ste_kind::abort);
}

TEST_CASE("sim: an S1 nested STE becomes Config = nested on the parent, with MEV") {
  viommu_setup s;
  host& h = s.h;
  REQUIRE(h.k.alloc_vdevice(s.v, h.d1, 0x0308).ok());
  // S1DSS = 0b10, S1CIR = 1, S1CSH = 3, S1STALLD, EATS = translate.
  const std::uint64_t d1 = 0x2 | (1u << 2) | (3u << 6) | (1u << 27) | (1u << 28);
  const object_id t = *h.k.alloc_nested_hwpt(h.d1, s.v, 0, s1_ste(d1));
  CHECK(h.k.nested_ste_of(t).dwords[1] == (d1 & ~kr::ste1_eats));
  REQUIRE(h.k.attach(h.d1, t).ok());
  const physical_ste p = h.k.ste_of(h.d1);
  CHECK(p.kind == ste_kind::nested);
  CHECK(std::string(to_string(p.kind)) == "nested");
  CHECK(p.dwords[0] == (0x1 | (7u << 1) | s1_ctx));
  CHECK((p.dwords[1] & 0xFF) == (d1 & 0xFF));
  CHECK((p.dwords[1] & kr::ste1_s1stalld) != 0);
  CHECK((p.dwords[1] & kr::ste1_mev) != 0);
  CHECK(kr::ste_eats(p.dwords[1]) == kr::eats::trans);  // d1 can do ATS and the guest asked
  CHECK(h.k.ats_enabled(h.d1));
  CHECK((p.dwords[2] & kr::ste2_s2vmid) == h.k.vmid_of(h.s2_0));
  CHECK(h.k.event_vsid(h.d1) == 0x0308u);
}

TEST_CASE("sim: ATS only when the guest's EATS asks for it and the device can") {
  viommu_setup s;
  host& h = s.h;
  REQUIRE(h.k.alloc_vdevice(s.v, h.d1, 0x0308).ok());
  REQUIRE(h.k.alloc_vdevice(s.v, h.d2, 0x0310).ok());
  const object_id no_eats = *h.k.alloc_nested_hwpt(h.d1, s.v, 0, s1_ste());
  REQUIRE(h.k.attach(h.d1, no_eats).ok());
  CHECK_FALSE(h.k.ats_enabled(h.d1));
  CHECK(kr::ste_eats(h.k.ste_of(h.d1).dwords[1]) == kr::eats::abort);
  const object_id eats = *h.k.alloc_nested_hwpt(h.d2, s.v, 0, s1_ste(1u << 28));
  REQUIRE(h.k.attach(h.d2, eats).ok());
  CHECK_FALSE(h.k.ats_enabled(h.d2));  // d2 has no ATS
  // A paging (S2) attachment uses ATS whenever the device has it.
  REQUIRE(h.k.attach(h.d1, h.s2_0).ok());
  CHECK(h.k.ats_enabled(h.d1));
  CHECK(h.k.ste_of(h.d1).kind == ste_kind::s2);
}

TEST_CASE("sim: attaching a translate HWPT needs a vDEVICE; proxies depend on the kernel") {
  SECTION("kernels with the GBPA attach") {
    viommu_setup s;
    host& h = s.h;
    const object_id t = *h.k.alloc_nested_hwpt(h.d2, s.v, 0, s1_ste());
    const auto r = h.k.attach(h.d2, t);
    CHECK(r.err() == ENOENT);
    CHECK(r.error().op == operation::attach);
    CHECK(h.k.attached_hwpt(h.d2) == no_object);
    CHECK(h.k.attach(h.d2, s.abort_hwpt).ok());
    CHECK(h.k.attach(h.d2, s.bypass_hwpt).ok());
  }
  SECTION("kernels without it") {
    kernel_behaviour b;
    b.gbpa_attach_without_vdevice = false;
    viommu_setup s(b);
    host& h = s.h;
    CHECK(h.k.attach(h.d2, s.abort_hwpt).err() == ENOENT);
    CHECK(h.k.attach(h.d2, s.bypass_hwpt).err() == ENOENT);
    REQUIRE(h.k.alloc_vdevice(s.v, h.d2, 0x0310).ok());
    CHECK(h.k.attach(h.d2, s.abort_hwpt).ok());
    CHECK(h.k.event_vsid(h.d2) == 0x0310u);
  }
}

TEST_CASE("sim: make-before-break replace keeps the old HWPT until it is destroyed") {
  viommu_setup s;
  host& h = s.h;
  REQUIRE(h.k.alloc_vdevice(s.v, h.d1, 0x0308).ok());
  const object_id t1 = *h.k.alloc_nested_hwpt(h.d1, s.v, 0, s1_ste());
  REQUIRE(h.k.attach(h.d1, t1).ok());
  const object_id t2 = *h.k.alloc_nested_hwpt(h.d1, s.v, 0, s1_ste(1u << 28));
  CHECK(h.k.destroy(t1).err() == EBUSY);  // break before make is refused
  REQUIRE(h.k.attach(h.d1, t2).ok());
  CHECK(h.k.attached_hwpt(h.d1) == t2);
  CHECK(h.k.destroy(t1).ok());
  // Re-attaching the HWPT already attached is a no-op.
  const std::uint32_t users = h.k.users_of(t2);
  REQUIRE(h.k.attach(h.d1, t2).ok());
  CHECK(h.k.users_of(t2) == users);
}

TEST_CASE("sim: a HWPT of another physical SMMU cannot be allocated for or attached to a device") {
  viommu_setup s;
  host& h = s.h;
  CHECK(h.k.alloc_nested_hwpt(h.d3, s.v, 0, abort_ste).err() == EINVAL);
  CHECK(h.k.attach(h.d3, s.abort_hwpt).err() == EINVAL);
  CHECK(h.k.attach(h.d3, h.s2_0).err() == EINVAL);
  CHECK(h.k.attach(h.d3, h.s2_1).ok());
}

TEST_CASE("sim: what attach refuses") {
  viommu_setup s;
  host& h = s.h;
  CHECK(h.k.attach(99, s.abort_hwpt).err() == ENOENT);
  CHECK(h.k.attach(h.d2, 99).err() == ENOENT);
  CHECK(h.k.attach(h.d2, 0).err() == ENOENT);
  CHECK(h.k.attach(h.d2, h.ioas).err() == EINVAL);  // auto domains are not modelled
  CHECK(h.k.attach(h.d2, s.v).err() == EINVAL);
  CHECK(h.k.attach(h.d2, h.d1).err() == EINVAL);
}

TEST_CASE("sim: nested HWPT allocation: flags, data, the pt") {
  SECTION("current kernels") {
    viommu_setup s;
    host& h = s.h;
    CHECK(h.k.alloc_nested_hwpt(h.d1, s.v, hwpt_flag::nest_parent, abort_ste).err() == EOPNOTSUPP);
    CHECK(h.k.alloc_nested_hwpt(h.d1, s.v, hwpt_flag::dirty_tracking, abort_ste).err() ==
          EOPNOTSUPP);
    CHECK(h.k.alloc_nested_hwpt(h.d1, s.v, 1u << 9, abort_ste).err() == EOPNOTSUPP);
    CHECK(h.k.alloc_nested_hwpt(h.d1, s.v, hwpt_flag::pasid, abort_ste).ok());
    // FAULT_ID_VALID needs a fault object; the adapter has no fault_id to give (ID 0).
    CHECK(h.k.alloc_nested_hwpt(h.d1, s.v, hwpt_flag::fault_id_valid, abort_ste).err() == ENOENT);
    const auto bad = h.k.alloc_nested_hwpt(h.d1, s.v, 0, nested_ste{{0x1 | (6u << 1), 0}});
    CHECK(bad.err() == EIO);
    CHECK(bad.error().op == operation::alloc_nested_hwpt);
    CHECK(h.k.alloc_nested_hwpt(h.d1, h.s2_0, 0, abort_ste).err() == EOPNOTSUPP);
    CHECK(h.k.alloc_nested_hwpt(h.d1, h.ioas, 0, abort_ste).err() == EINVAL);
    CHECK(h.k.alloc_nested_hwpt(h.d1, 99, 0, abort_ste).err() == ENOENT);
    CHECK(h.k.alloc_nested_hwpt(99, s.v, 0, abort_ste).err() == ENOENT);
  }
  SECTION("the first vIOMMU kernels refuse every flag") {
    kernel_behaviour b;
    b.driver_accepts_nested_flags = false;
    viommu_setup s(b);
    CHECK(s.h.k.alloc_nested_hwpt(s.h.d1, s.v, hwpt_flag::pasid, abort_ste).err() == EOPNOTSUPP);
    CHECK(s.h.k.alloc_nested_hwpt(s.h.d1, s.v, 0, abort_ste).ok());
  }
}

TEST_CASE("sim: one HWPT per host IOMMU group (the seed's two-devices-one-group report)") {
  viommu_setup s;
  host& h = s.h;  // d4 and d5 share group 12
  REQUIRE(h.k.attach(h.d4, h.s2_0).ok());
  // The group's domain is set for both devices, though only d4 is attached through iommufd.
  CHECK(h.k.ste_of(h.d5).kind == ste_kind::s2);
  CHECK(h.k.attached_hwpt(h.d5) == no_object);
  // QEMU v9 attaches the second device of the group to a different HWPT: EINVAL.
  const auto r = h.k.attach(h.d5, s.bypass_hwpt);
  CHECK(r.err() == EINVAL);
  CHECK(h.k.attached_hwpt(h.d5) == no_object);
  // Joining the group's HWPT works.
  REQUIRE(h.k.attach(h.d5, h.s2_0).ok());
  CHECK(h.k.users_of(h.s2_0) == 3);  // the vIOMMU and two devices
  // A replace moves the whole group.
  REQUIRE(h.k.attach(h.d4, s.bypass_hwpt).ok());
  CHECK(h.k.attached_hwpt(h.d4) == s.bypass_hwpt);
  CHECK(h.k.attached_hwpt(h.d5) == s.bypass_hwpt);
  CHECK(h.k.ste_of(h.d5).kind == ste_kind::s2);
  CHECK(h.k.users_of(s.bypass_hwpt) == 2);
  CHECK(h.k.users_of(h.s2_0) == 1);  // the vIOMMU only
  // ... or none of it: d5 has no vDEVICE, so a translate HWPT fails for the group.
  REQUIRE(h.k.alloc_vdevice(s.v, h.d4, 0x0308).ok());
  const object_id t = *h.k.alloc_nested_hwpt(h.d4, s.v, 0, s1_ste());
  CHECK(h.k.attach(h.d4, t).err() == ENOENT);
  CHECK(h.k.attached_hwpt(h.d4) == s.bypass_hwpt);
  CHECK(h.k.attached_hwpt(h.d5) == s.bypass_hwpt);
  REQUIRE(h.k.alloc_vdevice(s.v, h.d5, 0x0309).ok());
  REQUIRE(h.k.attach(h.d5, t).ok());
  CHECK(h.k.attached_hwpt(h.d4) == t);
  CHECK(h.k.ste_of(h.d4).kind == ste_kind::nested);
  CHECK(h.k.ste_of(h.d5).kind == ste_kind::nested);
  CHECK(h.k.event_vsid(h.d4) == 0x0308u);
  CHECK(h.k.event_vsid(h.d5) == 0x0309u);
  // d2, in another group, is free to differ.
  CHECK(h.k.attach(h.d2, s.abort_hwpt).ok());
}

TEST_CASE("sim: a group sibling without a vDEVICE blocks a translate attach") {
  viommu_setup s;
  host& h = s.h;  // d4 and d5 share group 12; only d4 is used by the guest so far
  REQUIRE(h.k.alloc_vdevice(s.v, h.d4, 0x0308).ok());
  const object_id t = *h.k.alloc_nested_hwpt(h.d4, s.v, 0, s1_ste());
  CHECK(h.k.attach(h.d4, t).err() == ENOENT);  // d5 would get the S1 STE without a vSID
  CHECK(h.k.ste_of(h.d5).kind == ste_kind::none);
  REQUIRE(h.k.alloc_vdevice(s.v, h.d5, 0x0309).ok());
  REQUIRE(h.k.attach(h.d4, t).ok());
  CHECK(h.k.ste_of(h.d5).kind == ste_kind::nested);
  CHECK(h.k.attached_hwpt(h.d5) == no_object);
  CHECK(h.k.event_vsid(h.d5) == 0x0309u);
}

TEST_CASE("sim: the vSID for events is taken at attach; re-attaching the same HWPT keeps it") {
  viommu_setup s;
  host& h = s.h;
  REQUIRE(h.k.attach(h.d2, s.bypass_hwpt).ok());  // GBPA proxy, no vDEVICE yet
  CHECK_FALSE(h.k.event_vsid(h.d2).has_value());
  REQUIRE(h.k.alloc_vdevice(s.v, h.d2, 0x0310).ok());
  REQUIRE(h.k.attach(h.d2, s.bypass_hwpt).ok());  // a no-op in iommufd
  CHECK_FALSE(h.k.event_vsid(h.d2).has_value());
  REQUIRE(h.k.attach(h.d2, s.abort_hwpt).ok());  // a real replace picks the vDEVICE up
  CHECK(h.k.event_vsid(h.d2) == 0x0310u);
}
