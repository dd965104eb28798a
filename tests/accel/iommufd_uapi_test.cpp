// SPDX-License-Identifier: BSL-1.0
#include <catch2/catch.hpp>

#include <vsmmu/accel/iommufd/uapi.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__linux__)
#include <sys/ioctl.h>
#endif

// The sizes and offsets are pinned by static_asserts in uapi.hpp; these tests check the byte
// images a kernel reads (little-endian hosts, the only ones SMMUv3 hosts are in practice) and
// that the structures are plain data the kernel can copy.

namespace u = vsmmu::accel::iommufd::uapi;

namespace {
template <class T>
std::array<std::byte, sizeof(T)> bytes_of(const T& v) {
  std::array<std::byte, sizeof(T)> b;
  std::memcpy(b.data(), &v, sizeof(T));
  return b;
}
template <std::size_t N>
std::uint32_t u32_at(const std::array<std::byte, N>& b, std::size_t off) {
  std::uint32_t v;
  std::memcpy(&v, b.data() + off, 4);
  return v;
}
template <std::size_t N>
std::uint64_t u64_at(const std::array<std::byte, N>& b, std::size_t off) {
  std::uint64_t v;
  std::memcpy(&v, b.data() + off, 8);
  return v;
}
}  // namespace

TEST_CASE("uapi: every structure is trivially copyable standard layout with 8-byte u64s") {
  STATIC_REQUIRE(std::is_trivially_copyable_v<u::hwpt_alloc>);
  STATIC_REQUIRE(std::is_standard_layout_v<u::hwpt_alloc>);
  STATIC_REQUIRE(std::is_standard_layout_v<u::hw_info>);
  STATIC_REQUIRE(std::is_standard_layout_v<u::viommu_alloc>);
  STATIC_REQUIRE(std::is_standard_layout_v<u::vdevice_alloc>);
  STATIC_REQUIRE(std::is_standard_layout_v<u::hwpt_invalidate>);
  STATIC_REQUIRE(std::is_standard_layout_v<u::veventq_alloc>);
  STATIC_REQUIRE(alignof(u::hwpt_alloc) == 8);
  STATIC_REQUIRE(alignof(u::vdevice_alloc) == 8);
  STATIC_REQUIRE(alignof(u::hwpt_arm_smmuv3) == 8);
  STATIC_REQUIRE(alignof(u::vevent_arm_smmuv3) == 8);
  STATIC_REQUIRE(sizeof(u::hwpt_alloc) == 48);
  STATIC_REQUIRE(sizeof(u::hw_info) == 40);
  STATIC_REQUIRE(sizeof(u::hw_info_arm_smmuv3) == 40);
  STATIC_REQUIRE(sizeof(u::viommu_alloc) == 40);
  STATIC_REQUIRE(sizeof(u::vdevice_alloc) == 24);
  STATIC_REQUIRE(sizeof(u::hwpt_invalidate) == 32);
  STATIC_REQUIRE(sizeof(u::viommu_arm_smmuv3_invalidate) == 16);
  STATIC_REQUIRE(sizeof(u::veventq_alloc) == 32);
  STATIC_REQUIRE(sizeof(u::vevent_header) == 8);
  STATIC_REQUIRE(sizeof(u::vevent_arm_smmuv3) == 32);
  STATIC_REQUIRE(sizeof(u::destroy) == 8);
  STATIC_REQUIRE(sizeof(u::vfio_attach_iommufd_pt) == 16);
}

TEST_CASE("uapi: ioctl numbers are _IO(';', nr) with the kernel's command numbers") {
  CHECK(u::iommu_destroy == 0x3B80);
  CHECK(u::iommu_ioas_alloc == 0x3B81);
  CHECK(u::iommu_hwpt_alloc == 0x3B89);
  CHECK(u::iommu_get_hw_info == 0x3B8A);
  CHECK(u::iommu_hwpt_invalidate == 0x3B8D);
  CHECK(u::iommu_viommu_alloc == 0x3B90);
  CHECK(u::iommu_vdevice_alloc == 0x3B91);
  CHECK(u::iommu_veventq_alloc == 0x3B93);
  CHECK(u::vfio_device_bind_iommufd == 0x3B76);
  CHECK(u::vfio_device_attach_iommufd_pt == 0x3B77);
  CHECK(u::vfio_device_detach_iommufd_pt == 0x3B78);
  // The generic encoding puts direction and size above bit 16.
  CHECK(u::ioc(3, ';', 1, 0x10) == ((3ul << 30) | (0x10ul << 16) | 0x3B01));
#if defined(__linux__)
  CHECK(u::iommu_destroy == _IO(';', 0x80));
  CHECK(u::iommu_ioas_alloc == _IO(';', 0x81));
  CHECK(u::iommu_hwpt_alloc == _IO(';', 0x89));
  CHECK(u::iommu_get_hw_info == _IO(';', 0x8a));
  CHECK(u::iommu_hwpt_invalidate == _IO(';', 0x8d));
  CHECK(u::iommu_viommu_alloc == _IO(';', 0x90));
  CHECK(u::iommu_vdevice_alloc == _IO(';', 0x91));
  CHECK(u::iommu_veventq_alloc == _IO(';', 0x93));
  CHECK(u::vfio_device_bind_iommufd == _IO(';', 118));
  CHECK(u::vfio_device_attach_iommufd_pt == _IO(';', 119));
#endif
}

TEST_CASE("uapi: data-type values") {
  CHECK(u::hwpt_data_none == 0);
  CHECK(u::hwpt_data_arm_smmuv3 == 2);
  CHECK(u::invalidate_data_arm_smmuv3 == 1);
  CHECK(u::veventq_type_arm_smmuv3 == 1);
}

TEST_CASE("uapi: byte images of the requests the adapter sends") {
  if constexpr (std::endian::native != std::endian::little) return;

  u::viommu_alloc va{};
  va.size = sizeof(va);
  va.type = 1;
  va.dev_id = 0x11;
  va.hwpt_id = 0x22;
  va.out_viommu_id = 0x33;
  const auto vb = bytes_of(va);
  CHECK(u32_at(vb, 0) == 40);
  CHECK(u32_at(vb, 4) == 0);  // flags
  CHECK(u32_at(vb, 8) == 1);
  CHECK(u32_at(vb, 12) == 0x11);
  CHECK(u32_at(vb, 16) == 0x22);
  CHECK(u32_at(vb, 20) == 0x33);
  for (std::size_t i = 24; i < 40; ++i) CHECK(vb[i] == std::byte{0});  // unknown to 6.13: zero

  u::vdevice_alloc vd{};
  vd.size = sizeof(vd);
  vd.viommu_id = 4;
  vd.dev_id = 1;
  vd.virt_id = 0x0308;
  const auto db = bytes_of(vd);
  CHECK(u32_at(db, 0) == 24);
  CHECK(u32_at(db, 4) == 4);
  CHECK(u32_at(db, 8) == 1);
  CHECK(u64_at(db, 16) == 0x0308);

  u::hwpt_alloc ha{};
  ha.size = sizeof(ha);
  ha.dev_id = 1;
  ha.pt_id = 4;
  ha.data_type = u::hwpt_data_arm_smmuv3;
  ha.data_len = 16;
  ha.data_uptr = 0x1122334455667788ull;
  const auto hb = bytes_of(ha);
  CHECK(u32_at(hb, 0) == 48);
  CHECK(u32_at(hb, 12) == 4);
  CHECK(u32_at(hb, 24) == 2);
  CHECK(u32_at(hb, 28) == 16);
  CHECK(u64_at(hb, 32) == 0x1122334455667788ull);
  CHECK(u32_at(hb, 20) == 0);  // __reserved must be 0
  CHECK(u32_at(hb, 40) == 0);  // fault_id
  CHECK(u32_at(hb, 44) == 0);  // __reserved2

  u::hwpt_invalidate hi{};
  hi.size = sizeof(hi);
  hi.hwpt_id = 4;
  hi.data_type = u::invalidate_data_arm_smmuv3;
  hi.entry_len = 16;
  hi.entry_num = 63;
  const auto ib = bytes_of(hi);
  CHECK(u32_at(ib, 4) == 4);
  CHECK(u32_at(ib, 16) == 1);
  CHECK(u32_at(ib, 20) == 16);
  CHECK(u32_at(ib, 24) == 63);

  u::hw_info hw{};
  hw.out_max_pasid_log2 = 20;
  hw.out_capabilities = 6;
  hw.data_type = 2;
  const auto wb = bytes_of(hw);
  CHECK(wb[28] == std::byte{20});
  CHECK(u64_at(wb, 32) == 6);
  CHECK(u32_at(wb, 24) == 2);

  u::hw_info_arm_smmuv3 sm{};
  sm.idr[0] = 0xA;
  sm.idr[5] = 0xF;
  sm.iidr = 0x43B;
  sm.aidr = 2;
  const auto sb = bytes_of(sm);
  CHECK(u32_at(sb, 8) == 0xA);
  CHECK(u32_at(sb, 28) == 0xF);
  CHECK(u32_at(sb, 32) == 0x43B);
  CHECK(u32_at(sb, 36) == 2);

  u::veventq_alloc q{};
  q.out_veventq_id = 9;
  q.out_veventq_fd = 42;
  const auto qb = bytes_of(q);
  CHECK(u32_at(qb, 20) == 9);
  CHECK(u32_at(qb, 24) == 42);
}
