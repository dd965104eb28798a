// SPDX-License-Identifier: BSL-1.0
// vsmmu-demo: a guest driver brings up the embeddable SMMUv3 model as Linux's arm-smmu-v3 does at
// probe, a device performs DMA through it, a page is unmapped and the fault arrives in the
// Event queue. scripts/demo.sh runs it after the inspector demo; docs/device.md explains it.

#include <vsmmu/device/smmu_device.hpp>
#include <vsmmu/memory/sparse.hpp>
#include <vsmmu/queue/signals.hpp>
#include <vsmmu/smmuv3/events.hpp>

#include <cinttypes>
#include <cstdio>
#include <string_view>

#include "guest_driver.hpp"

namespace {

namespace cmd = vsmmu::smmuv3::cmd;
namespace E = vsmmu::smmuv3::evt;
using memory = vsmmu::memory::sparse_memory;

// The machine: MSIs land in guest memory (Linux polls its CMD_SYNC entry for one), wired
// interrupts are counted.
struct demo_platform {
  explicit demo_platform(memory& m) : msis(m) {}
  vsmmu::queue::memory_msi_signals<memory> msis;
  unsigned eventq_irqs = 0;
  void raise(vsmmu::queue::signal s) noexcept {
    if (s == vsmmu::queue::signal::eventq) ++eventq_irqs;
  }
  vsmmu::memory::access_status write_msi(vsmmu::queue::signal s,
                                         const vsmmu::queue::msi_message& m) noexcept {
    return msis.write_msi(s, m);
  }
};

using device = vsmmu::device::smmu_device<vsmmu::device::default_config, memory, demo_platform>;

constexpr std::uint32_t sid = 0x10;
constexpr std::uint16_t asid = 1;
constexpr std::uint64_t iova = 0x1000'0000;
constexpr std::uint64_t pa = 0x8000'0000;

const char* yes(bool b) { return b ? "yes" : "no"; }

template <class Driver>
void report(Driver& d, const char* what) {
  const bool ok = d.consumed() && d.command_error() == 0;
  std::printf("  %-58s %s\n", what, ok ? "consumed" : "FAILED");
}

void dma(device& smmu, std::uint64_t addr, vsmmu::walk::access_kind access, const char* note = "") {
  const auto r = smmu.translate(sid, std::nullopt, addr, access);
  const char* op = access == vsmmu::walk::access_kind::write ? "write" : "read ";
  if (r.kind == vsmmu::walk::outcome::translated) {
    std::printf("  %s IOVA 0x%" PRIx64 " -> PA 0x%" PRIx64 "%s\n", op, addr, r.output_address(),
                note);
  } else {
    const auto* e = vsmmu::smmuv3::find_event(static_cast<std::uint8_t>(r.event.type()));
    const std::string_view name = r.recorded() && e != nullptr ? e->name : "aborted";
    std::printf("  %s IOVA 0x%" PRIx64 " -> fault, %.*s\n", op, addr, static_cast<int>(name.size()),
                name.data());
  }
}

}  // namespace

int main() {
  memory mem;
  demo_platform platform(mem);
  device smmu(mem, platform);
  demo::guest_driver<device, memory> driver(smmu, mem, 0x4000'0000, 0x100'0000);

  std::printf("vsmmu device demo: a guest driver brings up an emulated SMMUv3 as Linux does\n");
  std::printf("\n== probe: read the ID registers\n");
  const demo::probed p = driver.probe();
  std::printf("  IDR0 0x%08" PRIx32
              ": stage 1 %s, stage 2 %s, Hyp %s, 2-level stream table %s, MSI %s\n",
              driver.read32(vsmmu::smmuv3::regs::idr0::offset), yes(p.s1), yes(p.s2), yes(p.hyp),
              yes(p.two_level), yes(p.msi));
  std::printf("  IDR1 0x%08" PRIx32
              ": %u-bit StreamIDs, queues up to 2^%u commands / 2^%u events\n",
              driver.read32(vsmmu::smmuv3::regs::idr1::offset), p.sidsize, p.cmdqs, p.eventqs);

  driver.allocate(6, 5);
  std::printf("\n== allocate: Command queue (64 entries) at 0x%" PRIx64
              ", Event queue (32) at 0x%" PRIx64
              ",\n   2-level Stream table (SPLIT 8) at 0x%" PRIx64 "\n",
              driver.cmdq(), driver.eventq(), driver.stream_table().base);

  std::printf("\n== enable: CMDQEN, invalidate, EVENTQEN, SMMUEN (polling CR0ACK each time)\n");
  driver.use_msi_polling(true);
  driver.enable();
  std::printf("  CMD_CFGI_ALL, CMD_SYNC; %sCMD_TLBI_NSNH_ALL, CMD_SYNC\n",
              p.hyp ? "CMD_TLBI_EL2_ALL (IDR0.Hyp), " : "");
  std::printf("  CR0ACK 0x%" PRIx32 " (SMMUEN, CMDQEN, EVENTQEN), GERROR 0x%" PRIx32 "\n",
              driver.read32(vsmmu::smmuv3::regs::cr0ack::offset),
              driver.read32(vsmmu::smmuv3::regs::gerror::offset));

  std::printf("\n== attach StreamID 0x%" PRIx32
              ": STE (stage 1) -> CD (ASID %u) -> page tables,\n"
              "   4 pages IOVA 0x%" PRIx64 " -> PA 0x%" PRIx64 "\n",
              sid, asid, iova, pa);
  driver.attach(sid, asid);
  for (std::uint64_t i = 0; i < 4; ++i) driver.map(iova + i * 0x1000, pa + i * 0x1000);
  driver.submit(
      cmd::make<cmd::cfgi_ste::layout>().set<cmd::StreamID>(sid).set<cmd::Leaf>(true).words());
  driver.submit(
      cmd::make<cmd::cfgi_cd::layout>().set<cmd::StreamID>(sid).set<cmd::Leaf>(true).words());
  driver.submit(cmd::make<cmd::tlbi_nh_asid::layout>().set<cmd::ASID>(asid).words());
  const bool synced = driver.sync();
  report(driver, synced ? "CMD_CFGI_STE, CMD_CFGI_CD, CMD_TLBI_NH_ASID, CMD_SYNC (MSI)"
                        : "CMD_SYNC did not complete");

  std::printf("\n== device DMA through translate()\n");
  dma(smmu, iova + 0x10, vsmmu::walk::access_kind::read);
  dma(smmu, iova + 0x1040, vsmmu::walk::access_kind::write);
  dma(smmu, iova + 0x3ff8, vsmmu::walk::access_kind::write);

  std::printf("\n== unmap IOVA 0x%" PRIx64 " (clear its page table entry), then invalidate\n",
              iova + 0x1000);
  driver.unmap(iova + 0x1000);
  dma(smmu, iova + 0x1040, vsmmu::walk::access_kind::write, "  (stale: still in the IOTLB)");
  driver.submit(cmd::make<cmd::tlbi_nh_va::layout>()
                    .set<cmd::ASID>(asid)
                    .set<cmd::Address>(iova + 0x1000)
                    .set<cmd::Leaf>(true)
                    .words());
  driver.sync();
  report(driver, "CMD_TLBI_NH_VA, CMD_SYNC");
  dma(smmu, iova + 0x1040, vsmmu::walk::access_kind::write);

  const auto events = driver.read_events();
  std::printf("\n== Event queue: %zu record(s), %u interrupt(s)\n", events.size(),
              platform.eventq_irqs);
  for (const auto& e : events) {
    const auto* desc = vsmmu::smmuv3::find_event(static_cast<std::uint8_t>(e.type()));
    const auto v = e.as<E::f_translation::layout>();
    const std::string_view name = desc != nullptr ? desc->name : "unknown";
    std::printf("  %.*s: StreamID 0x%" PRIx32 ", InputAddr 0x%" PRIx64 ", %s\n",
                static_cast<int>(name.size()), name.data(), v.get<E::StreamID>(),
                v.get<E::InputAddr>(), v.get<E::RnW>() ? "read" : "write");
  }
  const bool ok = events.size() == 1 && events[0].type() == E::type::f_translation &&
                  smmu.diagnostics_total() == 0;
  std::printf("\n%s\n", ok ? "demo: OK" : "demo: FAILED");
  return ok ? 0 : 1;
}
