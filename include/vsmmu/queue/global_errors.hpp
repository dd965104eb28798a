// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/queue/signals.hpp>

#include <cstdint>

// SMMU_GERROR / SMMU_GERRORN, the global error handshake (IHI 0070 §7.5, §6.3.19, §6.3.20): the
// SMMU toggles GERROR[x] to activate error x, software toggles GERRORN[x] to acknowledge it,
// and x is active while the two differ. The device owns one of these; the queues consult it
// (no commands are consumed while CMDQ_ERR is active, no events written while EVENTQ_ABT_ERR
// is) and activate errors through it.
namespace vsmmu::queue {

namespace gerror_bit {
inline constexpr std::uint32_t cmdq_err = 1U << 0;
inline constexpr std::uint32_t eventq_abt_err = 1U << 2;
inline constexpr std::uint32_t priq_abt_err = 1U << 3;
inline constexpr std::uint32_t msi_cmdq_abt_err = 1U << 4;
inline constexpr std::uint32_t msi_eventq_abt_err = 1U << 5;
inline constexpr std::uint32_t msi_priq_abt_err = 1U << 6;
inline constexpr std::uint32_t msi_gerror_abt_err = 1U << 7;
inline constexpr std::uint32_t sfm_err = 1U << 8;
inline constexpr std::uint32_t cmdqp_err = 1U << 9;
inline constexpr std::uint32_t dpt_err = 1U << 10;
// Every defined bit; the rest of GERROR/GERRORN is RES0.
inline constexpr std::uint32_t all = 0x7fdU;
}  // namespace gerror_bit

struct global_errors {
  std::uint32_t gerror = 0;   // SMMU_GERROR, toggled by the SMMU
  std::uint32_t gerrorn = 0;  // SMMU_GERRORN, toggled by software

  // Bits of `mask` that are active.
  [[nodiscard]] constexpr std::uint32_t active(
      std::uint32_t mask = gerror_bit::all) const noexcept {
    return (gerror ^ gerrorn) & mask & gerror_bit::all;
  }
  [[nodiscard]] constexpr bool is_active(std::uint32_t bit) const noexcept {
    return active(bit) != 0;
  }
  // Activates the errors of `bits` that are not active already ("the SMMU does not toggle
  // bit[x] if the error is already active", §7.5). Returns the bits it activated.
  constexpr std::uint32_t activate(std::uint32_t bits) noexcept {
    const std::uint32_t fresh = bits & gerror_bit::all & ~active();
    gerror ^= fresh;
    return fresh;
  }
  // A software write of SMMU_GERRORN.
  constexpr void write_gerrorn(std::uint32_t value) noexcept { gerrorn = value & gerror_bit::all; }
  // Software acknowledging the active errors of `bits` (GERRORN[x] = GERROR[x]).
  constexpr void acknowledge(std::uint32_t bits) noexcept {
    gerrorn = (gerrorn & ~bits) | (gerror & bits & gerror_bit::all);
  }
};

// Activates `bits` and, if that activated any error other than MSI_GERROR_ABT_ERR, signals
// the GERROR interrupt (§7.5.1). An aborted GERROR MSI activates MSI_GERROR_ABT_ERR, which
// raises no interrupt of its own. Returns the bits activated, MSI_GERROR_ABT_ERR included.
template <signal_sink S>
constexpr std::uint32_t raise_global_errors(global_errors& errors, std::uint32_t bits,
                                            const irq_config& gerror_irq, bool msi_supported,
                                            S& sink) noexcept {
  std::uint32_t fresh = errors.activate(bits);
  if ((fresh & ~gerror_bit::msi_gerror_abt_err) != 0 &&
      notify(sink, signal::gerror, gerror_irq, msi_supported) != memory::access_status::ok) {
    fresh |= errors.activate(gerror_bit::msi_gerror_abt_err);
  }
  return fresh;
}

}  // namespace vsmmu::queue
