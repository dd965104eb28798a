// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/accel/iommufd/adapter.hpp>
#include <vsmmu/accel/iommufd/uapi.hpp>

#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

// The iommufd adapter for a real Linux host: ioctls on an iommufd file descriptor the embedder
// opened (open_iommufd() below, or its own), VFIO_DEVICE_ATTACH_IOMMUFD_PT on the VFIO device
// cdev of each passed-through device.
//
// Devices. The embedder binds each VFIO cdev (/dev/vfio/devices/vfioN) to the iommufd with
// VFIO_DEVICE_BIND_IOMMUFD, which returns the device's iommufd dev_id; it then tells the adapter
// which cdev fd belongs to that dev_id (add_device), because attach is an ioctl on the cdev, not
// on the iommufd. bind_device() does both for embedders that let vsmmu bind.
//
// File descriptors stay the embedder's: the adapter closes only vEVENTQ fds it was handed by
// IOMMU_VEVENTQ_ALLOC (in free_veventq).
//
// Only for Linux; on other systems this header declares nothing.
#if defined(__linux__)
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace vsmmu::accel::iommufd {

// Our encoding of the ioctl numbers equals the system's _IO on this architecture.
static_assert(uapi::iommu_destroy == _IO(';', 0x80));
static_assert(uapi::iommu_veventq_alloc == _IO(';', 0x93));
static_assert(uapi::vfio_device_attach_iommufd_pt == _IO(';', 100 + 19));

namespace detail {
[[nodiscard]] constexpr std::uint64_t swap64(std::uint64_t v) noexcept {
  v = ((v & 0x00FF00FF00FF00FFull) << 8) | ((v >> 8) & 0x00FF00FF00FF00FFull);
  v = ((v & 0x0000FFFF0000FFFFull) << 16) | ((v >> 16) & 0x0000FFFF0000FFFFull);
  return (v << 32) | (v >> 32);
}
// Host order <-> little-endian (the uAPI's __le64).
[[nodiscard]] constexpr std::uint64_t le64(std::uint64_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    return v;
  } else {
    return swap64(v);
  }
}
[[nodiscard]] inline std::uint64_t user_ptr(const void* p) noexcept {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
}
}  // namespace detail

// Opens the iommufd character device (O_RDWR | O_CLOEXEC). A host without iommufd has no
// /dev/iommu: the result is ENOENT with operation::open; describe_open_failure() explains it.
[[nodiscard]] inline result<int> open_iommufd(const char* path = "/dev/iommu") noexcept {
  for (;;) {
    const int fd = ::open(path, O_RDWR | O_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno != EINTR) return fail(operation::open, errno);
  }
}

// "cannot open /dev/iommu: No such file or directory (errno 2): this host has no iommufd ..."
[[nodiscard]] inline std::string describe_open_failure(const host_error& e,
                                                       const char* path = "/dev/iommu") {
  std::string s = std::string("cannot open ") + path + ": " +
                  std::generic_category().message(e.code) + " (errno " + std::to_string(e.code) +
                  ")";
  if (e.code == ENOENT || e.code == ENODEV || e.code == ENXIO) {
    s += ": this host has no iommufd (it needs Linux 6.13 or later built with CONFIG_IOMMUFD, "
         "the iommufd module loaded, and an SMMUv3 with nesting for accelerated mode)";
  } else if (e.code == EACCES || e.code == EPERM) {
    s += ": the VMM lacks permission to open it (check the device node's owner and mode)";
  }
  return s;
}

class linux_adapter {
 public:
  // `iommufd`: an open iommufd (not owned; the embedder closes it after the adapter is gone).
  explicit linux_adapter(int iommufd) noexcept : fd_(iommufd) {}

  [[nodiscard]] int fd() const noexcept { return fd_; }

  // The VFIO cdev fd of a device the embedder bound to this iommufd (dev_id from
  // VFIO_DEVICE_BIND_IOMMUFD). Re-adding a dev_id replaces its fd.
  void add_device(device_id dev, int vfio_cdev_fd) {
    for (auto& d : devices_) {
      if (d.first == dev) {
        d.second = vfio_cdev_fd;
        return;
      }
    }
    devices_.emplace_back(dev, vfio_cdev_fd);
  }
  void remove_device(device_id dev) noexcept {
    for (std::size_t i = 0; i < devices_.size(); ++i) {
      if (devices_[i].first == dev) {
        devices_[i] = devices_.back();
        devices_.pop_back();
        return;
      }
    }
  }

  // VFIO_DEVICE_BIND_IOMMUFD on the cdev, then add_device. (Reported as operation::attach: it is
  // the VFIO side of the device's iommufd connection.)
  [[nodiscard]] result<device_id> bind_device(int vfio_cdev_fd) {
    uapi::vfio_bind_iommufd b{};
    b.argsz = sizeof(b);
    b.iommufd = fd_;
    if (const int e = do_ioctl(vfio_cdev_fd, uapi::vfio_device_bind_iommufd, &b); e != 0)
      return fail(operation::attach, e);
    add_device(b.out_devid, vfio_cdev_fd);
    return device_id{b.out_devid};
  }

  // ---- iommufd_adapter --------------------------------------------------------------------

  [[nodiscard]] result<hw_info> get_hw_info(device_id dev) noexcept {
    uapi::hw_info_arm_smmuv3 data{};
    uapi::hw_info c{};
    c.size = sizeof(c);
    c.dev_id = dev;
    c.data_len = sizeof(data);
    c.data_uptr = detail::user_ptr(&data);
    if (const int e = do_ioctl(fd_, uapi::iommu_get_hw_info, &c); e != 0)
      return fail(operation::get_hw_info, e);
    hw_info out;
    out.type = static_cast<hw_info_type>(c.data_type);
    out.capabilities = c.out_capabilities;
    out.max_pasid_log2 = c.out_max_pasid_log2;
    if (out.type == hw_info_type::arm_smmuv3) {
      out.flags = data.flags;
      for (std::size_t i = 0; i < 6; ++i) out.idr[i] = data.idr[i];
      out.iidr = data.iidr;
      out.aidr = data.aidr;
    }
    return out;
  }

  [[nodiscard]] result<object_id> alloc_viommu(device_id dev, viommu_type type,
                                               object_id s2_hwpt) noexcept {
    uapi::viommu_alloc c{};
    c.size = sizeof(c);
    c.type = static_cast<std::uint32_t>(type);
    c.dev_id = dev;
    c.hwpt_id = s2_hwpt;
    if (const int e = do_ioctl(fd_, uapi::iommu_viommu_alloc, &c); e != 0)
      return fail(operation::alloc_viommu, e);
    return object_id{c.out_viommu_id};
  }

  [[nodiscard]] result<object_id> alloc_vdevice(object_id viommu, device_id dev,
                                                std::uint64_t virt_id) noexcept {
    uapi::vdevice_alloc c{};
    c.size = sizeof(c);
    c.viommu_id = viommu;
    c.dev_id = dev;
    c.virt_id = virt_id;
    if (const int e = do_ioctl(fd_, uapi::iommu_vdevice_alloc, &c); e != 0)
      return fail(operation::alloc_vdevice, e);
    return object_id{c.out_vdevice_id};
  }

  [[nodiscard]] result<object_id> alloc_nested_hwpt(device_id dev, object_id viommu,
                                                    std::uint32_t flags,
                                                    const nested_ste& ste) noexcept {
    uapi::hwpt_arm_smmuv3 data{};
    data.ste[0] = detail::le64(ste.dwords[0]);
    data.ste[1] = detail::le64(ste.dwords[1]);
    uapi::hwpt_alloc c{};
    c.size = sizeof(c);
    c.flags = flags;
    c.dev_id = dev;
    c.pt_id = viommu;
    c.data_type = uapi::hwpt_data_arm_smmuv3;
    c.data_len = sizeof(data);
    c.data_uptr = detail::user_ptr(&data);
    if (const int e = do_ioctl(fd_, uapi::iommu_hwpt_alloc, &c); e != 0)
      return fail(operation::alloc_nested_hwpt, e);
    return object_id{c.out_hwpt_id};
  }

  [[nodiscard]] result<void> attach(device_id dev, object_id pt) noexcept {
    const int cdev = cdev_of(dev);
    if (cdev < 0) return fail(operation::attach, ENOENT);  // no cdev registered for dev
    uapi::vfio_attach_iommufd_pt c{};
    c.argsz = uapi::vfio_attach_iommufd_pt_minsz;
    c.pt_id = pt;
    if (const int e = do_ioctl(cdev, uapi::vfio_device_attach_iommufd_pt, &c); e != 0)
      return fail(operation::attach, e);
    return {};
  }

  [[nodiscard]] result<void> destroy(object_id id) noexcept {
    uapi::destroy c{};
    c.size = sizeof(c);
    c.id = id;
    if (const int e = do_ioctl(fd_, uapi::iommu_destroy, &c); e != 0)
      return fail(operation::destroy, e);
    return {};
  }

  [[nodiscard]] invalidation_result invalidate(object_id viommu,
                                               std::span<const invalidation_entry> entries) {
    invalidation_result r;
    if (entries.size() > UINT32_MAX) {
      r.error = fail(operation::invalidate, EINVAL);
      return r;
    }
    static_assert(sizeof(invalidation_entry) == sizeof(uapi::viommu_arm_smmuv3_invalidate));
    uapi::hwpt_invalidate c{};
    c.size = sizeof(c);
    c.hwpt_id = viommu;
    c.data_type = uapi::invalidate_data_arm_smmuv3;
    c.entry_len = invalidation_entry_size;
    c.entry_num = static_cast<std::uint32_t>(entries.size());
    std::vector<uapi::viommu_arm_smmuv3_invalidate> swapped;
    if constexpr (std::endian::native == std::endian::little) {
      c.data_uptr = detail::user_ptr(entries.data());  // already the wire format
    } else {
      swapped.resize(entries.size());
      for (std::size_t i = 0; i < entries.size(); ++i) {
        swapped[i].cmd[0] = detail::le64(entries[i].cmd[0]);
        swapped[i].cmd[1] = detail::le64(entries[i].cmd[1]);
      }
      c.data_uptr = detail::user_ptr(swapped.data());
    }
    const std::uint32_t asked = c.entry_num;
    const int e = do_ioctl(fd_, uapi::iommu_hwpt_invalidate, &c);
    if (e == 0) {
      r.handled = asked;
    } else {
      // On a failure the driver reports fewer than asked (k when entry k fails to convert, the
      // last of a batch whose issue failed). entry_num still equal to the input means nothing
      // wrote it back (EBADF, ENOTTY, an early iommufd check): nothing is known handled.
      r.handled = c.entry_num < asked ? c.entry_num : 0;
      r.error = fail(operation::invalidate, e);
    }
    return r;
  }

  [[nodiscard]] result<veventq> alloc_veventq(object_id viommu, std::uint32_t depth) noexcept {
    uapi::veventq_alloc c{};
    c.size = sizeof(c);
    c.viommu_id = viommu;
    c.type = uapi::veventq_type_arm_smmuv3;
    c.veventq_depth = depth;
    if (const int e = do_ioctl(fd_, uapi::iommu_veventq_alloc, &c); e != 0)
      return fail(operation::alloc_veventq, e);
    return veventq{c.out_veventq_id, static_cast<int>(c.out_veventq_fd)};
  }

  // Reads what is queued, up to out.size() records; the kernel's read never blocks on an empty
  // vEVENTQ (it returns 0). Poll q.fd for POLLIN to wait.
  [[nodiscard]] result<std::size_t> read_veventq(const veventq& q, std::span<vevent_record> out) {
    constexpr std::size_t header = sizeof(uapi::vevent_header);
    constexpr std::size_t payload = sizeof(uapi::vevent_arm_smmuv3);
    if (out.empty()) return std::size_t{0};
    std::vector<std::byte> buf(out.size() * (header + payload));
    ssize_t n;
    do {
      n = ::read(q.fd, buf.data(), buf.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN) return std::size_t{0};
      return fail(operation::read_veventq, errno);
    }
    const auto got = static_cast<std::size_t>(n);
    std::size_t off = 0;
    std::size_t count = 0;
    while (count < out.size() && got - off >= header) {
      uapi::vevent_header h;
      std::memcpy(&h, buf.data() + off, header);
      off += header;
      vevent_record& r = out[count];
      r = vevent_record{};
      r.flags = h.flags;
      r.sequence = h.sequence;
      if (!r.lost_events()) {
        if (got - off < payload) return fail(operation::read_veventq, EIO);  // torn record
        uapi::vevent_arm_smmuv3 ev;
        std::memcpy(&ev, buf.data() + off, payload);
        off += payload;
        for (std::size_t i = 0; i < 4; ++i) r.event[i] = detail::le64(ev.evt[i]);
      }
      ++count;
    }
    return count;
  }

  // The fd holds a reference on the vEVENTQ object: close it first, then destroy the object.
  [[nodiscard]] result<void> free_veventq(const veventq& q) noexcept {
    if (::close(q.fd) != 0 && errno != EINTR) return fail(operation::free_veventq, errno);
    return destroy(q.id);
  }

  // ---- iommufd_s2_adapter -----------------------------------------------------------------

  [[nodiscard]] result<object_id> alloc_ioas() noexcept {
    uapi::ioas_alloc c{};
    c.size = sizeof(c);
    if (const int e = do_ioctl(fd_, uapi::iommu_ioas_alloc, &c); e != 0)
      return fail(operation::alloc_ioas, e);
    return object_id{c.out_ioas_id};
  }

  [[nodiscard]] result<object_id> alloc_s2_hwpt(device_id dev, object_id ioas,
                                                std::uint32_t flags) noexcept {
    uapi::hwpt_alloc c{};
    c.size = sizeof(c);
    c.flags = flags;
    c.dev_id = dev;
    c.pt_id = ioas;
    c.data_type = uapi::hwpt_data_none;
    if (const int e = do_ioctl(fd_, uapi::iommu_hwpt_alloc, &c); e != 0)
      return fail(operation::alloc_s2_hwpt, e);
    return object_id{c.out_hwpt_id};
  }

 private:
  // 0 or the errno; retried on EINTR.
  [[nodiscard]] static int do_ioctl(int fd, unsigned long request, void* arg) noexcept {
    for (;;) {
      if (::ioctl(fd, request, arg) == 0) return 0;
      if (errno != EINTR) return errno;
    }
  }
  [[nodiscard]] int cdev_of(device_id dev) const noexcept {
    for (const auto& d : devices_)
      if (d.first == dev) return d.second;
    return -1;
  }

  int fd_;
  std::vector<std::pair<device_id, int>> devices_;
};

static_assert(iommufd_s2_adapter<linux_adapter>);

}  // namespace vsmmu::accel::iommufd
#endif  // __linux__
