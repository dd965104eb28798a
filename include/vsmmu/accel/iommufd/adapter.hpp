// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <array>
#include <cerrno>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>

// The seam between the vSMMU's accelerated mode and the host kernel's iommufd.
//
// In accelerated (nested) mode a passed-through device is translated by the host's physical
// SMMU: the guest owns stage 1, the host kernel owns stage 2 (the nesting-parent HWPT). The vSMMU
// talks to the host only through an `iommufd_adapter`:
//
//   - accel/iommufd/linux.hpp            real ioctls on an iommufd file descriptor;
//   - accel/iommufd/simulated_kernel.hpp an in-process model of the Linux rules, for tests and CI.
//
// The operations mirror the Linux uAPI (include/uapi/linux/iommufd.h, v6.13 and later) one to one,
// so a call trace on the simulated kernel reads like an strace of the real one.
//
// Errors. Every operation returns a value, never throws: `result<T>` holds either a T or a
// `host_error` {errno, operation}. `host_error::message()` gives "IOMMU_VIOMMU_ALLOC failed:
// Invalid argument (errno 22)". Invalidation is the exception to the either/or rule: the kernel
// reports how many entries it handled *and* an error, so it returns `invalidation_result`.
//
// Byte order. STE dwords, commands and event records cross this seam as host-order 64-bit words;
// the adapters put them on the wire little-endian as the uAPI requires (__aligned_le64).
//
// Object IDs are never 0 (iommufd allocates them from 1), so 0 (`no_object`) means "none".
namespace vsmmu::accel::iommufd {

using object_id = std::uint32_t;  // IOAS, HWPT, vIOMMU, vDEVICE, vEVENTQ: one ID space per iommufd
using device_id = std::uint32_t;  // iommufd dev_id from the embedder's VFIO_DEVICE_BIND_IOMMUFD
inline constexpr object_id no_object = 0;

// ---- what failed --------------------------------------------------------------------------

enum class operation : std::uint8_t {
  open,               // open("/dev/iommu")
  get_hw_info,        // IOMMU_GET_HW_INFO
  alloc_ioas,         // IOMMU_IOAS_ALLOC
  alloc_s2_hwpt,      // IOMMU_HWPT_ALLOC on an IOAS (kernel-managed, e.g. the nesting parent)
  alloc_viommu,       // IOMMU_VIOMMU_ALLOC
  alloc_vdevice,      // IOMMU_VDEVICE_ALLOC
  alloc_nested_hwpt,  // IOMMU_HWPT_ALLOC on a vIOMMU, data type ARM_SMMUV3
  attach,             // VFIO_DEVICE_ATTACH_IOMMUFD_PT (replaces the current attachment)
  destroy,            // IOMMU_DESTROY
  invalidate,         // IOMMU_HWPT_INVALIDATE on a vIOMMU
  alloc_veventq,      // IOMMU_VEVENTQ_ALLOC
  read_veventq,       // read() on the vEVENTQ file descriptor
  free_veventq,       // close() the vEVENTQ file descriptor, then IOMMU_DESTROY
};
inline constexpr std::size_t operation_count = 13;

[[nodiscard]] constexpr const char* operation_name(operation op) noexcept {
  switch (op) {
    case operation::open:
      return "open(/dev/iommu)";
    case operation::get_hw_info:
      return "IOMMU_GET_HW_INFO";
    case operation::alloc_ioas:
      return "IOMMU_IOAS_ALLOC";
    case operation::alloc_s2_hwpt:
      return "IOMMU_HWPT_ALLOC";
    case operation::alloc_viommu:
      return "IOMMU_VIOMMU_ALLOC";
    case operation::alloc_vdevice:
      return "IOMMU_VDEVICE_ALLOC";
    case operation::alloc_nested_hwpt:
      return "IOMMU_HWPT_ALLOC";
    case operation::attach:
      return "VFIO_DEVICE_ATTACH_IOMMUFD_PT";
    case operation::destroy:
      return "IOMMU_DESTROY";
    case operation::invalidate:
      return "IOMMU_HWPT_INVALIDATE";
    case operation::alloc_veventq:
      return "IOMMU_VEVENTQ_ALLOC";
    case operation::read_veventq:
      return "read(vEVENTQ)";
    case operation::free_veventq:
      return "close(vEVENTQ)";
  }
  return "?";
}

// The symbolic name of the errno values iommufd and VFIO return ("EINVAL"), or nullptr.
[[nodiscard]] constexpr const char* errno_name(int e) noexcept {
  switch (e) {
    case EPERM:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    case EINTR:
      return "EINTR";
    case EIO:
      return "EIO";
    case ENXIO:
      return "ENXIO";
    case E2BIG:
      return "E2BIG";
    case EBADF:
      return "EBADF";
    case EAGAIN:
      return "EAGAIN";
    case ENOMEM:
      return "ENOMEM";
    case EACCES:
      return "EACCES";
    case EFAULT:
      return "EFAULT";
    case EBUSY:
      return "EBUSY";
    case EEXIST:
      return "EEXIST";
    case ENODEV:
      return "ENODEV";
    case EINVAL:
      return "EINVAL";
    case ENOSPC:
      return "ENOSPC";
    case ERANGE:
      return "ERANGE";
    case ENOTTY:
      return "ENOTTY";
    case EOVERFLOW:
      return "EOVERFLOW";
    case EOPNOTSUPP:
      return "EOPNOTSUPP";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    default:
      return nullptr;
  }
}

// An errno from the host and the operation that returned it. code == 0 means "no error".
struct host_error {
  int code = 0;
  operation op = operation::open;

  [[nodiscard]] constexpr bool failed() const noexcept { return code != 0; }
  // "IOMMU_VDEVICE_ALLOC failed: File exists (errno 17)"
  [[nodiscard]] std::string message() const {
    if (code == 0) return std::string(operation_name(op)) + " succeeded";
    return std::string(operation_name(op)) + " failed: " + std::generic_category().message(code) +
           " (errno " + std::to_string(code) + ")";
  }
  friend constexpr bool operator==(const host_error&, const host_error&) = default;
};

// Either a T or a host_error. Default-constructible T only (IDs, small structs). Reading value()
// of a failed result gives a value-initialised T, never UB.
template <class T>
class [[nodiscard]] result {
 public:
  constexpr result(T v) noexcept : value_(v) {}  // NOLINT: implicit on purpose
  // A failure; an error with code 0 is turned into EIO so that a result built from an error is
  // never mistaken for success.
  constexpr result(host_error e) noexcept : error_(e) {  // NOLINT
    if (error_.code == 0) error_.code = EIO;
  }

  [[nodiscard]] constexpr bool ok() const noexcept { return error_.code == 0; }
  constexpr explicit operator bool() const noexcept { return ok(); }
  [[nodiscard]] constexpr const T& value() const noexcept { return value_; }
  [[nodiscard]] constexpr const T& operator*() const noexcept { return value_; }
  [[nodiscard]] constexpr const T* operator->() const noexcept { return &value_; }
  [[nodiscard]] constexpr const host_error& error() const noexcept { return error_; }
  [[nodiscard]] constexpr int err() const noexcept { return error_.code; }

 private:
  T value_{};
  host_error error_{};
};

template <>
class [[nodiscard]] result<void> {
 public:
  constexpr result() noexcept = default;
  constexpr result(host_error e) noexcept : error_(e) {  // NOLINT
    if (error_.code == 0) error_.code = EIO;
  }
  [[nodiscard]] constexpr bool ok() const noexcept { return error_.code == 0; }
  constexpr explicit operator bool() const noexcept { return ok(); }
  [[nodiscard]] constexpr const host_error& error() const noexcept { return error_; }
  [[nodiscard]] constexpr int err() const noexcept { return error_.code; }

 private:
  host_error error_{};
};

[[nodiscard]] constexpr host_error fail(operation op, int errno_value) noexcept {
  return host_error{errno_value, op};
}

// ---- values crossing the seam -------------------------------------------------------------

// enum iommu_hw_info_type
enum class hw_info_type : std::uint32_t {
  none = 0,  // also IOMMU_HW_INFO_TYPE_DEFAULT as an input
  intel_vtd = 1,
  arm_smmuv3 = 2,
  tegra241_cmdqv = 3,
};

// enum iommu_viommu_type
enum class viommu_type : std::uint32_t {
  default_type = 0,  // reserved: the kernel refuses it (EOPNOTSUPP)
  arm_smmuv3 = 1,
  tegra241_cmdqv = 2,
};

// enum iommufd_hw_capabilities (iommu_hw_info::out_capabilities)
namespace hw_cap {
inline constexpr std::uint64_t dirty_tracking = 1u << 0;
inline constexpr std::uint64_t pci_pasid_exec = 1u << 1;
inline constexpr std::uint64_t pci_pasid_priv = 1u << 2;
}  // namespace hw_cap

// enum iommufd_hwpt_alloc_flags
namespace hwpt_flag {
inline constexpr std::uint32_t nest_parent = 1u << 0;
inline constexpr std::uint32_t dirty_tracking = 1u << 1;
inline constexpr std::uint32_t fault_id_valid = 1u << 2;
inline constexpr std::uint32_t pasid = 1u << 3;
}  // namespace hwpt_flag

// IOMMU_GET_HW_INFO for one device: the generic part and, for type arm_smmuv3, the physical
// SMMU's ID registers (struct iommu_hw_info_arm_smmuv3). The uAPI lets a VMM read only these
// fields: IDR0 ST_LEVEL, TERM_MODEL, STALL_MODEL, TTENDIAN, CD2L, ASID16, TTF; IDR1 SIDSIZE,
// SSIDSIZE; IDR3 BBML, RIL; IDR5 VAX, GRAN64K, GRAN16K, GRAN4K. ATS is a per-device property.
struct hw_info {
  hw_info_type type = hw_info_type::none;  // out_data_type
  std::uint32_t flags = 0;                 // iommu_hw_info_arm_smmuv3::flags (0 today)
  std::array<std::uint32_t, 6> idr{};      // SMMU_IDR0..IDR5
  std::uint32_t iidr = 0;                  // SMMU_IIDR
  std::uint32_t aidr = 0;                  // SMMU_AIDR
  std::uint64_t capabilities = 0;          // out_capabilities (hw_cap::*)
  std::uint8_t max_pasid_log2 = 0;         // out_max_pasid_log2: 0 = no PASID

  [[nodiscard]] constexpr bool has_pasid() const noexcept { return max_pasid_log2 != 0; }
  // The uAPI says to ignore EXEC/PRIV when the PASID width is 0.
  [[nodiscard]] constexpr bool pasid_exec() const noexcept {
    return has_pasid() && (capabilities & hw_cap::pci_pasid_exec) != 0;
  }
  [[nodiscard]] constexpr bool pasid_priv() const noexcept {
    return has_pasid() && (capabilities & hw_cap::pci_pasid_priv) != 0;
  }
  [[nodiscard]] constexpr bool dirty_tracking() const noexcept {
    return (capabilities & hw_cap::dirty_tracking) != 0;
  }
  friend constexpr bool operator==(const hw_info&, const hw_info&) = default;
};

// The first two dwords of a guest STE, host order (struct iommu_hwpt_arm_smmuv3).
struct nested_ste {
  std::array<std::uint64_t, 2> dwords{};
  friend constexpr bool operator==(const nested_ste&, const nested_ste&) = default;
};

// One 16-byte command-queue entry, host order (struct iommu_viommu_arm_smmuv3_invalidate).
struct invalidation_entry {
  std::array<std::uint64_t, 2> cmd{};
  friend constexpr bool operator==(const invalidation_entry&, const invalidation_entry&) = default;
};
inline constexpr std::uint32_t invalidation_entry_size = 16;  // entry_len

// IOMMU_HWPT_INVALIDATE's answer: entry_num as the kernel wrote it back (how many entries it
// handled) and the ioctl's error. handled < entries.size() with an error: entries [0, handled)
// were handled, entry `handled` is where it stopped (see simulated_kernel.hpp for what the
// SMMUv3 driver really issued in that case).
struct invalidation_result {
  std::uint32_t handled = 0;
  host_error error{};
  [[nodiscard]] constexpr bool ok() const noexcept { return error.code == 0; }
};

// A vEVENTQ: its object ID and the file descriptor its records are read from. On the simulated
// kernel `fd` is a handle with no meaning to the OS.
struct veventq {
  object_id id = no_object;
  int fd = -1;
  friend constexpr bool operator==(const veventq&, const veventq&) = default;
};

// enum iommu_veventq_flag
inline constexpr std::uint32_t vevent_flag_lost_events = 1u << 0;

// One record read from a vEVENTQ: struct iommufd_vevent_header {flags, sequence} followed, unless
// it is a lost-events marker, by struct iommu_vevent_arm_smmuv3 (the 32-byte SMMUv3 event record,
// StreamID already rewritten to the vSID by the kernel). Sequence numbers run 0..INT_MAX and wrap
// to 0; a gap of d > 1 between consecutive records means d - 1 events were lost; a trailing
// lost-events record (no payload, `event` all zero) says events were lost after the last one.
struct vevent_record {
  std::uint32_t flags = 0;
  std::uint32_t sequence = 0;
  std::array<std::uint64_t, 4> event{};

  [[nodiscard]] constexpr bool lost_events() const noexcept {
    return (flags & vevent_flag_lost_events) != 0;
  }
  friend constexpr bool operator==(const vevent_record&, const vevent_record&) = default;
};

// ---- the concept --------------------------------------------------------------------------

// What the vSMMU's accelerated mode needs from the host. All calls are synchronous; an adapter is
// not required to be thread-safe (the vSMMU serialises its calls).
//
//   get_hw_info(dev)                      IOMMU_GET_HW_INFO
//   alloc_viommu(dev, type, s2_hwpt)      IOMMU_VIOMMU_ALLOC on the nesting-parent HWPT  -> ID
//   alloc_vdevice(viommu, dev, virt_id)   IOMMU_VDEVICE_ALLOC, virt_id = vSID            -> ID
//   alloc_nested_hwpt(dev, viommu, flags, ste)
//                                         IOMMU_HWPT_ALLOC, pt_id = vIOMMU, data type
//                                         IOMMU_HWPT_DATA_ARM_SMMUV3                    -> ID
//   attach(dev, pt)                       VFIO_DEVICE_ATTACH_IOMMUFD_PT: replaces whatever the
//                                         device was attached to, in one step
//   destroy(id)                           IOMMU_DESTROY (EBUSY while the object is in use)
//   invalidate(viommu, entries)           IOMMU_HWPT_INVALIDATE, data type
//                                         IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, entry_len 16
//   alloc_veventq(viommu, depth)          IOMMU_VEVENTQ_ALLOC, type ARM_SMMUV3            -> queue
//   read_veventq(q, out)                  non-blocking read of up to out.size() records  -> count
//                                         (0 when the queue is empty)
//   free_veventq(q)                       close the fd (it holds the object), then IOMMU_DESTROY
template <class A>
concept iommufd_adapter = requires(A& a, device_id dev, object_id id, viommu_type type,
                                   std::uint32_t u32, std::uint64_t virt_id, const nested_ste& ste,
                                   std::span<const invalidation_entry> entries, const veventq& q,
                                   std::span<vevent_record> out) {
  { a.get_hw_info(dev) } -> std::same_as<result<hw_info>>;
  { a.alloc_viommu(dev, type, id) } -> std::same_as<result<object_id>>;
  { a.alloc_vdevice(id, dev, virt_id) } -> std::same_as<result<object_id>>;
  { a.alloc_nested_hwpt(dev, id, u32, ste) } -> std::same_as<result<object_id>>;
  { a.attach(dev, id) } -> std::same_as<result<void>>;
  { a.destroy(id) } -> std::same_as<result<void>>;
  { a.invalidate(id, entries) } -> std::same_as<invalidation_result>;
  { a.alloc_veventq(id, u32) } -> std::same_as<result<veventq>>;
  { a.read_veventq(q, out) } -> std::same_as<result<std::size_t>>;
  { a.free_veventq(q) } -> std::same_as<result<void>>;
};

// What an embedder (or a test) needs to build the stage-2 side the vIOMMU sits on: an IOAS and a
// kernel-managed HWPT on it, allocated with hwpt_flag::nest_parent. Both adapters provide it; the
// vSMMU itself receives the nesting-parent HWPT ID from the embedder and never needs this.
template <class A>
concept iommufd_s2_adapter = iommufd_adapter<A> &&
    requires(A& a, device_id dev, object_id id, std::uint32_t flags) {
  { a.alloc_ioas() } -> std::same_as<result<object_id>>;
  { a.alloc_s2_hwpt(dev, id, flags) } -> std::same_as<result<object_id>>;
};

}  // namespace vsmmu::accel::iommufd
