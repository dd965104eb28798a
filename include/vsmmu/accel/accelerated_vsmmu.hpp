// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/accel/admission.hpp>
#include <vsmmu/accel/forwarding.hpp>
#include <vsmmu/accel/host_compat.hpp>
#include <vsmmu/accel/host_events.hpp>
#include <vsmmu/accel/iommufd/adapter.hpp>
#include <vsmmu/accel/pasid_report.hpp>
#include <vsmmu/accel/properties.hpp>
#include <vsmmu/accel/ste_install.hpp>
#include <vsmmu/queue/command.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/registers/control.hpp>
#include <vsmmu/walk/from_registers.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

// The vSMMU's accelerated (nested) mode over an iommufd adapter: the events the device model
// feeds in (devices coming and going, STE invalidations, CR0.SMMUEN and GBPA changes, guest
// commands) turned into iommufd calls, and the host's answers (events, PASID support) turned
// back into what the guest sees. See docs/accel.md for the call sequences.
//
// Every host failure unwinds: the objects the failed operation created are destroyed, the
// devices it moved go back to where they were, and the bookkeeping is as before the call. A
// destroy that fails is queued and retried at the next call (pending_destroys()), so the kernel's
// live objects always equal objects() plus nothing else.
//
// Not thread-safe: the embedder serialises calls per vSMMU (QEMU holds its big lock).
namespace vsmmu::accel {

// What the embedder knows about a passed-through Function (from its VFIO cdev binding).
struct host_device {
  iommufd::device_id dev_id = 0;
  iommufd::object_id s2_hwpt = iommufd::no_object;  // the nesting-parent HWPT VFIO attached
  std::uint32_t iommu_group = 0;                    // host IOMMU group
  on_off_auto ats = on_off_auto::automatic;         // vfio-pci's per-device `ats`
  bool has_ats_capability = false;                  // the Function exposes an ATS capability
};

struct device_desc {
  device_kind kind = device_kind::vfio_iommufd;
  std::optional<std::uint32_t> sid;  // the guest StreamID (bus << 8 | devfn), once enumerated
  host_device host{};                // vfio_iommufd only
};

// A guest STE for a StreamID, or nullopt when it cannot be fetched (StreamID out of range,
// invalid L1 descriptor, external abort): the device model's stream-table lookup.
template <class S>
concept ste_source = requires(S& s, std::uint32_t sid) {
  { s(sid) } -> std::convertible_to<std::optional<ste_words>>;
};

// No stream table at all: every lookup fails.
struct no_ste {
  std::optional<ste_words> operator()(std::uint32_t) const noexcept { return std::nullopt; }
};

enum class attach_status : std::uint8_t {
  accelerated,           // bound to the host
  emulated,              // a bridge or port: nothing to do on the host
  already_bound,         // the same device again: nothing done
  refused_kind,          // admission (message() says why)
  refused_duplicate,     // a different device with this dev_id or StreamID is bound
  refused_incompatible,  // host compatibility (compat says which field)
  refused_ats,           // ats=on for a device the host refuses ATS
  refused_topology,      // nesting parent from another physical SMMU
  host_failure,          // an iommufd call failed; everything was unwound
};

struct attach_result {
  attach_status status = attach_status::accelerated;
  std::string message;                 // empty on success
  std::optional<compat_error> compat;  // refused_incompatible
  iommufd::host_error host{};          // host_failure

  [[nodiscard]] bool ok() const noexcept {
    return status == attach_status::accelerated || status == attach_status::emulated ||
           status == attach_status::already_bound;
  }
};

// The outcome of an operation that may fail on the host.
struct op_result {
  iommufd::host_error host{};  // code 0: success
  std::string message;
  [[nodiscard]] bool ok() const noexcept { return host.code == 0; }
};

// Guest commands after forwarding: how many were completed, and the error of the next one.
struct forward_result {
  std::size_t consumed = 0;                     // forward(): CONS advances by this many
  std::size_t at = 0;                           // the failing command: index, or offer()'s tag
  smmuv3::cerror error = smmuv3::cerror::none;  // at command `at`
  // ETIMEDOUT on the last issue: every command was sent, only the completion failed (with
  // CERROR_ATC_INV_SYNC, a device model can report it at the CMD_SYNC, as §4.7.3 has it).
  bool issued_all = false;
  iommufd::host_error host{};  // the failure behind a CERROR, if any
  std::string message;
  [[nodiscard]] bool ok() const noexcept { return error == smmuv3::cerror::none; }
};

struct events_result {
  std::size_t delivered = 0;  // records handed to the sink
  std::size_t dropped = 0;    // Reserved types, or a StreamID no device has
  bool lost = false;          // the guest must see an event queue overflow
  iommufd::host_error host{};
};

struct accel_config {
  properties props{};
  smmuv3::id_registers base = seed_id_registers();  // ID registers before the properties
  std::size_t max_batch = 128;          // invalidation entries per IOMMU_HWPT_INVALIDATE
  std::size_t kernel_issue_batch = 63;  // the SMMUv3 driver's issue batch (re-submission window)
  bool use_veventq = true;              // allocate a vEVENTQ with the vIOMMU
  std::uint32_t veventq_depth = 64;
  bool strict_compat = false;  // also check ASID16, BBML, STALL_MODEL, TERM_MODEL, CD2L
  // Kernels without "Allow attaching nested domain for GBPA cases" cannot attach a proxy to a
  // device without a vDEVICE. With this, such a device stays on its stage 2 (S2-only, like
  // bypass) until its StreamID is known, as the seed did before its v6; without it the bind
  // fails with a message naming the missing kernel patch.
  bool defer_proxy_attach = false;
};

template <iommufd::iommufd_adapter Adapter>
class accelerated_vsmmu {
 public:
  explicit accelerated_vsmmu(Adapter& adapter, accel_config cfg = {})
      : a_(adapter), cfg_(std::move(cfg)) {
    if (cfg_.max_batch == 0) cfg_.max_batch = 1;
    resolved_ = resolve_without_host(cfg_.props);
    if (cfg_.props.fully_specified()) frozen_ = true;
    idrs_ = apply(resolved_, cfg_.base);
  }
  accelerated_vsmmu(const accelerated_vsmmu&) = delete;
  accelerated_vsmmu& operator=(const accelerated_vsmmu&) = delete;

  // Detaches every device and tears the vIOMMU down (best effort: a VMM exiting).
  ~accelerated_vsmmu() {
    while (!devices_.empty()) {
      if (!detach_device(devices_.back().host.dev_id).ok()) {
        // Cannot move it back to its stage 2: forget it; the kernel reclaims on close.
        devices_.pop_back();
        if (devices_.empty()) teardown_viommu();
      }
    }
    retry_destroys();
  }

  // ---- configuration ------------------------------------------------------------------------

  [[nodiscard]] static constexpr property_error validate(const properties& p) noexcept {
    return accel::validate(true, p);
  }
  // The guest can read the ID registers from now on (machine ready / first reset): `auto`
  // properties not yet resolved from a device take the seed's defaults.
  void freeze() noexcept { frozen_ = true; }
  [[nodiscard]] bool frozen() const noexcept { return frozen_; }
  [[nodiscard]] const resolved_properties& resolved() const noexcept { return resolved_; }
  [[nodiscard]] const smmuv3::id_registers& id_registers() const noexcept { return idrs_; }
  [[nodiscard]] std::uint64_t viommu_flags() const noexcept {
    return accel::viommu_flags(resolved_);
  }

  // ---- devices ------------------------------------------------------------------------------

  // A device appears behind the vSMMU (cold or hot plug). Refusals and host failures leave no
  // trace. A device joining a live vIOMMU gets at once the HWPT its STE (or GBPA) calls for.
  template <ste_source Source = no_ste>
  attach_result attach_device(const device_desc& d, Source&& src = {}) {
    retry_destroys();
    attach_result r;
    const admission adm = admit(d.kind);
    if (!admitted(adm)) return refuse(attach_status::refused_kind, std::string(message(adm)));
    if (adm == admission::emulated_non_endpoint) {
      r.status = attach_status::emulated;
      return r;
    }
    if (const device* existing = find_dev(d.host.dev_id)) {
      if (existing->sid == d.sid && existing->host.s2_hwpt == d.host.s2_hwpt) {
        r.status = attach_status::already_bound;
        return r;
      }
      return refuse(attach_status::refused_duplicate,
                    "Device already has an associated idev 0x" + hex(d.host.dev_id));
    }
    if (d.sid && find_sid(*d.sid)) {
      return refuse(attach_status::refused_duplicate,
                    "StreamID 0x" + hex(*d.sid) + " is already used by another device");
    }

    const auto info = a_.get_hw_info(d.host.dev_id);
    if (!info) return host_failed(r, info.error(), "cannot query the host SMMU");

    // Candidate properties: `auto` ones resolve from the first device until frozen.
    resolved_properties props = resolved_;
    if (!frozen_ && devices_.empty() && !auto_resolved_) {
      props = resolve_from_host(cfg_.props, *info, d.host.has_ats_capability);
    }
    const smmuv3::id_registers idrs = apply(props, cfg_.base);
    if (auto e = check_host_compat(idrs, *info, cfg_.strict_compat)) {
      r.status = attach_status::refused_incompatible;
      r.compat = e;
      r.message = e->message();
      return r;
    }
    const device_ats_result ats = device_ats(d.host.ats, *info, d.host.has_ats_capability);
    if (ats.refused) {
      return refuse(attach_status::refused_ats,
                    "ats=on but the host does not allow ATS for device 0x" + hex(d.host.dev_id));
    }
    if (viommu_ && d.host.s2_hwpt != viommu_->parent) {
      return refuse(attach_status::refused_topology,
                    "device 0x" + hex(d.host.dev_id) + " nests on stage-2 HWPT " +
                        std::to_string(d.host.s2_hwpt) + ", the vIOMMU on " +
                        std::to_string(viommu_->parent) +
                        ": one vSMMU serves the devices of one physical SMMU");
    }

    device dev;
    dev.host = d.host;
    dev.sid = d.sid;
    dev.info = *info;
    dev.ats = props.ats && ats.enabled;
    dev.attached = d.host.s2_hwpt;
    // A bound partner in its host IOMMU group has taken the group, this device included.
    for (const device& p : devices_) {
      if (p.host.iommu_group == d.host.iommu_group) dev.attached = p.attached;
    }

    const bool new_viommu = !viommu_;
    if (new_viommu) {
      if (auto e = create_viommu(dev); e.failed())
        return host_failed(r, e, "Unable to alloc vIOMMU: idev devid 0x" + hex(d.host.dev_id));
    }
    // The vSMMU's features with the candidate properties (the first device may resolve them).
    const walk::smmu_features features = walk::features_from(idrs);
    devices_.push_back(dev);
    const std::size_t idx = devices_.size() - 1;
    const auto ste = dev.sid ? std::optional<ste_words>{src(*dev.sid)} : std::nullopt;
    // Before enumeration the device has no StreamID, hence no STE: with SMMUEN == 0 (the usual
    // cold-plug case) GBPA decides; otherwise it waits on the abort proxy for its CFGI_STE.
    const install_decision dec = decide_install(smmuen_, gbpa_, ste, features, dev.ats);
    if (auto e = install(idx, dec); e.failed()) {
      const bool no_vdev = devices_.back().vdevice == iommufd::no_object;
      devices_.pop_back();
      if (new_viommu) teardown_viommu();
      host_failed(r, e,
                  (new_viommu ? "Unable to alloc vIOMMU: idev devid 0x"
                              : "Unable to attach device: idev devid 0x") +
                      hex(d.host.dev_id));
      if (e.op == iommufd::operation::attach && e.code == ENOENT && no_vdev &&
          dec.kind != hwpt_kind::nested) {
        r.message +=
            " (the host kernel cannot attach an abort/bypass nested HWPT to a device without a "
            "vDEVICE: it lacks \"Allow attaching nested domain for GBPA cases\")";
      }
      return r;
    }
    resolved_ = props;
    idrs_ = idrs;
    if (!frozen_) auto_resolved_ = true;
    r.status = attach_status::accelerated;
    if (devices_.back().deferred) {
      r.message = "device 0x" + hex(d.host.dev_id) +
                  " stays on its stage 2 until its StreamID is known: the host kernel cannot "
                  "attach a proxy HWPT without a vDEVICE";
    }
    return r;
  }

  // The device leaves (hot unplug, VM shutdown). Back on its stage 2 first (the vDEVICE must go
  // before the embedder unbinds the physical device); the last device takes the vIOMMU with it.
  // If the stage-2 attach fails, nothing changes and the device stays bound. An unknown device
  // is a no-op.
  op_result detach_device(iommufd::device_id dev_id) {
    retry_destroys();
    op_result r;
    const auto it = std::find_if(devices_.begin(), devices_.end(),
                                 [&](const device& x) { return x.host.dev_id == dev_id; });
    if (it == devices_.end()) return r;
    device& dev = *it;
    // Group partners still bound share the group's HWPT: the device leaves it with its cdev.
    if (!has_group_partner(dev) && dev.attached != dev.host.s2_hwpt) {
      if (auto e = a_.attach(dev.host.dev_id, dev.host.s2_hwpt); !e) {
        r.host = e.error();
        r.message = "Unable to attach the default HW pagetable: idev devid 0x" + hex(dev_id) +
                    ": " + e.error().message();
        return r;
      }
    }
    const iommufd::object_id vdev = dev.vdevice;
    devices_.erase(it);
    sweep_nested();
    if (vdev != iommufd::no_object) destroy_or_defer(vdev);
    if (devices_.empty()) teardown_viommu();
    return r;
  }

  // The guest renumbered buses: the device's StreamID changes. Its vDEVICE keeps the old vSID
  // until the next STE install for it re-creates the vDEVICE (the seed keeps it stale).
  bool set_stream_id(iommufd::device_id dev_id, std::optional<std::uint32_t> sid) {
    device* dev = find_dev(dev_id);
    if (!dev) return false;
    if (sid && find_sid(*sid) && find_sid(*sid) != dev) return false;
    dev->sid = sid;
    return true;
  }

  // ---- STE install --------------------------------------------------------------------------

  // CMD_CFGI_STE for `sid` (after the vSMMU's own handling): the device with that StreamID gets
  // the HWPT its STE calls for. No such device, or no vIOMMU yet: nothing to do. A host failure is
  // CERROR_ILL at the command (the seed's choice; architecturally CFGI_STE cannot fail).
  op_result install_ste(std::uint32_t sid, const std::optional<ste_words>& ste) {
    retry_destroys();
    op_result r;
    const auto idx = index_of_sid(sid);
    if (!viommu_ || !idx) return r;
    const install_decision dec =
        decide_install(smmuen_, gbpa_, ste, features(), devices_[*idx].ats);
    if (auto e = install(*idx, dec); e.failed()) {
      r.host = e;
      r.message = "Device 0x" + hex(sid) + ": Failed to install STE: " + e.message();
    }
    return r;
  }

  // CMD_CFGI_STE_RANGE / CMD_CFGI_ALL: every device whose StreamID is in [first, last]. A failure
  // does not stop the others (as in the seed); the first failure is reported.
  template <ste_source Source>
  op_result install_ste_range(std::uint32_t first, std::uint32_t last, Source&& src) {
    op_result r;
    std::vector<std::uint32_t> sids;
    for (const device& d : devices_) {
      if (d.sid && *d.sid >= first && *d.sid <= last) sids.push_back(*d.sid);
    }
    for (std::uint32_t sid : sids) {
      op_result one = install_ste(sid, src(sid));
      if (!one.ok() && r.ok()) {
        r = std::move(one);
        r.message = "Failed to install all STEs properly: " + r.message;
      }
    }
    return r;
  }

  // SMMU_CR0.SMMUEN changed: every device follows (GBPA when disabled, its STE when enabled).
  template <ste_source Source>
  op_result set_smmuen(bool enabled, Source&& src) {
    if (enabled == smmuen_) return {};
    const bool old = smmuen_;
    smmuen_ = enabled;
    op_result r = reinstall_all(src);
    if (!r.ok() && all_failed_) smmuen_ = old;
    return r;
  }

  // SMMU_GBPA written with Update == 1 (the caller drops writes without it). Architecturally GBPA
  // applies only while SMMUEN == 0, so with SMMUEN == 1 nothing moves (the seed moves every
  // device to the GBPA proxy, overriding valid STEs).
  template <ste_source Source = no_ste>
  op_result set_gbpa(std::uint32_t gbpa, Source&& src = {}) {
    namespace G = smmuv3::regs::gbpa;
    gbpa = G::value{{gbpa}}.with<G::Update>(false).word(0);
    const std::uint32_t old = gbpa_;
    gbpa_ = gbpa;
    if (smmuen_ || old == gbpa) return {};
    op_result r = reinstall_all(src);
    if (!r.ok() && all_failed_) gbpa_ = old;
    return r;
  }

  // SMMU reset, after the register file is back at its reset values: SMMUEN = 0, GBPA at reset
  // (bypass). Every device moves to the GBPA proxy; nested HWPTs nobody uses are destroyed
  // (the seed keeps them until the next install). vDEVICEs stay.
  op_result reset() {
    smmuen_ = false;
    gbpa_ = static_cast<std::uint32_t>(smmuv3::regs::gbpa::reset_value);
    no_ste none;
    return reinstall_all(none);
  }

  [[nodiscard]] bool smmuen() const noexcept { return smmuen_; }
  [[nodiscard]] std::uint32_t gbpa() const noexcept { return gbpa_; }

  // ---- invalidation forwarding -------------------------------------------------------------

  // Guest commands the vSMMU has already applied locally, from CONS on. Forwardable ones are
  // batched until CMD_SYNC (or max_batch) and sent in one IOMMU_HWPT_INVALIDATE; CFGI_STE(_RANGE)
  // install STEs (through `src`) in order. Stops at the first command that fails. Not to be
  // interleaved with offer(): a batch offer() left pending is dropped.
  template <ste_source Source = no_ste>
  forward_result forward(std::span<const queue::command> cmds, Source&& src = {}) {
    retry_destroys();
    forward_result r;
    batch_.clear();
    for (std::size_t i = 0; i < cmds.size(); ++i) {
      if (!step(cmds[i], i, src, r)) return r;
    }
    if (!flush(r)) return r;
    r.consumed = cmds.size();
    return r;
  }

  // The same, one command at a time, for a device model whose command queue consumer hands it
  // each command after applying it locally (device::smmu_device does). `tag` says where the
  // command sits in the guest's queue. The batch stays pending across calls until a CMD_SYNC, a
  // CFGI_STE*, max_batch or flush_batch(). On an error, forward_result::at is the tag of the
  // failing command: this one, or an earlier batched one the host handled only partly.
  template <ste_source Source = no_ste>
  forward_result offer(const queue::command& c, std::size_t tag, Source&& src = {}) {
    retry_destroys();
    forward_result r;
    step(c, tag, src, r);
    return r;
  }
  // Sends what offer() batched (the device model calls it when it stops consuming: the guest may
  // reuse queue entries behind CONS, so a later error could not point at them).
  forward_result flush_batch() {
    forward_result r;
    flush(r);
    return r;
  }
  [[nodiscard]] std::size_t batched() const noexcept { return batch_.size(); }

  // Statistics for the benchmark and tests.
  [[nodiscard]] std::size_t invalidate_calls() const noexcept { return invalidate_calls_; }
  [[nodiscard]] std::size_t forwarded_commands() const noexcept { return forwarded_; }

  // ---- host events --------------------------------------------------------------------------

  // Reads what the vEVENTQ holds and hands each guest-visible record to `sink(event_record)`.
  template <class Sink>
  requires std::invocable<Sink&, const event_record&> events_result drain_events(Sink&& sink) {
    events_result r;
    if (!viommu_ || viommu_->eventq.id == iommufd::no_object) return r;
    std::array<iommufd::vevent_record, 16> buf{};
    // A vEVENTQ holds at most its depth (plus a lost-events record): bounded reads.
    const std::size_t max_reads = cfg_.veventq_depth / buf.size() + 2;
    for (std::size_t reads = 0; reads < max_reads; ++reads) {
      const auto n = a_.read_veventq(viommu_->eventq, buf);
      if (!n) {
        r.host = n.error();
        return r;
      }
      if (*n == 0) return r;
      for (std::size_t i = 0; i < *n && i < buf.size(); ++i) {
        const iommufd::vevent_record& rec = buf[i];
        if (seq_.next(rec.sequence)) r.lost = true;
        if (rec.lost_events()) {
          r.lost = true;
          continue;
        }
        const event_record e = rec.event;
        if (!guest_visible_event(e) || !find_sid(event_sid(e))) {
          ++r.dropped;
          continue;
        }
        sink(e);
        ++r.delivered;
      }
      if (*n < buf.size()) return r;  // drained; a full buffer may have more behind it
    }
    return r;  // the rest waits for the next call
  }

  // ---- PASID --------------------------------------------------------------------------------

  // For the device's PASID capability synthesis (pcie::synthesize_pasid(model, report.request())).
  [[nodiscard]] pasid_report pasid_for(iommufd::device_id dev_id) const noexcept {
    pasid_report p;
    p.ssidsize = resolved_.ssidsize;
    if (const device* d = find_dev(dev_id)) p.host = host_pasid(d->info);
    return p;
  }

  // ---- introspection ------------------------------------------------------------------------

  struct device_state {
    iommufd::device_id dev_id = 0;
    std::optional<std::uint32_t> sid;
    iommufd::object_id attached = iommufd::no_object;
    iommufd::object_id vdevice = iommufd::no_object;
    std::uint32_t vdevice_sid = 0;
    bool ats = false;
    bool deferred = false;  // on its stage 2, waiting for a vDEVICE (defer_proxy_attach)
  };
  [[nodiscard]] std::optional<device_state> device_info(iommufd::device_id dev_id) const {
    const device* d = find_dev(dev_id);
    if (!d) return std::nullopt;
    return device_state{d->host.dev_id, d->sid, d->attached, d->vdevice,
                        d->vdevice_sid, d->ats, d->deferred};
  }
  [[nodiscard]] std::size_t device_count() const noexcept { return devices_.size(); }
  [[nodiscard]] bool has_viommu() const noexcept { return viommu_.has_value(); }
  [[nodiscard]] iommufd::object_id viommu_id() const noexcept {
    return viommu_ ? viommu_->id : iommufd::no_object;
  }
  [[nodiscard]] iommufd::object_id abort_hwpt() const noexcept {
    return viommu_ ? viommu_->abort : iommufd::no_object;
  }
  [[nodiscard]] iommufd::object_id bypass_hwpt() const noexcept {
    return viommu_ ? viommu_->bypass : iommufd::no_object;
  }
  [[nodiscard]] hwpt_kind kind_of(iommufd::object_id hwpt) const noexcept {
    if (viommu_ && hwpt == viommu_->abort) return hwpt_kind::abort;
    if (viommu_ && hwpt == viommu_->bypass) return hwpt_kind::bypass;
    return hwpt_kind::nested;
  }
  // Every iommufd object this vSMMU owns (vIOMMU, proxies, vEVENTQ, nested HWPTs, vDEVICEs)
  // plus those whose destroy is pending: exactly what it has alive in the kernel.
  [[nodiscard]] std::size_t objects() const noexcept {
    std::size_t n = nested_.size() + pending_.size();
    if (viommu_) n += 3 + (viommu_->eventq.id != iommufd::no_object ? 1 : 0);
    for (const device& d : devices_) n += d.vdevice != iommufd::no_object ? 1 : 0;
    return n;
  }
  [[nodiscard]] std::size_t pending_destroys() const noexcept { return pending_.size(); }

  // Retries the destroys that failed earlier, in order, up to the first that fails again.
  void retry_destroys() {
    while (!pending_.empty()) {
      const pending_object& p = pending_.front();
      const iommufd::host_error e =
          p.eventq.fd >= 0 ? a_.free_veventq(p.eventq).error() : a_.destroy(p.id).error();
      // ENOENT: gone already (the kernel destroyed it with its device); nothing to wait for.
      if (e.failed() && e.code != ENOENT) return;
      pending_.erase(pending_.begin());
    }
  }

 private:
  struct device {
    host_device host{};
    std::optional<std::uint32_t> sid;
    iommufd::hw_info info{};
    bool ats = false;
    iommufd::object_id attached = iommufd::no_object;
    iommufd::object_id vdevice = iommufd::no_object;
    std::uint32_t vdevice_sid = 0;
    bool deferred = false;  // its proxy attach waits for a vDEVICE (defer_proxy_attach)
  };
  struct viommu_state {
    iommufd::object_id id = iommufd::no_object;
    iommufd::object_id parent = iommufd::no_object;
    iommufd::object_id abort = iommufd::no_object;
    iommufd::object_id bypass = iommufd::no_object;
    iommufd::veventq eventq{};
  };
  struct pending_object {
    iommufd::object_id id = iommufd::no_object;
    iommufd::veventq eventq{};  // a vEVENTQ: closed through its fd, not destroyed by ID
  };
  struct pending_cmd {
    queue::command cmd;
    std::size_t index = 0;
  };

  static std::string hex(std::uint64_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    do {
      s.insert(s.begin(), digits[v & 0xf]);
      v >>= 4;
    } while (v != 0);
    return s;
  }

  static attach_result refuse(attach_status st, std::string msg) {
    attach_result r;
    r.status = st;
    r.message = std::move(msg);
    return r;
  }
  static attach_result host_failed(attach_result& r, const iommufd::host_error& e,
                                   const std::string& what) {
    r.status = attach_status::host_failure;
    r.host = e;
    r.message = what + ": " + e.message();
    return r;
  }

  [[nodiscard]] device* find_dev(iommufd::device_id id) noexcept {
    for (device& d : devices_) {
      if (d.host.dev_id == id) return &d;
    }
    return nullptr;
  }
  [[nodiscard]] const device* find_dev(iommufd::device_id id) const noexcept {
    for (const device& d : devices_) {
      if (d.host.dev_id == id) return &d;
    }
    return nullptr;
  }
  [[nodiscard]] const device* find_sid(std::uint32_t sid) const noexcept {
    for (const device& d : devices_) {
      if (d.sid == sid) return &d;
    }
    return nullptr;
  }
  [[nodiscard]] std::optional<std::size_t> index_of_sid(std::uint32_t sid) const noexcept {
    for (std::size_t i = 0; i < devices_.size(); ++i) {
      if (devices_[i].sid == sid) return i;
    }
    return std::nullopt;
  }
  [[nodiscard]] bool has_group_partner(const device& dev) const noexcept {
    return std::any_of(devices_.begin(), devices_.end(), [&](const device& x) {
      return &x != &dev && x.host.iommu_group == dev.host.iommu_group;
    });
  }
  [[nodiscard]] walk::smmu_features features() const noexcept { return walk::features_from(idrs_); }

  void destroy_or_defer(iommufd::object_id id) {
    if (id == iommufd::no_object) return;
    // Keep the order: an object queued earlier may hold this one busy.
    if (!pending_.empty() || !a_.destroy(id)) pending_.push_back({id, {}});
  }

  // vIOMMU on the device's nesting parent, the abort then the bypass proxy, the vEVENTQ; any
  // failure destroys what was made, in reverse.
  iommufd::host_error create_viommu(const device& dev) {
    viommu_state v;
    v.parent = dev.host.s2_hwpt;
    const auto id = a_.alloc_viommu(dev.host.dev_id, iommufd::viommu_type::arm_smmuv3, v.parent);
    if (!id) return id.error();
    v.id = *id;
    const auto ab = a_.alloc_nested_hwpt(dev.host.dev_id, v.id, 0, abort_ste);
    if (!ab) {
      destroy_or_defer(v.id);
      return ab.error();
    }
    v.abort = *ab;
    const auto by = a_.alloc_nested_hwpt(dev.host.dev_id, v.id, 0, bypass_ste);
    if (!by) {
      destroy_or_defer(v.abort);
      destroy_or_defer(v.id);
      return by.error();
    }
    v.bypass = *by;
    if (cfg_.use_veventq) {
      const auto q = a_.alloc_veventq(v.id, cfg_.veventq_depth);
      if (!q) {
        destroy_or_defer(v.bypass);
        destroy_or_defer(v.abort);
        destroy_or_defer(v.id);
        return q.error();
      }
      v.eventq = *q;
    }
    viommu_ = v;
    seq_ = {};
    return {};
  }

  void teardown_viommu() {
    if (!viommu_) return;
    const viommu_state v = *viommu_;
    viommu_.reset();
    for (iommufd::object_id n : nested_) destroy_or_defer(n);
    nested_.clear();
    if (v.eventq.id != iommufd::no_object) {
      // The vEVENTQ's fd holds the object: closing it is the destroy.
      if (!pending_.empty() || !a_.free_veventq(v.eventq))
        pending_.push_back({v.eventq.id, v.eventq});
    }
    destroy_or_defer(v.bypass);
    destroy_or_defer(v.abort);
    destroy_or_defer(v.id);
  }

  // Nested HWPTs no device is attached to any more: destroyed (make-before-break done).
  void sweep_nested() {
    for (auto it = nested_.begin(); it != nested_.end();) {
      const iommufd::object_id id = *it;
      const bool used = std::any_of(devices_.begin(), devices_.end(),
                                    [&](const device& d) { return d.attached == id; });
      if (used) {
        ++it;
      } else {
        it = nested_.erase(it);
        destroy_or_defer(id);
      }
    }
  }

  // Moves device `idx` (and its host IOMMU group partners, which share one HWPT) to the HWPT the
  // decision names. All or nothing.
  iommufd::host_error install(std::size_t idx, const install_decision& dec) {
    device& dev = devices_[idx];
    // The vDEVICE: lazily, once the StreamID is known; re-created if the StreamID changed.
    const iommufd::object_id old_vdev = dev.vdevice;
    const std::uint32_t old_vsid = dev.vdevice_sid;
    bool vdev_changed = false;
    if (dev.sid && (dev.vdevice == iommufd::no_object || dev.vdevice_sid != *dev.sid)) {
      if (dev.vdevice != iommufd::no_object) {
        if (auto e = a_.destroy(dev.vdevice); !e) return e.error();
        dev.vdevice = iommufd::no_object;
      }
      const auto v = a_.alloc_vdevice(viommu_->id, dev.host.dev_id, *dev.sid);
      if (!v) {
        restore_vdevice(dev, old_vdev, old_vsid);
        return v.error();
      }
      dev.vdevice = *v;
      dev.vdevice_sid = *dev.sid;
      vdev_changed = true;
    }
    const auto undo_vdev = [&] {
      if (!vdev_changed) return;
      const iommufd::object_id made = dev.vdevice;
      dev.vdevice = iommufd::no_object;
      destroy_or_defer(made);
      restore_vdevice(dev, old_vdev, old_vsid);
    };

    iommufd::object_id target = dec.kind == hwpt_kind::abort    ? viommu_->abort
                                : dec.kind == hwpt_kind::bypass ? viommu_->bypass
                                                                : iommufd::no_object;
    bool made_nested = false;
    if (dec.kind == hwpt_kind::nested) {
      const auto h = a_.alloc_nested_hwpt(dev.host.dev_id, viommu_->id, 0, dec.ste);
      if (!h) {
        undo_vdev();
        return h.error();
      }
      target = *h;
      made_nested = true;
    }

    // One attach moves the device's whole host IOMMU group (the kernel replaces the group's
    // domain), so every bound member of the group ends on `target`.
    if (dev.attached != target) {
      if (auto e = a_.attach(dev.host.dev_id, target); !e) {
        if (made_nested) destroy_or_defer(target);
        undo_vdev();
        if (cfg_.defer_proxy_attach && e.err() == ENOENT && !made_nested &&
            dev.vdevice == iommufd::no_object) {
          dev.deferred = true;  // nothing changed; the next install with a vDEVICE retries
          return {};
        }
        return e.error();
      }
      set_group_attachment(dev.host.iommu_group, target);
    }
    dev.deferred = false;
    if (made_nested) nested_.push_back(target);
    sweep_nested();
    return {};
  }

  void set_group_attachment(std::uint32_t group, iommufd::object_id hwpt) noexcept {
    for (device& d : devices_) {
      if (d.host.iommu_group == group) d.attached = hwpt;
    }
  }

  void restore_vdevice(device& dev, iommufd::object_id old_vdev, std::uint32_t old_vsid) {
    if (old_vdev == iommufd::no_object || dev.vdevice != iommufd::no_object) return;
    // The old vDEVICE was destroyed to make room; bring the mapping back. If that fails too the
    // device is left without one (consistent: it is neither alive nor recorded).
    if (const auto v = a_.alloc_vdevice(viommu_->id, dev.host.dev_id, old_vsid)) {
      dev.vdevice = *v;
      dev.vdevice_sid = old_vsid;
    }
  }

  bool all_failed_ = false;

  template <class Source>
  op_result reinstall_all(Source& src) {
    op_result r;
    all_failed_ = false;
    if (!viommu_) return r;
    std::size_t failures = 0;
    const walk::smmu_features f = features();
    for (std::size_t i = 0; i < devices_.size(); ++i) {
      const device& d = devices_[i];
      const auto ste = smmuen_ && d.sid ? std::optional<ste_words>{src(*d.sid)} : std::nullopt;
      const install_decision dec = decide_install(smmuen_, gbpa_, ste, f, d.ats);
      if (auto e = install(i, dec); e.failed()) {
        ++failures;
        if (r.ok()) {
          r.host = e;
          r.message = "Failed to attach device 0x" + hex(d.host.dev_id) + ": " + e.message();
        }
      }
    }
    all_failed_ = failures == devices_.size();
    return r;
  }

  template <class Source>
  op_result apply_cfgi(const queue::command& c, Source& src) {
    namespace C = smmuv3::cmd;
    if (c.opcode() == C::opcode::cfgi_ste) {
      const std::uint32_t sid = command_sid(c);
      if (!index_of_sid(sid)) return {};
      return install_ste(sid, src(sid));
    }
    const unsigned range =
        c.as<C::cfgi_ste_range::layout>().template get<C::cfgi_ste_range::Range>();
    if (range >= C::cfgi_ste_range::all) return install_ste_range(0, ~std::uint32_t{0}, src);
    const std::uint64_t mask = (std::uint64_t{1} << (range + 1)) - 1;
    const std::uint64_t start = command_sid(c) & ~mask;
    const std::uint64_t end = std::min<std::uint64_t>(start + mask, 0xffff'ffffULL);
    return install_ste_range(static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(end),
                             src);
  }

  [[nodiscard]] bool forwardable_sid(const queue::command& c, forward_class cls) const noexcept {
    const device* d = find_sid(command_sid(c));
    // Only a device whose vDEVICE carries this vSID: the kernel translates no other.
    if (!d || d->vdevice == iommufd::no_object || d->vdevice_sid != command_sid(c)) return false;
    if (cls == forward_class::forward_atc) return resolved_.ats && d->ats;
    return true;
  }

  // One command of forward()/offer(); false when it stopped with an error in `r`.
  template <class Source>
  bool step(const queue::command& c, std::size_t i, Source& src, forward_result& r) {
    const forward_class cls = classify(c);
    switch (cls) {
      case forward_class::local:
        break;
      case forward_class::forward:
        if (viommu_) batch_.push_back({c, i});
        break;
      case forward_class::forward_sid:
      case forward_class::forward_atc:
        if (secure_bit_set(c)) {
          if (!flush(r)) return false;
          command_error(r, i, smmuv3::cerror::ill, {}, "SSec set on a Non-secure queue");
          return false;
        }
        if (viommu_ && forwardable_sid(c, cls)) batch_.push_back({c, i});
        break;
      case forward_class::ste: {
        if (!flush(r)) return false;
        if (secure_bit_set(c)) {
          command_error(r, i, smmuv3::cerror::ill, {}, "SSec set on a Non-secure queue");
          return false;
        }
        op_result o = apply_cfgi(c, src);
        if (!o.ok()) {
          command_error(r, i, smmuv3::cerror::ill, o.host, o.message);
          return false;
        }
        break;
      }
      case forward_class::sync:
        return flush(r);
    }
    return batch_.size() < cfg_.max_batch || flush(r);
  }

  forward_result& command_error(forward_result& r, std::size_t index, smmuv3::cerror e,
                                const iommufd::host_error& host, std::string msg) {
    r.consumed = index;
    r.at = index;
    r.error = e;
    r.host = host;
    r.message = std::move(msg);
    return r;
  }

  // Sends the batch. If the kernel handled only k entries, the ones before k that its batching
  // may have dropped (converted but never issued when entry k failed conversion) are sent again,
  // and the guest sees the error at entry k.
  bool flush(forward_result& r) {
    if (batch_.empty()) return true;
    entries_.clear();
    for (const pending_cmd& p : batch_) entries_.push_back({p.cmd.words});
    const auto res = a_.invalidate(viommu_->id, entries_);
    ++invalidate_calls_;
    if (res.ok()) {
      forwarded_ += entries_.size();
      batch_.clear();
      return true;
    }
    std::size_t k = std::min<std::size_t>(res.handled, entries_.size() - 1);
    forwarded_ += k;
    // A timeout is an issue failure: the batch was sent. Only a conversion failure drops entries.
    const std::size_t window = res.error.code == ETIMEDOUT    ? 0
                               : cfg_.kernel_issue_batch == 0 ? k
                                                              : k % cfg_.kernel_issue_batch;
    if (window != 0) {
      const std::span<const iommufd::invalidation_entry> again(entries_.data() + (k - window),
                                                               window);
      const auto re = a_.invalidate(viommu_->id, again);
      ++invalidate_calls_;
      if (!re.ok()) {
        // The resubmission failed too: the error is at the first entry it did not get through.
        k = (k - window) + std::min<std::size_t>(re.handled, window - 1);
        report_batch_error(r, k, re.error);
        return false;
      }
    }
    report_batch_error(r, k, res.error);
    return false;
  }

  void report_batch_error(forward_result& r, std::size_t k, const iommufd::host_error& e) {
    const pending_cmd& p = batch_[k];
    // A timeout (the CMD_SYNC the driver appends) is an ATC invalidation that did not complete
    // if the kernel's issue batch ending at k had one; every entry of that batch was issued.
    bool atc = false;
    if (e.code == ETIMEDOUT) {
      const std::size_t issue = cfg_.kernel_issue_batch == 0 ? k + 1 : cfg_.kernel_issue_batch;
      for (std::size_t i = k - k % issue; i <= k; ++i) {
        atc = atc || batch_[i].cmd.opcode() == smmuv3::cmd::opcode::atc_inv;
      }
    }
    const smmuv3::cerror ce = atc ? smmuv3::cerror::atc_inv_sync : smmuv3::cerror::ill;
    r.issued_all = e.code == ETIMEDOUT && k + 1 == batch_.size();
    command_error(
        r, p.index, ce, e,
        "IOMMU_HWPT_INVALIDATE failed at command " + std::to_string(p.index) + ": " + e.message());
    batch_.clear();
  }

  Adapter& a_;
  accel_config cfg_;
  resolved_properties resolved_{};
  smmuv3::id_registers idrs_{};
  bool frozen_ = false;
  bool auto_resolved_ = false;
  bool smmuen_ = false;
  std::uint32_t gbpa_ = static_cast<std::uint32_t>(smmuv3::regs::gbpa::reset_value);
  std::optional<viommu_state> viommu_;
  std::vector<device> devices_;
  std::vector<iommufd::object_id> nested_;
  std::vector<pending_object> pending_;
  std::vector<pending_cmd> batch_;
  std::vector<iommufd::invalidation_entry> entries_;
  vevent_sequence seq_;
  std::size_t invalidate_calls_ = 0;
  std::size_t forwarded_ = 0;
};

}  // namespace vsmmu::accel
