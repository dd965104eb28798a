// Stream table lookup (issue 3 item 2) and STE validation (item 3).

#include <catch2/catch.hpp>

#include "walk/fixture.hpp"

using namespace fx;
using vw::outcome;

namespace {

E::type type_of(const vw::result& r) { return r.has_event ? r.event.type() : E::type{}; }

}  // namespace

TEST_CASE("linear Stream table", "[walk][strtab]") {
  auto w = make_world();
  w->put_ste(bypass_ste(), 15);
  SECTION("StreamID within LOG2SIZE") {
    const auto r = w->run(read_at(0x1234, 15));
    CHECK(r.kind == outcome::bypass);
    CHECK(r.output_address() == 0x1234);
  }
  SECTION("StreamID >= 2^LOG2SIZE: C_BAD_STREAMID, recorded only with RECINVSID") {
    auto r = w->run(read_at(0x1234, 16));
    CHECK(r.kind == outcome::fault);
    CHECK(r.event.type() == E::type::c_bad_streamid);
    CHECK(r.event.as<E::c_bad_streamid::layout>().get<E::StreamID>() == 16);
    w->st.recinvsid = false;
    r = w->run(read_at(0x1234, 16));
    CHECK(r.kind == outcome::abort);
    CHECK_FALSE(r.has_event);
  }
  SECTION("effective LOG2SIZE = MIN(LOG2SIZE, SIDSIZE)") {
    w->st.features.sidsize = 3;  // StreamIDs 0-7 only
    CHECK(w->run(read_at(0, 15)).event.type() == E::type::c_bad_streamid);
    w->put_ste(bypass_ste(), 7);
    CHECK(w->run(read_at(0, 7)).kind == outcome::bypass);
  }
  SECTION("the base is aligned to the table size (literal LOG2SIZE)") {
    w->st.strtab.base = strtab + 0x3c0;  // bits below 2^(4 + 6) are ignored
    CHECK(w->run(read_at(0x1234, 15)).kind == outcome::bypass);
  }
  SECTION("an STE beyond memory: F_STE_FETCH with its address") {
    w->st.strtab.base = 0x100'0000;
    w->st.strtab.log2size = 8;
    const auto r = w->run(read_at(0, 3));
    REQUIRE(r.event.type() == E::type::f_ste_fetch);
    CHECK(r.event.as<E::f_ste_fetch::layout>().get<E::FetchAddr>() == 0x100'0000 + 3 * 64);
  }
  SECTION("an STE address beyond the OAS is F_STE_FETCH") {
    w->st.features.oas = address_size::bits32;
    w->st.strtab.base = 0x1'0000'0000;
    CHECK(w->run(read_at(0, 3)).event.type() == E::type::f_ste_fetch);
  }
}

TEST_CASE("2-level Stream table: every SPLIT", "[walk][strtab]") {
  for (unsigned split : {6U, 8U, 10U}) {
    CAPTURE(split);
    auto w = make_world();
    // The L1 table (2^(16 - split) descriptors, up to 8KB) at an address aligned to its size.
    w->st.strtab = {0x30000, true, split, 16};
    // SID 0x1234: L1 index 0x1234 >> split, level 2 index 0x1234 & (2^split - 1).
    const std::uint32_t sid = 0x1234;
    const auto at = w->b.install_ste(w->st.strtab, sid, bypass_ste());
    const std::uint64_t l1 = 0x30000 + (sid >> split) * 8;
    const auto desc = w->b.read64(l1);
    CHECK((desc & 0x1f) == split + 1);  // Span
    CHECK(at == (desc & 0xff'ffff'ffff'ffc0) + (sid & ((1U << split) - 1)) * 64);
    CHECK(w->run(read_at(0, sid)).kind == outcome::bypass);
    // Another SID under the same L1STD has a zeroed (invalid) STE: C_BAD_STE.
    CHECK(type_of(w->run(read_at(0, sid ^ 1))) == E::type::c_bad_ste);
    // A SID under an L1STD with Span 0: C_BAD_STREAMID.
    CHECK(type_of(w->run(read_at(0, sid + (1U << split)))) == E::type::c_bad_streamid);

    SECTION("Span limits") {
      const auto base = desc & ~std::uint64_t{0x1f};
      // Span 2: two STEs; the rest of the level 2 range is out of range.
      w->b.write64(l1, base | 2);
      const std::uint32_t first = sid & ~((1U << split) - 1);
      w->put_ste(bypass_ste(), first + 1);
      CHECK(w->run(read_at(0, first + 1)).kind == outcome::bypass);
      CHECK(type_of(w->run(read_at(0, first + 2))) == E::type::c_bad_streamid);
      // Span above SPLIT + 1 and reserved Spans 12-31 make every StreamID invalid.
      w->b.write64(l1, base | (split + 2));
      CHECK(type_of(w->run(read_at(0, first + 1))) == E::type::c_bad_streamid);
      w->b.write64(l1, base | 12);
      CHECK(type_of(w->run(read_at(0, first + 1))) == E::type::c_bad_streamid);
      w->b.write64(l1, base | 31);
      CHECK(type_of(w->run(read_at(0, first + 1))) == E::type::c_bad_streamid);
    }
  }
}

TEST_CASE("2-level Stream table: reserved SPLIT, L2Ptr alignment, fetch aborts", "[walk][strtab]") {
  auto w = make_world();
  SECTION("a reserved SPLIT behaves as 6") {
    w->st.strtab = {0x800, true, 7, 12};
    // SID 0x41 -> L1 index 1, level 2 index 1 under SPLIT 6.
    w->b.write64(0x808, 0x4000 | 2);  // Span 2 at 0x4000
    const auto ste = bypass_ste();
    for (unsigned i = 0; i < 8; ++i) w->b.write64(0x4000 + 64 + 8 * i, ste.words()[i]);
    CHECK(w->run(read_at(0, 0x41)).kind == outcome::bypass);
  }
  SECTION("L2Ptr bits below the array size are ignored") {
    w->st.strtab = {0x800, true, 6, 12};
    w->b.write64(0x808, 0x4000 | 0x40 | 2);  // Span 2: L2Ptr[6:0] ignored
    const auto ste = bypass_ste();
    for (unsigned i = 0; i < 8; ++i) w->b.write64(0x4000 + 64 + 8 * i, ste.words()[i]);
    CHECK(w->run(read_at(0, 0x41)).kind == outcome::bypass);
  }
  SECTION("an L1STD or level 2 fetch abort is F_STE_FETCH") {
    w->st.strtab = {0x100'0000, true, 6, 12};
    auto r = w->run(read_at(0, 0x41));
    REQUIRE(r.event.type() == E::type::f_ste_fetch);
    CHECK(r.event.as<E::f_ste_fetch::layout>().get<E::FetchAddr>() == 0x100'0008);
    w->st.strtab.base = 0x800;
    w->b.write64(0x808, 0x200'0000 | 7);
    r = w->run(read_at(0, 0x41));
    REQUIRE(r.event.type() == E::type::f_ste_fetch);
    CHECK(r.event.as<E::f_ste_fetch::layout>().get<E::FetchAddr>() == 0x200'0000 + 64);
  }
  SECTION("without ST_LEVEL support the table is linear") {
    w->st.features.two_level_stream_table = false;
    w->b.install_ste({0x0, false, 6, 4}, 2, bypass_ste());
    w->st.strtab = {0x0, true, 6, 4};
    CHECK(w->run(read_at(0, 2)).kind == outcome::bypass);
  }
}

TEST_CASE("STE: V, Config and the global bypass", "[walk][ste]") {
  auto w = make_world();
  SECTION("V == 0: C_BAD_STE with the stream's fields") {
    auto t = read_at(0x10);
    const auto r = w->run(t);
    REQUIRE(r.event.type() == E::type::c_bad_ste);
    CHECK(r.event.as<E::c_bad_ste::layout>().get<E::StreamID>() == 1);
  }
  SECTION("Config abort and the reserved 0b001-0b011 abort silently") {
    for (unsigned c : {0U, 1U, 2U, 3U}) {
      w->put_ste(bypass_ste().with<S::Config>(static_cast<ste_config>(c)));
      const auto r = w->run(read_at(0x10));
      CHECK(r.kind == outcome::abort);
      CHECK_FALSE(r.has_event);
    }
  }
  SECTION("bypass: an address beyond the OAS is a stage 1 F_ADDR_SIZE") {
    w->put_ste(bypass_ste());
    CHECK(w->run(read_at(0xffff'ffff'ffff)).kind == outcome::bypass);
    const auto r = w->run(read_at(0x1'0000'0000'0000));
    CHECK(r.event.type() == E::type::f_addr_size);
  }
  SECTION("SMMUEN == 0: bypass, GBPA.ABORT, and no event beyond the OAS") {
    w->st.smmuen = false;
    CHECK(w->run(read_at(0x1234, 99)).kind == outcome::bypass);
    CHECK(w->run(read_at(0x1'0000'0000'0000)).kind == outcome::abort);
    w->st.gbpa_abort = true;
    const auto r = w->run(read_at(0x1234));
    CHECK(r.kind == outcome::abort);
    CHECK_FALSE(r.has_event);
  }
  SECTION("a SubstreamID without stage 1: C_BAD_SUBSTREAMID") {
    w->put_ste(bypass_ste());
    auto t = read_at(0x10);
    t.ssv = true;
    t.ssid = 5;
    const auto r = w->run(t);
    REQUIRE(r.event.type() == E::type::c_bad_substreamid);
    CHECK(r.event.as<E::c_bad_substreamid::layout>().get<E::SubstreamID>() == 5);
  }
}

TEST_CASE("STE validation: every ILLEGAL rule is C_BAD_STE", "[walk][ste]") {
  vw::smmu_features f;
  const auto s1 = s1_ste();
  const auto s2 = with_s2(s1_ste().with<S::Config>(ste_config::s2_trans), 0x10000, 40, 1);
  const auto nested = s2.with<S::Config>(ste_config::nested);
  auto err = [&](const S::value& ste) { return vw::decode_ste(ste, f).error; };
  REQUIRE(err(s1) == vw::ste_error::none);
  REQUIRE(err(s2) == vw::ste_error::none);
  REQUIRE(err(nested) == vw::ste_error::none);

  SECTION("stages against S1P/S2P") {
    f.s1p = false;
    CHECK(err(s1) == vw::ste_error::s1_not_supported);
    CHECK(err(s2) == vw::ste_error::none);
    f = {};
    f.s2p = false;
    CHECK(err(s2) == vw::ste_error::s2_not_supported);
    CHECK(err(nested) == vw::ste_error::s2_not_supported);
  }
  SECTION("S1CDMax against SSIDSIZE; S1Fmt against CD2L") {
    f.ssidsize = 4;
    CHECK(err(s1.with<S::S1CDMax>(4)) == vw::ste_error::none);
    CHECK(err(s1.with<S::S1CDMax>(5)) == vw::ste_error::s1cdmax);
    f.cd2l = false;
    CHECK(err(s1.with<S::S1CDMax>(4).with<S::S1Fmt>(vsmmu::smmuv3::s1_fmt::two_level_4k)) ==
          vw::ste_error::s1fmt);
    // 0b11 is reserved and behaves as linear; with S1CDMax 0 S1Fmt is not checked.
    CHECK(err(s1.with<S::S1CDMax>(4).with<S::S1Fmt>(static_cast<vsmmu::smmuv3::s1_fmt>(3))) ==
          vw::ste_error::none);
    CHECK(err(s1.with<S::S1Fmt>(vsmmu::smmuv3::s1_fmt::two_level_4k)) == vw::ste_error::none);
    // SSIDSIZE 0: S1CDMax is IGNORED.
    f.ssidsize = 0;
    CHECK(err(s1.with<S::S1CDMax>(31)) == vw::ste_error::none);
  }
  SECTION("S1ContextPtr beyond the OAS (PA) or IAS (IPA)") {
    f.oas = address_size::bits40;
    CHECK(err(s1.with<S::S1ContextPtr>(0xff'ffff'ffc0)) == vw::ste_error::none);
    CHECK(err(s1.with<S::S1ContextPtr>(0x100'0000'0000)) == vw::ste_error::s1contextptr);
    CHECK(err(nested.with<S::S1ContextPtr>(0x100'0000'0000)) == vw::ste_error::s1contextptr);
  }
  SECTION("stall fields against STALL_MODEL") {
    CHECK(err(s1.with<S::S1STALLD>(true)) == vw::ste_error::none);
    f.stall_model = vw::stall_model::terminate_only;
    CHECK(err(s1.with<S::S1STALLD>(true)) == vw::ste_error::s1stalld);
    CHECK(err(s2.with<S::S2S>(true)) == vw::ste_error::s2s);
    f.stall_model = vw::stall_model::stall_forced;
    CHECK(err(s2) == vw::ste_error::s2s);
    CHECK(err(s2.with<S::S2S>(true)) == vw::ste_error::none);
  }
  SECTION("EATS: IGNORED without IDR0.ATS, ILLEGAL only in the listed combinations") {
    const auto eats = [](S::value v, unsigned e) {
      return v.with<S::EATS>(static_cast<vsmmu::smmuv3::eats>(e));
    };
    CHECK(err(eats(s1, 2)) == vw::ste_error::none);  // ATS == 0: ignored
    f.ats = true;
    CHECK(err(eats(s1, 2)) == vw::ste_error::eats);  // split-stage needs Config 0b111
    CHECK(err(eats(nested, 2)) == vw::ste_error::none);
    CHECK(err(eats(nested, 2).with<S::S2S>(true)) == vw::ste_error::eats);
    CHECK(err(eats(nested, 1).with<S::S2S>(true)) == vw::ste_error::eats);  // full ATS + S2S
    CHECK(err(eats(s1, 1).with<S::S2S>(true)) == vw::ste_error::none);      // S2S unused
    CHECK(err(eats(bypass_ste(), 2)) == vw::ste_error::none);               // Config 0b100
    f.ns1ats = true;
    CHECK(err(eats(nested, 2)) == vw::ste_error::eats);
  }
  SECTION("STRW: reserved values when used") {
    const auto el3 = s1.with<S::STRW>(vsmmu::smmuv3::strw::el3);
    CHECK(err(el3) == vw::ste_error::none);  // IDR0.Hyp == 0: STRW unused
    f.hyp = true;
    CHECK(err(el3) == vw::ste_error::strw);
    CHECK(err(s2.with<S::STRW>(vsmmu::smmuv3::strw::el3)) == vw::ste_error::none);
    CHECK(vw::decode_ste(s1.with<S::STRW>(vsmmu::smmuv3::strw::el2), f).config.el2);
  }
  SECTION("S2VMID against VMID16") {
    f.vmid16 = false;
    CHECK(err(s2.with<S::S2VMID>(0x100)) == vw::ste_error::s2vmid);
    CHECK(err(s1.with<S::S2VMID>(0x100)) == vw::ste_error::s2vmid);  // EL1 stage 1 uses it
    CHECK(err(bypass_ste().with<S::S2VMID>(0x100)) == vw::ste_error::none);
  }
  SECTION("stage 2: S2AA64, S2HA/S2HD, S2TG, S2ENDI") {
    CHECK(err(s2.with<S::S2AA64>(false)) == vw::ste_error::s2aa64);
    CHECK(err(s2.with<S::S2HA>(true)) == vw::ste_error::s2httu);
    f.httu = vw::httu::access_flag;
    CHECK(err(s2.with<S::S2HA>(true)) == vw::ste_error::none);
    CHECK(err(s2.with<S::S2HD>(true)) == vw::ste_error::s2httu);
    f.gran16k = false;
    CHECK(err(with_s2(s2, 0x10000, 36, 1, granule::size_16k)) == vw::ste_error::s2tg);
    CHECK(err(s2.with<S::S2TG>(static_cast<granule>(3))) == vw::ste_error::s2tg);
    f.ttendian = vw::tt_endian::little;
    CHECK(err(s2.with<S::S2ENDI>(true)) == vw::ste_error::s2endi);
  }
  SECTION("stage 2: S2T0SZ range, S2SL0 against the granule and input size") {
    // 4KB: T0SZ 16-39 with a 48-bit IAS.
    CHECK(err(with_s2(s2, 0x10000, 48, 2)) == vw::ste_error::none);  // level 0, 9 bits
    CHECK(err(with_s2(s2, 0x10000, 49, 2)) == vw::ste_error::s2t0sz);
    CHECK(err(with_s2(s2, 0x10000, 24, 0)) == vw::ste_error::s2t0sz);  // T0SZ 40 > 39
    CHECK(err(with_s2(s2, 0x10000, 25, 0)) == vw::ste_error::none);    // T0SZ 39, level 2
    // Level 1 with 43 bits: 13 bits there, 16 concatenated tables; 44 bits is one too many.
    CHECK(err(with_s2(s2, 0x10000, 43, 1)) == vw::ste_error::none);
    CHECK(err(with_s2(s2, 0x10000, 44, 1)) == vw::ste_error::s2sl0);
    // Level 0 with fewer bits than level 1 resolves: inconsistent.
    CHECK(err(with_s2(s2, 0x10000, 39, 2)) == vw::ste_error::s2sl0);
    // 4KB SL0 0b11 (level 3) needs FEAT_TTST.
    CHECK(err(with_s2(s2, 0x10000, 25, 3)) == vw::ste_error::s2sl0);
    // 4KB level 0 needs a PA size of at least 44 bits.
    f.oas = address_size::bits42;
    CHECK(err(with_s2(s2, 0x10000, 42, 2, granule::size_4k, address_size::bits42)) ==
          vw::ste_error::s2sl0);
    f.oas = address_size::bits48;
    // 64KB: SL0 0b11 reserved; T0SZ down to 12 needs a 52-bit IAS.
    CHECK(err(with_s2(s2, 0x10000, 42, 3, granule::size_64k)) == vw::ste_error::s2sl0);
    CHECK(err(with_s2(s2, 0x10000, 52, 2, granule::size_64k)) == vw::ste_error::s2t0sz);
    f.oas = address_size::bits52;
    CHECK(err(with_s2(s2, 0x10000, 52, 2, granule::size_64k, address_size::bits52)) ==
          vw::ste_error::none);
  }
  SECTION("stage 2: S2TTB within the effective S2PS, S2PS capped by the OAS") {
    CHECK(err(with_s2(s2, 0xff'ffff'0000, 40, 1, granule::size_4k, address_size::bits40)) ==
          vw::ste_error::none);
    CHECK(err(with_s2(s2, 0x100'0000'0000, 40, 1, granule::size_4k, address_size::bits40)) ==
          vw::ste_error::s2ttb);
    f.oas = address_size::bits40;  // S2PS 48 is capped to 40
    CHECK(err(with_s2(s2, 0x100'0000'0000, 40, 1)) == vw::ste_error::s2ttb);
    // Beyond 48 bits with 4KB even when S2PS and the OAS are 52.
    f.oas = address_size::bits52;
    CHECK(err(with_s2(s2, 0x1'0000'0000'0000, 40, 1, granule::size_4k, address_size::bits52)) ==
          vw::ste_error::s2ttb);
    CHECK(err(with_s2(s2, 0x1'0000'0000'0000, 42, 1, granule::size_64k, address_size::bits52)) ==
          vw::ste_error::none);
    // The effective S2PS the walk uses.
    CHECK(vw::decode_ste(with_s2(s2, 0x10000, 40, 1, granule::size_4k, address_size::bits52), f)
              .config.s2.walk.oa_bits == 48);
  }
}
