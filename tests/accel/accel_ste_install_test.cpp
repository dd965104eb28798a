// The STE -> HWPT decision (seed patches 12, 14, 15; "Test cases implied" 30-33, 65, 67) and
// command classification / wire encoding (patch 19; tests 29-36, 40).
#include <catch2/catch.hpp>

#include <vsmmu/accel/forwarding.hpp>
#include <vsmmu/accel/properties.hpp>
#include <vsmmu/accel/ste_install.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/walk/from_registers.hpp>

#include <cstddef>

namespace A = vsmmu::accel;
namespace S = vsmmu::smmuv3::ste;
namespace C = vsmmu::smmuv3::cmd;
using vsmmu::smmuv3::ste_config;

namespace {

vsmmu::walk::smmu_features features(std::uint8_t ssidsize = 0, bool ats = false) {
  A::resolved_properties p;
  p.ssidsize = ssidsize;
  p.ats = ats;
  return vsmmu::walk::features_from(A::apply(p, A::seed_id_registers()));
}

A::ste_words s1_ste(std::uint64_t ctx = 0x8000'0040) {
  S::value v;
  v.set<S::V>(true).set<S::Config>(ste_config::s1_trans).set<S::S1ContextPtr>(ctx);
  return v.words();
}

A::ste_words with_config(ste_config c, bool valid = true) {
  S::value v;
  v.set<S::V>(valid).set<S::Config>(c);
  return v.words();
}

constexpr std::uint32_t gbpa_bypass = 0x1000;
constexpr std::uint32_t gbpa_abort = 0x0010'1000;

}  // namespace

TEST_CASE("accel install: SMMUEN = 0 follows GBPA.ABORT (tests 30, 67)", "[accel]") {
  const auto f = features();
  const auto b = A::decide_install(false, gbpa_bypass, s1_ste(), f, false);
  CHECK(b.kind == A::hwpt_kind::bypass);
  CHECK(b.reason == A::install_reason::gbpa);
  CHECK(b.ste == A::bypass_ste);
  const auto a = A::decide_install(false, gbpa_abort, s1_ste(), f, false);
  CHECK(a.kind == A::hwpt_kind::abort);
  CHECK(a.ste.dwords == std::array<std::uint64_t, 2>{0x1, 0});
  CHECK(A::bypass_ste.dwords == std::array<std::uint64_t, 2>{0x9, 0});
}

TEST_CASE("accel install: V = 0, abort, reserved and bypass configs (test 31)", "[accel]") {
  const auto f = features();
  CHECK(A::decide_install(true, gbpa_bypass, with_config(ste_config::s1_trans, false), f, false)
            .reason == A::install_reason::not_valid);
  for (unsigned cfg : {0U, 1U, 2U, 3U}) {
    const auto d = A::decide_install(
        true, gbpa_bypass, with_config(ste_config{static_cast<std::uint8_t>(cfg)}), f, false);
    CHECK(d.kind == A::hwpt_kind::abort);
    CHECK(d.reason == A::install_reason::ste_abort);
  }
  CHECK(A::decide_install(true, gbpa_abort, with_config(ste_config::bypass), f, false).kind ==
        A::hwpt_kind::bypass);
  // An STE that cannot be fetched: the abort proxy (the seed leaves the device where it was).
  CHECK(A::decide_install(true, gbpa_bypass, std::nullopt, f, false).reason ==
        A::install_reason::no_ste);
}

TEST_CASE("accel install: S2 and nested configs are ILLEGAL here, as V = 0 (test 33)", "[accel]") {
  // The seed answers Config 6/7 with CERROR_ILL; architecturally the STE is ILLEGAL
  // (C_BAD_STE when used) and CFGI_STE itself cannot fail.
  const auto f = features();
  for (auto c : {ste_config::s2_trans, ste_config::nested}) {
    const auto d = A::decide_install(true, gbpa_bypass, with_config(c), f, false);
    CHECK(d.kind == A::hwpt_kind::abort);
    CHECK(d.reason == A::install_reason::illegal);
    CHECK(d.error == vsmmu::walk::ste_error::s2_not_supported);
  }
}

TEST_CASE("accel install: stage-1 payload masks (test 32, kernel limit [51:6])", "[accel]") {
  const auto f = features(20, true);
  // Every bit set but a Config of 5 and V: the seed's all-ones pattern.
  A::ste_words w{};
  w[0] = 0xffff'ffff'ffff'fffbULL;
  w[1] = ~0ULL;
  // With a 44-bit OAS such a context pointer is ILLEGAL for the vSMMU (beyond its OAS).
  const auto bad = A::decide_install(true, gbpa_bypass, w, f, true);
  CHECK(bad.reason == A::install_reason::illegal);

  // A realistic STE: pointer below the OAS, other fields populated, junk in dropped fields.
  S::value v;
  v.set<S::V>(true)
      .set<S::Config>(ste_config::s1_trans)
      .set<S::S1ContextPtr>(0x0000'0812'3456'7000)
      .set<S::S1CDMax>(4)
      .set<S::S1Fmt>(vsmmu::smmuv3::s1_fmt::linear)
      .set<S::S1DSS>(vsmmu::smmuv3::s1_dss::substream0)
      .set<S::S1CIR>(1)
      .set<S::S1COR>(2)
      .set<S::S1CSH>(3)
      .set<S::EATS>(vsmmu::smmuv3::eats::full)
      .set<S::MEV>(true)
      .set<S::SHCFG>(1)
      .set<S::S2VMID>(7);
  const auto d = A::decide_install(true, gbpa_bypass, v.words(), f, true);
  REQUIRE(d.kind == A::hwpt_kind::nested);
  CHECK((d.ste.dwords[0] & ~A::nested_ste0_mask) == 0);
  CHECK((d.ste.dwords[1] & ~A::nested_ste1_mask) == 0);
  CHECK(d.ste.dwords[0] == (v.word(0) & A::nested_ste0_mask));
  CHECK(d.ste.dwords[1] == (v.word(1) & A::nested_ste1_mask));
  CHECK(A::seed_ste0_mask == 0xF8FF'FFFF'FFFF'FFFFULL);
  CHECK(A::seed_ste1_mask == 0x3800'00FFULL);

  // Without ATS on the device (or the vSMMU), EATS is IGNORED: sent as 0.
  const auto no_ats = A::decide_install(true, gbpa_bypass, v.words(), f, false);
  CHECK(((no_ats.ste.dwords[1] >> 28) & 3) == 0);
}

TEST_CASE("accel install: S1CDMax with SSIDSIZE = 0 (test 65, spec differs from the seed)",
          "[accel]") {
  // IHI 0070 §5.2: with SMMU_IDR1.SSIDSIZE == 0 S1CDMax is IGNORED, so the STE is valid and one
  // CD is used; the seed calls it a bad STE. Sent with S1CDMax, S1Fmt and S1DSS at 0.
  S::value v;
  v.set<S::V>(true)
      .set<S::Config>(ste_config::s1_trans)
      .set<S::S1ContextPtr>(0x4000)
      .set<S::S1CDMax>(3)
      .set<S::S1Fmt>(vsmmu::smmuv3::s1_fmt::two_level_4k)
      .set<S::S1DSS>(vsmmu::smmuv3::s1_dss::bypass);
  const auto d0 = A::decide_install(true, gbpa_bypass, v.words(), features(0), false);
  REQUIRE(d0.kind == A::hwpt_kind::nested);
  CHECK(d0.ste.dwords[0] == 0x4000 + 0xb);  // V, Config 5, pointer; nothing else
  CHECK(d0.ste.dwords[1] == 0);
  // SSIDSIZE 8: the seed's vSMMU has no CD2L, so a 2-level CD table is ILLEGAL; linear with
  // S1CDMax 3 is kept. Beyond SSIDSIZE: ILLEGAL.
  const auto d2l = A::decide_install(true, gbpa_bypass, v.words(), features(8), false);
  CHECK(d2l.reason == A::install_reason::illegal);
  CHECK(d2l.error == vsmmu::walk::ste_error::s1fmt);
  v.set<S::S1Fmt>(vsmmu::smmuv3::s1_fmt{3});  // reserved: behaves as linear, sent as linear
  const auto d8 = A::decide_install(true, gbpa_bypass, v.words(), features(8), false);
  REQUIRE(d8.kind == A::hwpt_kind::nested);
  CHECK((d8.ste.dwords[0] >> 59) == 3);
  CHECK(((d8.ste.dwords[0] >> 4) & 3) == 0);
  CHECK((d8.ste.dwords[1] & 3) == 1);
  v.set<S::S1CDMax>(9);
  CHECK(A::decide_install(true, gbpa_bypass, v.words(), features(8), false).reason ==
        A::install_reason::illegal);
}

TEST_CASE("accel forwarding: classification (tests 30-36)", "[accel]") {
  const auto cmd = [](auto v) { return vsmmu::queue::command{v.words()}; };
  CHECK(A::classify(cmd(C::make<C::tlbi_nh_asid::layout>())) == A::forward_class::forward);
  CHECK(A::classify(cmd(C::make<C::tlbi_nh_all::layout>())) == A::forward_class::forward);
  CHECK(A::classify(cmd(C::make<C::tlbi_nsnh_all::layout>())) == A::forward_class::forward);
  CHECK(A::classify(cmd(C::make<C::tlbi_nh_va::layout>())) == A::forward_class::forward);
  CHECK(A::classify(cmd(C::make<C::tlbi_nh_vaa::layout>())) == A::forward_class::forward);
  CHECK(A::classify(cmd(C::make<C::cfgi_cd::layout>())) == A::forward_class::forward_sid);
  CHECK(A::classify(cmd(C::make<C::cfgi_cd_all::layout>())) == A::forward_class::forward_sid);
  CHECK(A::classify(cmd(C::make<C::atc_inv::layout>())) == A::forward_class::forward_atc);
  CHECK(A::classify(cmd(C::make<C::cfgi_ste::layout>())) == A::forward_class::ste);
  CHECK(A::classify(cmd(C::make_cfgi_all())) == A::forward_class::ste);
  CHECK(A::classify(cmd(C::make<C::sync::layout>())) == A::forward_class::sync);
  CHECK(A::classify(cmd(C::make<C::tlbi_s12_vmall::layout>())) == A::forward_class::local);
  CHECK(A::classify(cmd(C::make<C::tlbi_s2_ipa::layout>())) == A::forward_class::local);
  CHECK(A::classify(cmd(C::make<C::tlbi_el2_all::layout>())) == A::forward_class::local);
  CHECK(A::classify(cmd(C::make<C::pri_resp::layout>())) == A::forward_class::local);
  CHECK(A::classify(cmd(C::make<C::resume::layout>())) == A::forward_class::local);
  CHECK(A::classify(cmd(C::make<C::prefetch_config::layout>())) == A::forward_class::local);

  auto cd = C::make<C::cfgi_cd::layout>();
  cd.set<C::StreamID>(0x308);
  CHECK(A::command_sid(cmd(cd)) == 0x308);
  CHECK_FALSE(A::secure_bit_set(cmd(cd)));
  cd.set<C::SSec>(true);
  CHECK(A::secure_bit_set(cmd(cd)));
}

TEST_CASE("accel forwarding: entries are little-endian on the wire (test 40)", "[accel]") {
  vsmmu::queue::command c;
  c.words = {0x0102'0304'0506'0711ULL, 0x1112'1314'1516'1718ULL};
  const auto e = A::encode_entry(c);
  CHECK(std::to_integer<int>(e[0]) == 0x11);
  CHECK(std::to_integer<int>(e[7]) == 0x01);
  CHECK(std::to_integer<int>(e[8]) == 0x18);
  CHECK(std::to_integer<int>(e[15]) == 0x11);
  CHECK(A::decode_entry(e) == c);
}
