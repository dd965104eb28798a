// Stage 2 (issue 3 item 6) and nested (item 7) walks.

#include <catch2/catch.hpp>

#include "walk/fixture.hpp"

using namespace fx;
using vw::access_kind;
using vw::outcome;

namespace {

vw::transaction at(std::uint64_t a, access_kind k = access_kind::read, bool priv = false) {
  return with_access(read_at(a), k, priv);
}

}  // namespace

TEST_CASE("stage 2: start level, concatenation and granules", "[walk][s2]") {
  auto w = make_world();
  SECTION("4KB, 40-bit IPA, S2SL0 1: two concatenated level 1 tables") {
    // Level 1 resolves IPA[39:30]: 1024 entries, 8KB. IPA 0x80'4000'0000 has index 0x201, in
    // the second table: descriptor at root + 0x1008. 1GB block -> PA 0x1'c000'0000.
    const auto fmt = vt::s2_format(12, 40, 1);
    REQUIRE(fmt.start_table_bytes() == 8192);
    const auto root = w->b.new_root(fmt);
    const auto leaf = w->b.map(fmt, root, 0x80'4000'0000, 0x1'c000'0000, 1, {.write = false});
    CHECK(leaf == root + 0x1008);
    w->put_ste(s2_only(root, 40, 1));
    auto r = w->run(at(0x80'4012'3456));
    REQUIRE(r.kind == outcome::translated);
    CHECK(r.output_address() == 0x1'c012'3456);
    CHECK(r.xlat.size_shift == 30);
    CHECK(r.xlat.perm == vw::permissions{true, false, true});
    CHECK_FALSE(r.xlat.s1_enabled);
    // S2TTB bits below the 8KB alignment are ignored.
    w->put_ste(s2_only(root | 0x1000, 40, 1));
    CHECK(w->run(at(0x80'4012'3456)).output_address() == 0x1'c012'3456);
  }
  SECTION("16KB, 36-bit IPA, S2SL0 1: start level 2") {
    const auto fmt = vt::s2_format(14, 36, 2);
    const auto root = w->b.new_root(fmt);
    // 16KB page IPA 0x8'7654'4000 -> PA 0x2'0000'8000; IPA 0x8'7654'7210 is offset 0x3210.
    w->b.map(fmt, root, 0x8'7654'4000, 0x2'0000'8000, 3);
    w->put_ste(s2_only(root, 36, 1, granule::size_16k));
    CHECK(w->run(at(0x8'7654'7210)).output_address() == 0x2'0000'b210);
  }
  SECTION("64KB, 42-bit IPA, S2SL0 1: start level 2 with 13 bits") {
    const auto fmt = vt::s2_format(16, 42, 2);
    const auto root = w->b.new_root(fmt);
    // Page IPA 0x3ff'fff0'0000 -> PA 0x5'0000'0000; offset 0xabcd.
    w->b.map(fmt, root, 0x3ff'fff0'0000, 0x5'0000'0000, 3);
    w->put_ste(s2_only(root, 42, 1, granule::size_64k));
    CHECK(w->run(at(0x3ff'fff0'abcd)).output_address() == 0x5'0000'abcd);
    CHECK(w->run(at(0x3ff'fff0'abcd)).xlat.s2_level == 3);
  }
}

TEST_CASE("stage 2: permissions, access flag, address size, aborts", "[walk][s2]") {
  auto w = make_world();
  const auto fmt = vt::s2_format(12, 40, 1);
  const auto root = w->b.new_root(fmt);
  auto ste = s2_only(root, 40, 1);
  w->put_ste(ste);
  auto type = [&](const vw::transaction& t) {
    const auto r = w->run(t);
    return r.kind == outcome::translated ? E::type{} : r.event.type();
  };
  SECTION("S2AP and XN") {
    w->b.map(fmt, root, 0x1000, 0x1000, 3, {.read = false, .write = true, .exec = false});
    w->b.map(fmt, root, 0x2000, 0x2000, 3, {.read = true, .write = false, .exec = true});
    CHECK(type(at(0x1000, access_kind::write)) == E::type{});
    CHECK(type(at(0x1000)) == E::type::f_permission);
    CHECK(type(at(0x1000, access_kind::exec)) == E::type::f_permission);
    CHECK(type(at(0x2000, access_kind::exec)) == E::type{});
    const auto r = w->run(at(0x2010, access_kind::write));
    const auto e = r.event.as<E::f_permission::layout>();
    CHECK(e.get<E::S2>());
    CHECK(e.get<E::CLASS>() == E::fault_class::in);
    CHECK(e.get<E::IPA>() == 0x2000);  // IPA[55:12]
  }
  SECTION("DBM with S2HD: a writable-clean page is writable") {
    w->st.features.httu = vw::httu::access_and_dirty;
    const auto leaf = w->b.map(fmt, root, 0x1000, 0x1000, 3, {.write = false});
    w->b.write64(leaf, w->b.read64(leaf) | std::uint64_t{1} << 51);
    CHECK(type(at(0x1000, access_kind::write)) == E::type::f_permission);
    w->put_ste(ste.with<S::S2HA>(true).with<S::S2HD>(true));
    CHECK(type(at(0x1000, access_kind::write)) == E::type{});
  }
  SECTION("AF == 0: F_ACCESS unless S2AFFD") {
    w->b.map(fmt, root, 0x1000, 0x1000, 3, {.af = false});
    CHECK(type(at(0x1000)) == E::type::f_access);
    w->put_ste(ste.with<S::S2AFFD>(true));
    CHECK(type(at(0x1000)) == E::type{});
  }
  SECTION("S2PS 40 bits: an output at 2^40 is a stage 2 Address size fault") {
    w->put_ste(s2_only(root, 40, 1, granule::size_4k, address_size::bits40));
    w->b.map(fmt, root, 0x1000, 0x100'0000'0000, 3);
    const auto r = w->run(at(0x1000));
    CHECK(r.event.type() == E::type::f_addr_size);
    CHECK(r.event.as<E::f_addr_size::layout>().get<E::S2>());
  }
  SECTION("an input beyond S2T0SZ") { CHECK(type(at(0x100'0000'0000)) == E::type::f_translation); }
  SECTION("stage 1 bypass: an input beyond the IAS is a stage 1 Address size fault") {
    const auto r = w->run(at(0x1'0000'0000'0000));
    REQUIRE(r.event.type() == E::type::f_addr_size);
    CHECK_FALSE(r.event.as<E::f_addr_size::layout>().get<E::S2>());
    CHECK(r.kind == outcome::fault);
  }
  SECTION("a stage 2 descriptor fetch abort: F_WALK_EABT, S2 = 1, CLASS = IN") {
    w->put_ste(s2_only(0x1000'0000, 40, 1));
    const auto r = w->run(at(0x1000));
    const auto e = r.event.as<E::f_walk_eabt::layout>();
    CHECK(r.event.type() == E::type::f_walk_eabt);
    CHECK(e.get<E::S2>());
    CHECK(e.get<E::CLASS>() == E::fault_class::in);
    CHECK(e.get<E::FetchAddr>() == 0x1000'0000);
  }
  SECTION("S2R and S2S") {
    w->b.map(fmt, root, 0x1000, 0x1000, 3, {.write = false});
    w->put_ste(ste.with<S::S2R>(false));
    auto r = w->run(at(0x1000, access_kind::write));
    CHECK(r.kind == outcome::abort);
    CHECK(r.term == vw::termination::abort);
    w->put_ste(ste.with<S::S2R>(false).with<S::S2S>(true));
    r = w->run(at(0x1000, access_kind::write));
    CHECK(r.kind == outcome::fault);
    CHECK(r.term == vw::termination::stall);
  }
}

TEST_CASE("nested: stage 1 tables and the CD through stage 2", "[walk][nested]") {
  nested_world n;
  auto& w = *n.w;
  // VA 0x5000 -> IPA 0x40'0000'5000 -> PA 0x7'0000'5000 (a 4KB page at stage 2).
  w.b.map(n.s1fmt, n.s1root, 0x5000, 0x40'0000'5000, 3, {.write = true});
  w.b.map(n.s2fmt, n.s2root, 0x40'0000'5000, 0x7'0000'5000, 3, {.write = false});
  SECTION("translation and combined permissions") {
    const auto r = w.run(at(0x5abc));
    REQUIRE(r.kind == outcome::translated);
    CHECK(r.output_address() == 0x7'0000'5abc);
    CHECK(r.xlat.ipa == 0x40'0000'5abc);
    CHECK(r.xlat.perm == vw::permissions{true, false, true});
    CHECK(r.xlat.s1_level == 3);
    CHECK(r.xlat.s2_level == 3);
    // Writable at stage 1, read-only at stage 2: the stage 2 Permission fault, CLASS = IN.
    const auto f = w.run(at(0x5abc, access_kind::write));
    const auto e = f.event.as<E::f_permission::layout>();
    CHECK(e.get<E::S2>());
    CHECK(e.get<E::CLASS>() == E::fault_class::in);
    CHECK(e.get<E::IPA>() == 0x40'0000'5000);
  }
  SECTION("a stage 1 table IPA stage 2 does not map: S2 = 1, CLASS = TT, IPA = descriptor") {
    // Move the stage 1 level 2 table to IPA 0x40'0010'0000 (unmapped at stage 2): the level 2
    // descriptor for VA 0x5000 is at index 0 of it.
    const auto l1 = w.b.descriptor_address(n.s1fmt, n.s1root, 0x5000, 1);
    w.b.write64(l1, 0x40'0010'0000 | 3);
    const auto r = w.run(at(0x5000));
    REQUIRE(r.event.type() == E::type::f_translation);
    const auto e = r.event.as<E::f_translation::layout>();
    CHECK(e.get<E::S2>());
    CHECK(e.get<E::CLASS>() == E::fault_class::tt);
    CHECK(e.get<E::IPA>() == 0x40'0010'0000);
  }
  SECTION("S2PTW: a stage 1 table in stage 2 Device memory") {
    n.move_s1_table({.attr = 0x1});  // Device-nGnRE
    CHECK(w.run(at(0x5abc)).output_address() == 0x7'0000'5abc);
    w.put_ste(n.ste.with<S::S2PTW>(true));
    const auto r = w.run(at(0x5abc));
    REQUIRE(r.event.type() == E::type::f_permission);
    const auto e = r.event.as<E::f_permission::layout>();
    CHECK(e.get<E::CLASS>() == E::fault_class::tt);
    CHECK(e.get<E::f_permission::TTRnW>());
    CHECK(e.get<E::IPA>() == 0x40'0010'0000);
  }
  SECTION("S2PTW: the CD in stage 2 Device memory") {
    // Move the CD to IPA 0x40'0020'0000, a Device page at stage 2 backed by PA 0x3'1000.
    const auto ste = n.move_cd(n.ste, {.attr = 0x1});
    w.put_ste(ste);
    CHECK(w.run(at(0x5abc)).output_address() == 0x7'0000'5abc);
    w.put_ste(ste.with<S::S2PTW>(true));
    const auto r = w.run(at(0x5abc));
    REQUIRE(r.event.type() == E::type::f_permission);
    const auto e = r.event.as<E::f_permission::layout>();
    CHECK(e.get<E::S2>());
    CHECK(e.get<E::CLASS>() == E::fault_class::cd);
    CHECK(e.get<E::IPA>() == 0x40'0020'0000);
  }
  SECTION("the CD's IPA unmapped at stage 2: S2 = 1, CLASS = CD") {
    w.put_ste(n.ste.with<S::S1ContextPtr>(0x50'0000'0800));
    const auto r = w.run(at(0x5000));
    REQUIRE(r.event.type() == E::type::f_translation);
    const auto e = r.event.as<E::f_translation::layout>();
    CHECK(e.get<E::CLASS>() == E::fault_class::cd);
    CHECK(e.get<E::IPA>() == 0x50'0000'0000);
    // S2R = 0 suppresses it: it is a translation-related fault of stage 2.
    w.put_ste(n.ste.with<S::S1ContextPtr>(0x50'0000'0800).with<S::S2R>(false));
    CHECK(w.run(at(0x5000)).kind == outcome::abort);
  }
  SECTION("a stage 2 walk abort during the CD fetch: F_WALK_EABT, S2 = 1, CLASS = CD") {
    w.put_ste(with_s2(n.ste, 0x1000'0000, 40, 1));
    const auto r = w.run(at(0x5000));
    REQUIRE(r.event.type() == E::type::f_walk_eabt);
    const auto e = r.event.as<E::f_walk_eabt::layout>();
    CHECK(e.get<E::CLASS>() == E::fault_class::cd);
    CHECK(e.get<E::S2>());
  }
  SECTION("a stage 1 fault in a nested walk is reported as stage 1") {
    const auto r = w.run(at(0x9000));
    const auto e = r.event.as<E::f_translation::layout>();
    CHECK(r.event.type() == E::type::f_translation);
    CHECK_FALSE(e.get<E::S2>());
    CHECK(e.get<E::CLASS>() == E::fault_class::in);
  }
  SECTION("stage 1 output beyond IPS is a stage 1 Address size fault before stage 2") {
    w.put_cd(s1_cd(n.s1root, 48, granule::size_4k, address_size::bits36));
    const auto r = w.run(at(0x5000));
    CHECK(r.event.type() == E::type::f_addr_size);
    CHECK_FALSE(r.event.as<E::f_addr_size::layout>().get<E::S2>());
  }
}
