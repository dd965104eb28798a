// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/device/accelerator.hpp>
#include <vsmmu/device/config.hpp>
#include <vsmmu/device/detail/register_masks.hpp>
#include <vsmmu/device/platform.hpp>
#include <vsmmu/device/snapshot.hpp>
#include <vsmmu/engine/micro_tlb.hpp>
#include <vsmmu/engine/notifications.hpp>
#include <vsmmu/engine/smmu_engine.hpp>
#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/queue/command.hpp>
#include <vsmmu/queue/command_queue.hpp>
#include <vsmmu/queue/event_queue.hpp>
#include <vsmmu/queue/global_errors.hpp>
#include <vsmmu/queue/pointers.hpp>
#include <vsmmu/queue/signals.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/conformance.hpp>
#include <vsmmu/smmuv3/registers.hpp>
#include <vsmmu/walk/from_registers.hpp>
#include <vsmmu/walk/result.hpp>
#include <vsmmu/walk/stream_table.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <type_traits>

// The embeddable SMMUv3 (IHI 0070): the Non-secure register file behind MMIO read/write, the
// Command queue consumed as the guest produces, the Event queue filled with the faults of
// translate(), interrupts through the platform, reset and save/restore. docs/device.md.
//
// With an Accelerator (device/accelerator.hpp, e.g. accel::accelerated_vsmmu) the device is the
// front end of the accelerated mode: each command is applied locally and then handed to the
// accelerator (STE install, invalidation forwarding, batched until CMD_SYNC), SMMUEN edges and GBPA
// updates move the devices on the host, and host events reach the Event queue (docs/accel.md).
namespace vsmmu::device {

template <class Config, memory::guest_memory M, platform Platform,
          class Accelerator = no_accelerator>
requires device_config<Config> && accelerator_or_none<Accelerator>
class smmu_device {
  static_assert(smmuv3::conforms<Config::id_registers>,
                "vsmmu: the device configuration breaks an SMMUv3 feature rule");

 public:
  static constexpr smmuv3::id_registers id_registers = Config::id_registers;
  // The register file: page 0 and page 1, 64KB each (IHI 0070 §6.1).
  static constexpr std::uint64_t mmio_size = 2 * std::uint64_t{smmuv3::regs::page_size};
  static constexpr bool accelerated = is_accelerated<Accelerator>;

  // `memory` and `platform` must outlive the device. Platform callbacks must not throw (they
  // run under the device's noexcept MMIO and translate paths).
  smmu_device(M& memory, Platform& platform) requires(!accelerated)
      : memory_(&memory),
        platform_(&platform),
        engine_(memory, walk::state_from(id_registers, {}),
                detail::platform_notifier<Platform>(platform), engine_options()) {
    reset();
  }

  // Accelerated mode: `accel` must outlive the device, and its ID registers should be the
  // device's (accel_consistent()). The accelerator's host calls allocate: an allocation failure
  // under the noexcept MMIO path terminates, as a VMM out of memory does.
  smmu_device(M& memory, Platform& platform, Accelerator& accel) requires accelerated
      : memory_(&memory),
        platform_(&platform),
        engine_(memory, walk::state_from(id_registers, {}),
                detail::platform_notifier<Platform>(platform), engine_options()) {
    accel_.a = &accel;
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

  // The same through a micro-TLB owned by the calling device thread (engine/micro_tlb.hpp):
  // repeated translations of a page skip the engine's lock. Faults are never kept there, so the
  // events recorded are the same.
  template <std::size_t N>
  walk::result translate(const walk::transaction& t, engine::micro_tlb<N>& u) noexcept {
    walk::result r = engine_.translate(t, u);
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

  // Records an event in the Event queue (translate() does this for its faults); false when it
  // was not written (queue disabled, full, in error, or the write aborted).
  bool record_event(const walk::event_record& e) noexcept { return record_bytes(e.bytes()); }

 private:
  bool record_bytes(const std::array<std::byte, queue::event_bytes>& e) noexcept {
    namespace R = smmuv3::regs;
    queue::event_queue_state st{regs_.eventq_prod, regs_.eventq_cons};
    queue::global_errors errors{regs_.gerror, regs_.gerrorn};
    const auto cfg = queue::event_queue_config::from_registers(
        regs_.eventq_base, id_registers, get<R::cr0ack::EVENTQEN>(regs_.cr0ack), eventq_irq(),
        gerror_irq());
    const queue::record_result r = queue::record_event(
        st, errors, cfg, *memory_, *platform_, std::span<const std::byte, queue::event_bytes>(e));
    regs_.eventq_prod = st.prod;
    regs_.gerror = errors.gerror;
    if (r.status != queue::record_status::written) {
      diagnose({diagnostic::event_dropped, 0, 0, std::to_integer<std::uint64_t>(e[0])});
    }
    note_msi_aborts(r.activated);
    return r.status == queue::record_status::written;
  }

 public:
  // Command processing on the guest's MMIO writes (the default), or only when the embedder calls
  // process_commands() from its own schedule (a CMDQ_PROD write then only stores). Calls into
  // the device are still made one at a time.
  void defer_commands(bool deferred) noexcept { deferred_commands_ = deferred; }

  // Consumes up to `budget` commands now; returns how many were consumed.
  std::uint32_t process_commands(
      std::uint32_t budget = std::numeric_limits<std::uint32_t>::max()) noexcept {
    return consume_commands(budget, true);
  }

  // --- Reset, save, restore -----------------------------------------------------------------

  // The architected reset values; UNKNOWN fields reset to 0 (smmuv3/registers).
  void reset() noexcept {
    namespace R = smmuv3::regs;
    regs_ = {};
    regs_.gbpa = static_cast<std::uint32_t>(R::gbpa::reset_value & masks_.gbpa);
    engine_.invalidate_all();
    sync_engine();
    if constexpr (accelerated) {
      accel_.a->flush_batch();  // nothing to rewind to any more: CONS is back at 0
      host_outcome(accel_.a->reset(), 0);
    }
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
    namespace R = smmuv3::regs;
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
    s.atc_inv_failed &= 1U;
    regs_ = s;
    engine_.invalidate_all();
    sync_engine();
    if constexpr (accelerated) {
      // The host follows the restored SMMUEN and GBPA (and so the guest's Stream table).
      accel_.a->flush_batch();
      host_outcome(accel_.a->reset(), 0);
      host_outcome(accel_.a->set_gbpa(regs_.gbpa, accel_.lookup(*this)),
                   smmuv3::absolute_offset(R::gbpa::desc));
      host_outcome(accel_.a->set_smmuen(get<R::cr0ack::SMMUEN>(regs_.cr0ack), accel_.lookup(*this)),
                   smmuv3::absolute_offset(R::cr0::desc));
    }
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
  // What translations currently see (SMMUEN, GBPA, the Stream table, the features).
  [[nodiscard]] walk::smmu_state translation_state() const noexcept { return engine_.state(); }

  // The translation engine: its caches, statistics and caching switch (engine/smmu_engine.hpp).
  [[nodiscard]] auto& translation_engine() noexcept { return engine_; }

  // The guest's STE for `sid`, as the Stream table registers locate it now; nullopt when it
  // cannot be fetched (out of range, no valid L1 descriptor, an abort).
  [[nodiscard]] ste_lookup_result guest_ste(std::uint32_t sid) const noexcept {
    const walk::smmu_state st = engine_.state();
    const walk::ste_fetch f = walk::fetch_ste(*memory_, st.features, st.strtab, sid);
    if (f.status != walk::ste_fetch_status::ok) return std::nullopt;
    std::array<std::uint64_t, 8> words{};
    for (std::size_t i = 0; i < words.size(); ++i) words[i] = f.ste.words()[i];
    return words;
  }

  // --- Accelerated mode ---------------------------------------------------------------------

  [[nodiscard]] Accelerator& accel() noexcept requires accelerated { return *accel_.a; }

  // The accelerator advertises the ID registers the device has (its properties applied): the
  // STEs it installs are judged against the features the guest was told.
  [[nodiscard]] bool accel_consistent() const noexcept requires accelerated {
    return accel_.a->id_registers() == id_registers;
  }

  // A device appears behind the SMMU (cold or hot plug; accel::device_desc). Joining a running
  // vIOMMU, it gets at once the HWPT its current STE (or GBPA, with SMMUEN == 0) calls for.
  template <class Desc>
  auto attach_device(const Desc& d) requires accelerated {
    return accel_.a->attach_device(d, accel_.lookup(*this));
  }
  template <class DevId>
  auto detach_device(DevId dev_id) requires accelerated {
    return accel_.a->detach_device(dev_id);
  }
  // The guest renumbered buses: the device's StreamID changes (its next install follows).
  template <class DevId>
  bool set_stream_id(DevId dev_id, std::optional<std::uint32_t> sid) requires accelerated {
    return accel_.a->set_stream_id(dev_id, sid);
  }

  // Host events (the vEVENTQ) into the Event queue; the embedder calls this when the vEVENTQ's
  // file descriptor is readable. Events the host lost show as an Event queue overflow.
  auto poll_host_events() requires accelerated {
    auto r = accel_.a->drain_events([this](const auto& words) {
      std::array<std::byte, queue::event_bytes> bytes{};
      for (std::size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = static_cast<std::byte>((words[i / 8] >> (8 * (i % 8))) & 0xff);
      }
      record_bytes(bytes);
    });
    if (r.lost) host_events_lost();
    if (r.host.failed()) host_failed(0, r.host.message());
    return r;
  }

  // The last host failure the device met (install, forwarding, SMMUEN, GBPA), for logs.
  [[nodiscard]] const std::string& last_host_error() const noexcept requires accelerated {
    return accel_.last_error;
  }

 private:
  using engine_type =
      engine::smmu_engine<M, detail::platform_notifier<Platform>, detail::iotlb_capacity<Config>()>;

  struct access {
    const smmuv3::register_desc* reg = nullptr;
    unsigned width = 4;  // 4 or 8
    unsigned half = 0;   // which half of a 64-bit register a 4-byte access reaches
  };

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
      case key_of<R::cr1::desc>(): {
        // §6.3.11: TABLE_* are Guarded by SMMUEN, QUEUE_* by every queue enable.
        constexpr std::uint32_t table_bits = 0xfc0;
        const std::uint32_t queue_bits = static_cast<std::uint32_t>(m.cr1) & ~table_bits;
        const bool queues_on =
            cmdqen || eventqen || get<R::cr0::CMDQEN>(s.cr0) || get<R::cr0::EVENTQEN>(s.cr0);
        std::uint32_t writable = 0;
        if (!smmuen) writable |= table_bits;
        if (!queues_on) writable |= queue_bits;
        const auto w = static_cast<std::uint32_t>(v & m.cr1);
        if (((w ^ s.cr1) & ~writable) != 0) diagnose({diagnostic::guarded_write, offset, size, v});
        s.cr1 = (s.cr1 & ~writable) | (w & writable);
        return;
      }
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
        if constexpr (accelerated) {
          host_outcome(accel_.a->set_gbpa(s.gbpa, accel_.lookup(*this)), offset);
        }
        return;
      case key_of<R::irq_ctrl::desc>():
        s.irq_ctrl = static_cast<std::uint32_t>(v & m.irq_ctrl);
        s.irq_ctrlack = s.irq_ctrl;  // Update completes at once (§6.3.16)
        return;
      case key_of<R::gerrorn::desc>(): {
        // §6.3.20: reads return what was last written to the defined fields. Toggling an
        // inactive error is CONSTRAINED UNPREDICTABLE; here the error then counts as active
        // (GERROR != GERRORN), without an interrupt.
        const auto toggled = static_cast<std::uint32_t>((v ^ s.gerrorn) & m.gerror);
        const std::uint32_t active = s.gerror ^ s.gerrorn;
        if ((toggled & ~active) != 0) {
          diagnose({diagnostic::gerrorn_inactive, offset, size, v});
        }
        const bool cmdq_acked = (toggled & active & 1U) != 0;
        s.gerrorn ^= toggled;
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
    const bool was_smmuen = get<R::cr0ack::SMMUEN>(regs_.cr0ack);
    regs_.cr0ack = regs_.cr0;
    sync_engine();
    if constexpr (accelerated) {
      // The host follows SMMUEN edges: GBPA's proxy when disabled, each STE when enabled.
      const bool smmuen = get<R::cr0ack::SMMUEN>(regs_.cr0ack);
      if (smmuen != was_smmuen) {
        host_outcome(accel_.a->set_smmuen(smmuen, accel_.lookup(*this)),
                     smmuv3::absolute_offset(R::cr0::desc));
      }
    }
    if (!was_cmdqen && get<R::cr0ack::CMDQEN>(regs_.cr0ack)) consume_commands();
  }

  // --- the queues ---

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

  // IHI 0070 §4, §7.1: the queue layer's consumer, applying commands through the engine.
  std::uint32_t consume_commands(std::uint32_t budget = std::numeric_limits<std::uint32_t>::max(),
                                 bool scheduled = false) noexcept {
    namespace R = smmuv3::regs;
    if (deferred_commands_ && !scheduled) return 0;
    queue::command_queue_state st{regs_.cmdq_prod, regs_.cmdq_cons, regs_.atc_inv_failed != 0};
    queue::global_errors errors{regs_.gerror, regs_.gerrorn};
    const auto cfg = queue::command_queue_config::from_registers(
        regs_.cmdq_base, id_registers, get<R::cr0ack::CMDQEN>(regs_.cr0ack),
        get<R::cr0ack::SMMUEN>(regs_.cr0ack), gerror_irq());
    queue::consume_result r;
    if constexpr (accelerated) {
      r = consume_accelerated(st, errors, cfg, budget);
    } else {
      r = queue::consume_commands(st, errors, cfg, *memory_, engine_, *platform_, budget);
    }
    regs_.cmdq_cons = st.cons;
    regs_.atc_inv_failed = st.atc_inv_failed ? 1U : 0U;
    regs_.gerror = errors.gerror;
    if (r.stop == queue::consume_stop::command_error) {
      diagnose({diagnostic::command_error, 0, 0, static_cast<std::uint64_t>(r.error)});
    }
    note_msi_aborts(r.activated);
    return r.consumed;
  }

  // --- accelerated mode ---

  // The command handler of accelerated mode: the engine applies each command, then the
  // accelerator installs or forwards it, tagged with its queue position (what CONS reads while
  // the consumer hands it over). CMD_SYNC flushes the batch.
  struct accel_handler {
    smmu_device* d;
    const queue::command_queue_state* st;
    queue::ring ring;

    queue::command_status execute(const queue::command& c) {
      const queue::command_status s = d->engine_.execute(c);
      if (s == queue::command_status::illegal) return s;
      const auto r = d->accel_.a->offer(c, ring.pointer(st->cons), d->accel_.lookup(*d));
      if (!r.ok()) return d->command_failed(r);
      return s;
    }
    queue::command_status synchronize() {
      queue::command_status s = queue::command_status::ok;
      if constexpr (queue::synchronizing_handler<engine_type>) s = d->engine_.synchronize();
      const auto r = d->accel_.a->flush_batch();
      if (!r.ok()) return d->command_failed(r);
      return s;
    }
  };

  // A host failure at a command (the seed's CERROR_ILL, a deviation: docs/accel.md). The error
  // may belong to an earlier batched command: CONS is moved back to it once the consumer stops.
  template <class R>
  queue::command_status command_failed(const R& r) {
    if constexpr (requires { r.issued_all; }) {
      // Everything reached the host, only an ATC invalidation did not complete: the
      // architected CERROR_ATC_INV_SYNC at the CMD_SYNC (this one, or the next).
      if (r.issued_all && r.error == smmuv3::cerror::atc_inv_sync) {
        host_failed(0, r.message);
        return queue::command_status::atc_incomplete;
      }
    }
    accel_.rewind = static_cast<std::uint32_t>(r.at);
    accel_.rewind_error = r.error;
    host_failed(0, r.message);
    return queue::command_status::illegal;
  }

  queue::consume_result consume_accelerated(queue::command_queue_state& st,
                                            queue::global_errors& errors,
                                            const queue::command_queue_config& cfg,
                                            std::uint32_t budget) {
    accel_.rewind.reset();
    const std::uint32_t start = cfg.geometry.pointer(st.cons);
    accel_handler h{this, &st, cfg.geometry};
    queue::consume_result r =
        queue::consume_commands(st, errors, cfg, *memory_, h, *platform_, budget);
    // Nothing stays batched once the guest can see CONS: it may reuse the entries behind it.
    if (!accel_.rewind) {
      const auto f = accel_.a->flush_batch();
      if (!f.ok() && command_failed(f) == queue::command_status::atc_incomplete) {
        st.atc_inv_failed = true;  // the next CMD_SYNC reports it
      }
    }
    if (accel_.rewind) {
      const std::uint32_t at = cfg.geometry.pointer(*accel_.rewind);
      st.cons = queue::reg::with_cons_err(at, static_cast<std::uint8_t>(accel_.rewind_error));
      r.consumed = cfg.geometry.distance(at, start);
      if (r.stop != queue::consume_stop::command_error) {
        r.activated |= queue::raise_global_errors(errors, queue::gerror_bit::cmdq_err,
                                                  cfg.gerror_irq, cfg.features.msi, *platform_);
      }
      r.stop = queue::consume_stop::command_error;
      r.error = accel_.rewind_error;
      accel_.rewind.reset();
    }
    return r;
  }

  template <class R>
  void host_outcome(const R& r, std::uint32_t offset) {
    if (!r.ok()) host_failed(offset, r.message);
  }
  void host_failed(std::uint32_t offset, std::string message) {
    accel_.last_error = std::move(message);
    diagnose({diagnostic::host_failure, offset, 0, 0});
  }

  // §7.4: events were lost, as in an overflow: OVFLG toggles unless one is unacknowledged.
  void host_events_lost() noexcept {
    namespace R = smmuv3::regs;
    if (!get<R::cr0ack::EVENTQEN>(regs_.cr0ack)) return;  // discarded anyway, no overflow
    const queue::event_queue_state st{regs_.eventq_prod, regs_.eventq_cons};
    if (!st.overflow_pending()) regs_.eventq_prod ^= queue::reg::ovflg;
  }

  struct accel_state {
    Accelerator* a = nullptr;
    std::optional<std::uint32_t> rewind;  // the queue position a host failure points at
    smmuv3::cerror rewind_error = smmuv3::cerror::none;
    std::string last_error;

    // The accelerator's STE source: the guest's Stream table through the device's registers.
    static auto lookup(const smmu_device& d) noexcept {
      return [&d](std::uint32_t sid) { return d.guest_ste(sid); };
    }
  };

  void note_msi_aborts(std::uint32_t activated) noexcept {
    constexpr std::uint32_t msi_aborts = queue::gerror_bit::msi_cmdq_abt_err |
                                         queue::gerror_bit::msi_eventq_abt_err |
                                         queue::gerror_bit::msi_gerror_abt_err;
    if ((activated & msi_aborts) != 0) diagnose({diagnostic::msi_abort, 0, 0, activated});
  }

  [[nodiscard]] queue::irq_config gerror_irq() const noexcept {
    namespace R = smmuv3::regs;
    const auto& s = regs_;
    return queue::irq_config{
        get<R::irq_ctrlack::GERROR_IRQEN>(s.irq_ctrlack),
        get<R::gerror_irq_cfg0::ADDR>(s.gerror_irq_cfg0),
        static_cast<std::uint32_t>(s.gerror_irq_cfg1),
        get<R::gerror_irq_cfg2::MemAttr>(s.gerror_irq_cfg2),
        static_cast<std::uint8_t>(get<R::gerror_irq_cfg2::SH>(s.gerror_irq_cfg2))}
        .truncated_to(oas_bits_);
  }
  [[nodiscard]] queue::irq_config eventq_irq() const noexcept {
    namespace R = smmuv3::regs;
    const auto& s = regs_;
    return queue::irq_config{
        get<R::irq_ctrlack::EVENTQ_IRQEN>(s.irq_ctrlack),
        get<R::eventq_irq_cfg0::ADDR>(s.eventq_irq_cfg0),
        static_cast<std::uint32_t>(s.eventq_irq_cfg1),
        get<R::eventq_irq_cfg2::MemAttr>(s.eventq_irq_cfg2),
        static_cast<std::uint8_t>(get<R::eventq_irq_cfg2::SH>(s.eventq_irq_cfg2))}
        .truncated_to(oas_bits_);
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
    if (id_registers.get<smmuv3::regs::idr0::VMW>()) {
      engine_.set_vmid_wildcard(
          static_cast<unsigned>(get<smmuv3::regs::cr0ack::VMW>(regs_.cr0ack)));
    }
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
  // IRQ_CFG0.ADDR is used truncated to the OAS (irq_config::truncated_to).
  static constexpr unsigned oas_bits_ =
      smmuv3::address_bits(id_registers.get<smmuv3::regs::idr5::OAS>());

  // TLBI range decoding as IDR3.RIL and IDR5.DS advertise it.
  [[nodiscard]] static engine::engine_options engine_options() noexcept {
    engine::engine_options o;
    o.ranges.ril = id_registers.get<smmuv3::regs::idr3::RIL>();
    o.ranges.ds = id_registers.get<smmuv3::regs::idr5::DS>();
    return o;
  }

  M* memory_;
  Platform* platform_;
  engine_type engine_;
  register_state regs_{};
  std::array<unsigned, diagnostic_count> diagnostics_{};
  bool deferred_commands_ = false;
  [[no_unique_address]] std::conditional_t<accelerated, accel_state, no_accelerator> accel_{};
};

}  // namespace vsmmu::device
