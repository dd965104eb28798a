// SPDX-License-Identifier: BSL-1.0
#include <catch2/catch.hpp>

#include <vsmmu/accel/iommufd/linux.hpp>

#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <string>

#if defined(__linux__)
#include <fcntl.h>
#include <unistd.h>

using namespace vsmmu::accel::iommufd;

static_assert(iommufd_adapter<linux_adapter>);
static_assert(iommufd_s2_adapter<linux_adapter>);

TEST_CASE("open_iommufd: a missing device node is a clear error, not a crash") {
  const char* path = "/nonexistent-vsmmu-test/iommu";
  const result<int> r = open_iommufd(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err() == ENOENT);
  CHECK(r.error().op == operation::open);
  const std::string m = describe_open_failure(r.error(), path);
  CHECK(m.find(path) != std::string::npos);
  CHECK(m.find("No such file or directory (errno 2)") != std::string::npos);
  CHECK(m.find("no iommufd") != std::string::npos);
  CHECK(r.error().message() == "open(/dev/iommu) failed: No such file or directory (errno 2)");
}

TEST_CASE("open_iommufd: permission errors say so") {
  const std::string m = describe_open_failure(host_error{EACCES, operation::open}, "/dev/iommu");
  CHECK(m.find("permission") != std::string::npos);
}

TEST_CASE("linux_adapter: ioctl failures carry errno and the operation") {
  linux_adapter a(-1);  // no iommufd: every ioctl is EBADF
  CHECK(a.fd() == -1);
  const auto d = a.destroy(5);
  CHECK(d.err() == EBADF);
  CHECK(d.error().op == operation::destroy);
  CHECK(a.get_hw_info(1).error().op == operation::get_hw_info);
  CHECK(a.alloc_viommu(1, viommu_type::arm_smmuv3, 2).error().op == operation::alloc_viommu);
  CHECK(a.alloc_vdevice(3, 1, 0x308).error().op == operation::alloc_vdevice);
  CHECK(a.alloc_nested_hwpt(1, 3, 0, nested_ste{{0x1, 0}}).error().op ==
        operation::alloc_nested_hwpt);
  CHECK(a.alloc_veventq(3, 64).error().op == operation::alloc_veventq);
  CHECK(a.alloc_ioas().error().op == operation::alloc_ioas);
  CHECK(a.alloc_s2_hwpt(1, 2, 1).error().op == operation::alloc_s2_hwpt);

  const std::array<invalidation_entry, 3> cmds{};
  const invalidation_result inv = a.invalidate(3, cmds);
  CHECK_FALSE(inv.ok());
  CHECK(inv.error.code == EBADF);
  CHECK(inv.error.op == operation::invalidate);
  CHECK(inv.handled == 0);  // the kernel never saw the request
}

TEST_CASE("linux_adapter: attach needs the device's VFIO cdev") {
  linux_adapter a(-1);
  const auto r = a.attach(7, 3);
  CHECK(r.err() == ENOENT);
  CHECK(r.error().op == operation::attach);

  // A registered cdev that is not a VFIO device: the ioctl reaches it and fails.
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  REQUIRE(null_fd >= 0);
  a.add_device(7, null_fd);
  const auto r2 = a.attach(7, 3);
  CHECK_FALSE(r2.ok());
  CHECK(r2.err() != ENOENT);
  CHECK(r2.error().op == operation::attach);
  const auto b = a.bind_device(null_fd);
  CHECK_FALSE(b.ok());
  CHECK(b.error().op == operation::attach);
  a.remove_device(7);
  CHECK(a.attach(7, 3).err() == ENOENT);
  ::close(null_fd);
}

TEST_CASE("linux_adapter: read_veventq parses headers, records and the lost-events marker") {
  if constexpr (std::endian::native != std::endian::little) return;
  int p[2];
  REQUIRE(::pipe(p) == 0);
  // What the kernel's read() returns: {header, record} {header, record} {lost header}.
  std::array<unsigned char, 40 + 40 + 8> wire{};
  auto put32 = [&](std::size_t off, std::uint32_t v) { std::memcpy(&wire[off], &v, 4); };
  auto put64 = [&](std::size_t off, std::uint64_t v) { std::memcpy(&wire[off], &v, 8); };
  put32(0, 0);
  put32(4, 7);
  put64(8, 0x0000'0308'0000'0010ull);  // F_TRANSLATION, vSID 0x308
  put64(16, 0x1);
  put64(24, 0xDEAD'B000ull);
  put64(32, 0x4);
  put32(40, 0);
  put32(44, 8);
  put64(48, 0x0000'0308'0000'0013ull);
  put32(80, 1);  // IOMMU_VEVENTQ_FLAG_LOST_EVENTS
  put32(84, 9);
  REQUIRE(::write(p[1], wire.data(), wire.size()) == static_cast<ssize_t>(wire.size()));
  ::close(p[1]);

  linux_adapter a(-1);
  const veventq q{12, p[0]};
  std::array<vevent_record, 4> out{};
  const auto n = a.read_veventq(q, out);
  REQUIRE(n.ok());
  REQUIRE(*n == 3);
  CHECK(out[0].sequence == 7);
  CHECK_FALSE(out[0].lost_events());
  CHECK(out[0].event[0] == 0x0000'0308'0000'0010ull);
  CHECK(out[0].event[2] == 0xDEAD'B000ull);
  CHECK(out[0].event[3] == 0x4);
  CHECK(out[1].sequence == 8);
  CHECK(out[1].event[0] == 0x0000'0308'0000'0013ull);
  CHECK(out[2].lost_events());
  CHECK(out[2].sequence == 9);
  CHECK(out[2].event == std::array<std::uint64_t, 4>{});

  // Nothing left: 0 records, not an error.
  const auto again = a.read_veventq(q, out);
  REQUIRE(again.ok());
  CHECK(*again == 0);

  // free_veventq closes the fd first, then IOMMU_DESTROY fails on the bad iommufd.
  const auto f = a.free_veventq(q);
  CHECK(f.err() == EBADF);
  CHECK(f.error().op == operation::destroy);
  CHECK(::fcntl(p[0], F_GETFD) == -1);  // closed
}

TEST_CASE("linux_adapter: a torn record is EIO, a bad fd EBADF") {
  if constexpr (std::endian::native != std::endian::little) return;
  int p[2];
  REQUIRE(::pipe(p) == 0);
  std::array<unsigned char, 8 + 16> wire{};  // a header and half a record
  REQUIRE(::write(p[1], wire.data(), wire.size()) == static_cast<ssize_t>(wire.size()));
  ::close(p[1]);
  linux_adapter a(-1);
  std::array<vevent_record, 2> out{};
  const auto n = a.read_veventq(veventq{1, p[0]}, out);
  CHECK(n.err() == EIO);
  CHECK(n.error().op == operation::read_veventq);
  ::close(p[0]);
  CHECK(a.read_veventq(veventq{1, -1}, out).err() == EBADF);
}
#endif
