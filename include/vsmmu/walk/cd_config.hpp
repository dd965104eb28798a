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
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

namespace detail {
struct context_words;
}

// The decoded, validated CD.
struct context_config {
  constexpr context_config() noexcept = default;
  // The fast path's decode (detail::context_words), stored where the configuration is built: a
  // constructor's object is the caller's (a member initialised from it too), where a local
  // returned from an inlined function was copied (16-byte loads of 8-byte stores:
  // store-forwarding stalls). The default members, wholly overwritten at once, are dropped.
  constexpr explicit context_config(const detail::context_words& w) noexcept;

  std::array<tt_range, 2> tt{tt_range{}, tt_range{}};  // (not a loop over the array)
  std::uint64_t mair = 0;
  // CD dword 0 bits 35-46, in the order of the bits: the fast path writes the eight in one
  // store (detail::cd_flags).
  bool affd = false;
  bool wxn = false;
  bool pan = false;
  bool hd = false;
  bool ha = false;
  bool s = false;
  bool r = true;
  bool a = true;
  std::uint16_t asid = 0;
  std::uint8_t ips_bits = 48;
  bool el2 = false;  // single VA range, no unprivileged accesses (StreamWorld NS-EL2)
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
  // Whatever the IPS (AArch64.S1LeafBase); `out` starts default-constructed (false), so that
  // the common case is one compare.
  if (g == 16 && lim.oas_bits() >= 52) w.pa52_64k = true;
  // The 64-byte minimum follows the effective IPS (§5.4 TTB0).
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
              cd_bits::asid_high == (low_mask(8) << (C::ASID::lsb + 8)) && C::ASID::msb == 63 &&
              cd_bits::tbi0 == bit_of<C::TBI0> && cd_bits::tbi1 == bit_of<C::TBI1> &&
              cd_bits::sh0 == (low_mask(2) << C::SH0::lsb) && C::SH0::msb == C::SH0::lsb + 1 &&
              cd_bits::sh1 == (low_mask(2) << C::SH1::lsb) && C::SH1::msb == C::SH1::lsb + 1);
}  // namespace cd_fast_checks

// Stores word `v` as the object representation of bytes [8 * i, 8 * i + 8) of `to`.
template <std::size_t I>
[[gnu::always_inline]] inline void store_word(void* to, std::uint64_t v) noexcept {
  std::memcpy(static_cast<unsigned char*>(to) + 8 * I, &v, sizeof v);
}

namespace tt_range_checks {
static_assert(std::is_trivially_copyable_v<tt_range> && std::is_standard_layout_v<tt_range> &&
              offsetof(tt_range, enabled) == 0 && offsetof(tt_range, tbi) == 1 &&
              offsetof(tt_range, e0pd) == 2 && offsetof(tt_range, sh) == 3 &&
              offsetof(tt_range, walk) == 8);  // the head's run of 8 bytes ends at walk
// The tail's run of 8 bytes (asid, ips_bits, el2, padding) ends the structure.
static_assert(offsetof(context_config, ips_bits) == offsetof(context_config, asid) + 2 &&
              offsetof(context_config, el2) == offsetof(context_config, asid) + 3 &&
              sizeof(context_config) == offsetof(context_config, asid) + 8);
}  // namespace tt_range_checks

// CD dword 0 ANDed with decode_limits::cd_head_bits (TBIx, and SHx under DS) as a tt_range
// head's bytes 1 (tbi) and 3 (sh), little-endian: one multiply moves both, checked exhaustively
// below.
template <unsigned R>
[[nodiscard]] constexpr std::uint32_t cd_head(std::uint64_t tbi_sh) noexcept {
  namespace C = smmuv3::cd;
  constexpr unsigned tbi = R == 0 ? C::TBI0::lsb : C::TBI1::lsb;
  constexpr unsigned sh = R == 0 ? C::SH0::lsb : C::SH1::lsb;
  static_assert(tbi <= 40 && sh <= 56);
  constexpr std::uint64_t times = std::uint64_t{1} << (40 - tbi) | std::uint64_t{1} << (56 - sh);
  return static_cast<std::uint32_t>((tbi_sh * times) >> 32);
}

namespace cd_head_checks {
template <unsigned R>
[[nodiscard]] constexpr bool exact() noexcept {
  namespace C = smmuv3::cd;
  constexpr unsigned tbi = R == 0 ? C::TBI0::lsb : C::TBI1::lsb;
  constexpr unsigned sh = R == 0 ? C::SH0::lsb : C::SH1::lsb;
  for (unsigned v = 0; v < 8; ++v) {
    const std::uint64_t x = std::uint64_t{v & 1U} << tbi | std::uint64_t{v >> 1} << sh;
    if (cd_head<R>(x) != ((v & 1U) << 8 | (v >> 1) << 24)) return false;
  }
  return true;
}
static_assert(exact<0>() && exact<1>());
}  // namespace cd_head_checks

// A tt_range as three words: the head's bytes (enabled, tbi, e0pd, sh; the padding after them
// 0), little-endian, table_base, and the walk word (walk_word_bytes).
struct range_words {
  std::uint64_t head = 0;
  std::uint64_t base = 0;
  std::uint64_t walk = default_walk_word;  // a disabled range: tt_range{}
};

// One VA range of a CD on the fast path (R is 0 or 1): checked against decode_limits' tables
// (TxSZ and the granule, cd_txsz_ok; TTBx within the effective IPS, which is at most 48 bits
// with 4KB and 16KB without DS: the 48-bit limit of CDTTBxValidRange as well) and, when it
// passes, its words as decode_range writes it. False, with `out` untouched, when it does not.
template <unsigned R, class X>
[[nodiscard, gnu::always_inline]] constexpr bool cd_range_words(const X& cd,
                                                                const decode_limits& lim,
                                                                range_words& out) noexcept {
  namespace C = smmuv3::cd;
  namespace W = walk_word_bytes;
  using TSZ = std::conditional_t<R == 0, C::T0SZ, C::T1SZ>;
  using TG = std::conditional_t<R == 0, C::TG0, C::TG1>;
  using TTB = std::conditional_t<R == 0, C::TTB0, C::TTB1>;
  using E0PD = std::conditional_t<R == 0, C::E0PD0, C::E0PD1>;
  const unsigned ds = unsigned{field_at<C::DS>(cd)};  // the tables' entries are IDR5.DS && DS
  const unsigned ips = static_cast<unsigned>(field_at<C::IPS>(cd)) & 7U;
  const unsigned tg = static_cast<unsigned>(field_at<TG>(cd));
  const unsigned txsz = field_at<TSZ>(cd) & 63U;
  const cd_range_check& k = lim.cd_range(R, ds, tg);
  const std::uint64_t ttb = bits_55_4(field_at<TTB>(cd));
  const std::uint64_t beyond_oa = k.beyond_oa[ips];  // bits [3:0], never in ttb: the geometry
  if (((lim.cd_txsz_ok(R, ds, tg) >> txsz) & 1U) == 0 || (ttb & beyond_oa) != 0) {
    return false;
  }
  const std::uint64_t walk = k.walk[ips];
  // The geometry index is below 6 (decode_limits::init_cd_checks), TxSZ legal (below 40) here.
  const unsigned at = static_cast<unsigned>(beyond_oa) & cd_range_check::geometry_bits;
  // enabled, tbi, e0pd and sh (the leaves' shareability under DS only: walk.ds; 0 otherwise).
  out.head = 1U | unsigned{field_at<E0PD>(cd)} << 16 |
             cd_head<R>(static_cast<std::uint64_t>(cd.word(0)) & lim.cd_head_bits(R, ds, tg));
  // Bits of TTBx below the start table's alignment are ignored (AArch64.S1TTBaseAddress).
  out.base = ttb & s1_geometry.base_mask[txsz][at];
  out.walk =
      walk | s1_geometry.ia_level[txsz][at] | std::uint64_t{field_at<C::ENDI>(cd)} << W::big_endian;
  return true;
}

// CD.{AFFD, WXN, PAN, HD, HA, S, R, A} (dword 0 bits 35, 36, 40, 42-46) as the bytes of
// context_config from `affd` on, little-endian: one multiply per run of bits moves every bit
// to the lowest bit of its byte (partial product k shifts bit k by 8k - its position), a mask
// keeps those. Checked exhaustively below: not every set of positions is free of carries.
[[nodiscard]] constexpr std::uint64_t cd_flags(std::uint64_t w0) noexcept {
  namespace C = smmuv3::cd;
  const std::uint64_t x = w0 >> C::AFFD::lsb;
  constexpr unsigned affd = 0;
  constexpr unsigned wxn = C::WXN::lsb - C::AFFD::lsb;
  constexpr unsigned pan = C::PAN::lsb - C::AFFD::lsb;
  constexpr unsigned hd = C::HD::lsb - C::AFFD::lsb;
  static_assert(C::HA::lsb == C::HD::lsb + 1 && C::S::lsb == C::HD::lsb + 2 &&
                C::R::lsb == C::HD::lsb + 3 && C::A::lsb == C::HD::lsb + 4 && hd <= 24);
  constexpr std::uint64_t low =
      std::uint64_t{1} << affd | std::uint64_t{1} << wxn | std::uint64_t{1} << pan;
  constexpr std::uint64_t low_times = std::uint64_t{1} << (0 - affd) |
                                      std::uint64_t{1} << (8 - wxn) |
                                      std::uint64_t{1} << (16 - pan);
  constexpr std::uint64_t high = std::uint64_t{0x1f} << hd;  // HD, HA, S, R, A
  constexpr std::uint64_t high_times =
      std::uint64_t{1} << (24 - hd) | std::uint64_t{1} << (32 - hd - 1) |
      std::uint64_t{1} << (40 - hd - 2) | std::uint64_t{1} << (48 - hd - 3) |
      std::uint64_t{1} << (56 - hd - 4);
  return ((x & low) * low_times | (x & high) * high_times) & 0x0101'0101'0101'0101ULL;
}

namespace cd_flags_checks {
namespace C = smmuv3::cd;
[[nodiscard]] constexpr bool exact() noexcept {
  constexpr unsigned lsb[8] = {C::AFFD::lsb, C::WXN::lsb, C::PAN::lsb, C::HD::lsb,
                               C::HA::lsb,   C::S::lsb,   C::R::lsb,   C::A::lsb};
  for (unsigned v = 0; v < 256; ++v) {
    std::uint64_t w0 = ~std::uint64_t{0};  // every other bit set: must not leak in
    std::uint64_t want = 0;
    for (unsigned k = 0; k < 8; ++k) {
      if (((v >> k) & 1U) != 0) {
        want |= std::uint64_t{1} << (8 * k);
      } else {
        w0 &= ~(std::uint64_t{1} << lsb[k]);
      }
    }
    if (cd_flags(w0) != want) return false;
  }
  return true;
}
static_assert(exact());
static_assert(std::is_trivially_copyable_v<context_config> &&
              std::is_standard_layout_v<context_config>);
static_assert(offsetof(context_config, wxn) == offsetof(context_config, affd) + 1 &&
              offsetof(context_config, pan) == offsetof(context_config, affd) + 2 &&
              offsetof(context_config, hd) == offsetof(context_config, affd) + 3 &&
              offsetof(context_config, ha) == offsetof(context_config, affd) + 4 &&
              offsetof(context_config, s) == offsetof(context_config, affd) + 5 &&
              offsetof(context_config, r) == offsetof(context_config, affd) + 6 &&
              offsetof(context_config, a) == offsetof(context_config, affd) + 7);
}  // namespace cd_flags_checks

// A context_config as nine words, its object representation in layout order (little-endian;
// padding 0): the fast path computes them in registers, after every load, and stores them at
// once.
struct context_words {
  range_words tt[2];
  std::uint64_t mair = 0;
  std::uint64_t flags = 0;  // affd, wxn, pan, hd, ha, s, r, a
  std::uint64_t tail = 0;   // asid, ips_bits, el2
};
static_assert(sizeof(context_words) == sizeof(context_config));

// Writes the configuration `w` represents into `c`, wholly: nine stores at run time on a
// little-endian host (the words are its object representation, padding included), member by
// member in constant evaluation and on big-endian hosts. With `over_defaults` (`c` holds
// context_config{} already), a disabled range, whose words are tt_range{}'s, is not stored.
[[gnu::always_inline]] constexpr void store_config(context_config& c, const context_words& w,
                                                   bool over_defaults = false) noexcept {
  if (std::is_constant_evaluated() || std::endian::native != std::endian::little) {
    for (unsigned i = 0; i < 2; ++i) {
      const std::uint64_t h = w.tt[i].head;
      c.tt[i].enabled = (h & 1U) != 0;
      c.tt[i].tbi = ((h >> 8) & 1U) != 0;
      c.tt[i].e0pd = ((h >> 16) & 1U) != 0;
      c.tt[i].sh = static_cast<std::uint8_t>(h >> 24);
      c.tt[i].walk.table_base = w.tt[i].base;
      store_walk_word(c.tt[i].walk, w.tt[i].walk);
    }
    c.mair = w.mair;
    c.affd = (w.flags & 1U) != 0;
    c.wxn = ((w.flags >> 8) & 1U) != 0;
    c.pan = ((w.flags >> 16) & 1U) != 0;
    c.hd = ((w.flags >> 24) & 1U) != 0;
    c.ha = ((w.flags >> 32) & 1U) != 0;
    c.s = ((w.flags >> 40) & 1U) != 0;
    c.r = ((w.flags >> 48) & 1U) != 0;
    c.a = ((w.flags >> 56) & 1U) != 0;
    c.asid = static_cast<std::uint16_t>(w.tail);
    c.ips_bits = static_cast<std::uint8_t>(w.tail >> 16);
    c.el2 = ((w.tail >> 24) & 1U) != 0;
  } else {
    if (!over_defaults || w.tt[0].head != 0) {
      store_word<0>(&c, w.tt[0].head);
      store_word<1>(&c, w.tt[0].base);
      store_word<2>(&c, w.tt[0].walk);
    }
    if (!over_defaults || w.tt[1].head != 0) {
      store_word<3>(&c, w.tt[1].head);
      store_word<4>(&c, w.tt[1].base);
      store_word<5>(&c, w.tt[1].walk);
    }
    store_word<6>(&c, w.mair);
    store_word<7>(&c, w.flags);
    store_word<8>(&c, w.tail);
  }
}

// The fast path: the CD checked against decode_limits' masks and tables, conservatively (a
// legal CD may fail the check and take the rule-by-rule decoder, which names the error of an
// ILLEGAL one). True with `w` the words of its decode, as decode_cd would write it into a
// default-constructed configuration; false when it does not pass. Computed in registers,
// after every load: the caller stores the words at once (store_config).
template <class X>
[[nodiscard, gnu::always_inline]] constexpr bool cd_fast_words(const X& raw,
                                                               const stream_config& ste,
                                                               const decode_limits& lim,
                                                               context_words& w) noexcept {
  namespace C = smmuv3::cd;
  const std::uint64_t w0 = static_cast<std::uint64_t>(raw.word(0));
  // V and every rule on dword 0 alone (S, A, ENDI, AA64, HA/HD, ASID), S with S1STALLD.
  if ((((w0 ^ lim.cd_expect()) & lim.cd_mask()) |
       (w0 & (std::uint64_t{ste.s1stalld} << C::S::lsb))) != 0) {
    return false;
  }
  const bool el2 = ste.el2;
  // A disabled range's fields are IGNORED; EffectiveCDEPD1 is 1 in the EL2 StreamWorld.
  if (!field_at<C::EPD0>(raw) && !cd_range_words<0>(raw, lim, w.tt[0])) return false;
  if (!el2 && !field_at<C::EPD1>(raw) && !cd_range_words<1>(raw, lim, w.tt[1])) return false;
  w.mair = static_cast<std::uint64_t>(raw.word(3));  // {MAIR1, MAIR0}
  w.flags = cd_flags(w0);
  // asid (none in the EL2 StreamWorld), ips_bits and el2.
  w.tail = (el2 ? 0U : std::uint64_t{field_at<C::ASID>(raw)}) |
           std::uint64_t{lim.ips_bits(static_cast<unsigned>(field_at<C::IPS>(raw)))} << 16 |
           std::uint64_t{el2} << 24;
  return true;
}

// The fast path as one call: true with `c` the decode, false with `c` untouched.
template <class X>
[[nodiscard, gnu::always_inline]] constexpr bool decode_cd_fast(const X& raw,
                                                                const stream_config& ste,
                                                                const decode_limits& lim,
                                                                context_config& c) noexcept {
  context_words w;
  if (!cd_fast_words(raw, ste, lim, w)) return false;
  store_config(c, w, true);
  return true;
}

// The rule-by-rule decoder, out of line, as decode_ste_rules.
template <class X, class Limits>
[[nodiscard, gnu::noinline]] constexpr cd_error decode_cd_rules(const X& raw,
                                                                const stream_config& ste,
                                                                const Limits& lim,
                                                                context_config& c) noexcept {
  return decode_cd(raw, ste, lim, c);
}

// decode_cd's rule-by-rule path, as ste_decode_by_rules.
template <class X, class Limits>
[[nodiscard, gnu::noinline]] constexpr cd_decode cd_decode_by_rules(const X& raw,
                                                                   const stream_config& ste,
                                                                   const Limits& lim) noexcept {
  cd_decode out;
  out.error = decode_cd(raw, ste, lim, out.config);
  return out;
}
}  // namespace detail

constexpr context_config::context_config(const detail::context_words& w) noexcept {
  detail::store_config(*this, w);
}

// Decodes a CD reached through `ste` into `c` (which must start default-constructed) and
// applies every CdIllegal rule the model has; in place, as decode_ste_into.
template <class X>
[[nodiscard, gnu::always_inline]] constexpr cd_error decode_cd_into(
    const X& raw, const stream_config& ste, const decode_limits& lim, context_config& c) noexcept {
  if (detail::decode_cd_fast(raw, ste, lim, c)) return cd_error::none;
  return detail::decode_cd_rules(raw, ste, lim, c);
}

// As above, deriving what it needs from `f` as it goes: callers that decode many CDs under one
// feature set should keep a decode_limits.
template <class X>
[[nodiscard]] constexpr cd_error decode_cd_into(const X& cd, const stream_config& ste,
                                                const smmu_features& f,
                                                context_config& c) noexcept {
  return detail::decode_cd(cd, ste, detail::live_limits(f), c);
}

// Decodes a CD reached through `ste` and applies every CdIllegal rule the model has; the fast
// path inlined, as decode_ste.
template <class X>
[[nodiscard, gnu::always_inline]] constexpr cd_decode decode_cd(const X& raw,
                                                                const stream_config& ste,
                                                                const decode_limits& lim) noexcept {
  detail::context_words w;
  if (detail::cd_fast_words(raw, ste, lim, w)) return {cd_error::none, context_config(w)};
  return detail::cd_decode_by_rules(raw, ste, lim);
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

namespace detail {
[[nodiscard, gnu::cold, gnu::noinline]] constexpr cd_fetch cd_fetch_failed(
    cd_locate_status status, const fault_info& fault) noexcept {
  return {status, smmuv3::cd::value{}, fault};
}
}  // namespace detail

namespace detail {
using cd_storage = smmuv3::cd::value::storage_type;

// The words of a CD read into a cd_storage, read as the decoders read a smmuv3::cd::value
// (word(i)): a fetch that goes straight to the decoder keeps the words where it read them.
struct cd_words_ref {
  const cd_storage& words;
  [[nodiscard]] constexpr std::uint64_t word(unsigned i) const noexcept { return words[i]; }
};

// Reads the 64 bytes of a CD at PA `pa` into `words`; false when the read aborts, or when `pa`
// is beyond the OAS, which is fetched as an abort (§3.4.3).
template <memory::readable_memory M>
[[nodiscard, gnu::always_inline]] constexpr bool read_cd_at(const M& mem, const smmu_features& f,
                                                            std::uint64_t pa,
                                                            cd_storage& words) noexcept {
  return (pa >> f.oas_bits()) == 0 && memory::read_words(mem, pa, words);
}

// The F_CD_FETCH of an abort at `pa`, `oas` bits: IHI 0070 §7.3.10, "FetchAddr bits [55:OAS]
// are RES0".
[[nodiscard, gnu::cold, gnu::noinline]] constexpr fault_info cd_abort_at(std::uint64_t pa,
                                                                         unsigned oas) noexcept {
  fault_info fault;
  fault.type = smmuv3::evt::type::f_cd_fetch;
  fault.fetch_addr = pa & vmsa::mask_below(oas);
  return fault;
}

// Reads the CD at IPA or PA `cd_addr` into `words`, the caller's (whole on success); false with
// `fault` set (to_pa's fault, or F_CD_FETCH) when there is none. The words go where the caller
// decodes them: a result holding them was copied, and its fault_info with it, in 8-byte and
// 16-byte pieces that did not forward.
template <memory::readable_memory M, class ToPa>
[[nodiscard, gnu::always_inline]] constexpr bool read_cd_words(const M& mem, const smmu_features& f,
                                                               std::uint64_t cd_addr, ToPa& to_pa,
                                                               cd_storage& words,
                                                               fault_info& fault) noexcept {
  const auto pa = to_pa(cd_addr);
  if (!pa.ok()) {
    fault = pa.fault;
    return false;
  }
  if (!read_cd_at(mem, f, pa.value, words)) {
    fault = cd_abort_at(pa.value, f.oas_bits());
    return false;
  }
  return true;
}

// Reads the CD at IPA or PA `cd_addr`. Each path builds its result where it returns (guaranteed
// elision), rather than a result zeroed first and overwritten: g++ zeroed the 104 bytes with
// `rep stos`, tens of cycles to start.
template <memory::readable_memory M, class ToPa>
[[nodiscard, gnu::always_inline]] constexpr cd_fetch read_cd(const M& mem, const smmu_features& f,
                                                             std::uint64_t cd_addr,
                                                             ToPa& to_pa) noexcept {
  const auto pa = to_pa(cd_addr);
  if (!pa.ok()) return cd_fetch_failed(cd_locate_status::fault, pa.fault);
  cd_storage words;  // written whole by read_cd_at before any use
  if (!read_cd_at(mem, f, pa.value, words)) {
    return cd_fetch_failed(cd_locate_status::fault, cd_abort_at(pa.value, f.oas_bits()));
  }
  return {cd_locate_status::ok, smmuv3::cd::value(words), fault_info{}};
}

// The address of the CD of `ssid` in a linear table; with substreams disabled (S1CDMax 0) the
// one CD, whatever `ssid` says.
[[nodiscard]] constexpr std::uint64_t linear_cd_address(const stream_config& ste,
                                                        std::uint32_t ssid) noexcept {
  const std::uint64_t index = ste.s1cdmax != 0 ? ssid : 0U;
  return ste.s1_context_ptr + index * smmuv3::cd::size_bytes;
}

[[nodiscard]] constexpr bool two_level_cd_table(const stream_config& ste) noexcept {
  return ste.s1cdmax != 0 && ste.s1fmt != smmuv3::s1_fmt::linear;
}

// fetch_cd with a 2-level CD table (S1CDMax != 0), out of line: the linear table's path stays
// small enough for g++ to inline.
template <memory::readable_memory M, class ToPa>
[[nodiscard, gnu::noinline]] constexpr cd_fetch fetch_cd_two_level(const M& mem,
                                                                   const stream_config& ste,
                                                                   const smmu_features& f,
                                                                   std::uint32_t ssid,
                                                                   ToPa& to_pa) noexcept {
  // L1CD at SSID[S1CDMax-1:split], CD at SSID[split-1:0] (§5.2 S1Fmt).
  const unsigned split = ste.s1fmt == smmuv3::s1_fmt::two_level_4k ? 6 : 10;
  const std::uint64_t l1_addr =
      ste.s1_context_ptr + (std::uint64_t{ssid} >> split) * smmuv3::l1cd::size_bytes;
  const auto l1_pa = to_pa(l1_addr);
  if (!l1_pa.ok()) return cd_fetch_failed(cd_locate_status::fault, l1_pa.fault);
  const auto r = (l1_pa.value >> f.oas_bits()) != 0
                     ? memory::read_result{0, memory::access_status::external_abort}
                     : mem.read64(l1_pa.value);
  if (!r.ok()) {
    return cd_fetch_failed(cd_locate_status::fault, cd_abort_at(l1_pa.value, f.oas_bits()));
  }
  const smmuv3::l1cd::value l1({r.value});
  const std::uint64_t l2 = l1.get<smmuv3::l1cd::L2Ptr>();
  // §3.4.3 (3)/(4): an out-of-range L2Ptr is C_BAD_SUBSTREAMID in SMMUv3.1+.
  const unsigned range = ste.s2_enabled() ? f.ias_bits() : f.oas_bits();
  if (!l1.get<smmuv3::l1cd::V>() || (l2 >> range) != 0) {
    return cd_fetch_failed(cd_locate_status::bad_substreamid, fault_info{});
  }
  return read_cd(mem, f, l2 + (ssid & vmsa::mask_below(split)) * smmuv3::cd::size_bytes, to_pa);
}
}  // namespace detail

// Fetches the CD for `ssid` (0 when substreams are disabled). `to_pa(ipa_or_pa)` maps a CD
// table address to the PA to read: identity with stage 1 only, a stage 2 translation with
// CLASS == CD when nested; it returns or_fault<std::uint64_t>. The caller has checked the
// SubstreamID against S1CDMax.
template <memory::readable_memory M, class ToPa>
[[nodiscard]] constexpr cd_fetch fetch_cd(const M& mem, const stream_config& ste,
                                          const smmu_features& f, std::uint32_t ssid,
                                          ToPa&& to_pa) noexcept {
  if (detail::two_level_cd_table(ste)) {
    return detail::fetch_cd_two_level(mem, ste, f, ssid, to_pa);
  }
  return detail::read_cd(mem, f, detail::linear_cd_address(ste, ssid), to_pa);
}

namespace detail {
// fetch_cd into the caller's `words` (whole when the status is ok), `fault` set when the status
// is cd_locate_status::fault: for a caller that decodes the CD at once (see read_cd_words).
template <memory::readable_memory M, class ToPa>
[[nodiscard, gnu::always_inline]] constexpr cd_locate_status fetch_cd_words(
    const M& mem, const stream_config& ste, const smmu_features& f, std::uint32_t ssid, ToPa& to_pa,
    cd_storage& words, fault_info& fault) noexcept {
  if (two_level_cd_table(ste)) {
    const cd_fetch r = fetch_cd_two_level(mem, ste, f, ssid, to_pa);
    words = r.cd.words();
    fault = r.fault;
    return r.status;
  }
  return read_cd_words(mem, f, linear_cd_address(ste, ssid), to_pa, words, fault)
             ? cd_locate_status::ok
             : cd_locate_status::fault;
}
}  // namespace detail

}  // namespace vsmmu::walk
