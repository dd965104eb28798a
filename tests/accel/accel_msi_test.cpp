// MSI doorbells and the IORT RMR node (seed patches 16-18, 25; "Test cases implied" 1, 4, 6, 43)
// and the vEVENTQ sequence tracking.
#include <catch2/catch.hpp>

#include <vsmmu/accel/host_events.hpp>
#include <vsmmu/accel/msi.hpp>

#include <cstddef>
#include <cstdint>

namespace A = vsmmu::accel;

namespace {
std::uint64_t le(const std::array<std::byte, A::iort::rmr_node_size>& b, std::size_t at,
                 std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= std::uint64_t{std::to_integer<std::uint8_t>(b[at + i])} << (8 * i);
  return v;
}
}  // namespace

TEST_CASE("accel msi: doorbell GPAs on the virt memory map (test 4)", "[accel]") {
  const auto its = A::msi_doorbell_gpa({A::msi_controller_kind::its, 0x0808'0000});
  REQUIRE(its);
  CHECK(its.gpa == 0x0809'0040);
  const auto v2m = A::msi_doorbell_gpa({A::msi_controller_kind::gicv2m, 0x0802'0000});
  REQUIRE(v2m);
  CHECK(v2m.gpa == 0x0802'0040);
}

TEST_CASE("accel msi: no MSI controller is an error, not a crash (test 6)", "[accel]") {
  const auto none = A::msi_doorbell_gpa({});
  CHECK_FALSE(none);
  CHECK(none.error == A::msi_error::no_msi_controller);
  CHECK_FALSE(A::message(none.error).empty());
  CHECK(A::msi_doorbell_gpa({A::msi_controller_kind::its, ~0ULL - 0x10}).error ==
        A::msi_error::base_overflow);
}

TEST_CASE("accel msi: the route takes the doorbell, not the guest IOVA (test 1)", "[accel]") {
  const auto r = A::split_msi_address(0x0809'0040);
  CHECK(r.lo == 0x0809'0040);
  CHECK(r.hi == 0);
  const auto h = A::split_msi_address(0x1'2345'6789ULL);
  CHECK(h.lo == 0x2345'6789U);
  CHECK(h.hi == 1);
}

TEST_CASE("accel iort: one 68-byte RMR node (test 43)", "[accel]") {
  A::iort::rmr_node_params p;
  p.identifier = 7;
  p.input_base = 0x0100;
  p.id_count = 0x100;
  p.smmu_node_offset = 0x48;
  const auto b = A::iort::encode_rmr_node(p);
  CHECK(b.size() == 68);
  CHECK(le(b, 0, 1) == 6);    // type RMR
  CHECK(le(b, 1, 2) == 68);   // length
  CHECK(le(b, 3, 1) == 3);    // revision
  CHECK(le(b, 4, 4) == 7);    // identifier
  CHECK(le(b, 8, 4) == 1);    // one ID mapping
  CHECK(le(b, 12, 4) == 28);  // at 28
  CHECK(le(b, 16, 4) == 0);   // flags
  CHECK(le(b, 20, 4) == 1);   // one memory range
  CHECK(le(b, 24, 4) == 48);  // at 48
  CHECK(le(b, 28, 4) == 0x100);
  CHECK(le(b, 32, 4) == 0xff);  // count - 1
  CHECK(le(b, 36, 4) == 0x100);
  CHECK(le(b, 40, 4) == 0x48);
  CHECK(le(b, 44, 4) == 1);  // single mapping
  CHECK(le(b, 48, 8) == 0x0800'0000);
  CHECK(le(b, 56, 8) == 0x0010'0000);
  CHECK(le(b, 64, 4) == 0);
  CHECK(A::iort::table_revision == 5);
}

TEST_CASE("accel events: sequence gaps and wrap", "[accel]") {
  A::vevent_sequence s;
  CHECK_FALSE(s.next(5));  // the first record: nothing to compare with
  CHECK_FALSE(s.next(6));
  CHECK(s.next(8));  // 7 was lost
  CHECK_FALSE(s.next(9));
  A::vevent_sequence w;
  CHECK_FALSE(w.next(A::vevent_sequence_max));
  CHECK_FALSE(w.next(0));  // wraps to 0
  CHECK(w.next(2));
  A::event_record e{0x0000'0308'0000'0010ULL, 0, 0, 0};
  CHECK(A::guest_visible_event(e));
  CHECK(A::event_sid(e) == 0x308);
  e[0] = 0x0000'0308'0000'00ffULL;  // Reserved type
  CHECK_FALSE(A::guest_visible_event(e));
}
