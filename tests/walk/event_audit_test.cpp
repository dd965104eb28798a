// Audit of the event records against IHI 0070 §7.3: every field of every record (an independent
// transcription of the spec compared with the layouts), and what the walk writes into each
// field of each event it records.

#include <catch2/catch.hpp>

#include <vsmmu/layout/dynamic.hpp>
#include <vsmmu/smmuv3/events.hpp>

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "walk/fixture.hpp"

using namespace fx;
using vw::outcome;

namespace {

namespace vl = vsmmu::layout;
namespace sm = vsmmu::smmuv3;

struct spec_field {
  std::string_view name;
  unsigned msb;
  unsigned lsb;
};

struct spec_record {
  std::uint8_t type;
  std::string_view name;
  // Where the positions come from: "figure" where the markdown kept the record's drawing,
  // "text" where only §7.3's prose survives (positions as events.hpp documents their sources).
  std::string_view source;
  std::array<spec_field, 20> fields;
};

// clang-format off
// Common words, §7.3 figures: event number [7:0], SSV 11, SubstreamID [31:12], StreamID [63:32].
#define VSMMU_HEAD {"Type", 7, 0}, {"SSV", 11, 11}, {"SubstreamID", 31, 12}, {"StreamID", 63, 32}
// RnW/InD/PnU [99:97] (F_UUT figure), NSIPA 102, S2 103, CLASS [105:104].
#define VSMMU_ATTRS {"PnU", 97, 97}, {"InD", 98, 98}, {"RnW", 99, 99}
#define VSMMU_STAGE {"NSIPA", 102, 102}, {"S2", 103, 103}, {"CLASS", 105, 104}
// FetchAddr[55:3] at [247:195] (F_STE_FETCH/F_VMS_FETCH figures), Reason [79:64], GPCF 80.
#define VSMMU_FETCH {"Reason", 79, 64}, {"GPCF", 80, 80}, {"FetchAddr", 247, 195}
// STAG [79:64], Stall 95, InputAddr[63:0] at [191:128], IPA[55:12] at [247:204].
#define VSMMU_XLAT VSMMU_HEAD, {"STAG", 79, 64}, {"Stall", 95, 95}, VSMMU_ATTRS, VSMMU_STAGE, \
    {"InputAddr", 191, 128}, {"IPA", 247, 204}

const spec_record spec_records[] = {
    {0x01, "F_UUT", "figure", {{VSMMU_HEAD, {"Reason", 79, 64}, VSMMU_ATTRS, {"InputAddr", 191, 128}}}},
    {0x02, "C_BAD_STREAMID", "figure", {{VSMMU_HEAD}}},
    {0x03, "F_STE_FETCH", "figure", {{VSMMU_HEAD, VSMMU_FETCH}}},
    {0x04, "C_BAD_STE", "figure", {{VSMMU_HEAD}}},
    {0x05, "F_BAD_ATS_TREQ", "text", {{VSMMU_HEAD, {"Span", 67, 64}, {"PRIV", 92, 92},
      {"X", 93, 93}, {"W", 94, 94}, {"R", 95, 95}, {"InputAddr", 191, 140}}}},
    // §7.3.7 figure: StreamID and the event number only.
    {0x06, "F_STREAM_DISABLED", "figure", {{{"Type", 7, 0}, {"StreamID", 63, 32}}}},
    // §7.3.8 figure: RnW between bits 100 and 98, no SubstreamID.
    {0x07, "F_TRANSL_FORBIDDEN", "figure", {{{"Type", 7, 0}, {"StreamID", 63, 32},
      {"RnW", 99, 99}, {"InputAddr", 191, 128}}}},
    // §7.3.9: "SubstreamID is always valid (there is no SSV qualifier)"; the figure has RES0 [11:8].
    {0x08, "C_BAD_SUBSTREAMID", "figure", {{{"Type", 7, 0}, {"SubstreamID", 31, 12},
      {"StreamID", 63, 32}}}},
    {0x09, "F_CD_FETCH", "text", {{VSMMU_HEAD, VSMMU_FETCH}}},
    {0x0A, "C_BAD_CD", "figure", {{VSMMU_HEAD}}},
    {0x0B, "F_WALK_EABT", "text", {{VSMMU_HEAD, VSMMU_FETCH, VSMMU_ATTRS, VSMMU_STAGE,
      {"InputAddr", 191, 128}}}},
    {0x10, "F_TRANSLATION", "text", {{VSMMU_XLAT}}},
    {0x11, "F_ADDR_SIZE", "text", {{VSMMU_XLAT}}},
    {0x12, "F_ACCESS", "text", {{VSMMU_XLAT}}},
    {0x13, "F_PERMISSION", "text", {{VSMMU_XLAT, {"DirtyBit", 106, 106},
      {"AssuredOnly", 107, 107}, {"TTRnW", 108, 108}, {"Overlay", 109, 109}}}},
    // §7.3.17 names S2 and IPA but no CLASS; Reason is 32 bits as in F_CFG_CONFLICT.
    {0x20, "F_TLB_CONFLICT", "text", {{VSMMU_HEAD, {"Reason", 95, 64}, VSMMU_ATTRS,
      {"NSIPA", 102, 102}, {"S2", 103, 103}, {"InputAddr", 191, 128}, {"IPA", 247, 204}}}},
    {0x21, "F_CFG_CONFLICT", "figure", {{VSMMU_HEAD, {"Reason", 95, 64}}}},
    {0x24, "E_PAGE_REQUEST", "figure", {{VSMMU_HEAD, {"uX", 97, 97}, {"uW", 98, 98},
      {"uR", 99, 99}, {"pX", 101, 101}, {"pW", 102, 102}, {"pR", 103, 103},
      {"Span", 115, 108}, {"InputAddr", 191, 140}}}},
    {0x25, "F_VMS_FETCH", "figure", {{VSMMU_HEAD, VSMMU_FETCH}}},
};
// clang-format on
#undef VSMMU_XLAT
#undef VSMMU_FETCH
#undef VSMMU_STAGE
#undef VSMMU_ATTRS
#undef VSMMU_HEAD

const vl::layout_info& layout_of(const vw::event_record& e) {
  const auto* d = sm::find_event(static_cast<std::uint8_t>(e.type()));
  REQUIRE(d != nullptr);
  return d->layout;
}

// §7.3: "Portions of event records that are not explicitly defined in this section are RES0."
void check_res0(const vw::event_record& e) {
  std::array<std::uint64_t, 4> defined{};
  for (const auto& f : layout_of(e).fields) {
    if (f.is_reserved()) continue;
    for (unsigned b = f.lsb; b <= f.msb; ++b) defined[b / 64] |= std::uint64_t{1} << (b % 64);
  }
  for (unsigned w = 0; w < 4; ++w) {
    INFO("dword " << w);
    CHECK((e.words()[w] & ~defined[w]) == 0);
  }
}

// A field by its §7.3 name, as a tool reading the record would (in-place addresses in place).
std::uint64_t field(const vw::event_record& e, std::string_view name) {
  const auto* f = layout_of(e).find(name);
  INFO(std::string(name));
  REQUIRE(f != nullptr);
  return vl::read_value(*f, e.bytes());
}

vw::transaction with_ssid(vw::transaction t, std::uint32_t ssid) {
  t.ssv = true;
  t.ssid = ssid;
  return t;
}

// The recorded fault of `r`, checked for its type and its RES0 bits.
vw::event_record recorded(const vw::result& r, E::type type) {
  REQUIRE(r.has_event);
  REQUIRE(r.event.type() == type);
  CHECK(r.recorded());
  check_res0(r.event);
  return r.event;
}

}  // namespace

TEST_CASE("event audit: every field of every record at the position §7.3 gives",
          "[walk][events][audit]") {
  std::set<unsigned> seen;
  for (const auto& rec : spec_records) {
    INFO(std::string(rec.name) << " (" << rec.source << ")");
    seen.insert(rec.type);
    const auto* d = sm::find_event(rec.type);
    REQUIRE(d != nullptr);
    CHECK(d->name == rec.name);
    std::set<std::string_view> spec_names;
    for (const auto& f : rec.fields) {
      if (f.name.empty()) break;
      INFO(std::string(f.name));
      spec_names.insert(f.name);
      const auto* got = d->layout.find(f.name);
      REQUIRE(got != nullptr);
      CHECK(got->msb == f.msb);
      CHECK(got->lsb == f.lsb);
      // Addresses are stored in place: FetchAddr[55:3], IPA[55:12], InputAddr[63:x].
      const bool address = f.name == "FetchAddr" || f.name == "IPA" || f.name == "InputAddr";
      CHECK(got->in_place == address);
    }
    // Nothing declared that §7.3 does not define (the rest is RES0).
    for (const auto& f : d->layout.fields) {
      if (f.is_reserved()) continue;
      INFO(std::string(f.name));
      CHECK(spec_names.count(f.name) == 1);
    }
  }
  CHECK(seen.size() == 19);
}

TEST_CASE("event audit: C_BAD_STREAMID carries SSV and the SubstreamID of the transaction",
          "[walk][events][audit]") {
  auto w = make_world();
  // §7.3.3 "Recorded when SMMU_(*_)CR2.RECINVSID == 1 and ... Incoming StreamID >=
  // 2^(SMMU_(*_)STRTAB_BASE_CFG.LOG2SIZE)"; §7.3 SSV "1: A SubstreamID was provided and the
  // SubstreamID field is valid".
  const auto& with =
      recorded(w->run(with_ssid(read_at(0x1000, 0x8001), 0xabcde)), E::type::c_bad_streamid);
  CHECK(field(with, "StreamID") == 0x8001);
  CHECK(field(with, "SSV") == 1);
  CHECK(field(with, "SubstreamID") == 0xabcde);
  // "0: No SubstreamID was provided ... the SubstreamID field is UNKNOWN": recorded as 0.
  const auto& without = recorded(w->run(read_at(0x1000, 0x10)), E::type::c_bad_streamid);
  CHECK(field(without, "SSV") == 0);
  CHECK(field(without, "SubstreamID") == 0);
  CHECK(field(without, "StreamID") == 0x10);
}

TEST_CASE("event audit: F_STE_FETCH FetchAddr is the PA of the fetch", "[walk][events][audit]") {
  auto w = make_world();
  // §7.3.4 "FetchAddr is the Physical Address used for the fetch."
  w->st.strtab.base = 0x100'0000;  // beyond the 256KB of memory
  const auto& e = recorded(w->run(with_ssid(read_at(0, 5), 3)), E::type::f_ste_fetch);
  CHECK(field(e, "FetchAddr") == 0x100'0000 + 5 * 64);
  CHECK(field(e, "StreamID") == 5);
  CHECK(field(e, "SSV") == 1);
  CHECK(field(e, "SubstreamID") == 3);
  CHECK(field(e, "GPCF") == 0);  // not a Granule Protection Check fault

  SECTION("an STE beyond the OAS: FetchAddr[55:OAS] are RES0") {
    // §7.3.4 "FetchAddr bits [55:OAS] are RES0 if OAS is smaller than 56"; with "In SMMUv3.1,
    // bits [51:OAS] are UNKNOWN" for an out-of-range address, zero satisfies both sentences.
    w->st.features.oas = address_size::bits32;
    w->st.strtab.base = 0x1'0000'0000;
    const auto& beyond = recorded(w->run(read_at(0, 5)), E::type::f_ste_fetch);
    CHECK(field(beyond, "FetchAddr") == 5 * 64);
  }
}

TEST_CASE("event audit: C_BAD_STE, C_BAD_CD, F_STREAM_DISABLED, C_BAD_SUBSTREAMID fields",
          "[walk][events][audit]") {
  auto w = make_world();
  SECTION("C_BAD_STE: the stream's words") {
    const auto& e = recorded(w->run(with_ssid(read_at(0, 9), 0x77)), E::type::c_bad_ste);
    CHECK(field(e, "StreamID") == 9);
    CHECK(field(e, "SSV") == 1);
    CHECK(field(e, "SubstreamID") == 0x77);
  }
  SECTION("C_BAD_CD") {
    w->put_ste(s1_ste());  // the CD at cd_ptr is all zero: V == 0
    const auto& e = recorded(w->run(read_at(0x1000)), E::type::c_bad_cd);
    CHECK(field(e, "StreamID") == 1);
    CHECK(field(e, "SSV") == 0);
  }
  SECTION("F_STREAM_DISABLED: StreamID only") {
    // §7.3.7: S1CDMax > 0, S1DSS == 0b00 and no SubstreamID; or SubstreamID 0 with S1DSS 0b10.
    const auto ste = s1_ste().with<S::S1CDMax>(2);
    w->put_ste(ste);
    const auto& e = recorded(w->run(read_at(0x1000)), E::type::f_stream_disabled);
    CHECK(field(e, "StreamID") == 1);
    w->put_ste(ste.with<S::S1DSS>(vsmmu::smmuv3::s1_dss::substream0));
    const auto& e0 = recorded(w->run(with_ssid(read_at(0x1000), 0)), E::type::f_stream_disabled);
    CHECK(field(e0, "StreamID") == 1);
  }
  SECTION("C_BAD_SUBSTREAMID: SubstreamID without SSV") {
    // §7.3.9 "SubstreamID >= 2^STE.S1CDMax"; "Otherwise, the SubstreamID that was input with
    // the transaction is recorded."
    w->put_ste(s1_ste().with<S::S1CDMax>(2));
    const auto& e = recorded(w->run(with_ssid(read_at(0x1000), 4)), E::type::c_bad_substreamid);
    CHECK(field(e, "SubstreamID") == 4);
    CHECK(field(e, "StreamID") == 1);
  }
}

TEST_CASE("event audit: stage 1 faults", "[walk][events][audit]") {
  auto w = make_world();
  const auto s1fmt = vt::s1_format(12, 48);
  const auto root = w->stage1(s1fmt);
  w->b.map(s1fmt, root, 0x40'0000, 0x2'0000, 3);

  SECTION("F_WALK_EABT: S2 == 0, CLASS == TT, FetchAddr the descriptor's PA") {
    // §7.3.12 "A stage 1-only table walk that encounters EABT on physical access to a
    // descriptor is reported as S2 == 0 (stage 1), CLASS == TT. The SMMU input transaction
    // address (InputAddr) and descriptor fetch PA (FetchAddr) are provided."
    const auto l1 = w->b.descriptor_address(s1fmt, root, 0x40'0000, 1);
    w->b.write64(l1, 0x1000'0000 | 3);  // the level 2 table beyond memory
    auto t = with_access(read_at(0x40'0000 | 0xabc), vw::access_kind::exec, true);
    const auto& e = recorded(w->run(t), E::type::f_walk_eabt);
    CHECK(field(e, "S2") == 0);
    CHECK(field(e, "CLASS") == static_cast<unsigned>(E::fault_class::tt));
    CHECK(field(e, "FetchAddr") == 0x1000'0000 + 2 * 8);  // level 2 index 2
    CHECK(field(e, "InputAddr") == 0x40'0abc);
    // "The InD/PnU attributes are the post-STE override values. RnW pertains to the input
    // transaction (InputAddr)"
    CHECK(field(e, "RnW") == 1);
    CHECK(field(e, "InD") == 1);
    CHECK(field(e, "PnU") == 1);
    CHECK(field(e, "NSIPA") == 0);  // "zero unless ... the Secure event queue"
    // "InD == 0 when RnW == 0"
    const auto& wr = recorded(w->run(with_access(read_at(0x40'0000), vw::access_kind::write)),
                              E::type::f_walk_eabt);
    CHECK(field(wr, "RnW") == 0);
    CHECK(field(wr, "InD") == 0);
  }
  SECTION("F_TRANSLATION at stage 1: S2 == 0, CLASS == IN, IPA UNKNOWN") {
    // §7.3.13 "If fault occurs at stage 1, S2 == 0 and: CLASS == IN, IPA is UNKNOWN" (0 here).
    const auto& e = recorded(w->run(read_at(0x7000'0000)), E::type::f_translation);
    CHECK(field(e, "S2") == 0);
    CHECK(field(e, "CLASS") == static_cast<unsigned>(E::fault_class::in));
    CHECK(field(e, "IPA") == 0);
    CHECK(field(e, "Stall") == 0);
    CHECK(field(e, "STAG") == 0);
    CHECK(field(e, "InputAddr") == 0x7000'0000);
  }
  SECTION("InputAddr keeps bits [63:56] as supplied, TBI or not") {
    // §7.3 "TBI does not affect the InputAddr field, which includes bits [63:56] in the same
    // form as they were supplied to the SMMU."
    w->put_cd(s1_cd(root).with<C::TBI0>(true));
    CHECK(w->run(read_at(0x5a00'0000'0040'0010ULL)).output_address() == 0x2'0010);
    const auto& e = recorded(w->run(read_at(0x5a00'0000'7000'0123ULL)), E::type::f_translation);
    CHECK(field(e, "InputAddr") == 0x5a00'0000'7000'0123ULL);
  }
  SECTION("InD/PnU after STE.INSTCFG/PRIVCFG") {
    // §7.3 "PnU: Privileged/Unprivileged (post-STE override)", "InD: ... (post-STE override)".
    w->put_ste(s1_ste().with<S::INSTCFG>(0b11).with<S::PRIVCFG>(0b10));
    const auto& e = recorded(w->run(with_access(read_at(0x7000'0000), vw::access_kind::read, true)),
                             E::type::f_translation);
    CHECK(field(e, "InD") == 1);
    CHECK(field(e, "PnU") == 0);
    const auto& wr = recorded(w->run(with_access(read_at(0x7000'0000), vw::access_kind::write)),
                              E::type::f_translation);
    CHECK(field(wr, "InD") == 0);  // InD == 0 when RnW == 0
  }
  SECTION("a stalled fault carries Stall and the transaction's STAG") {
    // §7.3.21 "If a transaction is stalled, the STAG parameter provides a token used to
    // uniquely identify the transaction."
    w->put_cd(s1_cd(root).with<C::S>(true));
    auto t = read_at(0x7000'0000);
    t.stag = 0xbeef;
    const auto r = w->run(t);
    CHECK(r.term == vw::termination::stall);
    const auto& e = recorded(r, E::type::f_translation);
    CHECK(field(e, "Stall") == 1);
    CHECK(field(e, "STAG") == 0xbeef);
  }
  SECTION("F_ADDR_SIZE of stage 1 bypass: S2 == 0, CLASS == IN") {
    // §7.3.14 "If caused by stage 1 translation bypass ..., CLASS == IN and S2 == 0".
    w->put_ste(bypass_ste());
    const auto& e = recorded(w->run(read_at(0x1'0000'0000'0000)), E::type::f_addr_size);
    CHECK(field(e, "S2") == 0);
    CHECK(field(e, "CLASS") == static_cast<unsigned>(E::fault_class::in));
    CHECK(field(e, "InputAddr") == 0x1'0000'0000'0000);
  }
  SECTION("F_CD_FETCH: FetchAddr the CD's PA") {
    // §7.3.10 "FetchAddr is the Physical Address used for the fetch."
    w->put_ste(s1_ste(0x100'0040));
    const auto& e = recorded(w->run(read_at(0x1000)), E::type::f_cd_fetch);
    CHECK(field(e, "FetchAddr") == 0x100'0040);
  }
  SECTION("F_CD_FETCH beyond the OAS: FetchAddr[55:OAS] are RES0") {
    // §7.3.10 "FetchAddr bits [55:OAS] are RES0 if OAS is smaller than 56"; a CD table within
    // the OAS whose indexed entry is beyond it.
    w->st.features.oas = address_size::bits40;
    w->put_ste(s1_ste(0xff'ffff'ffc0).with<S::S1CDMax>(2));
    const auto& e = recorded(w->run(with_ssid(read_at(0x1000), 2)), E::type::f_cd_fetch);
    CHECK(field(e, "FetchAddr") == 0x40);
    CHECK(field(e, "SSV") == 1);
    CHECK(field(e, "SubstreamID") == 2);
  }
}

namespace {
// A nested stream for SID 1: stage 2 maps IPA [0, 1GB) to the same PAs with 2MB blocks, except
// IPA [0x20'0000, 0x80'0000), left to the tests; the stage 1 tables and the CD are at IPAs equal
// to their PAs. VA 0x6000 -> IPA 0x40'0000 -> PA 0x3'0000.
struct nested_stream {
  std::unique_ptr<world> w = make_world();
  vt::tt_format s1fmt = vt::s1_format(12, 48);
  vt::tt_format s2fmt = vt::s2_format(12, 40, 1);
  std::uint64_t s1root = w->b.new_root(s1fmt);
  std::uint64_t s2root = w->b.new_root(s2fmt);
  S::value ste = with_s2(s1_ste().with<S::Config>(ste_config::nested), s2root, 40, 1);

  nested_stream() {
    for (std::uint64_t ipa = 0; ipa < 0x4000'0000; ipa += 0x20'0000) {
      if (ipa < 0x20'0000 || ipa > 0x60'0000) w->b.map(s2fmt, s2root, ipa, ipa, 2);
    }
    w->put_ste(ste);
    w->put_cd(s1_cd(s1root));
    w->b.map(s1fmt, s1root, 0x6000, 0x40'0000, 3);
    w->b.map(s2fmt, s2root, 0x40'0000, 0x3'0000, 3);
  }
};
}  // namespace

TEST_CASE("event audit: faults of a nested walk", "[walk][events][audit][nested]") {
  nested_stream n;
  auto& w = *n.w;
  REQUIRE(w.run(read_at(0x6123)).output_address() == 0x3'0123);

  SECTION(
      "a stage 1 descriptor at an IPA that stage 2 maps beyond memory: S2 == 0, CLASS == TT, "
      "FetchAddr the PA") {
    // §7.3.12 "In a nested configuration, a stage 1 walk can encounter EABT accessing the
    // physical address of a stage 1 descriptor having successfully translated the IPA of the
    // descriptor to a PA through stage 2: S2 == 0 (stage 1), CLASS == TT ... S1 descriptor
    // fetch PA (FetchAddr)".
    w.b.map(n.s2fmt, n.s2root, 0x20'0000, 0x1000'0000, 3);  // IPA 0x20'0000 -> PA 0x1000'0000
    const auto l2 = w.b.descriptor_address(n.s1fmt, n.s1root, 0x6000, 2);
    w.b.write64(l2, 0x20'0000 | 3);  // the level 3 table of VA 0x6000 at IPA 0x20'0000
    const auto& e = recorded(w.run(read_at(0x6123)), E::type::f_walk_eabt);
    CHECK(field(e, "S2") == 0);
    CHECK(field(e, "CLASS") == static_cast<unsigned>(E::fault_class::tt));
    CHECK(field(e, "FetchAddr") == 0x1000'0000 + 6 * 8);
    CHECK(field(e, "InputAddr") == 0x6123);
  }
  SECTION(
      "stage 2 walk aborts: S2 == 1, CLASS by what was translated, FetchAddr the S2 "
      "descriptor's PA") {
    // §7.3.12: the CD (CLASS == CD), a stage 1 descriptor (CLASS == TT), the input (CLASS ==
    // IN); "The SMMU input address (InputAddr) and S2 descriptor fetch PA (FetchAddr)".
    const auto s2l1 = w.b.descriptor_address(n.s2fmt, n.s2root, 0x800, 1);
    w.b.write64(s2l1, 0x2000'0000 | 3);  // the stage 2 level 2 table of IPA [0, 1GB) beyond memory
    // The CD is at IPA 0x800, translated through that table first.
    const auto& cd = recorded(w.run(read_at(0x6123)), E::type::f_walk_eabt);
    CHECK(field(cd, "S2") == 1);
    CHECK(field(cd, "CLASS") == static_cast<unsigned>(E::fault_class::cd));
    CHECK(field(cd, "FetchAddr") == 0x2000'0000);  // level 2 index 0
    CHECK(field(cd, "InputAddr") == 0x6123);
  }
  SECTION("stage 2 walk abort on the input IPA: CLASS == IN") {
    // Stage 2 of IPA 0x40'0000 through a level 3 table beyond memory.
    const auto s2l2 = w.b.descriptor_address(n.s2fmt, n.s2root, 0x40'0000, 2);
    w.b.write64(s2l2, 0x2000'0000 | 3);
    const auto& e =
        recorded(w.run(with_access(read_at(0x6123), vw::access_kind::write)), E::type::f_walk_eabt);
    CHECK(field(e, "S2") == 1);
    CHECK(field(e, "CLASS") == static_cast<unsigned>(E::fault_class::in));
    CHECK(field(e, "FetchAddr") == 0x2000'0000);  // level 3 index 0
    CHECK(field(e, "RnW") == 0);
  }
  SECTION("stage 2 walk abort on a stage 1 descriptor: CLASS == TT") {
    // The stage 1 level 3 table moved to IPA 0x20'0000, whose stage 2 level 3 table is beyond
    // memory.
    const auto s2l2 = w.b.descriptor_address(n.s2fmt, n.s2root, 0x20'0000, 2);
    w.b.write64(s2l2, 0x2000'0000 | 3);
    const auto l2 = w.b.descriptor_address(n.s1fmt, n.s1root, 0x6000, 2);
    w.b.write64(l2, 0x20'0000 | 3);
    const auto& e = recorded(w.run(read_at(0x6123)), E::type::f_walk_eabt);
    CHECK(field(e, "S2") == 1);
    CHECK(field(e, "CLASS") == static_cast<unsigned>(E::fault_class::tt));
    CHECK(field(e, "FetchAddr") == 0x2000'0000);
  }
  SECTION("F_TRANSLATION at stage 2 on the input: CLASS == IN, IPA provided") {
    // §7.3.13 "If translating an IPA for a transaction ..., CLASS == IN, and IPA is provided."
    // §7.3.21 "IPA is the post-stage 1 address of the transaction".
    w.b.map(n.s1fmt, n.s1root, 0x9000, 0x60'1000, 3);  // IPA unmapped at stage 2
    const auto& e = recorded(w.run(read_at(0x9abc)), E::type::f_translation);
    CHECK(field(e, "S2") == 1);
    CHECK(field(e, "CLASS") == static_cast<unsigned>(E::fault_class::in));
    CHECK(field(e, "IPA") == 0x60'1000);  // IPA[55:12]
    CHECK(field(e, "InputAddr") == 0x9abc);
  }
  SECTION("F_TRANSLATION at stage 2 for the CD: CLASS == CD, IPA the CD address") {
    // §7.3.13 "If fetching a CD, CLASS == CD, IPA is CD address".
    w.put_ste(n.ste.with<S::S1ContextPtr>(0x60'0040));
    const auto& e = recorded(w.run(read_at(0x6123)), E::type::f_translation);
    CHECK(field(e, "S2") == 1);
    CHECK(field(e, "CLASS") == static_cast<unsigned>(E::fault_class::cd));
    CHECK(field(e, "IPA") == 0x60'0000);  // IPA[55:12] of the CD address
  }
  SECTION("F_CD_FETCH in a nested stream: FetchAddr the PA after stage 2") {
    // §7.3.10 "FetchAddr is the Physical Address used for the fetch."
    w.b.map(n.s2fmt, n.s2root, 0x20'0000, 0x1000'0000, 3);
    w.put_ste(n.ste.with<S::S1ContextPtr>(0x20'0040));
    const auto& e = recorded(w.run(read_at(0x6123)), E::type::f_cd_fetch);
    CHECK(field(e, "FetchAddr") == 0x1000'0040);
  }
}
