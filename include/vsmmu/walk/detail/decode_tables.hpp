// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstdint>

// Granule geometry and the per-feature-set tables of the STE and CD decoders' fast path
// (ste_config.hpp, cd_config.hpp). decode_limits (smmu_features.hpp) fills the tables once per
// feature set; the fast path then accepts a common valid entry with a few mask/compare
// operations and table lookups, and leaves everything else, ILLEGAL or unusual, to the
// rule-by-rule decoder, which names the error. Self-contained (no vmsa.hpp), so that
// smmu_features.hpp stays cheap to include.
namespace vsmmu::walk::detail {

// smmuv3::address_bits of each address_size encoding (IHI 0070 §6.3.6 OAS; checked against it in
// smmu_features.hpp).
inline constexpr std::uint8_t address_bits_of[8] = {32, 36, 40, 42, 44, 48, 52, 56};

// Granule shift of a TG0 / S2TG encoding (0 when reserved), and of a CD.TG1 encoding.
inline constexpr std::uint8_t tg0_shift[4] = {12, 16, 14, 0};
inline constexpr std::uint8_t tg1_shift[4] = {0, 14, 12, 16};

[[nodiscard]] constexpr std::uint64_t low_mask(unsigned n) noexcept {
  return n >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
}

// Lowest input-address bit a lookup at `level` resolves with granule `g` (vmsa::level_lsb).
[[nodiscard]] constexpr unsigned lookup_lsb(unsigned g, int level) noexcept {
  return g + static_cast<unsigned>(3 - level) * (g - 3);
}

// AArch64.S2StartLevel / S2InvalidSL / S2InconsistentSL without DS and FEAT_TTST: the start
// level S2SL0 selects, or -1 when invalid or inconsistent with the input size.
[[nodiscard]] constexpr int s2_start_level(unsigned g, unsigned sl0, unsigned ia_bits,
                                           unsigned pa_max) noexcept {
  int level = -1;
  switch (g) {
    case 12: {
      constexpr int lv[] = {2, 1, 0, -1};  // 0b11 (level 3) needs FEAT_TTST
      level = lv[sl0 & 3];
      if (level == 0 && pa_max < 44) level = -1;
      break;
    }
    case 14: {
      constexpr int lv[] = {3, 2, 1, -1};  // 0b11 (level 0) needs DS
      level = lv[sl0 & 3];
      if (level == 1 && pa_max < 42) level = -1;
      break;
    }
    case 16: {
      constexpr int lv[] = {3, 2, 1, -1};
      level = lv[sl0 & 3];
      if (level == 1 && pa_max < 44) level = -1;
      break;
    }
    default:
      return -1;
  }
  if (level < 0) return -1;
  // The start level resolves at least one bit and at most stride + 4 (16 concatenated tables).
  const unsigned lsb = lookup_lsb(g, level);
  if (ia_bits < lsb + 1 || ia_bits > lsb + (g - 3) + 4) return -1;
  return level;
}

// A start level and log2 of the start table's size in bytes (AArch64.S1TTBaseAddress /
// S2TTBaseAddress tsize), before the 64-byte minimum of a 52-bit BADDR.
struct start_table {
  std::int8_t level = 0;
  std::uint8_t shift = 0;
};

// Stage 1 (AArch64.S1StartLevel), per TxSZ and geometry index (cd_range_check::geometry: the
// granule shift - 12, plus 1 when the effective IPS is 52 bits);
// filled for the TxSZ a valid CD can hold (12..39), zero elsewhere. Two arrays of words with the
// same index, [TxSZ][geometry]: the fast path addresses both from one index register.
inline constexpr unsigned s1_txsz_end = 40;
struct s1_geometry_table {
  // 64 - TxSZ and the start level as bytes 1 and 2 of a walk word (walk_word_bytes).
  std::uint64_t ia_level[s1_txsz_end][8];
  // The bits of TTBx kept as the start table's base: aligned to the table's size
  // (AArch64.S1TTBaseAddress), at least 64 bytes with a 52-bit output.
  std::uint64_t base_mask[s1_txsz_end][8];
};

[[nodiscard]] constexpr s1_geometry_table make_s1_geometry() noexcept {
  s1_geometry_table t{};
  for (unsigned k = 0; k < 6; ++k) {
    const unsigned g = 12 + 2 * (k / 2);
    for (unsigned txsz = 12; txsz < s1_txsz_end; ++txsz) {
      const unsigned ia = 64 - txsz;
      const int level = 3 - static_cast<int>((ia - 1 - g) / (g - 3));
      const unsigned shift = ia - lookup_lsb(g, level) + 3;
      t.ia_level[txsz][k] =
          std::uint64_t{ia} << 8 | std::uint64_t{static_cast<unsigned>(level) & 0xffU} << 16;
      t.base_mask[txsz][k] = ~std::uint64_t{0} << ((k & 1U) != 0 && shift < 6 ? 6 : shift);
    }
  }
  return t;
}
inline constexpr s1_geometry_table s1_geometry = make_s1_geometry();

// Stage 2: the level S2SL0 names per S2TG encoding (as s2_start_level: 4KB {2, 1, 0},
// 16KB and 64KB {3, 2, 1}; -1 reserved or unsupported), and its lookup_lsb.
struct s2_geometry_table {
  std::int8_t level[4][4];
  std::uint8_t lsb[4][4];
};

[[nodiscard]] constexpr s2_geometry_table make_s2_geometry() noexcept {
  s2_geometry_table t{};
  for (unsigned tg = 0; tg < 4; ++tg) {
    const unsigned g = tg0_shift[tg];
    for (unsigned sl0 = 0; sl0 < 4; ++sl0) {
      const int level = g == 0 || sl0 == 3 ? -1 : (g == 12 ? 2 : 3) - static_cast<int>(sl0);
      t.level[tg][sl0] = static_cast<std::int8_t>(level);
      t.lsb[tg][sl0] = static_cast<std::uint8_t>(level < 0 ? 0 : lookup_lsb(g, level));
    }
  }
  return t;
}
inline constexpr s2_geometry_table s2_geometry = make_s2_geometry();

// Bits of the STE's and the CD's dwords 0-2 the fast path reads, at their positions in the
// dword (IHI 0070 §5.2, §5.4); ste_config.hpp and cd_config.hpp check them against the layouts.
namespace ste_bits {
inline constexpr std::uint64_t s1fmt = std::uint64_t{3} << 4;                     // dword 0
inline constexpr std::uint64_t s1contextptr = low_mask(56) & ~low_mask(6);        // dword 0
inline constexpr std::uint64_t s1stalld = std::uint64_t{1} << (91 - 64);          // dword 1
inline constexpr std::uint64_t eats = std::uint64_t{3} << (92 - 64);              // dword 1
inline constexpr std::uint64_t strw0 = std::uint64_t{1} << (94 - 64);             // dword 1
inline constexpr std::uint64_t s2vmid_high = std::uint64_t{0xff} << (136 - 128);  // dword 2
inline constexpr std::uint64_t s2aa64 = std::uint64_t{1} << (179 - 128);
inline constexpr std::uint64_t s2endi = std::uint64_t{1} << (180 - 128);
inline constexpr std::uint64_t s2hd = std::uint64_t{1} << (183 - 128);
inline constexpr std::uint64_t s2ha = std::uint64_t{1} << (184 - 128);
inline constexpr std::uint64_t s2s = std::uint64_t{1} << (185 - 128);
}  // namespace ste_bits

namespace cd_bits {  // dword 0
inline constexpr std::uint64_t epd0 = std::uint64_t{1} << 14;
inline constexpr std::uint64_t endi = std::uint64_t{1} << 15;
inline constexpr std::uint64_t v = std::uint64_t{1} << 31;
inline constexpr std::uint64_t aa64 = std::uint64_t{1} << 41;
inline constexpr std::uint64_t hd = std::uint64_t{1} << 42;
inline constexpr std::uint64_t ha = std::uint64_t{1} << 43;
inline constexpr std::uint64_t s = std::uint64_t{1} << 44;
inline constexpr std::uint64_t a = std::uint64_t{1} << 46;
inline constexpr std::uint64_t asid_high = std::uint64_t{0xff} << 56;
inline constexpr std::uint64_t sh0 = std::uint64_t{3} << 12;
inline constexpr std::uint64_t sh1 = std::uint64_t{3} << 28;
inline constexpr std::uint64_t tbi0 = std::uint64_t{1} << 38;
inline constexpr std::uint64_t tbi1 = std::uint64_t{1} << 39;
}  // namespace cd_bits

// What the STE fast path checks for one Config 0b1xx (index Config & 3): dwords 0-2 must equal
// `expect` under `mask`. Conservative: a legal entry may fail it (it then takes the rule-by-rule
// decoder), an entry that passes it, with the S1CDMax and stage 2 checks below, is legal.
struct ste_mode_check {
  std::uint64_t mask[3] = {};
  std::uint64_t expect[3] = {};
  std::uint32_t cdmax_ok = ~std::uint32_t{0};  // bit v: S1CDMax v legal
  std::uint8_t cdmax_keep = 0;                 // S1CDMax as decoded: the field & cdmax_keep
  bool strw_used = false;                      // STRW is not IGNORED (IgnoreSTESTRW)
  bool vmid_used = false;                      // S2VMID is not IGNORED, unless STRW says so
  std::uint8_t reserved[9] = {};               // 64 bytes: the index is a shift
};
static_assert(sizeof(ste_mode_check) == 64);

// The bytes of vmsa::walk_params from granule_shift on, little-endian, as one word (the CD
// fast path stores a range's in one go; cd_config.hpp checks the layout).
namespace walk_word_bytes {
inline constexpr unsigned granule_shift = 0;
inline constexpr unsigned ia_bits = 8;
inline constexpr unsigned start_level = 16;
inline constexpr unsigned oa_bits = 24;
inline constexpr unsigned big_endian = 32;
inline constexpr unsigned stage2 = 40;
inline constexpr unsigned ds = 48;
inline constexpr unsigned pa52_64k = 56;
}  // namespace walk_word_bytes

// One VA range of a CD under one TGx encoding and one value of IDR5.DS && CD.DS: per IPS
// encoding, the walk word's granule_shift, oa_bits (the effective IPS), ds (DS in effect for
// the range: a 4KB or 16KB granule) and pa52_64k (64KB with an OAS of 52 bits); and the bits
// of a table address beyond that output size, with the s1_geometry index (granule and 52-bit
// output) in bits [2:0], below bit 4: a table address (TTBx, S2TTB) has bits [3:0] zero, so
// that the index is free in the word the range check loads anyway. 128 bytes: the index into
// decode_limits' table is a shift.
struct cd_range_check {
  std::uint64_t walk[8] = {};
  // ~low_mask(oa(ips)): TTBx / S2TTB must have none of those bits set; the geometry index in
  // bits [2:0], which a table address never has.
  std::uint64_t beyond_oa[8] = {};

  [[nodiscard]] constexpr unsigned granule() const noexcept {
    return static_cast<unsigned>(walk[0] >> walk_word_bytes::granule_shift) & 0xffU;
  }
  [[nodiscard]] constexpr unsigned oa(unsigned ips) const noexcept {
    return static_cast<unsigned>(walk[ips & 7U] >> walk_word_bytes::oa_bits) & 0xffU;
  }
  [[nodiscard]] constexpr bool ds() const noexcept {
    return ((walk[0] >> walk_word_bytes::ds) & 1U) != 0;
  }
  [[nodiscard]] constexpr bool pa52_64k() const noexcept {
    return ((walk[0] >> walk_word_bytes::pa52_64k) & 1U) != 0;
  }
  [[nodiscard]] constexpr unsigned geometry(unsigned ips) const noexcept {
    return static_cast<unsigned>(beyond_oa[ips & 7U]) & geometry_bits;
  }
  static constexpr unsigned geometry_bits = 7;

};

}  // namespace vsmmu::walk::detail
