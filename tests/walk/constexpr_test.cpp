// Issue 3 item 10: complete stage 1, stage 2 and nested translations in constant evaluation,
// over a constexpr flat memory whose tables the table builder wrote.

#include <catch2/catch.hpp>

#include "walk/fixture.hpp"

using namespace fx;

// Stage 1, 4KB granule, 48-bit VA: four levels (start level 0 = 3 - (47 - 12) / 9).
// VA 0x0000'1234'5678'9abc indexes L0 0x024, L1 0x0d1, L2 0x0b3, L3 0x189; page offset 0xabc.
// The page maps to PA 0x0000'0040'0000'3000, so the output is 0x40'0000'3abc.
constexpr vw::result s1_4k_4level(vw::access_kind access, bool priv) {
  memory<> mem;
  vt::table_builder b(mem, pool, 0x10000);
  const auto fmt = vt::s1_format(12, 48);
  const std::uint64_t root = b.new_root(fmt);
  b.map(fmt, root, 0x0000'1234'5678'9000, 0x0000'0040'0000'3000, 3, {.write = false, .user = true});
  b.install_ste(state().strtab, 1, s1_ste());
  b.install_cd(cd_ptr, vsmmu::smmuv3::s1_fmt::linear, 0, 0, s1_cd(root));
  return vw::translate(mem, state(), with_access(read_at(0x0000'1234'5678'9abc), access, priv));
}

static_assert(s1_4k_4level(vw::access_kind::read, false).kind == vw::outcome::translated);
static_assert(s1_4k_4level(vw::access_kind::read, false).output_address() == 0x40'0000'3abc);
static_assert(s1_4k_4level(vw::access_kind::read, false).xlat.size_shift == 12);
static_assert(s1_4k_4level(vw::access_kind::read, false).xlat.s1_level == 3);
static_assert(s1_4k_4level(vw::access_kind::read, false).xlat.asid == 0x42);
// Read-only (AP[2] = 1): a write is a stage 1 Permission fault, recorded, aborted (A = 1).
static_assert(s1_4k_4level(vw::access_kind::write, false).kind == vw::outcome::fault);
static_assert(s1_4k_4level(vw::access_kind::write, false).event.type() ==
              vsmmu::smmuv3::evt::type::f_permission);

// The start-level descriptor the builder wrote is where the hand-computed index puts it.
static_assert([] {
  memory<> mem;
  vt::table_builder b(mem, pool, 0x10000);
  const auto fmt = vt::s1_format(12, 48);
  const std::uint64_t root = b.new_root(fmt);
  b.map(fmt, root, 0x0000'1234'5678'9000, 0x0000'0040'0000'3000, 3);
  return b.descriptor_address(fmt, root, 0x0000'1234'5678'9000, 0) == root + 0x024 * 8 &&
         b.descriptor_address(fmt, root, 0x0000'1234'5678'9000, 3) % 4096 == 0x189 * 8;
}());

// Stage 2 only, QEMU qtest parameters re-derived: 4KB, S2T0SZ 0x14 (44-bit IPA), S2SL0 2
// (start level 0, 44 - 39 = 5 bits there), S2PS 0b101 (48 bits). A 2MB block at level 2
// maps IPA 0x8000'0000-0x801f'ffff to PA 0x1'2340'0000.
constexpr vw::result s2_qemu_params(std::uint64_t ipa, vw::access_kind access) {
  memory<> mem;
  vt::table_builder b(mem, pool, 0x10000);
  const auto fmt = vt::s2_format(12, 44, 0);
  const std::uint64_t root = b.new_root(fmt);
  b.map(fmt, root, 0x8000'0000, 0x1'2340'0000, 2, {.write = false});
  S::value ste;
  ste.set<S::V>(true).set<S::Config>(ste_config::s2_trans);
  b.install_ste(state().strtab, 1, with_s2(ste, root, 44, 2));
  return vw::translate(mem, state(), with_access(read_at(ipa), access));
}

static_assert(s2_qemu_params(0x8012'3456, vw::access_kind::read).output_address() == 0x1'2352'3456);
static_assert(s2_qemu_params(0x8012'3456, vw::access_kind::read).xlat.size_shift == 21);
static_assert(s2_qemu_params(0x8012'3456, vw::access_kind::read).xlat.vmid == 7);
// No write permission at stage 2: F_PERMISSION with S2 = 1, CLASS = IN, IPA reported.
static_assert([] {
  const auto r = s2_qemu_params(0x8012'3456, vw::access_kind::write);
  const auto e = r.event.as<vsmmu::smmuv3::evt::f_permission::layout>();
  namespace E = vsmmu::smmuv3::evt;
  return r.kind == vw::outcome::fault && e.get<E::S2>() &&
         e.get<E::CLASS>() == E::fault_class::in && e.get<E::IPA>() == 0x8012'3000 &&
         e.get<E::InputAddr>() == 0x8012'3456 && !e.get<E::RnW>();
}());
// Beyond the 44-bit stage 2 input range: stage 2 Translation fault.
static_assert(s2_qemu_params(0x1000'0000'0000, vw::access_kind::read).event.type() ==
              vsmmu::smmuv3::evt::type::f_translation);

// Nested, with QEMU's stage 1 parameters too (CD T0SZ 0x10, IPS 0b100: 44-bit IPA). Stage 2
// identity-maps the first 1GB of IPA with a level 1 block (44-bit input, start level 0), so the
// CD and the stage 1 tables, written at their PAs, are reachable at the same IPAs. Stage 1
// maps VA 0x7f00'0000'1000 to IPA 0x4000'5000, which stage 2 maps through a level 3 page to
// PA 0x9'8765'4000.
constexpr vw::result nested_qemu_params(std::uint64_t va) {
  memory<> mem;
  vt::table_builder b(mem, pool, 0x10000);
  const auto s2fmt = vt::s2_format(12, 44, 0);
  const std::uint64_t s2root = b.new_root(s2fmt);
  b.map(s2fmt, s2root, 0, 0, 1);
  b.map(s2fmt, s2root, 0x4000'5000, 0x9'8765'4000, 3);
  const auto s1fmt = vt::s1_format(12, 48);
  const std::uint64_t s1root = b.new_root(s1fmt);
  b.map(s1fmt, s1root, 0x7f00'0000'1000, 0x4000'5000, 3);
  S::value ste = s1_ste();
  ste.set<S::Config>(ste_config::nested);
  b.install_ste(state().strtab, 1, with_s2(ste, s2root, 44, 2));
  b.install_cd(cd_ptr, vsmmu::smmuv3::s1_fmt::linear, 0, 0,
               s1_cd(s1root, 48, granule::size_4k, address_size::bits44));
  return vw::translate(mem, state(), read_at(va));
}

static_assert(nested_qemu_params(0x7f00'0000'1234).kind == vw::outcome::translated);
static_assert(nested_qemu_params(0x7f00'0000'1234).output_address() == 0x9'8765'4234);
static_assert(nested_qemu_params(0x7f00'0000'1234).xlat.ipa == 0x4000'5234);
static_assert(nested_qemu_params(0x7f00'0000'1234).xlat.s2_level == 3);
// An unmapped VA faults at stage 1 (S2 = 0, CLASS = IN).
static_assert([] {
  const auto r = nested_qemu_params(0x7f00'0000'3000);
  namespace E = vsmmu::smmuv3::evt;
  const auto e = r.event.as<E::f_translation::layout>();
  return r.kind == vw::outcome::fault && !e.get<E::S2>() && e.get<E::CLASS>() == E::fault_class::in;
}());

// 16KB granule, 47-bit VA (start level 1): a 32MB block at level 2. VA 0x234'5678 is offset
// 0x34'5678 into the block at VA 0x200'0000, mapped to PA 0x4'0400'0000.
static_assert([] {
  memory<> mem;
  vt::table_builder b(mem, pool, 0x10000);
  const auto fmt = vt::s1_format(14, 47);
  const std::uint64_t root = b.new_root(fmt);
  b.map(fmt, root, 0x200'0000, 0x4'0400'0000, 2);
  b.install_ste(state().strtab, 1, s1_ste());
  b.install_cd(cd_ptr, vsmmu::smmuv3::s1_fmt::linear, 0, 0, s1_cd(root, 47, granule::size_16k));
  const auto r = vw::translate(mem, state(), read_at(0x234'5678));
  return r.output_address() == 0x4'0434'5678 && r.xlat.size_shift == 25;
}());

// Configuration errors in constant evaluation too: an ILLEGAL STE (S2T0SZ out of range) is
// C_BAD_STE with the StreamID, also for a transaction with a SubstreamID (the STE is checked
// before the SubstreamID is).
static_assert([] {
  memory<0x2000> mem;
  vt::table_builder b(mem, pool, 0x1000);
  S::value ste;
  ste.set<S::V>(true).set<S::Config>(ste_config::s2_trans);
  b.install_ste(state().strtab, 2, with_s2(ste, 0x1000, 20, 0));  // T0SZ 44 > 39
  const auto r = vw::translate(mem, state(), read_at(0x1000, 2));
  namespace E = vsmmu::smmuv3::evt;
  auto t = read_at(0x1000, 2);
  t.ssv = true;
  const auto r2 = vw::translate(mem, state(), t);
  return r.kind == vw::outcome::fault && r.event.type() == E::type::c_bad_ste &&
         r.event.as<E::c_bad_ste::layout>().get<E::StreamID>() == 2 &&
         r2.event.type() == E::type::c_bad_ste;  // the STE is checked before the SubstreamID
}());

TEST_CASE("constexpr scenarios also hold at run time", "[walk][constexpr]") {
  CHECK(s1_4k_4level(vw::access_kind::read, false).output_address() == 0x40'0000'3abc);
  CHECK(s2_qemu_params(0x8012'3456, vw::access_kind::read).output_address() == 0x1'2352'3456);
  CHECK(nested_qemu_params(0x7f00'0000'1234).output_address() == 0x9'8765'4234);
}
