// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/device/config.hpp>
#include <vsmmu/device/detail/register_masks.hpp>
#include <vsmmu/device/detail/uncached_engine.hpp>
#include <vsmmu/device/platform.hpp>
#include <vsmmu/device/snapshot.hpp>
#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/queue/command.hpp>
#include <vsmmu/queue/pointers.hpp>
#include <vsmmu/queue/signals.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/conformance.hpp>
#include <vsmmu/smmuv3/registers.hpp>
#include <vsmmu/walk/from_registers.hpp>
#include <vsmmu/walk/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

// The embeddable SMMUv3 (IHI 0070): the Non-secure register file behind MMIO read/write, the
// Command queue consumed as the guest produces, the Event queue filled with the faults of
// translate(), interrupts through the platform, reset and save/restore. docs/device.md.
namespace vsmmu::device {

template <class Config, memory::guest_memory M, platform Platform>
requires device_config<Config>
class smmu_device {
  static_assert(smmuv3::conforms<Config::id_registers>,
                "vsmmu: the device configuration breaks an SMMUv3 feature rule");

 public:
  static constexpr smmuv3::id_registers id_registers = Config::id_registers;
  // The register file: page 0 and page 1, 64KB each (IHI 0070 §6.1).
  static constexpr std::uint64_t mmio_size = 2 * std::uint64_t{smmuv3::regs::page_size};

  smmu_device(M& memory, Platform& platform) noexcept
      : memory_(&memory), platform_(&platform), engine_(memory) {
    reset();
  }

  // --- MMIO ---------------------------------------------------------------------------------

  // A guest read of `size` bytes (4 or 8) at `offset` from the start of page 0.
  [[nodiscard]] std::uint64_t read(std::uint64_t offset, unsigned size) noexcept {
    const access a = decode(offset, size, 0);
    if (!a.reg) return 0;
    const std::uint64_t v = read_register(*a.reg);
    return a.width == 8 ? v : (v >> (32 * a.half)) & 0xffff'ffffU;
  }

  // A guest write of `size` bytes (4 or 8) at `offset` from the start of page 0.
  void write(std::uint64_t offset, unsigned size, std::uint64_t value) noexcept {
    const access a = decode(offset, size, value);
    if (!a.reg) return;
    std::uint64_t v = value;
    if (a.width == 4) {
      // One half of a 64-bit register: the other half keeps what reads return (§6.2).
      if (a.reg->width == 64) {
        const unsigned shift = 32 * a.half;
        v = (read_register(*a.reg) & ~(std::uint64_t{0xffff'ffffU} << shift)) |
            ((value & 0xffff'ffffU) << shift);
      } else {
        v = value & 0xffff'ffffU;
      }
    }
    write_register(*a.reg, v, static_cast<std::uint32_t>(offset), size);
  }

  // --- Transactions -------------------------------------------------------------------------

  // A DMA transaction from a device: stream table → configuration → walk, and the event the
  // architecture records for it in the Event queue.
  walk::result translate(const walk::transaction& t) noexcept {
    walk::result r = engine_.translate(t);
    if (r.recorded()) record_event(r.event);
    return r;
  }

  walk::result translate(std::uint32_t sid, std::optional<std::uint32_t> ssid, std::uint64_t iova,
                         walk::access_kind access, bool privileged = false) noexcept {
    walk::transaction t;
    t.sid = sid;
    t.ssv = ssid.has_value();
    t.ssid = ssid.value_or(0);
    t.address = iova;
    t.access = access;
    t.privileged = privileged;
    return translate(t);
  }

  // Records an event (translate() does this for its faults); false when it was not recorded.
  bool record_event(const walk::event_record& e) noexcept {
    namespace R = smmuv3::regs;
    if (!get<R::cr0ack::EVENTQEN>(regs_.cr0ack) || error_active(gerror_bit::eventq_abt)) {
      diagnose({diagnostic::event_dropped, 0, 0, static_cast<std::uint64_t>(e.type())});
      return false;
    }
    const queue::ring ring = eventq_ring();
    const std::uint32_t prod = regs_.eventq_prod;
    const std::uint32_t cons = regs_.eventq_cons;
    if (ring.full(prod, cons) || !ring.consistent(prod, cons)) {
      // §7.4: the first discarded record enters the overflow condition by toggling OVFLG.
      if ((prod & queue::reg::ovflg) == (cons & queue::reg::ovackflg)) {
        regs_.eventq_prod ^= queue::reg::ovflg;
      }
      diagnose({diagnostic::event_dropped, 0, 0, static_cast<std::uint64_t>(e.type())});
      return false;
    }
    const std::uint64_t base =
        ring.aligned_base(get<R::eventq_base::ADDR>(regs_.eventq_base), event_bytes);
    const auto bytes = e.bytes();
    if (memory_->write_bytes(ring.entry_address(base, prod, event_bytes),
                             std::span<const std::byte>(bytes)) != memory::access_status::ok) {
      raise_error(gerror_bit::eventq_abt);
      diagnose({diagnostic::event_dropped, 0, 0, static_cast<std::uint64_t>(e.type())});
      return false;
    }
    regs_.eventq_prod = (prod & queue::reg::ovflg) | ring.advance(ring.pointer(prod));
    signal(queue::signal::eventq, irq_source::eventq);
    return true;
  }

  // Consumes commands now, as the device does on a CMDQ_PROD write (for embedders that defer
  // command processing to their own scheduling).
  void process_commands() noexcept { consume_commands(); }

  // --- Reset, save, restore -----------------------------------------------------------------

  // The architected reset values; UNKNOWN fields reset to 0 (smmuv3/registers).
  void reset() noexcept {
    namespace R = smmuv3::regs;
    regs_ = {};
    regs_.gbpa = static_cast<std::uint32_t>(R::gbpa::reset_value & masks_.gbpa);
    engine_.invalidate_all();
    sync_engine();
  }

  // The architectural state (registers and queue pointers) as a versioned byte blob.
  [[nodiscard]] snapshot_bytes save() const noexcept {
    return encode_snapshot(id_registers, regs_);
  }

  // Restores what save() produced, on a device of the same configuration. Caches are
  // invalidated: a restored device fetches its configuration and tables afresh.
  restore_status restore(std::span<const std::byte> blob) noexcept {
    register_state s;
    const restore_status st = decode_snapshot(blob, id_registers, s);
    if (st != restore_status::ok) return st;
    // A blob is guest-influenced input: bits the registers cannot hold are dropped.
    const auto& m = masks_;
    s.cr0 &= static_cast<std::uint32_t>(m.cr0);
    s.cr0ack &= static_cast<std::uint32_t>(m.cr0);
    s.cr1 &= static_cast<std::uint32_t>(m.cr1);
    s.cr2 &= static_cast<std::uint32_t>(m.cr2);
    s.gbpa &= static_cast<std::uint32_t>(m.gbpa);
    s.irq_ctrl &= static_cast<std::uint32_t>(m.irq_ctrl);
    s.irq_ctrlack &= static_cast<std::uint32_t>(m.irq_ctrl);
    s.gerror &= static_cast<std::uint32_t>(m.gerror);
    s.gerrorn &= static_cast<std::uint32_t>(m.gerror);
    s.gerror_irq_cfg0 &= m.irq_cfg0;
    s.gerror_irq_cfg1 &= static_cast<std::uint32_t>(m.irq_cfg1);
    s.gerror_irq_cfg2 &= static_cast<std::uint32_t>(m.irq_cfg2);
    s.strtab_base &= m.strtab_base;
    s.strtab_base_cfg &= static_cast<std::uint32_t>(m.strtab_base_cfg);
    s.cmdq_base &= m.queue_base;
    s.cmdq_prod &= static_cast<std::uint32_t>(m.cmdq_prod);
    s.cmdq_cons &= static_cast<std::uint32_t>(m.cmdq_cons);
    s.eventq_base &= m.queue_base;
    s.eventq_prod &= static_cast<std::uint32_t>(m.eventq_prod);
    s.eventq_cons &= static_cast<std::uint32_t>(m.eventq_cons);
    s.eventq_irq_cfg0 &= m.irq_cfg0;
    s.eventq_irq_cfg1 &= static_cast<std::uint32_t>(m.irq_cfg1);
    s.eventq_irq_cfg2 &= static_cast<std::uint32_t>(m.irq_cfg2);
    regs_ = s;
    engine_.invalidate_all();
    sync_engine();
    return st;
  }

  // --- Introspection ------------------------------------------------------------------------

  [[nodiscard]] const register_state& registers() const noexcept { return regs_; }
  [[nodiscard]] unsigned diagnostics(diagnostic d) const noexcept {
    return diagnostics_[static_cast<std::size_t>(d)];
  }
  [[nodiscard]] unsigned diagnostics_total() const noexcept {
    unsigned n = 0;
    for (unsigned c : diagnostics_) n += c;
    return n;
  }
  [[nodiscard]] const walk::smmu_state& translation_state() const noexcept {
    return engine_.state();
  }

 private:
  using engine_type = detail::uncached_engine<M>;

  static constexpr unsigned command_bytes = 16;  // §4.1
  static constexpr unsigned event_bytes = 32;    // §7.3

  struct access {
    const smmuv3::register_desc* reg = nullptr;
    unsigned width = 4;  // 4 or 8
    unsigned half = 0;   // which half of a 64-bit register a 4-byte access reaches
  };

  enum class gerror_bit : std::uint8_t {
    cmdq = 0,
    eventq_abt = 2,
    msi_cmdq_abt = 4,
    msi_eventq_abt = 5,
    msi_gerror_abt = 7,
  };
  enum class irq_source : std::uint8_t { gerror, eventq };

  template <class F>
  [[nodiscard]] static constexpr typename F::value_type get(std::uint64_t reg) noexcept {
    return F::from_raw(reg >> F::lsb);
  }

  // --- decoding an access ---

  [[nodiscard]] static const smmuv3::register_desc* register_at(unsigned page,
                                                                std::uint32_t off) noexcept {
    namespace R = smmuv3::regs;
    if (const auto* r = smmuv3::find_register(page, off)) return r;
    // §6.2.1: the page-0 offsets of the page-1 registers alias them (vsmmu's choice).
    if (page == 0 && off >= R::eventq_prod::page0_alias_offset &&
        off < R::eventq_cons::page0_alias_offset + 4) {
      return smmuv3::find_register(1, off);
    }
    if (page == 0 && off >= R::priq_prod::page0_alias_offset &&
        off < R::priq_cons::page0_alias_offset + 4) {
      return smmuv3::find_register(1, off);
    }
    return nullptr;
  }

  access decode(std::uint64_t offset, unsigned size, std::uint64_t value) noexcept {
    const auto off32 = static_cast<std::uint32_t>(offset);
    if (size != 4 && size != 8) {
      diagnose({diagnostic::unsupported_size, off32, size, value});
      return {};
    }
    if (offset >= mmio_size || offset + size > mmio_size) {
      diagnose({diagnostic::out_of_range, off32, size, value});
      return {};
    }
    if (offset % size != 0) {
      diagnose({diagnostic::unaligned_access, off32, size, value});
      return {};
    }
    const unsigned page = static_cast<unsigned>(offset / smmuv3::regs::page_size);
    const std::uint32_t off = off32 % smmuv3::regs::page_size;
    const auto* lo = register_at(page, off);
    const auto* hi = size == 8 ? register_at(page, off + 4) : nullptr;
    if (size == 8) {
      if (lo != nullptr && lo == hi && lo->width == 64) return {lo, 8, 0};
      if (lo != nullptr || hi != nullptr) {
        diagnose({diagnostic::split_64bit_access, off32, size, value});
        return {};
      }
    } else if (lo != nullptr) {
      return {lo, 4, lo->width == 64 ? (off - lo->offset) / 4 : 0};
    }
    // Undefined: RES0 in page 0, CONSTRAINED UNPREDICTABLE (here RES0 too) in page 1.
    if (page == 1) diagnose({diagnostic::page1_reserved, off32, size, value});
    return {};
  }

  // --- register semantics ---

  [[nodiscard]] std::uint64_t read_register(const smmuv3::register_desc& r) const noexcept {
    namespace R = smmuv3::regs;
    const auto& s = regs_;
    switch (key(r)) {
      case key_of<R::idr0::desc>():
        return id_registers.idr0;
      case key_of<R::idr1::desc>():
        return id_registers.idr1;
      case key_of<R::idr2::desc>():
        return id_registers.idr2;
      case key_of<R::idr3::desc>():
        return id_registers.idr3;
      case key_of<R::idr4::desc>():
        return id_registers.idr4;
      case key_of<R::idr5::desc>():
        return id_registers.idr5;
      case key_of<R::iidr::desc>():
        return R::iidr::reset_value;
      case key_of<R::aidr::desc>():
        return id_registers.aidr;
      case key_of<R::cr0::desc>():
        return s.cr0;
      case key_of<R::cr0ack::desc>():
        return s.cr0ack;
      case key_of<R::cr1::desc>():
        return s.cr1;
      case key_of<R::cr2::desc>():
        return s.cr2;
      case key_of<R::gbpa::desc>():
        return s.gbpa;  // Update completes at once: reads 0
      case key_of<R::irq_ctrl::desc>():
        return s.irq_ctrl;
      case key_of<R::irq_ctrlack::desc>():
        return s.irq_ctrlack;
      case key_of<R::gerror::desc>():
        return s.gerror;
      case key_of<R::gerrorn::desc>():
        return s.gerrorn;
      case key_of<R::gerror_irq_cfg0::desc>():
        return s.gerror_irq_cfg0;
      case key_of<R::gerror_irq_cfg1::desc>():
        return s.gerror_irq_cfg1;
      case key_of<R::gerror_irq_cfg2::desc>():
        return s.gerror_irq_cfg2;
      case key_of<R::strtab_base::desc>():
        return s.strtab_base;
      case key_of<R::strtab_base_cfg::desc>():
        return s.strtab_base_cfg;
      case key_of<R::cmdq_base::desc>():
        return s.cmdq_base;
      case key_of<R::cmdq_prod::desc>():
        return s.cmdq_prod;
      // §6.3.28: bits [19:QS+1] of RD are RAZ.
      case key_of<R::cmdq_cons::desc>():
        return (s.cmdq_cons & queue::reg::cons_err_mask) | cmdq_ring().pointer(s.cmdq_cons);
      case key_of<R::eventq_base::desc>():
        return s.eventq_base;
      case key_of<R::eventq_prod::desc>():
        return (s.eventq_prod & queue::reg::ovflg) | eventq_ring().pointer(s.eventq_prod);
      case key_of<R::eventq_cons::desc>():
        return s.eventq_cons;
      case key_of<R::eventq_irq_cfg0::desc>():
        return s.eventq_irq_cfg0;
      case key_of<R::eventq_irq_cfg1::desc>():
        return s.eventq_irq_cfg1;
      case key_of<R::eventq_irq_cfg2::desc>():
        return s.eventq_irq_cfg2;
      default:  // STATUSR, AGBPA, and the PRI queue registers (no PRI): RES0
        return 0;
    }
  }

  void write_register(const smmuv3::register_desc& r, std::uint64_t v, std::uint32_t offset,
                      unsigned size) noexcept {
    namespace R = smmuv3::regs;
    auto& s = regs_;
    const auto& m = masks_;
    const bool smmuen = get<R::cr0ack::SMMUEN>(s.cr0ack);
    const bool cmdqen = get<R::cr0ack::CMDQEN>(s.cr0ack);
    const bool eventqen = get<R::cr0ack::EVENTQEN>(s.cr0ack);
    // A write to a field Guarded by an enable that is set is ignored (the SMMUv3.2 behaviour,
    // one of the options for earlier revisions).
    auto guarded = [&](bool guard, auto& reg, std::uint64_t mask) {
      if (guard) {
        diagnose({diagnostic::guarded_write, offset, size, v});
        return false;
      }
      reg = static_cast<std::remove_reference_t<decltype(reg)>>(v & mask);
      return true;
    };
    switch (key(r)) {
      case key_of<R::cr0::desc>(): {
        s.cr0 = static_cast<std::uint32_t>(v & m.cr0);
        cr0_update();
        return;
      }
      case key_of<R::cr1::desc>():
        guarded(smmuen, s.cr1, m.cr1);
        return;
      case key_of<R::cr2::desc>():
        if (guarded(smmuen, s.cr2, m.cr2)) sync_engine();
        return;
      case key_of<R::gbpa::desc>():
        // §6.3.14.1: only a write with Update == 1 changes GBPA (the SMMUv3.2 behaviour).
        if (!get<R::gbpa::Update>(v)) {
          diagnose({diagnostic::gbpa_without_update, offset, size, v});
          return;
        }
        s.gbpa = static_cast<std::uint32_t>(v & m.gbpa);
        sync_engine();
        return;
      case key_of<R::irq_ctrl::desc>():
        s.irq_ctrl = static_cast<std::uint32_t>(v & m.irq_ctrl);
        s.irq_ctrlack = s.irq_ctrl;  // Update completes at once (§6.3.16)
        return;
      case key_of<R::gerrorn::desc>(): {
        const auto toggled = static_cast<std::uint32_t>((v ^ s.gerrorn) & m.gerror);
        const std::uint32_t active = s.gerror ^ s.gerrorn;
        if ((toggled & ~active) != 0) {
          diagnose({diagnostic::gerrorn_inactive, offset, size, v});
        }
        const bool cmdq_acked = (toggled & active & 1U) != 0;
        s.gerrorn ^= toggled & active;
        // §7.1: acknowledging CMDQ_ERR resumes command processing.
        if (cmdq_acked) consume_commands();
        return;
      }
      case key_of<R::gerror_irq_cfg0::desc>():
        guarded(get<R::irq_ctrlack::GERROR_IRQEN>(s.irq_ctrlack), s.gerror_irq_cfg0, m.irq_cfg0);
        return;
      case key_of<R::gerror_irq_cfg1::desc>():
        guarded(get<R::irq_ctrlack::GERROR_IRQEN>(s.irq_ctrlack), s.gerror_irq_cfg1, m.irq_cfg1);
        return;
      case key_of<R::gerror_irq_cfg2::desc>():
        guarded(get<R::irq_ctrlack::GERROR_IRQEN>(s.irq_ctrlack), s.gerror_irq_cfg2, m.irq_cfg2);
        return;
      case key_of<R::strtab_base::desc>():
        if (guarded(smmuen, s.strtab_base, m.strtab_base)) sync_engine();
        return;
      case key_of<R::strtab_base_cfg::desc>():
        if (guarded(smmuen, s.strtab_base_cfg, m.strtab_base_cfg)) sync_engine();
        return;
      case key_of<R::cmdq_base::desc>():
        guarded(cmdqen || get<R::cr0::CMDQEN>(s.cr0), s.cmdq_base, m.queue_base);
        return;
      case key_of<R::cmdq_prod::desc>():
        s.cmdq_prod = static_cast<std::uint32_t>(v & m.cmdq_prod);
        consume_commands();
        return;
      case key_of<R::cmdq_cons::desc>():
        guarded(cmdqen || get<R::cr0::CMDQEN>(s.cr0), s.cmdq_cons, m.cmdq_cons);
        return;
      case key_of<R::eventq_base::desc>():
        guarded(eventqen || get<R::cr0::EVENTQEN>(s.cr0), s.eventq_base, m.queue_base);
        return;
      case key_of<R::eventq_prod::desc>():
        guarded(eventqen || get<R::cr0::EVENTQEN>(s.cr0), s.eventq_prod, m.eventq_prod);
        return;
      case key_of<R::eventq_cons::desc>():
        s.eventq_cons = static_cast<std::uint32_t>(v & m.eventq_cons);
        return;
      case key_of<R::eventq_irq_cfg0::desc>():
        guarded(get<R::irq_ctrlack::EVENTQ_IRQEN>(s.irq_ctrlack), s.eventq_irq_cfg0, m.irq_cfg0);
        return;
      case key_of<R::eventq_irq_cfg1::desc>():
        guarded(get<R::irq_ctrlack::EVENTQ_IRQEN>(s.irq_ctrlack), s.eventq_irq_cfg1, m.irq_cfg1);
        return;
      case key_of<R::eventq_irq_cfg2::desc>():
        guarded(get<R::irq_ctrlack::EVENTQ_IRQEN>(s.irq_ctrlack), s.eventq_irq_cfg2, m.irq_cfg2);
        return;
      case key_of<R::agbpa::desc>():  // RES0: no IMPLEMENTATION DEFINED attributes
      case key_of<R::priq_base::desc>():
      case key_of<R::priq_prod::desc>():
      case key_of<R::priq_cons::desc>():
      case key_of<R::priq_irq_cfg0::desc>():
      case key_of<R::priq_irq_cfg1::desc>():
      case key_of<R::priq_irq_cfg2::desc>():  // RES0: no PRI queue (IDR0.PRI == 0)
        return;
      default:  // ID registers, CR0ACK, STATUSR, IRQ_CTRLACK, GERROR
        diagnose({diagnostic::read_only_write, offset, size, v});
        return;
    }
  }

  // §6.3.9: every CR0 field's Update completes at once; CR0ACK follows CR0.
  void cr0_update() noexcept {
    namespace R = smmuv3::regs;
    const bool was_cmdqen = get<R::cr0ack::CMDQEN>(regs_.cr0ack);
    regs_.cr0ack = regs_.cr0;
    sync_engine();
    if (!was_cmdqen && get<R::cr0ack::CMDQEN>(regs_.cr0ack)) consume_commands();
  }

  // --- the Command queue ---

  [[nodiscard]] queue::ring cmdq_ring() const noexcept {
    namespace R = smmuv3::regs;
    return queue::ring(queue::effective_log2size(get<R::cmdq_base::LOG2SIZE>(regs_.cmdq_base),
                                                 id_registers.get<R::idr1::CMDQS>()));
  }
  [[nodiscard]] queue::ring eventq_ring() const noexcept {
    namespace R = smmuv3::regs;
    return queue::ring(queue::effective_log2size(get<R::eventq_base::LOG2SIZE>(regs_.eventq_base),
                                                 id_registers.get<R::idr1::EVENTQS>()));
  }

  // IHI 0070 §4, §7.1: consume from CONS towards PROD while the queue is enabled and no
  // CMDQ_ERR is active; stop at the first command that fails, CONS pointing at it.
  void consume_commands() noexcept {
    namespace R = smmuv3::regs;
    if (!get<R::cr0ack::CMDQEN>(regs_.cr0ack) || error_active(gerror_bit::cmdq)) return;
    const queue::ring ring = cmdq_ring();
    const std::uint64_t base =
        ring.aligned_base(get<R::cmdq_base::ADDR>(regs_.cmdq_base), command_bytes);
    std::uint32_t cons = ring.pointer(regs_.cmdq_cons);
    const std::uint32_t prod = ring.pointer(regs_.cmdq_prod);
    // At most one pass over the queue, whatever PROD says.
    for (std::uint32_t n = 0; cons != prod && n < ring.size(); ++n) {
      const smmuv3::cerror err = run_command(ring.entry_address(base, cons, command_bytes));
      if (err != smmuv3::cerror::none) {
        regs_.cmdq_cons = queue::reg::with_cons_err(cons, static_cast<std::uint8_t>(err));
        diagnose({diagnostic::command_error, 0, 0, static_cast<std::uint64_t>(err)});
        raise_error(gerror_bit::cmdq);
        return;
      }
      cons = ring.advance(cons);
      regs_.cmdq_cons = (regs_.cmdq_cons & queue::reg::cons_err_mask) | cons;
    }
  }

  [[nodiscard]] smmuv3::cerror run_command(std::uint64_t at) noexcept {
    namespace C = smmuv3::cmd;
    const auto w0 = memory_->read64(at);
    const auto w1 = memory_->read64(at + 8);
    if (!w0.ok() || !w1.ok()) return smmuv3::cerror::abt;
    const queue::command c{{w0.value, w1.value}};
    const auto op = static_cast<std::uint8_t>(w0.value & 0xff);
    if (smmuv3::find_command(op) == nullptr || !allowed(c.opcode())) return smmuv3::cerror::ill;
    if (c.opcode() == C::opcode::sync) return complete_sync(c);
    switch (engine_.execute(c)) {
      case queue::command_status::ok:
        return smmuv3::cerror::none;
      case queue::command_status::illegal:
        return smmuv3::cerror::ill;
      case queue::command_status::atc_incomplete:
        atc_pending_ = true;
        return smmuv3::cerror::none;
    }
    return smmuv3::cerror::ill;
  }

  // Commands the Non-secure queue of this feature set may issue (§4.1.1 and each command's
  // "ILLEGAL if" conditions).
  [[nodiscard]] static constexpr bool allowed(smmuv3::cmd::opcode op) noexcept {
    namespace R = smmuv3::regs;
    using enum smmuv3::cmd::opcode;
    const bool s1 = id_registers.get<R::idr0::S1P>();
    const bool s2 = id_registers.get<R::idr0::S2P>();
    switch (op) {
      case tlbi_el2_all:
      case tlbi_el2_asid:
      case tlbi_el2_va:
      case tlbi_el2_vaa:
        return id_registers.get<R::idr0::Hyp>();
      case tlbi_s12_vmall:
      case tlbi_s2_ipa:
        return s2;
      case tlbi_nh_asid:
      case tlbi_nh_va:
      case tlbi_nh_vaa:
        return s1;
      case atc_inv:
        return id_registers.get<R::idr0::ATS>();
      case pri_resp:
        return id_registers.get<R::idr0::PRI>();
      case cfgi_vms_pidm:
        return false;  // no VMS (SMMUv3.2 MPAM/PARTID)
      case dpti_all:
      case dpti_pa:
        return id_registers.get<R::idr3::DPT>();
      case tlbi_el3_all:  // Secure-only commands are ILLEGAL on the Non-secure queue
      case tlbi_el3_va:
      case tlbi_s_el2_all:
      case tlbi_s_el2_asid:
      case tlbi_s_el2_va:
      case tlbi_s_el2_vaa:
      case tlbi_s_s12_vmall:
      case tlbi_s_s2_ipa:
      case tlbi_snh_all:
        return false;
      default:
        return true;
    }
  }

  // §4.7.3: everything before the CMD_SYNC is complete (the engine applies commands at once),
  // then the completion signal.
  [[nodiscard]] smmuv3::cerror complete_sync(const queue::command& c) noexcept {
    namespace S = smmuv3::cmd::sync;
    namespace R = smmuv3::regs;
    const auto v = c.as<S::layout>();
    if (v.get<S::CS>() == static_cast<smmuv3::cmd::cs>(0b11)) return smmuv3::cerror::ill;
    if (atc_pending_) {
      atc_pending_ = false;
      return smmuv3::cerror::atc_inv_sync;
    }
    if (v.get<S::CS>() == smmuv3::cmd::cs::sig_irq) {
      queue::irq_config cfg;
      cfg.enabled = true;
      cfg.msi_address = v.get<S::MSIAddress>();
      cfg.msi_data = v.get<S::MSIData>();
      cfg.mem_attr = v.get<S::MSIAttr>();
      cfg.sh = static_cast<std::uint8_t>(v.get<S::MSH>());
      if (queue::notify(*platform_, queue::signal::cmd_sync, cfg,
                        id_registers.get<R::idr0::MSI>()) != memory::access_status::ok) {
        diagnose({diagnostic::msi_abort, 0, 0, cfg.msi_address});
        raise_error(gerror_bit::msi_cmdq_abt);
      }
    } else if (v.get<S::CS>() == smmuv3::cmd::cs::sig_sev) {
      platform_->raise(queue::signal::wfe_wakeup);
    }
    return smmuv3::cerror::none;
  }

  // --- global errors and interrupts ---

  [[nodiscard]] bool error_active(gerror_bit b) const noexcept {
    return (((regs_.gerror ^ regs_.gerrorn) >> static_cast<unsigned>(b)) & 1U) != 0;
  }

  // §7.5: an error is activated by toggling its GERROR bit, unless it is already active.
  void raise_error(gerror_bit b) noexcept {
    if (error_active(b)) return;
    regs_.gerror ^= std::uint32_t{1} << static_cast<unsigned>(b);
    signal(queue::signal::gerror, irq_source::gerror);
  }

  void signal(queue::signal what, irq_source src) noexcept {
    namespace R = smmuv3::regs;
    queue::irq_config cfg;
    const auto& s = regs_;
    gerror_bit abort_bit = gerror_bit::msi_gerror_abt;
    if (src == irq_source::gerror) {
      cfg = {get<R::irq_ctrlack::GERROR_IRQEN>(s.irq_ctrlack),
             get<R::gerror_irq_cfg0::ADDR>(s.gerror_irq_cfg0),
             static_cast<std::uint32_t>(s.gerror_irq_cfg1),
             get<R::gerror_irq_cfg2::MemAttr>(s.gerror_irq_cfg2),
             static_cast<std::uint8_t>(get<R::gerror_irq_cfg2::SH>(s.gerror_irq_cfg2))};
    } else {
      abort_bit = gerror_bit::msi_eventq_abt;
      cfg = {get<R::irq_ctrlack::EVENTQ_IRQEN>(s.irq_ctrlack),
             get<R::eventq_irq_cfg0::ADDR>(s.eventq_irq_cfg0),
             static_cast<std::uint32_t>(s.eventq_irq_cfg1),
             get<R::eventq_irq_cfg2::MemAttr>(s.eventq_irq_cfg2),
             static_cast<std::uint8_t>(get<R::eventq_irq_cfg2::SH>(s.eventq_irq_cfg2))};
    }
    if (queue::notify(*platform_, what, cfg, id_registers.get<R::idr0::MSI>()) !=
        memory::access_status::ok) {
      diagnose({diagnostic::msi_abort, 0, 0, cfg.msi_address});
      // An aborted GERROR MSI is recorded without another GERROR MSI (no signalling loop).
      if (abort_bit == gerror_bit::msi_gerror_abt) {
        if (!error_active(abort_bit)) {
          regs_.gerror ^= std::uint32_t{1} << static_cast<unsigned>(abort_bit);
        }
      } else {
        raise_error(abort_bit);
      }
    }
  }

  void diagnose(const diagnostic_record& d) noexcept {
    ++diagnostics_[static_cast<std::size_t>(d.kind)];
    if constexpr (diagnosing_platform<Platform>) platform_->diagnose(d);
  }

  // The walker's view of the registers (SMMUEN as acknowledged).
  void sync_engine() noexcept {
    walk::control_registers c;
    c.cr0 = regs_.cr0ack;
    c.cr2 = regs_.cr2;
    c.gbpa = regs_.gbpa;
    c.strtab_base = regs_.strtab_base;
    c.strtab_base_cfg = regs_.strtab_base_cfg;
    engine_.set_state(walk::state_from(id_registers, c));
  }

  // A register's absolute offset, what the switches dispatch on.
  [[nodiscard]] static constexpr std::uint32_t key(const smmuv3::register_desc& r) noexcept {
    return smmuv3::absolute_offset(r);
  }
  template <const smmuv3::register_desc& R>
  [[nodiscard]] static constexpr std::uint32_t key_of() noexcept {
    return smmuv3::absolute_offset(R);
  }

  static constexpr detail::register_masks masks_ = detail::masks_for(id_registers);

  M* memory_;
  Platform* platform_;
  engine_type engine_;
  register_state regs_{};
  std::array<unsigned, diagnostic_count> diagnostics_{};
  bool atc_pending_ = false;
};

}  // namespace vsmmu::device
