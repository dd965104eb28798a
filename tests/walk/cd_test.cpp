// CD lookup and validation (issue 3 item 4) and S1DSS (item 3).

#include <catch2/catch.hpp>

#include "walk/fixture.hpp"

using namespace fx;
using vsmmu::smmuv3::s1_dss;
using vsmmu::smmuv3::s1_fmt;
using vw::outcome;

namespace {

vw::transaction with_ssid(std::uint64_t va, std::uint32_t ssid) {
  auto t = read_at(va);
  t.ssv = true;
  t.ssid = ssid;
  return t;
}

E::type type_of(const vw::result& r) { return r.has_event ? r.event.type() : E::type{}; }

// Substreams: S1CDMax 8 (256 CDs) in format `fmt`; SSID n maps VA 0x1000 to PA 0x10'0000 * n.
struct substreams {
  std::unique_ptr<world> w = make_world();
  vt::tt_format fmt = vt::s1_format(12, 48);
  S::value ste;

  explicit substreams(s1_fmt f, s1_dss dss = s1_dss::terminate, unsigned cdmax = 8) {
    ste = s1_ste()
              .with<S::S1CDMax>(static_cast<std::uint8_t>(cdmax))
              .with<S::S1Fmt>(f)
              .with<S::S1DSS>(dss);
    // Linear tables of 256 CDs (16KB) need room: put the CD table at 0x30000.
    ste.set<S::S1ContextPtr>(0x30000);
    w->put_ste(ste);
  }
  void add(std::uint32_t ssid) {
    const auto root = w->b.new_root(fmt);
    w->b.map(fmt, root, 0x1000, 0x10'0000 * std::uint64_t{ssid}, 3);
    w->b.install_cd(0x30000, ste.get<S::S1Fmt>(), ste.get<S::S1CDMax>(), ssid, s1_cd(root));
  }
};

}  // namespace

TEST_CASE("CD tables: linear and 2-level", "[walk][cd]") {
  for (auto f : {s1_fmt::linear, s1_fmt::two_level_4k, s1_fmt::two_level_64k}) {
    CAPTURE(static_cast<unsigned>(f));
    substreams s(f);
    s.add(1);
    s.add(77);
    s.add(255);
    CHECK(s.w->run(with_ssid(0x1010, 1)).output_address() == 0x10'0010);
    CHECK(s.w->run(with_ssid(0x1010, 77)).output_address() == 0x4d0'0010);
    CHECK(s.w->run(with_ssid(0x1010, 255)).output_address() == 0xff0'0010);
    // SSID 2 has a zero CD (V == 0): C_BAD_CD with SSV and the SubstreamID.
    const auto r = s.w->run(with_ssid(0x1010, 2));
    REQUIRE(type_of(r) == E::type::c_bad_cd);
    const auto e = r.event.as<E::c_bad_cd::layout>();
    CHECK(e.get<E::SSV>());
    CHECK(e.get<E::SubstreamID>() == 2);
    // SSID >= 2^S1CDMax: C_BAD_SUBSTREAMID.
    CHECK(type_of(s.w->run(with_ssid(0x1010, 256))) == E::type::c_bad_substreamid);
  }
}

TEST_CASE("CD tables: 2-level layout and L1CD errors", "[walk][cd]") {
  SECTION("4KB leaf tables: L1CD at SSID[7:6], 64 CDs each") {
    substreams s(s1_fmt::two_level_4k);
    s.add(77);  // L1 index 1, CD 13
    const auto l1 = s.w->b.read64(0x30000 + 8);
    CHECK((l1 & 1) == 1);
    // L1CD 0 is invalid: SSIDs 0-63 are C_BAD_SUBSTREAMID.
    CHECK(type_of(s.w->run(with_ssid(0, 5))) == E::type::c_bad_substreamid);
    CHECK(type_of(s.w->run(with_ssid(0x1000, 77))) == E::type{});
    // An L2Ptr beyond the OAS: C_BAD_SUBSTREAMID too (§3.4.3).
    s.w->b.write64(0x30000 + 8, 0x1'0000'0000'0000 | 1);
    CHECK(type_of(s.w->run(with_ssid(0x1000, 77))) == E::type::c_bad_substreamid);
    // An L1CD fetch abort is F_CD_FETCH with the L1CD's address.
    s.w->put_ste(s.ste.with<S::S1ContextPtr>(0x100'0000));
    const auto r = s.w->run(with_ssid(0x1000, 77));
    REQUIRE(type_of(r) == E::type::f_cd_fetch);
    CHECK(r.event.as<E::f_cd_fetch::layout>().get<E::FetchAddr>() == 0x100'0008);
  }
  SECTION("64KB leaf tables: all 256 SSIDs under L1CD 0") {
    substreams s(s1_fmt::two_level_64k);
    s.add(200);
    CHECK((s.w->b.read64(0x30000) & 1) == 1);
    CHECK(s.w->b.read64(0x30008) == 0);
    CHECK(s.w->run(with_ssid(0x1000, 200)).output_address() == 0xc80'0000);
  }
  SECTION("a CD fetch abort: F_CD_FETCH with the CD's address") {
    auto w = make_world();
    w->put_ste(s1_ste(0x100'0000).with<S::S1CDMax>(4));
    const auto r = w->run(with_ssid(0x1000, 3));
    REQUIRE(type_of(r) == E::type::f_cd_fetch);
    CHECK(r.event.as<E::f_cd_fetch::layout>().get<E::FetchAddr>() == 0x100'0000 + 3 * 64);
    CHECK(r.event.as<E::f_cd_fetch::layout>().get<E::SubstreamID>() == 3);
  }
}

TEST_CASE("S1DSS and SubstreamID checks", "[walk][cd][s1dss]") {
  SECTION("0b00 terminate: F_STREAM_DISABLED, the STE is valid") {
    substreams s(s1_fmt::linear, s1_dss::terminate);
    s.add(0);
    const auto r = s.w->run(read_at(0x1000));
    REQUIRE(type_of(r) == E::type::f_stream_disabled);
    CHECK(r.event.as<E::f_stream_disabled::layout>().get<E::StreamID>() == 1);
    CHECK(r.kind == outcome::fault);
  }
  SECTION("0b11 is reserved and behaves as terminate") {
    substreams s(s1_fmt::linear, static_cast<s1_dss>(3));
    CHECK(type_of(s.w->run(read_at(0x1000))) == E::type::f_stream_disabled);
  }
  SECTION("0b01 bypass: stage 1 bypassed without a SubstreamID") {
    substreams s(s1_fmt::linear, s1_dss::bypass);
    s.add(3);
    const auto r = s.w->run(read_at(0x1234'5678));
    CHECK(r.kind == outcome::bypass);
    CHECK(r.output_address() == 0x1234'5678);
    CHECK(s.w->run(with_ssid(0x1010, 3)).output_address() == 0x30'0010);
  }
  SECTION("0b10 substream 0: no SubstreamID uses CD 0; SubstreamID 0 is disabled") {
    substreams s(s1_fmt::two_level_4k, s1_dss::substream0);
    s.add(0);
    CHECK(s.w->run(read_at(0x1010)).output_address() == 0x10);
    CHECK(type_of(s.w->run(with_ssid(0x1010, 0))) == E::type::f_stream_disabled);
  }
  SECTION("0b10 with an invalid L1CD for CD 0: C_BAD_SUBSTREAMID recorded with SubstreamID 0") {
    substreams s(s1_fmt::two_level_4k, s1_dss::substream0);
    const auto r = s.w->run(read_at(0x1010));
    REQUIRE(type_of(r) == E::type::c_bad_substreamid);
    CHECK(r.event.as<E::c_bad_substreamid::layout>().get<E::SubstreamID>() == 0);
  }
  SECTION("S1CDMax 0: a SubstreamID is C_BAD_SUBSTREAMID; none uses the single CD") {
    substreams s(s1_fmt::linear, s1_dss::terminate, 0);
    s.add(0);
    CHECK(s.w->run(read_at(0x1010)).output_address() == 0x10);
    CHECK(type_of(s.w->run(with_ssid(0x1010, 0))) == E::type::c_bad_substreamid);
  }
  SECTION("IDR1.SSIDSIZE 0: S1CDMax is IGNORED, SubstreamIDs are refused") {
    substreams s(s1_fmt::linear, s1_dss::terminate, 4);
    s.w->st.features.ssidsize = 0;
    s.add(0);
    CHECK(s.w->run(read_at(0x1010)).output_address() == 0x10);
    CHECK(type_of(s.w->run(with_ssid(0x1010, 1))) == E::type::c_bad_substreamid);
  }
}

TEST_CASE("CD validation: every ILLEGAL rule is C_BAD_CD", "[walk][cd]") {
  vw::smmu_features f;
  vw::stream_config ste;
  ste.mode = vw::stream_mode::s1;
  const auto cd = s1_cd(0x10000);
  auto err = [&](const C::value& c) { return vw::decode_cd(c, ste, f).error; };
  REQUIRE(err(cd) == vw::cd_error::none);

  CHECK(err(cd.with<C::V>(false)) == vw::cd_error::not_valid);
  CHECK(err(cd.with<C::AA64>(false)) == vw::cd_error::aa64);
  SECTION("T0SZ per granule; EPD0 makes TTB0's fields IGNORED") {
    CHECK(err(cd.with<C::T0SZ>(15)) == vw::cd_error::txsz);
    CHECK(err(cd.with<C::T0SZ>(40)) == vw::cd_error::txsz);
    CHECK(err(cd.with<C::T0SZ>(39)) == vw::cd_error::none);
    // 64KB with 52-bit VAs (IDR5.VAX == 0b01) allows T0SZ 12.
    const auto cd64 = cd.with<C::TG0>(granule::size_64k).with<C::T0SZ>(12);
    CHECK(err(cd64) == vw::cd_error::txsz);
    f.vax52 = true;
    CHECK(err(cd64) == vw::cd_error::none);
    CHECK(err(cd64.with<C::TG0>(granule::size_4k)) == vw::cd_error::txsz);
    CHECK(err(cd.with<C::T0SZ>(63).with<C::EPD0>(true)) == vw::cd_error::none);
    CHECK(err(cd.with<C::TTB0>(0xffff'ffff'fff0)
                  .with<C::T0SZ>(0)
                  .with<C::EPD0>(true)
                  .with<C::TG0>(static_cast<granule>(3))) == vw::cd_error::none);
  }
  SECTION("TG0 and TG1 encodings differ") {
    CHECK(err(cd.with<C::TG0>(static_cast<granule>(3))) == vw::cd_error::tg);
    const auto both = cd.with<C::EPD1>(false).with<C::TTB1>(0x20000);
    CHECK(err(both.with<C::TG1>(granule_tg1::size_4k)) == vw::cd_error::none);       // 0b10
    CHECK(err(both.with<C::TG1>(static_cast<granule_tg1>(0))) == vw::cd_error::tg);  // reserved
    f.gran64k = false;
    CHECK(err(both.with<C::TG1>(granule_tg1::size_64k)) == vw::cd_error::tg);  // 0b11
    // TG0 0b01 is 64KB, TG1 0b01 is 16KB.
    CHECK(err(cd.with<C::TG0>(granule::size_64k)) == vw::cd_error::tg);
    CHECK(err(both.with<C::TG1>(granule_tg1::size_16k)) == vw::cd_error::none);
  }
  SECTION("TTBx within the effective IPS (capped by the OAS)") {
    const auto ips40 = cd.with<C::IPS>(address_size::bits40);
    CHECK(err(ips40.with<C::TTB0>(0xff'ffff'f000)) == vw::cd_error::none);
    CHECK(err(ips40.with<C::TTB0>(0x100'0000'0000)) == vw::cd_error::ttb);
    f.oas = address_size::bits40;
    CHECK(err(cd.with<C::TTB0>(0x100'0000'0000)) == vw::cd_error::ttb);
    CHECK(err(cd.with<C::EPD1>(false).with<C::TTB1>(0x100'0000'0000)) == vw::cd_error::ttb);
  }
  SECTION("HA/HD against HTTU") {
    CHECK(err(cd.with<C::HA>(true)) == vw::cd_error::httu);
    f.httu = vw::httu::access_flag;
    CHECK(err(cd.with<C::HA>(true)) == vw::cd_error::none);
    CHECK(err(cd.with<C::HD>(true)) == vw::cd_error::httu);
    f.httu = vw::httu::access_and_dirty;
    CHECK(err(cd.with<C::HD>(true).with<C::HA>(true)) == vw::cd_error::none);
  }
  SECTION("ASID against ASID16") {
    f.asid16 = false;
    CHECK(err(cd.with<C::ASID>(0x100)) == vw::cd_error::asid);
    CHECK(err(cd.with<C::ASID>(0xff)) == vw::cd_error::none);
  }
  SECTION("A against TERM_MODEL, S against STALL_MODEL and STE.S1STALLD") {
    CHECK(err(cd.with<C::A>(false)) == vw::cd_error::none);
    f.term_model = true;
    CHECK(err(cd.with<C::A>(false)) == vw::cd_error::term_model);
    CHECK(err(cd.with<C::S>(true)) == vw::cd_error::none);
    ste.s1stalld = true;
    CHECK(err(cd.with<C::S>(true)) == vw::cd_error::stall);
    ste.s1stalld = false;
    f.stall_model = vw::stall_model::terminate_only;
    CHECK(err(cd.with<C::S>(true)) == vw::cd_error::stall);
    f.stall_model = vw::stall_model::stall_forced;
    CHECK(err(cd) == vw::cd_error::stall);
  }
  SECTION("ENDI against TTENDIAN, ignored when both ranges are disabled") {
    f.ttendian = vw::tt_endian::little;
    CHECK(err(cd.with<C::ENDI>(true)) == vw::cd_error::endi);
    CHECK(err(cd.with<C::ENDI>(true).with<C::EPD0>(true)) == vw::cd_error::none);
  }
}

TEST_CASE("an ILLEGAL CD in a translation is C_BAD_CD", "[walk][cd]") {
  auto w = make_world();
  const auto root = w->stage1(vt::s1_format(12, 48));
  w->st.features.asid16 = false;
  w->put_cd(s1_cd(root).with<C::ASID>(0x1ff));
  const auto r = w->run(read_at(0x1000));
  CHECK(r.kind == outcome::fault);
  CHECK(r.event.type() == E::type::c_bad_cd);
}
