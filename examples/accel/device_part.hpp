// SPDX-License-Identifier: BSL-1.0
#pragma once

// The second part of vsmmu-accel-demo: the embeddable device model (device::smmu_device) in
// accelerated mode. A guest driver programs the SMMU through MMIO as Linux does; each guest step
// that reaches the host is printed with the iommufd calls it made.

#include <vsmmu/accel/accelerated_vsmmu.hpp>
#include <vsmmu/accel/iommufd/simulated_kernel.hpp>
#include <vsmmu/device/smmu_device.hpp>
#include <vsmmu/memory/sparse.hpp>
#include <vsmmu/queue/recording_signals.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/registers.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <guest_driver.hpp>

namespace accel_demo {

namespace A = vsmmu::accel;
namespace K = vsmmu::accel::iommufd;
namespace R = vsmmu::smmuv3::regs;
namespace C = vsmmu::smmuv3::cmd;
using memory = vsmmu::memory::sparse_memory;

// The device advertises what the vSMMU's properties give (the seed's defaults, fully specified).
using accel_config = vsmmu::device::raw_config<A::apply(A::resolve_without_host(A::properties{}),
                                                        A::seed_id_registers())>;
using vsmmu_type = A::accelerated_vsmmu<K::simulated_kernel>;
using device_type =
    vsmmu::device::smmu_device<accel_config, memory, vsmmu::queue::recording_signals, vsmmu_type>;

// Sits between the guest driver and the device: names the guest's commands and register
// updates, and prints the iommufd calls each one caused.
class traced_device {
 public:
  traced_device(device_type& d, memory& m, const K::simulated_kernel& k) : d_(d), m_(m), k_(k) {}

  std::uint64_t read(std::uint64_t off, unsigned size) { return d_.read(off, size); }
  void write(std::uint64_t off, unsigned size, std::uint64_t v) {
    const std::string what = describe(off, v);
    d_.write(off, size, v);
    if (!what.empty()) step(what);
  }

  // Prints a step (the guest's, or the VMM's) and the calls made since the last one.
  void step(const std::string& what, const char* who = "guest") {
    std::printf("  %s: %s\n", who, what.c_str());
    if (shown_ == k_.trace().size()) std::printf("           (no iommufd call)\n");
    calls();
  }
  void calls() {
    for (; shown_ < k_.trace().size(); ++shown_) {
      std::printf("    host: %s\n", k_.trace()[shown_].to_string().c_str());
    }
  }
  void skip() { shown_ = k_.trace().size(); }

 private:
  std::string describe(std::uint64_t off, std::uint64_t v) {
    if (off == R::cr0::offset) {
      std::string s = "SMMU_CR0 =";
      if (v & 1U) s += " SMMUEN";
      if (v & 4U) s += " EVENTQEN";
      if (v & 8U) s += " CMDQEN";
      return (v & 0xd) == 0 ? s + " 0" : s;
    }
    if (off == R::gbpa::offset) {
      if ((v >> 31) == 0) return "SMMU_GBPA without Update (ignored)";
      return (v >> 20) & 1U ? "SMMU_GBPA: Update, ABORT" : "SMMU_GBPA: Update, bypass";
    }
    if (off == R::gerrorn::offset) return "SMMU_GERRORN: acknowledges CMDQ_ERR";
    if (off != R::cmdq_prod::offset) return {};
    // The commands PROD publishes.
    const std::uint64_t base_reg = d_.read(R::cmdq_base::offset, 8);
    const unsigned log2 = static_cast<unsigned>(base_reg & 0x1f);
    const std::uint64_t base = base_reg & 0x00ff'ffff'ffff'ffe0ULL;
    const std::uint32_t mask = (2U << log2) - 1;
    std::uint32_t p = static_cast<std::uint32_t>(d_.read(R::cmdq_prod::offset, 4)) & mask;
    const std::uint32_t end = static_cast<std::uint32_t>(v) & mask;
    std::string s;
    for (; p != end; p = (p + 1) & mask) {
      const std::uint64_t at = base + std::uint64_t{p & (mask >> 1)} * 16;
      std::array<std::byte, 16> bytes{};
      for (unsigned w = 0; w < 2; ++w) {
        const std::uint64_t word = m_.read64(at + 8 * w).value;
        for (unsigned i = 0; i < 8; ++i) bytes[w * 8 + i] = std::byte((word >> (8 * i)) & 0xff);
      }
      const auto* desc = vsmmu::smmuv3::find_command(std::to_integer<std::uint8_t>(bytes[0]));
      if (!s.empty()) s += ", ";
      s += desc ? std::string(vsmmu::smmuv3::command_name(*desc, bytes)) : "(reserved)";
    }
    return s;
  }

  device_type& d_;
  memory& m_;
  const K::simulated_kernel& k_;
  std::size_t shown_ = 0;
};

using driver_type = demo::guest_driver<traced_device, memory>;

// Commands written after PROD and published with one PROD write (Linux's cmdlist).
inline void issue(driver_type& g, const std::vector<vsmmu::queue::command>& cmds) {
  const std::uint32_t size = 1U << g.cmdq_log2();
  std::uint32_t p = g.read32(R::cmdq_prod::offset) & (2 * size - 1);
  for (const auto& c : cmds) {
    const std::uint64_t at = g.cmdq() + std::uint64_t{p & (size - 1)} * 16;
    g.tables().write64(at, c.words[0]);
    g.tables().write64(at + 8, c.words[1]);
    p = (p + 1) & (2 * size - 1);
  }
  g.write32(R::cmdq_prod::offset, p);
}

inline vsmmu::queue::command sync_cmd() { return {C::make<C::sync::layout>().words()}; }

// Returns 0 when every step did what it should.
inline int run_device_part() {
  std::printf("\n== device model in accelerated mode: a guest driver on smmu_device\n");
  K::simulated_kernel k;
  const std::size_t host_smmu = k.add_smmu(K::sim_smmu{});
  const K::device_id nic = k.add_device({host_smmu, 1, 0x100, false, 0, false, false});
  const K::device_id gpu = k.add_device({host_smmu, 2, 0x200, false, 0, false, false});
  const K::object_id ioas = *k.alloc_ioas();
  const K::object_id s2 = *k.alloc_s2_hwpt(nic, ioas, K::hwpt_flag::nest_parent);
  (void)k.attach(nic, s2);
  (void)k.attach(gpu, s2);
  const std::size_t host_objects = k.live_objects();

  memory mem;
  vsmmu::queue::recording_signals signals;
  vsmmu_type vsmmu(k);
  device_type smmu(mem, signals, vsmmu);
  traced_device traced(smmu, mem, k);
  traced.skip();  // VFIO's own set-up
  driver_type g(traced, mem, 0x4000'0000, 0x100'0000);
  const auto desc = [&](K::device_id dev, std::uint32_t sid, std::uint32_t group) {
    A::device_desc d;
    d.sid = sid;
    d.host.dev_id = dev;
    d.host.s2_hwpt = s2;
    d.host.iommu_group = group;
    return d;
  };
  bool ok = smmu.accel_consistent();

  std::printf("  VMM: cold plug of the NIC, StreamID 0x10\n");
  ok &= smmu.attach_device(desc(nic, 0x10, 1)).ok();
  traced.calls();

  std::printf("  guest: probe, queues and a 2-level Stream table (no host calls)\n");
  g.probe();
  g.allocate(6, 5);
  g.enable();

  // The NIC's stage-1 context, then CFGI_STE and CMD_SYNC in one PROD write.
  g.attach(0x10, 1);
  g.map(0x1000'0000, 0x8000'0000);
  issue(g, {{C::make<C::cfgi_ste::layout>().with<C::StreamID>(0x10).words()}, sync_cmd()});
  ok &= k.ste_of(nic).kind == K::ste_kind::nested;

  // Unmap: the invalidations, batched up to the CMD_SYNC, one ioctl.
  g.unmap(0x1000'0000);
  issue(g,
        {{C::make<C::tlbi_nh_va::layout>().with<C::ASID>(1).with<C::Address>(0x1000'0000).words()},
         {C::make<C::cfgi_cd::layout>().with<C::StreamID>(0x10).words()},
         {C::make<C::tlbi_nh_asid::layout>().with<C::ASID>(1).words()},
         sync_cmd()});

  // The host refuses the next batch: the guest sees CERROR_ILL at its first command.
  k.fail_operation(K::operation::invalidate, EIO);
  issue(g, {{C::make<C::tlbi_nh_asid::layout>().with<C::ASID>(1).words()}, sync_cmd()});
  const std::uint32_t cons = g.read32(R::cmdq_cons::offset);
  std::printf(
      "           SMMU_CMDQ_CONS: RD 0x%x, ERR %s; SMMU_GERROR.CMDQ_ERR %s\n", cons & 0xfffff,
      std::string(vsmmu::smmuv3::to_string(static_cast<vsmmu::smmuv3::cerror>(g.command_error())))
          .c_str(),
      ((g.read32(R::gerror::offset) ^ g.read32(R::gerrorn::offset)) & 1U) ? "active" : "clear");
  ok &= g.command_error() == static_cast<std::uint8_t>(vsmmu::smmuv3::cerror::ill);
  // The guest retries: GERRORN acknowledges, the consumer resumes at CONS.
  g.write32(R::gerrorn::offset, g.read32(R::gerror::offset));
  ok &= g.consumed();

  // A fault the host's SMMU reports for the NIC reaches the guest's Event queue.
  (void)k.inject_event(nic, {0x10, 0, 0x1000'0000, 0});
  const auto polled = smmu.poll_host_events();
  traced.step("the vEVENTQ is readable: poll_host_events()", "VMM");
  for (const auto& e : g.read_events()) {
    std::printf("           event queue: type 0x%02x, StreamID 0x%x, InputAddr 0x%llx\n",
                static_cast<unsigned>(e.words()[0] & 0xff),
                static_cast<unsigned>(e.words()[0] >> 32),
                static_cast<unsigned long long>(e.words()[2]));
  }
  ok &= polled.delivered == 1;

  // Hot plug: the guest already wrote the GPU's STE; the new device gets it at once.
  g.attach(0x18, 2);
  issue(g, {{C::make<C::cfgi_ste::layout>().with<C::StreamID>(0x18).words()}, sync_cmd()});
  std::printf("  VMM: hot plug of the GPU, StreamID 0x18, into the running vIOMMU\n");
  ok &= smmu.attach_device(desc(gpu, 0x18, 2)).ok();
  traced.calls();
  ok &= k.ste_of(gpu).kind == K::ste_kind::nested;

  // SMMUEN off: both devices go to the GBPA proxy (abort, as the driver set GBPA).
  g.write32(R::cr0::offset, g.read32(R::cr0::offset) & ~1U);
  ok &= k.ste_of(nic).kind == K::ste_kind::abort;

  std::printf("  VMM: unplug both\n");
  ok &= smmu.detach_device(gpu).ok();
  ok &= smmu.detach_device(nic).ok();
  traced.calls();
  std::printf("  live iommufd objects: %zu (the IOAS and the stage 2)\n", k.live_objects());
  ok &= k.live_objects() == host_objects;
  std::printf("device part: %s\n", ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace accel_demo
