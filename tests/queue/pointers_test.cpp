// SPDX-License-Identifier: BSL-1.0
#include <catch2/catch.hpp>

#include <vsmmu/queue/pointers.hpp>

#include <cstdint>

using vsmmu::queue::effective_log2size;
using vsmmu::queue::ring;
namespace reg = vsmmu::queue::reg;

TEST_CASE("queue pointers: effective size is LOG2SIZE capped at the ID register and 19",
          "[queue][pointers]") {
  CHECK(effective_log2size(5, 19) == 5);
  CHECK(effective_log2size(12, 8) == 8);    // §6.3.26: capped at IDR1.CMDQS
  CHECK(effective_log2size(31, 31) == 19);  // a hostile 5-bit field cannot pass 19
  CHECK(ring(25).log2size() == 19);
}

TEST_CASE("queue pointers: index, wrap flag and the 128-entry example of §3.5.1",
          "[queue][pointers]") {
  const ring r(7);
  CHECK(r.size() == 128);
  CHECK(r.pointer_mask() == 0xff);
  CHECK(r.index(0x85) == 5);
  CHECK(r.wrap(0x85));
  CHECK_FALSE(r.wrap(0x05));
  // Bits [19:8] are ignored.
  CHECK(r.pointer(0xfff05) == 0x05);
  CHECK(r.empty(0xab05, 0x05));
}

TEST_CASE("queue pointers: advancing wraps the index and toggles the wrap flag",
          "[queue][pointers]") {
  const ring r(2);  // 4 entries: index [1:0], wrap [2]
  std::uint32_t p = 0;
  for (int i = 0; i < 4; ++i) p = r.advance(p);
  CHECK(p == 0b100);  // index 0, wrap 1
  for (int i = 0; i < 4; ++i) p = r.advance(p);
  CHECK(p == 0b000);
  CHECK(r.advance(0b011) == 0b100);
  CHECK(r.advance(0b111) == 0b000);
  CHECK(r.advance(0b010, 3) == 0b101);
}

TEST_CASE("queue pointers: empty, full, partially full and the inconsistent states",
          "[queue][pointers]") {
  const ring r(3);  // 8 entries, wrap bit 3
  CHECK(r.empty(0b0010, 0b0010));
  CHECK(r.distance(0b0010, 0b0010) == 0);
  CHECK(r.full(0b1010, 0b0010));  // same index, wrap flags differ
  CHECK(r.distance(0b1010, 0b0010) == 8);
  CHECK(r.distance(0b0110, 0b0010) == 4);  // PROD.WR > CONS.RD, same wrap
  CHECK(r.distance(0b1001, 0b0110) == 3);  // PROD.WR < CONS.RD, wraps differ
  CHECK(r.consistent(0b1001, 0b0110));
  // §3.5.1's two inconsistent states.
  CHECK_FALSE(r.consistent(0b1110, 0b0010));  // PROD.WR > CONS.RD, wraps differ
  CHECK_FALSE(r.consistent(0b0001, 0b0110));  // PROD.WR < CONS.RD, same wrap
  CHECK_FALSE(r.full(0b1110, 0b0010));
}

TEST_CASE("queue pointers: a one-entry queue is just a wrap flag", "[queue][pointers]") {
  const ring r(0);
  CHECK(r.size() == 1);
  CHECK(r.pointer_mask() == 1);
  CHECK(r.index(1) == 0);
  CHECK(r.advance(0) == 1);
  CHECK(r.advance(1) == 0);
  CHECK(r.full(1, 0));
  CHECK(r.empty(0, 0));
}

TEST_CASE("queue pointers: 19-bit queues use all of WR/RD [19:0]", "[queue][pointers]") {
  const ring r(19);
  CHECK(r.pointer_mask() == 0xfffff);
  CHECK(r.advance(0x7ffff) == 0x80000);
  CHECK(r.advance(0xfffff) == 0);
  CHECK(r.full(0x80000, 0));
}

TEST_CASE("queue pointers: base alignment and entry addresses", "[queue][pointers]") {
  // 2^8 16-byte entries are 4KB: ADDR is aligned to 4KB (§6.3.26's example).
  CHECK(ring(8).aligned_base(0x1234'5fe0, 16) == 0x1234'5000);
  // Queues of at most 32 bytes are aligned to 32 bytes.
  CHECK(ring(0).aligned_base(0x1000'0020, 16) == 0x1000'0020);
  CHECK(ring(1).aligned_base(0x1000'0030, 16) == 0x1000'0020);
  CHECK(ring(4).entry_address(0x8000, 0x13, 32) == 0x8000 + 3 * 32);
}

TEST_CASE("queue pointers: CMDQ_CONS.ERR and the overflow flags", "[queue][pointers]") {
  CHECK(reg::cons_err(0x0300'0005) == 3);
  CHECK(reg::with_cons_err(0x0100'0005, 2) == 0x0200'0005);
  CHECK(reg::with_cons_err(5, 0xff) == (0x7fU << 24 | 5));  // ERR is 7 bits; bit 31 stays RES0
  CHECK(reg::ovflg == 0x8000'0000);
  CHECK(reg::ovackflg == 0x8000'0000);
}
