// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/accel/iommufd/adapter.hpp>
#include <vsmmu/accel/iommufd/kernel_rules.hpp>

#include <array>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

// An in-process model of a Linux host's iommufd and arm-smmu-v3 driver, for tests and for
// embedders' CI: an `iommufd_s2_adapter` that enforces the kernel's rules and records what the
// physical SMMU would have been told.
//
// Faithful to Linux 6.13-6.19 (iommufd core: main.c, device.c, hw_pagetable.c, viommu.c,
// eventq.c; arm-smmu-v3-iommufd.c), facts only:
//   - one object-ID space per iommufd, IDs allocated lowest-free from 1 (devices, IOASes, HWPTs,
//     vIOMMUs, vDEVICEs, vEVENTQs share it); destroying an object in use is EBUSY, an unknown ID
//     ENOENT;
//   - references: an IOAS is held by its HWPTs, the nesting parent by its vIOMMUs, a vIOMMU by its
//     vDEVICEs, nested HWPTs and vEVENTQ, a HWPT by every device attached to it, a vEVENTQ by its
//     open file descriptor;
//   - a vIOMMU needs a nesting-parent HWPT on the device's physical SMMU (EINVAL otherwise) and an
//     SMMU with nesting (EOPNOTSUPP); virt_id is unique per vIOMMU and a device has at most one
//     vDEVICE (EEXIST);
//   - nested STEs are validated exactly as kernel_rules.hpp says (EIO); nested-HWPT flags other
//     than FAULT_ID_VALID/PASID are EOPNOTSUPP;
//   - one HWPT per host IOMMU group: the group's first attach and every replace program every
//     device of the group (attached through iommufd or not) through the driver's checks, all or
//     none; a device joining a group attached elsewhere is EINVAL; re-attaching the current HWPT
//     changes nothing (not even the vSID events are reported with);
//   - invalidation converts commands one by one (vSID -> pSID, VMID forced, NSNH_ALL -> NH_ALL)
//     and issues them in batches of CMDQ_BATCH_ENTRIES - 1; when entry k fails to convert the
//     call reports k handled and the converted entries of that batch before k were never issued.
//     `issued()` records what really reached the command queue;
//   - vEVENTQ: sequence numbers, depth, the trailing lost-events record, the event types the
//     driver forwards, SID rewritten to the vSID.
//
// Not modelled: IOAS mappings (IOAS_MAP and friends), automatic domains (attaching a device to an
// IOAS ID is EINVAL here), PASID attachments, fault objects (FAULT_ID_VALID is ENOENT: no fault
// object with ID 0 exists), dirty tracking, the S2 translation-table fields of physical STEs
// (dwords 2 and 3 carry only S2VMID). Not thread-safe.
namespace vsmmu::accel::iommufd {

// ---- host configuration ----------------------------------------------------------------------

// A physical SMMU of the simulated host.
struct sim_smmu {
  // IDR0: S2P S1P TTF=AArch64 COHACC ATS ASID16 MSI VMID16 CD2L TTENDIAN=LE ST_LEVEL=2-level.
  std::array<std::uint32_t, 6> idr{0x084C'341Bu,
                                   0x0273'0510u,  // SIDSIZE 16, SSIDSIZE 20, queues 2^19
                                   0,
                                   0x0000'0400u,  // RIL
                                   0,
                                   0x0000'0075u};  // OAS 48-bit, 4K/16K/64K granules
  std::uint32_t iidr = 0x0000'043Bu;               // Arm
  std::uint32_t aidr = 0x2;                        // SMMUv3.2
  bool nesting = true;  // ARM_SMMU_FEAT_NESTING and the driver's other vIOMMU preconditions
  // What IOMMU_GET_HW_INFO reports as out_data_type: another type models a host whose IOMMU is
  // not an SMMUv3 (the ID registers then read as zero).
  hw_info_type info_type = hw_info_type::arm_smmuv3;
};

// A device bound to the iommufd (a VFIO cdev after VFIO_DEVICE_BIND_IOMMUFD).
struct sim_device {
  std::size_t smmu = 0;          // index returned by add_smmu
  std::uint32_t group = 0;       // host IOMMU group number
  std::uint32_t stream_id = 0;   // physical StreamID
  bool ats = false;              // ATS usable (PCIe capability and SMMU_IDR0.ATS)
  std::uint8_t pasid_width = 0;  // PCIe PASID capability Max PASID Width; 0 = none
  bool pasid_exec = false;       // PASID Execute Permission enabled
  bool pasid_priv = false;       // PASID Privileged Mode enabled
};

// Differences between kernel versions.
struct kernel_behaviour {
  // Abort and bypass nested HWPTs may be attached without a vDEVICE ("Allow attaching nested
  // domain for GBPA cases", 2025). Without it such an attach fails ENOENT, as S1 always does.
  bool gbpa_attach_without_vdevice = true;
  // The SMMUv3 driver accepts FAULT_ID_VALID/PASID on nested HWPTs. The first vIOMMU kernels
  // refused every flag there (EOPNOTSUPP).
  bool driver_accepts_nested_flags = true;
  // CMDQ_BATCH_ENTRIES (BITS_PER_LONG): batches of this minus one command.
  std::uint32_t cmdq_batch_entries = kernel::cmdq_batch_entries;
};

// ---- what the simulation lets a test observe ------------------------------------------------

enum class object_kind : std::uint8_t {
  free,
  device,
  ioas,
  hwpt_paging,
  hwpt_nested,
  viommu,
  vdevice,
  veventq,
};

// What the host SMMU's stream table holds for a device.
enum class ste_kind : std::uint8_t {
  none,       // never attached by us (the kernel's own default domain)
  abort,      // V=1, Config=abort
  s2,         // stage 2 only: the nesting parent (a bypass nested HWPT or the S2 itself)
  s1_paging,  // a kernel-managed stage-1 domain
  nested,     // Config=nested: the guest's stage-1 context on the nesting parent
};
struct physical_ste {
  ste_kind kind = ste_kind::none;
  std::array<std::uint64_t, 4> dwords{};  // dwords 0-1 as the driver writes them; 2 = S2VMID only
  friend bool operator==(const physical_ste&, const physical_ste&) = default;
};

// One command-queue batch the driver issued for IOMMU_HWPT_INVALIDATE (physical commands, after
// conversion, without the CMD_SYNC the driver appends).
struct issued_batch {
  object_id viommu = no_object;
  std::vector<invalidation_entry> commands;
  int err = 0;  // the issue failed (an injected CMD_SYNC timeout): still issued
};

// What became of a host event (inject_event).
enum class event_delivery : std::uint8_t {
  queued,         // a record is in the vEVENTQ
  lost,           // the vEVENTQ was full: a lost-events record marks it
  no_veventq,     // the vIOMMU has no vEVENTQ: dropped
  no_vdevice,     // the device is not attached through a vDEVICE: host log only
  stage2,         // S2 = 1: the host's own fault, host log only
  stalled,        // Stall = 1: the page-fault path, not a vEVENT
  not_forwarded,  // an event type the driver never forwards
  unknown_device,
};

[[nodiscard]] constexpr const char* to_string(ste_kind k) noexcept {
  switch (k) {
    case ste_kind::none:
      return "none";
    case ste_kind::abort:
      return "abort";
    case ste_kind::s2:
      return "s2";
    case ste_kind::s1_paging:
      return "s1";
    case ste_kind::nested:
      return "nested";
  }
  return "?";
}
[[nodiscard]] constexpr const char* to_string(event_delivery d) noexcept {
  switch (d) {
    case event_delivery::queued:
      return "queued";
    case event_delivery::lost:
      return "lost";
    case event_delivery::no_veventq:
      return "no vEVENTQ";
    case event_delivery::no_vdevice:
      return "no vDEVICE";
    case event_delivery::stage2:
      return "stage 2";
    case event_delivery::stalled:
      return "stalled";
    case event_delivery::not_forwarded:
      return "not forwarded";
    case event_delivery::unknown_device:
      return "unknown device";
  }
  return "?";
}

// One adapter call as the kernel saw it.
struct call_record {
  std::uint64_t number = 0;  // 1-based, as calls() counts
  operation op = operation::open;
  std::array<std::uint64_t, 5> args{};
  std::uint64_t out = 0;  // the new ID, the count handled or read
  int err = 0;
  bool injected = false;  // failed by fault injection, no effect

  // "IOMMU_VIOMMU_ALLOC(dev=1, type=1, hwpt=3) = 4", "IOMMU_DESTROY(id=4) = -EBUSY"
  [[nodiscard]] std::string to_string() const {
    char buf[256];
    int n = 0;
    const char* name = operation_name(op);
    switch (op) {
      case operation::get_hw_info:
        n = std::snprintf(buf, sizeof buf, "%s(dev=%llu)", name, u(0));
        break;
      case operation::alloc_ioas:
        n = std::snprintf(buf, sizeof buf, "%s()", name);
        break;
      case operation::alloc_s2_hwpt:
        n = std::snprintf(buf, sizeof buf, "%s(dev=%llu, pt=%llu, flags=0x%llx, data=NONE)", name,
                          u(0), u(1), u(2));
        break;
      case operation::alloc_viommu:
        n = std::snprintf(buf, sizeof buf, "%s(dev=%llu, type=%llu, hwpt=%llu)", name, u(0), u(1),
                          u(2));
        break;
      case operation::alloc_vdevice:
        n = std::snprintf(buf, sizeof buf, "%s(viommu=%llu, dev=%llu, virt_id=0x%llx)", name, u(0),
                          u(1), u(2));
        break;
      case operation::alloc_nested_hwpt:
        n = std::snprintf(
            buf, sizeof buf,
            "%s(dev=%llu, pt=%llu, flags=0x%llx, data=ARM_SMMUV3 ste=0x%016llx:0x%016llx)", name,
            u(0), u(1), u(2), u(3), u(4));
        break;
      case operation::attach:
        n = std::snprintf(buf, sizeof buf, "%s(dev=%llu, pt=%llu)", name, u(0), u(1));
        break;
      case operation::destroy:
        n = std::snprintf(buf, sizeof buf, "%s(id=%llu)", name, u(0));
        break;
      case operation::invalidate:
        n = std::snprintf(buf, sizeof buf,
                          "%s(viommu=%llu, type=ARM_SMMUV3, entry_len=16, entries=%llu)", name,
                          u(0), u(1));
        break;
      case operation::alloc_veventq:
        n = std::snprintf(buf, sizeof buf, "%s(viommu=%llu, type=ARM_SMMUV3, depth=%llu)", name,
                          u(0), u(1));
        break;
      case operation::read_veventq:
      case operation::free_veventq:
        n = std::snprintf(buf, sizeof buf, "%s(veventq=%llu)", name, u(0));
        break;
      case operation::open:
        n = std::snprintf(buf, sizeof buf, "%s", name);
        break;
    }
    std::string s(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    if (err != 0) {
      const char* e = errno_name(err);
      s += " = -";
      s += e != nullptr ? e : std::to_string(err);
      if (op == operation::invalidate) s += " (handled " + std::to_string(out) + ")";
      if (injected) s += " [injected]";
    } else if (op != operation::attach && op != operation::destroy &&
               op != operation::free_veventq) {
      s += " = " + std::to_string(out);
    } else {
      s += " = 0";
    }
    return s;
  }

 private:
  [[nodiscard]] unsigned long long u(std::size_t i) const noexcept { return args[i]; }
};

// ---- the simulated kernel --------------------------------------------------------------------

// A class template only so that its member functions (and the std::vector members they use) are
// instantiated where they are used, not in every TU that includes the umbrella header: as a
// plain class it cost ~27M of g++'s front-end allocation per TU. Use simulated_kernel.
template <class = void>
class basic_simulated_kernel {
 public:
  explicit basic_simulated_kernel(kernel_behaviour b = {}) : behaviour_(b) { objects_.emplace_back(); }

  [[nodiscard]] kernel_behaviour& behaviour() noexcept { return behaviour_; }

  // Host configuration: not adapter calls (not counted, traced or failed by injection).
  std::size_t add_smmu(const sim_smmu& s) {
    smmus_.push_back(smmu_state{s, {}});
    return smmus_.size() - 1;
  }
  // Binds a device, as VFIO_DEVICE_BIND_IOMMUFD does: its dev_id comes from the object-ID space.
  // The device's smmu must be an index add_smmu returned.
  device_id add_device(const sim_device& d) {
    const object_id id = alloc_id(object_kind::device);
    objects_[id].users = 1;  // VFIO holds its iommufd device until unbind
    objects_[id].model = devices_.size();
    device_state st;
    st.model = d;
    st.id = id;
    devices_.push_back(st);
    return id;
  }
  // The VFIO cdev is closed: the device is detached and unbound. A vDEVICE still present is
  // destroyed by force and its ID stays occupied (counted by live_objects) until the iommufd
  // closes, as the uAPI warns.
  void remove_device(device_id dev) {
    device_state* d = device(dev);
    if (d == nullptr) return;
    detach(*d);
    if (d->vdevice != no_object) {
      object& v = objects_[d->vdevice];
      release_vdevice(v);
      v.tombstone = true;
      d->vdevice = no_object;
    }
    d->bound = false;
    objects_[dev] = object{};
  }

  // ---- iommufd_adapter ----------------------------------------------------------------------

  [[nodiscard]] result<hw_info> get_hw_info(device_id dev) {
    call_record& c = begin(operation::get_hw_info, {dev});
    if (c.injected) return fail(c.op, c.err);
    const device_state* d = device(dev);
    if (d == nullptr) return finish(c, ENOENT);
    const sim_smmu& s = smmus_[d->model.smmu].config;
    hw_info h;
    h.type = s.info_type;
    if (s.info_type == hw_info_type::arm_smmuv3) {
      h.idr = s.idr;
      h.iidr = s.iidr;
      h.aidr = s.aidr;
    }
    const unsigned ssid_bits = (s.idr[1] >> 6) & 0x1F;
    const unsigned width = d->model.pasid_width < ssid_bits ? d->model.pasid_width : ssid_bits;
    h.max_pasid_log2 = static_cast<std::uint8_t>(width);
    if (width != 0 && d->model.pasid_exec) h.capabilities |= hw_cap::pci_pasid_exec;
    if (width != 0 && d->model.pasid_priv) h.capabilities |= hw_cap::pci_pasid_priv;
    if (((s.idr[0] >> 6) & 0x3) == 0x2) h.capabilities |= hw_cap::dirty_tracking;  // HTTU = HA+HD
    finish(c, 0);
    return h;
  }

  [[nodiscard]] result<object_id> alloc_viommu(device_id dev, viommu_type type, object_id s2_hwpt) {
    call_record& c =
        begin(operation::alloc_viommu, {dev, static_cast<std::uint64_t>(type), s2_hwpt});
    if (c.injected) return fail(c.op, c.err);
    if (type == viommu_type::default_type) return finish(c, EOPNOTSUPP);
    const device_state* d = device(dev);
    if (d == nullptr) return finish(c, ENOENT);
    // get_viommu_size(): no nesting, or a type this SMMU does not implement.
    if (!smmus_[d->model.smmu].config.nesting || type != viommu_type::arm_smmuv3)
      return finish(c, EOPNOTSUPP);
    object* s2 = find(s2_hwpt, object_kind::hwpt_paging);
    if (s2 == nullptr) return finish(c, ENOENT);
    if (!s2->nest_parent) return finish(c, EINVAL);
    if (s2->smmu != d->model.smmu) return finish(c, EINVAL);  // arm_vsmmu_init
    const object_id id = alloc_id(object_kind::viommu);
    object& v = objects_[id];
    v.smmu = d->model.smmu;
    v.parent = s2_hwpt;
    v.vmid = objects_[s2_hwpt].vmid;
    ++objects_[s2_hwpt].users;
    return finish(c, 0, id);
  }

  [[nodiscard]] result<object_id> alloc_vdevice(object_id viommu, device_id dev,
                                                std::uint64_t virt_id) {
    call_record& c = begin(operation::alloc_vdevice, {viommu, dev, virt_id});
    if (c.injected) return fail(c.op, c.err);
    object* v = find(viommu, object_kind::viommu);
    if (v == nullptr) return finish(c, ENOENT);
    device_state* d = device(dev);
    if (d == nullptr) return finish(c, ENOENT);
    if (v->smmu != d->model.smmu) return finish(c, EINVAL);
    if (d->vdevice != no_object) return finish(c, EEXIST);
    for (const auto& e : v->vdevs)
      if (e.first == virt_id) return finish(c, EEXIST);
    const object_id id = alloc_id(object_kind::vdevice);
    object& vd = objects_[id];
    vd.parent = viommu;
    vd.dev = dev;
    vd.virt_id = virt_id;
    objects_[viommu].vdevs.emplace_back(virt_id, dev);
    ++objects_[viommu].users;
    d->vdevice = id;
    return finish(c, 0, id);
  }

  [[nodiscard]] result<object_id> alloc_nested_hwpt(device_id dev, object_id viommu,
                                                    std::uint32_t flags, const nested_ste& ste) {
    call_record& c =
        begin(operation::alloc_nested_hwpt, {dev, viommu, flags, ste.dwords[0], ste.dwords[1]});
    if (c.injected) return fail(c.op, c.err);
    const device_state* d = device(dev);
    if (d == nullptr) return finish(c, ENOENT);
    if (viommu >= objects_.size() || objects_[viommu].kind == object_kind::free ||
        objects_[viommu].tombstone)
      return finish(c, ENOENT);
    if (objects_[viommu].kind == object_kind::hwpt_paging)
      return finish(c, EOPNOTSUPP);  // SMMUv3 nests only through a vIOMMU
    if (objects_[viommu].kind != object_kind::viommu) return finish(c, EINVAL);
    if (objects_[viommu].smmu != d->model.smmu) return finish(c, EINVAL);
    if ((flags & ~(hwpt_flag::fault_id_valid | hwpt_flag::pasid)) != 0)
      return finish(c, EOPNOTSUPP);
    if (flags != 0 && !behaviour_.driver_accepts_nested_flags) return finish(c, EOPNOTSUPP);
    const kernel::vste_verdict verdict = kernel::validate_vste(ste);
    if (verdict.err != 0) return finish(c, verdict.err);
    if ((flags & hwpt_flag::fault_id_valid) != 0) return finish(c, ENOENT);  // fault_id 0
    const object_id id = alloc_id(object_kind::hwpt_nested);
    object& h = objects_[id];
    h.parent = viommu;
    h.smmu = objects_[viommu].smmu;
    h.ste = verdict.ste;
    h.enable_ats = verdict.enable_ats;
    ++objects_[viommu].users;
    return finish(c, 0, id);
  }

  // VFIO_DEVICE_ATTACH_IOMMUFD_PT: attach, or replace the current attachment. The whole host
  // IOMMU group follows: all its attached devices end on `pt`, or the call fails and none moves.
  [[nodiscard]] result<void> attach(device_id dev, object_id pt) {
    call_record& c = begin(operation::attach, {dev, pt});
    if (c.injected) return fail(c.op, c.err);
    device_state* d = device(dev);
    if (d == nullptr) return finish_void(c, ENOENT);
    if (pt >= objects_.size() || objects_[pt].kind == object_kind::free || objects_[pt].tombstone)
      return finish_void(c, ENOENT);
    const object_kind k = objects_[pt].kind;
    if (k != object_kind::hwpt_paging && k != object_kind::hwpt_nested)
      return finish_void(c, EINVAL);  // IOAS auto-domains are not modelled; other kinds: EINVAL
    const object_id group_hwpt = group_attachment(d->model.group, d->model.smmu);
    if (d->hwpt == no_object && group_hwpt != no_object) {
      // The group already has its domain (and this device its STE): join, or EINVAL.
      if (group_hwpt != pt) return finish_void(c, EINVAL);
      ++objects_[pt].users;
      d->hwpt = pt;
      return finish_void(c, 0);
    }
    if (pt == group_hwpt) return finish_void(c, 0);  // iommufd returns early: nothing rewritten
    // First attach of the group, or a replace: the domain is set for every device of the host
    // IOMMU group, attached through iommufd or not, each through the driver's checks; one
    // failure and nothing changes.
    const std::vector<device_state*> members = group_devices(*d);
    for (const device_state* m : members)
      if (const int e = can_attach(*m, pt); e != 0) return finish_void(c, e);
    for (device_state* m : members) {
      program(*m, pt);
      if (m->hwpt != no_object) {
        --objects_[m->hwpt].users;
        m->hwpt = pt;
        ++objects_[pt].users;
      }
    }
    if (d->hwpt == no_object) {
      d->hwpt = pt;
      ++objects_[pt].users;
    }
    return finish_void(c, 0);
  }

  [[nodiscard]] result<void> destroy(object_id id) {
    call_record& c = begin(operation::destroy, {id});
    if (c.injected) return fail(c.op, c.err);
    return finish_void(c, destroy_object(id));
  }

  [[nodiscard]] invalidation_result invalidate(object_id viommu,
                                               std::span<const invalidation_entry> entries) {
    call_record& c = begin(operation::invalidate, {viommu, entries.size()});
    invalidation_result r;
    if (c.injected) {
      r.error = fail(c.op, c.err);
      return r;
    }
    const auto done = [&](std::uint32_t handled, int e) {
      r.handled = handled;
      c.out = handled;
      c.err = e;
      if (e != 0) r.error = fail(c.op, e);
      return r;
    };
    if (viommu >= objects_.size() || objects_[viommu].kind == object_kind::free ||
        objects_[viommu].tombstone)
      return done(0, ENOENT);
    if (objects_[viommu].kind == object_kind::hwpt_nested)
      return done(0, EOPNOTSUPP);  // an SMMUv3 nested HWPT has no cache_invalidate
    if (objects_[viommu].kind != object_kind::viommu) return done(0, EINVAL);
    if (entries.size() > UINT32_MAX) return done(0, EINVAL);
    const object& v = objects_[viommu];
    const std::size_t batch =
        behaviour_.cmdq_batch_entries > 1 ? behaviour_.cmdq_batch_entries - 1 : 1;
    std::vector<invalidation_entry>& converted = converted_;  // reused: no allocation per call
    converted.clear();
    std::size_t cur = 0;
    while (cur < entries.size()) {
      invalidation_entry cmd = entries[cur];
      if (const int e = convert(v, cmd); e != 0) return done(static_cast<std::uint32_t>(cur), e);
      converted.push_back(cmd);
      ++cur;
      if (cur != entries.size() && converted.size() != batch) continue;
      const int e = issue(viommu, converted);
      converted.clear();
      if (e != 0) return done(static_cast<std::uint32_t>(cur - 1), e);  // the driver's cur--
    }
    return done(static_cast<std::uint32_t>(cur), 0);
  }

  [[nodiscard]] result<veventq> alloc_veventq(object_id viommu, std::uint32_t depth) {
    call_record& c = begin(operation::alloc_veventq, {viommu, depth});
    if (c.injected) return fail(c.op, c.err);
    if (depth == 0) return finish(c, EINVAL);
    object* v = find(viommu, object_kind::viommu);
    if (v == nullptr) return finish(c, ENOENT);
    if (v->veventq != no_object) return finish(c, EEXIST);  // one per type
    const object_id id = alloc_id(object_kind::veventq);
    object& q = objects_[id];
    q.parent = viommu;
    q.depth = depth;
    q.fd = next_fd_++;
    q.users = 1;  // the open fd
    objects_[viommu].veventq = id;
    ++objects_[viommu].users;
    c.out = id;
    return veventq{id, q.fd};
  }

  [[nodiscard]] result<std::size_t> read_veventq(const veventq& q, std::span<vevent_record> out) {
    call_record& c = begin(operation::read_veventq, {q.id, out.size()});
    if (c.injected) return fail(c.op, c.err);
    object* o = veventq_by_fd(q);
    if (o == nullptr) {
      c.err = EBADF;
      return fail(c.op, EBADF);
    }
    std::size_t n = 0;
    while (n < out.size() && !o->deliver.empty()) {
      out[n] = o->deliver.front();
      o->deliver.pop_front();
      if (!out[n].lost_events()) --o->num_events;
      ++n;
    }
    c.out = n;
    return n;
  }

  [[nodiscard]] result<void> free_veventq(const veventq& q) {
    call_record& c = begin(operation::free_veventq, {q.id});
    if (c.injected) return fail(c.op, c.err);
    object* o = veventq_by_fd(q);
    if (o == nullptr) return finish_void(c, EBADF);
    o->fd = -1;
    --o->users;
    const int e = destroy_object(q.id);
    c.err = e;
    if (e != 0) return fail(operation::destroy, e);
    return {};
  }

  // ---- iommufd_s2_adapter -------------------------------------------------------------------

  [[nodiscard]] result<object_id> alloc_ioas() {
    call_record& c = begin(operation::alloc_ioas, {});
    if (c.injected) return fail(c.op, c.err);
    return finish(c, 0, alloc_id(object_kind::ioas));
  }

  // A kernel-managed HWPT on an IOAS: a stage-2 domain (with its own VMID) when flags has
  // nest_parent, a stage-1 domain otherwise.
  [[nodiscard]] result<object_id> alloc_s2_hwpt(device_id dev, object_id ioas,
                                                std::uint32_t flags) {
    call_record& c = begin(operation::alloc_s2_hwpt, {dev, ioas, flags});
    if (c.injected) return fail(c.op, c.err);
    const device_state* d = device(dev);
    if (d == nullptr) return finish(c, ENOENT);
    if (find(ioas, object_kind::ioas) == nullptr) return finish(c, ENOENT);
    if ((flags & ~(hwpt_flag::nest_parent | hwpt_flag::dirty_tracking | hwpt_flag::pasid)) != 0)
      return finish(c, EOPNOTSUPP);
    const sim_smmu& s = smmus_[d->model.smmu].config;
    if ((flags & hwpt_flag::dirty_tracking) != 0 && ((s.idr[0] >> 6) & 0x3) != 0x2)
      return finish(c, EOPNOTSUPP);
    if ((flags & hwpt_flag::nest_parent) != 0 && (!s.nesting || (s.idr[0] & 1) == 0))
      return finish(c, EOPNOTSUPP);
    const object_id id = alloc_id(object_kind::hwpt_paging);
    object& h = objects_[id];
    h.parent = ioas;
    h.smmu = d->model.smmu;
    h.nest_parent = (flags & hwpt_flag::nest_parent) != 0;
    if (h.nest_parent) h.vmid = alloc_vmid(h.smmu);
    ++objects_[ioas].users;
    return finish(c, 0, id);
  }

  // ---- fault injection ----------------------------------------------------------------------

  // Adapter call number n (1-based, as calls() counts) fails with err and has no effect.
  void fail_call(std::uint64_t n, int err) { rules_.push_back(rule{n, {}, 0, err}); }
  // The next call of `op`, after `skip` successful ones, fails with err and has no effect.
  void fail_operation(operation op, int err, unsigned skip = 0) {
    rules_.push_back(rule{0, op, skip, err});
  }
  // Command-queue batch number n (1-based, counting every batch issued since construction) is
  // issued, but its CMD_SYNC fails with err (ETIMEDOUT models an ATC invalidation timeout).
  void fail_cmdq_batch(std::uint64_t n, int err) { batch_rules_.emplace_back(n, err); }
  void clear_faults() noexcept {
    rules_.clear();
    batch_rules_.clear();
  }

  // ---- inspection ---------------------------------------------------------------------------

  [[nodiscard]] std::uint64_t calls() const noexcept { return calls_; }
  [[nodiscard]] const std::vector<call_record>& trace() const noexcept { return trace_; }
  void clear_trace() noexcept { trace_.clear(); }
  // Record each call (on by default); benchmarks turn it off.
  void set_tracing(bool on) noexcept { tracing_ = on; }

  // Objects alive in the iommufd, devices excepted (forcibly destroyed vDEVICEs included: their
  // IDs stay leaked until the iommufd closes).
  [[nodiscard]] std::size_t live_objects() const noexcept {
    std::size_t n = 0;
    for (const object& o : objects_)
      if (o.kind != object_kind::free && o.kind != object_kind::device) ++n;
    return n;
  }
  [[nodiscard]] std::size_t live_objects(object_kind k) const noexcept {
    std::size_t n = 0;
    for (const object& o : objects_)
      if (o.kind == k) ++n;
    return n;
  }
  [[nodiscard]] object_kind kind_of(object_id id) const noexcept {
    return id < objects_.size() ? objects_[id].kind : object_kind::free;
  }
  // References other objects and attachments hold on `id` (what makes IOMMU_DESTROY EBUSY).
  [[nodiscard]] std::uint32_t users_of(object_id id) const noexcept {
    return id < objects_.size() ? objects_[id].users : 0;
  }

  [[nodiscard]] object_id attached_hwpt(device_id dev) const noexcept {
    const device_state* d = device(dev);
    return d != nullptr ? d->hwpt : no_object;
  }
  [[nodiscard]] physical_ste ste_of(device_id dev) const noexcept {
    const device_state* d = device(dev);
    return d != nullptr ? d->ste : physical_ste{};
  }
  [[nodiscard]] bool ats_enabled(device_id dev) const noexcept {
    const device_state* d = device(dev);
    return d != nullptr && d->ats_enabled;
  }
  [[nodiscard]] object_id vdevice_of(device_id dev) const noexcept {
    const device_state* d = device(dev);
    return d != nullptr ? d->vdevice : no_object;
  }
  // The vSID host events of this device are reported with (set at attach to a nested HWPT
  // through a vDEVICE), or nothing.
  [[nodiscard]] std::optional<std::uint64_t> event_vsid(device_id dev) const noexcept {
    const device_state* d = device(dev);
    if (d == nullptr || !d->vmaster) return std::nullopt;
    return d->vsid;
  }
  // The VMID the host uses for a vIOMMU or nesting-parent HWPT (0 for anything else).
  [[nodiscard]] std::uint16_t vmid_of(object_id id) const noexcept {
    return id < objects_.size() ? objects_[id].vmid : 0;
  }
  // The nested STE a nested HWPT holds, as the kernel keeps it (EATS removed, zero when V = 0).
  [[nodiscard]] nested_ste nested_ste_of(object_id hwpt) const noexcept {
    return hwpt < objects_.size() ? objects_[hwpt].ste : nested_ste{};
  }

  // Command-queue batches issued for invalidations (recording can be turned off for benchmarks;
  // the counters run regardless).
  [[nodiscard]] const std::vector<issued_batch>& issued() const noexcept { return issued_; }
  void clear_issued() noexcept { issued_.clear(); }
  void set_record_issued(bool on) noexcept { record_issued_ = on; }
  [[nodiscard]] std::uint64_t issued_batch_count() const noexcept { return batches_; }
  [[nodiscard]] std::uint64_t issued_command_count() const noexcept { return issued_commands_; }

  // ---- host events --------------------------------------------------------------------------

  // The physical SMMU reports an event record for `dev` (its StreamID field is ignored: the
  // device's pSID is implied). The driver forwards it to the vIOMMU's vEVENTQ, SID rewritten to
  // the vSID, when kernel_rules.hpp says it does.
  event_delivery inject_event(device_id dev, const std::array<std::uint64_t, 4>& evt) {
    const device_state* d = device(dev);
    if (d == nullptr) return event_delivery::unknown_device;
    if (!kernel::reported_event(static_cast<std::uint8_t>(evt[0] & kernel::evt0_type)))
      return event_delivery::not_forwarded;
    if ((evt[1] & kernel::evt1_stall) != 0) return event_delivery::stalled;
    if (!d->vmaster) return event_delivery::no_vdevice;
    if ((evt[1] & kernel::evt1_s2) != 0) return event_delivery::stage2;
    const object_id viommu = objects_[d->hwpt].parent;
    const object_id qid = objects_[viommu].veventq;
    if (qid == no_object) return event_delivery::no_veventq;
    object& q = objects_[qid];
    vevent_record r;
    r.event = evt;
    r.event[0] = (evt[0] & ~kernel::evt0_sid) | (d->vsid << 32);
    // The lost-events record only ever sits at the tail: a new record replaces it.
    if (!q.deliver.empty() && q.deliver.back().lost_events()) q.deliver.pop_back();
    event_delivery result = event_delivery::queued;
    if (q.num_events == q.depth) {
      r = vevent_record{};
      r.flags = vevent_flag_lost_events;
      result = event_delivery::lost;
    } else {
      ++q.num_events;
    }
    r.sequence = q.sequence;
    q.sequence = (q.sequence + 1) & static_cast<std::uint32_t>(INT_MAX);
    q.deliver.push_back(r);
    return result;
  }
  // Records waiting in a vEVENTQ (lost-events marker included).
  [[nodiscard]] std::size_t pending_vevents(object_id veventq_id) const noexcept {
    return veventq_id < objects_.size() && objects_[veventq_id].kind == object_kind::veventq
               ? objects_[veventq_id].deliver.size()
               : 0;
  }
  // Sets the next sequence number of a vEVENTQ (to test the wrap at INT_MAX).
  void set_vevent_sequence(object_id veventq_id, std::uint32_t seq) noexcept {
    if (veventq_id < objects_.size() && objects_[veventq_id].kind == object_kind::veventq)
      objects_[veventq_id].sequence = seq & static_cast<std::uint32_t>(INT_MAX);
  }

 private:
  struct object {
    object_kind kind = object_kind::free;
    bool tombstone = false;        // a vDEVICE destroyed by force: ID leaked
    std::uint32_t users = 0;       // references held on this object
    std::size_t model = 0;         // device: index in devices_
    std::size_t smmu = 0;          // hwpt_paging, hwpt_nested, viommu
    object_id parent = no_object;  // paging: IOAS; nested/vdevice/veventq: vIOMMU; vIOMMU: S2
    bool nest_parent = false;      // hwpt_paging
    std::uint16_t vmid = 0;        // nesting parent, vIOMMU
    nested_ste ste{};              // hwpt_nested
    bool enable_ats = false;       // hwpt_nested
    std::vector<std::pair<std::uint64_t, device_id>> vdevs;  // viommu: virt_id -> device
    object_id veventq = no_object;                           // viommu
    device_id dev = 0;                                       // vdevice
    std::uint64_t virt_id = 0;                               // vdevice
    std::uint32_t depth = 0;                                 // veventq
    int fd = -1;                                             // veventq
    std::deque<vevent_record> deliver;                       // veventq
    std::uint32_t num_events = 0;                            // veventq
    std::uint32_t sequence = 0;                              // veventq
  };
  struct device_state {
    sim_device model;
    device_id id = 0;
    bool bound = true;
    object_id hwpt = no_object;
    object_id vdevice = no_object;
    bool vmaster = false;  // attached to a nested HWPT through a vDEVICE
    std::uint64_t vsid = 0;
    bool ats_enabled = false;
    physical_ste ste;
  };
  struct smmu_state {
    sim_smmu config;
    std::vector<std::uint16_t> vmids;
  };
  struct rule {
    std::uint64_t call = 0;  // 0: match by operation
    std::optional<operation> op;
    unsigned skip = 0;
    int err = 0;
  };

  // Counts the call, applies fault injection and opens its trace record.
  call_record& begin(operation op, std::initializer_list<std::uint64_t> args) {
    ++calls_;
    call_record c;
    c.number = calls_;
    c.op = op;
    std::size_t i = 0;
    for (const std::uint64_t a : args) c.args[i++] = a;
    for (std::size_t r = 0; r < rules_.size(); ++r) {
      rule& ru = rules_[r];
      bool hit = false;
      if (ru.call != 0) {
        hit = ru.call == calls_;
      } else if (ru.op == op) {
        if (ru.skip == 0) {
          hit = true;
        } else {
          --ru.skip;
        }
      }
      if (hit) {
        c.err = ru.err != 0 ? ru.err : EIO;
        c.injected = true;
        rules_.erase(rules_.begin() + static_cast<std::ptrdiff_t>(r));
        break;
      }
    }
    if (!tracing_) {
      scratch_ = c;
      return scratch_;
    }
    trace_.push_back(c);
    return trace_.back();
  }
  static host_error finish(call_record& c, int err) {
    c.err = err;
    return fail(c.op, err);
  }
  static result<object_id> finish(call_record& c, int err, object_id id) {
    c.err = err;
    c.out = id;
    if (err != 0) return fail(c.op, err);
    return id;
  }
  static result<void> finish_void(call_record& c, int err) {
    c.err = err;
    if (err != 0) return fail(c.op, err);
    return {};
  }

  // xa_alloc over [1, INT_MAX]: the lowest free index.
  object_id alloc_id(object_kind k) {
    for (object_id id = 1; id < objects_.size(); ++id) {
      if (objects_[id].kind == object_kind::free) {
        objects_[id] = object{};
        objects_[id].kind = k;
        return id;
      }
    }
    objects_.emplace_back();
    objects_.back().kind = k;
    return static_cast<object_id>(objects_.size() - 1);
  }
  std::uint16_t alloc_vmid(std::size_t smmu) {
    std::vector<std::uint16_t>& used = smmus_[smmu].vmids;
    for (std::uint16_t v = 1;; ++v) {
      bool taken = false;
      for (const std::uint16_t u : used) taken = taken || u == v;
      if (!taken) {
        used.push_back(v);
        return v;
      }
    }
  }
  void free_vmid(std::size_t smmu, std::uint16_t vmid) {
    std::vector<std::uint16_t>& used = smmus_[smmu].vmids;
    for (std::size_t i = 0; i < used.size(); ++i) {
      if (used[i] == vmid) {
        used[i] = used.back();
        used.pop_back();
        return;
      }
    }
  }

  [[nodiscard]] object* find(object_id id, object_kind k) noexcept {
    if (id >= objects_.size() || objects_[id].kind != k || objects_[id].tombstone) return nullptr;
    return &objects_[id];
  }
  [[nodiscard]] device_state* device(device_id dev) noexcept {
    if (dev >= objects_.size() || objects_[dev].kind != object_kind::device) return nullptr;
    return &devices_[objects_[dev].model];
  }
  [[nodiscard]] const device_state* device(device_id dev) const noexcept {
    if (dev >= objects_.size() || objects_[dev].kind != object_kind::device) return nullptr;
    return &devices_[objects_[dev].model];
  }
  [[nodiscard]] object* veventq_by_fd(const veventq& q) noexcept {
    object* o = find(q.id, object_kind::veventq);
    return o != nullptr && o->fd >= 0 && o->fd == q.fd ? o : nullptr;
  }

  // The HWPT the device's host IOMMU group is attached to.
  [[nodiscard]] object_id group_attachment(std::uint32_t group, std::size_t smmu) const noexcept {
    for (const auto& m : devices_)
      if (m.bound && m.hwpt != no_object && m.model.group == group && m.model.smmu == smmu)
        return m.hwpt;
    return no_object;
  }

  // The driver's attach_dev checks for one device.
  [[nodiscard]] int can_attach(const device_state& d, object_id pt) const noexcept {
    const object& h = objects_[pt];
    if (h.smmu != d.model.smmu) return EINVAL;
    if (h.kind != object_kind::hwpt_nested) return 0;
    if (vsid_on(d, h.parent).has_value()) return 0;
    const unsigned cfg = kernel::ste_config(h.ste.dwords[0]);
    const bool proxy = cfg == kernel::config::abort || cfg == kernel::config::bypass;
    return proxy && behaviour_.gbpa_attach_without_vdevice ? 0 : ENOENT;
  }
  [[nodiscard]] std::optional<std::uint64_t> vsid_on(const device_state& d,
                                                     object_id viommu) const noexcept {
    if (d.vdevice == no_object || objects_[d.vdevice].parent != viommu) return std::nullopt;
    return objects_[d.vdevice].virt_id;
  }

  // Every bound device of d's host IOMMU group, d included.
  [[nodiscard]] std::vector<device_state*> group_devices(const device_state& d) {
    std::vector<device_state*> out;
    for (auto& m : devices_)
      if (m.bound && m.model.group == d.model.group && m.model.smmu == d.model.smmu)
        out.push_back(&m);
    return out;
  }

  // The driver's attach_dev: the STE, ATS and the vmaster (the vSID events are reported with,
  // looked up now and kept until the next attach).
  void program(device_state& d, object_id pt) {
    const object& h = objects_[pt];
    d.vmaster = false;
    if (h.kind == object_kind::hwpt_paging) {
      d.ats_enabled = d.model.ats;
      d.ste = h.nest_parent ? s2_ste(d, h.vmid) : s1_paging_ste();
      return;
    }
    if (const auto vsid = vsid_on(d, h.parent)) {
      d.vmaster = true;
      d.vsid = *vsid;
    }
    const std::uint16_t vmid = objects_[h.parent].vmid;
    const std::uint64_t v0 = h.ste.dwords[0];
    const unsigned cfg =
        (v0 & kernel::ste0_v) == 0 ? kernel::config::abort : kernel::ste_config(v0);
    d.ats_enabled = cfg == kernel::config::s1_trans && h.enable_ats && d.model.ats;
    if (cfg == kernel::config::s1_trans) {
      physical_ste s = s2_ste(d, vmid);
      s.kind = ste_kind::nested;
      s.dwords[0] = kernel::ste0_v | (std::uint64_t{kernel::config::nested} << 1) |
                    (v0 & ~kernel::ste0_config);
      s.dwords[1] |= h.ste.dwords[1] | kernel::ste1_mev;
      d.ste = s;
    } else if (cfg == kernel::config::bypass) {
      d.ste = s2_ste(d, vmid);
    } else {
      d.ste = abort_ste();
    }
  }
  // Detach on unbind: back to the kernel's blocking state.
  void detach(device_state& d) {
    if (d.hwpt != no_object) --objects_[d.hwpt].users;
    d.hwpt = no_object;
    d.vmaster = false;
    d.ats_enabled = false;
    d.ste = abort_ste();
  }

  [[nodiscard]] static physical_ste abort_ste() noexcept {
    physical_ste s;
    s.kind = ste_kind::abort;
    s.dwords[0] = kernel::ste0_v;
    return s;
  }
  [[nodiscard]] static physical_ste s1_paging_ste() noexcept {
    physical_ste s;
    s.kind = ste_kind::s1_paging;
    s.dwords[0] = kernel::ste0_v | (std::uint64_t{kernel::config::s1_trans} << 1);
    return s;
  }
  [[nodiscard]] physical_ste s2_ste(const device_state& d, std::uint16_t vmid) const noexcept {
    physical_ste s;
    s.kind = ste_kind::s2;
    s.dwords[0] = kernel::ste0_v | (std::uint64_t{kernel::config::s2_trans} << 1);
    if (d.ats_enabled) s.dwords[1] = std::uint64_t{kernel::eats::trans} << 28;
    // SHCFG = incoming when the SMMU can override attributes (SMMU_IDR1.ATTR_TYPES_OVR).
    if ((smmus_[d.model.smmu].config.idr[1] >> 27) & 1) s.dwords[1] |= 1ull << 44;
    s.dwords[2] = vmid & kernel::ste2_s2vmid;
    return s;
  }

  // arm_vsmmu_convert_user_cmd: 0 or EIO.
  [[nodiscard]] int convert(const object& v, invalidation_entry& cmd) const noexcept {
    const std::uint8_t opc = kernel::opcode_of(cmd);
    switch (opc) {
      case kernel::op::tlbi_nsnh_all:
        cmd.cmd[0] = kernel::op::tlbi_nh_all | (std::uint64_t{v.vmid} << 32);
        cmd.cmd[1] = 0;
        return 0;
      case kernel::op::tlbi_nh_va:
      case kernel::op::tlbi_nh_vaa:
      case kernel::op::tlbi_nh_all:
      case kernel::op::tlbi_nh_asid:
        cmd.cmd[0] = (cmd.cmd[0] & ~kernel::cmd0_vmid) | (std::uint64_t{v.vmid} << 32);
        return 0;
      case kernel::op::atc_inv:
      case kernel::op::cfgi_cd:
      case kernel::op::cfgi_cd_all: {
        const std::uint32_t vsid = kernel::sid_of(cmd);
        for (const auto& e : v.vdevs) {
          if (e.first != vsid) continue;
          const device_state* d = device(e.second);
          if (d == nullptr) return EIO;
          cmd.cmd[0] = (cmd.cmd[0] & ~kernel::cmd0_sid) | (std::uint64_t{d->model.stream_id} << 32);
          return 0;
        }
        return EIO;
      }
      default:
        return EIO;
    }
  }
  // arm_smmu_cmdq_issue_cmdlist with a CMD_SYNC.
  int issue(object_id viommu, const std::vector<invalidation_entry>& cmds) {
    ++batches_;
    issued_commands_ += cmds.size();
    int err = 0;
    for (std::size_t i = 0; i < batch_rules_.size(); ++i) {
      if (batch_rules_[i].first == batches_) {
        err = batch_rules_[i].second != 0 ? batch_rules_[i].second : ETIMEDOUT;
        batch_rules_.erase(batch_rules_.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
    if (record_issued_) issued_.push_back(issued_batch{viommu, cmds, err});
    return err;
  }

  void release_vdevice(object& vd) {
    object& v = objects_[vd.parent];
    for (std::size_t i = 0; i < v.vdevs.size(); ++i) {
      if (v.vdevs[i].first == vd.virt_id) {
        v.vdevs.erase(v.vdevs.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
    --v.users;
  }

  // iommufd_object_remove: ENOENT, EBUSY or 0 with every reference it held dropped.
  int destroy_object(object_id id) {
    if (id == no_object || id >= objects_.size() || objects_[id].kind == object_kind::free ||
        objects_[id].tombstone)
      return ENOENT;
    object& o = objects_[id];
    if (o.users != 0) return EBUSY;
    switch (o.kind) {
      case object_kind::hwpt_paging:
        --objects_[o.parent].users;
        if (o.nest_parent) free_vmid(o.smmu, o.vmid);
        break;
      case object_kind::hwpt_nested:
      case object_kind::veventq:
        --objects_[o.parent].users;
        if (o.kind == object_kind::veventq) objects_[o.parent].veventq = no_object;
        break;
      case object_kind::viommu:
        --objects_[o.parent].users;
        break;
      case object_kind::vdevice:
        release_vdevice(o);
        if (device_state* d = device(o.dev)) d->vdevice = no_object;
        break;
      default:
        break;
    }
    objects_[id] = object{};
    return 0;
  }

  kernel_behaviour behaviour_;
  std::vector<object> objects_;  // index = object ID; [0] unused
  std::vector<device_state> devices_;
  std::vector<smmu_state> smmus_;
  std::vector<rule> rules_;
  std::vector<std::pair<std::uint64_t, int>> batch_rules_;
  std::vector<call_record> trace_;
  call_record scratch_;
  bool tracing_ = true;
  std::vector<issued_batch> issued_;
  std::vector<invalidation_entry> converted_;
  bool record_issued_ = true;
  std::uint64_t calls_ = 0;
  std::uint64_t batches_ = 0;
  std::uint64_t issued_commands_ = 0;
  int next_fd_ = 1000;
};

using simulated_kernel = basic_simulated_kernel<>;

static_assert(iommufd_s2_adapter<simulated_kernel>);

}  // namespace vsmmu::accel::iommufd
