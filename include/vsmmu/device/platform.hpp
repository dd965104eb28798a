// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/engine/notifications.hpp>
#include <vsmmu/queue/signals.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>

// The device's seam to the machine around it: interrupt lines and MSI writes (the queue
// layer's signal sink), and a diagnostic hook for what the guest does that the architecture leaves
// CONSTRAINED UNPREDICTABLE or forbids (docs/device.md lists the choices).
namespace vsmmu::device {

// What the guest did that the device refused, ignored or chose a behaviour for. Each kind is
// counted in smmu_device::diagnostics() and passed to Platform::diagnose when it has one.
enum class diagnostic : std::uint8_t {
  unaligned_access,     // offset not a multiple of the size: RAZ/WI (§6.2)
  unsupported_size,     // not a 4- or 8-byte access: RAZ/WI (§6.2)
  split_64bit_access,   // 8 bytes over two 32-bit registers (or one + a hole): RAZ/WI
  out_of_range,         // beyond the two 64KB pages: RAZ/WI
  page1_reserved,       // an undefined page-1 location: RAZ/WI (§6.2)
  read_only_write,      // a write to a read-only register: ignored
  guarded_write,        // a write to a field Guarded by an enable that is set: ignored
  gbpa_without_update,  // SMMU_GBPA written with Update == 0: ignored (§6.3.14.1)
  gerrorn_inactive,     // a GERRORN toggle of an inactive error: that bit ignored
  command_error,        // CMDQ_ERR raised (see SMMU_CMDQ_CONS.ERR)
  event_dropped,        // an event not recorded: queue disabled, full or in error
  msi_abort,            // Platform::msi refused a write: the MSI_*_ABT_ERR global error
  host_failure,         // accelerated mode: the host refused an install or invalidation
};

inline constexpr std::size_t diagnostic_count =
    static_cast<std::size_t>(diagnostic::host_failure) + 1;

[[nodiscard]] constexpr std::string_view to_string(diagnostic d) noexcept {
  constexpr std::array<std::string_view, diagnostic_count> names{
      "unaligned_access", "unsupported_size", "split_64bit_access", "out_of_range",
      "page1_reserved",   "read_only_write",  "guarded_write",      "gbpa_without_update",
      "gerrorn_inactive", "command_error",    "event_dropped",      "msi_abort",
      "host_failure"};
  const auto i = static_cast<std::size_t>(d);
  return i < names.size() ? names[i] : std::string_view{};
}

// One diagnostic: what, and where (an absolute register-file offset, or 0).
struct diagnostic_record {
  diagnostic kind;
  std::uint32_t offset = 0;
  unsigned size = 0;
  std::uint64_t value = 0;
};

// What the device needs from the machine: a queue::signal_sink (wired interrupt pulses and MSI
// writes, queue/signals.hpp). Optional, each used when present:
//   void diagnose(const diagnostic_record&)            every diagnostic as it happens
//   void iotlb_invalidated(const engine::iotlb_invalidation&)    the engine's notifications
//   void config_invalidated(const engine::config_invalidation&)  (engine/notifications.hpp)
//   bool invalidate_atc(const engine::atc_invalidation&)         ATS endpoints (else: done)
template <class P>
concept platform = queue::signal_sink<P>;

template <class P>
concept diagnosing_platform = platform<P> && requires(P& p, const diagnostic_record& d) {
  p.diagnose(d);
};

namespace detail {
// The engine's notifier: forwards to whichever notifications the platform implements.
template <class P>
class platform_notifier {
 public:
  explicit platform_notifier(P& p) noexcept : p_(&p) {}
  void iotlb_invalidated(const engine::iotlb_invalidation& i) {
    if constexpr (requires { p_->iotlb_invalidated(i); }) p_->iotlb_invalidated(i);
  }
  void config_invalidated(const engine::config_invalidation& c) {
    if constexpr (requires { p_->config_invalidated(c); }) p_->config_invalidated(c);
  }
  bool invalidate_atc(const engine::atc_invalidation& a) {
    if constexpr (requires {
                    { p_->invalidate_atc(a) } -> std::same_as<bool>;
                  }) {
      return p_->invalidate_atc(a);
    } else {
      return true;  // no ATS endpoints behind this platform
    }
  }

 private:
  P* p_;
};
}  // namespace detail

}  // namespace vsmmu::device
