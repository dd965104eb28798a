// Register protocols and queue behaviour: enable/acknowledge, guarded registers, GBPA, the
// Command queue and its errors (GERROR/GERRORN), the Event queue with wrap and overflow,
// interrupts, reset.

#include <catch2/catch.hpp>

#include <vsmmu/smmuv3/commands.hpp>

#include <array>
#include <iterator>
#include <random>

#include "fixture.hpp"

namespace {

using namespace fx;
namespace cmd = vsmmu::smmuv3::cmd;
using vsmmu::queue::signal;

constexpr std::uint64_t cmdq_base = 0x10000;
constexpr std::uint64_t eventq_base = 0x20000;
constexpr std::uint64_t msi_doorbell = 0x0800'0000;

template <class B>
void setup_cmdq(B& b, unsigned log2 = 2, std::uint64_t base = cmdq_base) {
  b.mem.map(base, std::uint64_t{16} << log2 < 4096 ? 4096 : std::uint64_t{16} << log2);
  b.dev.write(R::cmdq_base::offset, 8, base | log2);
  b.write32(R::cmdq_prod::offset, 0);
  b.write32(R::cmdq_cons::offset, 0);
}

template <class B>
void setup_eventq(B& b, unsigned log2 = 1, bool map = true) {
  if (map) b.mem.map(eventq_base, 4096);
  b.dev.write(R::eventq_base::offset, 8, eventq_base | log2);
  b.write32(page1 + R::eventq_prod::offset, 0);
  b.write32(page1 + R::eventq_cons::offset, 0);
}

// Writes a command into entry `index` of the queue at cmdq_base.
template <class B>
void put(B& b, unsigned index, const std::array<std::uint64_t, 2>& words,
         std::uint64_t base = cmdq_base) {
  (void)b.mem.write64(base + 16 * std::uint64_t{index}, words[0]);
  (void)b.mem.write64(base + 16 * std::uint64_t{index} + 8, words[1]);
}

std::array<std::uint64_t, 2> tlbi_nsnh_all() {
  return cmd::make<cmd::tlbi_nsnh_all::layout>().words();
}
std::array<std::uint64_t, 2> sync_sev() {
  return cmd::make<cmd::sync::layout>().set<cmd::sync::CS>(cmd::cs::sig_sev).words();
}

// SMMUEN with a 1-STE linear Stream table and nothing valid in it: every transaction on
// StreamID >= 1 is C_BAD_STREAMID (recorded, RECINVSID == 1).
template <class B>
void enable_with_bad_streams(B& b) {
  b.mem.map(0x40000, 4096);
  b.dev.write(R::strtab_base::offset, 8, 0x40000);
  b.write32(R::strtab_base_cfg::offset, 0);
  b.write32(R::cr2::offset, 0x2);  // RECINVSID
  b.write32(R::cr0::offset, b.read32(R::cr0::offset) | 1U);
}

}  // namespace

TEST_CASE("CR0 and IRQ_CTRL Updates are acknowledged at once") {
  auto b = make_bench();
  b->write32(R::cr0::offset, 0x4);  // EVENTQEN
  CHECK(b->read32(R::cr0ack::offset) == 0x4);
  b->write32(R::cr0::offset, 0xd);
  CHECK(b->read32(R::cr0ack::offset) == 0xd);
  b->write32(R::cr0::offset, 0x0);
  CHECK(b->read32(R::cr0ack::offset) == 0x0);
  b->write32(R::irq_ctrl::offset, 0x7);  // PRIQ_IRQEN is RES0 here
  CHECK(b->read32(R::irq_ctrl::offset) == 0x5);
  CHECK(b->read32(R::irq_ctrlack::offset) == 0x5);
  CHECK(b->dev.translation_state().smmuen == false);
  b->write32(R::cr0::offset, 0x1);
  CHECK(b->dev.translation_state().smmuen == true);
}

TEST_CASE("Guarded registers ignore writes while their enable is set") {
  auto b = make_bench();
  b->write32(R::cr0::offset, 0xd);  // SMMUEN, CMDQEN, EVENTQEN
  b->write32(R::irq_ctrl::offset, 0x5);
  const std::uint32_t guarded[] = {R::cr1::offset,
                                   R::cr2::offset,
                                   R::strtab_base::offset,
                                   R::strtab_base_cfg::offset,
                                   R::cmdq_base::offset,
                                   R::cmdq_cons::offset,
                                   R::eventq_base::offset,
                                   page1 + R::eventq_prod::offset,
                                   R::gerror_irq_cfg1::offset,
                                   R::eventq_irq_cfg1::offset};
  for (std::uint32_t off : guarded) {
    CAPTURE(off);
    b->write32(off, 0x3);
    CHECK(b->read32(off) == 0);
  }
  CHECK(b->dev.diagnostics(vd::diagnostic::guarded_write) == std::size(guarded));
  // Unguarded while enabled: CMDQ_PROD, EVENTQ_CONS.
  b->write32(page1 + R::eventq_cons::offset, 0x0);
  CHECK(b->dev.diagnostics(vd::diagnostic::guarded_write) == std::size(guarded));
  // Disabled again, the same writes land.
  b->write32(R::cr0::offset, 0);
  b->write32(R::cr1::offset, 0x3);
  CHECK(b->read32(R::cr1::offset) == 0x3);

  // CR1: TABLE_* follow SMMUEN, QUEUE_* the queue enables (§6.3.11).
  b->write32(R::cr0::offset, 0x8);  // CMDQEN only
  b->write32(R::cr1::offset, 0xd75);
  CHECK(b->read32(R::cr1::offset) == 0xd43);  // TABLE_* written, QUEUE_* kept
  b->write32(R::cr0::offset, 0x1);            // SMMUEN only
  b->write32(R::cr1::offset, 0x035);
  CHECK(b->read32(R::cr1::offset) == 0xd75);  // QUEUE_* written, TABLE_* kept
}

TEST_CASE("GBPA changes only with Update, which completes at once") {
  auto b = make_bench();
  b->write32(R::gbpa::offset, 1U << 20);  // ABORT without Update
  CHECK(b->read32(R::gbpa::offset) == 0x1000);
  CHECK(b->dev.diagnostics(vd::diagnostic::gbpa_without_update) == 1);
  // SMMUEN == 0, GBPA bypass: the address goes through untranslated.
  auto r = b->dev.translate(3, std::nullopt, 0x1234'5000, vsmmu::walk::access_kind::write);
  CHECK(r.kind == vsmmu::walk::outcome::bypass);
  CHECK(r.output_address() == 0x1234'5000);

  b->write32(R::gbpa::offset, (1U << 31) | (1U << 20));
  CHECK(b->read32(R::gbpa::offset) == (1U << 20));  // Update has completed: reads 0
  r = b->dev.translate(3, std::nullopt, 0x1234'5000, vsmmu::walk::access_kind::read);
  CHECK(r.kind == vsmmu::walk::outcome::abort);
  CHECK_FALSE(r.recorded());

  // With SMMUEN == 1, GBPA no longer applies.
  setup_eventq(*b);
  b->write32(R::cr0::offset, 0x4);
  enable_with_bad_streams(*b);
  r = b->dev.translate(3, std::nullopt, 0x1234'5000, vsmmu::walk::access_kind::read);
  CHECK(r.recorded());
  CHECK(r.event.type() == vsmmu::smmuv3::evt::type::c_bad_streamid);
}

TEST_CASE("commands are consumed on a PROD write and on CMDQEN 0 -> 1") {
  auto b = make_bench();
  setup_cmdq(*b);
  put(*b, 0, tlbi_nsnh_all());
  put(*b, 1, sync_sev());
  b->write32(R::cmdq_prod::offset, 2);  // CMDQEN == 0: nothing happens
  CHECK(b->read32(R::cmdq_cons::offset) == 0);
  b->write32(R::cr0::offset, 0x8);  // CMDQEN 0 -> 1 with a non-empty queue
  CHECK(b->read32(R::cmdq_cons::offset) == 2);
  // Without IDR0.SEV, CS == SIG_SEV completes as SIG_NONE.
  CHECK(b->platform.count(signal::wfe_wakeup, false) == 0);
  put(*b, 2, tlbi_nsnh_all());
  b->write32(R::cmdq_prod::offset, 3);
  CHECK(b->read32(R::cmdq_cons::offset) == 3);

  // A configuration from raw ID registers, here with SEV: the CMD_SYNC sends the event.
  using sev = vd::raw_config<vd::default_config::id_registers.with<R::idr0::SEV>(true)>;
  auto c = make_bench<sev>();
  setup_cmdq(*c);
  put(*c, 0, sync_sev());
  c->write32(R::cr0::offset, 0x8);
  c->write32(R::cmdq_prod::offset, 1);
  CHECK(c->platform.count(signal::wfe_wakeup, false) == 1);
}

TEST_CASE("an embedder can defer command processing to its own schedule") {
  auto b = make_bench();
  setup_cmdq(*b, 3);
  b->write32(R::cr0::offset, 0x8);
  b->dev.defer_commands(true);
  for (unsigned i = 0; i < 5; ++i) put(*b, i, tlbi_nsnh_all());
  b->write32(R::cmdq_prod::offset, 5);
  CHECK(b->read32(R::cmdq_cons::offset) == 0);
  CHECK(b->dev.process_commands(2) == 2);
  CHECK(b->read32(R::cmdq_cons::offset) == 2);
  CHECK(b->dev.process_commands() == 3);
  CHECK(b->read32(R::cmdq_cons::offset) == 5);
  b->dev.defer_commands(false);
  put(*b, 5, tlbi_nsnh_all());
  b->write32(R::cmdq_prod::offset, 6);
  CHECK(b->read32(R::cmdq_cons::offset) == 6);
}

TEST_CASE("the Command queue wraps, and LOG2SIZE is capped at IDR1.CMDQS in use") {
  auto b = make_bench();
  setup_cmdq(*b, 2);  // 4 entries
  b->write32(R::cr0::offset, 0x8);
  std::uint32_t prod = 0;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 3; ++i) {
      put(*b, prod & 3, tlbi_nsnh_all());
      prod = (prod + 1) & 7;  // index and wrap flag
    }
    b->write32(R::cmdq_prod::offset, prod);
    CHECK(b->read32(R::cmdq_cons::offset) == prod);
  }
  CHECK(b->dev.diagnostics_total() == 0);

  using small = vd::config<vd::features{.cmdqs = 4}>;
  auto c = make_bench<small>();
  c->dev.write(R::cmdq_base::offset, 8, cmdq_base | 10);
  CHECK((c->dev.read(R::cmdq_base::offset, 8) & 0x1f) == 10);  // read back as written
  c->write32(R::cmdq_cons::offset, 0xfffff);
  CHECK(c->read32(R::cmdq_cons::offset) == 0x1f);  // RD/RD_WRAP of a 16-entry queue
  c->write32(R::cmdq_prod::offset, 0xfffff);
  CHECK(c->read32(R::cmdq_prod::offset) == 0xfffff);  // PROD: stored, no effect above the wrap
}

TEST_CASE("a full queue of commands is consumed, a hostile PROD costs one pass at most") {
  auto b = make_bench();
  setup_cmdq(*b, 3);  // 8 entries
  for (unsigned i = 0; i < 8; ++i) put(*b, i, tlbi_nsnh_all());
  b->write32(R::cr0::offset, 0x8);
  b->write32(R::cmdq_prod::offset, 0x8);  // index 0, wrap 1: full
  CHECK(b->read32(R::cmdq_cons::offset) == 0x8);
  b->write32(R::cmdq_prod::offset, 0xfffff);  // inconsistent: bits above the wrap ignored
  CHECK(b->read32(R::cmdq_cons::offset) == 0xf);
}

TEST_CASE("GERROR/GERRORN: a command error stops the queue until acknowledged") {
  auto b = make_bench();
  setup_cmdq(*b);
  b->dev.write(R::gerror_irq_cfg0::offset, 8, msi_doorbell);
  b->write32(R::gerror_irq_cfg1::offset, 0xabcd);
  b->write32(R::irq_ctrl::offset, 0x1);  // GERROR_IRQEN
  b->write32(R::cr0::offset, 0x8);
  put(*b, 0, tlbi_nsnh_all());
  put(*b, 1, {0x7f, 0});  // a Reserved opcode
  put(*b, 2, tlbi_nsnh_all());
  b->write32(R::cmdq_prod::offset, 3);

  const std::uint32_t cons = b->read32(R::cmdq_cons::offset);
  CHECK((cons & 0xfffff) == 1);  // RD stays at the offending command
  CHECK((cons >> 24) == static_cast<unsigned>(vsmmu::smmuv3::cerror::ill));
  CHECK(b->read32(R::gerror::offset) == 0x1);
  CHECK(b->read32(R::gerrorn::offset) == 0x0);
  REQUIRE(b->platform.count(signal::gerror, true) == 1);
  CHECK(b->platform.records().back().message.address == msi_doorbell);
  CHECK(b->platform.records().back().message.data == 0xabcd);

  // Not consumed while CMDQ_ERR is active.
  put(*b, 3, tlbi_nsnh_all());
  b->write32(R::cmdq_prod::offset, 4);
  CHECK((b->read32(R::cmdq_cons::offset) & 0xfffff) == 1);

  // Toggling an inactive error is diagnosed; the value is stored and the error counts as
  // active (no interrupt) until toggled back.
  b->write32(R::gerrorn::offset, 0x4);
  CHECK(b->read32(R::gerrorn::offset) == 0x4);
  CHECK(b->dev.diagnostics(vd::diagnostic::gerrorn_inactive) == 1);
  CHECK(b->platform.count(signal::gerror, true) == 1);
  b->write32(R::gerrorn::offset, 0x0);

  // Linux's recovery: replace the command with a CMD_SYNC, then acknowledge.
  put(*b, 1, sync_sev());
  b->write32(R::gerrorn::offset, 0x1);
  CHECK(b->read32(R::gerrorn::offset) == 0x1);
  CHECK((b->read32(R::cmdq_cons::offset) & 0xfffff) == 4);
  CHECK(b->dev.diagnostics(vd::diagnostic::command_error) == 1);

  // A second error toggles GERROR back to 0: active again, as GERROR != GERRORN.
  put(*b, 0, {0x00, 0});  // entry 0 again: the queue has wrapped
  b->write32(R::cmdq_prod::offset, 5);
  CHECK(b->read32(R::gerror::offset) == 0x0);
  CHECK(b->platform.count(signal::gerror, true) == 2);
}

TEST_CASE("GERROR and Event queue MSIs go to IRQ_CFG0.ADDR truncated to the OAS") {
  // §6.3.21: ADDR bits above IDR5.OAS are RES0; §3.4.3: an MSI write whose address is too large
  // is truncated to the OAS. A guest that sets them still gets its MSI at the low address.
  constexpr unsigned oas =
      vsmmu::smmuv3::address_bits(vd::default_config::id_registers.get<R::idr5::OAS>());
  static_assert(oas < 56, "the test needs an ADDR bit above the OAS");
  constexpr std::uint64_t above_oas = msi_doorbell | (std::uint64_t{1} << oas);

  auto b = make_bench();
  setup_cmdq(*b);
  b->dev.write(R::gerror_irq_cfg0::offset, 8, above_oas);
  b->write32(R::irq_ctrl::offset, 0x1);  // GERROR_IRQEN
  b->write32(R::cr0::offset, 0x8);
  put(*b, 0, {0x7f, 0});  // a Reserved opcode: CMDQ_ERR
  b->write32(R::cmdq_prod::offset, 1);
  REQUIRE(b->platform.count(signal::gerror, true) == 1);
  CHECK(b->platform.records().back().message.address == msi_doorbell);

  auto e = make_bench();
  setup_eventq(*e, 1);
  e->dev.write(R::eventq_irq_cfg0::offset, 8, above_oas);
  e->write32(R::irq_ctrl::offset, 0x4);  // EVENTQ_IRQEN
  e->write32(R::cr0::offset, 0x4);
  enable_with_bad_streams(*e);
  CHECK(e->dev.translate(5, std::nullopt, 0x1000, vsmmu::walk::access_kind::read).recorded());
  REQUIRE(e->platform.count(signal::eventq, true) == 1);
  CHECK(e->platform.records().back().message.address == msi_doorbell);
}

TEST_CASE("command fetch aborts and ILLEGAL commands report their CERROR") {
  auto b = make_bench();
  b->dev.write(R::cmdq_base::offset, 8, 0x7000'0000 | 2);  // unmapped: every fetch aborts
  b->write32(R::cr0::offset, 0x8);
  b->write32(R::cmdq_prod::offset, 1);
  CHECK((b->read32(R::cmdq_cons::offset) >> 24) ==
        static_cast<unsigned>(vsmmu::smmuv3::cerror::abt));

  using no_hyp = vd::config<vd::features{.hyp = false}>;
  auto c = make_bench<no_hyp>();
  setup_cmdq(*c);
  c->write32(R::cr0::offset, 0x8);
  put(*c, 0, cmd::make<cmd::tlbi_el2_all::layout>().words());  // needs IDR0.Hyp
  c->write32(R::cmdq_prod::offset, 1);
  CHECK(c->read32(R::cmdq_cons::offset) == (0x01U << 24 | 0));
  CHECK(c->read32(R::gerror::offset) == 1);

  auto d = make_bench();
  setup_cmdq(*d);
  d->write32(R::cr0::offset, 0x8);
  put(*d, 0, cmd::make<cmd::tlbi_el3_all::layout>().words());  // Secure only
  d->write32(R::cmdq_prod::offset, 1);
  CHECK(d->read32(R::gerror::offset) == 1);
}

TEST_CASE("CMD_SYNC signals completion by MSI; an aborted MSI is MSI_CMDQ_ABT_ERR") {
  auto b = make_bench();
  setup_cmdq(*b);
  b->write32(R::cr0::offset, 0x8);
  auto s = cmd::make<cmd::sync::layout>();
  s.set<cmd::sync::CS>(cmd::cs::sig_irq)
      .set<cmd::sync::MSIData>(0x55)
      .set<cmd::sync::MSIAddress>(msi_doorbell);
  put(*b, 0, s.words());
  b->write32(R::cmdq_prod::offset, 1);
  REQUIRE(b->platform.count(signal::cmd_sync, true) == 1);
  CHECK(b->platform.records().back().message.data == 0x55);
  CHECK(b->platform.records().back().message.address == msi_doorbell);

  b->platform.abort_msis(true);
  put(*b, 1, s.words());
  b->write32(R::cmdq_prod::offset, 2);
  CHECK(b->read32(R::gerror::offset) == (1U << 4));  // MSI_CMDQ_ABT_ERR; the queue goes on
  CHECK(b->read32(R::cmdq_cons::offset) == 2);
  CHECK(b->dev.diagnostics(vd::diagnostic::msi_abort) == 1);
}

TEST_CASE("Event queue: records, wrap, overflow and its acknowledgement") {
  auto b = make_bench();
  setup_eventq(*b, 1);  // 2 entries
  b->dev.write(R::eventq_irq_cfg0::offset, 8, msi_doorbell);
  b->write32(R::eventq_irq_cfg1::offset, 0x77);
  b->write32(R::irq_ctrl::offset, 0x4);  // EVENTQ_IRQEN
  b->write32(R::cr0::offset, 0x4);
  enable_with_bad_streams(*b);
  const std::uint32_t prod_reg = page1 + R::eventq_prod::offset;
  const std::uint32_t cons_reg = page1 + R::eventq_cons::offset;

  CHECK(b->dev.translate(5, std::nullopt, 0x1000, vsmmu::walk::access_kind::read).recorded());
  CHECK(b->dev.translate(6, std::nullopt, 0x2000, vsmmu::walk::access_kind::write).recorded());
  CHECK(b->read32(prod_reg) == 0x2);  // index 0, wrap 1: full
  // One interrupt: the queue went from empty to non-empty once (§3.18.2).
  CHECK(b->platform.count(signal::eventq, true) == 1);
  CHECK(b->platform.records().back().message.data == 0x77);
  // The record in memory is the event: C_BAD_STREAMID for StreamID 6.
  CHECK((b->mem.read64(eventq_base + 32).value & 0xff) == 0x02);
  CHECK((b->mem.read64(eventq_base + 32).value >> 32) == 6);

  // Full: the next record is discarded and OVFLG toggles, once.
  b->dev.translate(7, std::nullopt, 0x3000, vsmmu::walk::access_kind::read);
  CHECK(b->read32(prod_reg) == 0x8000'0002U);
  b->dev.translate(8, std::nullopt, 0x3000, vsmmu::walk::access_kind::read);
  CHECK(b->read32(prod_reg) == 0x8000'0002U);
  CHECK(b->dev.diagnostics(vd::diagnostic::event_dropped) == 2);

  // The guest consumes both and acknowledges the overflow.
  b->write32(cons_reg, 0x8000'0002U);
  CHECK(b->dev.translate(9, std::nullopt, 0x4000, vsmmu::walk::access_kind::read).recorded());
  CHECK(b->read32(prod_reg) == 0x8000'0003U);           // written at index 0, wrapped once
  CHECK(b->platform.count(signal::eventq, true) == 2);  // empty again before this record
  CHECK((b->mem.read64(eventq_base).value >> 32) == 9);
  // A new overflow toggles OVFLG back.
  b->dev.translate(10, std::nullopt, 0x4000, vsmmu::walk::access_kind::read);
  b->dev.translate(11, std::nullopt, 0x4000, vsmmu::walk::access_kind::read);
  CHECK(b->read32(prod_reg) == 0x0000'0000U);
}

TEST_CASE("events are dropped without overflow while EVENTQEN == 0 or EVENTQ_ABT_ERR is active") {
  auto b = make_bench();
  setup_eventq(*b, 1, false);  // the queue's memory is missing
  enable_with_bad_streams(*b);
  CHECK_FALSE(b->dev.translate(5, std::nullopt, 0, vsmmu::walk::access_kind::read).has_event ==
              false);
  CHECK(b->read32(page1 + R::eventq_prod::offset) == 0);  // EVENTQEN == 0: nothing, no OVFLG
  CHECK(b->read32(R::gerror::offset) == 0);

  b->write32(R::cr0::offset, 0x5);
  b->dev.translate(5, std::nullopt, 0, vsmmu::walk::access_kind::read);
  CHECK(b->read32(R::gerror::offset) == (1U << 2));  // EVENTQ_ABT_ERR
  b->mem.map(eventq_base, 4096);
  b->dev.translate(5, std::nullopt, 0, vsmmu::walk::access_kind::read);
  CHECK(b->read32(page1 + R::eventq_prod::offset) == 0);  // not writable while active
  b->write32(R::gerrorn::offset, 1U << 2);
  b->dev.translate(5, std::nullopt, 0, vsmmu::walk::access_kind::read);
  CHECK(b->read32(page1 + R::eventq_prod::offset) == 1);
  CHECK(b->dev.diagnostics(vd::diagnostic::event_dropped) == 3);
}

TEST_CASE("reset returns every register to its reset value") {
  auto b = make_bench();
  setup_cmdq(*b);
  setup_eventq(*b);
  b->write32(R::cr1::offset, 0xd75);
  b->write32(R::gbpa::offset, (1U << 31) | (1U << 20));
  b->write32(R::irq_ctrl::offset, 0x5);
  b->write32(R::cr0::offset, 0xd);
  put(*b, 0, {0x7f, 0});
  b->write32(R::cmdq_prod::offset, 1);
  REQUIRE(b->read32(R::gerror::offset) == 1);

  b->dev.reset();
  auto fresh = make_bench();
  CHECK(b->dev.registers() == fresh->dev.registers());
  for (const auto& r : vsmmu::smmuv3::register_catalog) {
    CAPTURE(r.name);
    const auto at = vsmmu::smmuv3::absolute_offset(r);
    CHECK(b->dev.read(at, 4) == fresh->dev.read(at, 4));
  }
  CHECK(b->read32(R::gbpa::offset) == R::gbpa::reset_value);
  CHECK_FALSE(b->dev.translation_state().smmuen);
}

TEST_CASE("random guest traffic keeps the register file consistent and never crashes") {
  auto b = make_bench();
  b->mem.map(0, 0x10'0000);  // queues and tables may land in memory, or not
  std::mt19937_64 rng(20261123);
  const std::uint32_t hot[] = {R::cr0::offset,
                               R::cmdq_base::offset,
                               R::cmdq_prod::offset,
                               R::cmdq_cons::offset,
                               R::eventq_base::offset,
                               R::strtab_base::offset,
                               R::strtab_base_cfg::offset,
                               R::gerrorn::offset,
                               R::irq_ctrl::offset,
                               R::gbpa::offset,
                               page1 + R::eventq_cons::offset};
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t pick = rng();
    const std::uint64_t value = rng() & (rng() | 0xffff'0000'000f'ffffU);
    const unsigned size = (pick & 0x10) != 0 ? 8 : (pick & 0x20) != 0 ? 4 : (pick >> 6) % 9;
    const std::uint64_t offset =
        (pick & 1) != 0 ? hot[(pick >> 8) % std::size(hot)] : (pick >> 12) % 0x20010;
    switch ((pick >> 1) % 4) {
      case 0:
        b->dev.write(offset, size, value);
        break;
      case 1:
        (void)b->dev.read(offset, size);
        break;
      case 2:
        b->dev.translate(static_cast<std::uint32_t>(value & 0x1ffff), std::nullopt, value,
                         vsmmu::walk::access_kind::read);
        break;
      default:
        (void)b->mem.write64((value >> 8) & 0xf'fff8, rng());  // the guest rewrites its memory
        break;
    }
    const auto& s = b->dev.registers();
    REQUIRE((s.cr0 & ~0xdU) == 0);
    REQUIRE(s.cr0ack == s.cr0);
    REQUIRE((s.gerror & ~0x1b5U) == 0);
    REQUIRE((s.gbpa & ~0x001f'3f1fU) == 0);
  }
  CHECK(b->dev.diagnostics_total() > 0);
}
