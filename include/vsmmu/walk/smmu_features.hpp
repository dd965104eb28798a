// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/smmuv3/encodings.hpp>
#include <vsmmu/walk/detail/decode_tables.hpp>

#include <cstdint>

// What the walker needs to know about the SMMU it models: decoded ID-register features and the
// few control-register settings that steer a translation. Plain structs, so that tests and
// embedders can write them directly; they will be fed from SMMU_IDRx / SMMU_CRx
// (smmuv3/features.hpp) once that is wired up.
//
// The model is the Non-secure programming interface of an SMMUv3.1+ with VMSAv8-64 tables only
// (SMMU_IDR0.TTF == 0b10): no Secure or Realm state, no VMSAv8-32 LPAE, no VMSAv9-128.
namespace vsmmu::walk {

// SMMU_IDR0.STALL_MODEL (IHI 0070 §6.3.1).
enum class stall_model : std::uint8_t {
  stall_and_terminate = 0b00,  // both supported, chosen per CD/STE
  terminate_only = 0b01,       // no stall: CD.S / STE.S2S == 1 is ILLEGAL
  stall_forced = 0b10,         // stall forced: CD.S / STE.S2S == 0 is ILLEGAL
};

// SMMU_IDR0.HTTU: hardware update of the Access flag and dirty state.
enum class httu : std::uint8_t { none = 0b00, access_flag = 0b01, access_and_dirty = 0b10 };

// SMMU_IDR0.TTENDIAN: translation table endianness the SMMU can walk.
enum class tt_endian : std::uint8_t { mixed = 0b00, little = 0b10, big = 0b11 };

struct smmu_features {
  // SMMU_IDR0
  bool s1p = true;                     // stage 1 implemented
  bool s2p = true;                     // stage 2 implemented
  bool two_level_stream_table = true;  // ST_LEVEL == 0b01
  bool cd2l = true;                    // two-level CD tables
  bool ats = false;
  bool ns1ats = false;  // split-stage ATS not supported
  bool asid16 = true;
  bool vmid16 = true;
  bool hyp = false;
  bool aa64_tables = true;  // TTF[1]: VMSAv8-64 tables (the only format this model walks)
  bool term_model = false;  // 1: CD.A == 0 (RAZ/WI termination) not supported
  walk::stall_model stall_model = walk::stall_model::stall_and_terminate;
  walk::httu httu = walk::httu::none;
  tt_endian ttendian = tt_endian::mixed;
  // SMMU_IDR1
  unsigned sidsize = 16;   // StreamID bits, 0..32
  unsigned ssidsize = 20;  // SubstreamID bits, 0..20
  // SMMU_IDR5
  smmuv3::address_size oas = smmuv3::address_size::bits48;
  bool gran4k = true;
  bool gran16k = true;
  bool gran64k = true;
  bool vax52 = false;  // VAX == 0b01: 52-bit VAs with the 64KB granule
  bool ds = false;     // DS: FEAT_LPA2 (CD.DS: 52-bit addresses with 4KB and 16KB granules)

  // From a table of namespace scope (detail::address_bits_of): smmuv3::address_bits' local
  // array was copied onto the stack on every call by g++ (fetch_ste, fetch_cd).
  [[nodiscard]] constexpr unsigned oas_bits() const noexcept {
    return detail::address_bits_of[static_cast<unsigned>(oas) & 7U];
  }
  // IHI 0070 §3.4: IAS == OAS without VMSAv8-32 LPAE support.
  [[nodiscard]] constexpr unsigned ias_bits() const noexcept { return oas_bits(); }
  [[nodiscard]] constexpr bool granule_supported(unsigned shift) const noexcept {
    return (shift == 12 && gran4k) || (shift == 14 && gran16k) || (shift == 16 && gran64k);
  }
};

static_assert([] {
  for (unsigned s = 0; s < 8; ++s) {
    if (detail::address_bits_of[s] != smmuv3::address_bits(static_cast<smmuv3::address_size>(s)))
      return false;
  }
  return true;
}());

// What STE and CD validation (ste_config.hpp, cd_config.hpp) derives from smmu_features,
// computed once per feature set rather than on every decode: a configuration-cache miss then
// costs a few loads instead of re-deriving the OAS, the granules and the size limits. A caller
// that decodes many STEs/CDs under one feature set keeps one of these next to the features (a
// copy: it does not refer to them).
class decode_limits {
 public:
  constexpr decode_limits() noexcept : decode_limits(smmu_features{}) {}
  constexpr explicit decode_limits(const smmu_features& feat) noexcept
      : f_(feat), oas_(feat.oas_bits()), ias_(feat.ias_bits()) {
    granules_ = (feat.gran4k ? 1U << 12 : 0U) | (feat.gran16k ? 1U << 14 : 0U) |
                (feat.gran64k ? 1U << 16 : 0U);
    for (unsigned ps = 0; ps < 8; ++ps) {
      const unsigned bits = smmuv3::address_bits(static_cast<smmuv3::address_size>(ps));
      const unsigned capped = bits < oas_ ? bits : oas_;
      ps_bits_[ps] = static_cast<std::uint8_t>(capped < 52 ? capped : 52);
    }
    const unsigned min_ias = 64 - ias_;
    s2_min_t0sz_4k16k_ = static_cast<std::uint8_t>(min_ias > 16 ? min_ias : 16);
    s2_min_t0sz_64k_ = static_cast<std::uint8_t>(min_ias > 12 ? min_ias : 12);
    stall_bad_ = feat.stall_model == stall_model::terminate_only ? 0b10
                 : feat.stall_model == stall_model::stall_forced ? 0b01
                                                                 : 0;
    endi_bad_ = feat.ttendian == tt_endian::little ? 0b10
                : feat.ttendian == tt_endian::big  ? 0b01
                                                   : 0;
    httu_bad_ = feat.httu == httu::none ? 0b1110 : feat.httu == httu::access_flag ? 0b1100 : 0;
    for (unsigned ps = 0; ps < 8; ++ps) {
      const unsigned bits = smmuv3::address_bits(static_cast<smmuv3::address_size>(ps));
      ips_bits_[ps] = static_cast<std::uint8_t>(bits < oas_ ? bits : oas_);
    }
    init_ste_checks(feat);
    init_cd_checks(feat);
  }

  [[nodiscard]] constexpr const smmu_features& features() const noexcept { return f_; }
  [[nodiscard]] constexpr unsigned oas_bits() const noexcept { return oas_; }
  [[nodiscard]] constexpr unsigned ias_bits() const noexcept { return ias_; }
  // `shift` 0 (a reserved granule encoding) is not supported.
  [[nodiscard]] constexpr bool granule_supported(unsigned shift) const noexcept {
    return shift < 32 && ((granules_ >> shift) & 1U) != 0;
  }
  // effective_output_bits (ste_config.hpp) of an S2PS / CD.IPS encoding: capped to the OAS and
  // to 52 bits, and to 48 unless the 64KB granule or DS (FEAT_LPA2) allows 52 (IHI 0070 §3.4).
  [[nodiscard]] constexpr unsigned output_bits(unsigned ps, unsigned granule_shift,
                                               bool ds) const noexcept {
    const unsigned bits = ps_bits_[ps & 7U];
    return bits > 48 && granule_shift != 16 && !ds ? 48U : bits;
  }
  // STES2T0SZInvalid without STT: the minimum S2T0SZ, 64 - IAS and at least 16 (12 with 64KB).
  [[nodiscard]] constexpr unsigned s2_min_t0sz(unsigned granule_shift) const noexcept {
    return granule_shift == 16 ? s2_min_t0sz_64k_ : s2_min_t0sz_4k16k_;
  }
  // CD.S / STE.S2S against STALL_MODEL.
  [[nodiscard]] constexpr bool stall_illegal(bool s) const noexcept {
    return ((stall_bad_ >> unsigned{s}) & 1U) != 0;
  }
  // CD.ENDI / STE.S2ENDI against TTENDIAN.
  [[nodiscard]] constexpr bool endi_illegal(bool endi) const noexcept {
    return ((endi_bad_ >> unsigned{endi}) & 1U) != 0;
  }
  // CD.HA/HD, STE.S2HA/S2HD against HTTU.
  [[nodiscard]] constexpr bool httu_illegal(bool ha, bool hd) const noexcept {
    return ((httu_bad_ >> (unsigned{ha} | unsigned{hd} << 1)) & 1U) != 0;
  }

  // The fast path's tables (detail/decode_tables.hpp).
  // STE Config 0b1xx, by Config & 3.
  [[nodiscard]] constexpr const detail::ste_mode_check& ste_check(unsigned mode) const noexcept {
    return ste_check_[mode & 3U];
  }
  // Bit t set when S2T0SZ t is legal with this S2TG encoding and S2SL0: the granule is
  // supported, t is within the STES2T0SZInvalid range and S2SL0 valid and consistent with it.
  [[nodiscard]] constexpr std::uint64_t s2_t0sz_ok(unsigned s2tg, unsigned sl0) const noexcept {
    return s2_t0sz_ok_[s2tg & 3U][sl0 & 3U];
  }
  // CD range 0 (TG0 encoding, also STE.S2TG's) or 1 (TG1 encoding), with `ds` = CD.DS (the
  // entries for 1 are those for 0 without IDR5.DS).
  [[nodiscard]] constexpr const detail::cd_range_check& cd_range(unsigned range, unsigned ds,
                                                                 unsigned tg) const noexcept {
    return cd_range_[range & 1U][ds & 1U][tg & 3U];
  }
  // Bit t set when TxSZ t is legal for that range (CDTxSZInvalid) and the granule supported.
  [[nodiscard]] constexpr std::uint64_t cd_txsz_ok(unsigned range, unsigned ds,
                                                   unsigned tg) const noexcept {
    return cd_txsz_ok_[range & 1U][ds & 1U][tg & 3U];
  }
  // The bits of CD dword 0 a range's tt_range head takes: TBIx, and SHx when DS is in effect.
  [[nodiscard]] constexpr std::uint64_t cd_head_bits(unsigned range, unsigned ds,
                                                     unsigned tg) const noexcept {
    return cd_head_bits_[range & 1U][ds & 1U][tg & 3U];
  }
  // CD dword 0 must equal cd_expect() under cd_mask(); conservative, as ste_mode_check.
  [[nodiscard]] constexpr std::uint64_t cd_mask() const noexcept { return cd_mask_; }
  [[nodiscard]] constexpr std::uint64_t cd_expect() const noexcept { return cd_expect_; }
  // 1 with IDR5.DS (CD.DS is RES0 without it).
  [[nodiscard]] constexpr unsigned ds_feature() const noexcept { return ds_feature_; }
  // min(address_bits(IPS), OAS) per CD.IPS encoding: context_config::ips_bits.
  [[nodiscard]] constexpr unsigned ips_bits(unsigned ips) const noexcept {
    return ips_bits_[ips & 7U];
  }

 private:
  constexpr void init_ste_checks(const smmu_features& feat) noexcept {
    namespace B = detail::ste_bits;
    for (unsigned m = 0; m < 4; ++m) {
      const bool s1 = (m & 1U) != 0;
      const bool s2 = (m & 2U) != 0;
      detail::ste_mode_check& k = ste_check_[m];
      if ((s1 && !feat.s1p) || (s2 && (!feat.s2p || !feat.aa64_tables))) {
        k.mask[0] = 1;  // V, which is 1 on the fast path: never passes
        continue;
      }
      if (s1) {
        // S1ContextPtr within the OAS (PA) or the IAS (IPA); a linear CD table without CD2L.
        k.mask[0] |= B::s1contextptr & ~detail::low_mask(s2 ? ias_ : oas_);
        if (!feat.cd2l) k.mask[0] |= B::s1fmt;
        if (feat.stall_model != stall_model::stall_and_terminate) k.mask[1] |= B::s1stalld;
        if (feat.ssidsize != 0) {
          k.cdmax_keep = 31;
          k.cdmax_ok = feat.ssidsize >= 31 ? ~std::uint32_t{0} : (2U << feat.ssidsize) - 1;
        }
      }
      if (feat.ats && m != 0) k.mask[1] |= B::eats;  // EATS 0b00
      k.strw_used = feat.s1p && feat.hyp && m == 1;
      if (k.strw_used) k.mask[1] |= B::strw0;  // STRW 0b00 or 0b10
      k.vmid_used = feat.s2p && m != 0;
      if (k.vmid_used && !feat.vmid16) k.mask[2] |= B::s2vmid_high;
      if (s2) {
        k.mask[2] |= B::s2aa64;
        k.expect[2] |= B::s2aa64;
        if (feat.stall_model != stall_model::stall_and_terminate) k.mask[2] |= B::s2s;
        if (feat.stall_model == stall_model::stall_forced) k.expect[2] |= B::s2s;
        if (feat.httu != httu::access_and_dirty) k.mask[2] |= B::s2hd;
        if (feat.httu == httu::none) k.mask[2] |= B::s2ha;
        if (feat.ttendian != tt_endian::mixed) k.mask[2] |= B::s2endi;
        if (feat.ttendian == tt_endian::big) k.expect[2] |= B::s2endi;
      }
    }
    // Per S2TG and S2SL0 the legal S2T0SZ are an interval: from the STES2T0SZInvalid range and
    // the input sizes the start level resolves (s2_start_level), when that level is valid.
    for (unsigned tg = 0; tg < 4; ++tg) {
      const unsigned g = detail::tg0_shift[tg];
      if (!granule_supported(g)) continue;
      for (unsigned sl0 = 0; sl0 < 4; ++sl0) {
        const int level = detail::s2_geometry.level[tg][sl0];
        const unsigned lsb = detail::s2_geometry.lsb[tg][sl0];
        if (level < 0 || detail::s2_start_level(g, sl0, lsb + 1, oas_) != level) continue;
        const unsigned max_ia = lsb + (g - 3) + 4;  // at most 16 concatenated tables
        const unsigned lo = 64 - max_ia > s2_min_t0sz(g) ? 64 - max_ia : s2_min_t0sz(g);
        const unsigned hi = 63 - lsb < 39 ? 63 - lsb : 39;
        if (lo <= hi) s2_t0sz_ok_[tg][sl0] = detail::low_mask(hi + 1) & ~detail::low_mask(lo);
      }
    }
  }

  constexpr void init_cd_checks(const smmu_features& feat) noexcept {
    namespace B = detail::cd_bits;
    cd_mask_ = B::v | B::aa64;
    cd_expect_ = B::v | B::aa64;
    if (feat.stall_model != stall_model::stall_and_terminate) cd_mask_ |= B::s;
    if (feat.stall_model == stall_model::stall_forced) cd_expect_ |= B::s;
    if (feat.term_model) {
      cd_mask_ |= B::a;
      cd_expect_ |= B::a;
    }
    if (feat.ttendian != tt_endian::mixed) cd_mask_ |= B::endi;
    if (feat.ttendian == tt_endian::big) cd_expect_ |= B::endi;
    if (feat.httu != httu::access_and_dirty) cd_mask_ |= B::hd;
    if (feat.httu == httu::none) cd_mask_ |= B::ha;
    if (!feat.asid16) cd_mask_ |= B::asid_high;
    // Without VMSAv8-64 tables no CD passes: range 0 enabled (EPD0 == 0) and no TG0 legal.
    if (!feat.aa64_tables) cd_mask_ |= B::epd0;
    ds_feature_ = feat.ds ? 1U : 0U;
    for (unsigned r = 0; r < 2; ++r) {
      for (unsigned ds = 0; ds < 2; ++ds) {
        for (unsigned tg = 0; tg < 4; ++tg) {
          const unsigned g = (r == 0 ? detail::tg0_shift : detail::tg1_shift)[tg];
          detail::cd_range_check& k = cd_range_[r][ds][tg];
          // DS (FEAT_LPA2) is in effect for a 4KB or 16KB granule only (§5.4 DS). CD.DS is RES0
          // without IDR5.DS: its entries for CD.DS == 1 are then those for 0, so that the fast
          // path indexes with CD.DS as it is.
          const bool ds_in_effect = ds != 0 && feat.ds && g != 0 && g != 16;
          const unsigned geometry = g == 0 ? 0 : g - 12;  // 2 * (g - 12) / 2
          // Descriptors hold OA[51:48] whatever the IPS (vmsa::walk_params::pa52_64k).
          const bool pa52_64k = g == 16 && oas_ >= 52;
          for (unsigned ps = 0; ps < 8; ++ps) {
            namespace W = detail::walk_word_bytes;
            const unsigned oa = output_bits(ps, g, ds_in_effect);
            k.walk[ps] = std::uint64_t{g} << W::granule_shift | std::uint64_t{oa} << W::oa_bits |
                         std::uint64_t{ds_in_effect} << W::ds |
                         std::uint64_t{pa52_64k} << W::pa52_64k;
            k.beyond_oa[ps] = ~detail::low_mask(oa) | (geometry + (oa >= 52 ? 1U : 0U));
          }
          cd_head_bits_[r][ds][tg] =
              (r == 0 ? B::tbi0 : B::tbi1) | (ds_in_effect ? (r == 0 ? B::sh0 : B::sh1) : 0);
          if (!granule_supported(g) || (r == 0 && !feat.aa64_tables)) continue;
          // CDTxSZInvalid without STT.
          const unsigned min_txsz = (g == 16 || ds_in_effect) && feat.vax52 ? 12U : 16U;
          cd_txsz_ok_[r][ds][tg] = detail::low_mask(40) & ~detail::low_mask(min_txsz);
        }
      }
    }
  }

  smmu_features f_{};
  unsigned oas_ = 48;
  unsigned ias_ = 48;
  std::uint32_t granules_ = 0;    // 1 << shift for each supported granule
  std::uint8_t ps_bits_[8] = {};  // min(address_bits(PS), OAS, 52) per S2PS / CD.IPS encoding
  std::uint8_t s2_min_t0sz_4k16k_ = 16;
  std::uint8_t s2_min_t0sz_64k_ = 12;
  // Bit v set when the value v is ILLEGAL.
  std::uint8_t stall_bad_ = 0;  // v = S
  std::uint8_t endi_bad_ = 0;   // v = ENDI
  std::uint8_t httu_bad_ = 0;   // v = HA | HD << 1
  std::uint8_t ips_bits_[8] = {};
  unsigned ds_feature_ = 0;
  std::uint64_t cd_mask_ = 0;
  std::uint64_t cd_expect_ = 0;
  detail::ste_mode_check ste_check_[4] = {};
  std::uint64_t s2_t0sz_ok_[4][4] = {};
  detail::cd_range_check cd_range_[2][2][4] = {};
  std::uint64_t cd_txsz_ok_[2][2][4] = {};
  std::uint64_t cd_head_bits_[2][2][4] = {};
};

namespace detail {
// decode_limits' interface computed from the features on demand: what the smmu_features
// overloads of the decoders use, so that a caller without cached limits pays only for the
// limits a decode reaches.
class live_limits {
 public:
  constexpr explicit live_limits(const smmu_features& feat) noexcept : f_(feat) {}
  [[nodiscard]] constexpr const smmu_features& features() const noexcept { return f_; }
  [[nodiscard]] constexpr unsigned oas_bits() const noexcept { return f_.oas_bits(); }
  [[nodiscard]] constexpr unsigned ias_bits() const noexcept { return f_.ias_bits(); }
  [[nodiscard]] constexpr bool granule_supported(unsigned shift) const noexcept {
    return f_.granule_supported(shift);
  }
  [[nodiscard]] constexpr unsigned output_bits(unsigned ps, unsigned granule_shift,
                                               bool ds) const noexcept {
    unsigned bits = smmuv3::address_bits(static_cast<smmuv3::address_size>(ps & 7U));
    const unsigned oas = f_.oas_bits();
    bits = bits < oas ? bits : oas;
    const unsigned cap = granule_shift == 16 || ds ? 52U : 48U;
    return bits < cap ? bits : cap;
  }
  [[nodiscard]] constexpr unsigned s2_min_t0sz(unsigned granule_shift) const noexcept {
    const unsigned min_ias = 64 - f_.ias_bits();
    const unsigned floor = granule_shift == 16 ? 12U : 16U;
    return min_ias > floor ? min_ias : floor;
  }
  [[nodiscard]] constexpr bool stall_illegal(bool s) const noexcept {
    return (s && f_.stall_model == stall_model::terminate_only) ||
           (!s && f_.stall_model == stall_model::stall_forced);
  }
  [[nodiscard]] constexpr bool endi_illegal(bool endi) const noexcept {
    return (f_.ttendian == tt_endian::little && endi) || (f_.ttendian == tt_endian::big && !endi);
  }
  [[nodiscard]] constexpr bool httu_illegal(bool ha, bool hd) const noexcept {
    return ((ha || hd) && f_.httu == httu::none) || (hd && f_.httu == httu::access_flag);
  }

 private:
  const smmu_features& f_;
};
}  // namespace detail

// SMMU_STRTAB_BASE / SMMU_STRTAB_BASE_CFG (IHI 0070 §6.3.24, §6.3.25), decoded.
struct stream_table_config {
  std::uint64_t base = 0;  // STRTAB_BASE.ADDR, bits [55:6]
  bool two_level = false;  // FMT == 0b01
  unsigned split = 6;      // SPLIT; reserved values behave as 6
  unsigned log2size = 0;   // LOG2SIZE
};

// The SMMU's register state a translation depends on.
struct smmu_state {
  smmu_features features{};
  bool smmuen = true;       // SMMU_CR0.SMMUEN
  bool gbpa_abort = false;  // SMMU_GBPA.ABORT, used when SMMUEN == 0
  bool recinvsid = true;    // SMMU_CR2.RECINVSID: record C_BAD_STREAMID
  stream_table_config strtab{};
};

}  // namespace vsmmu::walk
