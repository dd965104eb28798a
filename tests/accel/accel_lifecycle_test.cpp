// vIOMMU lifecycle, admission, host compatibility at attach, hot plug, groups, GBPA/SMMUEN/reset,
// host events and the PASID report, against the simulated kernel (seed patches 10, 12, 15, 21;
// "Test cases implied" 10-27, 42-48 of patches 01-15, 16-27 and 57 of patches 16-37).
#include <catch2/catch.hpp>

#include <vsmmu/pcie/config_model.hpp>
#include <vsmmu/pcie/pasid_synthesis.hpp>

#include <algorithm>
#include <cerrno>

#include "accel/accel_fixture.hpp"

using namespace accel_test;
using K::operation;

namespace {
bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("accel lifecycle: first bind creates the vIOMMU and attaches the GBPA proxy (15)",
          "[accel]") {
  host h;
  const auto dev = h.add(1, 0x10);
  const std::size_t start = h.k.live_objects();
  vsmmu_t v(h.k);
  const std::size_t t0 = h.k.trace().size();
  const auto r = v.attach_device(h.desc(dev, std::nullopt));
  REQUIRE(r.ok());
  CHECK(r.status == A::attach_status::accelerated);
  const auto calls = h.calls_since(t0);
  REQUIRE(calls.size() == 6);
  CHECK(has(calls[0], "IOMMU_GET_HW_INFO(dev=" + std::to_string(dev)));
  CHECK(has(calls[1], "IOMMU_VIOMMU_ALLOC(dev=" + std::to_string(dev) +
                          ", type=1, hwpt=" + std::to_string(h.s2[0])));
  CHECK(has(calls[2], "ste=0x0000000000000001:0x0000000000000000"));
  CHECK(has(calls[3], "ste=0x0000000000000009:0x0000000000000000"));
  CHECK(has(calls[4], "IOMMU_VEVENTQ_ALLOC"));
  CHECK(has(calls[5], "VFIO_DEVICE_ATTACH_IOMMUFD_PT(dev=" + std::to_string(dev) +
                          ", pt=" + std::to_string(v.bypass_hwpt())));
  CHECK(h.k.attached_hwpt(dev) == v.bypass_hwpt());
  CHECK(h.k.ste_of(dev).kind == K::ste_kind::s2);  // bypass: stage 2 only
  CHECK(h.k.live_objects() == start + v.objects());
  CHECK(v.objects() == 4);

  // The last device leaves: back on its stage 2, everything destroyed.
  REQUIRE(v.detach_device(dev).ok());
  CHECK(h.k.attached_hwpt(dev) == h.s2[0]);
  CHECK_FALSE(v.has_viommu());
  CHECK(h.k.live_objects() == start);
  // A new bind builds a new vIOMMU.
  REQUIRE(v.attach_device(h.desc(dev, std::nullopt)).ok());
  CHECK(v.has_viommu());
  CHECK(h.k.live_objects() == start + 4);
}

TEST_CASE("accel lifecycle: GBPA.ABORT at first bind attaches the abort proxy (16)", "[accel]") {
  host h;
  const auto dev = h.add(1, 0x10);
  vsmmu_t v(h.k);
  (void)v.set_gbpa(0x8000'0000 | cr_gbpa_abort);
  CHECK(v.gbpa() == cr_gbpa_abort);  // Update is not stored
  REQUIRE(v.attach_device(h.desc(dev, std::nullopt)).ok());
  CHECK(h.k.attached_hwpt(dev) == v.abort_hwpt());
  CHECK(h.k.ste_of(dev).kind == K::ste_kind::abort);
}

TEST_CASE("accel lifecycle: a second device joins on the HWPT it needs (18, 48)", "[accel]") {
  host h;
  const auto d1 = h.add(1, 0x10);
  const auto d2 = h.add(2, 0x20);
  vsmmu_t v(h.k);
  REQUIRE(v.attach_device(h.desc(d1, std::nullopt, 0, 1)).ok());
  (void)v.set_gbpa(cr_gbpa_abort);
  CHECK(h.k.attached_hwpt(d1) == v.abort_hwpt());
  const std::size_t t0 = h.k.trace().size();
  REQUIRE(v.attach_device(h.desc(d2, 0x0308, 0, 2), h.source()).ok());
  // The seed does nothing here (the device stays on stage 2, i.e. bypass); it must abort.
  const auto ops = h.ops_since(t0);
  CHECK(ops == std::vector<operation>{operation::get_hw_info, operation::alloc_vdevice,
                                      operation::attach});
  CHECK(h.k.attached_hwpt(d2) == v.abort_hwpt());
  CHECK(h.k.vdevice_of(d2) != K::no_object);

  // Binding the same device again: nothing. Another device with that StreamID: refused.
  const auto d3 = h.add(3, 0x30);
  const std::size_t t1 = h.k.trace().size();
  CHECK(v.attach_device(h.desc(d2, 0x0308, 0, 2)).status == A::attach_status::already_bound);
  const auto dup = v.attach_device(h.desc(d3, 0x0308, 0, 3));
  CHECK(dup.status == A::attach_status::refused_duplicate);
  CHECK(h.k.trace().size() == t1);
}

TEST_CASE("accel lifecycle: unbind order, and a failed stage-2 attach changes nothing (21-24)",
          "[accel]") {
  host h;
  const auto d1 = h.add(1, 0x10);
  const auto d2 = h.add(2, 0x20);
  const std::size_t start = h.k.live_objects();
  vsmmu_t v(h.k);
  h.stes[0x100] = s1_ste();
  REQUIRE(v.attach_device(h.desc(d1, 0x100, 0, 1)).ok());
  REQUIRE(v.attach_device(h.desc(d2, 0x200, 0, 2)).ok());
  REQUIRE(v.set_smmuen(true, h.source()).ok());
  const auto t = h.k.attached_hwpt(d1);
  CHECK(v.kind_of(t) == A::hwpt_kind::nested);
  const auto vd = h.k.vdevice_of(d1);

  // The stage-2 attach fails: the device stays, nothing is destroyed.
  h.k.fail_operation(operation::attach, EIO);
  const auto bad = v.detach_device(d1);
  CHECK_FALSE(bad.ok());
  CHECK(has(bad.message, "Unable to attach the default HW pagetable"));
  CHECK(v.device_count() == 2);
  CHECK(h.k.attached_hwpt(d1) == t);

  const std::size_t t0 = h.k.trace().size();
  REQUIRE(v.detach_device(d1).ok());
  CHECK(h.calls_since(t0) ==
        std::vector<std::string>{"VFIO_DEVICE_ATTACH_IOMMUFD_PT(dev=" + std::to_string(d1) +
                                     ", pt=" + std::to_string(h.s2[0]) + ") = 0",
                                 "IOMMU_DESTROY(id=" + std::to_string(t) + ") = 0",
                                 "IOMMU_DESTROY(id=" + std::to_string(vd) + ") = 0"});
  CHECK(v.has_viommu());
  // Unknown device: a no-op.
  const std::size_t t1 = h.k.trace().size();
  CHECK(v.detach_device(999).ok());
  CHECK(h.k.trace().size() == t1);
  REQUIRE(v.detach_device(d2).ok());
  CHECK(h.k.live_objects() == start);
}

TEST_CASE("accel lifecycle: admission refuses cleanly, bridges are taken (10-12)", "[accel]") {
  host h;
  vsmmu_t v(h.k);
  A::device_desc d;
  d.kind = A::device_kind::emulated_endpoint;
  const auto e = v.attach_device(d);
  CHECK(e.status == A::attach_status::refused_kind);
  CHECK(e.message == "Emulated endpoint devices are not allowed when using arm-smmuv3,accel=on");
  d.kind = A::device_kind::vfio_legacy;
  CHECK(has(v.attach_device(d).message, "without an iommufd backend"));
  d.kind = A::device_kind::root_port;
  CHECK(v.attach_device(d).status == A::attach_status::emulated);
  CHECK(h.k.trace().size() == 1);  // the fixture's IOAS
  CHECK(v.device_count() == 0);
}

TEST_CASE("accel lifecycle: two devices of one host IOMMU group both work (25)", "[accel]") {
  // The seed's v9 fails the second device's attach with EINVAL: the first one's GBPA attach
  // moved the group away from the stage 2 the second one then tries to join.
  host h;
  const auto d1 = h.add(7, 0x10);
  const auto d2 = h.add(7, 0x11);
  vsmmu_t v(h.k);
  REQUIRE(v.attach_device(h.desc(d1, 0x300, 0, 7), h.source()).ok());
  REQUIRE(v.attach_device(h.desc(d2, 0x308, 0, 7), h.source()).ok());
  CHECK(h.k.attached_hwpt(d1) == h.k.attached_hwpt(d2));
  // A translate STE for one moves the group, and both stay on one HWPT.
  h.stes[0x300] = s1_ste();
  h.stes[0x308] = s1_ste();
  REQUIRE(v.set_smmuen(true, h.source()).ok());
  CHECK(h.k.attached_hwpt(d1) == h.k.attached_hwpt(d2));
  CHECK(h.k.ste_of(d1).kind == K::ste_kind::nested);
  CHECK(h.k.ste_of(d2).kind == K::ste_kind::nested);
  CHECK(h.k.live_objects() - 2 == v.objects());  // IOAS and S2 are not the vSMMU's
  // One leaves: its partner keeps the group's HWPT.
  REQUIRE(v.detach_device(d1).ok());
  CHECK(h.k.ste_of(d2).kind == K::ste_kind::nested);
  REQUIRE(v.detach_device(d2).ok());
  CHECK(h.k.live_objects() == 2);
}

TEST_CASE("accel lifecycle: hot plug, compatible and not (27), fully specified mode", "[accel]") {
  K::sim_smmu linear;
  linear.idr[0] &= ~(3U << 27);  // ST_LEVEL linear only
  host h;
  h.smmus.push_back(h.k.add_smmu(linear));
  const auto d1 = h.add(1, 0x10);
  const auto bad = h.add(2, 0x20, 1);
  const auto d3 = h.add(3, 0x30);
  vsmmu_t v(h.k);  // the default properties are fully specified: boots with no device
  CHECK(v.frozen());
  const auto idrs = v.id_registers();
  REQUIRE(v.attach_device(h.desc(d1, 0x100, 0, 1)).ok());
  h.stes[0x300] = s1_ste();
  REQUIRE(v.set_smmuen(true, h.source()).ok());
  const std::size_t live = h.k.live_objects();

  const auto r = v.attach_device(h.desc(bad, 0x200, 1, 2), h.source());
  CHECK(r.status == A::attach_status::refused_incompatible);
  REQUIRE(r.compat);
  CHECK(r.compat->field == A::compat_field::st_level);
  CHECK(has(r.message, "host STLEVEL=0"));
  CHECK(h.k.live_objects() == live);
  CHECK(v.device_count() == 1);
  CHECK(v.id_registers() == idrs);

  // A compatible hot-plugged device with a translate STE gets its nested HWPT at once.
  REQUIRE(v.attach_device(h.desc(d3, 0x300, 0, 3), h.source()).ok());
  CHECK(h.k.ste_of(d3).kind == K::ste_kind::nested);
  CHECK(v.id_registers() == idrs);
}

TEST_CASE("accel lifecycle: a device behind another physical SMMU is refused (27)", "[accel]") {
  host h;
  h.smmus.push_back(h.k.add_smmu(K::sim_smmu{}));
  const auto d1 = h.add(1, 0x10);
  const auto d2 = h.add(2, 0x10, 1);
  vsmmu_t v(h.k);
  REQUIRE(v.attach_device(h.desc(d1, std::nullopt)).ok());
  const std::size_t live = h.k.live_objects();
  const auto r = v.attach_device(h.desc(d2, std::nullopt, 1, 2));
  CHECK(r.status == A::attach_status::refused_topology);
  CHECK(h.k.live_objects() == live);
}

TEST_CASE("accel lifecycle: auto properties resolve from the first device, then freeze",
          "[accel]") {
  K::sim_smmu small;
  small.idr[1] = (small.idr[1] & ~(0x1fU << 6)) | (8U << 6);  // SSIDSIZE 8
  host h;
  h.smmus.push_back(h.k.add_smmu(small));
  const auto d1 = h.add(1, 0x10);
  const auto d2 = h.add(2, 0x20, 1);
  A::accel_config cfg;
  cfg.props.ssidsize = {true, 0};
  cfg.props.oas = {true, 0};
  cfg.props.ril = A::on_off_auto::automatic;
  vsmmu_t v(h.k, cfg);
  CHECK_FALSE(v.frozen());
  REQUIRE(v.attach_device(h.desc(d1, std::nullopt)).ok());
  CHECK(v.resolved().ssidsize == 20);
  CHECK(v.resolved().oas_bits == 48);
  CHECK(v.resolved().ril);
  CHECK(v.viommu_flags() == 0x3);
  v.freeze();
  // Hot plug on a host SMMU with fewer SSID bits: refused, values kept.
  const auto r = v.attach_device(h.desc(d2, std::nullopt, 1, 2));
  CHECK(r.status == A::attach_status::refused_incompatible);
  CHECK(v.resolved().ssidsize == 20);
}

TEST_CASE("accel lifecycle: a kernel without GBPA nested attach (26)", "[accel]") {
  K::kernel_behaviour old;
  old.gbpa_attach_without_vdevice = false;
  host h(old);
  const auto dev = h.add(1, 0x10);
  const std::size_t start = h.k.live_objects();
  vsmmu_t v(h.k);
  const auto r = v.attach_device(h.desc(dev, std::nullopt));
  CHECK(r.status == A::attach_status::host_failure);
  CHECK(has(r.message, "Allow attaching nested domain for GBPA cases"));
  CHECK(h.k.live_objects() == start);
  CHECK_FALSE(v.has_viommu());
  // Known StreamID: the vDEVICE comes first and the attach works.
  REQUIRE(v.attach_device(h.desc(dev, 0x100)).ok());
  CHECK(h.k.attached_hwpt(dev) == v.bypass_hwpt());
}

TEST_CASE("accel lifecycle: GBPA, SMMUEN edges and reset (42, 44-47)", "[accel]") {
  host h;
  const auto d1 = h.add(1, 0x10);
  const auto d2 = h.add(2, 0x20);
  vsmmu_t v(h.k);
  // No vIOMMU: nothing to do.
  const std::size_t t = h.k.trace().size();
  CHECK(v.set_gbpa(cr_gbpa_abort).ok());
  CHECK(h.k.trace().size() == t);
  (void)v.set_gbpa(0x1000);
  REQUIRE(v.attach_device(h.desc(d1, 0x100, 0, 1)).ok());
  REQUIRE(v.attach_device(h.desc(d2, 0x200, 0, 2)).ok());
  REQUIRE(v.set_gbpa(0x8000'0000 | cr_gbpa_abort).ok());
  CHECK(h.k.attached_hwpt(d1) == v.abort_hwpt());
  CHECK(h.k.attached_hwpt(d2) == v.abort_hwpt());

  h.stes[0x100] = s1_ste();
  h.stes[0x200] = config_ste(vsmmu::smmuv3::ste_config::bypass);
  REQUIRE(v.set_smmuen(true, h.source()).ok());
  CHECK(v.kind_of(h.k.attached_hwpt(d1)) == A::hwpt_kind::nested);
  CHECK(h.k.attached_hwpt(d2) == v.bypass_hwpt());
  // GBPA while SMMUEN = 1: architecturally nothing (the seed moves everything; test 46).
  const std::size_t t0 = h.k.trace().size();
  REQUIRE(v.set_gbpa(0x1000).ok());
  CHECK(h.k.trace().size() == t0);
  CHECK(v.kind_of(h.k.attached_hwpt(d1)) == A::hwpt_kind::nested);
  // SMMUEN 1 -> 0: GBPA (bypass now); the nested HWPT goes (test 47).
  const std::size_t nested_before = h.k.live_objects(K::object_kind::hwpt_nested);
  REQUIRE(v.set_smmuen(false, h.source()).ok());
  CHECK(h.k.attached_hwpt(d1) == v.bypass_hwpt());
  CHECK(h.k.live_objects(K::object_kind::hwpt_nested) == nested_before - 1);
  REQUIRE(v.set_smmuen(true, h.source()).ok());
  REQUIRE(v.reset().ok());
  CHECK(h.k.attached_hwpt(d1) == v.bypass_hwpt());
  CHECK(h.k.attached_hwpt(d2) == v.bypass_hwpt());
  CHECK(h.k.vdevice_of(d1) != K::no_object);  // vDEVICEs survive a reset
  CHECK(h.k.live_objects() - 2 == v.objects());
}

TEST_CASE("accel events: vEVENTQ records to the guest, gaps and lost events", "[accel]") {
  host h;
  const auto d1 = h.add(1, 0x10);
  vsmmu_t v(h.k);
  h.stes[0x308] = s1_ste();
  REQUIRE(v.attach_device(h.desc(d1, 0x308), h.source()).ok());
  REQUIRE(v.set_smmuen(true, h.source()).ok());
  const std::array<std::uint64_t, 4> fault{0x10 /* F_TRANSLATION */, 0, 0x1234'5000, 0};
  REQUIRE(h.k.inject_event(d1, fault) == K::event_delivery::queued);
  REQUIRE(h.k.inject_event(d1, fault) == K::event_delivery::queued);
  std::vector<A::event_record> got;
  auto r = v.drain_events([&](const A::event_record& e) { got.push_back(e); });
  CHECK(r.delivered == 2);
  CHECK_FALSE(r.lost);
  REQUIRE(got.size() == 2);
  CHECK(A::event_sid(got[0]) == 0x308);  // the kernel rewrote the pSID to the vSID
  CHECK(got[0][2] == 0x1234'5000);
  // More than the vEVENTQ holds: the overflow reaches the guest as `lost`.
  for (int i = 0; i < 70; ++i) (void)h.k.inject_event(d1, fault);
  got.clear();
  r = v.drain_events([&](const A::event_record& e) { got.push_back(e); });
  CHECK(r.lost);
  CHECK(got.size() == 64);
  // Empty queue: nothing, no error.
  r = v.drain_events([&](const A::event_record& e) { got.push_back(e); });
  CHECK(r.delivered == 0);
  CHECK(r.host.code == 0);
}

TEST_CASE("accel pasid: the report feeds the PCIe synthesis (57, 58)", "[accel]") {
  host h;
  const auto d1 = h.add(1, 0x10);
  A::accel_config cfg;
  cfg.props.ssidsize = {false, 20};
  vsmmu_t v(h.k, cfg);
  REQUIRE(v.attach_device(h.desc(d1, std::nullopt)).ok());
  const auto rep = v.pasid_for(d1);
  REQUIRE(rep.host);
  CHECK(rep.host->width == 20);
  CHECK(rep.host->exec);
  CHECK_FALSE(rep.host->priv);
  CHECK(rep.ssidsize == 20);

  vsmmu::pcie::config_model m;
  // One extended capability at 100h (AER, version 1, end of list).
  m.config[0x100] = std::byte{0x01};
  m.config[0x102] = std::byte{0x01};
  const auto s = vsmmu::pcie::synthesize_pasid(m, rep.request());
  CHECK(s.ok());
  CHECK(s.width == 20);

  vsmmu_t v0(h.k);  // ssidsize 0: no PASID for the guest
  CHECK(vsmmu::pcie::synthesize_pasid(m, v0.pasid_for(d1).request()).status ==
        vsmmu::pcie::pasid_synthesis_status::viommu_without_pasid);
}

TEST_CASE("accel lifecycle: a failed vIOMMU creation unwinds in reverse (17)", "[accel]") {
  host h;
  const auto dev = h.add(1, 0x10);
  const std::size_t start = h.k.live_objects();
  vsmmu_t v(h.k);
  h.k.fail_operation(operation::alloc_veventq, ENOMEM);
  const std::size_t t0 = h.k.trace().size();
  const auto r = v.attach_device(h.desc(dev, std::nullopt));
  CHECK(r.status == A::attach_status::host_failure);
  CHECK(has(r.message, "Unable to alloc vIOMMU: idev devid 0x" + std::to_string(dev)));
  CHECK(has(r.message, "IOMMU_VEVENTQ_ALLOC failed"));
  const auto& tr = h.k.trace();
  REQUIRE(tr.size() == t0 + 8);
  const auto viommu = tr[t0 + 1].out;
  const auto abort_id = tr[t0 + 2].out;
  const auto bypass_id = tr[t0 + 3].out;
  CHECK(tr[t0 + 5].op == operation::destroy);
  CHECK(tr[t0 + 5].args[0] == bypass_id);
  CHECK(tr[t0 + 6].args[0] == abort_id);
  CHECK(tr[t0 + 7].args[0] == viommu);
  CHECK_FALSE(v.has_viommu());
  CHECK(h.k.live_objects() == start);
  CHECK(h.k.attached_hwpt(dev) == h.s2[0]);
}

TEST_CASE("accel lifecycle: a GBPA change that fails for one device (43)", "[accel]") {
  host h;
  const auto d1 = h.add(1, 0x10);
  const auto d2 = h.add(2, 0x20);
  vsmmu_t v(h.k);
  REQUIRE(v.attach_device(h.desc(d1, 0x100, 0, 1)).ok());
  REQUIRE(v.attach_device(h.desc(d2, 0x200, 0, 2)).ok());
  h.k.fail_operation(operation::attach, EINVAL);
  const auto r = v.set_gbpa(cr_gbpa_abort);
  CHECK_FALSE(r.ok());
  CHECK(has(r.message, "Failed to attach device 0x" + std::to_string(d1)));
  // The first device stays on bypass, the second moved: each is where the vSMMU believes.
  CHECK(h.k.attached_hwpt(d1) == v.bypass_hwpt());
  CHECK(h.k.attached_hwpt(d2) == v.abort_hwpt());
  CHECK(v.device_info(d1)->attached == v.bypass_hwpt());
  CHECK(v.gbpa() == cr_gbpa_abort);
}

TEST_CASE("accel lifecycle: deferring the proxy attach on an old kernel (26, the fallback)",
          "[accel]") {
  K::kernel_behaviour old;
  old.gbpa_attach_without_vdevice = false;
  host h(old);
  const auto dev = h.add(1, 0x10);
  A::accel_config cfg;
  cfg.defer_proxy_attach = true;
  vsmmu_t v(h.k, cfg);
  const auto r = v.attach_device(h.desc(dev, std::nullopt));
  REQUIRE(r.ok());
  CHECK(has(r.message, "stays on its stage 2"));
  CHECK(v.device_info(dev)->deferred);
  CHECK(h.k.attached_hwpt(dev) == h.s2[0]);
  CHECK(h.k.live_objects() - 2 == v.objects());
  // Enumerated: the next install makes the vDEVICE and attaches the GBPA proxy.
  REQUIRE(v.set_stream_id(dev, 0x100));
  REQUIRE(v.install_ste(0x100, std::nullopt).ok());
  CHECK(h.k.attached_hwpt(dev) == v.bypass_hwpt());
  CHECK_FALSE(v.device_info(dev)->deferred);
  REQUIRE(v.detach_device(dev).ok());
  CHECK(h.k.live_objects() == 2);
}
