// SPDX-License-Identifier: BSL-1.0
#include <catch2/catch.hpp>

#include <array>
#include <cerrno>
#include <cstdint>
#include <random>
#include <vector>

#include "accel/iommufd_sim_fixture.hpp"

using namespace iommufd_test;

// Hostile callers: random operations on random IDs with random payloads. The simulated kernel
// must answer each with success or one of the errnos the kernel uses, never crash (the sanitizer
// build runs this too), and let everything be torn down to where it started.
TEST_CASE("sim: random call sequences keep the object graph consistent") {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    host h;
    const std::size_t base = h.k.live_objects();
    std::mt19937_64 rng(seed);
    auto pick = [&](std::uint64_t n) { return static_cast<std::uint32_t>(rng() % n); };
    const std::array<device_id, 5> devs{h.d1, h.d2, h.d3, h.d4, h.d5};
    std::vector<veventq> queues;
    auto id = [&] { return pick(40); };
    auto dev = [&] { return pick(8) == 0 ? id() : devs[pick(devs.size())]; };
    auto ste = [&] {
      switch (pick(4)) {
        case 0:
          return abort_ste;
        case 1:
          return bypass_ste;
        case 2:
          return s1_ste(pick(2) != 0 ? 1ull << 28 : 0);
        default:
          return nested_ste{{rng(), rng()}};
      }
    };
    for (int step = 0; step < 400; ++step) {
      int err = 0;
      switch (pick(10)) {
        case 0:
          err = h.k.alloc_viommu(dev(), viommu_type{pick(3)}, pick(2) ? h.s2_0 : id()).err();
          break;
        case 1:
          err = h.k.alloc_vdevice(id(), dev(), pick(4) != 0 ? 0x300 + pick(4) : rng()).err();
          break;
        case 2:
          err = h.k.alloc_nested_hwpt(dev(), id(), pick(4) == 0 ? pick(16) : 0, ste()).err();
          break;
        case 3:
          err = h.k.attach(dev(), id()).err();
          break;
        case 4: {
          // The host's own IOAS and parents are the embedder's, not the caller's to destroy.
          const object_id x = id();
          if (x != h.ioas && x != h.s2_0 && x != h.s2_1) err = h.k.destroy(x).err();
          break;
        }
        case 5: {
          std::vector<invalidation_entry> e(pick(70));
          for (auto& c : e) {
            c.cmd = {rng(), rng()};
            if (pick(2) != 0) c.cmd[0] = (c.cmd[0] & ~0xFFull) | (0x10 + pick(4));
          }
          const auto r = h.k.invalidate(id(), e);
          CHECK(r.handled <= e.size());
          err = r.error.code;
          break;
        }
        case 6: {
          const auto q = h.k.alloc_veventq(id(), pick(4));
          if (q.ok()) queues.push_back(*q);
          err = q.err();
          break;
        }
        case 7: {
          std::array<vevent_record, 4> out{};
          const veventq q = queues.empty() || pick(4) == 0
                                ? veventq{id(), static_cast<int>(pick(2000))}
                                : queues[pick(queues.size())];
          const auto n = h.k.read_veventq(q, out);
          if (n.ok()) CHECK(*n <= out.size());
          err = n.err();
          break;
        }
        case 8:
          (void)h.k.inject_event(dev(), {rng(), rng(), rng(), rng()});
          break;
        default:
          err = h.k.get_hw_info(dev()).err();
          break;
      }
      const bool known = err == 0 || err == ENOENT || err == EINVAL || err == EBUSY ||
                         err == EEXIST || err == EIO || err == EOPNOTSUPP || err == EBADF;
      INFO("seed " << seed << " step " << step << " errno " << err);
      REQUIRE(known);
    }
    // Tear down: devices back on their SMMU's parent, queues closed, then destroy until stuck.
    for (int pass = 0; pass < 2; ++pass)  // a group sibling may join only after the replace
      for (const device_id d : devs) (void)h.k.attach(d, d == h.d3 ? h.s2_1 : h.s2_0);
    for (const veventq& q : queues) (void)h.k.free_veventq(q);
    for (bool progress = true; progress;) {
      progress = false;
      for (object_id i = 1; i < 64; ++i)
        if (i != h.ioas && i != h.s2_0 && i != h.s2_1 && h.k.destroy(i).ok()) progress = true;
    }
    INFO("seed " << seed);
    CHECK(h.k.live_objects() == base);
    CHECK(h.k.users_of(h.s2_0) == 4);  // every device but d3, nothing else
    CHECK(h.k.users_of(h.s2_1) == 1);
    for (const device_id d : devs) CHECK(h.k.attached_hwpt(d) == (d == h.d3 ? h.s2_1 : h.s2_0));
  }
}
