// The device model in accelerated mode (docs/device.md, docs/accel.md): a guest driver programs
// smmu_device through MMIO while accel::accelerated_vsmmu drives the simulated kernel, and the
// kernel's physical STEs, issued invalidations and call trace must match what the guest did.

#include <catch2/catch.hpp>

#include <vsmmu/accel/accelerated_vsmmu.hpp>
#include <vsmmu/accel/iommufd/simulated_kernel.hpp>
#include <vsmmu/device/smmu_device.hpp>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "accel/accel_fixture.hpp"
#include "device/fixture.hpp"
#include <guest_driver.hpp>

namespace {

namespace A = vsmmu::accel;
namespace K = vsmmu::accel::iommufd;
namespace vd = vsmmu::device;
namespace R = vsmmu::smmuv3::regs;
namespace C = vsmmu::smmuv3::cmd;
using vsmmu::memory::sparse_memory;
using vsmmu::smmuv3::cerror;

// The device advertises what the accelerated vSMMU's properties give (fully specified: the
// seed's defaults), so both judge guest STEs against the same features.
using accel_config =
    vd::raw_config<A::apply(A::resolve_without_host(A::properties{}), A::seed_id_registers())>;
using vsmmu_t = A::accelerated_vsmmu<K::simulated_kernel>;
using device_t = vd::smmu_device<accel_config, sparse_memory, fx::test_platform, vsmmu_t>;

static_assert(device_t::accelerated);
static_assert(vd::accelerator<vsmmu_t>);
static_assert(!vd::smmu_device<vd::default_config, sparse_memory, fx::test_platform>::accelerated);

constexpr std::uint64_t pool = 0x4000'0000;
constexpr std::uint32_t sid = 0x10;
constexpr std::uint32_t sid2 = 0x18;
constexpr std::uint16_t asid = 1;

template <class Config>
struct basic_rig {
  using device_type = vd::smmu_device<Config, sparse_memory, fx::test_platform, vsmmu_t>;
  accel_test::host h;
  vsmmu_t v;
  sparse_memory mem;
  fx::test_platform platform;
  device_type dev{mem, platform, v};
  demo::guest_driver<device_type, sparse_memory> g{dev, mem, pool, 0x100'0000};
  K::device_id d1 = 0;
  std::size_t baseline = 0;  // live kernel objects before the vSMMU made any

  explicit basic_rig(bool cold_plug = true, A::accel_config cfg = {}, bool ats = false)
      : v(h.k, cfg) {
    d1 = h.add(1, 0x100, 0, ats);
    baseline = h.k.live_objects();
    if (cold_plug) REQUIRE(dev.attach_device(h.desc(d1, sid)).ok());
  }

  std::uint32_t cmdq_size() const { return 1U << g.cmdq_log2(); }
  std::uint32_t prod() { return g.read32(R::cmdq_prod::offset) & (2 * cmdq_size() - 1); }
  std::uint32_t cons_rd() { return g.read32(R::cmdq_cons::offset) & (2 * cmdq_size() - 1); }
  std::uint8_t cons_err() { return g.command_error(); }
  bool cmdq_err_active() {
    return ((g.read32(R::gerror::offset) ^ g.read32(R::gerrorn::offset)) & 1U) != 0;
  }
  void ack_gerror() { g.write32(R::gerrorn::offset, g.read32(R::gerror::offset)); }

  // Writes the commands after PROD and publishes them with one PROD write, as Linux's
  // arm_smmu_cmdq_issue_cmdlist does. Returns the queue position of the first.
  std::uint32_t issue(const std::vector<vsmmu::queue::command>& cmds) {
    const std::uint32_t size = cmdq_size();
    const std::uint32_t first = prod();
    std::uint32_t p = first;
    for (const auto& c : cmds) {
      const std::uint64_t at = g.cmdq() + std::uint64_t{p & (size - 1)} * 16;
      g.tables().write64(at, c.words[0]);
      g.tables().write64(at + 8, c.words[1]);
      p = (p + 1) & (2 * size - 1);
    }
    g.write32(R::cmdq_prod::offset, p);
    return first;
  }
  void overwrite(std::uint32_t pos, const vsmmu::queue::command& c) {
    const std::uint64_t at = g.cmdq() + std::uint64_t{pos & (cmdq_size() - 1)} * 16;
    g.tables().write64(at, c.words[0]);
    g.tables().write64(at + 8, c.words[1]);
  }

  void boot() {
    g.probe();
    g.allocate(6, 5);
    g.enable();
  }
  // The guest gives `s` a stage-1 context and tells the SMMU (CFGI_STE, CMD_SYNC).
  std::uint64_t install(std::uint32_t s) {
    const std::uint64_t cd = g.attach(s, asid);
    issue({accel_test::cfgi_ste(s), accel_test::cmd_sync()});
    return cd;
  }
  K::physical_ste ste(K::device_id d) const { return h.k.ste_of(d); }
  std::size_t invalidates_since(std::size_t from) const {
    std::size_t n = 0;
    for (auto op : h.ops_since(from)) n += op == K::operation::invalidate ? 1 : 0;
    return n;
  }
};

using rig = basic_rig<accel_config>;

constexpr std::uint64_t ctx_mask = 0x000f'ffff'ffff'ffc0ULL;  // S1ContextPtr[51:6]

vsmmu::queue::command tlbi_va(std::uint16_t a, std::uint64_t addr) {
  return {C::make<C::tlbi_nh_va::layout>().with<C::ASID>(a).with<C::Address>(addr).words()};
}

}  // namespace

TEST_CASE("device accel: the configuration is the accelerated vSMMU's", "[device][accel]") {
  auto r = std::make_unique<rig>(false);
  CHECK(r->dev.accel_consistent());
  CHECK(r->dev.read(R::idr0::offset, 4) == accel_config::id_registers.idr0);
}

TEST_CASE("device accel: a guest brings the device up and the host follows", "[device][accel]") {
  auto r = std::make_unique<rig>();
  // Cold plug at reset: SMMUEN = 0, GBPA bypass: the device is on the bypass proxy (stage 2).
  CHECK(r->ste(r->d1).kind == K::ste_kind::s2);
  CHECK(r->h.k.attached_hwpt(r->d1) == r->v.bypass_hwpt());

  const std::size_t t0 = r->h.k.trace().size();
  r->boot();
  // GBPA = abort, then SMMUEN = 1 with no valid STE yet (no L2 table): abort proxy.
  CHECK(r->ste(r->d1).kind == K::ste_kind::abort);
  CHECK(r->h.k.attached_hwpt(r->d1) == r->v.abort_hwpt());
  // The boot's CFGI_ALL found the device on the GBPA proxy already; GBPA moved it to abort; the
  // TLBI_NSNH_ALL went to the host with its own CMD_SYNC.
  CHECK(r->h.ops_since(t0) ==
        std::vector<K::operation>{K::operation::invalidate, K::operation::attach});
  CHECK(r->dev.registers().gerror == 0);

  const std::size_t t1 = r->h.k.trace().size();
  const std::uint64_t cd = r->install(sid);
  CHECK(r->g.consumed());
  // CFGI_STE: a nested HWPT from the guest's STE, attached, then (make-before-break) nothing to
  // destroy: the abort proxy stays for others.
  CHECK(r->h.ops_since(t1) ==
        std::vector<K::operation>{K::operation::alloc_nested_hwpt, K::operation::attach});
  const K::physical_ste p = r->ste(r->d1);
  CHECK(p.kind == K::ste_kind::nested);
  CHECK((p.dwords[0] & ctx_mask) == cd);
  CHECK(r->h.k.event_vsid(r->d1) == std::optional<std::uint64_t>{sid});

  // The guest's invalidations after an unmap: three forwardable commands and a CMD_SYNC, one
  // PROD write: one IOMMU_HWPT_INVALIDATE with three entries, issued as one host batch.
  r->h.k.clear_issued();
  const std::size_t t2 = r->h.k.trace().size();
  r->issue({accel_test::tlbi_asid(asid), tlbi_va(asid, 0x1000'0000), accel_test::cfgi_cd(sid),
            accel_test::cmd_sync()});
  CHECK(r->g.consumed());
  CHECK(r->h.calls_since(t2).size() == 1);
  CHECK(r->h.calls_since(t2).at(0).find("IOMMU_HWPT_INVALIDATE") == 0);
  CHECK(r->h.calls_since(t2).at(0).find("entries=3) = 3") != std::string::npos);
  REQUIRE(r->h.k.issued().size() == 1);
  CHECK(r->h.k.issued()[0].commands.size() == 3);
  CHECK(r->dev.diagnostics(vd::diagnostic::host_failure) == 0);

  // A command the host does not take (CMD_PREFETCH_CONFIG) stays local: no call, even with its
  // CMD_SYNC (an empty batch is not sent).
  const std::size_t t3 = r->h.k.trace().size();
  r->issue({{C::make<C::prefetch_config::layout>().with<C::StreamID>(sid).words()},
            accel_test::cmd_sync()});
  CHECK(r->g.consumed());
  CHECK(r->h.calls_since(t3).empty());

  // Unplug: the kernel's live objects are back to what they were before the vSMMU.
  REQUIRE(r->dev.detach_device(r->d1).ok());
  CHECK(r->v.objects() == 0);
  CHECK(r->h.k.live_objects() == r->baseline);
}

TEST_CASE("device accel: commands without a CMD_SYNC are sent before CONS passes them",
          "[device][accel]") {
  auto r = std::make_unique<rig>();
  r->boot();
  r->install(sid);
  const std::size_t t0 = r->h.k.trace().size();
  r->issue({accel_test::tlbi_asid(1), accel_test::tlbi_asid(2)});
  CHECK(r->g.consumed());
  CHECK(r->invalidates_since(t0) == 1);
  CHECK(r->v.batched() == 0);
}

TEST_CASE("device accel: a host failure at an STE install is CERROR_ILL at that command",
          "[device][accel]") {
  auto r = std::make_unique<rig>();
  r->boot();
  r->g.attach(sid, asid);
  r->h.k.fail_operation(K::operation::alloc_nested_hwpt, ENOMEM);
  const std::uint32_t first =
      r->issue({accel_test::tlbi_asid(1), accel_test::cfgi_ste(sid), accel_test::cmd_sync()});
  // CONS on the CFGI_STE (entry 1), CERROR_ILL, GERROR.CMDQ_ERR; the device stays on abort.
  CHECK(r->cons_rd() == first + 1);
  CHECK(r->cons_err() == static_cast<std::uint8_t>(cerror::ill));
  CHECK(r->cmdq_err_active());
  CHECK(r->dev.diagnostics(vd::diagnostic::host_failure) == 1);
  CHECK(r->dev.last_host_error().find("Failed to install STE") != std::string::npos);
  CHECK(r->ste(r->d1).kind == K::ste_kind::abort);
  CHECK(r->v.objects() + r->baseline == r->h.k.live_objects());

  // The guest acknowledges; the consumer resumes at the CFGI_STE, which now installs.
  r->ack_gerror();
  CHECK(!r->cmdq_err_active());
  CHECK(r->g.consumed());
  CHECK(r->ste(r->d1).kind == K::ste_kind::nested);
}

TEST_CASE("device accel: a failed forwarded batch is CERROR_ILL at its first command",
          "[device][accel]") {
  auto r = std::make_unique<rig>();
  r->boot();
  r->install(sid);
  r->h.k.fail_operation(K::operation::invalidate, EIO);
  const std::uint32_t first = r->issue({accel_test::tlbi_asid(1), accel_test::tlbi_asid(2),
                                        accel_test::tlbi_asid(3), accel_test::cmd_sync()});
  // The consumer reached the CMD_SYNC; the host handled nothing: CONS moves back to entry 0.
  CHECK(r->cons_rd() == first);
  CHECK(r->cons_err() == static_cast<std::uint8_t>(cerror::ill));
  CHECK(r->cmdq_err_active());
  r->ack_gerror();
  CHECK(r->g.consumed());
  CHECK(r->cons_rd() == r->prod());
}

TEST_CASE("device accel: a host partial count k is CERROR_ILL at exactly command k",
          "[device][accel]") {
  auto r = std::make_unique<rig>();
  r->boot();
  r->install(sid);
  // The vDEVICE goes behind the vSMMU's back: the kernel's conversion fails at the CFGI_CD.
  REQUIRE(r->h.k.destroy(r->h.k.vdevice_of(r->d1)).ok());
  r->h.k.clear_issued();
  const std::uint32_t first =
      r->issue({accel_test::tlbi_asid(1), accel_test::tlbi_asid(2), accel_test::cfgi_cd(sid),
                accel_test::tlbi_asid(4), accel_test::cmd_sync()});
  CHECK(r->cons_rd() == first + 2);
  CHECK(r->cons_err() == static_cast<std::uint8_t>(cerror::ill));
  CHECK(r->cmdq_err_active());
  // Commands 0 and 1 really reached the host's command queue, exactly once (re-submitted).
  REQUIRE(r->h.k.issued().size() == 1);
  CHECK(r->h.k.issued()[0].commands.size() == 2);

  // Linux's recovery: the bad entry becomes a CMD_SYNC, GERROR is acknowledged, and the rest
  // (TLBI_NH_ASID 4 and the CMD_SYNC) runs and reaches the host.
  r->overwrite(first + 2, accel_test::cmd_sync());
  r->h.k.clear_issued();
  r->ack_gerror();
  CHECK(r->g.consumed());
  CHECK(!r->cmdq_err_active());
  REQUIRE(r->h.k.issued().size() == 1);
  CHECK(r->h.k.issued()[0].commands.size() == 1);
}

TEST_CASE("device accel: a device hot-plugged into a running vIOMMU gets its STE at once",
          "[device][accel]") {
  auto r = std::make_unique<rig>();
  r->boot();
  r->install(sid);
  // The guest enumerates the new Function and writes its STE before the device is bound; the
  // CFGI_STE finds no device and makes no call.
  const K::device_id d2 = r->h.add(2, 0x200);
  const std::uint64_t cd2 = r->g.attach(sid2, 2);
  const std::size_t t0 = r->h.k.trace().size();
  r->issue({accel_test::cfgi_ste(sid2), accel_test::cmd_sync()});
  CHECK(r->h.calls_since(t0).empty());

  const auto a = r->dev.attach_device(r->h.desc(d2, sid2, 0, 2));
  REQUIRE(a.ok());
  CHECK(r->h.ops_since(t0) ==
        std::vector<K::operation>{K::operation::get_hw_info, K::operation::alloc_vdevice,
                                  K::operation::alloc_nested_hwpt, K::operation::attach});
  CHECK(r->ste(d2).kind == K::ste_kind::nested);
  CHECK((r->ste(d2).dwords[0] & ctx_mask) == cd2);

  // Hot unplug of both: nothing left in the kernel.
  REQUIRE(r->dev.detach_device(d2).ok());
  REQUIRE(r->dev.detach_device(r->d1).ok());
  CHECK(r->h.k.live_objects() == r->baseline);
}

TEST_CASE("device accel: SMMUEN and GBPA move the devices to the GBPA proxies", "[device][accel]") {
  auto r = std::make_unique<rig>();
  r->boot();
  r->install(sid);
  REQUIRE(r->ste(r->d1).kind == K::ste_kind::nested);

  // SMMUEN 1 -> 0 with GBPA.ABORT (the driver set it): the abort proxy.
  const std::uint32_t cr0 = r->g.read32(R::cr0::offset);
  r->g.write32(R::cr0::offset, cr0 & ~1U);
  CHECK(r->ste(r->d1).kind == K::ste_kind::abort);
  CHECK(r->h.k.attached_hwpt(r->d1) == r->v.abort_hwpt());
  // GBPA to bypass (Update = 1): the bypass proxy. Without Update nothing moves.
  r->g.write32(R::gbpa::offset, 0);
  CHECK(r->ste(r->d1).kind == K::ste_kind::abort);
  r->g.write32(R::gbpa::offset, 1U << 31);
  CHECK(r->h.k.attached_hwpt(r->d1) == r->v.bypass_hwpt());
  CHECK(r->ste(r->d1).kind == K::ste_kind::s2);
  // SMMUEN 0 -> 1: the guest's STE again, a fresh nested HWPT.
  r->g.write32(R::cr0::offset, cr0);
  CHECK(r->ste(r->d1).kind == K::ste_kind::nested);
  CHECK(r->dev.diagnostics(vd::diagnostic::host_failure) == 0);

  // A host failure at the SMMUEN edge: no command to fail, a host_failure diagnostic, and the
  // device keeps its HWPT.
  r->h.k.fail_operation(K::operation::attach, EIO);
  r->g.write32(R::cr0::offset, cr0 & ~1U);
  CHECK(r->dev.diagnostics(vd::diagnostic::host_failure) == 1);
  CHECK(r->ste(r->d1).kind == K::ste_kind::nested);
  CHECK(r->v.objects() + r->baseline == r->h.k.live_objects());

  // Reset: SMMUEN = 0, GBPA bypass: the bypass proxy.
  r->dev.reset();
  CHECK(r->ste(r->d1).kind == K::ste_kind::s2);
}

TEST_CASE("device accel: host events reach the guest's Event queue", "[device][accel]") {
  auto r = std::make_unique<rig>();
  r->boot();
  r->install(sid);
  // The physical SMMU reports an F_TRANSLATION for the device (its pSID; the kernel rewrites
  // it to the vSID).
  const std::array<std::uint64_t, 4> evt{0x10 | (std::uint64_t{0x100} << 32), 0, 0x1000'2000, 0};
  REQUIRE(r->h.k.inject_event(r->d1, evt) == K::event_delivery::queued);
  const auto p = r->dev.poll_host_events();
  CHECK(p.delivered == 1);
  const auto events = r->g.read_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == vsmmu::smmuv3::evt::type::f_translation);
  CHECK((events[0].words()[0] >> 32) == sid);
  CHECK(events[0].words()[2] == 0x1000'2000);
  CHECK(r->platform.count(vsmmu::queue::signal::eventq, false) >= 1);

  // More than the vEVENTQ holds: the host loses some; the guest sees an overflow (OVFLG).
  const std::uint32_t ovflg0 = r->g.read32(R::page_size + R::eventq_prod::offset) >> 31;
  for (int i = 0; i < 70; ++i) (void)r->h.k.inject_event(r->d1, evt);
  const auto q = r->dev.poll_host_events();
  CHECK(q.lost);
  const std::uint32_t ovflg1 = r->g.read32(R::page_size + R::eventq_prod::offset) >> 31;
  CHECK(ovflg1 != ovflg0);
}

TEST_CASE("device accel: save and restore re-apply SMMUEN and GBPA on the host",
          "[device][accel]") {
  auto r = std::make_unique<rig>();
  r->boot();
  r->install(sid);
  const auto blob = r->dev.save();
  r->dev.reset();
  REQUIRE(r->ste(r->d1).kind == K::ste_kind::s2);
  REQUIRE(r->dev.restore(blob) == vd::restore_status::ok);
  CHECK(r->ste(r->d1).kind == K::ste_kind::nested);
  REQUIRE(r->dev.detach_device(r->d1).ok());
  CHECK(r->h.k.live_objects() == r->baseline);
}

TEST_CASE("device accel: a failed send when consumption stops raises CMDQ_ERR itself",
          "[device][accel]") {
  auto r = std::make_unique<rig>();
  r->boot();
  r->install(sid);
  // No CMD_SYNC: the batch is sent as the consumer stops, and fails there.
  r->h.k.fail_operation(K::operation::invalidate, EIO);
  const std::uint32_t first = r->issue({accel_test::tlbi_asid(1), accel_test::tlbi_asid(2)});
  CHECK(r->cons_rd() == first);
  CHECK(r->cons_err() == static_cast<std::uint8_t>(cerror::ill));
  CHECK(r->cmdq_err_active());
  CHECK(r->platform.count(vsmmu::queue::signal::gerror, false) >= 1);
  r->ack_gerror();
  CHECK(r->g.consumed());
}

TEST_CASE("device accel: a local error after batched commands, and an earlier host error wins",
          "[device][accel]") {
  auto r = std::make_unique<rig>();
  r->boot();
  r->install(sid);
  const vsmmu::queue::command bad{{0xff, 0}};  // a Reserved opcode: CERROR_ILL locally
  const std::size_t t0 = r->h.k.trace().size();
  std::uint32_t first = r->issue({accel_test::tlbi_asid(1), bad, accel_test::cmd_sync()});
  // TLBI 1 still reaches the host; CONS on the bad entry.
  CHECK(r->cons_rd() == first + 1);
  CHECK(r->cons_err() == static_cast<std::uint8_t>(cerror::ill));
  CHECK(r->invalidates_since(t0) == 1);
  r->overwrite(first + 1, accel_test::cmd_sync());
  r->ack_gerror();
  REQUIRE(r->g.consumed());

  // The same with a host failure of the batch: CONS goes back to the TLBI.
  r->h.k.fail_operation(K::operation::invalidate, EIO);
  first = r->issue({accel_test::tlbi_asid(1), bad, accel_test::cmd_sync()});
  CHECK(r->cons_rd() == first);
  CHECK(r->cons_err() == static_cast<std::uint8_t>(cerror::ill));
}

TEST_CASE("device accel: the batch limit sends early, and a partial count there rewinds",
          "[device][accel]") {
  A::accel_config cfg;
  cfg.max_batch = 2;
  auto r = std::make_unique<rig>(true, cfg);
  r->boot();
  r->install(sid);
  const std::size_t t0 = r->h.k.trace().size();
  r->issue({accel_test::tlbi_asid(1), accel_test::tlbi_asid(2), accel_test::tlbi_asid(3),
            accel_test::cmd_sync()});
  CHECK(r->g.consumed());
  CHECK(r->invalidates_since(t0) == 2);  // 2, then 1 at the CMD_SYNC

  REQUIRE(r->h.k.destroy(r->h.k.vdevice_of(r->d1)).ok());
  // Entries 0-1 go at the limit; 2-3 (a CFGI_CD the kernel cannot convert) at the next limit,
  // while the consumer is at entry 3.
  const std::uint32_t first =
      r->issue({accel_test::tlbi_asid(1), accel_test::tlbi_asid(2), accel_test::cfgi_cd(sid),
                accel_test::tlbi_asid(4), accel_test::tlbi_asid(5), accel_test::cmd_sync()});
  CHECK(r->cons_rd() == first + 2);
  CHECK(r->cons_err() == static_cast<std::uint8_t>(cerror::ill));
}

TEST_CASE("device accel: deferred command processing forwards the same way", "[device][accel]") {
  auto r = std::make_unique<rig>();
  r->boot();
  r->install(sid);
  r->dev.defer_commands(true);
  const std::size_t t0 = r->h.k.trace().size();
  r->issue({accel_test::tlbi_asid(1), accel_test::tlbi_asid(2), accel_test::cmd_sync()});
  CHECK(r->h.calls_since(t0).empty());
  CHECK(r->dev.process_commands(1) == 1);
  CHECK(r->invalidates_since(t0) == 1);  // sent when the call stops, not held over
  CHECK(r->dev.process_commands() == 2);
  CHECK(r->invalidates_since(t0) == 2);
  CHECK(r->g.consumed());

  // A batch the host refuses: CONS goes back, and the count says what stays consumed.
  r->h.k.fail_operation(K::operation::invalidate, EIO);
  const std::uint32_t first =
      r->issue({accel_test::tlbi_asid(1), accel_test::tlbi_asid(2), accel_test::cmd_sync()});
  CHECK(r->dev.process_commands() == 0);
  CHECK(r->cons_rd() == first);
  CHECK(r->cmdq_err_active());
}

TEST_CASE("device accel: an ATC_INV the host timed out is CERROR_ATC_INV_SYNC at the CMD_SYNC",
          "[device][accel]") {
  static constexpr A::properties ats_on{A::on_off_auto::on, A::on_off_auto::on};
  using ats_config =
      vd::raw_config<A::apply(A::resolve_without_host(ats_on), A::seed_id_registers())>;
  A::accel_config cfg;
  cfg.props = ats_on;
  auto r = std::make_unique<basic_rig<ats_config>>(false, cfg, true);
  auto desc = r->h.desc(r->d1, sid);
  desc.host.has_ats_capability = true;
  REQUIRE(r->dev.attach_device(desc).ok());
  REQUIRE(r->dev.accel_consistent());
  r->boot();
  r->install(sid);
  REQUIRE(r->g.consumed());
  r->h.k.fail_cmdq_batch(r->h.k.issued_batch_count() + 1, ETIMEDOUT);
  const std::uint32_t first = r->issue({accel_test::tlbi_asid(1), accel_test::atc_inv(sid),
                                        accel_test::tlbi_asid(3), accel_test::cmd_sync()});
  // Every command reached the host; only the ATC invalidation did not complete: §4.7.3's
  // CERROR_ATC_INV_SYNC, on the CMD_SYNC.
  CHECK(r->cons_rd() == first + 3);
  CHECK(r->cons_err() == static_cast<std::uint8_t>(cerror::atc_inv_sync));
  CHECK(r->cmdq_err_active());
  // After the acknowledgement the CMD_SYNC completes; nothing is sent again.
  const std::size_t t0 = r->h.k.trace().size();
  r->ack_gerror();
  CHECK(r->g.consumed());
  CHECK(r->invalidates_since(t0) == 0);

  // Without a CMD_SYNC in the same doorbell the timeout waits for the next CMD_SYNC.
  r->h.k.fail_cmdq_batch(r->h.k.issued_batch_count() + 1, ETIMEDOUT);
  r->issue({accel_test::atc_inv(sid)});
  CHECK(!r->cmdq_err_active());
  const std::uint32_t sync_at = r->issue({accel_test::cmd_sync()});
  CHECK(r->cons_rd() == sync_at);
  CHECK(r->cons_err() == static_cast<std::uint8_t>(cerror::atc_inv_sync));
}

namespace {

// Everything the device does on the host, start to end; `check` runs after each step.
template <class Check>
void whole_life(rig& r, K::device_id d2, Check&& check) {
  const auto settle = [&] {
    for (int i = 0; i < 4 && r.cmdq_err_active(); ++i) r.ack_gerror();
  };
  (void)r.dev.attach_device(r.h.desc(r.d1, sid));
  check();
  r.boot();
  settle();
  check();
  r.install(sid);
  settle();
  check();
  r.issue({accel_test::tlbi_asid(asid), accel_test::cfgi_cd(sid), accel_test::cmd_sync()});
  settle();
  check();
  r.g.attach(sid2, 2);
  (void)r.dev.attach_device(r.h.desc(d2, sid2, 0, 2));
  check();
  const std::uint32_t cr0 = r.g.read32(R::cr0::offset);
  r.g.write32(R::cr0::offset, cr0 & ~1U);
  check();
  r.g.write32(R::gbpa::offset, 1U << 31);
  check();
  r.g.write32(R::cr0::offset, cr0);
  check();
  (void)r.h.k.inject_event(r.d1, {0x10, 0, 0x1000, 0});
  (void)r.dev.poll_host_events();
  check();
  for (K::device_id d : {d2, r.d1}) {
    if (!r.dev.detach_device(d).ok()) {
      r.h.k.clear_faults();
      REQUIRE(r.dev.detach_device(d).ok());
    }
    check();
  }
}

}  // namespace

TEST_CASE("device accel: a host failure at every call leaks nothing", "[device][accel]") {
  std::uint64_t total = 0;
  {
    auto r = std::make_unique<rig>(false);
    const K::device_id d2 = r->h.add(2, 0x200);
    const std::uint64_t start = r->h.k.calls();
    whole_life(*r, d2, [] {});
    total = r->h.k.calls() - start;
    CHECK(r->h.k.live_objects() == r->baseline);
    CHECK(r->dev.diagnostics(vd::diagnostic::host_failure) == 0);
  }
  REQUIRE(total > 20);
  for (std::uint64_t n = 1; n <= total; ++n) {
    INFO("adapter call " << n << " fails");
    auto r = std::make_unique<rig>(false);
    const K::device_id d2 = r->h.add(2, 0x200);
    r->h.k.fail_call(r->h.k.calls() + n, EIO);
    whole_life(*r, d2, [&] {
      // What the kernel holds is exactly what the vSMMU knows (pending destroys included).
      CHECK(r->h.k.live_objects() == r->baseline + r->v.objects());
    });
    r->v.retry_destroys();
    CHECK(r->h.k.live_objects() == r->baseline);
    CHECK(r->v.objects() == 0);
  }
}

TEST_CASE("device accel: hostile commands, STEs and host failures keep the host consistent",
          "[device][accel]") {
  auto r = std::make_unique<rig>();
  const K::device_id d2 = r->h.add(2, 0x200);
  r->boot();
  r->g.attach(sid, asid);
  r->g.attach(sid2, 2);
  REQUIRE(r->dev.attach_device(r->h.desc(d2, sid2, 0, 2)).ok());
  std::mt19937_64 rng(7);
  const auto pick = [&](std::uint64_t n) { return rng() % n; };
  constexpr std::array<std::uint8_t, 12> opcodes{0x03, 0x04, 0x05, 0x06, 0x10, 0x11,
                                                 0x12, 0x13, 0x30, 0x40, 0x46, 0x01};
  std::size_t mismatches = 0;
  std::size_t nested_seen = 0;  // steps with the first device on a guest stage-1 context
  for (int step = 0; step < 400; ++step) {
    switch (pick(8)) {
      case 0: {  // a random STE for one of the devices (or a StreamID nobody has)
        namespace S = vsmmu::smmuv3::ste;
        S::value v;
        for (auto& w : v.words()) {
          const bool wide = pick(2) == 0;  // one call per statement: a fixed order
          w = rng() & (wide ? ~0ULL : 0x0000'ffff'ffff'ffffULL);
        }
        if (pick(2)) v.set<S::V>(true).set<S::Config>(vsmmu::smmuv3::ste_config::s1_trans);
        const std::uint32_t s = pick(3) == 0 ? sid2 : pick(2) ? sid : 0x33;
        r->g.tables().install_ste(r->g.stream_table(), s, v);
        break;
      }
      case 1: {  // a failure at one of the next few adapter calls
        const std::uint64_t at = r->h.k.calls() + 1 + pick(6);
        r->h.k.fail_call(at, pick(2) ? EIO : ENOMEM);
        break;
      }
      case 2: {  // SMMUEN or GBPA
        const std::uint32_t cr0 = r->g.read32(R::cr0::offset);
        if (pick(2)) {
          r->g.write32(R::cr0::offset, cr0 ^ 1U);
        } else {
          r->g.write32(R::gbpa::offset, static_cast<std::uint32_t>(rng()));
        }
        break;
      }
      case 3:
        r->ack_gerror();
        break;
      default: {  // a burst of commands, mostly well-formed
        std::vector<vsmmu::queue::command> cmds;
        const std::size_t n = 1 + pick(8);
        for (std::size_t i = 0; i < n; ++i) {
          vsmmu::queue::command c{{rng(), rng()}};
          if (pick(4) != 0) {
            const std::uint32_t s = pick(2) ? sid : sid2;
            const std::uint64_t op = opcodes[pick(opcodes.size())];
            const std::uint64_t junk = pick(8) == 0 ? (rng() & 0xffff'ff00ULL) : 0;
            c.words[0] = op | (std::uint64_t{s} << 32) | junk;
            c.words[1] = pick(2) ? 0 : rng() & 0x1f;
          }
          cmds.push_back(c);
        }
        if (pick(2)) cmds.push_back(accel_test::cmd_sync());
        r->issue(cmds);
        break;
      }
    }
    if (r->h.k.live_objects() != r->baseline + r->v.objects()) ++mismatches;
    if (r->ste(r->d1).kind == K::ste_kind::nested) ++nested_seen;
  }
  CHECK(mismatches == 0);
  // The walk went where it should: installs, forwarding, host failures, command errors.
  CHECK(r->v.invalidate_calls() > 3);
  CHECK(r->dev.diagnostics(vd::diagnostic::host_failure) > 3);
  CHECK(r->dev.diagnostics(vd::diagnostic::command_error) > 3);
  CHECK(nested_seen > 0);
  r->h.k.clear_faults();
  r->ack_gerror();
  (void)r->dev.detach_device(d2);
  (void)r->dev.detach_device(r->d1);
  r->v.retry_destroys();
  CHECK(r->h.k.live_objects() == r->baseline);
}
