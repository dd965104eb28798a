// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/queue/command.hpp>
#include <vsmmu/queue/command_checks.hpp>
#include <vsmmu/queue/global_errors.hpp>
#include <vsmmu/queue/pointers.hpp>
#include <vsmmu/queue/signals.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/encodings.hpp>
#include <vsmmu/smmuv3/features.hpp>
#include <vsmmu/smmuv3/registers/queues.hpp>

#include <cstdint>
#include <limits>
#include <utility>

// The Non-secure Command queue consumer (IHI 0070 §3.5, §4, §7.1): fetches the entries between
// CMDQ_CONS and CMDQ_PROD from guest memory, validates each one, completes CMD_SYNC itself and
// hands every other command to a command_handler, in order, stopping at the first error with
// CMDQ_CONS.RD on the failing entry, CMDQ_CONS.ERR set and GERROR.CMDQ_ERR activated.
//
// Choices where the architecture leaves them to the implementation:
// - PROD/CONS bits above the wrap flag are ignored; indexes in an inconsistent state (§3.5.1)
//   consume nothing until software makes them consistent.
// - CMDQEN == 0 fetches nothing (§6.3.9.3); the error state and the pending ATC failure are
//   kept (a change of CMDQEN does not acknowledge CMDQ_ERR, §6.3.28).
// - CMD_ATC_INV, CMD_PRI_RESP and CMD_PREFETCH_* are consumed without reaching the handler while
//   SMMUEN == 0 (§6.3.9.6, §4.2, §4.5).
// - A CERROR_ATC_INV_SYNC reports the failed ATC invalidations once: the CMD_SYNC re-fetched
//   after the acknowledgement completes unless new ones failed meanwhile (§4.7.3 leaves what
//   timed out UNKNOWN; software re-issues what it still needs).
// - Command fetches are two 64-bit reads; an external abort on either is CERROR_ABT (§7.1).
namespace vsmmu::queue {

// Command queue entries are 16 bytes (§4.1.1).
inline constexpr unsigned command_bytes = 16;

// What the consumer needs to know about the SMMU's registers, decoded.
struct command_queue_config {
  std::uint64_t base = 0;  // SMMU_CMDQ_BASE.ADDR (bits [55:5]); aligned to the queue size here
  ring geometry{};         // the effective LOG2SIZE
  bool enabled = false;    // SMMU_CR0.CMDQEN
  bool smmuen = true;      // SMMU_CR0.SMMUEN
  command_features features{};
  // The GERROR interrupt, raised when CMDQ_ERR or MSI_CMDQ_ABT_ERR activate (from_registers:
  // its MSI address truncated to the OAS).
  irq_config gerror_irq{};
  // SMMU_IDR5.OAS in bits. A CMD_SYNC MSI address above it is truncated to it (§3.4.3, §4.7.3);
  // 56, the widest MSIAddress, truncates nothing.
  unsigned oas_bits = 56;

  // From SMMU_CMDQ_BASE and the advertised features.
  [[nodiscard]] static constexpr command_queue_config from_registers(
      std::uint64_t cmdq_base, const smmuv3::id_registers& idr, bool cmdqen, bool smmuen,
      const irq_config& gerror_irq = {}) noexcept {
    namespace regs = smmuv3::regs;
    const regs::cmdq_base::value b{{cmdq_base}};
    command_queue_config c;
    c.base = b.get<regs::cmdq_base::ADDR>();
    c.geometry =
        ring(effective_log2size(b.get<regs::cmdq_base::LOG2SIZE>(), idr.get<regs::idr1::CMDQS>()));
    c.enabled = cmdqen;
    c.smmuen = smmuen;
    c.features = command_features::from(idr);
    c.oas_bits = smmuv3::address_bits(idr.get<regs::idr5::OAS>());
    c.gerror_irq = gerror_irq.truncated_to(c.oas_bits);
    return c;
  }
};

// The queue's state the device keeps between calls. `prod` and `cons` are the registers as
// software and the SMMU last wrote them.
struct command_queue_state {
  std::uint32_t prod = 0;       // SMMU_CMDQ_PROD (bits above the wrap flag kept, ignored)
  std::uint32_t cons = 0;       // SMMU_CMDQ_CONS: RD (index + wrap) and ERR
  bool atc_inv_failed = false;  // a CMD_ATC_INV since the last completed CMD_SYNC did not complete

  [[nodiscard]] constexpr smmuv3::cerror error_code() const noexcept {
    return static_cast<smmuv3::cerror>(reg::cons_err(cons));
  }
};

// Why a call stopped.
enum class consume_stop : std::uint8_t {
  empty,          // every entry up to PROD was consumed
  disabled,       // CMDQEN == 0: nothing fetched
  error_active,   // GERROR.CMDQ_ERR is active: nothing fetched until it is acknowledged
  inconsistent,   // PROD/CONS in a state §3.5.1 forbids: nothing fetched
  budget,         // the caller's budget ran out; call again
  command_error,  // this call raised a command error (see `error`)
};

struct consume_result {
  std::uint32_t consumed = 0;  // entries CONS moved past; never more than the queue size
  std::uint32_t executed = 0;  // commands given to the handler
  std::uint32_t syncs = 0;     // CMD_SYNCs completed
  consume_stop stop = consume_stop::empty;
  smmuv3::cerror error = smmuv3::cerror::none;  // the error this call raised (CMDQ_CONS.ERR)
  std::uint32_t activated = 0;                  // GERROR bits this call activated (gerror_bit::*)
};

namespace detail {

[[nodiscard]] constexpr bool needs_smmuen(smmuv3::cmd::opcode op) noexcept {
  using op_t = smmuv3::cmd::opcode;
  return op == op_t::atc_inv || op == op_t::pri_resp || op == op_t::prefetch_config ||
         op == op_t::prefetch_addr;
}

// CMD_SYNC's completion signal (§4.7.3). Returns the GERROR bits to activate.
template <signal_sink S>
constexpr std::uint32_t signal_sync(const command& c, const command_features& f, unsigned oas_bits,
                                    S& sink) noexcept {
  namespace sync = smmuv3::cmd::sync;
  const auto v = c.as<sync::layout>();
  switch (v.get<sync::CS>()) {
    case smmuv3::cmd::cs::sig_irq: {
      sink.raise(signal::cmd_sync);  // the wired output, whatever MSIAddress says
      std::uint64_t address = v.get<sync::MSIAddress>();
      // "The check for zero applies to the entire specified field span and is not limited to
      // the [OAS]"; then "MSIAddress is truncated to the OAS" (§4.7.3).
      if (!f.msi || address == 0) return 0;
      if (oas_bits < 64) address &= (std::uint64_t{1} << oas_bits) - 1;
      const std::uint8_t attr = v.get<sync::MSIAttr>();
      const msi_message m{
          address, v.get<sync::MSIData>(), attr,
          effective_msi_shareability(attr, static_cast<std::uint8_t>(v.get<sync::MSH>()))};
      return sink.write_msi(signal::cmd_sync, m) == memory::access_status::ok
                 ? 0
                 : gerror_bit::msi_cmdq_abt_err;
    }
    case smmuv3::cmd::cs::sig_sev:
      if (f.sev) sink.raise(signal::wfe_wakeup);  // otherwise SIG_SEV is SIG_NONE
      return 0;
    default:
      return 0;
  }
}

// The consumer is noexcept when the handler is: it throws nothing of its own.
template <class H>
inline constexpr bool nothrow_handler = [] {
  if constexpr (synchronizing_handler<H>) {
    return noexcept(std::declval<H&>().execute(std::declval<const command&>()))&& noexcept(
        std::declval<H&>().synchronize());
  } else {
    return noexcept(std::declval<H&>().execute(std::declval<const command&>()));
  }
}();

template <class H>
constexpr command_status synchronize(H& handler) noexcept(nothrow_handler<H>) {
  if constexpr (synchronizing_handler<H>) {
    return handler.synchronize();
  } else {
    return command_status::ok;
  }
}

}  // namespace detail

// Consumes commands while the queue is enabled, not empty and without an active CMDQ_ERR, at
// most min(budget, queue size) entries. Updates st.cons (and st.atc_inv_failed), activates
// GERROR bits in `errors` and signals through `sink` (CMD_SYNC completion, the GERROR interrupt,
// SEV wake-ups). st.cons is published as each entry is consumed, so while the handler runs
// r.pointer(st.cons) is the position of the command it was given (the accelerated device tags
// forwarded commands with it). The handler runs synchronously: its effects are complete when
// execute() returns, so a CMD_SYNC needs nothing more than the handler's optional synchronize().
template <memory::readable_memory M, command_handler H, signal_sink S>
consume_result consume_commands(
    command_queue_state& st, global_errors& errors, const command_queue_config& cfg,
    const M& memory, H& handler, S& sink,
    std::uint32_t budget =
        std::numeric_limits<std::uint32_t>::max()) noexcept(detail::nothrow_handler<H>) {
  consume_result out;
  if (!cfg.enabled) {
    out.stop = consume_stop::disabled;
    return out;
  }
  if (errors.is_active(gerror_bit::cmdq_err)) {
    out.stop = consume_stop::error_active;
    return out;
  }
  const ring& r = cfg.geometry;
  const std::uint32_t prod = r.pointer(st.prod);
  std::uint32_t cons = r.pointer(st.cons);
  const std::uint32_t pending = r.distance(prod, cons);
  if (pending > r.size()) {
    out.stop = consume_stop::inconsistent;
    return out;
  }
  const bool was_full = pending == r.size();
  const std::uint32_t limit = pending < budget ? pending : budget;
  const std::uint64_t base = r.aligned_base(cfg.base, command_bytes);
  std::uint32_t gerror_bits = 0;

  const auto publish = [&] { st.cons = (st.cons & reg::cons_err_mask) | cons; };
  const auto fail = [&](smmuv3::cerror e) {
    out.error = e;
    out.stop = consume_stop::command_error;
    st.cons = reg::with_cons_err(cons, static_cast<std::uint8_t>(e));
    gerror_bits |= gerror_bit::cmdq_err;
  };

  while (out.consumed < limit) {
    const std::uint64_t at = r.entry_address(base, cons, command_bytes);
    const memory::read_result lo = memory.read64(at);
    const memory::read_result hi = memory.read64(at + 8);
    if (!lo.ok() || !hi.ok()) {
      fail(smmuv3::cerror::abt);
      break;
    }
    const command c{{lo.value, hi.value}};
    if (validate(c, cfg.features) != smmuv3::cerror::none) {
      fail(smmuv3::cerror::ill);
      break;
    }
    if (c.opcode() == smmuv3::cmd::opcode::sync) {
      if (st.atc_inv_failed) {
        st.atc_inv_failed = false;  // reported now (see the header comment)
        fail(smmuv3::cerror::atc_inv_sync);
        break;
      }
      const command_status s = detail::synchronize(handler);
      if (s != command_status::ok) {
        fail(s == command_status::atc_incomplete ? smmuv3::cerror::atc_inv_sync
                                                 : smmuv3::cerror::ill);
        break;
      }
      // Consumption is observable before the completion signal (§4.7.3, §3.18).
      cons = r.advance(cons);
      publish();
      ++out.consumed;
      ++out.syncs;
      gerror_bits |= detail::signal_sync(c, cfg.features, cfg.oas_bits, sink);
      continue;
    }
    if (cfg.smmuen || !detail::needs_smmuen(c.opcode())) {
      const command_status s = handler.execute(c);
      ++out.executed;
      if (s == command_status::illegal) {
        fail(smmuv3::cerror::ill);
        break;
      }
      if (s == command_status::atc_incomplete) st.atc_inv_failed = true;
    }
    cons = r.advance(cons);
    publish();
    ++out.consumed;
  }
  if (out.stop != consume_stop::command_error) {
    publish();  // also drops RAZ bits a software write may have left above the wrap flag
    out.stop = out.consumed < pending ? consume_stop::budget : consume_stop::empty;
  }
  // §4.1.2: with SEV, a wake-up when the queue stops being full.
  if (was_full && out.consumed != 0 && cfg.features.sev) sink.raise(signal::wfe_wakeup);
  if (gerror_bits != 0) {
    out.activated =
        raise_global_errors(errors, gerror_bits, cfg.gerror_irq, cfg.features.msi, sink);
  }
  return out;
}

}  // namespace vsmmu::queue
