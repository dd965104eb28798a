// The register matrix (issue 5 item 6): every register of the catalogue, its reset value, the
// bits a write reaches, the RES0 bits, and the access sizes; then the CONSTRAINED UNPREDICTABLE
// choices of docs/device.md, each with its diagnostic.

#include <catch2/catch.hpp>

#include <array>
#include <string_view>

#include "fixture.hpp"

namespace {

using namespace fx;

// What the spec says for the default configuration (both stages, Hyp, MSI, no ATS/PRI/VMW/DPT/
// BTM/ECMDQ), written from IHI 0070 §6.3 independently of the device's own masks.
struct expected {
  std::string_view name;
  std::uint64_t reset;
  std::uint64_t after_all_ones;  // read-back after writing all ones (guards clear)
};

constexpr auto ids = vd::default_config::id_registers;

constexpr std::array<expected, 39> table{{
    {"IDR0", ids.idr0, ids.idr0},
    {"IDR1", ids.idr1, ids.idr1},
    {"IDR2", ids.idr2, ids.idr2},
    {"IDR3", ids.idr3, ids.idr3},
    {"IDR4", ids.idr4, ids.idr4},
    {"IDR5", ids.idr5, ids.idr5},
    {"IIDR", 0, 0},
    {"AIDR", ids.aidr, ids.aidr},
    // SMMUEN, EVENTQEN, CMDQEN; PRIQEN/ATSCHK/VMW/DPT_WALK_EN and bits 5, 9, [31:11] are RES0.
    {"CR0", 0, 0x0000'000d},
    {"CR0ACK", 0, 0},  // RO: a write to it changes nothing (CR0 is not written here)
    {"CR1", 0, 0x0000'0fff},
    {"CR2", 0, 0x0000'0003},  // RECINVSID, E2H (Hyp); PTM without BTM is RES0
    {"STATUSR", 0, 0},
    // ABORT, INSTCFG, PRIVCFG, SHCFG, ALLOCCFG, MTCFG, MemAttr; Update reads 0 once complete.
    {"GBPA", 0x0000'1000, 0x001f'3f1f},
    {"AGBPA", 0, 0},
    {"IRQ_CTRL", 0, 0x0000'0005},  // EVENTQ_IRQEN, GERROR_IRQEN; PRIQ_IRQEN without PRI is RES0
    {"IRQ_CTRLACK", 0, 0},
    {"GERROR", 0, 0},
    // Reads return what was written to the defined fields (the errors that exist here: CMDQ,
    // EVENTQ_ABT, the three MSI aborts, SFM).
    {"GERRORN", 0, 0x0000'01b5},
    {"GERROR_IRQ_CFG0", 0, 0x00ff'ffff'ffff'fffc},
    {"GERROR_IRQ_CFG1", 0, 0xffff'ffff},
    {"GERROR_IRQ_CFG2", 0, 0x0000'003f},
    {"STRTAB_BASE", 0, 0x40ff'ffff'ffff'ffc0},
    {"STRTAB_BASE_CFG", 0, 0x0003'07ff},
    {"CMDQ_BASE", 0, 0x40ff'ffff'ffff'ffff},
    {"CMDQ_PROD", 0, 0x000f'ffff},  // read back as written
    // ERR as written while CMDQEN == 0; RD above the wrap flag is RAZ: LOG2SIZE is 0 here.
    {"CMDQ_CONS", 0, 0x7f00'0001},
    {"EVENTQ_BASE", 0, 0x40ff'ffff'ffff'ffff},
    {"EVENTQ_IRQ_CFG0", 0, 0x00ff'ffff'ffff'fffc},
    {"EVENTQ_IRQ_CFG1", 0, 0xffff'ffff},
    {"EVENTQ_IRQ_CFG2", 0, 0x0000'003f},
    {"PRIQ_BASE", 0, 0},  // no PRI: the PRI queue registers are RES0
    {"PRIQ_IRQ_CFG0", 0, 0},
    {"PRIQ_IRQ_CFG1", 0, 0},
    {"PRIQ_IRQ_CFG2", 0, 0},
    {"EVENTQ_PROD", 0, 0x8000'0001},  // OVFLG; WR above the wrap flag RAZ
    {"EVENTQ_CONS", 0, 0x800f'ffff},
    {"PRIQ_PROD", 0, 0},
    {"PRIQ_CONS", 0, 0},
}};

const expected* find_expected(std::string_view name) {
  for (const auto& e : table) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::uint64_t read_reg(fx::bench<>& b, const vsmmu::smmuv3::register_desc& r) {
  const auto at = vsmmu::smmuv3::absolute_offset(r);
  if (r.width == 64) return b.dev.read(at, 8);
  return b.dev.read(at, 4);
}

}  // namespace

TEST_CASE("every register: reset value, writable bits and RES0 bits") {
  for (const auto& r : vsmmu::smmuv3::register_catalog) {
    CAPTURE(r.name);
    const expected* e = find_expected(r.name);
    REQUIRE(e != nullptr);
    auto b = make_bench();
    CHECK(read_reg(*b, r) == e->reset);
    const std::uint64_t ones = r.width == 64 ? ~std::uint64_t{0} : 0xffff'ffffU;
    b->dev.write(vsmmu::smmuv3::absolute_offset(r), r.width / 8, ones);
    CHECK(read_reg(*b, r) == e->after_all_ones);
    // Writing zeros back clears every writable bit (registers whose write has side effects
    // that latch, GERRORN and the RO ones, read back the same).
    auto c = make_bench();
    c->dev.write(vsmmu::smmuv3::absolute_offset(r), r.width / 8, 0);
    CHECK(read_reg(*c, r) == (r.name == "GBPA" ? e->reset : e->reset & e->after_all_ones));
  }
}

TEST_CASE("the matrix covers the whole catalogue") {
  CHECK(table.size() == vsmmu::smmuv3::register_catalog.size());
  for (const auto& e : table) CHECK(vsmmu::smmuv3::find_register(e.name) != nullptr);
}

TEST_CASE("64-bit registers: 32-bit halves and 64-bit accesses agree") {
  for (const auto& r : vsmmu::smmuv3::register_catalog) {
    if (r.width != 64) continue;
    CAPTURE(r.name);
    auto b = make_bench();
    const auto at = vsmmu::smmuv3::absolute_offset(r);
    b->dev.write(at, 4, 0xffff'ffc0U);      // low half
    b->dev.write(at + 4, 4, 0x0000'1234U);  // high half
    const std::uint64_t whole = b->dev.read(at, 8);
    CHECK(whole == ((std::uint64_t{b->read32(at + 4)} << 32) | b->read32(at)));
    const expected* e = find_expected(r.name);
    CHECK(whole == (0x0000'1234'ffff'ffc0U & e->after_all_ones));
    CHECK(b->dev.diagnostics_total() == 0);
  }
}

TEST_CASE("32-bit registers: a 64-bit access is RAZ/WI with a diagnostic") {
  for (const auto& r : vsmmu::smmuv3::register_catalog) {
    if (r.width != 32) continue;
    CAPTURE(r.name);
    auto b = make_bench();
    const auto at = vsmmu::smmuv3::absolute_offset(r);
    const auto aligned = at & ~7U;
    CHECK(b->dev.read(aligned, 8) == 0);
    b->dev.write(aligned, 8, ~std::uint64_t{0});
    CHECK(b->dev.diagnostics(vd::diagnostic::split_64bit_access) == 2);
    CHECK(read_reg(*b, r) == find_expected(r.name)->reset);
  }
}

TEST_CASE("byte, halfword and odd-sized accesses are RAZ/WI with a diagnostic") {
  auto b = make_bench();
  for (unsigned size : {1U, 2U, 3U, 16U}) {
    CHECK(b->dev.read(R::cr1::offset, size) == 0);
    b->dev.write(R::cr1::offset, size, 0xff);
  }
  CHECK(b->read32(R::cr1::offset) == 0);
  CHECK(b->dev.diagnostics(vd::diagnostic::unsupported_size) == 8);
  CHECK(b->dev.read(R::idr0::offset, 1) == 0);  // not even a byte of an ID register
}

TEST_CASE("unaligned accesses are RAZ/WI with a diagnostic") {
  auto b = make_bench();
  CHECK(b->dev.read(R::idr0::offset + 2, 4) == 0);
  CHECK(b->dev.read(R::strtab_base::offset + 4, 8) == 0);
  b->dev.write(R::cr1::offset + 1, 4, 0xfff);
  CHECK(b->read32(R::cr1::offset) == 0);
  CHECK(b->dev.diagnostics(vd::diagnostic::unaligned_access) == 3);
  REQUIRE(b->platform.diagnosed.size() == 3);
  CHECK(b->platform.diagnosed[2].offset == R::cr1::offset + 1);
  CHECK(b->platform.diagnosed[2].value == 0xfff);
}

TEST_CASE("undefined page-0 locations are RES0, silently") {
  auto b = make_bench();
  for (std::uint32_t off : {0x30U, 0x4cU, 0x58U, 0x100U, 0x8000U, 0xfffcU}) {
    CAPTURE(off);
    b->write32(off, 0xffff'ffffU);
    CHECK(b->read32(off) == 0);
  }
  CHECK(b->dev.read(0x100, 8) == 0);
  CHECK(b->dev.diagnostics_total() == 0);
}

TEST_CASE("undefined page-1 locations are RAZ/WI with a diagnostic") {
  auto b = make_bench();
  for (std::uint32_t off : {0x0U, 0x20U, 0xa0U, 0xb0U, 0xfffcU}) {
    CAPTURE(off);
    b->write32(page1 + off, 0xffff'ffffU);
    CHECK(b->read32(page1 + off) == 0);
  }
  // Page 1 does not alias page 0: CR0 is untouched.
  CHECK(b->read32(R::cr0::offset) == 0);
  CHECK(b->dev.diagnostics(vd::diagnostic::page1_reserved) == 10);
}

TEST_CASE("page-0 offsets of the page-1 registers alias them") {
  auto b = make_bench();
  b->write32(R::eventq_cons::page0_alias_offset, 0x8000'0005U);
  CHECK(b->read32(page1 + R::eventq_cons::offset) == 0x8000'0005U);
  b->write32(page1 + R::eventq_prod::offset, 0x8000'0000U);
  CHECK(b->read32(R::eventq_prod::page0_alias_offset) == 0x8000'0000U);
  CHECK(b->read32(R::priq_prod::page0_alias_offset) == 0);  // no PRI: RES0 either way
  CHECK(b->dev.diagnostics_total() == 0);
}

TEST_CASE("accesses beyond the two pages are RAZ/WI with a diagnostic") {
  auto b = make_bench();
  CHECK(b->dev.read(2 * R::page_size, 4) == 0);
  CHECK(b->dev.read(2 * R::page_size - 4, 8) == 0);
  b->dev.write(~std::uint64_t{0} - 3, 4, 1);
  CHECK(b->dev.diagnostics(vd::diagnostic::out_of_range) == 3);
}

TEST_CASE("writes to read-only registers are ignored with a diagnostic") {
  auto b = make_bench();
  for (std::uint32_t off : {R::idr0::offset, R::idr5::offset, R::cr0ack::offset,
                            R::irq_ctrlack::offset, R::gerror::offset}) {
    const std::uint32_t before = b->read32(off);
    b->write32(off, ~before);
    CHECK(b->read32(off) == before);
  }
  CHECK(b->dev.diagnostics(vd::diagnostic::read_only_write) == 5);
}

TEST_CASE("the CR0 reserved mask follows the features") {
  using ats_config = vd::config<vd::features{.ats = true}>;
  auto b = make_bench<ats_config>();
  b->write32(R::cr0::offset, 0xffff'ffffU);
  CHECK(b->read32(R::cr0::offset) == 0x1d);  // ATSCHK now exists
  CHECK(b->read32(R::cr0ack::offset) == 0x1d);

  using no_hyp = vd::config<vd::features{.hyp = false}>;
  auto c = make_bench<no_hyp>();
  c->write32(R::cr2::offset, 0xffff'ffffU);
  CHECK(c->read32(R::cr2::offset) == 0x2);  // E2H is RES0 without Hyp

  using no_msi = vd::config<vd::features{.msi = false}>;
  auto d = make_bench<no_msi>();
  d->dev.write(R::gerror_irq_cfg0::offset, 8, ~std::uint64_t{0});
  CHECK(d->dev.read(R::gerror_irq_cfg0::offset, 8) == 0);  // no MSI registers without MSI
}

TEST_CASE("ID registers come from the feature configuration") {
  using small = vd::config<vd::features{
      .gran16k = true, .sidsize = 6, .ssidsize = 0, .two_level_stream_table = false, .cmdqs = 4}>;
  auto b = make_bench<small>();
  const R::idr0::value idr0{{b->read32(R::idr0::offset)}};
  const R::idr1::value idr1{{b->read32(R::idr1::offset)}};
  const R::idr5::value idr5{{b->read32(R::idr5::offset)}};
  CHECK(idr0.get<R::idr0::ST_LEVEL>() == R::st_level::linear);
  CHECK(idr1.get<R::idr1::SIDSIZE>() == 6);
  CHECK(idr1.get<R::idr1::SSIDSIZE>() == 0);
  CHECK(idr1.get<R::idr1::CMDQS>() == 4);
  CHECK(idr5.get<R::idr5::GRAN16K>());
  static_assert(vsmmu::smmuv3::conforms<small::id_registers>);
}
