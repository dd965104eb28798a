// The accelerated (nested) vSMMU over the simulated iommufd kernel: two passed-through devices
// behind one physical SMMU, a guest that enables the SMMU with a stage-1 STE, invalidates, and a
// hot unplug. Each step prints the iommufd calls it made. The second part runs the device model
// (device::smmu_device) in accelerated mode under a guest driver (device_part.hpp).
#include <vsmmu/accel/accelerated_vsmmu.hpp>
#include <vsmmu/accel/iommufd/simulated_kernel.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/ste.hpp>

#include <cstdio>
#include <map>
#include <optional>
#include <vector>

#include "device_part.hpp"

namespace A = vsmmu::accel;
namespace K = vsmmu::accel::iommufd;
namespace C = vsmmu::smmuv3::cmd;
namespace S = vsmmu::smmuv3::ste;

namespace {

std::size_t shown = 0;

void show(const K::simulated_kernel& k, const char* step) {
  std::printf("== %s\n", step);
  for (; shown < k.trace().size(); ++shown)
    std::printf("  %s\n", k.trace()[shown].to_string().c_str());
}

}  // namespace

int main() {
  // The host: one SMMU, two devices in their own IOMMU groups, bound to the iommufd and
  // attached by VFIO to a nesting-parent stage 2 on the VM's IOAS.
  K::simulated_kernel k;
  const std::size_t smmu = k.add_smmu(K::sim_smmu{});
  const K::device_id nic = k.add_device({smmu, 1, 0x10, false, 20, true, false});
  const K::device_id gpu = k.add_device({smmu, 2, 0x20, false, 0, false, false});
  const K::object_id ioas = *k.alloc_ioas();
  const K::object_id s2 = *k.alloc_s2_hwpt(nic, ioas, K::hwpt_flag::nest_parent);
  (void)k.attach(nic, s2);
  (void)k.attach(gpu, s2);
  show(k, "VFIO: IOAS, nesting-parent stage 2, devices attached");

  // The guest's stream table, as the device model would read it.
  std::map<std::uint32_t, A::ste_words> stes;
  const auto source = [&](std::uint32_t sid) -> std::optional<A::ste_words> {
    const auto it = stes.find(sid);
    return it == stes.end() ? std::nullopt : std::optional<A::ste_words>(it->second);
  };

  A::accelerated_vsmmu<K::simulated_kernel> vsmmu(k);
  const auto desc = [&](K::device_id dev, std::uint32_t sid, std::uint32_t group) {
    A::device_desc d;
    d.kind = A::device_kind::vfio_iommufd;
    d.sid = sid;
    d.host.dev_id = dev;
    d.host.s2_hwpt = s2;
    d.host.iommu_group = group;
    return d;
  };

  auto r = vsmmu.attach_device(desc(nic, 0x0008, 1), source);
  show(k, "bind: first device (vIOMMU, proxies, vEVENTQ, vDEVICE, GBPA bypass)");
  r = vsmmu.attach_device(desc(gpu, 0x0010, 2), source);
  show(k, "bind: second device joins");

  A::device_desc emulated;
  emulated.kind = A::device_kind::emulated_endpoint;
  std::printf("== bind: an emulated NIC\n  refused: %s\n",
              vsmmu.attach_device(emulated).message.c_str());

  // The guest writes a stage-1 STE for the NIC, a bypass STE for the GPU, enables the SMMU.
  S::value ste;
  ste.set<S::V>(true)
      .set<S::Config>(vsmmu::smmuv3::ste_config::s1_trans)
      .set<S::S1ContextPtr>(0x4000'0000);
  stes[0x0008] = ste.words();
  stes[0x0010] =
      S::value{}.with<S::V>(true).with<S::Config>(vsmmu::smmuv3::ste_config::bypass).words();
  (void)vsmmu.set_smmuen(true, source);
  show(k, "install: SMMU_CR0.SMMUEN = 1 (nested HWPT for the NIC, bypass proxy for the GPU)");

  // The guest changes the NIC's context pointer and issues CMD_CFGI_STE + CMD_SYNC.
  stes[0x0008] = ste.with<S::S1ContextPtr>(0x4000'1000).words();
  std::vector<vsmmu::queue::command> cmds{
      {C::make<C::cfgi_ste::layout>().with<C::StreamID>(0x0008).words()},
      {C::make<C::sync::layout>().words()}};
  auto f = vsmmu.forward(cmds, source);
  show(k, "install: CMD_CFGI_STE (make-before-break)");

  // Invalidations: batched up to CMD_SYNC, one ioctl; stage-2 ones stay local.
  cmds = {{C::make<C::tlbi_nh_asid::layout>().with<C::ASID>(1).words()},
          {C::make<C::tlbi_nh_va::layout>().with<C::ASID>(1).words()},
          {C::make<C::cfgi_cd::layout>().with<C::StreamID>(0x0008).words()},
          {C::make<C::tlbi_s12_vmall::layout>().words()},
          {C::make<C::sync::layout>().words()}};
  f = vsmmu.forward(cmds, source);
  show(k, "invalidate: TLBI_NH_ASID, TLBI_NH_VA, CFGI_CD, TLBI_S12_VMALL, CMD_SYNC");
  std::printf("  consumed %zu, CERROR %s\n", f.consumed,
              std::string(vsmmu::smmuv3::to_string(f.error)).c_str());

  // A fault the host reports for the NIC reaches the guest's event queue with the vSID.
  (void)k.inject_event(nic, {0x10, 0, 0x1000, 0});
  std::vector<A::event_record> events;
  (void)vsmmu.drain_events([&](const A::event_record& e) { events.push_back(e); });
  show(k, "host event: F_TRANSLATION from the vEVENTQ");
  for (const A::event_record& e : events) {
    std::printf("  to the guest: event 0x%02llx, StreamID 0x%llx (the vSID)\n",
                static_cast<unsigned long long>(e[0] & 0xff),
                static_cast<unsigned long long>(e[0] >> 32));
  }

  (void)vsmmu.detach_device(gpu);
  show(k, "unbind: the GPU (back to stage 2, vDEVICE destroyed)");
  (void)vsmmu.detach_device(nic);
  show(k, "unbind: the last device (nested HWPT, vDEVICE, vEVENTQ, proxies, vIOMMU)");
  std::printf("live iommufd objects: %zu (the IOAS and the stage 2)\n", k.live_objects());
  const bool first_ok = r.ok() && k.live_objects() == 2;
  const int device_part = accel_demo::run_device_part();
  return first_ok && device_part == 0 ? 0 : 1;
}
