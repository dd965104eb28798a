// Stage 1 walks (issue 3 item 5) and fault recording (item 8). Every expected address is derived
// by hand in the comment above its check.

#include <catch2/catch.hpp>

#include "walk/fixture.hpp"

using namespace fx;
using vw::access_kind;
using vw::outcome;

namespace {

vw::transaction at(std::uint64_t va, access_kind a = access_kind::read, bool priv = false) {
  return with_access(read_at(va), a, priv);
}

template <class L = E::f_translation::layout>
auto event_of(const vw::result& r) {
  return r.event.as<L>();
}

}  // namespace

TEST_CASE("stage 1: granules, start levels, blocks and pages", "[walk][s1]") {
  auto w = make_world();
  SECTION("4KB, 39-bit VA: start level 1 (3 - (38 - 12) / 9), 1GB block") {
    const auto fmt = vt::s1_format(12, 39);
    REQUIRE(fmt.start_level == 1);
    const auto root = w->stage1(fmt);
    // VA 0x4000'0000-0x7fff'ffff -> PA 0x8000'0000: VA 0x4123'4567 -> PA 0x8123'4567.
    w->b.map(fmt, root, 0x4000'0000, 0x8000'0000, 1);
    const auto r = w->run(at(0x4123'4567));
    REQUIRE(r.kind == outcome::translated);
    CHECK(r.output_address() == 0x8123'4567);
    CHECK(r.xlat.size_shift == 30);
    CHECK(r.xlat.s1_level == 1);
    CHECK(r.xlat.perm == vw::permissions{true, true, true});
  }
  SECTION("4KB, 48-bit VA: 2MB block at level 2") {
    const auto fmt = vt::s1_format(12, 48);
    const auto root = w->stage1(fmt);
    // VA 0x7fff'ffe0'0000 + 0x1'2345 -> PA 0x1'0000'0000 + 0x1'2345.
    w->b.map(fmt, root, 0x7fff'ffe0'0000, 0x1'0000'0000, 2);
    const auto r = w->run(at(0x7fff'ffe1'2345));
    CHECK(r.output_address() == 0x1'0001'2345);
    CHECK(r.xlat.size_shift == 21);
  }
  SECTION("4KB: a block at level 0 is a Translation fault") {
    const auto fmt = vt::s1_format(12, 48);
    const auto root = w->stage1(fmt);
    w->b.write64(root, 0x8000'0000'0000 | 0x401);  // block-shaped descriptor at level 0
    const auto r = w->run(at(0x1000));
    CHECK(r.event.type() == E::type::f_translation);
  }
  SECTION("16KB, 47-bit VA: start level 1, 16KB page and 32MB block") {
    const auto fmt = vt::s1_format(14, 47);
    REQUIRE(fmt.start_level == 1);  // 3 - (46 - 14) / 11
    const auto root = w->stage1(fmt);
    // Page VA 0x1234'5678'8000 -> PA 0x2'0000'c000; offset 0x9abc - 0x8000 = 0x1abc.
    w->b.map(fmt, root, 0x1234'5678'8000, 0x2'0000'c000, 3);
    // Block VA 0x200'0000 (32MB) -> PA 0x4'0400'0000; VA 0x234'5678 is offset 0x34'5678.
    w->b.map(fmt, root, 0x200'0000, 0x4'0400'0000, 2);
    CHECK(w->run(at(0x1234'5678'9abc)).output_address() == 0x2'0000'dabc);
    CHECK(w->run(at(0x1234'5678'9abc)).xlat.size_shift == 14);
    CHECK(w->run(at(0x234'5678)).output_address() == 0x4'0434'5678);
    CHECK(w->run(at(0x234'5678)).xlat.size_shift == 25);
  }
  SECTION("16KB, 48-bit VA: start level 0 resolves one bit") {
    const auto fmt = vt::s1_format(14, 48);
    REQUIRE(fmt.start_level == 0);
    REQUIRE(fmt.start_table_bytes() == 16);
    const auto root = w->stage1(fmt);
    w->b.map(fmt, root, 0x8000'0000'0000, 0x3'0000'0000, 3);
    CHECK(w->run(at(0x8000'0000'0010)).output_address() == 0x3'0000'0010);
  }
  SECTION("16KB: a level 1 block is a Translation fault without DS") {
    const auto fmt = vt::s1_format(14, 47);
    const auto root = w->stage1(fmt);
    w->b.map(fmt, root, 0, 0, 1);
    CHECK(w->run(at(0x10)).event.type() == E::type::f_translation);
  }
  SECTION("64KB, 48-bit VA: start level 1, 512MB block and 64KB page") {
    const auto fmt = vt::s1_format(16, 48);
    REQUIRE(fmt.start_level == 1);  // 3 - (47 - 16) / 13
    const auto root = w->stage1(fmt);
    // Block VA 0x2000'0000 -> PA 0x1'0000'0000; VA 0x2345'6789 is offset 0x345'6789.
    w->b.map(fmt, root, 0x2000'0000, 0x1'0000'0000, 2);
    // Page VA 0x1234'5678'0000 -> PA 0x3'0001'0000.
    w->b.map(fmt, root, 0x1234'5678'0000, 0x3'0001'0000, 3);
    CHECK(w->run(at(0x2345'6789)).output_address() == 0x1'0345'6789);
    CHECK(w->run(at(0x1234'5678'9abc)).output_address() == 0x3'0001'9abc);
    CHECK(w->run(at(0x1234'5678'9abc)).xlat.size_shift == 16);
  }
  SECTION("the contiguous hint is accepted") {
    const auto fmt = vt::s1_format(12, 48);
    const auto root = w->stage1(fmt);
    w->b.map(fmt, root, 0x10'0000, 0x20'0000, 3, {.contiguous = true});
    CHECK(w->run(at(0x10'0008)).output_address() == 0x20'0008);
  }
  SECTION("an invalid level 1 descriptor and a reserved level 3 descriptor") {
    const auto fmt = vt::s1_format(12, 48);
    const auto root = w->stage1(fmt);
    const auto leaf = w->b.map(fmt, root, 0x10'0000, 0x20'0000, 3);
    const auto l1 = w->b.descriptor_address(fmt, root, 0x10'0000, 1);
    CHECK(w->run(at(0x8000'0000'0000)).event.type() == E::type::f_translation);  // L0 invalid
    w->b.write64(leaf, w->b.read64(leaf) & ~std::uint64_t{2});  // level 3 with bit[1] == 0
    CHECK(w->run(at(0x10'0000)).event.type() == E::type::f_translation);
    w->b.write64(l1, 0);
    const auto r = w->run(at(0x10'0000));
    CHECK(r.event.type() == E::type::f_translation);
    CHECK(event_of(r).get<E::InputAddr>() == 0x10'0000);
    CHECK_FALSE(event_of(r).get<E::S2>());
    CHECK(event_of(r).get<E::CLASS>() == E::fault_class::in);
  }
}

TEST_CASE("stage 1: 52-bit output with the 64KB granule", "[walk][s1][52]") {
  auto w = make_world();
  w->st.features.oas = address_size::bits52;
  w->st.features.vax52 = true;
  // T0SZ 12: 52-bit VA, start level 1 resolves VA[51:42] (1024 entries, an 8KB table).
  const auto fmt = vt::s1_format(16, 52, 52);
  REQUIRE(fmt.start_level == 1);
  REQUIRE(fmt.start_table_bytes() == 8192);
  const auto root = w->stage1(fmt, s1_cd(0, 52, granule::size_64k, address_size::bits52));
  // VA 0xf'1234'5678'0000 -> PA 0xa'0000'0001'0000 (OA[51:48] = 0xa in descriptor [15:12]).
  const auto leaf = w->b.map(fmt, root, 0xf'1234'5678'0000, 0xa'0000'0001'0000, 3);
  CHECK(((w->b.read64(leaf) >> 12) & 0xf) == 0xa);
  auto r = w->run(at(0xf'1234'5678'0042));
  REQUIRE(r.kind == outcome::translated);
  CHECK(r.output_address() == 0xa'0000'0001'0042);
  // A 4TB level 1 block exists only with 52-bit output: VA 0x8'0000'0000'0000 -> PA 0x4'...'0.
  w->b.map(fmt, root, 0x8'0000'0000'0000, 0x4'0000'0000'0000, 1);
  r = w->run(at(0x8'0123'4567'89ab));
  CHECK(r.output_address() == 0x4'0123'4567'89ab);
  CHECK(r.xlat.size_shift == 42);

  SECTION("with OAS 48 the effective IPS is 48: no OA[51:48], no level 1 block") {
    // The root sits below 2^48, so the CD stays legal; the 52-bit leaf then has no OA[51:48]
    // and the level 1 block is invalid.
    w->st.features.oas = address_size::bits48;
    CHECK(w->run(at(0xf'1234'5678'0042)).output_address() == 0x0001'0042);
    CHECK(w->run(at(0x8'0123'4567'89ab)).event.type() == E::type::f_translation);
  }
}

TEST_CASE("stage 1: TTB0/TTB1 selection and TBI", "[walk][s1][tbi]") {
  auto w = make_world();
  const auto fmt = vt::s1_format(12, 48);
  const auto root0 = w->b.new_root(fmt);
  const auto root1 = w->b.new_root(fmt);
  w->b.map(fmt, root0, 0x1234'5678'9000, 0x4000'9000, 3);
  w->b.map(fmt, root1, 0xffff'ff80'0000'1000, 0x5000'1000, 3);
  C::value cd = s1_cd(root0);
  cd.set<C::EPD1>(false).set<C::T1SZ>(16).set<C::TG1>(granule_tg1::size_4k).set<C::TTB1>(root1);
  w->put_ste(s1_ste());

  SECTION("without TBI") {
    w->put_cd(cd);
    CHECK(w->run(at(0x1234'5678'9abc)).output_address() == 0x4000'9abc);
    CHECK(w->run(at(0xffff'ff80'0000'1234)).output_address() == 0x5000'1234);
    // A tagged TTB0 address, and a TTB1 address whose top byte is not all ones, are outside
    // both ranges.
    CHECK(w->run(at(0xab00'1234'5678'9abc)).event.type() == E::type::f_translation);
    CHECK(w->run(at(0x00ff'ff80'0000'1234)).event.type() == E::type::f_translation);
  }
  SECTION("TBI0 ignores the top byte of TTB0 addresses only") {
    w->put_cd(cd.with<C::TBI0>(true));
    CHECK(w->run(at(0xab00'1234'5678'9abc)).output_address() == 0x4000'9abc);
    CHECK(w->run(at(0x00ff'ff80'0000'1234)).event.type() == E::type::f_translation);
  }
  SECTION("TBI1: VA[55] still selects TTB1 whatever the top byte (QEMU gets this case wrong)") {
    w->put_cd(cd.with<C::TBI1>(true));
    // Top byte 0x00, VA[55] = 1: TTB1, VA[55:48] all ones, so it translates.
    CHECK(w->run(at(0x00ff'ff80'0000'1234)).output_address() == 0x5000'1234);
    CHECK(w->run(at(0x12ff'ff80'0000'1234)).output_address() == 0x5000'1234);
    // TBI1 does not apply to TTB0 addresses.
    CHECK(w->run(at(0xab00'1234'5678'9abc)).event.type() == E::type::f_translation);
  }
  SECTION("EPD1 disables the TTB1 range") {
    w->put_cd(cd.with<C::EPD1>(true));
    CHECK(w->run(at(0xffff'ff80'0000'1234)).event.type() == E::type::f_translation);
  }
  SECTION("E0PD0 faults unprivileged accesses to the TTB0 range") {
    w->put_cd(cd.with<C::E0PD0>(true));
    CHECK(w->run(at(0x1234'5678'9abc)).event.type() == E::type::f_translation);
    CHECK(w->run(at(0x1234'5678'9abc, access_kind::read, true)).output_address() == 0x4000'9abc);
  }
  SECTION("a VA beyond T0SZ") {
    w->put_cd(cd);
    CHECK(w->run(at(0x1'0000'0000'0000)).event.type() == E::type::f_translation);
  }
}

TEST_CASE("stage 1: permissions", "[walk][s1][perm]") {
  auto w = make_world();
  const auto fmt = vt::s1_format(12, 48);
  const auto root = w->stage1(fmt);
  auto kind = [&](std::uint64_t va, access_kind a, bool priv = false) {
    const auto r = w->run(at(va, a, priv));
    return r.kind == outcome::translated ? E::type{} : r.event.type();
  };
  constexpr auto ok = E::type{};
  constexpr auto perm = E::type::f_permission;

  SECTION("AP[2:1]") {
    w->b.map(fmt, root, 0x1000, 0x1000, 3, {.write = true, .exec = false, .user = false});   // 00
    w->b.map(fmt, root, 0x2000, 0x2000, 3, {.write = true, .exec = false, .user = true});    // 01
    w->b.map(fmt, root, 0x3000, 0x3000, 3, {.write = false, .exec = false, .user = false});  // 10
    w->b.map(fmt, root, 0x4000, 0x4000, 3, {.write = false, .exec = false, .user = true});   // 11
    CHECK(kind(0x1000, access_kind::read) == perm);
    CHECK(kind(0x1000, access_kind::write, true) == ok);
    CHECK(kind(0x2000, access_kind::write) == ok);
    CHECK(kind(0x3000, access_kind::read, true) == ok);
    CHECK(kind(0x3000, access_kind::write, true) == perm);
    CHECK(kind(0x3000, access_kind::read) == perm);
    CHECK(kind(0x4000, access_kind::read) == ok);
    CHECK(kind(0x4000, access_kind::write) == perm);
    CHECK(w->run(at(0x4000)).xlat.perm == vw::permissions{true, false, false});
  }
  SECTION("execute: UXN/PXN, and no privileged execution of unprivileged-writable pages") {
    w->b.map(fmt, root, 0x1000, 0x1000, 3, {.write = false, .exec = true, .user = true});
    w->b.map(fmt, root, 0x2000, 0x2000, 3, {.write = true, .exec = true, .user = true});
    const auto pxn_only =
        w->b.map(fmt, root, 0x3000, 0x3000, 3, {.write = false, .exec = false, .user = true});
    w->b.write64(pxn_only, w->b.read64(pxn_only) & ~(std::uint64_t{1} << 54));  // clear UXN
    CHECK(kind(0x1000, access_kind::exec) == ok);
    CHECK(kind(0x1000, access_kind::exec, true) == ok);
    CHECK(kind(0x2000, access_kind::exec) == ok);
    CHECK(kind(0x2000, access_kind::exec, true) == perm);  // writable at EL0
    CHECK(kind(0x3000, access_kind::exec) == ok);
    CHECK(kind(0x3000, access_kind::exec, true) == perm);
  }
  SECTION("hierarchical: APTable and UXNTable/PXNTable") {
    w->b.map(fmt, root, 0x1000, 0x1000, 3);
    const auto l2 = w->b.descriptor_address(fmt, root, 0x1000, 2);
    const auto table = w->b.read64(l2);
    w->b.write64(l2, table | std::uint64_t{2} << 61);  // APTable = 0b10: no writes below
    CHECK(kind(0x1000, access_kind::write, true) == perm);
    CHECK(kind(0x1000, access_kind::read) == ok);
    w->b.write64(l2, table | std::uint64_t{1} << 61);  // APTable = 0b01: no unprivileged access
    CHECK(kind(0x1000, access_kind::read) == perm);
    CHECK(kind(0x1000, access_kind::write, true) == ok);
    w->b.write64(l2, table | std::uint64_t{1} << 60);  // UXNTable
    CHECK(kind(0x1000, access_kind::exec) == perm);
    w->b.write64(l2, table | std::uint64_t{1} << 59);  // PXNTable
    CHECK(kind(0x1000, access_kind::exec) == ok);
    CHECK(kind(0x1000, access_kind::exec, true) == perm);  // (also EL0-writable)
  }
  SECTION("PAN and WXN") {
    w->b.map(fmt, root, 0x1000, 0x1000, 3, {.write = false, .user = true});
    w->b.map(fmt, root, 0x2000, 0x2000, 3, {.write = false, .user = false});
    w->b.map(fmt, root, 0x3000, 0x3000, 3, {.write = true, .exec = true, .user = false});
    w->put_cd(s1_cd(root).with<C::PAN>(true).with<C::WXN>(true));
    CHECK(kind(0x1000, access_kind::read, true) == perm);  // PAN: EL0-accessible
    CHECK(kind(0x1000, access_kind::exec, true) == ok);    // PAN applies to data only
    CHECK(kind(0x2000, access_kind::read, true) == ok);
    CHECK(kind(0x3000, access_kind::exec, true) == perm);  // WXN: writable is never executable
    CHECK(kind(0x3000, access_kind::write, true) == ok);
  }
  SECTION("DBM with HD: a writable-clean page is writable") {
    w->st.features.httu = vw::httu::access_and_dirty;
    const auto leaf = w->b.map(fmt, root, 0x1000, 0x1000, 3, {.write = false});
    w->b.write64(leaf, w->b.read64(leaf) | std::uint64_t{1} << 51);
    CHECK(kind(0x1000, access_kind::write) == perm);
    w->put_cd(s1_cd(root).with<C::HA>(true).with<C::HD>(true));
    CHECK(kind(0x1000, access_kind::write) == ok);
  }
  SECTION("the permission fault record") {
    w->b.map(fmt, root, 0x1000, 0x1000, 3, {.write = false});
    const auto r = w->run(at(0x1234, access_kind::write));
    const auto e = r.event.as<E::f_permission::layout>();
    CHECK(e.get<E::StreamID>() == 1);
    CHECK(e.get<E::InputAddr>() == 0x1234);
    CHECK_FALSE(e.get<E::RnW>());
    CHECK_FALSE(e.get<E::InD>());
    CHECK_FALSE(e.get<E::PnU>());
    CHECK_FALSE(e.get<E::S2>());
    CHECK(e.get<E::CLASS>() == E::fault_class::in);
    CHECK(e.get<E::IPA>() == 0);
  }
}

TEST_CASE("stage 1: access flag, address size and walk aborts", "[walk][s1]") {
  auto w = make_world();
  const auto fmt = vt::s1_format(12, 48);
  auto root = w->stage1(fmt);
  SECTION("AF == 0: F_ACCESS unless AFFD or HA") {
    w->b.map(fmt, root, 0x1000, 0x1000, 3, {.af = false});
    CHECK(w->run(at(0x1000)).event.type() == E::type::f_access);
    w->put_cd(s1_cd(root).with<C::AFFD>(true));
    CHECK(w->run(at(0x1000)).kind == outcome::translated);
    w->st.features.httu = vw::httu::access_flag;
    w->put_cd(s1_cd(root).with<C::HA>(true));
    CHECK(w->run(at(0x1000)).kind == outcome::translated);
  }
  SECTION("AF == 0 is reported before a permission fault") {
    w->b.map(fmt, root, 0x1000, 0x1000, 3, {.write = false, .af = false});
    CHECK(w->run(at(0x1000, access_kind::write)).event.type() == E::type::f_access);
  }
  SECTION("output beyond the effective IPS: leaf and table") {
    w->put_cd(s1_cd(root, 48, granule::size_4k, address_size::bits40));
    w->b.map(fmt, root, 0x1000, 0x100'0000'0000, 3);  // 2^40: one bit too many
    CHECK(w->run(at(0x1000)).event.type() == E::type::f_addr_size);
    const auto l1 = w->b.descriptor_address(fmt, root, 0x1000, 1);
    w->b.write64(l1, 0x200'0000'0000 | 3);  // table address beyond 40 bits
    CHECK(w->run(at(0x1000)).event.type() == E::type::f_addr_size);
  }
  SECTION("IPS beyond the OAS is capped: OAS 40 makes 2^40 out of range") {
    w->st.features.oas = address_size::bits40;
    w->put_cd(s1_cd(root, 48, granule::size_4k, address_size::bits48));
    w->b.map(fmt, root, 0x1000, 0x100'0000'0000, 3);
    CHECK(w->run(at(0x1000)).event.type() == E::type::f_addr_size);
  }
  SECTION("a descriptor fetch abort: F_WALK_EABT, S2 = 0, CLASS = TT, FetchAddr") {
    // TTB0 beyond the 256KB of memory: the level 0 fetch of VA 0x1234'5678'9abc is at
    // 0x1000'0000 + 0x24 * 8.
    w->put_cd(s1_cd(0x1000'0000));
    const auto r = w->run(at(0x1234'5678'9abc));
    REQUIRE(r.event.type() == E::type::f_walk_eabt);
    const auto e = r.event.as<E::f_walk_eabt::layout>();
    CHECK(e.get<E::FetchAddr>() == 0x1000'0120);
    CHECK_FALSE(e.get<E::S2>());
    CHECK(e.get<E::CLASS>() == E::fault_class::tt);
    CHECK(e.get<E::InputAddr>() == 0x1234'5678'9abc);
    CHECK(r.term == vw::termination::abort);
  }
  SECTION("big-endian tables (ENDI = 1)") {
    w->b.map(fmt, root, 0x5000, 0x7000, 3);
    // Byte-swap every table word the builder wrote.
    for (std::uint64_t a = pool; a < pool + 0x10000; a += 8) {
      w->b.write64(a, vw::vmsa::byteswap64(w->b.read64(a)));
    }
    CHECK(w->run(at(0x5010)).event.type() == E::type::f_translation);
    w->put_cd(s1_cd(root).with<C::ENDI>(true));
    CHECK(w->run(at(0x5010)).output_address() == 0x7010);
    w->st.features.ttendian = vw::tt_endian::little;
    CHECK(w->run(at(0x5010)).event.type() == E::type::c_bad_cd);
  }
}

TEST_CASE("fault recording: CD.A, R and S (IHI 0070 §5.5)", "[walk][fault]") {
  auto w = make_world();
  const auto fmt = vt::s1_format(12, 48);
  const auto root = w->stage1(fmt);
  w->b.map(fmt, root, 0x1000, 0x1000, 3, {.write = false});
  const auto write = at(0x1000, access_kind::write);
  auto cd = s1_cd(root);

  SECTION("A = 1, R = 1: abort, recorded") {
    const auto r = w->run(write);
    CHECK(r.kind == outcome::fault);
    CHECK(r.term == vw::termination::abort);
  }
  SECTION("R = 0: abort, nothing recorded") {
    w->put_cd(cd.with<C::R>(false));
    const auto r = w->run(write);
    CHECK(r.kind == outcome::abort);
    CHECK_FALSE(r.recorded());
    CHECK(r.term == vw::termination::abort);
  }
  SECTION("A = 0: RAZ/WI, recorded or not by R") {
    w->put_cd(cd.with<C::A>(false));
    auto r = w->run(write);
    CHECK(r.kind == outcome::fault);
    CHECK(r.term == vw::termination::raz_wi);
    w->put_cd(cd.with<C::A>(false).with<C::R>(false));
    r = w->run(write);
    CHECK(r.kind == outcome::abort);
    CHECK(r.term == vw::termination::raz_wi);
  }
  SECTION("S = 1: stall, always recorded with Stall and STAG") {
    w->put_cd(cd.with<C::S>(true).with<C::R>(false));
    auto t = write;
    t.stag = 0x1234;
    const auto r = w->run(t);
    CHECK(r.kind == outcome::fault);
    CHECK(r.term == vw::termination::stall);
    const auto e = r.event.as<E::f_permission::layout>();
    CHECK(e.get<E::Stall>());
    CHECK(e.get<E::STAG>() == 0x1234);
  }
  SECTION("A/R/S do not govern other faults: a walk abort aborts and records") {
    w->put_cd(s1_cd(0x1000'0000).with<C::A>(false).with<C::R>(false));
    const auto r = w->run(write);
    CHECK(r.kind == outcome::fault);
    CHECK(r.term == vw::termination::abort);
    CHECK(r.event.type() == E::type::f_walk_eabt);
  }
  SECTION("the 32-byte record") {
    const auto r = w->run(write);
    const auto bytes = r.event.bytes();
    CHECK(bytes[0] == std::byte{0x13});   // F_PERMISSION
    CHECK(bytes[4] == std::byte{1});      // StreamID 1 in bits [63:32]
    CHECK(bytes[16] == std::byte{0x00});  // InputAddr 0x1000, dword 2
    CHECK(bytes[17] == std::byte{0x10});
  }
}

TEST_CASE("stage 1: s1_translate answers as translate() does", "[walk][s1]") {
  // The public stage 1 entry point is built from the same lookup as translate(); its leaf must
  // carry what the translation says (address, size, level, permissions, attributes).
  auto w = make_world();
  const auto fmt = vt::s1_format(12, 48);
  const auto root = w->stage1(fmt);
  w->b.map(fmt, root, 0x1000'0000, 0x8'0000'0000, 3, {.write = false, .exec = false});
  w->b.map(fmt, root, 0x4020'0000, 0x9'0020'0000, 2);
  vw::stream_config ste;
  ste.mode = vw::stream_mode::s1;
  const auto cd = vw::decode_cd(s1_cd(root), ste, vw::smmu_features{});
  REQUIRE_FALSE(cd.illegal());
  auto identity = [](std::uint64_t ipa) { return vw::or_fault<std::uint64_t>{ipa}; };

  for (const std::uint64_t va : {0x1000'0123ULL, 0x4021'2345ULL}) {
    for (const bool write : {false, true}) {
      const vw::result r = w->run(at(va, write ? access_kind::write : access_kind::read));
      const auto leaf = vw::s1_translate(w->mem, cd.config, {va, write, false, false}, identity);
      REQUIRE(leaf.failed == (r.kind != outcome::translated));
      if (leaf.failed) {
        CHECK(leaf.fault.type == r.event.type());
        continue;
      }
      CHECK(leaf.value.ipa == r.xlat.ipa);
      CHECK(leaf.value.size_shift == r.xlat.size_shift);
      CHECK(leaf.value.level == r.xlat.s1_level);
      CHECK(leaf.value.perm == r.xlat.perm);
      CHECK(leaf.value.attr_index == r.xlat.s1_attr_index);
      CHECK(leaf.value.global == r.xlat.global);
    }
  }
}
