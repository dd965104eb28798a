// SPDX-License-Identifier: BSL-1.0
// The Command queue consumer: wrap, bounds, command errors, CMD_SYNC, the GERROR handshake.
#include <catch2/catch.hpp>

#include <vsmmu/memory/sparse.hpp>
#include <vsmmu/queue/command_queue.hpp>
#include <vsmmu/queue/signals.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/features.hpp>

#include <cstdint>
#include <vector>

#include "fixture.hpp"

namespace c = vsmmu::smmuv3::cmd;
namespace regs = vsmmu::smmuv3::regs;
using namespace vsmmu::queue;
using vsmmu::queue::test::cmdq_fixture;
using vsmmu::queue::test::make_sync;
using vsmmu::queue::test::plain;
using vsmmu::queue::test::synchronizing_recorder;
using vsmmu::queue::test::tlbi_va;
using vsmmu::queue::test::to_command;
using vsmmu::smmuv3::cerror;
using op = vsmmu::smmuv3::cmd::opcode;

TEST_CASE("cmdq: commands between CONS and PROD reach the handler in order", "[queue][cmdq]") {
  cmdq_fixture<> f;
  f.produce(tlbi_va(0x1000));
  f.produce(plain<c::cfgi_ste::layout>());
  f.produce(tlbi_va(0x2000));
  const auto r = f.run();
  CHECK(r.consumed == 3);
  CHECK(r.executed == 3);
  CHECK(r.stop == consume_stop::empty);
  CHECK(r.error == cerror::none);
  CHECK(f.handler.opcodes() == std::vector<op>{op::tlbi_nh_va, op::cfgi_ste, op::tlbi_nh_va});
  CHECK(f.handler.seen[2] == tlbi_va(0x2000));
  CHECK(f.cons_pointer() == f.st.prod);
  // Nothing more to do.
  CHECK(f.run().consumed == 0);
  CHECK(f.handler.seen.size() == 3);
}

TEST_CASE("cmdq: consumption wraps the index and toggles RD_WRAP", "[queue][cmdq]") {
  cmdq_fixture<> f(2);         // 4 entries
  f.st.prod = f.st.cons = 3;   // software initialised both to index 3
  f.produce(tlbi_va(0x3000));  // at index 3
  f.produce(tlbi_va(0x4000));  // index 0, PROD wraps
  f.produce(tlbi_va(0x5000));  // index 1
  CHECK(f.st.prod == 0b110);
  const auto r = f.run();
  CHECK(r.consumed == 3);
  CHECK(f.cons_pointer() == 0b110);  // index 2, wrap 1
  REQUIRE(f.handler.seen.size() == 3);
  CHECK(f.handler.seen[0] == tlbi_va(0x3000));
  CHECK(f.handler.seen[1] == tlbi_va(0x4000));
  CHECK(f.handler.seen[2] == tlbi_va(0x5000));
}

TEST_CASE("cmdq: a full queue is consumed whole, never more than its size", "[queue][cmdq]") {
  cmdq_fixture<> f(3);
  f.cfg.features.sev = true;
  for (int i = 0; i < 8; ++i) f.produce(tlbi_va(0x1000 * (i + 1)));
  REQUIRE(f.cfg.geometry.full(f.st.prod, f.st.cons));
  const auto r = f.run();
  CHECK(r.consumed == 8);
  CHECK(f.handler.seen.size() == 8);
  CHECK(f.cfg.geometry.empty(f.st.prod, f.st.cons));
  // §4.1.2: with IDR0.SEV, a WFE wake-up once a full queue becomes non-full.
  CHECK(f.signals.count(signal::wfe_wakeup, false) == 1);
  CHECK(f.run().consumed == 0);
}

TEST_CASE("cmdq: no wake-up event without SEV or when the queue was not full", "[queue][cmdq]") {
  cmdq_fixture<> f(1);
  f.produce(tlbi_va(0x1000));
  f.produce(tlbi_va(0x2000));
  f.run();  // full, but no SEV
  f.cfg.features.sev = true;
  f.produce(tlbi_va(0x3000));
  f.run();  // SEV, but not full
  CHECK(f.signals.records().empty());
}

TEST_CASE("cmdq: a budget splits the work across calls", "[queue][cmdq]") {
  cmdq_fixture<> f(3);
  for (int i = 0; i < 5; ++i) f.produce(tlbi_va(0x1000 * (i + 1)));
  auto r = f.run(2);
  CHECK(r.consumed == 2);
  CHECK(r.stop == consume_stop::budget);
  r = f.run(2);
  CHECK(r.consumed == 2);
  r = f.run(2);
  CHECK(r.consumed == 1);
  CHECK(r.stop == consume_stop::empty);
  CHECK(f.handler.seen.size() == 5);
  CHECK(f.run(0).stop == consume_stop::empty);
}

TEST_CASE("cmdq: hostile PROD values", "[queue][cmdq]") {
  cmdq_fixture<> f(3);  // 8 entries: index [2:0], wrap [3]
  for (std::uint32_t i = 0; i < 8; ++i) f.put(i, tlbi_va(0x1000 * (i + 1)));

  SECTION("bits above the wrap flag are ignored") {
    f.st.prod = 0xfff0'0003;  // RES0 bits set, index 3, wrap 0
    const auto r = f.run();
    CHECK(r.consumed == 3);
    CHECK(f.st.cons == 3);  // the SMMU's CONS has them clear (RAZ)
  }
  SECTION("an inconsistent PROD (index ahead, wrap differs) consumes nothing") {
    f.st.prod = 0b1011;  // index 3 wrap 1 with CONS index 0 wrap 0
    const auto r = f.run();
    CHECK(r.consumed == 0);
    CHECK(r.stop == consume_stop::inconsistent);
    CHECK(f.handler.seen.empty());
    CHECK_FALSE(f.cmdq_error_active());
  }
  SECTION("an inconsistent PROD (index behind, same wrap) consumes nothing") {
    f.st.cons = 5;
    f.st.prod = 2;
    CHECK(f.run().stop == consume_stop::inconsistent);
    CHECK(f.st.cons == 5);
  }
  SECTION("every PROD value: at most the queue size per call, never past PROD") {
    for (std::uint32_t prod = 0; prod < 0x40; ++prod) {
      for (std::uint32_t cons = 0; cons < 0x10; ++cons) {
        f.st.prod = prod | 0xabc0'0000;
        f.st.cons = cons;
        f.handler.seen.clear();
        const auto r = f.run();
        const std::uint32_t pending = f.cfg.geometry.distance(prod, cons);
        CAPTURE(prod, cons);
        CHECK(r.consumed <= 8);
        if (pending <= 8) {
          CHECK(r.consumed == pending);
          CHECK(f.cons_pointer() == f.cfg.geometry.pointer(prod));
        } else {
          CHECK(r.consumed == 0);
        }
      }
    }
  }
}

TEST_CASE("cmdq: a disabled queue fetches nothing", "[queue][cmdq]") {
  cmdq_fixture<> f;
  f.produce(tlbi_va(0x1000));
  f.cfg.enabled = false;
  const auto r = f.run();
  CHECK(r.stop == consume_stop::disabled);
  CHECK(r.consumed == 0);
  CHECK(f.st.cons == 0);
  f.cfg.enabled = true;
  CHECK(f.run().consumed == 1);
}

TEST_CASE("cmdq: CERROR_ILL stops at the failing entry; the guest acknowledges and resumes",
          "[queue][cmdq]") {
  cmdq_fixture<> f(3);
  f.cfg.gerror_irq.enabled = true;
  f.cfg.gerror_irq.msi_address = 0x9000;
  f.cfg.gerror_irq.msi_data = 0x77;
  f.produce(tlbi_va(0x1000));
  f.produce(command{{0x0f, 0}});  // a Reserved opcode
  f.produce(tlbi_va(0x3000));

  auto r = f.run();
  CHECK(r.consumed == 1);
  CHECK(r.stop == consume_stop::command_error);
  CHECK(r.error == cerror::ill);
  CHECK(r.activated == gerror_bit::cmdq_err);
  CHECK(f.cons_pointer() == 1);  // RD points at the failing command
  CHECK(f.st.error_code() == cerror::ill);
  CHECK(f.cmdq_error_active());
  CHECK(f.handler.seen.size() == 1);
  // The GERROR interrupt: wired pulse and MSI.
  CHECK(f.signals.count(signal::gerror, false) == 1);
  REQUIRE(f.signals.count(signal::gerror, true) == 1);
  CHECK(f.signals.records().back().message.address == 0x9000);
  CHECK(f.signals.records().back().message.data == 0x77);

  // Nothing is consumed while CMDQ_ERR is active, even after a PROD write.
  f.produce(tlbi_va(0x4000));
  r = f.run();
  CHECK(r.stop == consume_stop::error_active);
  CHECK(r.consumed == 0);
  CHECK(f.handler.seen.size() == 1);

  // Software fixes the entry in place and acknowledges through GERRORN.
  f.put(1, plain<c::tlbi_nsnh_all::layout>());
  f.errors.write_gerrorn(f.errors.gerror);
  r = f.run();
  CHECK(r.consumed == 3);
  CHECK(r.error == cerror::none);
  CHECK(f.handler.opcodes() ==
        std::vector<op>{op::tlbi_nh_va, op::tlbi_nsnh_all, op::tlbi_nh_va, op::tlbi_nh_va});
}

TEST_CASE("cmdq: CMDQ_ERR is not re-toggled while active, and CMDQEN does not acknowledge it",
          "[queue][cmdq]") {
  cmdq_fixture<> f;
  f.produce(command{{0x00, 0}});
  f.run();
  const auto gerror = f.errors.gerror;
  f.cfg.enabled = false;
  f.run();
  f.cfg.enabled = true;
  CHECK(f.run().stop == consume_stop::error_active);
  CHECK(f.errors.gerror == gerror);
  // After acknowledgement a second error toggles GERROR.CMDQ_ERR back.
  f.errors.write_gerrorn(f.errors.gerror);
  CHECK(f.run().error == cerror::ill);
  CHECK(f.errors.gerror != gerror);
  CHECK(f.cmdq_error_active());
}

TEST_CASE("cmdq: while the error is active software may move PROD back to CONS", "[queue][cmdq]") {
  cmdq_fixture<> f;
  f.produce(tlbi_va(0x1000));
  f.produce(command{{0xff, 0}});
  f.produce(tlbi_va(0x3000));
  f.run();
  REQUIRE(f.cons_pointer() == 1);
  f.st.prod = 1;  // §7.1: remove the erroneous and newer commands
  f.errors.write_gerrorn(f.errors.gerror);
  const auto r = f.run();
  CHECK(r.consumed == 0);
  CHECK(r.stop == consume_stop::empty);
  CHECK(f.handler.seen.size() == 1);
}

TEST_CASE("cmdq: a handler that refuses a command raises CERROR_ILL at it", "[queue][cmdq]") {
  cmdq_fixture<> f;
  f.handler.answer = [](const command& x) {
    return x.opcode() == op::cfgi_ste ? command_status::illegal : command_status::ok;
  };
  f.produce(tlbi_va(0x1000));
  f.produce(plain<c::cfgi_ste::layout>());
  f.produce(tlbi_va(0x2000));
  const auto r = f.run();
  CHECK(r.error == cerror::ill);
  CHECK(r.executed == 2);
  CHECK(r.consumed == 1);
  CHECK(f.cons_pointer() == 1);
  CHECK(f.handler.seen.size() == 2);  // the third command was never fetched
}

TEST_CASE("cmdq: a fetch abort is CERROR_ABT with CONS on the entry", "[queue][cmdq]") {
  // A 512-entry queue over two 4KB pages, the second one missing.
  vsmmu::memory::sparse_memory memory;
  memory.map(0x10000, 0x1000);
  command_queue_config cfg;
  cfg.base = 0x10000;
  cfg.geometry = ring(9);
  cfg.enabled = true;
  command_queue_state st;
  global_errors errors;
  recording_signals signals;
  vsmmu::queue::test::recording_handler handler;
  for (std::uint32_t i = 254; i < 256; ++i) {
    (void)memory.write64(0x10000 + i * 16, tlbi_va(0x1000).words[0]);
    (void)memory.write64(0x10000 + i * 16 + 8, tlbi_va(0x1000).words[1]);
  }
  st.cons = 254;
  st.prod = 258;
  const auto r = consume_commands(st, errors, cfg, memory, handler, signals);
  CHECK(r.consumed == 2);
  CHECK(r.error == cerror::abt);
  CHECK(cfg.geometry.pointer(st.cons) == 256);
  CHECK(st.error_code() == cerror::abt);
  CHECK(errors.is_active(gerror_bit::cmdq_err));
  // No GERROR interrupt without IRQ_CTRL.GERROR_IRQEN.
  CHECK(signals.records().empty());
  // A queue base outside guest memory aborts on the first entry.
  errors.write_gerrorn(errors.gerror);
  cfg.base = 0xdead'0000;
  st.cons = 0;
  st.prod = 1;
  CHECK(consume_commands(st, errors, cfg, memory, handler, signals).error == cerror::abt);
  CHECK(st.cons == (0x02U << 24));
}

TEST_CASE("cmdq: CMD_SYNC completion signals", "[queue][cmdq]") {
  cmdq_fixture<> f;
  SECTION("SIG_NONE signals nothing and never reaches the handler") {
    f.produce(make_sync(c::cs::sig_none, 0x8000, 1));
    const auto r = f.run();
    CHECK(r.syncs == 1);
    CHECK(r.executed == 0);
    CHECK(f.handler.seen.empty());
    CHECK(f.signals.records().empty());
  }
  const auto sig_irq_to = [&](std::uint64_t address) {
    f.produce(to_command(c::make<c::sync::layout>()
                             .with<c::sync::CS>(c::cs::sig_irq)
                             .with<c::sync::MSIAddress>(address)
                             .with<c::sync::MSIData>(0xcafe)
                             .with<c::sync::MSIAttr>(0xf)
                             .with<c::sync::MSH>(c::msh::inner_shareable)));
    f.run();
    REQUIRE(f.signals.records().size() == 2);
    CHECK(f.signals.records()[0].source == signal::cmd_sync);
    CHECK_FALSE(f.signals.records()[0].msi);
    const auto& m = f.signals.records()[1];
    CHECK(m.msi);
    CHECK(m.message.address == address);
    CHECK(m.message.data == 0xcafe);
    CHECK(m.message.mem_attr == 0xf);
    CHECK(m.message.sh == 0b11);
  };
  SECTION("SIG_IRQ: the wired interrupt and an MSI of MSIData to MSIAddress") {
    sig_irq_to(0x0000'f234'5678'9abcULL);  // [47:2]: bits [55:48] are RES0 in SMMUv3.0
  }
  SECTION("SIG_IRQ from SMMUv3.4: MSIAddress is [55:2]") {
    f.cfg.features =
        command_features::from(vsmmu::smmuv3::default_id_registers.with<regs::aidr::ArchMinorRev>(
            regs::arch_minor_rev::v3_4));
    sig_irq_to(0x00ff'1234'5678'9abcULL);
  }
  SECTION("SIG_IRQ with MSIAddress == 0: the wired interrupt only") {
    f.produce(make_sync(c::cs::sig_irq, 0, 5));
    f.run();
    CHECK(f.signals.count(signal::cmd_sync, false) == 1);
    CHECK(f.signals.count(signal::cmd_sync, true) == 0);
  }
  SECTION("SIG_IRQ without IDR0.MSI: MSIAddress and MSIData are IGNORED") {
    f.cfg.features.msi = false;
    f.produce(make_sync(c::cs::sig_irq, 0x8000, 5));
    f.run();
    CHECK(f.signals.count(signal::cmd_sync, false) == 1);
    CHECK(f.signals.count(signal::cmd_sync, true) == 0);
  }
  const auto msi_sh = [&](std::uint8_t attr, c::msh sh) {
    f.produce(to_command(c::make<c::sync::layout>()
                             .with<c::sync::CS>(c::cs::sig_irq)
                             .with<c::sync::MSIAddress>(0x8000)
                             .with<c::sync::MSIAttr>(attr)
                             .with<c::sync::MSH>(sh)));
    f.run();
    return f.signals.records().back().message.sh;
  };
  SECTION("MSH == 0b01 is treated as Non-shareable for a cacheable MSIAttr") {
    CHECK(msi_sh(0xf, c::msh{1}) == 0);  // Normal iWB-oWB
    CHECK(msi_sh(0x6, c::msh{1}) == 0);  // Normal iWT-oNC
  }
  SECTION("Device and Normal iNC-oNC MSIs are Outer Shareable whatever MSH says (§4.7.3)") {
    CHECK(msi_sh(0x0, c::msh{1}) == 0b10);                // Device-nGnRnE
    CHECK(msi_sh(0x3, c::msh::non_shareable) == 0b10);    // Device-GRE
    CHECK(msi_sh(0x8, c::msh::inner_shareable) == 0b10);  // Reserved, as Device-nGnRnE
    CHECK(msi_sh(0x5, c::msh::inner_shareable) == 0b10);  // Normal iNC-oNC
  }
  SECTION("SIG_SEV sends an event with IDR0.SEV and acts as SIG_NONE without") {
    f.produce(make_sync(c::cs::sig_sev));
    f.run();
    CHECK(f.signals.records().empty());
    f.cfg.features.sev = true;
    f.produce(make_sync(c::cs::sig_sev));
    f.run();
    CHECK(f.signals.count(signal::wfe_wakeup, false) == 1);
  }
  SECTION("CS == 0b11 is CERROR_ILL and signals nothing") {
    f.produce(tlbi_va(0x1000));
    f.produce(to_command(c::make<c::sync::layout>().with<c::sync::CS>(c::cs{3})));
    const auto r = f.run();
    CHECK(r.error == cerror::ill);
    CHECK(f.cons_pointer() == 1);
    CHECK(f.signals.count(signal::cmd_sync, false) == 0);
  }
  SECTION("an aborted MSI activates MSI_CMDQ_ABT_ERR, not a command error") {
    f.cfg.gerror_irq.enabled = true;
    f.signals.abort_msis(true);
    f.produce(make_sync(c::cs::sig_irq, 0x8000, 1));
    f.produce(tlbi_va(0x1000));
    const auto r = f.run();
    CHECK(r.consumed == 2);
    CHECK(r.error == cerror::none);
    CHECK(r.activated == gerror_bit::msi_cmdq_abt_err);
    CHECK(f.errors.is_active(gerror_bit::msi_cmdq_abt_err));
    CHECK_FALSE(f.cmdq_error_active());
    CHECK(f.signals.count(signal::gerror, false) == 1);
  }
}

TEST_CASE("cmdq: CONS passes a CMD_SYNC before its completion signal is sent", "[queue][cmdq]") {
  // Linux polls on MSIs written into the CMD_SYNC entry itself: the MSI lands in guest memory.
  cmdq_fixture<> f;
  const std::uint64_t entry = cmdq_fixture<>::queue_base + 16;  // the CMD_SYNC at index 1
  f.produce(tlbi_va(0x1000));
  f.produce(make_sync(c::cs::sig_irq, entry, 0x5eed));
  memory_msi_signals<cmdq_fixture<>::memory_type> msis(*f.memory);
  const auto r = consume_commands(f.st, f.errors, f.cfg, *f.memory, f.handler, msis);
  CHECK(r.syncs == 1);
  CHECK((f.memory->read64(entry).value & 0xffff'ffffU) == 0x5eed);
  CHECK(f.cons_pointer() == 2);
}

TEST_CASE("cmdq: an incomplete ATC invalidation fails the next CMD_SYNC", "[queue][cmdq]") {
  cmdq_fixture<> f(3);
  f.cfg.features.ats = true;
  f.handler.answer = [](const command& x) {
    return x.opcode() == op::atc_inv ? command_status::atc_incomplete : command_status::ok;
  };
  f.produce(plain<c::atc_inv::layout>());
  f.produce(tlbi_va(0x1000));
  f.produce(make_sync(c::cs::sig_irq, 0x8000, 1));
  f.produce(tlbi_va(0x2000));

  auto r = f.run();
  CHECK(r.error == cerror::atc_inv_sync);
  CHECK(r.consumed == 2);
  CHECK(f.cons_pointer() == 2);  // CONS points at the CMD_SYNC
  CHECK(f.st.error_code() == cerror::atc_inv_sync);
  CHECK(f.signals.count(signal::cmd_sync, false) == 0);  // no completion signal
  CHECK(f.handler.seen.size() == 2);

  // Acknowledged: the re-fetched CMD_SYNC completes.
  f.errors.write_gerrorn(f.errors.gerror);
  r = f.run();
  CHECK(r.error == cerror::none);
  CHECK(r.syncs == 1);
  CHECK(r.consumed == 2);
  CHECK(f.signals.count(signal::cmd_sync, true) == 1);
}

TEST_CASE("cmdq: a CMD_SYNC completes only the ATC failures before it", "[queue][cmdq]") {
  cmdq_fixture<> f(3);
  f.cfg.features.ats = true;
  f.produce(plain<c::atc_inv::layout>());
  f.produce(make_sync());
  f.handler.answer = [](const command&) { return command_status::atc_incomplete; };
  f.run();  // the ATC_INV failed, the CMD_SYNC reported it
  REQUIRE(f.st.error_code() == cerror::atc_inv_sync);
  f.handler.answer = nullptr;
  f.errors.write_gerrorn(f.errors.gerror);
  f.run();
  CHECK_FALSE(f.st.atc_inv_failed);
  // A later good ATC_INV + CMD_SYNC pair completes.
  f.produce(plain<c::atc_inv::layout>());
  f.produce(make_sync());
  const auto r = f.run();
  CHECK(r.error == cerror::none);
  CHECK(r.syncs == 1);
}

TEST_CASE("cmdq: the ATC failure survives across calls until its CMD_SYNC", "[queue][cmdq]") {
  cmdq_fixture<> f(3);
  f.cfg.features.ats = true;
  f.handler.answer = [](const command&) { return command_status::atc_incomplete; };
  f.produce(plain<c::atc_inv::layout>());
  f.run();
  CHECK(f.st.atc_inv_failed);
  f.handler.answer = nullptr;
  f.produce(make_sync());
  CHECK(f.run().error == cerror::atc_inv_sync);
}

TEST_CASE("cmdq: a synchronizing handler is asked at each CMD_SYNC", "[queue][cmdq]") {
  cmdq_fixture<synchronizing_recorder> f;
  f.produce(tlbi_va(0x1000));
  f.produce(make_sync());
  f.produce(make_sync());
  CHECK(f.run().syncs == 2);
  CHECK(f.handler.syncs == 2);

  f.handler.sync_answer = command_status::atc_incomplete;
  f.produce(make_sync(c::cs::sig_irq, 0x8000, 1));
  auto r = f.run();
  CHECK(r.error == cerror::atc_inv_sync);
  CHECK(f.signals.records().empty());

  f.handler.sync_answer = command_status::illegal;
  f.errors.write_gerrorn(f.errors.gerror);
  r = f.run();
  CHECK(r.error == cerror::ill);

  f.handler.sync_answer = command_status::ok;
  f.errors.write_gerrorn(f.errors.gerror);
  r = f.run();
  CHECK(r.syncs == 1);
  CHECK(f.handler.syncs == 5);
}

TEST_CASE("cmdq: CMD_PREFETCH_* reach the handler as hints", "[queue][cmdq]") {
  cmdq_fixture<> f;
  f.produce(to_command(c::make<c::prefetch_config::layout>().with<c::StreamID>(7)));
  f.produce(to_command(c::make<c::prefetch_addr::layout>().with<c::prefetch_addr::Addr>(0x4000)));
  f.run();
  CHECK(f.handler.opcodes() == std::vector<op>{op::prefetch_config, op::prefetch_addr});
}

TEST_CASE("cmdq: with SMMUEN == 0 ATC_INV, PRI_RESP and prefetches are consumed without effect",
          "[queue][cmdq]") {
  cmdq_fixture<> f;
  f.cfg.features.ats = true;
  f.cfg.features.pri = true;
  f.cfg.smmuen = false;
  f.produce(plain<c::atc_inv::layout>());
  f.produce(plain<c::pri_resp::layout>());
  f.produce(plain<c::prefetch_config::layout>());
  f.produce(plain<c::cfgi_ste::layout>());  // invalidations still apply (§6.3.9.6)
  const auto r = f.run();
  CHECK(r.consumed == 4);
  CHECK(r.executed == 1);
  CHECK(f.handler.opcodes() == std::vector<op>{op::cfgi_ste});
  // Still validated: ATC_INV is ILLEGAL without ATS, whatever SMMUEN says.
  f.cfg.features.ats = false;
  f.produce(plain<c::atc_inv::layout>());
  CHECK(f.run().error == cerror::ill);
}

TEST_CASE("cmdq: CERROR paths for feature-gated commands end to end", "[queue][cmdq]") {
  cmdq_fixture<> f;
  f.cfg.features.hyp = false;
  f.produce(tlbi_va(0x1000));
  f.produce(plain<c::tlbi_el2_all::layout>());
  auto r = f.run();
  CHECK(r.error == cerror::ill);
  CHECK(f.cons_pointer() == 1);
  CHECK(f.handler.seen.size() == 1);
  // EL3 on the Non-secure queue.
  f.put(1, plain<c::tlbi_el3_all::layout>());
  f.errors.write_gerrorn(f.errors.gerror);
  r = f.run();
  CHECK(r.error == cerror::ill);
  CHECK(f.cons_pointer() == 1);
}

TEST_CASE("cmdq: from_registers decodes SMMU_CMDQ_BASE and caps LOG2SIZE", "[queue][cmdq]") {
  namespace regs = vsmmu::smmuv3::regs;
  const auto idr = vsmmu::smmuv3::default_id_registers.with<regs::idr1::CMDQS>(6);
  regs::cmdq_base::value base;
  base.set<regs::cmdq_base::ADDR>(0x8000'1000).set<regs::cmdq_base::LOG2SIZE>(10);
  const auto cfg = command_queue_config::from_registers(base.word(0), idr, true, true);
  CHECK(cfg.base == 0x8000'1000);
  CHECK(cfg.geometry.log2size() == 6);
  CHECK(cfg.enabled);
  CHECK(cfg.features == command_features::from(idr));
}

namespace {
struct nothrow_handler {
  command_status execute(const command&) noexcept { return command_status::ok; }
};
}  // namespace

TEST_CASE("cmdq: the consumer is noexcept exactly when the handler is", "[queue][cmdq]") {
  using mem = cmdq_fixture<>::memory_type;
  command_queue_state st;
  global_errors e;
  command_queue_config cfg;
  recording_signals s;
  nothrow_handler quiet;
  vsmmu::queue::test::recording_handler loud;
  const mem* m = nullptr;
  STATIC_REQUIRE(noexcept(consume_commands(st, e, cfg, *m, quiet, s)));
  STATIC_REQUIRE_FALSE(noexcept(consume_commands(st, e, cfg, *m, loud, s)));
  // An empty queue: nothing is fetched, the handlers are never called.
  mem memory;
  CHECK(consume_commands(st, e, cfg, memory, quiet, s).stop == consume_stop::disabled);
}
