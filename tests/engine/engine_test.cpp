// The engine: translate() through the configuration cache and the IOTLB, the commands that
// maintain them, and what the notifier hears.

#include <catch2/catch.hpp>

#include <cstdint>

#include "engine/fixture.hpp"

using namespace ex;
using vsmmu::queue::command_status;
using vw::access_kind;
using vw::outcome;

namespace {

using engine = ve::smmu_engine<memory, recording_notifier, 256>;

// SID 1: stage 1, one CD (ASID 5, VMID 3), 4KB page 0x40000000 -> 0x8000'0000 read/write.
struct s1_world : world {
  std::uint64_t root = b.new_root(s1_fmt);
  s1_world() {
    put_ste(1, s1_ste(cd_table(1), 0, vsmmu::smmuv3::s1_dss::terminate, 3));
    put_cd(1, 0, 0, s1_cd(root, 5));
    b.map(s1_fmt, root, 0x4000'0000, 0x8000'0000, 3, leaf(false));
  }
  static vt::leaf_attrs leaf(bool global) {
    vt::leaf_attrs a;
    a.global = global;
    return a;
  }
};

}  // namespace

TEST_CASE("engine: a second translation hits every cache and equals the walk", "[engine]") {
  s1_world w;
  engine e(*w.mem, w.st);
  const auto t = txn(1, 0x4000'0123);
  const auto first = e.translate(t);
  REQUIRE(first.kind == outcome::translated);
  CHECK(first.output_address() == 0x8000'0123);
  auto s = e.stats();
  CHECK(s.stream_misses == 1);
  CHECK(s.context_misses == 1);
  CHECK(s.leaf_misses == 1);
  CHECK(s.streams_cached == 1);
  CHECK(s.contexts_cached == 1);
  CHECK(s.leaves_cached == 1);
  const auto second = e.translate(txn(1, 0x4000'0ff8, access_kind::write));
  s = e.stats();
  CHECK(s.stream_hits == 1);
  CHECK(s.context_hits == 1);
  CHECK(s.leaf_hits == 1);
  CHECK(second.output_address() == 0x8000'0ff8);
  CHECK(same_result(second, w.walk(txn(1, 0x4000'0ff8, access_kind::write))));
  CHECK(same_result(first, w.walk(t)));
}

TEST_CASE("engine: caching off gives the same results and caches nothing", "[engine]") {
  s1_world w;
  engine e(*w.mem, w.st);
  (void)e.translate(txn(1, 0x4000'0000));
  e.set_caching(false);
  CHECK_FALSE(e.caching());
  CHECK(e.stats().leaves_cached == 0);
  for (int i = 0; i < 3; ++i) {
    CHECK(same_result(e.translate(txn(1, 0x4000'0010)), w.walk(txn(1, 0x4000'0010))));
  }
  const auto s = e.stats();
  CHECK(s.leaves_cached == 0);
  CHECK(s.streams_cached == 0);
  CHECK(s.stream_hits == 0);
}

TEST_CASE("engine: a changed mapping is used only after its TLBI", "[engine]") {
  s1_world w;
  engine e(*w.mem, w.st);
  CHECK(e.translate(txn(1, 0x4000'0000)).output_address() == 0x8000'0000);
  w.b.map(s1_fmt, w.root, 0x4000'0000, 0x9000'0000, 3, s1_world::leaf(false));
  // Without the invalidation the cached translation may (and here does) stay.
  CHECK(e.translate(txn(1, 0x4000'0000)).output_address() == 0x8000'0000);
  CHECK(e.execute(nh_va(3, 5, 0x4000'0000)) == command_status::ok);
  CHECK(e.translate(txn(1, 0x4000'0000)).output_address() == 0x9000'0000);
  // Another ASID's TLBI leaves it alone; NH_ASID of the right one drops it.
  w.b.map(s1_fmt, w.root, 0x4000'0000, 0xa000'0000, 3, s1_world::leaf(false));
  CHECK(e.execute(nh_asid(3, 6)) == command_status::ok);
  CHECK(e.translate(txn(1, 0x4000'0000)).output_address() == 0x9000'0000);
  CHECK(e.execute(nh_asid(3, 5)) == command_status::ok);
  CHECK(e.translate(txn(1, 0x4000'0000)).output_address() == 0xa000'0000);
}

TEST_CASE("engine: a cached leaf without the permission walks and faults", "[engine]") {
  s1_world w;
  vt::leaf_attrs ro;
  ro.global = false;
  ro.write = false;
  w.b.map(s1_fmt, w.root, 0x4000'1000, 0x8000'1000, 3, ro);
  engine e(*w.mem, w.st);
  REQUIRE(e.translate(txn(1, 0x4000'1000)).kind == outcome::translated);
  const auto t = txn(1, 0x4000'1008, access_kind::write);
  const auto r = e.translate(t);
  CHECK(r.kind == outcome::fault);
  CHECK(r.event.type() == vsmmu::smmuv3::evt::type::f_permission);
  CHECK(same_result(r, w.walk(t)));
}

TEST_CASE("engine: CMD_CFGI_STE / CMD_CFGI_CD make new configuration visible", "[engine]") {
  s1_world w;
  engine e(*w.mem, w.st);
  REQUIRE(e.translate(txn(1, 0x4000'0000)).kind == outcome::translated);
  // Stream made invalid: the cached STE stays until CMD_CFGI_STE.
  S::value off;
  w.put_ste(1, off);
  CHECK(e.translate(txn(1, 0x4000'0000)).kind == outcome::translated);
  CHECK(e.execute(cfgi_ste(1)) == command_status::ok);
  CHECK(e.translate(txn(1, 0x4000'0000)).event.type() == vsmmu::smmuv3::evt::type::c_bad_ste);
  CHECK(e.stats().streams_cached == 0);  // an ILLEGAL STE is not cached
  // Back, with a new CD (other tables, ASID 9): CFGI_STE dropped the old CD as well.
  const std::uint64_t root2 = w.b.new_root(s1_fmt);
  w.b.map(s1_fmt, root2, 0x4000'0000, 0xc000'0000, 3, s1_world::leaf(false));
  w.put_cd(1, 0, 0, s1_cd(root2, 9));
  w.put_ste(1, s1_ste(cd_table(1), 0, vsmmu::smmuv3::s1_dss::terminate, 3));
  CHECK(e.execute(cfgi_ste(1)) == command_status::ok);
  CHECK(e.translate(txn(1, 0x4000'0000)).output_address() == 0xc000'0000);
  // CD changed back: CMD_CFGI_CD 0 (a single-CD STE is index 0) plus the ASID's TLBI.
  w.put_cd(1, 0, 0, s1_cd(w.root, 5));
  CHECK(e.execute(cfgi_cd(1, 1)) == command_status::ok);  // another index: no effect
  CHECK(e.translate(txn(1, 0x4000'0000)).output_address() == 0xc000'0000);
  CHECK(e.execute(cfgi_cd(1, 0)) == command_status::ok);
  CHECK(e.execute(nh_asid(3, 9)) == command_status::ok);
  CHECK(e.translate(txn(1, 0x4000'0000)).output_address() == 0x8000'0000);
}

// Issue 4: gem5's CFGI_CD handling is reported to miss entries. S1DSS == 0b10: traffic without a
// SubstreamID uses the CD at index 0, which CMD_CFGI_CD with SubstreamID 0 invalidates (§4.3.3),
// and which CMD_CFGI_CD of another SubstreamID leaves cached.
TEST_CASE("engine: CMD_CFGI_CD 0 invalidates the CD S1DSS == 0b10 traffic uses", "[engine]") {
  world w;
  const std::uint64_t r0 = w.b.new_root(s1_fmt);
  const std::uint64_t r1 = w.b.new_root(s1_fmt);
  const std::uint64_t r2 = w.b.new_root(s1_fmt);
  w.b.map(s1_fmt, r0, 0x1000, 0x10'0000, 3, s1_world::leaf(false));
  w.b.map(s1_fmt, r1, 0x1000, 0x11'0000, 3, s1_world::leaf(false));
  w.b.map(s1_fmt, r2, 0x1000, 0x12'0000, 3, s1_world::leaf(false));
  w.put_ste(2, s1_ste(cd_table(2), 2, vsmmu::smmuv3::s1_dss::substream0, 4));
  w.put_cd(2, 2, 0, s1_cd(r0, 10));
  w.put_cd(2, 2, 1, s1_cd(r1, 11));
  engine e(*w.mem, w.st);
  const auto no_ssid = txn(2, 0x1000);
  const auto ssid1 = with_ssid(txn(2, 0x1000), 1);
  CHECK(e.translate(no_ssid).output_address() == 0x10'0000);
  CHECK(e.translate(ssid1).output_address() == 0x11'0000);
  // SubstreamID 0 traffic is terminated under 0b10, and is not what caches index 0.
  CHECK(e.translate(with_ssid(txn(2, 0x1000), 0)).event.type() ==
        vsmmu::smmuv3::evt::type::f_stream_disabled);
  CHECK(e.stats().contexts_cached == 2);

  w.put_cd(2, 2, 0, s1_cd(r2, 12));
  CHECK(e.execute(cfgi_cd(2, 1)) == command_status::ok);
  CHECK(e.stats().contexts_cached == 1);                      // exactly index 1 went
  CHECK(e.translate(no_ssid).output_address() == 0x10'0000);  // index 0 still cached
  CHECK(e.execute(cfgi_cd(2, 0)) == command_status::ok);
  CHECK(e.execute(nh_asid(4, 10)) == command_status::ok);
  CHECK(e.translate(no_ssid).output_address() == 0x12'0000);
  CHECK(same_result(e.translate(no_ssid), w.walk(no_ssid)));
  // CFGI_CD_ALL drops both indexes, the STE stays.
  (void)e.translate(ssid1);
  CHECK(e.stats().contexts_cached == 2);
  CHECK(e.execute(cfgi_cd_all(2)) == command_status::ok);
  const auto s = e.stats();
  CHECK(s.contexts_cached == 0);
  CHECK(s.streams_cached == 1);
}

TEST_CASE("engine: CFGI_STE_RANGE and CFGI_ALL drop the streams of their range", "[engine]") {
  s1_world w;
  for (std::uint32_t sid : {4U, 5U, 8U}) {
    w.put_ste(sid, s1_ste(cd_table(1), 0, vsmmu::smmuv3::s1_dss::terminate, 3));
  }
  engine e(*w.mem, w.st);
  for (std::uint32_t sid : {1U, 4U, 5U, 8U}) (void)e.translate(txn(sid, 0x4000'0000));
  CHECK(e.stats().streams_cached == 4);
  CHECK(e.execute(cfgi_ste_range(6, 1)) == command_status::ok);  // StreamIDs 4-7
  CHECK(e.stats().streams_cached == 2);
  CHECK(e.execute(cfgi_ste_range(0, 31)) == command_status::ok);  // CMD_CFGI_ALL
  CHECK(e.stats().streams_cached == 0);
  CHECK(e.stats().contexts_cached == 0);
  const auto& cfg = e.notifier().l->config;
  REQUIRE(cfg.size() == 2);
  CHECK(cfg[0].first_sid == 4);
  CHECK(cfg[0].last_sid == 7);
  CHECK(cfg[1].first_sid == 0);
  CHECK(cfg[1].last_sid == 0xffff'ffffU);
}

TEST_CASE("engine: stage 2 and nested translations are cached and invalidated", "[engine]") {
  world w;
  // SID 3: stage 2 only, VMID 7. SID 4: nested, VMID 8, its CD and stage 1 tables reached
  // through an identity 1GB stage 2 block over guest memory.
  const std::uint64_t s2a = w.b.new_root(s2_fmt);
  w.b.map(s2_fmt, s2a, 0x4000'0000, 0x5000'0000, 3);
  w.put_ste(3, with_s2(S::value{}.with<S::V>(true).with<S::Config>(ste_config::s2_trans), s2a, 7));
  const std::uint64_t s2b = w.b.new_root(s2_fmt);
  w.b.map(s2_fmt, s2b, 0, 0, 1);                      // IPA [0, 1GB) -> PA, structures included
  w.b.map(s2_fmt, s2b, 0x4000'0000, 0x6000'0000, 2);  // a 2MB block
  const std::uint64_t s1 = w.b.new_root(s1_fmt);
  w.b.map(s1_fmt, s1, 0x7000'0000, 0x4000'0000, 3, s1_world::leaf(false));
  w.put_cd(4, 0, 0, s1_cd(s1, 20));
  w.put_ste(4, with_s2(s1_ste(cd_table(4)).with<S::Config>(ste_config::nested), s2b, 8));

  engine e(*w.mem, w.st);
  const auto t3 = txn(3, 0x4000'0010);
  const auto t4 = txn(4, 0x7000'0010, access_kind::write);
  for (int i = 0; i < 2; ++i) {
    CHECK(same_result(e.translate(t3), w.walk(t3)));
    CHECK(same_result(e.translate(t4), w.walk(t4)));
  }
  CHECK(e.translate(t4).output_address() == 0x6000'0010);
  CHECK(e.stats().leaf_hits == 3);
  // Stage 2 remapped: S2_IPA drops the stage 2-only entry but need not drop the combined one
  // (§4.4.3.1); NH_ALL of the VMID does.
  w.b.map(s2_fmt, s2a, 0x4000'0000, 0x5100'0000, 3);
  w.b.map(s2_fmt, s2b, 0x4000'0000, 0x6200'0000, 2);
  CHECK(e.execute(s2_ipa(7, 0x4000'0000)) == command_status::ok);
  CHECK(e.execute(s2_ipa(8, 0x4000'0000)) == command_status::ok);
  CHECK(e.translate(t3).output_address() == 0x5100'0010);
  CHECK(e.execute(nh_all(8)) == command_status::ok);
  CHECK(e.translate(t4).output_address() == 0x6200'0010);
  CHECK(same_result(e.translate(t4), w.walk(t4)));
  // S12_VMALL and NSNH_ALL empty what they cover.
  CHECK(e.execute(s12_vmall(7)) == command_status::ok);
  CHECK(e.stats().leaves_cached == 1);
  CHECK(e.execute(nsnh_all()) == command_status::ok);
  CHECK(e.stats().leaves_cached == 0);
}

TEST_CASE("engine: ranged TLBIs reach the notifier as aligned pieces", "[engine]") {
  s1_world w;
  engine e(*w.mem, w.st);
  auto& log = *e.notifier().l;
  // NUM = 2, SCALE = 0, 4KB: 3 pages from 0x4000'1000 -> pieces 0x1000 (4K) and 0x2000 (8K).
  range_fields r;
  r.tg = cmd::tlbi_tg::size_4k;
  r.num = 2;
  r.leaf = true;
  CHECK(e.execute(nh_va(3, 5, 0x4000'1000, r)) == command_status::ok);
  REQUIRE(log.iotlb.size() == 2);
  CHECK(log.iotlb[0].scope == ve::tlbi_scope::nh_va);
  CHECK(log.iotlb[0].vmid == 3);
  CHECK(log.iotlb[0].asid == 5);
  CHECK(log.iotlb[0].leaf);
  CHECK(log.iotlb[0].piece == ve::range_piece{0x4000'1000, 12});
  CHECK(log.iotlb[1].piece == ve::range_piece{0x4000'2000, 13});
  // Without a range: the 4KB page of the address.
  log.iotlb.clear();
  CHECK(e.execute(nh_vaa(3, 0x4000'0abc'd000)) == command_status::ok);
  REQUIRE(log.iotlb.size() == 1);
  CHECK(log.iotlb[0].piece == ve::range_piece{0x4000'0abc'd000, 12});
  // Scopes without an address: the whole space.
  log.iotlb.clear();
  CHECK(e.execute(nh_asid(3, 5)) == command_status::ok);
  REQUIRE(log.iotlb.size() == 1);
  CHECK(log.iotlb[0].piece == ve::range_piece{0, 64});
  // A granule without range or level is Reserved: CERROR_ILL, nothing invalidated or notified.
  log.iotlb.clear();
  range_fields bad;
  bad.tg = cmd::tlbi_tg::size_4k;
  CHECK(e.execute(nh_va(3, 5, 0x4000'0000, bad)) == command_status::illegal);
  CHECK(log.iotlb.empty());
}

TEST_CASE("engine: a stage 1-only SMMU matches no VMID in NH_* commands", "[engine]") {
  s1_world w;
  w.st.features.s2p = false;
  engine e(*w.mem, w.st);
  REQUIRE(e.translate(txn(1, 0x4000'0000)).kind == outcome::translated);
  CHECK(e.execute(nh_va(0x55, 5, 0x4000'0000)) == command_status::ok);  // VMID RES0 here
  CHECK(e.stats().leaves_cached == 0);
  CHECK(e.execute(s12_vmall(0)) == command_status::illegal);  // §4.4.3.2
}

TEST_CASE("engine: CMD_ATC_INV asks the endpoint and reports an incomplete one", "[engine]") {
  s1_world w;
  engine e(*w.mem, w.st);
  auto& log = *e.notifier().l;
  CHECK(e.execute(atc_inv(1, 0x1234'5000, 4, true, 7, true)) == command_status::ok);
  REQUIRE(log.atc.size() == 1);
  CHECK(log.atc[0].sid == 1);
  CHECK(log.atc[0].ssv);
  CHECK(log.atc[0].ssid == 7);
  CHECK(log.atc[0].global);
  CHECK(log.atc[0].span == ve::range_piece{0x1234'0000, 16});  // 64KB, aligned to its size
  // Global is IGNORED without SSV; Size 52 is everything.
  CHECK(e.execute(atc_inv(1, 0x1234'5000, 52, false, 7, true)) == command_status::ok);
  CHECK_FALSE(log.atc[1].ssv);
  CHECK_FALSE(log.atc[1].global);
  CHECK(log.atc[1].ssid == 0);
  CHECK(log.atc[1].span == ve::range_piece{0, 64});
  log.atc_completes = false;
  CHECK(e.execute(atc_inv(1, 0, 0)) == command_status::atc_incomplete);
  // IGNORED while SMMUEN == 0 (§4.5.1).
  auto st = w.st;
  st.smmuen = false;
  e.set_state(st);
  CHECK(e.execute(atc_inv(1, 0, 0)) == command_status::ok);
  CHECK(log.atc.size() == 3);
  // Without ATS the command is ILLEGAL.
  auto no_ats = w.st;
  no_ats.features.ats = false;
  engine e2(*w.mem, no_ats);
  CHECK(e2.execute(atc_inv(1, 0, 0)) == command_status::illegal);
}

TEST_CASE("engine: hints, stalls and foreign commands", "[engine]") {
  s1_world w;
  engine e(*w.mem, w.st);
  CHECK(e.execute(as_command(cmd::make<cmd::prefetch_config::layout>())) == command_status::ok);
  CHECK(e.execute(as_command(cmd::make<cmd::prefetch_addr::layout>())) == command_status::ok);
  CHECK(e.execute(as_command(cmd::make<cmd::tlbi_el3_all::layout>())) == command_status::illegal);
  CHECK(e.execute(as_command(cmd::make<cmd::tlbi_el2_all::layout>())) ==
        command_status::illegal);  // no IDR0.Hyp
  static_assert(vsmmu::queue::command_handler<engine>);
  static_assert(vsmmu::queue::synchronizing_handler<engine>);
  CHECK(e.synchronize() == command_status::ok);  // nothing in flight: returns at once
}

TEST_CASE("engine: a change of the Stream table drops every cache", "[engine]") {
  s1_world w;
  engine e(*w.mem, w.st);
  (void)e.translate(txn(1, 0x4000'0000));
  auto st = w.st;
  st.recinvsid = false;  // does not change what is cached
  e.set_state(st);
  CHECK(e.stats().leaves_cached == 1);
  st.strtab.log2size = 5;
  e.set_state(st);
  const auto s = e.stats();
  CHECK(s.leaves_cached == 0);
  CHECK(s.streams_cached == 0);
  CHECK(e.state().strtab.log2size == 5);
}

TEST_CASE("engine: wait_for_translations returns when nothing is in flight", "[engine]") {
  s1_world w;
  engine e(*w.mem, w.st);
  e.wait_for_translations();
  (void)e.translate(txn(1, 0x4000'0000));
  e.wait_for_translations();
  e.wait_for_translations();
  CHECK(e.translate(txn(1, 0x4000'0000)).kind == outcome::translated);
}

// Guest-controlled commands are hostile: any field values of any opcode are applied or refused,
// never UB (ASan/UBSan builds), and after a full invalidation the caches agree with the walk.
TEST_CASE("engine: random command words are harmless", "[engine]") {
  s1_world w;
  engine e(*w.mem, w.st);
  std::uint64_t x = 0x0123'4567'89ab'cdefULL;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  constexpr std::uint8_t opcodes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x10,
                                      0x11, 0x12, 0x13, 0x18, 0x1a, 0x20, 0x21, 0x22,
                                      0x23, 0x28, 0x2a, 0x30, 0x40, 0x41, 0x44, 0x45,
                                      0x46, 0x50, 0x5a, 0x60, 0x70, 0x73, 0x80, 0xff};
  for (int i = 0; i < 20000; ++i) {
    vsmmu::queue::command c;
    c.words = {(next() & ~std::uint64_t{0xff}) | opcodes[next() % std::size(opcodes)], next()};
    const auto s = e.execute(c);
    CHECK((s == command_status::ok || s == command_status::illegal ||
           s == command_status::atc_incomplete));
    if (i % 100 == 0) (void)e.translate(txn(1, 0x4000'0000 + (next() & 0x1fff)));
  }
  CHECK(e.execute(cfgi_ste_range(0, 31)) == command_status::ok);
  CHECK(e.execute(nsnh_all()) == command_status::ok);
  const auto t = txn(1, 0x4000'0abc);
  CHECK(same_result(e.translate(t), w.walk(t)));
  CHECK(same_result(e.translate(t), w.walk(t)));
}

TEST_CASE("engine: NS-EL2 StreamWorld entries and the EL2 TLBIs", "[engine]") {
  s1_world w;
  w.st.features.hyp = true;
  // STRW = EL2: one VA range, no ASID, no VMID (IHI 0070 §5.2).
  w.put_ste(1, s1_ste(cd_table(1), 0, vsmmu::smmuv3::s1_dss::terminate, 3)
                   .with<S::STRW>(vsmmu::smmuv3::strw::el2));
  engine e(*w.mem, w.st);
  const auto t = txn(1, 0x4000'0010);
  REQUIRE(e.translate(t).kind == outcome::translated);
  CHECK(same_result(e.translate(t), w.walk(t)));
  CHECK(e.stats().leaf_hits == 1);
  // NS-EL1 scopes leave it; EL2_VA (ASID ignored with CR2.E2H == 0) and EL2_ALL drop it.
  CHECK(e.execute(nh_all(3)) == command_status::ok);
  CHECK(e.execute(nh_asid(0, 0)) == command_status::ok);
  CHECK(e.stats().leaves_cached == 1);
  CHECK(e.execute(
            as_command(cmd::make<cmd::tlbi_el2_va::layout>().with<cmd::ASID>(77).with<cmd::Address>(
                0x4000'0000))) == command_status::ok);
  CHECK(e.stats().leaves_cached == 0);
  (void)e.translate(t);
  CHECK(e.stats().leaves_cached == 1);
  CHECK(e.execute(as_command(cmd::make<cmd::tlbi_el2_all::layout>())) == command_status::ok);
  CHECK(e.stats().leaves_cached == 0);
}

TEST_CASE("engine: a 65536-entry IOTLB", "[engine]") {
  s1_world w;
  auto e = std::make_unique<ve::smmu_engine<memory, ve::null_notifier, 65536>>(*w.mem, w.st);
  const auto t = txn(1, 0x4000'0008);
  CHECK(same_result(e->translate(t), w.walk(t)));
  CHECK(same_result(e->translate(t), w.walk(t)));
  CHECK(e->stats().leaf_hits == 1);
}

// §4.3.3: a CD is cached per StreamID that located it; software invalidates it through every
// StreamID whose STE points at it.
TEST_CASE("engine: a CD shared by two StreamIDs is cached once per StreamID", "[engine]") {
  s1_world w;
  w.put_ste(2, s1_ste(cd_table(1), 0, vsmmu::smmuv3::s1_dss::terminate, 3));  // SID 1's CD
  engine e(*w.mem, w.st);
  (void)e.translate(txn(1, 0x4000'0000));
  (void)e.translate(txn(2, 0x4000'0000));
  CHECK(e.stats().contexts_cached == 2);
  const std::uint64_t root2 = w.b.new_root(s1_fmt);
  w.b.map(s1_fmt, root2, 0x4000'0000, 0xd000'0000, 3, s1_world::leaf(false));
  w.put_cd(1, 0, 0, s1_cd(root2, 6));
  CHECK(e.execute(cfgi_cd(1, 0)) == command_status::ok);
  CHECK(e.stats().contexts_cached == 1);
  CHECK(e.translate(txn(1, 0x4000'0000)).output_address() == 0xd000'0000);
  // SID 2 keeps its copy (ASID 5) until its own CFGI_CD.
  CHECK(e.translate(txn(2, 0x4000'0000)).output_address() == 0x8000'0000);
  CHECK(e.execute(cfgi_cd(2, 0)) == command_status::ok);
  CHECK(e.translate(txn(2, 0x4000'0000)).output_address() == 0xd000'0000);
}

// A DS block larger than the effective IPS (4KB level 0, 512GB, with IPS 32) translates only the
// part of it within the IPS (IHI 0070 §3.4 stage 1 check 2 on the final output; DDI 0487 J1
// AArch64.S1Walk): a cached leaf must not give the rest of the block an output the walk faults.
// The translate fuzzer's finding fuzz/corpus/translate/s1_ds_block_beyond_ips, through the caches.
TEST_CASE("engine: a cached DS block larger than the IPS answers as the walk beyond the IPS",
          "[engine]") {
  world w;
  w.st.features.ds = true;
  const auto fmt = vt::s1_format(12, 48, 32, true);
  const auto root = w.b.new_root(fmt);
  w.put_cd(1, 0, 0,
           s1_cd(root, 5).with<C::T0SZ>(16).with<C::IPS>(address_size::bits32).with<C::DS>(true));
  w.put_ste(1, s1_ste(cd_table(1)));
  const std::uint64_t block = std::uint64_t{1} << 39;
  w.b.map(fmt, root, block, 0, 0);
  engine e(*w.mem, w.st);
  ve::micro_tlb<4> u;
  const auto in_ips = txn(1, block + 0x1234'5678);
  const auto beyond_ips = txn(1, block + 0x3'1234'5678);
  REQUIRE(w.walk(in_ips).output_address() == 0x1234'5678);
  REQUIRE(w.walk(beyond_ips).event.type() == vsmmu::smmuv3::evt::type::f_addr_size);
  for (int round = 0; round < 2; ++round) {  // the second from the caches
    CHECK(same_result(e.translate(in_ips), w.walk(in_ips)));
    CHECK(same_result(e.translate(beyond_ips), w.walk(beyond_ips)));
    CHECK(same_result(e.translate(in_ips, u), w.walk(in_ips)));
    CHECK(same_result(e.translate(beyond_ips, u), w.walk(beyond_ips)));
  }
  CHECK(e.stats().leaf_hits >= 1);
}
