// Audit of the Stream table lookup against IHI 0070 §3.3.1, §5.1 (L1STD), §6.3.24
// (SMMU_STRTAB_BASE), §6.3.25 (SMMU_STRTAB_BASE_CFG) and §7.3.3 (C_BAD_STREAMID): the edge
// cases stream_table_test.cpp does not reach. Tables are written by hand in the free
// 0x30000-0x40000 window of the world, so that the test does not share the builder's reading of
// the rules.

#include <catch2/catch.hpp>

#include <vsmmu/smmuv3/features.hpp>
#include <vsmmu/walk/from_registers.hpp>

#include <cstdint>

#include "walk/fixture.hpp"

using namespace fx;
using vw::outcome;

namespace {

namespace sm = vsmmu::smmuv3;

void write_ste(world& w, std::uint64_t at, const S::value& ste) {
  for (unsigned i = 0; i < 8; ++i) w.b.write64(at + 8 * i, ste.words()[i]);
}

// What a lookup of `sid` came to: bypass (the STE was found), or the event recorded.
enum class found { ste, bad_streamid, ste_fetch, silent_abort, other };
found lookup(const world& w, std::uint32_t sid) {
  const auto r = w.run(read_at(0x1000, sid));
  if (r.kind == outcome::bypass) return found::ste;
  if (r.kind == outcome::abort && !r.has_event) return found::silent_abort;
  if (r.event.type() == E::type::c_bad_streamid) return found::bad_streamid;
  if (r.event.type() == E::type::f_ste_fetch) return found::ste_fetch;
  return found::other;
}

std::uint64_t fetch_addr(const world& w, std::uint32_t sid) {
  const auto r = w.run(read_at(0x1000, sid));
  REQUIRE(r.event.type() == E::type::f_ste_fetch);
  return r.event.as<E::f_ste_fetch::layout>().get<E::FetchAddr>();
}

}  // namespace

TEST_CASE("Stream table audit: SPLIT 6, 8, 10; every other value behaves as 6",
          "[walk][strtab][audit]") {
  // §6.3.25 SPLIT: "0b00110 6 bits, 0b01000 8 bits, 0b01010 10 bits. Other values are reserved,
  // behave as 6". "The upper-level L1STD is located using StreamID[LOG2SIZE - 1:SPLIT] and this
  // indicates the lowest-level table which is indexed by StreamID[SPLIT - 1:0]."
  const std::uint32_t sid = 0x1403;  // level 2 index 3 under every SPLIT
  for (unsigned split = 0; split < 32; ++split) {
    CAPTURE(split);
    const unsigned effective = split == 8 || split == 10 ? split : 6;
    auto w = make_world();
    w->st.strtab = {0x30000, true, split, 13};
    // Span 3: four STEs at 0x3c000.
    w->b.write64(0x30000 + (sid >> effective) * 8, 0x3c000 | 3);
    write_ste(*w, 0x3c000 + 3 * 64, bypass_ste());
    CHECK(lookup(*w, sid) == found::ste);
    // Level 2 index 4 is beyond Span 3: §7.3.3 2d "StreamID[SPLIT - 1:0] >= 2^(L1STD.Span-1)".
    CHECK(lookup(*w, sid + 1) == found::bad_streamid);
    // The neighbouring L1STD is zero (Span 0): §7.3.3 2a.
    CHECK(lookup(*w, sid + (1U << effective)) == found::bad_streamid);
  }
}

TEST_CASE("Stream table audit: L1STD.Span against SPLIT and the level 2 index",
          "[walk][strtab][audit]") {
  // §5.1 Span: "0: L1STD.L2Ptr is invalid", "1-11: Level 2 array contains 2^(Span-1) STEs",
  // "12-31: Reserved, behaves as 0"; §7.3.3 2c "L1STD.Span > SMMU_(*_)STRTAB_BASE_CFG.SPLIT + 1".
  auto w = make_world();
  w->st.strtab = {0x30000, true, 8, 12};  // SPLIT 8: Span up to 9
  const std::uint32_t first = 0x300;      // L1 index 3
  write_ste(*w, 0x34000 + 5 * 64, bypass_ste());
  for (unsigned span = 0; span < 32; ++span) {
    CAPTURE(span);
    w->b.write64(0x30000 + 3 * 8, 0x34000 | span);
    // Level 2 index 5 needs at least 6 STEs: Span 4 (8 STEs) or more, up to SPLIT + 1.
    const bool valid = span >= 4 && span <= 9;
    CHECK(lookup(*w, first + 5) == (valid ? found::ste : found::bad_streamid));
    // Span 1 is one STE, at index 0 only.
    if (span == 1) CHECK(lookup(*w, first) == found::other);  // the zero STE: C_BAD_STE
  }
}

TEST_CASE("Stream table audit: SPLIT >= LOG2SIZE, one L1STD", "[walk][strtab][audit]") {
  // §6.3.25 "If SPLIT >= LOG2SIZE, a single upper-level descriptor indicates one bottom-level
  // Stream table with 2^LOG2SIZE usable entries. The L1STD.Span value's valid range is up to
  // SPLIT + 1, but not all of this Span is accessible, as it is not possible to use a
  // StreamID >= 2^LOG2SIZE."
  auto w = make_world();
  w->st.strtab = {0x30000, true, 8, 4};
  w->b.write64(0x30000, 0x34000 | 9);  // Span 9 = SPLIT + 1: 256 STEs, 16KB
  write_ste(*w, 0x34000 + 15 * 64, bypass_ste());
  write_ste(*w, 0x34000 + 16 * 64, bypass_ste());
  CHECK(lookup(*w, 15) == found::ste);
  CHECK(lookup(*w, 16) == found::bad_streamid);  // §7.3.3 1: StreamID >= 2^LOG2SIZE
  w->b.write64(0x30000, 0x34000 | 10);           // SPLIT + 2
  CHECK(lookup(*w, 15) == found::bad_streamid);
}

TEST_CASE("Stream table audit: base address alignment", "[walk][strtab][audit]") {
  auto w = make_world();
  SECTION("2-level: ADDR[MAX(5, LOG2SIZE - SPLIT - 1 + 3):0] = 0") {
    // §6.3.24: "the effective base address is aligned by the SMMU to the larger of 64 bytes or
    // the first-level table size". LOG2SIZE 12, SPLIT 6: 64 L1STDs, 512 bytes.
    w->st.strtab = {0x30000 + 0x1c0, true, 6, 12};
    w->b.write64(0x30000 + 8, 0x3c000 | 1);
    write_ste(*w, 0x3c000, bypass_ste());
    CHECK(lookup(*w, 0x40) == found::ste);
    // LOG2SIZE 8, SPLIT 6: 4 L1STDs, 32 bytes: aligned to 64 bytes only, 0x30040 used as is.
    w->st.strtab = {0x30040, true, 6, 8};
    w->b.write64(0x30040 + 8, 0x3c000 | 1);
    CHECK(lookup(*w, 0x40) == found::ste);
  }
  SECTION("the literal LOG2SIZE aligns, the effective one range-checks") {
    // §6.3.24 "The alignment of ADDR is affected by the literal value of the respective
    // SMMU_STRTAB_BASE_CFG.LOG2SIZE field and is not limited by SIDSIZE."; §6.3.25 "the
    // effective LOG2SIZE is MIN(LOG2SIZE, SMMU_IDR1.SIDSIZE) for the purposes of input StreamID
    // range checking and upper/lower/linear Stream table index address calculation."
    w->st.features.sidsize = 8;
    // 2-level, LOG2SIZE 16, SPLIT 6: 1024 L1STDs, 8KB; 0x31000 aligns down to 0x30000.
    w->st.strtab = {0x31000, true, 6, 16};
    w->b.write64(0x30000 + 8, 0x3c000 | 1);
    write_ste(*w, 0x3c000, bypass_ste());
    CHECK(lookup(*w, 0x40) == found::ste);
    CHECK(lookup(*w, 0x100) == found::bad_streamid);  // 2^SIDSIZE
    // Linear, LOG2SIZE 10: a 64KB table; 0x38000 aligns down to 0x30000.
    w->st.strtab = {0x38000, false, 6, 10};
    write_ste(*w, 0x30000 + 0x41 * 64, bypass_ste());
    CHECK(lookup(*w, 0x41) == found::ste);
    CHECK(lookup(*w, 0x100) == found::bad_streamid);
  }
  SECTION("L2Ptr[5 + Span - 1:0] are treated as 0") {
    // §5.1 L2Ptr: "Bits L2Ptr[N:0] are treated as 0 by the SMMU, where N == 5 + (Span - 1).
    // Note: The Level 2 array is therefore aligned to its size by the SMMU." Read as address
    // bits (the array of 2^(Span-1) 64-byte STEs is 2^(Span+5) bytes); §3.3.1.2's example
    // pointer 0x2F20 for Span 3 predates this rule.
    w->st.strtab = {0x3f000, true, 10, 12};
    // Span 11: a 64KB array, L2Ptr bits [15:0] ignored (its unused end overlaps the L1 table).
    w->b.write64(0x3f000 + 8, 0x30000 | 0xffc0 | 11);
    write_ste(*w, 0x30000 + 0x7 * 64, bypass_ste());
    CHECK(lookup(*w, 0x407) == found::ste);
  }
}

TEST_CASE("Stream table audit: C_BAD_STREAMID only with CR2.RECINVSID", "[walk][strtab][audit]") {
  // §7.3.3 "Recorded when SMMU_(*_)CR2.RECINVSID == 1 and any of the following conditions
  // arises"; §5.1.1 "A transaction causing a Stream table lookup that does not reach a valid STE
  // is terminated with an abort to the client device and optionally records an event".
  auto w = make_world();
  w->st.strtab = {0x30000, true, 6, 12};
  w->b.write64(0x30000 + 1 * 8, 0x3c000 | 2);   // Span 2: level 2 indices 0 and 1
  w->b.write64(0x30000 + 2 * 8, 0x3c000 | 0);   // Span 0
  w->b.write64(0x30000 + 3 * 8, 0x3c000 | 12);  // Reserved Span
  w->b.write64(0x30000 + 4 * 8, 0x3c000 | 8);   // Span > SPLIT + 1
  const std::uint32_t cases[] = {0x1000, 0x42, 0x80, 0xc0, 0x100};  // conditions 1, 2d, 2a-2c
  for (const bool recinvsid : {true, false}) {
    w->st.recinvsid = recinvsid;
    for (const std::uint32_t sid : cases) {
      CAPTURE(recinvsid, sid);
      CHECK(lookup(*w, sid) == (recinvsid ? found::bad_streamid : found::silent_abort));
    }
  }
}

TEST_CASE("Stream table audit: extreme LOG2SIZE values", "[walk][strtab][audit]") {
  auto w = make_world();
  SECTION("LOG2SIZE 0: one STE") {
    w->st.strtab = {0x30000, false, 6, 0};
    write_ste(*w, 0x30000, bypass_ste());
    CHECK(lookup(*w, 0) == found::ste);
    CHECK(lookup(*w, 1) == found::bad_streamid);
  }
  SECTION("LOG2SIZE 32 and above with SIDSIZE 32: every StreamID in range") {
    w->st.features.sidsize = 32;
    for (unsigned log2size : {32U, 40U, 63U}) {
      CAPTURE(log2size);
      // ADDR[LOG2SIZE + 5:0] = 0: a table of 2^LOG2SIZE STEs is at address 0.
      w->st.strtab = {0x30000, false, 6, log2size};
      CHECK(fetch_addr(*w, 0xffff'ffff) == std::uint64_t{0xffff'ffff} * 64);
    }
    w->st.strtab = {0x30000, true, 10, 63};  // 2-level: the L1 table at 0 too
    CHECK(fetch_addr(*w, 0xffff'ffff) == (std::uint64_t{0xffff'ffff} >> 10) * 8);
  }
}

TEST_CASE("Stream table audit: addresses beyond the OAS are F_STE_FETCH", "[walk][strtab][audit]") {
  // §3.4.3 (5): "It is CONSTRAINED UNPREDICTABLE whether an implementation truncates an STE fetch
  // address (and continues translation) or generates an F_STE_FETCH"; the model does the latter.
  // §7.3.4 "FetchAddr bits [55:OAS] are RES0 if OAS is smaller than 56".
  auto w = make_world();
  w->st.features.oas = address_size::bits40;
  SECTION("STRTAB_BASE.ADDR") {
    w->st.strtab = {0x100'0003'0000, false, 6, 4};
    CHECK(fetch_addr(*w, 2) == 0x3'0000 + 2 * 64);
  }
  SECTION("the L1STD") {
    w->st.strtab = {0x100'0003'0000, true, 6, 12};
    CHECK(fetch_addr(*w, 0x41) == 0x3'0008);
  }
  SECTION("L1STD.L2Ptr") {
    // §5.1 L2Ptr "Bits above the implemented OA size, reported in SMMU_IDR5.OAS, are RES0" and
    // "See section 3.4.3 ... for behavior of addresses beyond the OAS".
    w->st.strtab = {0x30000, true, 6, 12};
    w->b.write64(0x30000 + 8, 0x100'0003'c000 | 2);
    CHECK(fetch_addr(*w, 0x41) == 0x3'c040);
  }
}

TEST_CASE("Stream table audit: the registers as a driver programs them", "[walk][strtab][audit]") {
  namespace R = sm::regs;
  const auto id = sm::default_id_registers;
  REQUIRE(vw::features_from(id).two_level_stream_table);
  vw::control_registers c;
  c.cr0 = 1;
  SECTION("STRTAB_BASE.RA and the RES0 bits [61:56] are not address bits") {
    // §6.3.24: RA, bit [62] "Read-Allocate hint"; ADDR, bits [55:6]; "Address bits above and
    // below this field range are implied as zero."
    c.strtab_base = (std::uint64_t{1} << 62) | 0x3'0000;
    CHECK(vw::state_from(id, c).strtab.base == 0x3'0000);
  }
  SECTION("FMT: 0b01 is 2-level; reserved 0b10 and 0b11 behave as 0b00") {
    // §6.3.25 FMT "Other values are reserved, behave as 0b00."
    for (unsigned fmt = 0; fmt < 4; ++fmt) {
      c.strtab_base_cfg = (fmt << 16) | (8U << 6) | 12;
      const auto st = vw::state_from(id, c);
      CHECK(st.strtab.two_level == (fmt == 1));
      CHECK(st.strtab.split == 8);
      CHECK(st.strtab.log2size == 12);
    }
  }
  SECTION("FMT and SPLIT are RES0 without ST_LEVEL: the table is linear") {
    // §6.3.25 FMT "When SMMU_IDR0.ST_LEVEL != 0b00 ... Otherwise: Reserved, RES0."
    auto linear_only = id;  // ST_LEVEL is read-only in the layout: cleared in the raw word
    linear_only.idr0 &= ~(3U << R::idr0::ST_LEVEL::lsb);
    REQUIRE_FALSE(vw::features_from(linear_only).two_level_stream_table);
    c.strtab_base_cfg = (1U << 16) | (6U << 6) | 4;
    auto w = make_world();
    w->st = vw::state_from(linear_only, c);
    w->st.strtab.base = 0x30000;
    write_ste(*w, 0x30000 + 3 * 64, bypass_ste());
    CHECK(lookup(*w, 3) == found::ste);
  }
}
