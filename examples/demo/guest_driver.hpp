// SPDX-License-Identifier: BSL-1.0
#pragma once

// A small guest SMMUv3 driver: what Linux's arm-smmu-v3 driver does at probe (read the ID
// registers, allocate the queues and a 2-level Stream table, enable the Command queue, then the
// Event queue, then translation, with the invalidations it issues), and the map / unmap /
// invalidate / read-events calls a DMA API makes. It talks to the model only through MMIO
// reads and writes and guest memory, as a guest does. The demo and tests/device use it.

#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/l1.hpp>
#include <vsmmu/smmuv3/registers.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/testing/table_builder.hpp>
#include <vsmmu/walk/result.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace demo {

namespace R = vsmmu::smmuv3::regs;
namespace cmd = vsmmu::smmuv3::cmd;

// What the driver learned from the ID registers.
struct probed {
  bool s1 = false;
  bool s2 = false;
  bool hyp = false;
  bool two_level = false;
  bool msi = false;
  unsigned sidsize = 0;
  unsigned cmdqs = 0;
  unsigned eventqs = 0;
  unsigned oas = 0;
};

template <class Device, class Memory>
class guest_driver {
 public:
  // Guest memory for the driver's allocations: [pool, pool + pool_size).
  guest_driver(Device& smmu, Memory& mem, std::uint64_t pool, std::uint64_t pool_size)
      : smmu_(smmu), mem_(mem), tables_(mem, pool, pool_size) {}

  std::uint32_t read32(std::uint32_t off) { return static_cast<std::uint32_t>(smmu_.read(off, 4)); }
  void write32(std::uint32_t off, std::uint32_t v) { smmu_.write(off, 4, v); }
  void write64(std::uint32_t off, std::uint64_t v) { smmu_.write(off, 8, v); }

  probed probe() {
    const R::idr0::value idr0{{read32(R::idr0::offset)}};
    const R::idr1::value idr1{{read32(R::idr1::offset)}};
    const R::idr5::value idr5{{read32(R::idr5::offset)}};
    probed p;
    p.s1 = idr0.get<R::idr0::S1P>();
    p.s2 = idr0.get<R::idr0::S2P>();
    p.hyp = idr0.get<R::idr0::Hyp>();
    p.two_level = idr0.get<R::idr0::ST_LEVEL>() == R::st_level::two_level;
    p.msi = idr0.get<R::idr0::MSI>();
    p.sidsize = idr1.get<R::idr1::SIDSIZE>();
    p.cmdqs = idr1.get<R::idr1::CMDQS>();
    p.eventqs = idr1.get<R::idr1::EVENTQS>();
    p.oas = vsmmu::smmuv3::address_bits(idr5.get<R::idr5::OAS>());
    features_ = p;
    return p;
  }

  // Queues of 2^cmdq_log2 commands and 2^eventq_log2 events (capped at what IDR1 allows), and
  // a 2-level Stream table covering SIDSIZE bits with 256 STEs per level 2 table (SPLIT 8).
  void allocate(unsigned cmdq_log2, unsigned eventq_log2) {
    cmdq_log2_ = cmdq_log2 < features_.cmdqs ? cmdq_log2 : features_.cmdqs;
    eventq_log2_ = eventq_log2 < features_.eventqs ? eventq_log2 : features_.eventqs;
    const std::uint64_t cmdq_bytes = std::uint64_t{16} << cmdq_log2_;
    const std::uint64_t eventq_bytes = std::uint64_t{32} << eventq_log2_;
    cmdq_ = tables_.alloc(cmdq_bytes, cmdq_bytes < 32 ? 32 : cmdq_bytes);
    eventq_ = tables_.alloc(eventq_bytes, eventq_bytes < 32 ? 32 : eventq_bytes);
    strtab_.two_level = features_.two_level;
    strtab_.split = 8;
    strtab_.log2size = features_.sidsize;
    const unsigned l1_bits = strtab_.log2size > 8 ? strtab_.log2size - 8 : 0;
    const std::uint64_t l1_bytes = std::uint64_t{8} << l1_bits;
    strtab_.base = tables_.alloc(l1_bytes, l1_bytes < 64 ? 64 : l1_bytes);
  }

  // arm_smmu_device_reset(), in its order.
  void enable() {
    // Tables and queues are write-back cacheable, inner shareable; CR2: record bad StreamIDs,
    // and E2H when the SMMU has Hyp.
    write32(R::cr1::offset, 0x0d75);
    write32(R::cr2::offset, (1U << 1) | (features_.hyp ? 1U : 0U));

    write64(R::strtab_base::offset, strtab_.base | (std::uint64_t{1} << 62));
    R::strtab_base_cfg::value cfg;
    cfg.set<R::strtab_base_cfg::FMT>(strtab_.two_level ? R::strtab_fmt::two_level
                                                       : R::strtab_fmt::linear)
        .set<R::strtab_base_cfg::SPLIT>(static_cast<std::uint8_t>(strtab_.split))
        .set<R::strtab_base_cfg::LOG2SIZE>(static_cast<std::uint8_t>(strtab_.log2size));
    write32(R::strtab_base_cfg::offset, cfg.word(0));

    write64(R::cmdq_base::offset, cmdq_ | (std::uint64_t{1} << 62) | cmdq_log2_);
    write32(R::cmdq_prod::offset, 0);
    write32(R::cmdq_cons::offset, 0);
    cr0_ = 1U << 3;  // CMDQEN
    update_cr0();

    // Invalidate any cached configuration and TLB entries before translation is enabled.
    submit(cmd::make_cfgi_all().words());
    sync();
    if (features_.hyp) submit(cmd::make<cmd::tlbi_el2_all::layout>().words());
    submit(cmd::make<cmd::tlbi_nsnh_all::layout>().words());
    sync();

    write64(R::eventq_base::offset, eventq_ | (std::uint64_t{1} << 62) | eventq_log2_);
    write32(R::page_size + R::eventq_prod::offset, 0);
    write32(R::page_size + R::eventq_cons::offset, 0);
    cr0_ |= 1U << 2;  // EVENTQEN
    update_cr0();

    write32(R::irq_ctrl::offset, 0);               // interrupts off while they are configured
    write32(R::irq_ctrl::offset, (1U << 2) | 1U);  // EVENTQ_IRQEN, GERROR_IRQEN

    write32(R::gbpa::offset, (1U << 31) | (1U << 20));  // Update, ABORT: no bypass
    cr0_ |= 1U;                                         // SMMUEN
    update_cr0();
  }

  // Writes CR0 and waits for CR0ACK, as the driver's write_reg_sync does.
  void update_cr0() {
    write32(R::cr0::offset, cr0_);
    for (int i = 0; i < 1000 && read32(R::cr0ack::offset) != cr0_; ++i) {
    }
  }

  // Queues one command; commands are consumed when PROD is written.
  bool submit(const std::array<std::uint64_t, 2>& c) {
    const std::uint32_t size = 1U << cmdq_log2_;
    const std::uint32_t prod = read32(R::cmdq_prod::offset) & (2 * size - 1);
    const std::uint32_t cons = read32(R::cmdq_cons::offset) & (2 * size - 1);
    if ((prod ^ cons) == size) return false;  // full
    const std::uint64_t at = cmdq_ + std::uint64_t{prod & (size - 1)} * 16;
    tables_.write64(at, c[0]);
    tables_.write64(at + 8, c[1]);
    write32(R::cmdq_prod::offset, (prod + 1) & (2 * size - 1));
    return true;
  }

  // Linux's MSI polling: CMD_SYNC signals completion with an MSI that writes 0 over the
  // command's own first word. Needs MSIs and a platform whose MSIs reach guest memory.
  void use_msi_polling(bool on) { msi_polling_ = on && features_.msi; }

  // CMD_SYNC, completed by MSI polling or by polling CONS. True when it completed.
  bool sync() {
    const std::uint32_t size = 1U << cmdq_log2_;
    const std::uint32_t prod = read32(R::cmdq_prod::offset) & (2 * size - 1);
    const std::uint64_t at = cmdq_ + std::uint64_t{prod & (size - 1)} * 16;
    auto c = cmd::make<cmd::sync::layout>();
    if (msi_polling_) {
      c.set<cmd::sync::CS>(cmd::cs::sig_irq).set<cmd::sync::MSIData>(0);
      c.set<cmd::sync::MSIAddress>(at);
    }
    if (!submit(c.words())) return false;
    if (msi_polling_) return (tables_.read64(at) & 0xffff'ffffU) == 0 && consumed();
    return consumed();
  }

  [[nodiscard]] bool consumed() {
    return (read32(R::cmdq_cons::offset) & 0xfffff) == (read32(R::cmdq_prod::offset) & 0xfffff);
  }
  [[nodiscard]] std::uint8_t command_error() {
    return static_cast<std::uint8_t>((read32(R::cmdq_cons::offset) >> 24) & 0x7f);
  }

  // Stage 1 for `sid`: an STE pointing at one CD (ASID `asid`, 48-bit VA, 4KB granule), and
  // empty page tables. Returns the CD's address.
  std::uint64_t attach(std::uint32_t sid, std::uint16_t asid) {
    namespace S = vsmmu::smmuv3::ste;
    namespace C = vsmmu::smmuv3::cd;
    format_ = vsmmu::testing::s1_format(12, 48, features_.oas);
    root_ = tables_.new_root(format_);
    cd_ = tables_.alloc(64, 64);
    C::value cd;
    cd.set<C::V>(true)
        .set<C::AA64>(true)
        .set<C::T0SZ>(16)
        .set<C::TG0>(vsmmu::smmuv3::granule::size_4k)
        .set<C::IR0>(1)
        .set<C::OR0>(1)
        .set<C::SH0>(3)
        .set<C::EPD1>(true)
        .set<C::IPS>(vsmmu::smmuv3::address_size::bits48)
        .set<C::AFFD>(true)
        .set<C::R>(true)
        .set<C::A>(true)
        .set<C::ASET>(true)
        .set<C::ASID>(asid)
        .set<C::MAIR0>(0x0000'ff44)
        .set<C::TTB0>(root_);
    tables_.install_cd(cd_, vsmmu::smmuv3::s1_fmt::linear, 0, 0, cd);
    S::value ste;
    ste.set<S::V>(true)
        .set<S::Config>(vsmmu::smmuv3::ste_config::s1_trans)
        .set<S::S1ContextPtr>(cd_)
        .set<S::S1CIR>(1)
        .set<S::S1COR>(1)
        .set<S::S1CSH>(3)
        .set<S::SHCFG>(1);
    tables_.install_ste(strtab_, sid, ste);
    return cd_;
  }

  // Maps one 4KB page, read/write, non-global (tagged with the CD's ASID) as Linux's
  // io-pgtable does for stage 1.
  std::uint64_t map(std::uint64_t iova, std::uint64_t pa) {
    vsmmu::testing::leaf_attrs a;
    a.global = false;
    a.attr = 1;  // MAIR Attr1: Normal write-back
    return tables_.map(format_, root_, iova, pa, 3, a);
  }
  // Clears the page's leaf descriptor; the caller invalidates.
  void unmap(std::uint64_t iova) {
    const std::uint64_t at = tables_.descriptor_address(format_, root_, iova, 3);
    if (at != 0) tables_.write64(at, 0);
  }

  // Reads and consumes every new event record, acknowledging an overflow.
  std::vector<vsmmu::walk::event_record> read_events() {
    std::vector<vsmmu::walk::event_record> out;
    const std::uint32_t size = 1U << eventq_log2_;
    const std::uint32_t p1 = R::page_size;
    const std::uint32_t prod_reg = read32(p1 + R::eventq_prod::offset);
    std::uint32_t cons = read32(p1 + R::eventq_cons::offset) & (2 * size - 1);
    const std::uint32_t prod = prod_reg & (2 * size - 1);
    while (cons != prod) {
      std::array<std::uint64_t, 4> w{};
      const std::uint64_t at = eventq_ + std::uint64_t{cons & (size - 1)} * 32;
      for (unsigned i = 0; i < 4; ++i) w[i] = tables_.read64(at + 8 * i);
      out.emplace_back(vsmmu::layout::value<vsmmu::smmuv3::evt::f_translation::layout>(w));
      cons = (cons + 1) & (2 * size - 1);
    }
    write32(p1 + R::eventq_cons::offset, (prod_reg & 0x8000'0000U) | cons);
    return out;
  }

  [[nodiscard]] const vsmmu::walk::stream_table_config& stream_table() const { return strtab_; }
  [[nodiscard]] std::uint64_t cmdq() const { return cmdq_; }
  [[nodiscard]] std::uint64_t eventq() const { return eventq_; }
  [[nodiscard]] unsigned cmdq_log2() const { return cmdq_log2_; }
  [[nodiscard]] unsigned eventq_log2() const { return eventq_log2_; }
  vsmmu::testing::table_builder<Memory>& tables() { return tables_; }

 private:
  Device& smmu_;
  Memory& mem_;
  vsmmu::testing::table_builder<Memory> tables_;
  probed features_{};
  unsigned cmdq_log2_ = 0;
  unsigned eventq_log2_ = 0;
  std::uint64_t cmdq_ = 0;
  std::uint64_t eventq_ = 0;
  vsmmu::walk::stream_table_config strtab_{};
  vsmmu::testing::tt_format format_{};
  std::uint64_t root_ = 0;
  std::uint64_t cd_ = 0;
  std::uint32_t cr0_ = 0;
  bool msi_polling_ = false;
};

}  // namespace demo
