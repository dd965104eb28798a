// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/queue/global_errors.hpp>
#include <vsmmu/queue/pointers.hpp>
#include <vsmmu/queue/signals.hpp>
#include <vsmmu/smmuv3/features.hpp>
#include <vsmmu/smmuv3/registers/queues.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

// The Non-secure Event queue producer (IHI 0070 §3.5, §7.2, §7.4): writes 32-byte event records
// at EVENTQ_PROD with wrap, publishes them by moving PROD, and signals the Event queue
// interrupt when the queue goes from empty to non-empty (§3.18.2).
//
// The queue is writable when EVENTQEN == 1, it is not full and no EVENTQ_ABT_ERR is active
// (§7.2.1). Otherwise a record is not written:
// - EVENTQEN == 0: discarded, no overflow (§7.4);
// - full: discarded, and EVENTQ_PROD.OVFLG toggles if no overflow is already unacknowledged
//   (OVFLG == EVENTQ_CONS.OVACKFLG, §6.3.95). QEMU never toggles OVFLG (tests/queue notes it);
// - EVENTQ_ABT_ERR active: discarded;
// - a record of a stalled transaction (`stall`) is never discarded for these reasons and never
//   overflows: the status tells the caller to keep it and offer it again once the queue is
//   writable (§3.5.3, §7.2.1).
// A write that aborts is synchronous here (§7.2.2): PROD does not move, the record is lost and
// GERROR.EVENTQ_ABT_ERR activates. PROD/CONS in an inconsistent state (§3.5.1) make the queue
// behave as full, the option §3.5.1 gives a producer.
namespace vsmmu::queue {

// Event records are 32 bytes (§7.3).
inline constexpr unsigned event_bytes = 32;

struct event_queue_config {
  std::uint64_t base = 0;     // SMMU_EVENTQ_BASE.ADDR (bits [55:5]); aligned to the queue size here
  ring geometry{};            // the effective LOG2SIZE
  bool enabled = false;       // SMMU_CR0.EVENTQEN
  bool msi_supported = true;  // SMMU_IDR0.MSI
  irq_config irq{};           // IRQ_CTRL.EVENTQ_IRQEN, SMMU_EVENTQ_IRQ_CFG0-2
  irq_config gerror_irq{};    // for EVENTQ_ABT_ERR and MSI_EVENTQ_ABT_ERR

  [[nodiscard]] static constexpr event_queue_config from_registers(
      std::uint64_t eventq_base, const smmuv3::id_registers& idr, bool eventqen,
      const irq_config& irq = {}, const irq_config& gerror_irq = {}) noexcept {
    namespace regs = smmuv3::regs;
    const regs::eventq_base::value b{{eventq_base}};
    event_queue_config c;
    c.base = b.get<regs::eventq_base::ADDR>();
    c.geometry = ring(
        effective_log2size(b.get<regs::eventq_base::LOG2SIZE>(), idr.get<regs::idr1::EVENTQS>()));
    c.enabled = eventqen;
    c.msi_supported = idr.get<regs::idr0::MSI>();
    // The MSI addresses as the SMMU uses them: truncated to the OAS (§6.3.21, §3.4.3).
    const unsigned oas_bits = smmuv3::address_bits(idr.get<regs::idr5::OAS>());
    c.irq = irq.truncated_to(oas_bits);
    c.gerror_irq = gerror_irq.truncated_to(oas_bits);
    return c;
  }
};

struct event_queue_state {
  std::uint32_t prod = 0;  // SMMU_EVENTQ_PROD: WR (index + wrap) and OVFLG
  std::uint32_t cons = 0;  // SMMU_EVENTQ_CONS as software wrote it: RD and OVACKFLG

  [[nodiscard]] constexpr bool overflow_pending() const noexcept {
    return ((prod ^ cons) & reg::ovflg) != 0;  // OVFLG != OVACKFLG (§7.4)
  }
};

enum class record_status : std::uint8_t {
  written,       // the record is in the queue and PROD covers it
  disabled,      // EVENTQEN == 0
  full,          // no free entry (or inconsistent indexes)
  abort_active,  // GERROR.EVENTQ_ABT_ERR is active
  write_abort,   // this write aborted: EVENTQ_ABT_ERR activated, the record lost
};

struct record_result {
  record_status status = record_status::written;
  bool keep = false;            // a stall record the caller must offer again later
  bool overflowed = false;      // this call toggled EVENTQ_PROD.OVFLG
  bool interrupt = false;       // this call signalled the Event queue interrupt
  std::uint32_t activated = 0;  // GERROR bits this call activated
};

// Writes one record (its 32 bytes as the queue holds them).
template <memory::guest_memory M, signal_sink S>
record_result record_event(event_queue_state& st, global_errors& errors,
                           const event_queue_config& cfg, M& memory, S& sink,
                           std::span<const std::byte, event_bytes> record,
                           bool stall = false) noexcept {
  record_result out;
  const ring& r = cfg.geometry;
  const auto unwritable = [&](record_status why) {
    out.status = why;
    out.keep = stall;
    return out;
  };
  if (!cfg.enabled) return unwritable(record_status::disabled);
  if (errors.is_active(gerror_bit::eventq_abt_err)) return unwritable(record_status::abort_active);

  const std::uint32_t prod = r.pointer(st.prod);
  const std::uint32_t cons = r.pointer(st.cons);
  if (r.distance(prod, cons) >= r.size()) {  // full, or inconsistent and treated as full
    if (!stall && !st.overflow_pending()) {
      st.prod ^= reg::ovflg;
      out.overflowed = true;
    }
    return unwritable(record_status::full);
  }

  const std::uint32_t ovflg = st.prod & reg::ovflg;
  st.prod = ovflg | prod;  // bits above the wrap flag read as zero
  const std::uint64_t base = r.aligned_base(cfg.base, event_bytes);
  if (memory.write_bytes(r.entry_address(base, prod, event_bytes), record) !=
      memory::access_status::ok) {
    out.status = record_status::write_abort;
    out.activated = raise_global_errors(errors, gerror_bit::eventq_abt_err, cfg.gerror_irq,
                                        cfg.msi_supported, sink);
    return out;
  }
  const bool was_empty = prod == cons;
  st.prod = ovflg | r.advance(prod);  // publishes the record (§3.5.4)
  if (was_empty && cfg.irq.enabled) {
    out.interrupt = true;
    if (notify(sink, signal::eventq, cfg.irq, cfg.msi_supported) != memory::access_status::ok) {
      out.activated = raise_global_errors(errors, gerror_bit::msi_eventq_abt_err, cfg.gerror_irq,
                                          cfg.msi_supported, sink);
    }
  }
  return out;
}

// Any record type with bytes() giving the 32 bytes (walk::event_record, layout values of
// smmuv3/events.hpp layouts).
template <memory::guest_memory M, signal_sink S, class Record>
requires requires(const Record& rec) {
  { rec.bytes() } -> std::convertible_to<std::array<std::byte, event_bytes>>;
}
record_result record_event(event_queue_state& st, global_errors& errors,
                           const event_queue_config& cfg, M& memory, S& sink, const Record& rec,
                           bool stall = false) noexcept {
  const std::array<std::byte, event_bytes> bytes = rec.bytes();
  return record_event(st, errors, cfg, memory, sink, std::span<const std::byte, event_bytes>(bytes),
                      stall);
}

}  // namespace vsmmu::queue
