// SPDX-License-Identifier: BSL-1.0
#include <catch2/catch.hpp>

#include <array>
#include <cerrno>
#include <climits>
#include <string>

#include "accel/iommufd_sim_fixture.hpp"

using namespace iommufd_test;
namespace kr = vsmmu::accel::iommufd::kernel;

namespace {
// F_TRANSLATION (0x10) for pSID 0x100 at IOVA 0xdead_b000, stage 1.
constexpr std::array<std::uint64_t, 4> f_translation{0x0000'0100'0000'0010ull, 0x0, 0xDEAD'B000ull,
                                                     0x0};

struct ev_setup {
  host h;
  object_id v = 0;
  object_id t = 0;
  veventq q;
  explicit ev_setup(std::uint32_t depth = 4) {
    v = *h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.s2_0);
    REQUIRE(h.k.alloc_vdevice(v, h.d1, 0x0308).ok());
    t = *h.k.alloc_nested_hwpt(h.d1, v, 0, s1_ste());
    REQUIRE(h.k.attach(h.d1, t).ok());
    q = *h.k.alloc_veventq(v, depth);
  }
};
}  // namespace

TEST_CASE("sim vEVENTQ: events reach the guest with the vSID and a sequence number") {
  ev_setup s;
  CHECK(s.h.k.inject_event(s.h.d1, f_translation) == event_delivery::queued);
  auto second = f_translation;
  second[0] = (second[0] & ~0xFFull) | kr::event::f_permission;
  CHECK(s.h.k.inject_event(s.h.d1, second) == event_delivery::queued);
  CHECK(s.h.k.pending_vevents(s.q.id) == 2);
  std::array<vevent_record, 8> out{};
  const auto n = s.h.k.read_veventq(s.q, out);
  REQUIRE(n.ok());
  REQUIRE(*n == 2);
  CHECK(out[0].sequence == 0);
  CHECK(out[1].sequence == 1);
  CHECK_FALSE(out[0].lost_events());
  CHECK(out[0].event[0] == 0x0000'0308'0000'0010ull);  // SID rewritten to the vSID
  CHECK(out[0].event[2] == 0xDEAD'B000ull);
  CHECK((out[1].event[0] & 0xFF) == kr::event::f_permission);
  CHECK(*s.h.k.read_veventq(s.q, out) == 0);  // empty: 0, never blocks
}

TEST_CASE("sim vEVENTQ: overflow leaves one lost-events record at the tail") {
  ev_setup s(2);
  CHECK(s.h.k.inject_event(s.h.d1, f_translation) == event_delivery::queued);  // seq 0
  CHECK(s.h.k.inject_event(s.h.d1, f_translation) == event_delivery::queued);  // seq 1
  CHECK(s.h.k.inject_event(s.h.d1, f_translation) == event_delivery::lost);    // seq 2
  CHECK(s.h.k.inject_event(s.h.d1, f_translation) == event_delivery::lost);    // seq 3
  CHECK(s.h.k.pending_vevents(s.q.id) == 3);  // two records and one marker
  std::array<vevent_record, 1> one{};
  REQUIRE(*s.h.k.read_veventq(s.q, one) == 1);
  CHECK(one[0].sequence == 0);
  // Room for one: the next event replaces the marker and its sequence shows the gap.
  CHECK(s.h.k.inject_event(s.h.d1, f_translation) == event_delivery::queued);  // seq 4
  std::array<vevent_record, 8> out{};
  const auto n = s.h.k.read_veventq(s.q, out);
  REQUIRE(*n == 2);
  CHECK(out[0].sequence == 1);
  CHECK(out[1].sequence == 4);  // 2 and 3 were lost
  CHECK_FALSE(out[1].lost_events());
  // A trailing marker is read as a record without payload.
  REQUIRE(s.h.k.inject_event(s.h.d1, f_translation) == event_delivery::queued);  // seq 5
  REQUIRE(s.h.k.inject_event(s.h.d1, f_translation) == event_delivery::queued);  // seq 6
  REQUIRE(s.h.k.inject_event(s.h.d1, f_translation) == event_delivery::lost);    // seq 7
  const auto m = s.h.k.read_veventq(s.q, out);
  REQUIRE(*m == 3);
  CHECK(out[2].lost_events());
  CHECK(out[2].sequence == 7);
  CHECK(out[2].event == std::array<std::uint64_t, 4>{});
}

TEST_CASE("sim vEVENTQ: sequence numbers wrap from INT_MAX to 0") {
  ev_setup s;
  s.h.k.set_vevent_sequence(s.q.id, INT_MAX);
  REQUIRE(s.h.k.inject_event(s.h.d1, f_translation) == event_delivery::queued);
  REQUIRE(s.h.k.inject_event(s.h.d1, f_translation) == event_delivery::queued);
  std::array<vevent_record, 2> out{};
  REQUIRE(*s.h.k.read_veventq(s.q, out) == 2);
  CHECK(out[0].sequence == static_cast<std::uint32_t>(INT_MAX));
  CHECK(out[1].sequence == 0);
}

TEST_CASE("sim vEVENTQ: what the driver does not forward") {
  ev_setup s;
  auto e = f_translation;
  e[1] |= kr::evt1_s2;
  CHECK(s.h.k.inject_event(s.h.d1, e) == event_delivery::stage2);
  e = f_translation;
  e[1] |= kr::evt1_stall;
  CHECK(s.h.k.inject_event(s.h.d1, e) == event_delivery::stalled);
  e = f_translation;
  e[0] = (e[0] & ~0xFFull) | 0x02;  // C_BAD_STREAMID
  CHECK(s.h.k.inject_event(s.h.d1, e) == event_delivery::not_forwarded);
  // A device on a proxy HWPT without a vDEVICE: host log only.
  const object_id a = *s.h.k.alloc_nested_hwpt(s.h.d2, s.v, 0, abort_ste);
  REQUIRE(s.h.k.attach(s.h.d2, a).ok());
  CHECK(s.h.k.inject_event(s.h.d2, f_translation) == event_delivery::no_vdevice);
  CHECK(s.h.k.inject_event(s.h.d3, f_translation) == event_delivery::no_vdevice);
  CHECK(s.h.k.inject_event(77, f_translation) == event_delivery::unknown_device);
  CHECK(std::string(to_string(event_delivery::no_vdevice)) == "no vDEVICE");
  CHECK(s.h.k.pending_vevents(s.q.id) == 0);
  // C_BAD_STE on an abort STE is forwarded when the device has its vDEVICE.
  const object_id a1 = *s.h.k.alloc_nested_hwpt(s.h.d1, s.v, 0, abort_ste);
  REQUIRE(s.h.k.attach(s.h.d1, a1).ok());
  e = f_translation;
  e[0] = (e[0] & ~0xFFull) | kr::event::c_bad_ste;
  CHECK(s.h.k.inject_event(s.h.d1, e) == event_delivery::queued);
}

TEST_CASE("sim vEVENTQ: without a vEVENTQ events are dropped") {
  host h;
  const object_id v = *h.k.alloc_viommu(h.d1, viommu_type::arm_smmuv3, h.s2_0);
  REQUIRE(h.k.alloc_vdevice(v, h.d1, 0x0308).ok());
  const object_id t = *h.k.alloc_nested_hwpt(h.d1, v, 0, s1_ste());
  REQUIRE(h.k.attach(h.d1, t).ok());
  CHECK(h.k.inject_event(h.d1, f_translation) == event_delivery::no_veventq);
}

TEST_CASE("sim vEVENTQ: allocation rules, reads on a closed queue, freeing") {
  ev_setup s;
  host& h = s.h;
  CHECK(h.k.alloc_veventq(s.v, 8).err() == EEXIST);  // one per type and vIOMMU
  CHECK(h.k.alloc_veventq(99, 8).err() == ENOENT);
  const object_id v2 = *h.k.alloc_viommu(h.d2, viommu_type::arm_smmuv3, h.s2_0);
  const auto zero = h.k.alloc_veventq(v2, 0);
  CHECK(zero.err() == EINVAL);
  CHECK(zero.error().op == operation::alloc_veventq);
  std::array<vevent_record, 1> out{};
  CHECK(h.k.read_veventq(veventq{s.q.id, s.q.fd + 1}, out).err() == EBADF);
  REQUIRE(h.k.free_veventq(s.q).ok());
  CHECK(h.k.kind_of(s.q.id) == object_kind::free);
  CHECK(h.k.read_veventq(s.q, out).err() == EBADF);
  CHECK(h.k.free_veventq(s.q).err() == EBADF);
  CHECK(h.k.inject_event(h.d1, f_translation) == event_delivery::no_veventq);
  CHECK(h.k.alloc_veventq(s.v, 8).ok());  // a new one may be created
}
