// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/walk/result.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

// The VMSAv8-64 translation table walk shared by stage 1 and stage 2 (DDI 0487 D8.2-D8.4;
// pseudocode AArch64.S1Walk / AArch64.S2Walk, J1.1.4). 64-bit descriptors, 4KB/16KB/64KB
// granules, 52-bit output addresses with the 64KB granule (descriptor bits [15:12] are
// OA[51:48]) and, at stage 1, with FEAT_LPA2 (CD.DS) for 4KB/16KB (OA[51:50] in bits [9:8],
// start level -1 for 52-bit VAs with 4KB); no VMSAv9-128.
//
// The walk is bounded by the architecture: at most four lookups (levels 0-3), each one 8-byte
// read; every descriptor the guest wrote is checked before use.
namespace vsmmu::walk {

namespace vmsa {

[[nodiscard]] constexpr std::uint64_t mask_below(unsigned n) noexcept {
  return n >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
}

[[nodiscard]] constexpr std::uint64_t byteswap64(std::uint64_t v) noexcept {
  std::uint64_t r = 0;
  for (unsigned i = 0; i < 8; ++i) r = (r << 8) | ((v >> (8 * i)) & 0xff);
  return r;
}

// Descriptor bits (DDI 0487 D8.3).
inline constexpr std::uint64_t desc_valid = 1U << 0;
inline constexpr std::uint64_t desc_table = 1U << 1;  // table (levels 0-2) or page (level 3)
inline constexpr std::uint64_t desc_af = 1U << 10;
inline constexpr std::uint64_t desc_ap2 = 1U << 7;    // stage 1 AP[2]: read-only
inline constexpr std::uint64_t desc_s2ap1 = 1U << 7;  // stage 2 S2AP[1]: writable
inline constexpr std::uint64_t desc_dbm = std::uint64_t{1} << 51;
inline constexpr unsigned desc_contiguous_bit = 52;

// Everything a walk needs, derived from a validated CD (stage 1) or STE (stage 2).
// 16 bytes, the table base first and one byte per field: the decoders write it in two stores
// and a default one is two constants.
struct walk_params {
  std::uint64_t table_base = 0;     // start-level table, aligned to its size
  std::uint8_t granule_shift = 12;  // 12, 14 or 16
  std::uint8_t ia_bits = 48;        // 64 - TxSZ
  std::int8_t start_level = 0;
  std::uint8_t oa_bits = 48;  // effective IPS / S2PS: output beyond it is an Address size fault
  bool big_endian = false;    // CD.ENDI / STE.S2ENDI
  bool stage2 = false;        // descriptors carry stage 2 attributes (no table attributes)
  bool ds = false;  // FEAT_LPA2 with 4KB/16KB: OA[51:50] in descriptor bits [9:8], no SH there
  // The 64KB granule on an SMMU whose OAS is 52 bits or more: descriptor bits [15:12] are
  // OA[51:48] and a level 1 block is valid, whatever the effective IPS / S2PS (oa_bits), which
  // only bounds the output. AArch64.NextTableBase, AArch64.S1LeafBase/S2LeafBase and
  // AArch64.BlockDescSupported test AArch64.PAMax() >= 52; an SMMU's PAMax is its OAS
  // (IHI 0070 §3.4: translation consistent with Armv8-A, the OAS the system's PA size).
  bool pa52_64k = false;
};

[[nodiscard]] constexpr unsigned stride(unsigned granule_shift) noexcept {
  return granule_shift - 3;
}

// Lowest address bit a lookup at `level` resolves (also log2 of its block or page size).
[[nodiscard]] constexpr unsigned level_lsb(unsigned granule_shift, int level) noexcept {
  return granule_shift + static_cast<unsigned>(3 - level) * stride(granule_shift);
}

// AArch64.S1StartLevel: the level at which an input of ia_bits starts.
[[nodiscard]] constexpr int start_level_for(unsigned granule_shift, unsigned ia_bits) noexcept {
  // Constant divisors (a multiply each) rather than a division by the stride (tens of cycles).
  const unsigned n = ia_bits - 1 - granule_shift;
  const unsigned q = granule_shift == 12   ? n / 9
                     : granule_shift == 14 ? n / 11
                     : granule_shift == 16 ? n / 13
                                           : n / stride(granule_shift);
  return 3 - static_cast<int>(q);
}

// log2 of the size in bytes of the start-level table (AArch64.S1TTBaseAddress tsize), at least
// 64 bytes when BADDR expresses 52 bits (64KB granule, 52-bit output).
[[nodiscard]] constexpr unsigned start_table_shift(unsigned granule_shift, unsigned ia_bits,
                                                   int start_level, bool pa52) noexcept {
  const unsigned t = ia_bits - level_lsb(granule_shift, start_level) + 3;
  return pa52 && t < 6 ? 6 : t;
}

// AArch64.BlockDescSupported without D128: DS adds 512GB blocks (4KB, level 0) and 64GB blocks
// (16KB, level 1); a PA size (AArch64.PAMax(), the SMMU's OAS: not the effective IPS / S2PS) of
// 52 bits or more adds 4TB blocks (64KB, level 1).
[[nodiscard]] constexpr bool block_supported(unsigned granule_shift, int level, unsigned pa_max,
                                             bool ds = false) noexcept {
  switch (granule_shift) {
    case 12:
      return level == 1 || level == 2 || (level == 0 && ds);
    case 14:
      return level == 2 || (level == 1 && ds);
    case 16:
      return level == 2 || (level == 1 && pa_max >= 52);
    default:
      return false;
  }
}

// The output address a table, block or page descriptor holds: bits [47:lsb], plus OA[51:48]
// from descriptor bits [15:12] with the 64KB granule when the PA size (AArch64.PAMax(), the
// SMMU's OAS: not the effective IPS / S2PS) is 52 bits or more; with DS (4KB/16KB) bits
// [49:lsb] and OA[51:50] from bits [9:8].
[[nodiscard]] constexpr std::uint64_t output_address(std::uint64_t desc, unsigned lsb,
                                                     unsigned granule_shift, unsigned pa_max,
                                                     bool ds = false) noexcept {
  if (ds && granule_shift != 16) {
    return (desc & mask_below(50) & ~mask_below(lsb)) | (((desc >> 8) & 3) << 50);
  }
  std::uint64_t oa = desc & mask_below(48) & ~mask_below(lsb);
  if (granule_shift == 16 && pa_max >= 52) oa |= ((desc >> 12) & 0xf) << 48;
  return oa;
}

// A leaf the walk reached, with the hierarchical attributes collected on the way (stage 1).
// No member initialisers: a walk writes what its stop defines (see walk_levels), so that the
// leaf a walk fills is not zeroed first; `leaf l{}` for one read beyond that.
struct leaf {
  std::uint64_t descriptor;          // as read (after ENDI)
  std::uint64_t descriptor_address;  // where it is, before table_pa (an IPA when nested)
  std::uint64_t descriptor_pa;       // the PA it was read from
  std::uint64_t output_address;      // block/page base | input offset
  int level;
  unsigned size_shift;    // the block or page, capped to the output range (walk_levels)
  std::uint8_t ap_table;  // APTable, ORed over the table descriptors (stage 1)
  bool uxn_table;         // UXNTable / XNTable
  bool pxn_table;
};

namespace detail {
// Where a descriptor keeps the output address bits above the in-place ones.
enum class oa_format : std::uint8_t {
  bits48,    // OA[47:low] in place
  pa52_64k,  // 64KB granule, OAS >= 52 (walk_params::pa52_64k): OA[51:48] in bits [15:12]
  lpa2,      // DS with 4KB/16KB: OA[49:low] in place, OA[51:50] in bits [9:8]
  invalid,   // parameters no walk can take (see walk_plan)
};

// The output address bits of descriptor `d`: `in_place` selects OA[top-1:low], the format adds
// the bits kept elsewhere.
template <oa_format F>
[[nodiscard]] constexpr std::uint64_t oa_of(std::uint64_t d, std::uint64_t in_place) noexcept {
  if constexpr (F == oa_format::lpa2) return (d & in_place) | (((d >> 8) & 3) << 50);
  if constexpr (F == oa_format::pa52_64k) return (d & in_place) | (((d >> 12) & 0xf) << 48);
  return d & in_place;
}
}  // namespace detail

namespace detail {
// What a walk derives from its granule alone.
struct granule_constants {
  std::uint8_t stride;
  std::uint8_t blocks;       // block_supported as a set: bit (level + 1)
  std::uint8_t blocks_more;  // the same with DS (4KB/16KB) or walk_params::pa52_64k (64KB)
  std::uint64_t table_oa48;  // a table descriptor's next-level address bits: OA[47:granule]
  std::uint64_t table_oa50;  // the same with DS: OA[49:granule]
};
// Blocks: level 1 and 2 with 4KB (DS adds level 0); level 2 with 16KB (DS adds level 1); level 2
// with 64KB (an OAS of 52 bits adds level 1). AArch64.BlockDescSupported; see block_supported.
inline constexpr granule_constants granules[3] = {
    {9, 0b01100, 0b01110, mask_below(48) & ~mask_below(12), mask_below(50) & ~mask_below(12)},
    {11, 0b01000, 0b01100, mask_below(48) & ~mask_below(14), mask_below(50) & ~mask_below(14)},
    {13, 0b01000, 0b01100, mask_below(48) & ~mask_below(16), mask_below(50) & ~mask_below(16)},
};

// The table says what level_lsb, output_address and block_supported say.
[[nodiscard]] constexpr bool granules_agree() noexcept {
  for (unsigned gi = 0; gi < 3; ++gi) {
    const unsigned g = 12 + 2 * gi;
    const granule_constants& k = granules[gi];
    if (k.stride != stride(g) || k.table_oa48 != (mask_below(48) & ~mask_below(g)) ||
        k.table_oa50 != (mask_below(50) & ~mask_below(g))) {
      return false;
    }
    for (int level = -1; level <= 2; ++level) {
      for (const bool more : {false, true}) {
        const bool ds = more && g != 16;
        const unsigned pa_max = more && g == 16 ? 52 : 48;
        const unsigned set = more ? k.blocks_more : k.blocks;
        if ((((set >> (level + 1)) & 1U) != 0) != block_supported(g, level, pa_max, ds)) {
          return false;
        }
      }
    }
  }
  return true;
}
static_assert(granules_agree());
}  // namespace detail

namespace detail {
// The part of a walk plan that follows from the granule, the start level and whether the
// descriptors carry more than 48 output bits (DS with 4KB/16KB, walk_params::pa52_64k with
// 64KB): a plan is a row of this table plus the few fields that depend on the addresses.
struct plan_shape {
  std::uint64_t index_mask = 0;
  std::uint64_t table_oa_mask = 0;
  std::uint8_t start_lsb = 0;
  std::uint8_t level_stride = 9;
  std::int8_t start_level = 3;
  std::uint8_t block_levels = 0;
  oa_format format = oa_format::invalid;
};

// Rows (granule 4KB/16KB/64KB) x (start level -1..3) x (more bits), then one row for the
// parameters no walk can take: a granule other than those three, a start level outside -1..3.
inline constexpr unsigned plan_shape_levels = 5;
inline constexpr unsigned plan_shape_invalid = 3 * plan_shape_levels * 2;

[[nodiscard]] consteval plan_shape shape_for(unsigned gi, int start_level, bool more) noexcept {
  const granule_constants& k = granules[gi];
  const unsigned g = 12 + 2 * gi;
  plan_shape s;
  s.level_stride = k.stride;
  s.start_level = static_cast<std::int8_t>(start_level);
  const unsigned lsb = g + static_cast<unsigned>(3 - start_level) * k.stride;
  s.start_lsb = static_cast<std::uint8_t>(lsb);
  const bool lpa2 = more && g != 16;
  const bool pa52 = more && g == 16;
  // A level shift beyond 64 bits (64KB from level -1) is no walk.
  s.format = lsb >= 64 ? oa_format::invalid
             : lpa2    ? oa_format::lpa2
             : pa52    ? oa_format::pa52_64k
                       : oa_format::bits48;
  s.index_mask = (std::uint64_t{1} << (k.stride + 3)) - 8;
  s.table_oa_mask = lpa2 ? k.table_oa50 : k.table_oa48;
  s.block_levels = more ? k.blocks_more : k.blocks;
  return s;
}

[[nodiscard]] consteval std::array<plan_shape, plan_shape_invalid + 1> make_plan_shapes() noexcept {
  std::array<plan_shape, plan_shape_invalid + 1> t{};
  for (unsigned gi = 0; gi < 3; ++gi) {
    for (unsigned li = 0; li < plan_shape_levels; ++li) {
      for (unsigned more = 0; more < 2; ++more) {
        t[(gi * plan_shape_levels + li) * 2 + more] =
            shape_for(gi, static_cast<int>(li) - 1, more != 0);
      }
    }
  }
  t[plan_shape_invalid] = plan_shape{};  // start level 3, format invalid
  t[plan_shape_invalid].index_mask = (std::uint64_t{1} << (granules[0].stride + 3)) - 8;
  t[plan_shape_invalid].table_oa_mask = granules[0].table_oa48;
  t[plan_shape_invalid].start_lsb = 12;
  return t;
}
inline constexpr std::array<plan_shape, plan_shape_invalid + 1> plan_shapes = make_plan_shapes();
}  // namespace detail

// What a walk of `walk_params` needs at every level, derived once: a translation derives the
// stage 2 plan once and every stage 2 lookup it makes (the CD fetch, each stage 1 table
// descriptor, the output) shares it, so that a level costs its read and a few masks.
struct walk_plan {
  std::uint64_t table_base = 0;
  std::uint64_t first_index_mask = 0;  // IA[ia_bits-1:lsb] at the start level, shifted left 3
  std::uint64_t index_mask = 0;        // one stride at the other levels, shifted left 3
  std::uint64_t table_oa_mask = 0;     // a table descriptor's next-level address in place
  std::uint64_t beyond_oa = 0;         // output bits beyond the effective OA size
  std::uint64_t table_beyond_oa = 0;   // table_oa_mask & beyond_oa
  unsigned start_lsb = 0;              // level_lsb of the start level
  unsigned level_stride = 9;
  int start_level = 0;
  std::uint8_t block_levels = 0;  // bit (level + 1): block descriptors are supported at level
  // The descriptor format; invalid for a start level the walk cannot take (outside -1..3, or a
  // level shift beyond 64 bits) or a granule other than 4KB/16KB/64KB: walk_params from a
  // validated CD/STE never are, and such a walk is a level 3 Translation fault, not UB.
  detail::oa_format format = detail::oa_format::invalid;
  bool big_endian = false;
  bool stage2 = false;

  constexpr walk_plan() noexcept = default;
  // A translation derives one or two of these: one row of detail::plan_shapes (computed at
  // compile time from the granule constants) and the fields that depend on the addresses, with
  // no branches. Inlined, so that a plan used once lives in registers.
  [[gnu::always_inline]] constexpr explicit walk_plan(const walk_params& p) noexcept
      : table_base(p.table_base),
        beyond_oa(~mask_below(p.oa_bits)),
        big_endian(p.big_endian),
        stage2(p.stage2) {
    const unsigned g = p.granule_shift;
    const unsigned gi = (g - 12) >> 1;  // 4KB, 16KB, 64KB: 0, 1, 2
    const unsigned li = static_cast<unsigned>(p.start_level + 1);
    const bool more = g == 16 ? p.pa52_64k : p.ds;
    const bool ok = gi < 3 && (g & 1) == 0 && li < detail::plan_shape_levels;
    const detail::plan_shape& s =
        detail::plan_shapes[ok ? (gi * detail::plan_shape_levels + li) * 2 + (more ? 1U : 0U)
                               : detail::plan_shape_invalid];
    start_lsb = s.start_lsb;
    level_stride = s.level_stride;
    start_level = s.start_level;
    format = s.format;
    index_mask = s.index_mask;
    table_oa_mask = s.table_oa_mask;
    block_levels = s.block_levels;
    first_index_mask = mask_below(p.ia_bits - start_lsb) << 3;
    table_beyond_oa = table_oa_mask & beyond_oa;
  }
};

// What a table_pa callable returns for a descriptor address: the PA to read, or ok == false
// when it has none (the callable has recorded its own fault, e.g. the stage 2 fault of a
// nested walk).
struct table_address {
  std::uint64_t pa = 0;
  bool ok = true;
};

// The table_pa of a walk without stage 2.
struct identity_pa {
  [[nodiscard]] constexpr table_address operator()(std::uint64_t at) const noexcept {
    return {at, true};
  }
};

// Why a walk stopped short of a leaf (a leaf: walk_stop::leaf). The walk's fault type, at
// leaf::level; an external abort reading the descriptor at leaf::descriptor_pa; or table_pa
// refused the descriptor address (table_pa reported its own fault).
enum class walk_stop : std::uint8_t { leaf, translation, addr_size, external_abort, table_pa };

[[nodiscard]] constexpr smmuv3::evt::type fault_type(walk_stop s) noexcept {
  using enum smmuv3::evt::type;
  return s == walk_stop::addr_size        ? f_addr_size
         : s == walk_stop::external_abort ? f_walk_eabt
                                          : f_translation;
}

// A walk cache for the walks of one plan within one translation: the table each level of the
// last walk reached, so that the next walk whose input shares the upper bits starts at the
// deepest table they select instead of re-reading the descriptors above it. What a hardware
// walk cache does (IHI 0070 §3.21, §16.2: intermediate table entries may be cached; only valid
// table descriptors are, as here). Within one translation nothing can invalidate it, so a
// translation keeps one for its stage 2 lookups (the CD fetch, each stage 1 table descriptor, the
// output) and clears it when a descriptor update is retried. Only for walks without
// hierarchical attributes (stage 2): the table descriptors skipped are not ORed again.
struct walk_cache {
  std::uint64_t ia = 0;  // the input of the walk that filled it
  int deepest = -2;      // the deepest level whose table is known; below any start level: empty
  // With deepest above the start level: the lowest input bit that selected the deepest table
  // (level_lsb(deepest - 1)) and the walk's index shift at that level, so that an input equal to
  // `ia` above `keep_shift` goes straight to the deepest table (a nested walk's stage 2 lookups
  // of one stage 1 table after another: one read each).
  unsigned keep_shift = 0;
  unsigned deepest_shift = 0;
  std::uint64_t table[5];  // the table of level l in table[l + 1]; read only once written

  constexpr void clear() noexcept { deepest = -2; }
};

// No walk cache: every walk starts at the plan's start level.
struct no_walk_cache {};

namespace detail {
// The walk for one descriptor format, so that the per-level work has no format decisions: a
// table level is one read, an index, a type test, an address size test and the next address.
// With a walk_cache, the levels whose tables the cache holds for the input's upper bits are
// skipped, and the tables this walk reaches are remembered.
// AnyEndian false: the caller knows the plan is little-endian (no test per level).
template <oa_format F, bool AnyEndian = true, class M, class TablePa, class Cache = no_walk_cache>
[[nodiscard, gnu::always_inline]] constexpr walk_stop walk_levels(const M& mem, const walk_plan& p,
                                                                  std::uint64_t ia, leaf& out,
                                                                  TablePa& table_pa,
                                                                  Cache& cache) noexcept {
  constexpr bool cached = std::is_same_v<std::remove_const_t<Cache>, walk_cache>;
  // A const walk_cache: used, not updated (a translation's last lookup).
  constexpr bool records = cached && !std::is_const_v<Cache>;
  constexpr std::uint64_t in_place = mask_below(F == oa_format::lpa2 ? 50 : 48);
  std::uint64_t table = p.table_base;
  // The index is IA[lsb+stride-1:lsb]; taken as (ia >> (lsb - 3)) & (mask << 3), it is already
  // the byte offset of the descriptor.
  unsigned shift = p.start_lsb - 3;
  std::uint64_t index_mask = p.first_index_mask;
  std::uint64_t tables = 0;  // the table descriptors ORed: their hierarchical attributes
  int level = p.start_level;
  if constexpr (cached) {
    // The table of level l + 1 was selected by IA[top:lsb(l)]: where those bits equal the
    // cached walk's, its descriptors up to level l are the ones this walk would read.
    const std::uint64_t diff = ia ^ cache.ia;
    if (level < cache.deepest && (diff >> cache.keep_shift) == 0) {
      // Every table the cache holds is this input's: the deepest one at once.
      level = cache.deepest;
      table = cache.table[level + 1];
      shift = cache.deepest_shift;
      index_mask = p.index_mask;
    } else {
      while (level < cache.deepest && (diff >> (shift + 3)) == 0) {
        ++level;
        table = cache.table[level + 1];
        shift -= p.level_stride;
        index_mask = p.index_mask;
      }
    }
    if constexpr (records) cache.ia = ia;
  }
  // The walk ends knowing the table of the level it stopped at (the deeper tables were the old
  // input's): recorded once, at the end, rather than at every level.
  auto stop = [&](walk_stop s) {
    if constexpr (records) {
      cache.deepest = level;
      cache.keep_shift = shift + 3 + p.level_stride;  // level_lsb(level - 1): used above the start
      cache.deepest_shift = shift;
    }
    return s;
  };
  std::uint64_t at = 0;
  std::uint64_t pa = 0;
  std::uint64_t d = 0;
  // Bounded: a valid plan starts at level -1..3, and level 3 always leaves the loop.
  for (;; ++level) {
    at = table | ((ia >> shift) & index_mask);
    const table_address ta = table_pa(at);
    if (!ta.ok) {
      out.level = level;
      return stop(walk_stop::table_pa);
    }
    pa = ta.pa;
    const memory::read_result r = mem.read64(pa);
    if (!r.ok()) {
      out.level = level;
      out.descriptor_pa = pa;
      return stop(walk_stop::external_abort);
    }
    d = AnyEndian && p.big_endian ? byteswap64(r.value) : r.value;
    // Valid with bit[1] set below level 3: a table descriptor. Anything else ends the walk.
    if ((d & (desc_valid | desc_table)) != (desc_valid | desc_table) || level == 3) break;
    if constexpr (F == oa_format::bits48) {
      if ((d & p.table_beyond_oa) != 0) {
        out.level = level;
        return stop(walk_stop::addr_size);
      }
      table = d & p.table_oa_mask;
    } else {
      table = oa_of<F>(d, p.table_oa_mask);
      if ((table & p.beyond_oa) != 0) {
        out.level = level;
        return stop(walk_stop::addr_size);
      }
    }
    tables |= d;
    shift -= p.level_stride;
    index_mask = p.index_mask;
    if constexpr (records) cache.table[level + 2] = table;  // level < 3: in range
  }
  out.level = level;
  stop(walk_stop::leaf);  // whatever the leaf holds, its table is known
  // Invalid; a level 3 descriptor with bit[1] == 0 (reserved); a block where the granule has
  // none: Translation faults.
  if ((d & desc_valid) == 0 ||
      (level == 3 ? (d & desc_table) == 0 : ((p.block_levels >> (level + 1)) & 1U) == 0)) {
    return walk_stop::translation;
  }
  const unsigned lsb = shift + 3;
  const std::uint64_t in_block = (std::uint64_t{1} << lsb) - 1;
  // The Address size check is on the final output, the block's offset included (DDI 0487 J1
  // AArch64.S1Walk/S2Walk, "Detect Address Size Fault by final output"; IHI 0070 §3.4 check 2):
  // a DS block (512GB at 4KB level 0, 64GB at 16KB level 1) is larger than a 32- or 36-bit
  // output range, and the input's offset in it can exceed the range where the base does not.
  const std::uint64_t output = oa_of<F>(d, in_place & ~in_block) | (ia & in_block);
  if ((output & p.beyond_oa) != 0) return walk_stop::addr_size;
  out.descriptor = d;
  out.descriptor_address = at;
  out.descriptor_pa = pa;
  // Such a block (its base then 0) translates only its first 2^oa_bits bytes: the size a cache
  // may give the rest of the input range.
  // (Bit 63 set: the count of a nonzero word, one instruction; lsb < 63, so the minimum below is
  // the same even for a plan whose OA size is all 64 bits.)
  const auto oa_bits =
      static_cast<unsigned>(std::countr_zero(p.beyond_oa | (std::uint64_t{1} << 63)));
  out.size_shift = lsb < oa_bits ? lsb : oa_bits;
  out.output_address = output;
  // Stage 2 table descriptors carry no hierarchical attributes.
  const std::uint64_t hierarchical = p.stage2 ? 0 : tables;
  out.ap_table = static_cast<std::uint8_t>((hierarchical >> 61) & 3);
  out.uxn_table = ((hierarchical >> 60) & 1) != 0;
  out.pxn_table = ((hierarchical >> 59) & 1) != 0;
  return walk_stop::leaf;
}
}  // namespace detail

namespace detail {
// walk_into's body, for callers that want it inlined (a stage 1 walk without stage 2).
template <class M, class TablePa>
[[nodiscard, gnu::always_inline]] constexpr walk_stop walk_formats(const M& mem, const walk_plan& p,
                                                                   std::uint64_t ia, leaf& out,
                                                                   TablePa& table_pa) noexcept {
  no_walk_cache none;
  switch (p.format) {
    case oa_format::bits48:
      return walk_levels<oa_format::bits48>(mem, p, ia, out, table_pa, none);
    case oa_format::pa52_64k:
      return walk_levels<oa_format::pa52_64k>(mem, p, ia, out, table_pa, none);
    case oa_format::lpa2:
      return walk_levels<oa_format::lpa2>(mem, p, ia, out, table_pa, none);
    default:  // unreachable for validated parameters; kept as a fault, not UB
      out.level = 3;
      return walk_stop::translation;
  }
}
}  // namespace detail

// Walks `ia` through the tables of `p` into `out`. `table_pa(addr) -> table_address` turns each
// descriptor address into the PA to fetch (identity_pa without stage 2; a stage 2 translation
// with CLASS == TT when nested). On a stop other than a leaf, out.level is the level that
// stopped.
template <memory::readable_memory M, class TablePa>
[[nodiscard]] constexpr walk_stop walk_into(const M& mem, const walk_plan& p, std::uint64_t ia,
                                            leaf& out, TablePa&& table_pa) noexcept {
  return detail::walk_formats(mem, p, ia, out, table_pa);
}

// The Access flag after a walk, at either stage (DDI 0487 D8.5, IHI 0070 §3.13.2): AF == 0
// faults unless AFFD disables the fault or HA has the access set AF.
enum class af_action : std::uint8_t { none, fault, set };
[[nodiscard]] constexpr af_action access_flag(std::uint64_t d, bool affd, bool ha) noexcept {
  if ((d & desc_af) != 0 || affd) return af_action::none;
  return ha ? af_action::set : af_action::fault;
}

// Walks `ia` through the tables of `p`. `table_pa(addr)` turns each descriptor address into the
// PA to fetch (identity without stage 2; a stage 2 translation with CLASS == TT when nested) and
// returns or_fault<std::uint64_t>. `fault_template` supplies S2 / CLASS / IPA for faults this
// walk reports; the walk fills type, level and (for F_WALK_EABT) FetchAddr.
template <memory::readable_memory M, class TablePa>
[[nodiscard]] constexpr or_fault<leaf> walk(const M& mem, const walk_params& p, std::uint64_t ia,
                                            const fault_info& fault_template,
                                            TablePa&& table_pa) noexcept {
  or_fault<leaf> res;  // every path returns `res` itself (built in place)
  auto to_pa = [&](std::uint64_t at) {
    const auto r = table_pa(at);
    if (!r.ok()) res.fault = r.fault;
    return table_address{r.value, r.ok()};
  };
  const walk_stop s = walk_into(mem, walk_plan(p), ia, res.value, to_pa);
  if (s == walk_stop::leaf) return res;
  res.failed = true;
  if (s != walk_stop::table_pa) {
    res.fault = fault_template;
    res.fault.type = fault_type(s);
    res.fault.level = res.value.level;
    res.fault.fetch_addr = s == walk_stop::external_abort ? res.value.descriptor_pa : 0;
  }
  return res;
}

}  // namespace vmsa
}  // namespace vsmmu::walk
