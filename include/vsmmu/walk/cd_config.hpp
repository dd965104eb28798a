// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/encodings.hpp>
#include <vsmmu/smmuv3/l1.hpp>
#include <vsmmu/walk/result.hpp>
#include <vsmmu/walk/smmu_features.hpp>
#include <vsmmu/walk/ste_config.hpp>
#include <vsmmu/walk/vmsa.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <type_traits>

// CD lookup (IHI 0070 §3.3.2, S1Fmt/S1CDMax §5.2, L1CD §5.3) and CD validation (§5.4, pseudocode
// CdIllegal in §5.4.2) for the model ste_config.hpp describes.
namespace vsmmu::walk {

enum class cd_error : std::uint8_t {
  none,
  not_valid,   // V == 0
  stall,       // S against STALL_MODEL or STE.S1STALLD
  term_model,  // A == 0 with IDR0.TERM_MODEL == 1
  endi,        // unimplemented endianness
  aa64,        // VMSAv8-32 LPAE (not implemented), or VMSAv8-64 without TTF[1]
  httu,        // HA / HD against IDR0.HTTU
  asid,        // 16-bit ASID without IDR0.ASID16
  txsz,        // T0SZ / T1SZ out of range for the granule
  tg,          // TG0 / TG1 unsupported or reserved
  ttb,         // TTB0 / TTB1 beyond the effective IPS, or beyond 48 bits with 4KB/16KB
};

// One of the two VA ranges of a CD.
struct tt_range {
  bool enabled = false;  // !EPDx
  bool tbi = false;
  bool e0pd = false;    // unprivileged accesses fault
  std::uint8_t sh = 0;  // CD.SHx: the leaves' shareability under DS (walk.ds)
  vmsa::walk_params walk{};
};

// The decoded, validated CD.
struct context_config {
  std::array<tt_range, 2> tt{tt_range{}, tt_range{}};  // (not a loop over the array)
  bool el2 = false;  // single VA range, no unprivileged accesses (StreamWorld NS-EL2)
  unsigned ips_bits = 48;
  bool affd = false;
  bool ha = false;
  bool hd = false;
  bool wxn = false;
  bool pan = false;
  bool a = true;
  bool r = true;
  bool s = false;
  std::uint16_t asid = 0;
  std::uint64_t mair = 0;
};

struct cd_decode {
  cd_error error = cd_error::none;
  context_config config{};
  [[nodiscard]] constexpr bool illegal() const noexcept { return error != cd_error::none; }
};

namespace detail {
// One VA range of a CD (enabled: EPDx == 0). `g` is the raw granule shift of TGx (0 when
// reserved), `ips` the effective IPS for it.
template <class TTB, class TSZ, class TBI, class E0PD, class SH, class Limits>
constexpr cd_error decode_range(const dwords4& cd, const Limits& lim, unsigned ips, unsigned g,
                                bool big_endian, bool ds, tt_range& out) noexcept {
  out.enabled = true;
  const unsigned txsz = cd.get<TSZ>();
  // CDTxSZInvalid without STT: max 39; min 12 with 52-bit VAs (IDR5.VAX) and the 64KB granule
  // or DS, else 16.
  const unsigned min_txsz = (g == 16 || ds) && lim.features().vax52 ? 12U : 16U;
  if (txsz < min_txsz || txsz > 39) return cd_error::txsz;
  if (!lim.granule_supported(g)) return cd_error::tg;  // also a reserved encoding (shift 0)
  const std::uint64_t ttb = bits_55_4(cd.get<TTB>());
  // CDTTBxValidRange: the effective IPS, and 48 bits with 4KB/16KB unless DS.
  if ((ttb >> ips) != 0 || (g != 16 && !ds && (ttb >> 48) != 0)) return cd_error::ttb;
  out.tbi = cd.get<TBI>();
  out.e0pd = cd.get<E0PD>();
  if (ds) out.sh = static_cast<std::uint8_t>(cd.get<SH>());
  vmsa::walk_params& w = out.walk;
  const unsigned ia_bits = 64 - txsz;
  const int level = vmsa::start_level_for(g, ia_bits);
  w.granule_shift = g;
  w.ia_bits = ia_bits;
  w.start_level = level;
  w.oa_bits = ips;
  w.big_endian = big_endian;
  w.stage2 = false;
  w.ds = ds;
  w.table_base = ttb & ~vmsa::mask_below(vmsa::start_table_shift(g, ia_bits, level, ips >= 52));
  return cd_error::none;
}

// The decoder, over decode_limits or detail::live_limits (the same interface).
template <class X, class Limits>
[[nodiscard]] constexpr cd_error decode_cd(const X& raw, const stream_config& ste,
                                           const Limits& lim, context_config& c) noexcept {
  namespace C = smmuv3::cd;
  const smmu_features& f = lim.features();
  const std::uint64_t w0 = static_cast<std::uint64_t>(raw.word(0));
  if (!C::V::from_raw(w0 >> C::V::lsb)) {
    return cd_error::not_valid;
  }
  const dwords4 cd = dwords4::of(raw);
  const bool s = cd.get<C::S>();
  const bool a = cd.get<C::A>();
  c.s = s;
  c.a = a;
  c.r = cd.get<C::R>();
  if (ste.s1stalld && s) {
    return cd_error::stall;
  }
  if (f.term_model && !a) {
    return cd_error::term_model;
  }
  if (lim.stall_illegal(s)) {
    return cd_error::stall;
  }

  const bool el2 = ste.el2;
  c.el2 = el2;
  // EPD1 is effectively 1 in the EL2 StreamWorld: it has one VA range (EffectiveCDEPD1).
  const bool epd0 = cd.get<C::EPD0>();
  const bool epd1 = el2 || cd.get<C::EPD1>();
  const bool endi = cd.get<C::ENDI>();
  if ((!epd0 || !epd1) && lim.endi_illegal(endi)) {
    return cd_error::endi;
  }
  if (!cd.get<C::AA64>() || !f.aa64_tables) {
    return cd_error::aa64;
  }
  const bool ha = cd.get<C::HA>();
  const bool hd = cd.get<C::HD>();
  c.ha = ha;
  c.hd = hd;
  if (lim.httu_illegal(ha, hd)) {
    return cd_error::httu;
  }
  const std::uint16_t asid = cd.get<C::ASID>();
  c.asid = asid;
  if (!el2 && !f.asid16 && (asid >> 8) != 0) {
    return cd_error::asid;
  }
  if (el2) c.asid = 0;  // no ASID in the EL2 StreamWorld without E2H

  // Effective IPS: capped to the OAS; 52 bits only with the 64KB granule or DS (per range).
  const unsigned ips_field = static_cast<unsigned>(cd.get<C::IPS>());
  const bool cd_ds = f.ds && cd.get<C::DS>();  // RES0 without IDR5.DS
  // A disabled range's TxSZ, TGx and TTBx are IGNORED (§5.4.1.1).
  if (!epd0) {
    const unsigned g0 = tg0_shift[static_cast<unsigned>(cd.get<C::TG0>()) & 3U];
    // DS (FEAT_LPA2) in effect for the range: IDR5.DS, CD.DS and a 4KB or 16KB granule (§5.4).
    const bool ds0 = cd_ds && g0 != 0 && g0 != 16;
    const unsigned ips0 = lim.output_bits(ips_field, g0, ds0);
    const auto e = decode_range<C::TTB0, C::T0SZ, C::TBI0, C::E0PD0, C::SH0>(cd, lim, ips0, g0,
                                                                             endi, ds0, c.tt[0]);
    if (e != cd_error::none) {
      return e;
    }
  }
  if (!epd1) {
    const unsigned g1 = tg1_shift[static_cast<unsigned>(cd.get<C::TG1>()) & 3U];
    const bool ds1 = cd_ds && g1 != 0 && g1 != 16;
    const unsigned ips1 = lim.output_bits(ips_field, g1, ds1);
    const auto e = decode_range<C::TTB1, C::T1SZ, C::TBI1, C::E0PD1, C::SH1>(cd, lim, ips1, g1,
                                                                             endi, ds1, c.tt[1]);
    if (e != cd_error::none) {
      return e;
    }
  }
  c.ips_bits =
      std::min(smmuv3::address_bits(static_cast<smmuv3::address_size>(ips_field)), lim.oas_bits());
  c.affd = cd.get<C::AFFD>();
  c.wxn = cd.get<C::WXN>();
  c.pan = cd.get<C::PAN>();
  c.mair = cd.w[3];  // {MAIR1, MAIR0}: the whole of dword 3
  return cd_error::none;
}
}  // namespace detail

namespace detail {
namespace cd_fast_checks {
namespace C = smmuv3::cd;
template <class F>
constexpr std::uint64_t bit_of = std::uint64_t{1} << F::lsb;
static_assert(cd_bits::epd0 == bit_of<C::EPD0> && cd_bits::endi == bit_of<C::ENDI> &&
              cd_bits::v == bit_of<C::V> && cd_bits::aa64 == bit_of<C::AA64> &&
              cd_bits::hd == bit_of<C::HD> && cd_bits::ha == bit_of<C::HA> &&
              cd_bits::s == bit_of<C::S> && cd_bits::a == bit_of<C::A> &&
              cd_bits::asid_high == (low_mask(8) << (C::ASID::lsb + 8)) && C::ASID::msb == 63);
}  // namespace cd_fast_checks

// One VA range of a CD on the fast path: R is 0 or 1.
template <unsigned R>
struct cd_fast_range {
  using TSZ = std::conditional_t<R == 0, smmuv3::cd::T0SZ, smmuv3::cd::T1SZ>;
  using TG = std::conditional_t<R == 0, smmuv3::cd::TG0, smmuv3::cd::TG1>;
  using TTB = std::conditional_t<R == 0, smmuv3::cd::TTB0, smmuv3::cd::TTB1>;
  using TBI = std::conditional_t<R == 0, smmuv3::cd::TBI0, smmuv3::cd::TBI1>;
  using E0PD = std::conditional_t<R == 0, smmuv3::cd::E0PD0, smmuv3::cd::E0PD1>;
  using SH = std::conditional_t<R == 0, smmuv3::cd::SH0, smmuv3::cd::SH1>;

  const cd_range_check& r;
  unsigned txsz;
  unsigned oa;
  std::uint64_t ttb;

  constexpr cd_fast_range(const dwords4& cd, const decode_limits& lim, unsigned ds,
                          unsigned ips) noexcept
      : r(lim.cd_range(R, ds, static_cast<unsigned>(cd.get<TG>()))),
        txsz(cd.get<TSZ>()),
        oa(r.oa[ips]),
        ttb(bits_55_4(cd.get<TTB>())) {}

  // TxSZ and the granule (txsz_ok), TTBx within the effective IPS, which is at most 48 bits
  // with 4KB and 16KB without DS: the 48-bit limit of CDTTBxValidRange as well.
  [[nodiscard]] constexpr bool ok() const noexcept {
    return ((r.txsz_ok >> txsz) & 1U) != 0 && (ttb >> oa) == 0;
  }

  constexpr void write(const dwords4& cd, bool endi, tt_range& out) const noexcept {
    // Read before the first store into `out`, whose bool members may alias `r`.
    const unsigned g = r.granule;
    const bool ds = r.ds;
    const start_table st = s1_geometry.at[r.geometry][txsz & 63U];
    out.enabled = true;
    out.tbi = cd.get<TBI>();
    out.e0pd = cd.get<E0PD>();
    if (ds) out.sh = cd.get<SH>();
    vmsa::walk_params& w = out.walk;
    w.granule_shift = g;
    w.ia_bits = 64 - txsz;
    w.start_level = st.level;
    // Bits of TTBx below the start table's alignment are ignored (AArch64.S1TTBaseAddress).
    w.table_base = ttb & (~std::uint64_t{0} << (st.shift < 6 && oa >= 52 ? 6U : st.shift));
    w.oa_bits = oa;
    w.big_endian = endi;
    w.stage2 = false;
    w.ds = ds;
  }
};

// The fast path: the CD checked against decode_limits' masks and tables, conservatively (a
// legal CD may fail the check and take the rule-by-rule decoder, which names the error of an
// ILLEGAL one). True with `c` written as decode_cd would write it when the CD passes; false with
// `c` untouched when it does not.
// Always inlined into decode_cd_into, as decode_ste_fast.
template <class X>
[[nodiscard, gnu::always_inline]] constexpr bool decode_cd_fast(const X& raw,
                                                                const stream_config& ste,
                                                                const decode_limits& lim,
                                                                context_config& c) noexcept {
  namespace C = smmuv3::cd;
  const dwords4 cd = dwords4::of(raw);
  const std::uint64_t w0 = cd.w[0];
  // V and every rule on dword 0 alone (S, A, ENDI, AA64, HA/HD, ASID), S with S1STALLD.
  if ((((w0 ^ lim.cd_expect()) & lim.cd_mask()) |
       (w0 & (std::uint64_t{ste.s1stalld} << C::S::lsb))) != 0) {
    return false;
  }
  const bool el2 = ste.el2;
  const bool epd0 = cd.get<C::EPD0>();
  const bool epd1 = el2 || cd.get<C::EPD1>();  // EffectiveCDEPD1
  const unsigned ips = static_cast<unsigned>(cd.get<C::IPS>());
  const unsigned ds = unsigned{cd.get<C::DS>()} & lim.ds_feature();
  if (!epd0 && !cd_fast_range<0>(cd, lim, ds, ips).ok()) return false;
  if (!epd1 && !cd_fast_range<1>(cd, lim, ds, ips).ok()) return false;

  const bool endi = cd.get<C::ENDI>();
  const unsigned ips_bits = lim.ips_bits(ips);
  if (!epd0) cd_fast_range<0>(cd, lim, ds, ips).write(cd, endi, c.tt[0]);
  if (!epd1) cd_fast_range<1>(cd, lim, ds, ips).write(cd, endi, c.tt[1]);
  c.el2 = el2;
  c.ips_bits = ips_bits;
  c.affd = cd.get<C::AFFD>();
  c.ha = cd.get<C::HA>();
  c.hd = cd.get<C::HD>();
  c.wxn = cd.get<C::WXN>();
  c.pan = cd.get<C::PAN>();
  c.a = cd.get<C::A>();
  c.r = cd.get<C::R>();
  c.s = cd.get<C::S>();
  c.asid = el2 ? std::uint16_t{0} : cd.get<C::ASID>();  // no ASID in the EL2 StreamWorld
  c.mair = cd.w[3];
  return true;
}
}  // namespace detail

// Decodes a CD reached through `ste` into `c` (which must start default-constructed) and
// applies every CdIllegal rule the model has; in place, as decode_ste_into.
template <class X>
[[nodiscard]] constexpr cd_error decode_cd_into(const X& cd, const stream_config& ste,
                                                const decode_limits& lim,
                                                context_config& c) noexcept {
  if (detail::decode_cd_fast(cd, ste, lim, c)) return cd_error::none;
  return detail::decode_cd(cd, ste, lim, c);
}

// As above, deriving what it needs from `f` as it goes: callers that decode many CDs under one
// feature set should keep a decode_limits.
template <class X>
[[nodiscard]] constexpr cd_error decode_cd_into(const X& cd, const stream_config& ste,
                                                const smmu_features& f,
                                                context_config& c) noexcept {
  return detail::decode_cd(cd, ste, detail::live_limits(f), c);
}

// Decodes a CD reached through `ste` and applies every CdIllegal rule the model has.
template <class X>
[[nodiscard]] constexpr cd_decode decode_cd(const X& cd, const stream_config& ste,
                                            const decode_limits& lim) noexcept {
  cd_decode out;  // built in place
  out.error = decode_cd_into(cd, ste, lim, out.config);
  return out;
}

// Decodes a CD reached through `ste` and applies every CdIllegal rule the model has.
template <class X>
[[nodiscard]] constexpr cd_decode decode_cd(const X& cd, const stream_config& ste,
                                            const smmu_features& f) noexcept {
  cd_decode out;  // built in place
  out.error = decode_cd_into(cd, ste, f, out.config);
  return out;
}

// Where the CD of a SubstreamID is, or why there is none.
enum class cd_locate_status : std::uint8_t {
  ok,
  bad_substreamid,  // C_BAD_SUBSTREAMID: SSID out of range, L1CD.V == 0, L2Ptr out of range
  fault,            // F_CD_FETCH or a stage 2 fault (CLASS == CD) on an L1CD fetch
};

struct cd_fetch {
  cd_locate_status status = cd_locate_status::ok;
  smmuv3::cd::value cd{};
  fault_info fault{};
};

// Fetches the CD for `ssid` (0 when substreams are disabled). `to_pa(ipa_or_pa)` maps a CD
// table address to the PA to read: identity with stage 1 only, a stage 2 translation with
// CLASS == CD when nested; it returns or_fault<std::uint64_t>. The caller has checked the
// SubstreamID against S1CDMax.
template <memory::readable_memory M, class ToPa>
[[nodiscard]] constexpr cd_fetch fetch_cd(const M& mem, const stream_config& ste,
                                          const smmu_features& f, std::uint32_t ssid,
                                          ToPa&& to_pa) noexcept {
  cd_fetch out;  // every path returns `out` itself (built in place)
  auto fetch_abort = [&out](std::uint64_t pa) {
    out.status = cd_locate_status::fault;
    out.fault.type = smmuv3::evt::type::f_cd_fetch;
    out.fault.fetch_addr = pa;
  };
  std::uint64_t cd_addr = ste.s1_context_ptr;
  const unsigned range = ste.s2_enabled() ? f.ias_bits() : f.oas_bits();
  if (ste.s1cdmax != 0) {
    if (ste.s1fmt == smmuv3::s1_fmt::linear) {
      cd_addr += std::uint64_t{ssid} * smmuv3::cd::size_bytes;
    } else {
      // 2-level: L1CD at SSID[S1CDMax-1:split], CD at SSID[split-1:0] (§5.2 S1Fmt).
      const unsigned split = ste.s1fmt == smmuv3::s1_fmt::two_level_4k ? 6 : 10;
      const std::uint64_t l1_addr =
          ste.s1_context_ptr + (std::uint64_t{ssid} >> split) * smmuv3::l1cd::size_bytes;
      const auto l1_pa = to_pa(l1_addr);
      if (!l1_pa.ok()) {
        out.status = cd_locate_status::fault;
        out.fault = l1_pa.fault;
        return out;
      }
      const auto r = (l1_pa.value >> f.oas_bits()) != 0
                         ? memory::read_result{0, memory::access_status::external_abort}
                         : mem.read64(l1_pa.value);
      if (!r.ok()) {
        fetch_abort(l1_pa.value);
        return out;
      }
      const smmuv3::l1cd::value l1({r.value});
      const std::uint64_t l2 = l1.get<smmuv3::l1cd::L2Ptr>();
      // §3.4.3 (3)/(4): an out-of-range L2Ptr is C_BAD_SUBSTREAMID in SMMUv3.1+.
      if (!l1.get<smmuv3::l1cd::V>() || (l2 >> range) != 0) {
        out.status = cd_locate_status::bad_substreamid;
        return out;
      }
      cd_addr = l2 + (ssid & vmsa::mask_below(split)) * smmuv3::cd::size_bytes;
    }
  }
  const auto pa = to_pa(cd_addr);
  if (!pa.ok()) {
    out.status = cd_locate_status::fault;
    out.fault = pa.fault;
    return out;
  }
  // A PA beyond the OAS is fetched as an abort (§3.4.3).
  const bool beyond = (pa.value >> f.oas_bits()) != 0;
  auto& words = out.cd.words();
  if (beyond || !memory::read_words(mem, pa.value, words)) fetch_abort(pa.value);
  return out;
}

}  // namespace vsmmu::walk
