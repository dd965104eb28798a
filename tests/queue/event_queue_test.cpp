// SPDX-License-Identifier: BSL-1.0
// The Event queue producer: records at PROD with wrap, overflow, disabled queue, write aborts,
// the Event queue interrupt.
#include <catch2/catch.hpp>

#include <vsmmu/memory/flat.hpp>
#include <vsmmu/queue/event_queue.hpp>
#include <vsmmu/queue/recording_signals.hpp>
#include <vsmmu/smmuv3/events.hpp>
#include <vsmmu/walk/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "evtq_fixture.hpp"

namespace evt = vsmmu::smmuv3::evt;
using namespace vsmmu::queue;

using vsmmu::queue::test::evtq_fixture;
using vsmmu::queue::test::make_record;
constexpr std::uint64_t queue_base = vsmmu::queue::test::evtq_base;

TEST_CASE("evtq: records are written at PROD and published by moving it", "[queue][evtq]") {
  evtq_fixture f;
  CHECK(f.record(11).status == record_status::written);
  CHECK(f.record(12).status == record_status::written);
  CHECK(f.prod_pointer() == 2);
  CHECK(f.sid_at(0) == 11);
  CHECK(f.sid_at(1) == 12);
  // The whole 32-byte record lands as its bytes.
  const auto expected = make_record(12).bytes();
  std::array<std::byte, 32> got{};
  REQUIRE(f.memory->read_bytes(queue_base + 32, got) == vsmmu::memory::access_status::ok);
  CHECK(got == expected);
}

TEST_CASE("evtq: PROD wraps and toggles WR_WRAP", "[queue][evtq]") {
  evtq_fixture f(2);  // 4 entries
  f.st.prod = f.st.cons = 3;
  f.record(1);
  f.record(2);
  CHECK(f.prod_pointer() == 0b101);  // index 1, wrap 1
  CHECK(f.sid_at(3) == 1);
  CHECK(f.sid_at(0) == 2);
}

TEST_CASE("evtq: a full queue loses the event and toggles OVFLG once until acknowledged",
          "[queue][evtq]") {
  evtq_fixture f(1);  // 2 entries
  f.record(1);
  f.record(2);
  REQUIRE(f.cfg.geometry.full(f.st.prod, f.st.cons));
  auto r = f.record(3);
  CHECK(r.status == record_status::full);
  CHECK(r.overflowed);
  CHECK_FALSE(r.keep);
  CHECK((f.st.prod & reg::ovflg) != 0);
  CHECK(f.st.overflow_pending());
  CHECK(f.prod_pointer() == 0b10);  // PROD did not move
  CHECK(f.sid_at(0) == 1);          // nothing overwritten

  // A second overflow while the first is unacknowledged is not indicated (§7.4).
  r = f.record(4);
  CHECK(r.status == record_status::full);
  CHECK_FALSE(r.overflowed);
  CHECK((f.st.prod & reg::ovflg) != 0);

  // Software consumes and acknowledges; a new overflow toggles OVFLG back.
  f.consume(2);
  f.acknowledge_overflow();
  CHECK_FALSE(f.st.overflow_pending());
  f.record(5);
  f.record(6);
  r = f.record(7);
  CHECK(r.overflowed);
  CHECK((f.st.prod & reg::ovflg) == 0);
  CHECK(f.st.overflow_pending());
  // OVFLG survives PROD updates for written records.
  f.consume(1);
  f.record(8);
  CHECK(f.st.overflow_pending());
  // QEMU's SMMUv3 never toggles EVENTQ_PROD.OVFLG: it drops the event on a full queue and
  // leaves the flag alone, so a guest cannot tell events were lost. The spec (§7.4, §6.3.95)
  // requires the toggle checked above.
}

TEST_CASE("evtq: an unacknowledged overflow does not stop delivery", "[queue][evtq]") {
  evtq_fixture f(1);
  f.record(1);
  f.record(2);
  f.record(3);  // overflow
  f.consume(1);
  CHECK(f.record(4).status == record_status::written);  // §7.4 note
  CHECK(f.st.overflow_pending());
}

TEST_CASE("evtq: EVENTQEN == 0 drops events without overflow", "[queue][evtq]") {
  evtq_fixture f(1);
  f.cfg.enabled = false;
  for (int i = 0; i < 4; ++i) {
    const auto r = f.record(1);
    CHECK(r.status == record_status::disabled);
    CHECK_FALSE(r.overflowed);
  }
  CHECK(f.st.prod == 0);
  CHECK(f.signals.records().empty());
}

TEST_CASE("evtq: stall records are kept, never discarded and never overflow", "[queue][evtq]") {
  evtq_fixture f(0);  // one entry
  f.record(1);
  auto r = f.record(2, true);
  CHECK(r.status == record_status::full);
  CHECK(r.keep);
  CHECK_FALSE(r.overflowed);
  CHECK_FALSE(f.st.overflow_pending());
  f.cfg.enabled = false;
  CHECK(f.record(2, true).keep);
  f.cfg.enabled = true;
  f.consume(1);
  CHECK(f.record(2, true).status == record_status::written);
}

TEST_CASE("evtq: a write abort activates EVENTQ_ABT_ERR; PROD does not move", "[queue][evtq]") {
  evtq_fixture f(2);
  f.cfg.base = 0x8000;  // just past the 32KB of guest memory
  f.cfg.gerror_irq.enabled = true;
  f.cfg.irq.enabled = true;
  f.st.prod = f.st.cons = 2;
  auto r = f.record(1);
  CHECK(r.status == record_status::write_abort);
  CHECK(r.activated == gerror_bit::eventq_abt_err);
  CHECK(f.errors.is_active(gerror_bit::eventq_abt_err));
  CHECK(f.prod_pointer() == 2);
  // No Event queue interrupt (the queue stayed empty), but the GERROR one.
  CHECK(f.signals.count(signal::eventq, false) == 0);
  CHECK(f.signals.count(signal::gerror, false) == 1);
  // While the error is active the queue is not writable.
  f.cfg.base = queue_base;
  r = f.record(2);
  CHECK(r.status == record_status::abort_active);
  CHECK(f.prod_pointer() == 2);
  // Acknowledged: delivery resumes.
  f.errors.write_gerrorn(f.errors.gerror);
  CHECK(f.record(3).status == record_status::written);
}

TEST_CASE("evtq: the interrupt fires when the queue goes from empty to non-empty",
          "[queue][evtq]") {
  evtq_fixture f(3);
  f.cfg.irq = {true, 0xfee0'0000, 0x41, 0x1, 0x3};
  f.record(1);
  REQUIRE(f.signals.records().size() == 2);
  CHECK(f.signals.records()[0].source == signal::eventq);
  CHECK_FALSE(f.signals.records()[0].msi);
  CHECK(f.signals.records()[1].msi);
  // Device-nGnRE: "effectively Outer Shareable" whatever IRQ_CFG2.SH says (§6.3.23, §3.18).
  CHECK(f.signals.records()[1].message == msi_message{0xfee0'0000, 0x41, 0x1, 0x2});
  f.record(2);  // not empty before: no new interrupt
  CHECK(f.signals.records().size() == 2);
  f.consume(2);
  CHECK(f.record(3).interrupt);
  CHECK(f.signals.count(signal::eventq, false) == 2);
}

TEST_CASE("evtq: interrupt disabled, MSI address zero, MSIs unsupported", "[queue][evtq]") {
  evtq_fixture f;
  f.record(1);
  CHECK(f.signals.records().empty());  // EVENTQ_IRQEN == 0
  f.consume(1);
  f.cfg.irq.enabled = true;
  f.record(2);  // ADDR == 0: wired only
  CHECK(f.signals.count(signal::eventq, false) == 1);
  CHECK(f.signals.count(signal::eventq, true) == 0);
  f.consume(1);
  f.cfg.irq.msi_address = 0x8000;
  f.cfg.msi_supported = false;
  f.record(3);
  CHECK(f.signals.count(signal::eventq, true) == 0);
}

TEST_CASE("evtq: an aborted MSI activates MSI_EVENTQ_ABT_ERR", "[queue][evtq]") {
  evtq_fixture f;
  f.cfg.irq = {true, 0x8000, 1, 0, 0};
  f.cfg.gerror_irq = {true, 0x9000, 2, 0, 0};
  f.signals.abort_msis(true);
  const auto r = f.record(1);
  CHECK(r.status == record_status::written);
  // The GERROR MSI aborts too: MSI_GERROR_ABT_ERR, which raises no interrupt of its own.
  CHECK(r.activated == (gerror_bit::msi_eventq_abt_err | gerror_bit::msi_gerror_abt_err));
  CHECK(f.signals.count(signal::gerror, true) == 1);
}

TEST_CASE("evtq: hostile PROD/CONS values", "[queue][evtq]") {
  evtq_fixture f(2);
  SECTION("bits above the wrap flag are ignored and read as zero afterwards") {
    f.st.prod = 0x7ff0'0001;
    f.st.cons = 0x7ff0'0001;
    CHECK(f.record(1).status == record_status::written);
    CHECK(f.st.prod == 2);
    CHECK(f.sid_at(1) == 1);
  }
  SECTION("inconsistent indexes behave as a full queue") {
    f.st.prod = 0b110;  // index 2 wrap 1, CONS index 0 wrap 0
    const auto r = f.record(1);
    CHECK(r.status == record_status::full);
    CHECK(r.overflowed);
    CHECK(f.sid_at(2) == 0);
  }
  SECTION("every PROD/CONS pair writes inside the queue or nowhere") {
    for (std::uint32_t prod = 0; prod < 16; ++prod) {
      for (std::uint32_t cons = 0; cons < 16; ++cons) {
        f.st = {prod | 0x8000'0000, cons | 0x8000'0000};
        const auto r = f.record(0x100 + prod);
        const std::uint32_t pending = f.cfg.geometry.distance(prod, cons);
        CAPTURE(prod, cons);
        if (pending < 4) {
          CHECK(r.status == record_status::written);
          CHECK(f.sid_at(prod & 3) == 0x100 + prod);
        } else {
          CHECK(r.status == record_status::full);
        }
      }
    }
  }
}

TEST_CASE("evtq: from_registers decodes SMMU_EVENTQ_BASE and caps LOG2SIZE", "[queue][evtq]") {
  namespace regs = vsmmu::smmuv3::regs;
  const auto idr =
      vsmmu::smmuv3::default_id_registers.with<regs::idr1::EVENTQS>(4).with<regs::idr0::MSI>(false);
  regs::eventq_base::value base;
  base.set<regs::eventq_base::ADDR>(0x4000'0000).set<regs::eventq_base::LOG2SIZE>(9);
  const auto cfg = event_queue_config::from_registers(base.word(0), idr, true);
  CHECK(cfg.base == 0x4000'0000);
  CHECK(cfg.geometry.log2size() == 4);
  CHECK_FALSE(cfg.msi_supported);
}
