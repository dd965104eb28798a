// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/walk/cd_config.hpp>
#include <vsmmu/walk/result.hpp>
#include <vsmmu/walk/stage1.hpp>
#include <vsmmu/walk/stage2.hpp>
#include <vsmmu/walk/vmsa.hpp>

#include <bit>
#include <cstdint>
#include <type_traits>
#include <utility>

// The nested walk (stage 1 through stage 2, then the output's stage 2) of the usual
// configuration, succeeding or declining: 48-bit output at both stages, little-endian tables, no
// HTTU. It answers only a walk that ends in a translation; on anything else (a fault, a
// descriptor it does not take) it declines and translate() walks again with the general walk,
// which names the fault. Declining is free of effects: the memory is only read and the walk cache
// gets only valid table descriptors, as the general walk records them. Because it never has to
// say why a descriptor is refused, each descriptor is accepted or refused by one masked compare
// (type, AF, the address size check, S2AP[0]) where the general walk tests them one by one; that,
// and the stage 1 levels with their stage 2 lookups in registers, is what it saves.
// tests/walk/usual_nested_test.cpp checks it against the general walk on random descriptors.
namespace vsmmu::walk::detail {

// The most reads nested_usual makes before it answers or declines: stage 1 levels 0-3, each
// with its stage 2 lookup (levels 0-3) and its own read, then the output's stage 2 (start levels
// below 0, which only DS tables have, are declined before any read). A translation the route
// declines reads this much more than the general walk alone.
inline constexpr unsigned usual_nested_max_reads = 4 * (4 + 1) + 4;

// A stage 2 leaf of nested_usual: the descriptor and the walk's geometry of it.
struct usual_s2_leaf {
  std::uint64_t descriptor = 0;
  std::uint64_t output = 0;
  unsigned size_shift = 0;
  int level = 0;
};

// Stage 2 of `ipa` through the general walk (bits48, little-endian) with the walk cache `wc`
// (recording when it is not const): a leaf whose output is within the output size and whose AF
// is set (or S2AFFD), else false.
template <class M, class Cache>
[[nodiscard, gnu::always_inline]] constexpr bool s2_usual_walk(const M& mem, const s2_plan& p,
                                                               std::uint64_t ipa, Cache& wc,
                                                               usual_s2_leaf& out) noexcept {
  if ((ipa & p.beyond_ia) != 0) return false;
  vmsa::leaf l{};
  vmsa::identity_pa identity;
  if (vmsa::detail::walk_levels<vmsa::detail::oa_format::bits48, false>(mem, p.walk, ipa, l,
                                                                       identity, wc) !=
      vmsa::walk_stop::leaf) {
    return false;
  }
  if ((l.descriptor & vmsa::desc_af) == 0 && !p.affd) return false;
  out = {l.descriptor, l.output_address, l.size_shift, l.level};
  return true;
}

// The nested walk of req.va after the VA checks, through stage 1 plan `s1p` of `range`: see
// nested_usual.
template <class M>
[[nodiscard, gnu::always_inline]] constexpr bool nested_usual_walk(
    const M& mem, const context_config& c, const tt_range& range, const vmsa::walk_plan& s1p,
    const s2_plan& s2p, std::uint8_t s2_granule_shift, vmsa::walk_cache& wc,
    const s1_request& req, translation& x) noexcept {
  const std::uint64_t va = req.va;
  if (s1p.format != vmsa::detail::oa_format::bits48 || s1p.big_endian || s1p.start_level < 0) {
    return false;
  }
  // The stage 2 walk cache's level 3 table (s2_leaf_cached) as a tag: an IPA whose bits from
  // keep_shift up equal the cached walk's is in that table, and within the IPA size (the cached
  // one is). An odd tag matches nothing (descriptor addresses are 8-byte aligned). Reloaded after
  // a lookup that walks.
  const vmsa::walk_plan& q = s2p.walk;
  const std::uint64_t s2_index_mask = q.index_mask;
  const std::uint64_t s2_oa_mask = q.table_oa_mask;
  const unsigned leaf_shift = q.level_stride;  // the index shift at level 3: granule - 3
  // A level 3 page (type 0b11) with AF (unless S2AFFD), S2AP[0] and nothing beyond the output;
  // under S2PTW not Device memory (MemAttr[3:2] == 0b00).
  const std::uint64_t s2_need = 3 | (1U << 6) | (s2p.affd ? 0 : vmsa::desc_af);
  const std::uint64_t s2_mask = s2_need | q.table_beyond_oa;
  const std::uint64_t not_ptw = s2p.ptw ? 0 : 0x30;
  std::uint64_t keep_mask = 0;
  std::uint64_t leaf_tag = 1;
  std::uint64_t leaf_table = 0;
  auto reload = [&] {
    if (wc.deepest == 3 && (wc.ia & s2p.beyond_ia) == 0) {
      keep_mask = ~vmsa::mask_below(wc.keep_shift);
      leaf_tag = wc.ia & keep_mask;
      leaf_table = wc.table[4];
    }
  };
  reload();

  // Stage 1, a level at a time; each table descriptor's IPA through stage 2.
  const std::uint64_t index_mask = s1p.index_mask;
  const std::uint64_t oa_mask = s1p.table_oa_mask;
  const std::uint64_t table_refused = 3 | s1p.table_beyond_oa;  // a table: exactly 0b11 of it
  std::uint64_t table = s1p.table_base;
  unsigned shift = s1p.start_lsb - 3;
  std::uint64_t level_index = s1p.first_index_mask;
  std::uint64_t tables = 0;
  std::uint64_t d = 0;
  int level = s1p.start_level;
  for (;; ++level) {
    const std::uint64_t at = table | ((va >> shift) & level_index);
    std::uint64_t pa = 0;
    if ((at & keep_mask) == leaf_tag) {
      const memory::read_result r = mem.read64(leaf_table | ((at >> leaf_shift) & s2_index_mask));
      if (!r.ok() || (r.value & s2_mask) != s2_need || ((r.value | not_ptw) & 0x30) == 0) {
        return false;
      }
      pa = (r.value & s2_oa_mask) | (at & (s2_index_mask | 7));
    } else {
      usual_s2_leaf s2;
      if (!s2_usual_walk(mem, s2p, at, wc, s2) || !s2_structure_ok(s2p, s2.descriptor)) {
        return false;
      }
      pa = s2.output;
      reload();
    }
    const memory::read_result r = mem.read64(pa);
    if (!r.ok()) return false;
    d = r.value;
    if (level == 3 || (d & table_refused) != 3) break;
    table = d & oa_mask;
    tables |= d;
    shift -= s1p.level_stride;
    level_index = index_mask;
  }
  // A page at level 3, a block where the granule has them.
  if (level == 3 ? (d & 3) != 3 : ((d & 3) != 1 || ((s1p.block_levels >> (level + 1)) & 1) == 0)) {
    return false;
  }
  if ((d & vmsa::desc_af) == 0 && !c.affd) return false;
  const unsigned lsb = shift + 3;
  const std::uint64_t in_block = (std::uint64_t{1} << lsb) - 1;
  const std::uint64_t ipa = (d & vmsa::mask_below(48) & ~in_block) | (va & in_block);
  if ((ipa & s1p.beyond_oa) != 0) return false;

  // The leaf as s1_lookup takes it.
  vmsa::leaf l;
  l.descriptor = d;
  l.ap_table = static_cast<std::uint8_t>((tables >> 61) & 3);
  l.uxn_table = ((tables >> 60) & 1) != 0;
  l.pxn_table = ((tables >> 59) & 1) != 0;
  unsigned set = s1_permission_set_fast(l, c);
  if (req.privileged && range.e0pd && !c.el2) set &= 7U;
  const unsigned bits = req.privileged ? set & 7U : set >> 3;
  if ((bits & (req.exec ? 4U : req.write ? 2U : 1U)) == 0) return false;

  // The output's stage 2: the walk cache used, not updated (translate()'s last lookup).
  usual_s2_leaf s2;
  if (!s2_usual_walk(mem, s2p, ipa, std::as_const(wc), s2)) return false;
  const std::uint64_t e = s2.descriptor;
  const bool s2r = ((e >> 6) & 1) != 0;
  const bool s2w = ((e >> 7) & 1) != 0;
  const bool s2x = ((e >> 54) & 1) == 0;
  if (!(req.exec ? s2x : req.write ? s2w : s2r)) return false;

  const unsigned oa_bits =
      static_cast<unsigned>(std::countr_zero(s1p.beyond_oa | (std::uint64_t{1} << 63)));
  const unsigned s1_size = lsb < oa_bits ? lsb : oa_bits;
  x.ipa = ipa;
  x.s1_size_shift = s1_size;
  x.s1_level = level;
  x.s1_granule_shift = static_cast<std::uint8_t>(range.walk.granule_shift);
  x.s1_perm_set = static_cast<std::uint8_t>(set);
  x.s1_dbm_clean = false;
  store_s1_attributes(x, d, c, range);
  x.output_address = s2.output;
  x.s2_mem_attr = static_cast<std::uint8_t>((e >> 2) & 0xf);
  x.s2_sh = static_cast<std::uint8_t>((e >> 8) & 3);
  x.s2_level = s2.level;
  x.s2_size_shift = s2.size_shift;
  x.s2_perm_set =
      static_cast<std::uint8_t>(((s2r ? 1U : 0U) | (s2w ? 2U : 0U) | (s2x ? 4U : 0U)) * 9U);
  x.s2_dbm_clean = false;
  x.s2_granule_shift = s2_granule_shift;
  x.size_shift = s1_size < s2.size_shift ? s1_size : s2.size_shift;
  return true;
}

// The nested walk of req.va: true with every stage 1 and stage 2 field of `x` written as
// translate()'s general path writes them (ipa, output_address and size_shift included; not
// perm); false when it declines (`x` then partly written), which it does for anything but the
// usual configuration: a stage 2 plan with the leaf path (48-bit output, no HTTU, start level
// below 3), both stages little-endian, a stage 1 range with 48-bit output, a CD without HTTU.
// `plans` as s1_lookup's (the kept stage 1 plans, or nullptr); `wc` the translation's stage 2
// walk cache.
template <class M, class Plans>
[[nodiscard]] constexpr bool nested_usual(const M& mem, const context_config& c, Plans plans,
                                          const s2_plan& s2p, std::uint8_t s2_granule_shift,
                                          vmsa::walk_cache& wc, const s1_request& req,
                                          translation& x) noexcept {
  if (!s2p.leaf_path || s2p.walk.big_endian || s2p.walk.start_level < 0 || c.ha || c.hd) {
    return false;
  }
  const std::uint64_t va = req.va;
  // The VA checks of s1_lookup, declined rather than faulted.
  const unsigned sel = c.el2 ? 0U : static_cast<unsigned>((va >> 55) & 1);
  const tt_range& range = c.tt[sel];
  if (!range.enabled) return false;
  const unsigned addr_top = range.tbi ? 55 : 63;
  const unsigned ia = range.walk.ia_bits;
  const std::uint64_t top = (va >> ia) & vmsa::mask_below(addr_top - ia + 1);
  if (top != (sel == 1 ? vmsa::mask_below(addr_top - ia + 1) : 0)) return false;
  if (range.e0pd && !req.privileged && !c.el2) return false;
  if constexpr (std::is_null_pointer_v<Plans>) {
    return nested_usual_walk(mem, c, range, vmsa::walk_plan(range.walk), s2p, s2_granule_shift,
                             wc, req, x);
  } else {
    return nested_usual_walk(mem, c, range, plans[sel], s2p, s2_granule_shift, wc, req, x);
  }
}

}  // namespace vsmmu::walk::detail
