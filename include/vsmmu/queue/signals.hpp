// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

// How the SMMU model notifies the outside world (IHI 0070 §3.18): edge-triggered wired
// interrupts, MSIs (a 32-bit write of a configured value to a configured address) and the WFE
// wake-up event of IDR0.SEV. The embedder implements the sink; the queues decide when to
// signal, with what, and what an aborted MSI means (GERROR.MSI_*_ABT_ERR).
namespace vsmmu::queue {

// The sources of §3.18.2 for the Non-secure programming interface, plus the wake-up event.
enum class signal : std::uint8_t {
  eventq,      // Event queue went from empty to non-empty
  priq,        // PRI queue interrupt condition
  cmd_sync,    // CMD_SYNC with CS == SIG_IRQ completed
  gerror,      // a global error was activated
  wfe_wakeup,  // SEV: CMD_SYNC with CS == SIG_SEV, or the Command queue became non-full
};

// One MSI write: MSIData (32 bits, word-aligned) to a physical address with the configured
// memory type (STE.MemAttr encoding) and the effective Shareability (SH / CMD_SYNC.MSH encoding,
// see effective_msi_shareability).
struct msi_message {
  std::uint64_t address = 0;
  std::uint32_t data = 0;
  std::uint8_t mem_attr = 0;
  std::uint8_t sh = 0;
  friend constexpr bool operator==(const msi_message&, const msi_message&) = default;
};

// The embedder's signalling:
//   raise(source)            pulse the wired interrupt output of `source` (or do nothing when
//                            the platform has no wired outputs); for wfe_wakeup, send the event
//   write_msi(source, msg)   perform the MSI write; external_abort if the interconnect aborted
//                            it (the SMMU then records MSI_*_ABT_ERR in GERROR, §7.5)
template <class S>
concept signal_sink = requires(S& s, signal source, const msi_message& m) {
  { s.raise(source) }
  noexcept->std::same_as<void>;
  { s.write_msi(source, m) }
  noexcept->std::same_as<memory::access_status>;
};

// A platform with neither wired interrupts nor MSIs reaching anything.
struct no_signals {
  constexpr void raise(signal) noexcept {}
  constexpr memory::access_status write_msi(signal, const msi_message&) noexcept {
    return memory::access_status::ok;
  }
};
static_assert(signal_sink<no_signals>);

// MSIs written into guest memory (a doorbell page, or the CMD_SYNC entry itself, which Linux
// polls), wired interrupts dropped. An address outside guest memory aborts the MSI.
template <memory::guest_memory M>
class memory_msi_signals {
 public:
  constexpr explicit memory_msi_signals(M& memory) noexcept : memory_(&memory) {}
  constexpr void raise(signal) noexcept {}
  constexpr memory::access_status write_msi(signal, const msi_message& m) noexcept {
    std::array<std::byte, 4> le{};
    for (std::size_t i = 0; i < le.size(); ++i) le[i] = std::byte(m.data >> (8 * i));
    return memory_->write_bytes(m.address, std::span<const std::byte>(le));
  }

 private:
  M* memory_;
};

// The Shareability an MSI is written with, from its memory type (STE.MemAttr encoding) and the
// configured SH (IRQ_CFG2.SH, CMD_SYNC.MSH). "Outer Shareable is used as the effective
// Shareability when Device or Normal Inner Non-cacheable Outer Non-cacheable types are
// configured" (§3.18, §4.7.3 MSH, §6.3.23): Device is MemAttr[3:2] == 0b00, and also the Reserved
// 0b0100/0b1000/0b1100 (MemAttr[1:0] == 0b00), which behave as Device-nGnRnE (§5.2 STE.MemAttr).
// Otherwise the Reserved SH 0b01 is treated as 0b00 (Non-shareable).
[[nodiscard]] constexpr std::uint8_t effective_msi_shareability(std::uint8_t mem_attr,
                                                                std::uint8_t sh) noexcept {
  constexpr std::uint8_t outer_shareable = 0b10;
  const unsigned outer = (mem_attr >> 2) & 3U;
  const unsigned inner = mem_attr & 3U;
  constexpr unsigned non_cacheable = 0b01;
  if (outer == 0 || inner == 0 || (outer == non_cacheable && inner == non_cacheable)) {
    return outer_shareable;
  }
  sh &= 3U;
  return sh == 0b01 ? std::uint8_t{0} : sh;
}

// An interrupt source's configuration: SMMU_IRQ_CTRL.<x>_IRQEN and SMMU_<x>_IRQ_CFG0-2
// (§6.3.16, §6.3.21-§6.3.23, §6.3.30-§6.3.32).
struct irq_config {
  bool enabled = false;           // IRQ_CTRL.<x>_IRQEN (as acknowledged in IRQ_CTRLACK)
  std::uint64_t msi_address = 0;  // IRQ_CFG0.ADDR, bits [55:2]; 0 disables the MSI
  std::uint32_t msi_data = 0;     // IRQ_CFG1.DATA
  std::uint8_t mem_attr = 0;      // IRQ_CFG2.MemAttr
  std::uint8_t sh = 0;            // IRQ_CFG2.SH

  // IRQ_CFG0.ADDR bits at and above the OAS are RES0 (§6.3.21) and an MSI address too large
  // for the OAS is truncated to it (§3.4.3 table, "MSI write"): the configuration as the SMMU
  // uses it. The queue configurations' from_registers apply it; notify() sends what it is given.
  [[nodiscard]] constexpr irq_config truncated_to(unsigned oas_bits) const noexcept {
    irq_config c = *this;
    if (oas_bits < 64) c.msi_address &= (std::uint64_t{1} << oas_bits) - 1;
    return c;
  }
};

// Address bits [55:2] of an MSI address field; the rest are treated as zero (§6.3.21, §4.7.3).
inline constexpr std::uint64_t msi_address_mask =
    ((std::uint64_t{1} << 56) - 1) & ~std::uint64_t{3};

// Signals one occurrence of `source` configured by `cfg` (§3.18.2): nothing unless enabled;
// then a wired pulse, and an MSI when the SMMU supports MSIs (IDR0.MSI) and ADDR != 0.
// Returns external_abort when the MSI aborted (the caller records MSI_<x>_ABT_ERR).
template <signal_sink S>
constexpr memory::access_status notify(S& sink, signal source, const irq_config& cfg,
                                       bool msi_supported) noexcept {
  if (!cfg.enabled) return memory::access_status::ok;
  sink.raise(source);
  const std::uint64_t address = cfg.msi_address & msi_address_mask;
  if (!msi_supported || address == 0) return memory::access_status::ok;
  return sink.write_msi(source, {address, cfg.msi_data, cfg.mem_attr,
                                 effective_msi_shareability(cfg.mem_attr, cfg.sh)});
}

}  // namespace vsmmu::queue
