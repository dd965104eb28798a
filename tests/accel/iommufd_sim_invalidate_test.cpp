// SPDX-License-Identifier: BSL-1.0
#include <catch2/catch.hpp>

#include <cerrno>
#include <vector>

#include "accel/iommufd_sim_fixture.hpp"

using namespace iommufd_test;
namespace kr = vsmmu::accel::iommufd::kernel;

namespace {
invalidation_entry nh_asid(std::uint16_t asid, std::uint16_t vmid = 0x77) {
  return {{kr::op::tlbi_nh_asid | (std::uint64_t{vmid} << 32) | (std::uint64_t{asid} << 48), 0}};
}
invalidation_entry cfgi_cd(std::uint32_t sid, std::uint32_t ssid = 0) {
  return {{kr::op::cfgi_cd | (std::uint64_t{ssid} << 12) | (std::uint64_t{sid} << 32), 1}};
}
invalidation_entry with_op(std::uint8_t op) { return {{op, 0}}; }

struct inv_setup {
  host h;
  object_id v = 0;
  std::uint16_t vmid = 0;
  inv_setup() {
    v = *h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.s2_0);
    REQUIRE(h.k.alloc_vdevice(v, h.d1, 0x0308).ok());  // pSID 0x100
    REQUIRE(h.k.alloc_vdevice(v, h.d2, 0x0310).ok());  // pSID 0x200
    vmid = h.k.vmid_of(v);
  }
};
}  // namespace

TEST_CASE("sim invalidate: each accepted command converted as the driver does") {
  inv_setup s;
  host& h = s.h;
  const std::vector<invalidation_entry> in{
      {{kr::op::tlbi_nsnh_all, 0xFFFF}},
      nh_asid(5),
      {{kr::op::tlbi_nh_va | (0x77ull << 32) | (5ull << 48), 0xABCD'E000ull | 1}},
      {{kr::op::tlbi_nh_vaa | (0x77ull << 32), 0x1000}},
      {{kr::op::tlbi_nh_all | (0x77ull << 32), 0}},
      cfgi_cd(0x0308, 3),
      {{kr::op::cfgi_cd_all | (0x0310ull << 32), 0}},
      {{kr::op::atc_inv | (0x0308ull << 32) | (1ull << 11), 0x1000ull | 5}},
  };
  const invalidation_result r = h.k.invalidate(s.v, in);
  REQUIRE(r.ok());
  CHECK(r.handled == in.size());
  REQUIRE(h.k.issued().size() == 1);
  const std::vector<invalidation_entry>& out = h.k.issued()[0].commands;
  REQUIRE(out.size() == in.size());
  const std::uint64_t vmid = std::uint64_t{s.vmid} << 32;
  CHECK(out[0] == invalidation_entry{{kr::op::tlbi_nh_all | vmid, 0}});  // NSNH_ALL -> NH_ALL
  CHECK(out[1] == invalidation_entry{{kr::op::tlbi_nh_asid | vmid | (5ull << 48), 0}});
  CHECK(out[2].cmd[0] == (kr::op::tlbi_nh_va | vmid | (5ull << 48)));
  CHECK(out[2].cmd[1] == in[2].cmd[1]);
  CHECK(out[3].cmd[0] == (kr::op::tlbi_nh_vaa | vmid));
  CHECK(out[4].cmd[0] == (kr::op::tlbi_nh_all | vmid));
  CHECK(out[5] == invalidation_entry{{kr::op::cfgi_cd | (3ull << 12) | (0x100ull << 32), 1}});
  CHECK(out[6].cmd[0] == (kr::op::cfgi_cd_all | (0x200ull << 32)));
  CHECK(out[7].cmd[0] == (kr::op::atc_inv | (0x100ull << 32) | (1ull << 11)));
  CHECK(out[7].cmd[1] == in[7].cmd[1]);
  CHECK(h.k.issued()[0].viommu == s.v);
}

TEST_CASE("sim invalidate: refused opcodes and unknown vSIDs are EIO at that entry") {
  for (const std::uint8_t op : {std::uint8_t{0x01}, std::uint8_t{0x03}, std::uint8_t{0x04},
                                std::uint8_t{0x28}, std::uint8_t{0x2a}, std::uint8_t{0x46},
                                std::uint8_t{0x41}, std::uint8_t{0x20}, std::uint8_t{0x00}}) {
    inv_setup s;
    const std::vector<invalidation_entry> in{nh_asid(1), nh_asid(2), with_op(op), nh_asid(3)};
    const invalidation_result r = s.h.k.invalidate(s.v, in);
    INFO("opcode " << unsigned{op});
    CHECK(r.error.code == EIO);
    CHECK(r.error.op == operation::invalidate);
    CHECK(r.handled == 2);
    CHECK(s.h.k.issued().empty());  // entries 0 and 1 were converted, never issued
  }
  inv_setup s;
  const std::vector<invalidation_entry> in{cfgi_cd(0x0308), cfgi_cd(0x0999)};
  const invalidation_result r = s.h.k.invalidate(s.v, in);
  CHECK(r.error.code == EIO);
  CHECK(r.handled == 1);
  CHECK(s.h.k.issued().empty());
}

TEST_CASE("sim invalidate: batches of 63, and what a conversion failure leaves unissued") {
  inv_setup s;
  host& h = s.h;
  std::vector<invalidation_entry> in;
  for (unsigned i = 0; i < 130; ++i) in.push_back(nh_asid(static_cast<std::uint16_t>(i)));

  SECTION("all good: 63 + 63 + 4") {
    const auto r = h.k.invalidate(s.v, in);
    REQUIRE(r.ok());
    CHECK(r.handled == 130);
    REQUIRE(h.k.issued().size() == 3);
    CHECK(h.k.issued()[0].commands.size() == 63);
    CHECK(h.k.issued()[1].commands.size() == 63);
    CHECK(h.k.issued()[2].commands.size() == 4);
    CHECK(h.k.issued()[1].commands[0].cmd[0] >> 48 == 63);  // in order
    CHECK(h.k.issued_command_count() == 130);
  }
  SECTION("entry 70 fails: 70 reported, only the first 63 issued") {
    in[70] = with_op(0x46);
    const auto r = h.k.invalidate(s.v, in);
    CHECK(r.error.code == EIO);
    CHECK(r.handled == 70);
    REQUIRE(h.k.issued().size() == 1);
    CHECK(h.k.issued()[0].commands.size() == 63);
    CHECK(h.k.issued_command_count() == 63);  // 63..69 were handled per the count, never issued
  }
  SECTION("entry 63, the first of the second batch, fails") {
    in[63] = cfgi_cd(0x7777);
    const auto r = h.k.invalidate(s.v, in);
    CHECK(r.handled == 63);
    CHECK(h.k.issued().size() == 1);
  }
  SECTION("entry 62, the last of the first batch, fails: nothing issued") {
    in[62] = with_op(0x03);
    const auto r = h.k.invalidate(s.v, in);
    CHECK(r.handled == 62);
    CHECK(h.k.issued().empty());
  }
  SECTION("a command-queue failure on the second batch reports its last entry minus one") {
    h.k.fail_cmdq_batch(h.k.issued_batch_count() + 2, ETIMEDOUT);
    const auto r = h.k.invalidate(s.v, in);
    CHECK(r.error.code == ETIMEDOUT);
    CHECK(r.handled == 125);  // the driver steps back one entry from the batch end (126)
    REQUIRE(h.k.issued().size() == 2);
    CHECK(h.k.issued()[1].err == ETIMEDOUT);
    CHECK(h.k.issued()[1].commands.size() == 63);
  }
}

TEST_CASE("sim invalidate: the batch size follows CMDQ_BATCH_ENTRIES") {
  kernel_behaviour b;
  b.cmdq_batch_entries = 32;  // a 32-bit kernel
  host h(b);
  const object_id v = *h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.s2_0);
  std::vector<invalidation_entry> in(40, nh_asid(1));
  REQUIRE(h.k.invalidate(v, in).ok());
  REQUIRE(h.k.issued().size() == 2);
  CHECK(h.k.issued()[0].commands.size() == 31);
}

TEST_CASE("sim invalidate: empty calls, wrong objects") {
  inv_setup s;
  host& h = s.h;
  const auto empty = h.k.invalidate(s.v, {});
  CHECK(empty.ok());
  CHECK(empty.handled == 0);
  CHECK(h.k.issued().empty());
  const std::vector<invalidation_entry> one{nh_asid(1)};
  CHECK(h.k.invalidate(99, one).error.code == ENOENT);
  CHECK(h.k.invalidate(h.s2_0, one).error.code == EINVAL);
  const object_id nested = *h.k.alloc_nested_hwpt(h.d1, s.v, 0, abort_ste);
  CHECK(h.k.invalidate(nested, one).error.code == EOPNOTSUPP);
  // A vSID is looked up in this vIOMMU only.
  const object_id v2 = *h.k.alloc_viommu(h.d4, viommu_type::arm_smmuv3, h.s2_0);
  CHECK(h.k.invalidate(v2, std::vector<invalidation_entry>{cfgi_cd(0x0308)}).error.code == EIO);
}
