// SPDX-License-Identifier: BSL-1.0
// The accelerated vSMMU against the simulated kernel: random sequences of device attach and
// detach, guest STEs, commands, SMMUEN/GBPA changes, resets and host events, with random
// failures injected into the kernel's calls. After every step the kernel's live objects must be
// exactly the vSMMU's bookkeeping, and every bound device must be attached where the vSMMU
// believes it is; at the end everything must be gone.
#include <vsmmu/accel/accelerated_vsmmu.hpp>
#include <vsmmu/accel/iommufd/simulated_kernel.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/ste.hpp>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "check.hpp"

namespace {

namespace A = vsmmu::accel;
namespace K = vsmmu::accel::iommufd;
namespace C = vsmmu::smmuv3::cmd;
namespace S = vsmmu::smmuv3::ste;

constexpr std::size_t device_count = 5;
constexpr std::array<std::uint32_t, 4> sids{0x0008, 0x0010, 0x0308, 0x0410};
constexpr std::array<int, 5> errnos{EIO, EINVAL, ENOMEM, EBUSY, ETIMEDOUT};

struct world {
  K::simulated_kernel k;
  K::object_id ioas = K::no_object;
  std::array<K::object_id, 2> s2{};
  std::array<K::device_id, device_count> dev{};
  std::array<std::uint32_t, device_count> group{};
  std::array<std::size_t, device_count> smmu_of{};
  std::array<bool, device_count> gone{};  // unplugged from the iommufd for good
  std::map<std::uint32_t, A::ste_words> stes;

  world() {
    K::sim_smmu other;
    other.idr[0] &= ~(3U << 27);  // linear stream tables only: incompatible
    const std::size_t s0 = k.add_smmu(K::sim_smmu{});
    const std::size_t s1 = k.add_smmu(other);
    ioas = *k.alloc_ioas();
    // Devices 0 and 1 share a host IOMMU group; device 4 sits behind the other SMMU.
    const std::array<std::uint32_t, device_count> groups{1, 1, 2, 3, 4};
    for (std::size_t i = 0; i < device_count; ++i) {
      smmu_of[i] = i == 4 ? 1 : 0;
      group[i] = groups[i];
      dev[i] = k.add_device({smmu_of[i] == 0 ? s0 : s1, groups[i],
                             static_cast<std::uint32_t>(0x10 + i), i == 2, 20, true, false});
      const std::size_t s = smmu_of[i];
      if (s2[s] == K::no_object) s2[s] = *k.alloc_s2_hwpt(dev[i], ioas, K::hwpt_flag::nest_parent);
      (void)k.attach(dev[i], s2[s]);
    }
    k.set_tracing(false);  // the invariants read the kernel's state, not its call log
    k.set_record_issued(false);
  }
};

A::ste_words random_ste(vsmmu::fuzz::reader& in) {
  const std::uint8_t kind = in.integer<std::uint8_t>() % 5;
  S::value v;
  switch (kind) {
    case 0:
      v.set<S::V>(true)
          .set<S::Config>(vsmmu::smmuv3::ste_config::s1_trans)
          .set<S::S1ContextPtr>(in.integer<std::uint32_t>() & ~0x3fULL);
      break;
    case 1:
      v.set<S::V>(true).set<S::Config>(vsmmu::smmuv3::ste_config::bypass);
      break;
    case 2:
      v.set<S::V>(in.boolean()).set<S::Config>(vsmmu::smmuv3::ste_config::abort);
      break;
    default: {
      A::ste_words w{};
      for (auto& x : w) x = in.integer<std::uint64_t>();
      return w;
    }
  }
  return v.words();
}

vsmmu::queue::command random_command(vsmmu::fuzz::reader& in) {
  const std::uint8_t kind = in.integer<std::uint8_t>() % 9;
  const std::uint32_t sid = sids[in.integer<std::uint8_t>() % sids.size()];
  switch (kind) {
    case 0:
      return {C::make<C::cfgi_ste::layout>().with<C::StreamID>(sid).words()};
    case 1:
      return {C::make<C::cfgi_ste_range::layout>()
                  .with<C::StreamID>(sid)
                  .with<C::cfgi_ste_range::Range>(in.integer<std::uint8_t>() & 31)
                  .words()};
    case 2:
      return {
          C::make<C::tlbi_nh_asid::layout>().with<C::ASID>(in.integer<std::uint16_t>()).words()};
    case 3:
      return {C::make<C::cfgi_cd::layout>().with<C::StreamID>(sid).words()};
    case 4:
      return {C::make<C::atc_inv::layout>().with<C::StreamID>(sid).words()};
    case 5:
      return {C::make<C::sync::layout>().words()};
    case 6:
      return {C::make<C::tlbi_nsnh_all::layout>().words()};
    default: {
      vsmmu::queue::command c;
      c.words = {in.integer<std::uint64_t>(), in.integer<std::uint64_t>()};
      return c;
    }
  }
}

void check(const world& w, const A::accelerated_vsmmu<K::simulated_kernel>& v, std::size_t base) {
  VSMMU_FUZZ_CHECK(w.k.live_objects() == base + v.objects(),
                   "the kernel's live objects are the vSMMU's bookkeeping");
  for (std::size_t i = 0; i < device_count; ++i) {
    if (const auto d = v.device_info(w.dev[i])) {
      VSMMU_FUZZ_CHECK(d->attached == w.k.attached_hwpt(w.dev[i]),
                       "a bound device is attached where the vSMMU believes");
      // A vDEVICE the vSMMU gave up (an unwind) may still await its destroy.
      VSMMU_FUZZ_CHECK(d->vdevice == w.k.vdevice_of(w.dev[i]) ||
                           (d->vdevice == K::no_object && v.pending_destroys() != 0),
                       "a bound device's vDEVICE is the vSMMU's");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vsmmu::fuzz::reader in(data, size);
  world w;
  const std::size_t base = w.k.live_objects();
  const auto source = [&w](std::uint32_t sid) -> std::optional<A::ste_words> {
    const auto it = w.stes.find(sid);
    if (it == w.stes.end()) return std::nullopt;
    return it->second;
  };
  {
    A::accel_config cfg;
    cfg.max_batch = 1 + (in.integer<std::uint8_t>() % 8);
    if (in.boolean()) cfg.props.ats = A::on_off_auto::on;
    if (in.boolean()) cfg.props.ssidsize = {true, 0};
    // An old kernel (no GBPA nested attach without a vDEVICE), with or without the fallback.
    if (in.boolean()) w.k.behaviour().gbpa_attach_without_vdevice = false;
    cfg.defer_proxy_attach = in.boolean();
    A::accelerated_vsmmu<K::simulated_kernel> v(w.k, cfg);
    for (int step = 0; step < 64 && in.remaining() != 0; ++step) {
      const std::uint8_t op = in.integer<std::uint8_t>();
      const std::size_t i = in.integer<std::uint8_t>() % device_count;
      switch (op % 10) {
        case 0:
        case 1: {
          if (w.gone[i]) break;
          A::device_desc d;
          const std::uint8_t kind = in.integer<std::uint8_t>();
          d.kind =
              kind < 224 ? A::device_kind::vfio_iommufd : static_cast<A::device_kind>(kind % 8);
          if (in.boolean()) d.sid = sids[in.integer<std::uint8_t>() % sids.size()];
          d.host.dev_id = w.dev[i];
          d.host.s2_hwpt = w.s2[w.smmu_of[i]];
          d.host.iommu_group = w.group[i];
          d.host.has_ats_capability = i == 2;
          (void)v.attach_device(d, source);
          break;
        }
        case 2: {
          bool partner = false;
          for (std::size_t j = 0; j < device_count; ++j) {
            partner = partner || (j != i && w.group[j] == w.group[i] && v.device_info(w.dev[j]));
          }
          const bool bound = v.device_info(w.dev[i]).has_value();
          if (v.detach_device(w.dev[i]).ok() && bound && partner && v.pending_destroys() == 0) {
            // It leaves the group's HWPT with its cdev: the embedder unplugs it for good.
            w.k.remove_device(w.dev[i]);
            w.gone[i] = true;
          }
          break;
        }
        case 3:
          w.stes[sids[i % sids.size()]] = random_ste(in);
          break;
        case 4: {
          std::vector<vsmmu::queue::command> cmds(1 + in.integer<std::uint8_t>() % 12);
          for (auto& c : cmds) c = random_command(in);
          const auto r = v.forward(cmds, source);
          VSMMU_FUZZ_CHECK(r.consumed <= cmds.size(), "CONS stays inside the commands given");
          VSMMU_FUZZ_CHECK(r.ok() == (r.consumed == cmds.size()),
                           "an error stops before the end, success consumes everything");
          break;
        }
        case 5:
          (void)v.set_smmuen(in.boolean(), source);
          break;
        case 6:
          (void)v.set_gbpa(in.integer<std::uint32_t>(), source);
          break;
        case 7:
          w.k.fail_call(w.k.calls() + 1 + in.integer<std::uint8_t>() % 6,
                        errnos[in.integer<std::uint8_t>() % errnos.size()]);
          break;
        case 8:
          if (in.boolean()) {
            (void)v.reset();
          } else {
            (void)v.set_stream_id(w.dev[i], sids[in.integer<std::uint8_t>() % sids.size()]);
          }
          break;
        default: {
          if (!w.gone[i]) {
            (void)w.k.inject_event(w.dev[i], {in.integer<std::uint8_t>(), 0, 0, 0});
          }
          const auto r = v.drain_events([](const A::event_record& e) {
            VSMMU_FUZZ_CHECK(A::guest_visible_event(e), "only architected events reach the guest");
          });
          (void)r;
          break;
        }
      }
      v.retry_destroys();
      check(w, v, base);
    }
    w.k.clear_faults();
  }
  VSMMU_FUZZ_CHECK(w.k.live_objects() == base, "the vSMMU's destruction leaves nothing behind");
  return 0;
}
