// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/walk/result.hpp>

#include <cstdint>

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
struct walk_params {
  unsigned granule_shift = 12;  // 12, 14 or 16
  unsigned ia_bits = 48;        // 64 - TxSZ
  int start_level = 0;
  std::uint64_t table_base = 0;  // start-level table, aligned to its size
  unsigned oa_bits = 48;         // effective IPS / S2PS: output beyond it is an Address size fault
  bool big_endian = false;       // CD.ENDI / STE.S2ENDI
  bool stage2 = false;           // descriptors carry stage 2 attributes (no table attributes)
  bool ds = false;  // FEAT_LPA2 with 4KB/16KB: OA[51:50] in descriptor bits [9:8], no SH there
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
// (16KB, level 1).
[[nodiscard]] constexpr bool block_supported(unsigned granule_shift, int level, unsigned oa_bits,
                                             bool ds = false) noexcept {
  switch (granule_shift) {
    case 12:
      return level == 1 || level == 2 || (level == 0 && ds);
    case 14:
      return level == 2 || (level == 1 && ds);
    case 16:
      return level == 2 || (level == 1 && oa_bits >= 52);
    default:
      return false;
  }
}

// The output address a table, block or page descriptor holds: bits [47:lsb], plus OA[51:48]
// from descriptor bits [15:12] with the 64KB granule when 52-bit addresses are in use; with DS
// (4KB/16KB) bits [49:lsb] and OA[51:50] from bits [9:8].
[[nodiscard]] constexpr std::uint64_t output_address(std::uint64_t desc, unsigned lsb,
                                                     unsigned granule_shift, unsigned oa_bits,
                                                     bool ds = false) noexcept {
  if (ds && granule_shift != 16) {
    return (desc & mask_below(50) & ~mask_below(lsb)) | (((desc >> 8) & 3) << 50);
  }
  std::uint64_t oa = desc & mask_below(48) & ~mask_below(lsb);
  if (granule_shift == 16 && oa_bits >= 52) oa |= ((desc >> 12) & 0xf) << 48;
  return oa;
}

// A leaf the walk reached, with the hierarchical attributes collected on the way (stage 1).
struct leaf {
  std::uint64_t descriptor = 0;          // as read (after ENDI)
  std::uint64_t descriptor_address = 0;  // where it is, before table_pa (an IPA when nested)
  std::uint64_t descriptor_pa = 0;       // the PA it was read from
  std::uint64_t output_address = 0;      // block/page base | input offset
  int level = 0;
  unsigned size_shift = 0;
  std::uint8_t ap_table = 0;  // APTable, ORed over the table descriptors
  bool uxn_table = false;     // UXNTable / XNTable
  bool pxn_table = false;
};

namespace detail {
// Where a descriptor keeps the output address bits above the in-place ones.
enum class oa_format : std::uint8_t {
  bits48,    // OA[47:low] in place
  pa52_64k,  // 64KB granule, 52-bit output: OA[51:48] in bits [15:12]
  lpa2,      // DS with 4KB/16KB: OA[49:low] in place, OA[51:50] in bits [9:8]
};

// The walk for one descriptor format, so that the per-level work has no format decisions.
template <oa_format F, class M, class TablePa>
[[nodiscard]] constexpr or_fault<leaf> walk(const M& mem, const walk_params& p, std::uint64_t ia,
                                            const fault_info& fault_template,
                                            TablePa&& table_pa) noexcept {
  or_fault<leaf> res;  // every path returns `res` itself (built in place)
  auto fail = [&res, &fault_template](smmuv3::evt::type t, int level, std::uint64_t fetch = 0) {
    res.fault = fault_template;
    res.fault.type = t;
    res.fault.level = level;
    res.fault.fetch_addr = fetch;
    res.failed = true;
  };
  const unsigned g = p.granule_shift;
  std::uint64_t table = p.table_base;
  leaf& out = res.value;
  // Per-walk constants, so that a level costs its read and a few masks: the start level
  // resolves IA[ia_bits-1:lsb], the others one stride each.
  const unsigned step = stride(g);
  unsigned lsb = level_lsb(g, p.start_level);
  std::uint64_t index_mask = mask_below(p.ia_bits - lsb);
  const std::uint64_t next_index_mask = mask_below(step);
  constexpr unsigned oa_top = F == oa_format::lpa2 ? 50 : 48;  // bits [oa_top-1:low] in place
  const std::uint64_t beyond_oa = ~mask_below(p.oa_bits);
  auto oa_of = [](std::uint64_t desc, std::uint64_t mask) {  // mask: OA[oa_top-1:low]
    if constexpr (F == oa_format::lpa2) return (desc & mask) | (((desc >> 8) & 3) << 50);
    if constexpr (F == oa_format::pa52_64k) return (desc & mask) | (((desc >> 12) & 0xf) << 48);
    return desc & mask;
  };
  const std::uint64_t table_oa_mask = mask_below(oa_top) & ~mask_below(g);
  for (int level = p.start_level; level <= 3; ++level, lsb -= step) {
    const std::uint64_t index = (ia >> lsb) & index_mask;
    index_mask = next_index_mask;
    const std::uint64_t at = table | (index << 3);
    const auto pa = table_pa(at);
    if (!pa.ok()) {
      res.fault = pa.fault;
      res.failed = true;
      return res;
    }
    const auto r = mem.read64(pa.value);
    if (!r.ok()) {
      fail(smmuv3::evt::type::f_walk_eabt, level, pa.value);
      return res;
    }
    const std::uint64_t d = p.big_endian ? byteswap64(r.value) : r.value;

    if ((d & desc_valid) == 0) {
      fail(smmuv3::evt::type::f_translation, level);
      return res;
    }
    if (level < 3 && (d & desc_table) != 0) {
      const std::uint64_t next = oa_of(d, table_oa_mask);
      if ((next & beyond_oa) != 0) {
        fail(smmuv3::evt::type::f_addr_size, level);
        return res;
      }
      if (!p.stage2) {
        out.ap_table |= static_cast<std::uint8_t>((d >> 61) & 3);
        out.uxn_table = out.uxn_table || ((d >> 60) & 1) != 0;
        out.pxn_table = out.pxn_table || ((d >> 59) & 1) != 0;
      }
      table = next;
      continue;
    }
    // A level 3 descriptor with bit[1] == 0 is reserved; a block where the granule has none is
    // invalid: both are Translation faults.
    if (level == 3 ? (d & desc_table) == 0
                   : !block_supported(g, level, p.oa_bits, F == oa_format::lpa2)) {
      fail(smmuv3::evt::type::f_translation, level);
      return res;
    }
    const std::uint64_t in_block = mask_below(lsb);
    const std::uint64_t base = oa_of(d, mask_below(oa_top) & ~in_block);
    if ((base & beyond_oa) != 0) {
      fail(smmuv3::evt::type::f_addr_size, level);
      return res;
    }
    out.descriptor = d;
    out.descriptor_address = at;
    out.descriptor_pa = pa.value;
    out.level = level;
    out.size_shift = lsb;
    out.output_address = base | (ia & in_block);
    return res;
  }
  // Unreachable for a validated start level in 0..3; kept as a fault, not UB.
  fail(smmuv3::evt::type::f_translation, 3);
  return res;
}
}  // namespace detail

// Walks `ia` through the tables of `p`. `table_pa(addr)` turns each descriptor address into the
// PA to fetch (identity without stage 2; a stage 2 translation with CLASS == TT when nested) and
// returns or_fault<std::uint64_t>. `fault_template` supplies S2 / CLASS / IPA for faults this
// walk reports; the walk fills type, level and (for F_WALK_EABT) FetchAddr.
template <memory::readable_memory M, class TablePa>
[[nodiscard]] constexpr or_fault<leaf> walk(const M& mem, const walk_params& p, std::uint64_t ia,
                                            const fault_info& fault_template,
                                            TablePa&& table_pa) noexcept {
  using detail::oa_format;
  if (p.ds && p.granule_shift != 16) {
    return detail::walk<oa_format::lpa2>(mem, p, ia, fault_template, table_pa);
  }
  if (p.granule_shift == 16 && p.oa_bits >= 52) {
    return detail::walk<oa_format::pa52_64k>(mem, p, ia, fault_template, table_pa);
  }
  return detail::walk<oa_format::bits48>(mem, p, ia, fault_template, table_pa);
}

}  // namespace vmsa
}  // namespace vsmmu::walk
