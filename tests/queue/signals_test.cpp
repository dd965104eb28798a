// SPDX-License-Identifier: BSL-1.0
// Signalling (IHI 0070 §3.18) and the GERROR/GERRORN handshake (§7.5).
#include <catch2/catch.hpp>

#include <vsmmu/memory/flat.hpp>
#include <vsmmu/queue/global_errors.hpp>
#include <vsmmu/queue/recording_signals.hpp>
#include <vsmmu/queue/signals.hpp>

#include <algorithm>
#include <array>
#include <cstdint>

using namespace vsmmu::queue;

TEST_CASE("signals: notify sends nothing while the source is disabled", "[queue][signals]") {
  recording_signals s;
  CHECK(notify(s, signal::gerror, {false, 0x8000, 1, 0, 0}, true) ==
        vsmmu::memory::access_status::ok);
  CHECK(s.records().empty());
}

TEST_CASE("signals: wired pulse, then an MSI when supported and ADDR != 0", "[queue][signals]") {
  recording_signals s;
  notify(s, signal::priq, {true, 0x0100'0000'0000'8007ULL, 9, 1, 2}, true);
  REQUIRE(s.records().size() == 2);
  CHECK(s.records()[0] == recording_signals::record{signal::priq, false, {}});
  // ADDR is [55:2]: bits above and below are treated as zero.
  CHECK(s.records()[1].message == msi_message{0x8004, 9, 1, 2});
  s.clear();
  notify(s, signal::priq, {true, 0x3, 9, 1, 2}, true);  // only bits below [2]: ADDR == 0
  CHECK(s.count(signal::priq, true) == 0);
  CHECK(s.count(signal::priq, false) == 1);
}

TEST_CASE("signals: the effective MSI Shareability (§3.18, §4.7.3 MSH, §6.3.23 SH)",
          "[queue][signals]") {
  // Device types (and the Reserved MemAttr[1:0] == 0b00 encodings that behave as Device) and
  // Normal iNC-oNC are Outer Shareable; otherwise SH, with the Reserved 0b01 as 0b00.
  // Device-nGnRnE, -nGnRE, -nGRE, -GRE, Reserved (as Device-nGnRnE) x3, Normal iNC-oNC.
  constexpr std::array<unsigned, 8> outer_shareable_types{0x0, 0x1, 0x2, 0x3, 0x4, 0x8, 0xc, 0x5};
  for (unsigned attr = 0; attr < 16; ++attr) {
    const bool always_osh = std::find(outer_shareable_types.begin(), outer_shareable_types.end(),
                                      attr) != outer_shareable_types.end();
    for (unsigned sh = 0; sh < 4; ++sh) {
      CAPTURE(attr, sh);
      const unsigned expected = always_osh ? 0b10 : sh == 0b01 ? 0b00 : sh;
      CHECK(effective_msi_shareability(static_cast<std::uint8_t>(attr),
                                       static_cast<std::uint8_t>(sh)) == expected);
    }
  }
  // notify() sends the effective value.
  recording_signals s;
  notify(s, signal::eventq, {true, 0x8000, 1, 0xf, 0b01}, true);
  notify(s, signal::eventq, {true, 0x8000, 1, 0x0, 0b11}, true);
  notify(s, signal::eventq, {true, 0x8000, 1, 0xe, 0b11}, true);  // Normal iWT-oWB
  REQUIRE(s.records().size() == 6);
  CHECK(s.records()[1].message.sh == 0b00);
  CHECK(s.records()[3].message.sh == 0b10);
  CHECK(s.records()[5].message.sh == 0b11);
}

TEST_CASE("signals: MSIs into guest memory", "[queue][signals]") {
  vsmmu::memory::flat_memory<64> m;
  memory_msi_signals<vsmmu::memory::flat_memory<64>> s(m);
  CHECK(notify(s, signal::eventq, {true, 0x10, 0xdeadbeef, 0, 0}, true) ==
        vsmmu::memory::access_status::ok);
  CHECK(m.read64(0x10).value == 0xdeadbeef);
  CHECK(notify(s, signal::eventq, {true, 0x1000, 1, 0, 0}, true) ==
        vsmmu::memory::access_status::external_abort);
  static_assert(signal_sink<no_signals>);
}

TEST_CASE("global errors: activate toggles only inactive errors; GERRORN acknowledges",
          "[queue][gerror]") {
  global_errors e;
  CHECK(e.activate(gerror_bit::cmdq_err) == gerror_bit::cmdq_err);
  CHECK(e.gerror == 1);
  CHECK(e.is_active(gerror_bit::cmdq_err));
  CHECK(e.activate(gerror_bit::cmdq_err) == 0);  // already active: not toggled
  CHECK(e.gerror == 1);
  e.write_gerrorn(1);
  CHECK_FALSE(e.is_active(gerror_bit::cmdq_err));
  CHECK(e.activate(gerror_bit::cmdq_err | gerror_bit::eventq_abt_err) ==
        (gerror_bit::cmdq_err | gerror_bit::eventq_abt_err));
  CHECK(e.gerror == 0b100);  // CMDQ_ERR toggled back to 0, EVENTQ_ABT_ERR to 1
  e.acknowledge(gerror_bit::cmdq_err);
  CHECK(e.active() == gerror_bit::eventq_abt_err);
  // Undefined bits never activate and GERRORN keeps none.
  CHECK(e.activate(1U << 1 | 1U << 20) == 0);
  e.write_gerrorn(0xffff'ffff);
  CHECK(e.gerrorn == gerror_bit::all);
}

TEST_CASE("global errors: the GERROR interrupt, and MSI_GERROR_ABT_ERR raising none",
          "[queue][gerror]") {
  global_errors e;
  recording_signals s;
  const irq_config irq{true, 0x8000, 3, 0, 0};
  CHECK(raise_global_errors(e, gerror_bit::sfm_err, irq, true, s) == gerror_bit::sfm_err);
  CHECK(s.count(signal::gerror, false) == 1);
  CHECK(s.count(signal::gerror, true) == 1);
  // Already active: nothing activated, no interrupt.
  CHECK(raise_global_errors(e, gerror_bit::sfm_err, irq, true, s) == 0);
  CHECK(s.records().size() == 2);
  // An aborted GERROR MSI.
  s.abort_msis(true);
  CHECK(raise_global_errors(e, gerror_bit::dpt_err, irq, true, s) ==
        (gerror_bit::dpt_err | gerror_bit::msi_gerror_abt_err));
  CHECK(s.count(signal::gerror, true) == 2);  // no further attempt for MSI_GERROR_ABT_ERR
  // Activating MSI_GERROR_ABT_ERR alone raises no interrupt (§7.5.1).
  s.clear();
  e.write_gerrorn(e.gerror);
  CHECK(raise_global_errors(e, gerror_bit::msi_gerror_abt_err, irq, true, s) ==
        gerror_bit::msi_gerror_abt_err);
  CHECK(s.records().empty());
}
