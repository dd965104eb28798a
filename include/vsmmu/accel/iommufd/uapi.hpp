// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstddef>
#include <cstdint>

// Our own definitions of the parts of the Linux iommufd and VFIO-cdev uAPI the accelerated mode
// uses. Distribution kernel headers (Debian 12's 6.1) predate vIOMMU, vDEVICE and vEVENTQ, so
// vsmmu cannot rely on <linux/iommufd.h>.
//
// Checked against include/uapi/linux/iommufd.h and include/uapi/linux/vfio.h as of Linux 6.17
// (vIOMMU and vDEVICE arrived in 6.13, vEVENTQ in 6.15; vIOMMU driver data, the hw_info input
// type and the PASID fields are later additions that older kernels see as zero padding).
// Every structure is extensible the iommufd way: the first u32 is its size, and a kernel accepts a
// larger structure than it knows if the extra bytes are zero. We always send the sizes below with
// unused fields zero, which older kernels (6.13+) accept.
//
// Field names follow the uAPI; layouts are pinned by static_asserts (sizes and offsets), so a
// mistake here cannot compile. __aligned_u64 / __aligned_le64 are alignas(8) 64-bit fields.
namespace vsmmu::accel::iommufd::uapi {

// ---- ioctl numbers ---------------------------------------------------------------------------

// The generic Linux encoding (x86, arm, arm64, riscv): dir [31:30], size [29:16], type [15:8],
// nr [7:0]. iommufd and VFIO ioctls are all _IO (dir 0, size 0): the size travels in the struct.
[[nodiscard]] constexpr unsigned long ioc(unsigned dir, unsigned type, unsigned nr,
                                          unsigned size) noexcept {
  return (static_cast<unsigned long>(dir) << 30) | (static_cast<unsigned long>(size) << 16) |
         (static_cast<unsigned long>(type) << 8) | static_cast<unsigned long>(nr);
}
[[nodiscard]] constexpr unsigned long io(unsigned type, unsigned nr) noexcept {
  return ioc(0, type, nr, 0);
}

inline constexpr unsigned iommufd_type = ';';  // IOMMUFD_TYPE
inline constexpr unsigned vfio_type = ';';     // VFIO_TYPE
inline constexpr unsigned vfio_base = 100;     // VFIO_BASE

// enum { IOMMUFD_CMD_* }
namespace cmd {
inline constexpr unsigned destroy = 0x80;
inline constexpr unsigned ioas_alloc = 0x81;
inline constexpr unsigned hwpt_alloc = 0x89;
inline constexpr unsigned get_hw_info = 0x8a;
inline constexpr unsigned hwpt_invalidate = 0x8d;
inline constexpr unsigned viommu_alloc = 0x90;
inline constexpr unsigned vdevice_alloc = 0x91;
inline constexpr unsigned veventq_alloc = 0x93;
}  // namespace cmd

inline constexpr unsigned long iommu_destroy = io(iommufd_type, cmd::destroy);
inline constexpr unsigned long iommu_ioas_alloc = io(iommufd_type, cmd::ioas_alloc);
inline constexpr unsigned long iommu_hwpt_alloc = io(iommufd_type, cmd::hwpt_alloc);
inline constexpr unsigned long iommu_get_hw_info = io(iommufd_type, cmd::get_hw_info);
inline constexpr unsigned long iommu_hwpt_invalidate = io(iommufd_type, cmd::hwpt_invalidate);
inline constexpr unsigned long iommu_viommu_alloc = io(iommufd_type, cmd::viommu_alloc);
inline constexpr unsigned long iommu_vdevice_alloc = io(iommufd_type, cmd::vdevice_alloc);
inline constexpr unsigned long iommu_veventq_alloc = io(iommufd_type, cmd::veventq_alloc);
// On the VFIO device cdev (/dev/vfio/devices/vfioN), not on the iommufd.
inline constexpr unsigned long vfio_device_bind_iommufd = io(vfio_type, vfio_base + 18);
inline constexpr unsigned long vfio_device_attach_iommufd_pt = io(vfio_type, vfio_base + 19);
inline constexpr unsigned long vfio_device_detach_iommufd_pt = io(vfio_type, vfio_base + 20);

static_assert(iommu_destroy == 0x3B80);
static_assert(iommu_hwpt_alloc == 0x3B89);
static_assert(iommu_get_hw_info == 0x3B8A);
static_assert(iommu_hwpt_invalidate == 0x3B8D);
static_assert(iommu_viommu_alloc == 0x3B90);
static_assert(iommu_vdevice_alloc == 0x3B91);
static_assert(iommu_veventq_alloc == 0x3B93);
static_assert(vfio_device_bind_iommufd == 0x3B76);
static_assert(vfio_device_attach_iommufd_pt == 0x3B77);

// ---- data-type and flag values ------------------------------------------------------------

inline constexpr std::uint32_t hwpt_data_none = 0;        // IOMMU_HWPT_DATA_NONE
inline constexpr std::uint32_t hwpt_data_arm_smmuv3 = 2;  // IOMMU_HWPT_DATA_ARM_SMMUV3
inline constexpr std::uint32_t invalidate_data_arm_smmuv3 =
    1;  // IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3
inline constexpr std::uint32_t veventq_type_arm_smmuv3 = 1;  // IOMMU_VEVENTQ_TYPE_ARM_SMMUV3
inline constexpr std::uint32_t hw_info_flag_input_type = 1;  // IOMMU_HW_INFO_FLAG_INPUT_TYPE (6.17)

// ---- structures ------------------------------------------------------------------------------

// ioctl(IOMMU_DESTROY)
struct destroy {
  std::uint32_t size;
  std::uint32_t id;
};
static_assert(sizeof(destroy) == 8);
static_assert(offsetof(destroy, id) == 4);

// ioctl(IOMMU_IOAS_ALLOC)
struct ioas_alloc {
  std::uint32_t size;
  std::uint32_t flags;
  std::uint32_t out_ioas_id;
};
static_assert(sizeof(ioas_alloc) == 12);
static_assert(offsetof(ioas_alloc, out_ioas_id) == 8);

// ioctl(IOMMU_HWPT_ALLOC); fault_id/__reserved2 since 6.11.
struct hwpt_alloc {
  std::uint32_t size;
  std::uint32_t flags;
  std::uint32_t dev_id;
  std::uint32_t pt_id;
  std::uint32_t out_hwpt_id;
  std::uint32_t reserved;
  std::uint32_t data_type;
  std::uint32_t data_len;
  alignas(8) std::uint64_t data_uptr;
  std::uint32_t fault_id;
  std::uint32_t reserved2;
};
static_assert(sizeof(hwpt_alloc) == 48);
static_assert(offsetof(hwpt_alloc, dev_id) == 8);
static_assert(offsetof(hwpt_alloc, pt_id) == 12);
static_assert(offsetof(hwpt_alloc, out_hwpt_id) == 16);
static_assert(offsetof(hwpt_alloc, data_type) == 24);
static_assert(offsetof(hwpt_alloc, data_len) == 28);
static_assert(offsetof(hwpt_alloc, data_uptr) == 32);
static_assert(offsetof(hwpt_alloc, fault_id) == 40);

// struct iommu_hwpt_arm_smmuv3: STE dwords 0 and 1, little-endian.
struct hwpt_arm_smmuv3 {
  alignas(8) std::uint64_t ste[2];
};
static_assert(sizeof(hwpt_arm_smmuv3) == 16);

// struct iommu_hw_info_arm_smmuv3
struct hw_info_arm_smmuv3 {
  std::uint32_t flags;
  std::uint32_t reserved;
  std::uint32_t idr[6];
  std::uint32_t iidr;
  std::uint32_t aidr;
};
static_assert(sizeof(hw_info_arm_smmuv3) == 40);
static_assert(offsetof(hw_info_arm_smmuv3, idr) == 8);
static_assert(offsetof(hw_info_arm_smmuv3, iidr) == 32);
static_assert(offsetof(hw_info_arm_smmuv3, aidr) == 36);

// ioctl(IOMMU_GET_HW_INFO); out_capabilities since 6.7, out_max_pasid_log2 added with PASID.
struct hw_info {
  std::uint32_t size;
  std::uint32_t flags;
  std::uint32_t dev_id;
  std::uint32_t data_len;
  alignas(8) std::uint64_t data_uptr;
  std::uint32_t data_type;  // in_data_type / out_data_type (a union in the uAPI)
  std::uint8_t out_max_pasid_log2;
  std::uint8_t reserved[3];
  alignas(8) std::uint64_t out_capabilities;
};
static_assert(sizeof(hw_info) == 40);
static_assert(offsetof(hw_info, data_len) == 12);
static_assert(offsetof(hw_info, data_uptr) == 16);
static_assert(offsetof(hw_info, data_type) == 24);
static_assert(offsetof(hw_info, out_max_pasid_log2) == 28);
static_assert(offsetof(hw_info, out_capabilities) == 32);

// ioctl(IOMMU_HWPT_INVALIDATE)
struct hwpt_invalidate {
  std::uint32_t size;
  std::uint32_t hwpt_id;  // a nested HWPT or, for SMMUv3, the vIOMMU
  alignas(8) std::uint64_t data_uptr;
  std::uint32_t data_type;
  std::uint32_t entry_len;
  std::uint32_t entry_num;  // in: entries; out: entries handled
  std::uint32_t reserved;
};
static_assert(sizeof(hwpt_invalidate) == 32);
static_assert(offsetof(hwpt_invalidate, data_uptr) == 8);
static_assert(offsetof(hwpt_invalidate, data_type) == 16);
static_assert(offsetof(hwpt_invalidate, entry_len) == 20);
static_assert(offsetof(hwpt_invalidate, entry_num) == 24);

// struct iommu_viommu_arm_smmuv3_invalidate: one command-queue entry, little-endian.
struct viommu_arm_smmuv3_invalidate {
  alignas(8) std::uint64_t cmd[2];
};
static_assert(sizeof(viommu_arm_smmuv3_invalidate) == 16);

// ioctl(IOMMU_VIOMMU_ALLOC); data_len/__reserved/data_uptr came with driver data (6.13 knows
// the first 24 bytes).
struct viommu_alloc {
  std::uint32_t size;
  std::uint32_t flags;
  std::uint32_t type;
  std::uint32_t dev_id;
  std::uint32_t hwpt_id;
  std::uint32_t out_viommu_id;
  std::uint32_t data_len;
  std::uint32_t reserved;
  alignas(8) std::uint64_t data_uptr;
};
static_assert(sizeof(viommu_alloc) == 40);
static_assert(offsetof(viommu_alloc, type) == 8);
static_assert(offsetof(viommu_alloc, dev_id) == 12);
static_assert(offsetof(viommu_alloc, hwpt_id) == 16);
static_assert(offsetof(viommu_alloc, out_viommu_id) == 20);
static_assert(offsetof(viommu_alloc, data_uptr) == 32);

// ioctl(IOMMU_VDEVICE_ALLOC)
struct vdevice_alloc {
  std::uint32_t size;
  std::uint32_t viommu_id;
  std::uint32_t dev_id;
  std::uint32_t out_vdevice_id;
  alignas(8) std::uint64_t virt_id;
};
static_assert(sizeof(vdevice_alloc) == 24);
static_assert(offsetof(vdevice_alloc, out_vdevice_id) == 12);
static_assert(offsetof(vdevice_alloc, virt_id) == 16);

// ioctl(IOMMU_VEVENTQ_ALLOC)
struct veventq_alloc {
  std::uint32_t size;
  std::uint32_t flags;
  std::uint32_t viommu_id;
  std::uint32_t type;
  std::uint32_t veventq_depth;
  std::uint32_t out_veventq_id;
  std::uint32_t out_veventq_fd;
  std::uint32_t reserved;
};
static_assert(sizeof(veventq_alloc) == 32);
static_assert(offsetof(veventq_alloc, veventq_depth) == 16);
static_assert(offsetof(veventq_alloc, out_veventq_id) == 20);
static_assert(offsetof(veventq_alloc, out_veventq_fd) == 24);

// struct iommufd_vevent_header, read() from a vEVENTQ before each record.
struct vevent_header {
  std::uint32_t flags;
  std::uint32_t sequence;
};
static_assert(sizeof(vevent_header) == 8);

// struct iommu_vevent_arm_smmuv3: the 32-byte event record, little-endian.
struct vevent_arm_smmuv3 {
  alignas(8) std::uint64_t evt[4];
};
static_assert(sizeof(vevent_arm_smmuv3) == 32);

// ioctl(VFIO_DEVICE_BIND_IOMMUFD) on a VFIO device cdev.
struct vfio_bind_iommufd {
  std::uint32_t argsz;
  std::uint32_t flags;
  std::int32_t iommufd;
  std::uint32_t out_devid;
};
static_assert(sizeof(vfio_bind_iommufd) == 16);
static_assert(offsetof(vfio_bind_iommufd, out_devid) == 12);

// ioctl(VFIO_DEVICE_ATTACH_IOMMUFD_PT) on a VFIO device cdev; pasid (with flag
// VFIO_DEVICE_ATTACH_PASID) came later. argsz = 12 (up to pt_id) works on every kernel.
struct vfio_attach_iommufd_pt {
  std::uint32_t argsz;
  std::uint32_t flags;
  std::uint32_t pt_id;
  std::uint32_t pasid;
};
static_assert(sizeof(vfio_attach_iommufd_pt) == 16);
static_assert(offsetof(vfio_attach_iommufd_pt, pt_id) == 8);
inline constexpr std::uint32_t vfio_attach_iommufd_pt_minsz = 12;

}  // namespace vsmmu::accel::iommufd::uapi
