// The decoders before decode_limits (commit 24b7663), kept verbatim as the reference: the
// limits-based STE and CD decoders must give the same error and the same configuration for
// any STE, CD and feature set. And the fast path of the decode_limits overloads (a conservative
// mask/table check, the rule-by-rule decoder for whatever fails it) against that decoder alone,
// on valid entries and on every single-field corruption of them.

#include <catch2/catch.hpp>

#include <vsmmu/memory/flat.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/testing/table_builder.hpp>
#include <vsmmu/walk/cd_config.hpp>
#include <vsmmu/walk/ste_config.hpp>
#include <vsmmu/walk/translate.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>

namespace vw = vsmmu::walk;
namespace smmuv3 = vsmmu::smmuv3;

namespace old_ref {
using namespace vsmmu::walk;
namespace vmsa = vsmmu::walk::vmsa;
namespace detail = vsmmu::walk::detail;

// ---- ste_config.hpp as it was
template <class X>
[[nodiscard]] constexpr ste_error old_decode_ste_into(const X& ste, const smmu_features& f,
                                                      stream_config& c) noexcept {
  namespace S = smmuv3::ste;
  if (!ste.template get<S::V>()) {
    return ste_error::not_valid;
  }

  const unsigned config = static_cast<unsigned>(ste.template get<S::Config>()) & 7U;
  if ((config & 4U) == 0) {  // 0b0xx: abort (0b001-0b011 reserved, behave as abort)
    c.mode = stream_mode::abort;
    return ste_error::none;
  }
  constexpr stream_mode modes[] = {stream_mode::bypass, stream_mode::s1, stream_mode::s2,
                                   stream_mode::nested};
  c.mode = modes[config & 3U];
  const bool s1 = (config & 1U) != 0;
  const bool s2 = (config & 2U) != 0;
  if (s1 && !f.s1p) {
    return ste_error::s1_not_supported;
  }
  if (s2 && !f.s2p) {
    return ste_error::s2_not_supported;
  }

  const bool s2s = ste.template get<S::S2S>();
  // EATS is IGNORED without IDR0.ATS and for Config 0bx00 (§5.2 EATS, SteIllegal).
  if (f.ats && config != 0b100) {
    const unsigned eats = static_cast<unsigned>(ste.template get<S::EATS>());
    if (eats == 0b10 && (config != 0b111 || s2s || f.ns1ats)) {
      return ste_error::eats;
    }
    if (eats == 0b01 && s2s && s2) {
      return ste_error::eats;
    }
    // 0b11 (DPT) is Reserved without IDR3.DPT and behaves as 0b00.
  }

  // STRW is used only with stage 1, stage 2 off, and IDR0.Hyp (IgnoreSTESTRW).
  const bool strw_used = f.s1p && f.hyp && !s2 && config != 0b100;
  const unsigned strw = static_cast<unsigned>(ste.template get<S::STRW>());
  if (strw_used && (strw & 1U) != 0) {
    return ste_error::strw;
  }
  c.el2 = strw_used && strw == 0b10;
  c.privcfg = ste.template get<S::PRIVCFG>();
  c.instcfg = ste.template get<S::INSTCFG>();

  if (s1) {
    c.s1stalld = ste.template get<S::S1STALLD>();
    if (c.s1stalld && f.stall_model != stall_model::stall_and_terminate) {
      return ste_error::s1stalld;
    }
    c.s1cdmax = f.ssidsize == 0 ? 0U : ste.template get<S::S1CDMax>();
    if (c.s1cdmax > f.ssidsize) {
      return ste_error::s1cdmax;
    }
    const unsigned fmt = static_cast<unsigned>(ste.template get<S::S1Fmt>());
    if (c.s1cdmax != 0 && !f.cd2l && (fmt == 0b01 || fmt == 0b10)) {
      return ste_error::s1fmt;
    }
    c.s1fmt = fmt == 0b11 ? smmuv3::s1_fmt::linear : static_cast<smmuv3::s1_fmt>(fmt);
    c.s1_context_ptr = ste.template get<S::S1ContextPtr>();
    // §3.4.3 (1)/(2): beyond the OAS (PA) or the IAS (IPA) the STE is ILLEGAL in SMMUv3.1+.
    const unsigned range = s2 ? f.ias_bits() : f.oas_bits();
    if ((c.s1_context_ptr >> range) != 0) {
      return ste_error::s1contextptr;
    }
    const unsigned dss = static_cast<unsigned>(ste.template get<S::S1DSS>());
    c.s1dss = dss == 0b11 ? smmuv3::s1_dss::terminate : static_cast<smmuv3::s1_dss>(dss);
  }

  // S2VMID is checked unless ignored (IgnoreSTES2VMID): Config 0b1x1 with STRW == EL1 uses it
  // as well, to tag stage 1 TLB entries.
  const bool vmid_used = f.s2p && config != 0b100 && !(strw_used && strw != 0);
  const std::uint16_t vmid = ste.template get<S::S2VMID>();
  if (vmid_used && !f.vmid16 && (vmid >> 8) != 0) {
    return ste_error::s2vmid;
  }
  c.s2.vmid = vmid_used ? vmid : 0;

  if (!s2) return ste_error::none;

  if (s2s && f.stall_model == stall_model::terminate_only) {
    return ste_error::s2s;
  }
  if (!s2s && f.stall_model == stall_model::stall_forced) {
    return ste_error::s2s;
  }
  if (!ste.template get<S::S2AA64>() || !f.aa64_tables) {
    return ste_error::s2aa64;
  }
  const bool ha = ste.template get<S::S2HA>();
  const bool hd = ste.template get<S::S2HD>();
  if ((ha || hd) && f.httu == httu::none) {
    return ste_error::s2httu;
  }
  if (hd && f.httu == httu::access_flag) {
    return ste_error::s2httu;
  }

  const auto g = smmuv3::granule_shift(ste.template get<S::S2TG>());
  if (!g || !f.granule_supported(*g)) {
    return ste_error::s2tg;
  }
  const unsigned ps = effective_output_bits(ste.template get<S::S2PS>(), *g, f);
  const std::uint64_t ttb = detail::bits_55_4(ste.template get<S::S2TTB>());
  if ((ttb >> ps) != 0) {
    return ste_error::s2ttb;
  }
  if (*g != 16 && (ttb >> 48) != 0) {
    return ste_error::s2ttb;
  }

  // STES2T0SZInvalid without STT: max 39; min 64 - IAS, at least 16 (12 with the 64KB granule).
  const unsigned t0sz = ste.template get<S::S2T0SZ>();
  const unsigned min_t0sz = std::max(*g == 16 ? 12U : 16U, 64U - f.ias_bits());
  if (t0sz < min_t0sz || t0sz > 39) {
    return ste_error::s2t0sz;
  }
  const unsigned ia_bits = 64 - t0sz;
  const int level = detail::s2_start_level(*g, ste.template get<S::S2SL0>(), ia_bits, f.oas_bits());
  if (level < 0) {
    return ste_error::s2sl0;
  }

  const bool endi = ste.template get<S::S2ENDI>();
  if ((f.ttendian == tt_endian::little && endi) || (f.ttendian == tt_endian::big && !endi)) {
    return ste_error::s2endi;
  }

  vmsa::walk_params& w = c.s2.walk;
  w.granule_shift = *g;
  w.ia_bits = ia_bits;
  w.start_level = level;
  w.oa_bits = ps;
  w.big_endian = endi;
  w.stage2 = true;
  w.pa52_64k = *g == 16 && f.oas_bits() >= 52;
  // Bits of S2TTB below the start table's alignment are ignored (AArch64.S2TTBaseAddress).
  w.table_base = ttb & ~vmsa::mask_below(vmsa::start_table_shift(*g, ia_bits, level, ps >= 52));
  c.s2.affd = ste.template get<S::S2AFFD>();
  c.s2.ptw = ste.template get<S::S2PTW>();
  c.s2.ha = ha;
  c.s2.hd = hd;
  c.s2.s = s2s;
  c.s2.r = ste.template get<S::S2R>();
  return ste_error::none;
}

// ---- cd_config.hpp as it was
// DS (FEAT_LPA2) in effect for a range: IDR5.DS, CD.DS and a 4KB or 16KB granule (§5.4 DS).
[[nodiscard]] constexpr bool lpa2(bool cd_ds, std::optional<unsigned> g,
                                  const smmu_features& f) noexcept {
  return f.ds && cd_ds && g && *g != 16;
}

template <class X, class TTB, class TSZ, class EPD, class TBI, class E0PD, class SH>
constexpr cd_error decode_range(const X& cd, const smmu_features& f, unsigned ips,
                                std::optional<unsigned> g, bool big_endian, bool ds,
                                tt_range& out) {
  out.enabled = !cd.template get<EPD>();
  if (!out.enabled) return cd_error::none;  // TxSZ, TGx and TTBx are IGNORED (§5.4.1.1)
  const unsigned txsz = cd.template get<TSZ>();
  // CDTxSZInvalid without STT: max 39; min 12 with 52-bit VAs (IDR5.VAX) and the 64KB granule
  // or DS, else 16.
  const unsigned min_txsz = g && (*g == 16 || ds) && f.vax52 ? 12U : 16U;
  if (txsz < min_txsz || txsz > 39) return cd_error::txsz;
  if (!g || !f.granule_supported(*g)) return cd_error::tg;
  const std::uint64_t ttb = vw::detail::bits_55_4(cd.template get<TTB>());
  // CDTTBxValidRange: the effective IPS, and 48 bits with 4KB/16KB unless DS.
  if ((ttb >> ips) != 0 || (*g != 16 && !ds && (ttb >> 48) != 0)) return cd_error::ttb;
  out.tbi = cd.template get<TBI>();
  out.e0pd = cd.template get<E0PD>();
  if (ds) out.sh = static_cast<std::uint8_t>(cd.template get<SH>());
  vmsa::walk_params& w = out.walk;
  w.granule_shift = *g;
  w.ia_bits = 64 - txsz;
  w.start_level = vmsa::start_level_for(*g, w.ia_bits);
  w.oa_bits = ips;
  w.big_endian = big_endian;
  w.stage2 = false;
  w.ds = ds;
  w.pa52_64k = *g == 16 && f.oas_bits() >= 52;
  w.table_base =
      ttb & ~vmsa::mask_below(vmsa::start_table_shift(*g, w.ia_bits, w.start_level, ips >= 52));
  return cd_error::none;
}
template <class X>
[[nodiscard]] constexpr cd_error old_decode_cd_into(const X& cd, const stream_config& ste,
                                                    const smmu_features& f,
                                                    context_config& c) noexcept {
  namespace C = smmuv3::cd;
  if (!cd.template get<C::V>()) {
    return cd_error::not_valid;
  }
  c.s = cd.template get<C::S>();
  c.a = cd.template get<C::A>();
  c.r = cd.template get<C::R>();
  if (ste.s1stalld && c.s) {
    return cd_error::stall;
  }
  if (f.term_model && !c.a) {
    return cd_error::term_model;
  }
  if (f.stall_model == stall_model::terminate_only && c.s) {
    return cd_error::stall;
  }
  if (f.stall_model == stall_model::stall_forced && !c.s) {
    return cd_error::stall;
  }

  c.el2 = ste.el2;
  // EPD1 is effectively 1 in the EL2 StreamWorld: it has one VA range (EffectiveCDEPD1).
  const bool epd0 = cd.template get<C::EPD0>();
  const bool epd1 = c.el2 || cd.template get<C::EPD1>();
  const bool endi = cd.template get<C::ENDI>();
  if ((!epd0 || !epd1) &&
      ((f.ttendian == tt_endian::little && endi) || (f.ttendian == tt_endian::big && !endi))) {
    return cd_error::endi;
  }
  if (!cd.template get<C::AA64>() || !f.aa64_tables) {
    return cd_error::aa64;
  }
  c.ha = cd.template get<C::HA>();
  c.hd = cd.template get<C::HD>();
  if ((c.ha || c.hd) && f.httu == httu::none) {
    return cd_error::httu;
  }
  if (c.hd && f.httu == httu::access_flag) {
    return cd_error::httu;
  }
  c.asid = cd.template get<C::ASID>();
  if (!c.el2 && !f.asid16 && (c.asid >> 8) != 0) {
    return cd_error::asid;
  }
  if (c.el2) c.asid = 0;  // no ASID in the EL2 StreamWorld without E2H

  // Effective IPS: capped to the OAS; 52 bits only with the 64KB granule (checked per range).
  const auto ips_field = cd.template get<C::IPS>();
  const auto g0 = smmuv3::granule_shift(cd.template get<C::TG0>());
  const auto g1 = smmuv3::granule_shift(cd.template get<C::TG1>());
  const bool cd_ds = f.ds && cd.template get<C::DS>();  // RES0 without IDR5.DS
  if (!epd0) {
    const bool ds0 = lpa2(cd_ds, g0, f);
    const unsigned ips0 = effective_output_bits(ips_field, g0.value_or(12), f, ds0);
    const auto e = decode_range<X, C::TTB0, C::T0SZ, C::EPD0, C::TBI0, C::E0PD0, C::SH0>(
        cd, f, ips0, g0, endi, ds0, c.tt[0]);
    if (e != cd_error::none) {
      return e;
    }
  }
  if (!epd1) {
    const bool ds1 = lpa2(cd_ds, g1, f);
    const unsigned ips1 = effective_output_bits(ips_field, g1.value_or(12), f, ds1);
    const auto e = decode_range<X, C::TTB1, C::T1SZ, C::EPD1, C::TBI1, C::E0PD1, C::SH1>(
        cd, f, ips1, g1, endi, ds1, c.tt[1]);
    if (e != cd_error::none) {
      return e;
    }
  }
  c.ips_bits = std::min(smmuv3::address_bits(ips_field), f.oas_bits());
  c.affd = cd.template get<C::AFFD>();
  c.wxn = cd.template get<C::WXN>();
  c.pan = cd.template get<C::PAN>();
  c.mair = (std::uint64_t{cd.template get<C::MAIR1>()} << 32) | cd.template get<C::MAIR0>();
  return cd_error::none;
}

}  // namespace old_ref

namespace {

namespace S = smmuv3::ste;
namespace C = smmuv3::cd;

vw::smmu_features random_features(std::mt19937_64& rng) {
  auto bit = [&rng] { return (rng() & 1U) != 0; };
  vw::smmu_features f;
  f.s1p = bit() || bit();  // mostly on, so that decodes get deep
  f.s2p = bit() || bit();
  f.two_level_stream_table = bit();
  f.cd2l = bit();
  f.ats = bit();
  f.ns1ats = bit();
  f.asid16 = bit();
  f.vmid16 = bit();
  f.hyp = bit();
  f.aa64_tables = bit() || bit() || bit();
  f.term_model = bit();
  f.stall_model = static_cast<vw::stall_model>(rng() % 3);
  f.httu = static_cast<vw::httu>(rng() % 3);
  constexpr vw::tt_endian endians[] = {vw::tt_endian::mixed, vw::tt_endian::little,
                                       vw::tt_endian::big};
  f.ttendian = endians[rng() % 3];
  f.sidsize = static_cast<unsigned>(rng() % 33);
  f.ssidsize = static_cast<unsigned>(rng() % 21);
  f.oas = static_cast<smmuv3::address_size>(rng() % 7);  // 32..52 bits
  f.gran4k = bit() || bit();
  f.gran16k = bit();
  f.gran64k = bit() || bit();
  f.vax52 = bit();
  f.ds = bit();
  return f;
}

// Mostly-valid structures with a few random fields: uniformly random words would stop at the
// first checks almost always.
S::value random_ste(std::mt19937_64& rng) {
  S::value s;
  for (auto& w : s.words()) w = rng();
  if (rng() % 4 != 0) {
    s.set<S::V>(true);
    s.set<S::Config>(static_cast<smmuv3::ste_config>(4 + rng() % 4));
    if (rng() % 2) s.set<S::S1ContextPtr>((rng() & 0xffff'ffc0ULL));
    if (rng() % 2) s.set<S::S2TTB>((rng() & 0xff'ffff'f000ULL));
    if (rng() % 2) s.set<S::S2T0SZ>(static_cast<std::uint8_t>(16 + rng() % 24));
    if (rng() % 2) s.set<S::S2AA64>(true);
    if (rng() % 2) s.set<S::S2PS>(static_cast<smmuv3::address_size>(rng() % 7));
    if (rng() % 2) s.set<S::S1CDMax>(static_cast<std::uint8_t>(rng() % 21));
  }
  return s;
}

C::value random_cd(std::mt19937_64& rng) {
  C::value c;
  for (auto& w : c.words()) w = rng();
  if (rng() % 4 != 0) {
    c.set<C::V>(true);
    if (rng() % 2) c.set<C::AA64>(true);
    if (rng() % 2) c.set<C::T0SZ>(static_cast<std::uint8_t>(12 + rng() % 28));
    if (rng() % 2) c.set<C::T1SZ>(static_cast<std::uint8_t>(12 + rng() % 28));
    if (rng() % 2) c.set<C::TTB0>(rng() & 0xf'ffff'ffff'f000ULL);
    if (rng() % 2) c.set<C::TTB1>(rng() & 0xff'ffff'f000ULL);
    if (rng() % 2) c.set<C::EPD1>(true);
    if (rng() % 3 == 0) c.set<C::EPD0>(false);
    if (rng() % 2) c.set<C::HA>(false).set<C::HD>(false);
    if (rng() % 2) c.set<C::ASID>(static_cast<std::uint16_t>(rng() % 256));
    if (rng() % 2) c.set<C::IPS>(static_cast<smmuv3::address_size>(rng() % 7));
  }
  return c;
}

void check_same(const vsmmu::walk::vmsa::walk_params& a, const vsmmu::walk::vmsa::walk_params& b) {
  CHECK(a.granule_shift == b.granule_shift);
  CHECK(a.ia_bits == b.ia_bits);
  CHECK(a.start_level == b.start_level);
  CHECK(a.table_base == b.table_base);
  CHECK(a.oa_bits == b.oa_bits);
  CHECK(a.big_endian == b.big_endian);
  CHECK(a.stage2 == b.stage2);
  CHECK(a.ds == b.ds);
  CHECK(a.pa52_64k == b.pa52_64k);
}

void check_same(const vw::stream_config& a, const vw::stream_config& b) {
  CHECK(a.mode == b.mode);
  CHECK(a.s1fmt == b.s1fmt);
  CHECK(a.s1_context_ptr == b.s1_context_ptr);
  CHECK(a.s1cdmax == b.s1cdmax);
  CHECK(a.s1dss == b.s1dss);
  CHECK(a.s1stalld == b.s1stalld);
  CHECK(a.el2 == b.el2);
  CHECK(a.privcfg == b.privcfg);
  CHECK(a.instcfg == b.instcfg);
  check_same(a.s2.walk, b.s2.walk);
  CHECK(a.s2.vmid == b.s2.vmid);
  CHECK(a.s2.affd == b.s2.affd);
  CHECK(a.s2.ptw == b.s2.ptw);
  CHECK(a.s2.ha == b.s2.ha);
  CHECK(a.s2.hd == b.s2.hd);
  CHECK(a.s2.s == b.s2.s);
  CHECK(a.s2.r == b.s2.r);
}

void check_same(const vw::context_config& a, const vw::context_config& b) {
  for (unsigned i = 0; i < 2; ++i) {
    CHECK(a.tt[i].enabled == b.tt[i].enabled);
    CHECK(a.tt[i].tbi == b.tt[i].tbi);
    CHECK(a.tt[i].e0pd == b.tt[i].e0pd);
    CHECK(a.tt[i].sh == b.tt[i].sh);
    check_same(a.tt[i].walk, b.tt[i].walk);
  }
  CHECK(a.el2 == b.el2);
  CHECK(a.ips_bits == b.ips_bits);
  CHECK(a.affd == b.affd);
  CHECK(a.ha == b.ha);
  CHECK(a.hd == b.hd);
  CHECK(a.wxn == b.wxn);
  CHECK(a.pan == b.pan);
  CHECK(a.a == b.a);
  CHECK(a.r == b.r);
  CHECK(a.s == b.s);
  CHECK(a.asid == b.asid);
  CHECK(a.mair == b.mair);
}

}  // namespace

TEST_CASE("decode_limits: STE and CD decode as the decoders before it did",
          "[walk][decode][equivalence]") {
  std::mt19937_64 rng(0x5eed'dec0deULL);
  unsigned ste_ok = 0;
  unsigned cd_ok = 0;
  for (unsigned n = 0; n < 40000; ++n) {
    const vw::smmu_features f = random_features(rng);
    const vw::decode_limits lim(f);
    const S::value ste = random_ste(rng);

    vw::stream_config old_s{};
    const vw::ste_error old_e = old_ref::old_decode_ste_into(ste, f, old_s);
    const vw::ste_decode by_limits = vw::decode_ste(ste, lim);
    const vw::ste_decode by_features = vw::decode_ste(ste, f);
    REQUIRE(by_limits.error == old_e);
    REQUIRE(by_features.error == old_e);
    check_same(by_limits.config, old_s);
    check_same(by_features.config, old_s);
    if (old_e == vw::ste_error::none) ++ste_ok;

    // The CD under this STE's configuration, or under a random one.
    vw::stream_config via = old_s;
    if (rng() % 2) {
      via = vw::stream_config{};
      via.s1stalld = (rng() & 1U) != 0;
      via.el2 = (rng() & 1U) != 0;
    }
    const C::value cd = random_cd(rng);
    vw::context_config old_c{};
    const vw::cd_error old_ce = old_ref::old_decode_cd_into(cd, via, f, old_c);
    const vw::cd_decode cd_limits = vw::decode_cd(cd, via, lim);
    const vw::cd_decode cd_features = vw::decode_cd(cd, via, f);
    REQUIRE(cd_limits.error == old_ce);
    REQUIRE(cd_features.error == old_ce);
    check_same(cd_limits.config, old_c);
    check_same(cd_features.config, old_c);
    if (old_ce == vw::cd_error::none) ++cd_ok;

    // Over a view of the bytes as well as over the value.
    const auto ste_bytes = ste.bytes();
    const auto cd_bytes = cd.bytes();
    CHECK(vw::decode_ste(S::view(ste_bytes), lim).error == old_e);
    CHECK(vw::decode_cd(C::view(cd_bytes), via, lim).error == old_ce);
  }
  // The inputs reach the end of both decoders often enough to compare whole configurations.
  CHECK(ste_ok > 2000);
  CHECK(cd_ok > 1000);
}

TEST_CASE("decode_limits: derived values", "[walk][decode]") {
  vw::smmu_features f;
  f.oas = smmuv3::address_size::bits44;
  f.gran16k = false;
  f.stall_model = vw::stall_model::terminate_only;
  f.ttendian = vw::tt_endian::little;
  f.httu = vw::httu::access_flag;
  const vw::decode_limits lim(f);
  CHECK(lim.oas_bits() == 44);
  CHECK(lim.ias_bits() == 44);
  CHECK(lim.granule_supported(12));
  CHECK_FALSE(lim.granule_supported(14));
  CHECK(lim.granule_supported(16));
  CHECK_FALSE(lim.granule_supported(0));
  CHECK(lim.s2_min_t0sz(12) == 20);  // 64 - IAS
  CHECK(lim.s2_min_t0sz(16) == 20);
  CHECK(lim.output_bits(static_cast<unsigned>(smmuv3::address_size::bits52), 16, false) == 44);
  CHECK(lim.stall_illegal(true));
  CHECK_FALSE(lim.stall_illegal(false));
  CHECK(lim.endi_illegal(true));
  CHECK_FALSE(lim.endi_illegal(false));
  CHECK_FALSE(lim.httu_illegal(true, false));
  CHECK(lim.httu_illegal(true, true));
  CHECK(lim.httu_illegal(false, true));

  vw::smmu_features big;
  big.oas = smmuv3::address_size::bits52;
  big.stall_model = vw::stall_model::stall_forced;
  big.ttendian = vw::tt_endian::big;
  const vw::decode_limits l52(big);
  CHECK(l52.s2_min_t0sz(14) == 16);
  CHECK(l52.s2_min_t0sz(16) == 12);
  const unsigned ps52 = static_cast<unsigned>(smmuv3::address_size::bits52);
  CHECK(l52.output_bits(ps52, 16, false) == 52);
  CHECK(l52.output_bits(ps52, 12, false) == 48);
  CHECK(l52.output_bits(ps52, 12, true) == 52);
  CHECK(l52.output_bits(static_cast<unsigned>(smmuv3::address_size::bits56), 16, false) == 52);
  CHECK(l52.stall_illegal(false));
  CHECK_FALSE(l52.stall_illegal(true));
  CHECK(l52.endi_illegal(false));
  CHECK(l52.httu_illegal(true, false));  // HTTU none by default

  // Both limit providers agree on every query, whatever the features.
  std::mt19937_64 rng(7);
  for (unsigned n = 0; n < 2000; ++n) {
    const vw::smmu_features r = random_features(rng);
    const vw::decode_limits cached(r);
    const vw::detail::live_limits live(r);
    CHECK(cached.oas_bits() == live.oas_bits());
    CHECK(cached.ias_bits() == live.ias_bits());
    for (unsigned g : {0U, 12U, 14U, 16U}) {
      CHECK(cached.granule_supported(g) == live.granule_supported(g));
      CHECK(cached.s2_min_t0sz(g) == live.s2_min_t0sz(g));
      for (unsigned ps = 0; ps < 8; ++ps) {
        CHECK(cached.output_bits(ps, g, false) == live.output_bits(ps, g, false));
        CHECK(cached.output_bits(ps, g, true) == live.output_bits(ps, g, true));
        CHECK(cached.output_bits(ps, g, false) ==
              vw::effective_output_bits(static_cast<smmuv3::address_size>(ps), g, r));
      }
    }
    for (bool b : {false, true}) {
      CHECK(cached.stall_illegal(b) == live.stall_illegal(b));
      CHECK(cached.endi_illegal(b) == live.endi_illegal(b));
      CHECK(cached.httu_illegal(b, false) == live.httu_illegal(b, false));
      CHECK(cached.httu_illegal(b, true) == live.httu_illegal(b, true));
    }
  }
}

namespace {

// Writes the raw bits of field F (within one dword).
template <class F, class V>
void put(V& v, std::uint64_t raw) {
  static_assert(F::lsb / 64 == F::msb / 64);
  const unsigned width = F::msb - F::lsb + 1;
  const std::uint64_t mask = (width == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << width) - 1)
                             << (F::lsb % 64);
  auto& w = v.words()[F::lsb / 64];
  w = (w & ~mask) | ((raw << (F::lsb % 64)) & mask);
}

std::uint64_t pick(std::mt19937_64& rng, std::uint64_t n) { return rng() % n; }

// An STE whose validity-relevant fields are drawn from mostly legal values for `f` (the others,
// and the ignored bits, random), so that most of them are legal and reach the end of the decoder.
S::value plausible_ste(std::mt19937_64& rng, const vw::smmu_features& f) {
  S::value s;
  for (auto& w : s.words()) w = rng();
  const unsigned oas = f.oas_bits();
  put<S::V>(s, 1);
  put<S::Config>(s, pick(rng, 8) == 0 ? pick(rng, 4) : 4 + pick(rng, 4));
  put<S::S1Fmt>(s, pick(rng, 3) == 0 ? pick(rng, 4) : 0);
  put<S::S1ContextPtr>(s, (rng() & vsmmu::walk::vmsa::mask_below(oas < 56 ? oas : 56)) >> 6);
  put<S::S1CDMax>(s, pick(rng, 2) ? pick(rng, f.ssidsize + 1) : pick(rng, 32));
  put<S::S1STALLD>(s, pick(rng, 4) == 0);
  put<S::EATS>(s, pick(rng, 3) == 0 ? pick(rng, 4) : 0);
  put<S::STRW>(s, pick(rng, 3) == 0 ? pick(rng, 4) : 0);
  put<S::S2VMID>(s, pick(rng, 2) ? pick(rng, 256) : rng());
  put<S::S2T0SZ>(s, pick(rng, 4) == 0 ? pick(rng, 64) : 12 + pick(rng, 28));
  put<S::S2SL0>(s, pick(rng, 4));
  put<S::S2TG>(s, pick(rng, 4));
  put<S::S2PS>(s, pick(rng, 8));
  put<S::S2AA64>(s, pick(rng, 8) != 0);
  put<S::S2ENDI>(s, f.ttendian == vw::tt_endian::big ? pick(rng, 8) != 0 : pick(rng, 8) == 0);
  put<S::S2HA>(s, pick(rng, 4) == 0);
  put<S::S2HD>(s, pick(rng, 4) == 0);
  put<S::S2S>(
      s, f.stall_model == vw::stall_model::stall_forced ? pick(rng, 8) != 0 : pick(rng, 8) == 0);
  put<S::S2TTB>(s, pick(rng, 2) ? (rng() & 0xff'ffff'f000ULL) >> 4 : rng());
  return s;
}

C::value plausible_cd(std::mt19937_64& rng, const vw::smmu_features& f) {
  C::value c;
  for (auto& w : c.words()) w = rng();
  put<C::V>(c, pick(rng, 16) != 0);
  put<C::T0SZ>(c, pick(rng, 8) == 0 ? pick(rng, 64) : 16 + pick(rng, 24));
  put<C::T1SZ>(c, pick(rng, 8) == 0 ? pick(rng, 64) : 16 + pick(rng, 24));
  put<C::TG0>(c, pick(rng, 8) == 0 ? 3 : pick(rng, 3));
  put<C::TG1>(c, pick(rng, 8) == 0 ? 0 : 1 + pick(rng, 3));
  put<C::EPD0>(c, pick(rng, 4) == 0);
  put<C::EPD1>(c, pick(rng, 4) != 0);
  put<C::ENDI>(c, f.ttendian == vw::tt_endian::big ? pick(rng, 8) != 0 : pick(rng, 8) == 0);
  put<C::IPS>(c, pick(rng, 8));
  put<C::AA64>(c, pick(rng, 8) != 0);
  put<C::HA>(c, pick(rng, 8) == 0);
  put<C::HD>(c, pick(rng, 8) == 0);
  put<C::S>(c,
            f.stall_model == vw::stall_model::stall_forced ? pick(rng, 8) != 0 : pick(rng, 8) == 0);
  put<C::A>(c, pick(rng, 8) != 0);
  put<C::ASID>(c, pick(rng, 2) ? pick(rng, 256) : rng());
  put<C::DS>(c, pick(rng, 2));
  put<C::TTB0>(c, pick(rng, 4) != 0 ? (rng() & 0xffff'f000ULL) >> 4 : rng());
  put<C::TTB1>(c, pick(rng, 4) != 0 ? (rng() & 0xffff'f000ULL) >> 4 : rng());
  return c;
}

// Every field the STE and CD rules read, each one re-drawn at random in turn.
template <class V>
using corruption = void (*)(V&, std::uint64_t);
const corruption<S::value> ste_corruptions[] = {
    put<S::V>,       put<S::Config>,   put<S::S1Fmt>,  put<S::S1ContextPtr>, put<S::S1CDMax>,
    put<S::S1DSS>,   put<S::S1STALLD>, put<S::EATS>,   put<S::STRW>,         put<S::PRIVCFG>,
    put<S::INSTCFG>, put<S::S2VMID>,   put<S::S2T0SZ>, put<S::S2SL0>,        put<S::S2TG>,
    put<S::S2PS>,    put<S::S2AA64>,   put<S::S2ENDI>, put<S::S2AFFD>,       put<S::S2PTW>,
    put<S::S2HD>,    put<S::S2HA>,     put<S::S2S>,    put<S::S2R>,          put<S::S2TTB>,
};
const corruption<C::value> cd_corruptions[] = {
    put<C::T0SZ>, put<C::TG0>,   put<C::SH0>,  put<C::EPD0>, put<C::ENDI>,  put<C::T1SZ>,
    put<C::TG1>,  put<C::SH1>,   put<C::EPD1>, put<C::V>,    put<C::IPS>,   put<C::AFFD>,
    put<C::WXN>,  put<C::TBI0>,  put<C::TBI1>, put<C::PAN>,  put<C::AA64>,  put<C::HD>,
    put<C::HA>,   put<C::S>,     put<C::R>,    put<C::A>,    put<C::ASID>,  put<C::E0PD0>,
    put<C::TTB0>, put<C::E0PD1>, put<C::TTB1>, put<C::DS>,   put<C::MAIR0>,
};

// The decode_limits overloads (fast path first) against the rule-by-rule decoder alone.
vw::ste_error check_ste(const S::value& ste, const vw::decode_limits& lim, unsigned& fast) {
  vw::stream_config slow{};
  const vw::ste_error e = vw::detail::decode_ste(ste, lim, slow);
  const vw::ste_decode d = vw::decode_ste(ste, lim);
  REQUIRE(d.error == e);
  check_same(d.config, slow);
  vw::stream_config into{};
  REQUIRE(vw::decode_ste_into(ste, lim, into) == e);
  check_same(into, slow);
  vw::stream_config via_fast{};
  if (vw::detail::decode_ste_fast(ste, lim, via_fast)) {
    ++fast;
    REQUIRE(e == vw::ste_error::none);  // the fast path never accepts an ILLEGAL STE
    check_same(via_fast, slow);
  }
  // The fast path's words, stored by the constructor (what uncached::stream builds).
  vw::detail::stream_words w;
  if (vw::detail::ste_fast_words(ste, lim, w)) {
    REQUIRE(e == vw::ste_error::none);
    check_same(vw::stream_config(w), slow);
  } else {
    CHECK_FALSE(vw::detail::decode_ste_fast(ste, lim, via_fast));
  }
  return e;
}

vw::cd_error check_cd(const C::value& cd, const vw::stream_config& ste,
                      const vw::decode_limits& lim, unsigned& fast) {
  vw::context_config slow{};
  const vw::cd_error e = vw::detail::decode_cd(cd, ste, lim, slow);
  const vw::cd_decode d = vw::decode_cd(cd, ste, lim);
  REQUIRE(d.error == e);
  check_same(d.config, slow);
  vw::context_config into{};
  REQUIRE(vw::decode_cd_into(cd, ste, lim, into) == e);
  check_same(into, slow);
  vw::context_config via_fast{};
  if (vw::detail::decode_cd_fast(cd, ste, lim, via_fast)) {
    ++fast;
    REQUIRE(e == vw::cd_error::none);
    check_same(via_fast, slow);
  }
  return e;
}

}  // namespace

TEST_CASE("decode fast path: same verdict and configuration as the rule-by-rule decoder",
          "[walk][decode][equivalence]") {
  std::mt19937_64 rng(0xfa57'dec0deULL);
  unsigned ste_valid = 0;
  unsigned ste_fast = 0;
  unsigned cd_valid = 0;
  unsigned cd_fast = 0;
  unsigned ste_corrupt_fast = 0;
  unsigned cd_corrupt_fast = 0;
  for (unsigned n = 0; n < 6000; ++n) {
    // Mostly the default (common) feature set, else random features.
    const vw::smmu_features f = n % 2 == 0 ? vw::smmu_features{} : random_features(rng);
    const vw::decode_limits lim(f);
    const S::value ste = plausible_ste(rng, f);
    unsigned fast = 0;
    const vw::ste_error e = check_ste(ste, lim, fast);
    ste_fast += fast;
    if (e == vw::ste_error::none) {
      ++ste_valid;
      for (auto corrupt : ste_corruptions) {
        S::value bad = ste;
        corrupt(bad, rng());
        check_ste(bad, lim, ste_corrupt_fast);
      }
    }
    vw::stream_config via{};
    REQUIRE(vw::decode_ste_into(ste, lim, via) == e);
    if (rng() % 4 == 0) {
      via = vw::stream_config{};
      via.s1stalld = (rng() & 1U) != 0;
      via.el2 = (rng() & 1U) != 0;
    }
    const C::value cd = plausible_cd(rng, f);
    fast = 0;
    const vw::cd_error ce = check_cd(cd, via, lim, fast);
    cd_fast += fast;
    if (ce == vw::cd_error::none) {
      ++cd_valid;
      for (auto corrupt : cd_corruptions) {
        C::value bad = cd;
        corrupt(bad, rng());
        check_cd(bad, via, lim, cd_corrupt_fast);
      }
    }
  }
  // Enough legal entries, most of them through the fast path, and corruptions that keep an
  // entry legal (ignored fields, legal values) through it as well.
  CHECK(ste_valid > 2000);
  CHECK(cd_valid > 1200);
  CHECK(ste_fast * 10 > ste_valid * 7);
  CHECK(cd_fast * 10 > cd_valid * 7);
  CHECK(ste_corrupt_fast > ste_valid * 5);
  CHECK(cd_corrupt_fast > cd_valid * 5);
}

// Every member, for constant evaluation (check_same's CHECKs are run-time only).
constexpr bool same_stream(const vw::stream_config& a, const vw::stream_config& b) {
  const auto& x = a.s2.walk;
  const auto& y = b.s2.walk;
  return a.mode == b.mode && a.s1fmt == b.s1fmt && a.s1dss == b.s1dss && a.s1stalld == b.s1stalld &&
         a.el2 == b.el2 && a.privcfg == b.privcfg && a.instcfg == b.instcfg &&
         a.s1cdmax == b.s1cdmax && a.s1_context_ptr == b.s1_context_ptr &&
         x.table_base == y.table_base && x.granule_shift == y.granule_shift &&
         x.ia_bits == y.ia_bits && x.start_level == y.start_level && x.oa_bits == y.oa_bits &&
         x.big_endian == y.big_endian && x.stage2 == y.stage2 && x.ds == y.ds &&
         x.pa52_64k == y.pa52_64k && a.s2.vmid == b.s2.vmid && a.s2.affd == b.s2.affd &&
         a.s2.ptw == b.s2.ptw && a.s2.ha == b.s2.ha && a.s2.hd == b.s2.hd && a.s2.s == b.s2.s &&
         a.s2.r == b.s2.r;
}

// The fast path under constant evaluation (member by member) against the rule-by-rule decoder:
// whether it took the fast path, and that it set every member the rules set.
constexpr bool fast_as_rules(const S::value& s, const vw::smmu_features& f) {
  const vw::decode_limits lim(f);
  vw::stream_config rules{};
  const vw::ste_error e = vw::detail::decode_ste(s, lim, rules);
  vw::detail::stream_words w;
  return e == vw::ste_error::none && vw::detail::ste_fast_words(s, lim, w) &&
         same_stream(vw::stream_config(w), rules) &&
         same_stream(vw::decode_ste(s, lim).config, rules);
}

TEST_CASE("decode fast path: every member under constant evaluation", "[walk][decode]") {
  static constexpr vw::smmu_features hyp_httu = [] {
    vw::smmu_features f;
    f.hyp = true;
    f.httu = vw::httu::access_and_dirty;
    f.oas = smmuv3::address_size::bits52;
    return f;
  }();
  static constexpr S::value nested = [] {
    S::value s;
    s.set<S::V>(true)
        .set<S::Config>(smmuv3::ste_config::nested)
        .set<S::S1Fmt>(smmuv3::s1_fmt::two_level_64k)
        .set<S::S1ContextPtr>(0x12'3456'7840)
        .set<S::S1CDMax>(7)
        .set<S::S1DSS>(smmuv3::s1_dss::substream0)
        .set<S::S1STALLD>(true)
        .set<S::PRIVCFG>(2)
        .set<S::INSTCFG>(3)
        .set<S::S2VMID>(0xbeef)
        .set<S::S2AA64>(true)
        .set<S::S2T0SZ>(20)
        .set<S::S2SL0>(2)
        .set<S::S2TG>(smmuv3::granule::size_64k)
        .set<S::S2PS>(smmuv3::address_size::bits52)
        .set<S::S2ENDI>(true)
        .set<S::S2AFFD>(true)
        .set<S::S2PTW>(true)
        .set<S::S2HA>(true)
        .set<S::S2S>(true)
        .set<S::S2R>(true)
        .set<S::S2TTB>(0x8'0000'0000'0000);
    return s;
  }();
  static_assert(fast_as_rules(nested, hyp_httu));
  static_assert(fast_as_rules(nested.with<S::S2HA>(false).with<S::S2HD>(true), hyp_httu));
  static_assert(fast_as_rules(nested.with<S::S2AFFD>(false).with<S::S2PTW>(false), hyp_httu));
  // The reserved S1Fmt and S1DSS 0b11 behave as 0b00.
  static_assert(fast_as_rules(nested.with<S::S1Fmt>(static_cast<smmuv3::s1_fmt>(3))
                                  .with<S::S1DSS>(static_cast<smmuv3::s1_dss>(3)),
                              hyp_httu));
  // Stage 1 only: NS-EL2 (no VMID) and EL1 (the VMID tags stage 1); stage 2 only; bypass;
  // abort.
  constexpr S::value s1 = nested.with<S::Config>(smmuv3::ste_config::s1_trans);
  static_assert(fast_as_rules(s1.with<S::STRW>(smmuv3::strw::el2), hyp_httu));
  static_assert(fast_as_rules(s1, hyp_httu));
  static_assert(fast_as_rules(s1, vw::smmu_features{}));
  static_assert(fast_as_rules(nested.with<S::Config>(smmuv3::ste_config::s2_trans), hyp_httu));
  static_assert(fast_as_rules(nested.with<S::Config>(smmuv3::ste_config::bypass), hyp_httu));
  static_assert(fast_as_rules(nested.with<S::Config>(smmuv3::ste_config::abort), hyp_httu));
  SUCCEED();
}

TEST_CASE("decode fast path: constant evaluation", "[walk][decode]") {
  static_assert([] {
    const vw::decode_limits lim{vw::smmu_features{}};
    S::value s;
    s.set<S::V>(true)
        .set<S::Config>(smmuv3::ste_config::nested)
        .set<S::S1ContextPtr>(0x8000)
        .set<S::S2AA64>(true)
        .set<S::S2T0SZ>(24)
        .set<S::S2SL0>(1)
        .set<S::S2TTB>(0x4'0000);
    const vw::ste_decode d = vw::decode_ste(s, lim);
    C::value c;
    c.set<C::V>(true).set<C::AA64>(true).set<C::T0SZ>(16).set<C::EPD1>(true).set<C::TTB0>(
        0x10'0000);
    const vw::cd_decode cd = vw::decode_cd(c, d.config, lim);
    return !d.illegal() && d.config.s2.walk.start_level == 1 && d.config.s2.walk.ia_bits == 40 &&
           d.config.s1_context_ptr == 0x8000 && !cd.illegal() &&
           cd.config.tt[0].walk.start_level == 0 && cd.config.tt[0].walk.table_base == 0x10'0000;
  }());
  SUCCEED();
}

// A field of dword 0 as a mask of that dword.
template <class F>
constexpr std::uint64_t low_bits() {
  static_assert(F::msb < 64);
  return vsmmu::walk::vmsa::mask_below(F::msb + 1) & ~vsmmu::walk::vmsa::mask_below(F::lsb);
}

TEST_CASE("decode_limits: fast-path tables against the rules, exhaustively", "[walk][decode]") {
  std::mt19937_64 rng(11);
  for (unsigned n = 0; n < 1000; ++n) {
    const vw::smmu_features f = n == 0 ? vw::smmu_features{} : random_features(rng);
    const vw::decode_limits lim(f);
    for (unsigned tg = 0; tg < 4; ++tg) {
      const unsigned g = vw::detail::tg0_shift[tg];
      for (unsigned sl0 = 0; sl0 < 4; ++sl0) {
        for (unsigned t = 0; t < 64; ++t) {
          // STES2TGInvalid, STES2T0SZInvalid, S2InvalidSL / S2InconsistentSL (ste_config.hpp).
          const bool legal = f.granule_supported(g) &&
                             t >= std::max(g == 16 ? 12U : 16U, 64U - f.ias_bits()) && t <= 39 &&
                             vw::detail::s2_start_level(g, sl0, 64 - t, f.oas_bits()) >= 0;
          CHECK(((lim.s2_t0sz_ok(tg, sl0) >> t) & 1U) == (legal ? 1U : 0U));
        }
      }
    }
    for (unsigned r = 0; r < 2; ++r) {
      for (unsigned ds = 0; ds < 2; ++ds) {
        for (unsigned tg = 0; tg < 4; ++tg) {
          const unsigned g = (r == 0 ? vw::detail::tg0_shift : vw::detail::tg1_shift)[tg];
          // The entries for CD.DS == 1 are those for 0 without IDR5.DS.
          const bool lpa2 = ds != 0 && f.ds && g != 0 && g != 16;
          const vw::detail::cd_range_check& k = lim.cd_range(r, ds, tg);
          CHECK(k.ds() == lpa2);
          namespace C = smmuv3::cd;
          const std::uint64_t tbi = r == 0 ? low_bits<C::TBI0>() : low_bits<C::TBI1>();
          const std::uint64_t sh = r == 0 ? low_bits<C::SH0>() : low_bits<C::SH1>();
          CHECK(lim.cd_head_bits(r, ds, tg) == (tbi | (lpa2 ? sh : 0)));
          for (unsigned t = 0; t < 64; ++t) {
            // CDTxSZInvalid and the granule (cd_config.hpp); no CD passes without AA64 tables.
            const unsigned min = (g == 16 || lpa2) && f.vax52 ? 12U : 16U;
            const bool legal =
                f.granule_supported(g) && t >= min && t <= 39 && (r == 1 || f.aa64_tables);
            CHECK(((lim.cd_txsz_ok(r, ds, tg) >> t) & 1U) == (legal ? 1U : 0U));
          }
          if (g == 0) continue;
          CHECK(k.granule() == g);
          CHECK(k.pa52_64k() == (g == 16 && f.oas_bits() >= 52));
          for (unsigned ps = 0; ps < 8; ++ps) {
            CHECK(k.oa(ps) ==
                  vw::effective_output_bits(static_cast<smmuv3::address_size>(ps), g, f, lpa2));
            CHECK(k.geometry(ps) == g - 12 + (k.oa(ps) >= 52 ? 1U : 0U));
            CHECK((k.beyond_oa[ps] & ~std::uint64_t{k.geometry_bits}) ==
                  ~vsmmu::walk::vmsa::mask_below(k.oa(ps)));
          }
        }
      }
    }
  }
}

TEST_CASE("decode fast path: stage 1 geometry table against the walk's rules", "[walk][decode]") {
  namespace vmsa = vsmmu::walk::vmsa;
  for (unsigned k = 0; k < 6; ++k) {
    const unsigned g = 12 + k / 2 * 2;
    const bool oa52 = (k & 1U) != 0;
    for (unsigned txsz = 12; txsz <= 39; ++txsz) {
      const unsigned ia = 64 - txsz;
      const int level = vmsa::start_level_for(g, ia);
      const std::uint64_t ia_level = vw::detail::s1_geometry.ia_level[txsz][k];
      CHECK(((ia_level >> 8) & 0xffU) == ia);
      CHECK(static_cast<std::int8_t>((ia_level >> 16) & 0xffU) == level);
      CHECK((ia_level & ~std::uint64_t{0xffff00}) == 0);
      CHECK(vw::detail::s1_geometry.base_mask[txsz][k] ==
            ~vmsa::mask_below(vmsa::start_table_shift(g, ia, level, oa52)));
    }
  }
}

// uncached::stream locates, reads and decodes the STE in place (the fast path's words stored
// where the lookup is built): the same lookup as fetch_ste and the rule-by-rule decoder, for
// legal and ILLEGAL STEs, linear and 2-level tables, and every fetch outcome.
TEST_CASE("uncached::stream: as fetch_ste and the decoders", "[walk][decode][equivalence]") {
  using mem_type = vsmmu::memory::flat_memory<0x20000>;
  const auto mem = std::make_unique<mem_type>();
  vsmmu::testing::table_builder<mem_type> b(*mem, 0x8000, 0x18000);
  const vw::stream_table_config linear{0x1000, false, 6, 5};
  const vw::stream_table_config two_level{0x2000, true, 6, 10};
  std::mt19937_64 rng(0x57e'a11ULL);
  unsigned fast = 0;
  for (unsigned n = 0; n < 4000; ++n) {
    vw::smmu_state st;
    st.features = n % 2 == 0 ? vw::smmu_features{} : random_features(rng);
    const vw::decode_limits lim(st.features);
    const unsigned table = pick(rng, 8);
    st.strtab = table < 4 ? linear : two_level;
    const std::uint32_t sid = static_cast<std::uint32_t>(
        pick(rng, 8) == 0 ? pick(rng, 2048) : pick(rng, st.strtab.two_level ? 256 : 32));
    S::value ste = plausible_ste(rng, st.features);
    if (pick(rng, 4) == 0) ste_corruptions[pick(rng, std::size(ste_corruptions))](ste, rng());
    if (sid < (st.strtab.two_level ? 256U : 32U)) (void)b.install_ste(st.strtab, sid, ste);
    if (table == 7)
      st.strtab.base = 0x10'0000'0000 + 0x1000 * pick(rng, 2);  // aborts, or beyond
                                                                // a small OAS
    const vw::stream_lookup got = vw::uncached{&lim}.stream(*mem, st, sid);
    const vw::stream_lookup live = vw::uncached{}.stream(*mem, st, sid);
    const vw::ste_fetch f = vw::fetch_ste(*mem, st.features, st.strtab, sid);
    REQUIRE(got.status == f.status);
    REQUIRE(live.status == f.status);
    CHECK(got.fetch_addr == f.fetch_addr);
    CHECK(live.fetch_addr == f.fetch_addr);
    vw::stream_config rules{};
    const bool illegal = f.status == vw::ste_fetch_status::ok &&
                         vw::detail::decode_ste(f.ste, lim, rules) != vw::ste_error::none;
    CHECK(got.illegal == illegal);
    CHECK(live.illegal == illegal);
    check_same(got.config, rules);
    check_same(live.config, rules);
    vw::detail::stream_words w;
    if (f.status == vw::ste_fetch_status::ok && vw::detail::ste_fast_words(f.ste, lim, w)) ++fast;
  }
  CHECK(fast > 1000);
}
