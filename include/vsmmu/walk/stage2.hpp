// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/walk/result.hpp>
#include <vsmmu/walk/vmsa.hpp>

#include <cstdint>
#include <type_traits>

// Stage 2 translation of an IPA (IHI 0070 §3.4 "stage 2 checks", DDI 0487 D8; pseudocode
// AArch64.S2Translate). Its faults report S2 == 1, the IPA, and the CLASS of what was being
// translated: the CD fetch (CD), a stage 1 table descriptor fetch (TT) or the input (IN).
namespace vsmmu::walk {

// The stage 2 half of a validated STE (ste_config.hpp builds it).
struct s2_config {
  vmsa::walk_params walk{};
  std::uint16_t vmid = 0;
  bool affd = false;  // S2AFFD: AF == 0 does not fault
  bool ptw = false;   // S2PTW: CD fetches and stage 1 table walks to Device memory fault
  bool ha = false;    // S2HA: the access flag is managed by hardware (AF == 0 does not fault)
  bool hd = false;
  bool s = false;  // S2S: stall on a translation-related fault
  bool r = false;  // S2R: record a translation-related fault
};

// What stage 2 needs to know about the access it checks.
struct s2_access {
  bool write = false;
  bool exec = false;
  smmuv3::evt::fault_class cls = smmuv3::evt::fault_class::in;
};

struct s2_leaf {
  std::uint64_t pa = 0;
  unsigned size_shift = 0;
  int level = 0;
  permissions perm{};               // S2AP and XN
  bool dbm_clean = false;           // writable only through DBM (S2HD == 1, S2AP[1] == 0)
  bool af_update = false;           // AF == 0 with S2HA == 1 and S2AFFD == 0: the access sets AF
  std::uint64_t descriptor = 0;     // as read (after S2ENDI); with S2HA or S2HD only
  std::uint64_t descriptor_pa = 0;  // where it was read; with S2HA or S2HD only
  std::uint8_t mem_attr = 0;
  std::uint8_t sh = 0;
};

namespace detail {
// Stage 2 descriptor attributes, DDI 0487 D8.3: MemAttr[5:2], S2AP[7:6], SH[9:8], XN[54].
// FEAT_XNX (XN[0] at bit 53 splitting privileged/unprivileged execute) is not modelled.
// With S2HD, DBM (bit 51) makes a writable-clean page writable.
[[nodiscard]] constexpr permissions s2_permissions(std::uint64_t d, bool hd) noexcept {
  const bool dbm = hd && ((d >> 51) & 1) != 0;
  return {((d >> 6) & 1) != 0, ((d >> 7) & 1) != 0 || dbm, ((d >> 54) & 1) == 0};
}
}  // namespace detail

// What every stage 2 lookup of one translation shares, derived once from the STE's stage 2
// configuration (the CD fetch, each stage 1 table descriptor and the output all use it).
struct s2_plan {
  vmsa::walk_plan walk{};
  std::uint64_t beyond_ia = 0;  // IPA bits beyond the S2T0SZ range
  // In s2_config's order: the four are copied as one word.
  bool affd = false;
  bool ptw = false;
  bool ha = false;
  bool hd = false;
  // A structure lookup whose level 3 table the walk cache holds may take the inline leaf path
  // (s2_structure_leaf): a walk below level 3, 48-bit output, no HTTU.
  bool leaf_path = false;

  constexpr s2_plan() noexcept = default;
  [[gnu::always_inline]] constexpr explicit s2_plan(const s2_config& c) noexcept
      : walk(c.walk),
        beyond_ia(~vmsa::mask_below(c.walk.ia_bits)),
        affd(c.affd),
        ptw(c.ptw),
        ha(c.ha),
        hd(c.hd),
        leaf_path(walk.start_level < 3 && walk.format == vmsa::detail::oa_format::bits48 &&
                  !c.ha && !c.hd) {}
};

namespace detail {
// A stage 2 fault: S2 == 1, the access's CLASS, the IPA.
constexpr bool s2_fault(fault_info& f, smmuv3::evt::type t, const s2_access& acc, std::uint64_t ipa,
                        int level, std::uint64_t fetch = 0) noexcept {
  f = fault_info{};
  f.type = t;
  f.s2 = true;
  f.cls = acc.cls;
  f.ipa = ipa;
  f.level = level;
  f.fetch_addr = fetch;
  return false;
}

// A structure read's stage 2 leaf (the CD, an L1CD, a stage 1 table descriptor): readable
// (S2AP[0]) and, under S2PTW, not Device memory (MemAttr[3:2] == 0b00; STE.S2FWB is not
// modelled), IHI 0070 §5.2 S2PTW. Otherwise a stage 2 Permission fault.
[[nodiscard, gnu::always_inline]] constexpr bool s2_structure_ok(const s2_plan& c,
                                                                 std::uint64_t d) noexcept {
  return ((d >> 6) & 1) != 0 && !(c.ptw && ((d >> 4) & 3) == 0);
}

// Stage 2 of `ipa` into `out` for one descriptor format; false with `f` filled on a fault. A
// Structure lookup (a CD, L1CD or stage 1 table descriptor read: acc.write and acc.exec are
// false, CLASS is CD or TT) fills only out.pa and, with S2HA/S2HD, the HTTU fields: a stage 1
// walk makes one per level, so it skips the attributes nobody reads. `out` is complete only on
// success. `wc` is a vmsa::walk_cache the lookups of one translation share, or no_walk_cache.
// AnyEndian false: the caller knows the plan is little-endian.
template <vmsa::detail::oa_format F, bool Structure, bool AnyEndian = true, class M, class Cache>
[[nodiscard, gnu::always_inline]] constexpr bool s2_lookup_inline(const M& mem, const s2_plan& c,
                                                                  std::uint64_t ipa,
                                                                  const s2_access& acc,
                                                                  s2_leaf& out, fault_info& f,
                                                                  Cache& wc) noexcept {
  using enum smmuv3::evt::type;
  // Check 1 of §3.4: an IPA beyond the S2T0SZ range is a stage 2 Translation fault.
  if ((ipa & c.beyond_ia) != 0) return s2_fault(f, f_translation, acc, ipa, 0);
  vmsa::leaf l{};  // zeroed: g++ -O2 cannot see that each field read below was written
  vmsa::identity_pa identity;
  const vmsa::walk_stop s =
      vmsa::detail::walk_levels<F, AnyEndian>(mem, c.walk, ipa, l, identity, wc);
  if (s != vmsa::walk_stop::leaf) {
    return s2_fault(f, vmsa::fault_type(s), acc, ipa, l.level,
                    s == vmsa::walk_stop::external_abort ? l.descriptor_pa : 0);
  }
  const std::uint64_t d = l.descriptor;
  const vmsa::af_action af = vmsa::access_flag(d, c.affd, c.ha);
  if (af == vmsa::af_action::fault) return s2_fault(f, f_access, acc, ipa, l.level);
  out.pa = l.output_address;
  if (c.ha || c.hd) {  // only HTTU needs them (translate.hpp writes the updates back)
    out.af_update = af == vmsa::af_action::set;
    out.descriptor = d;
    out.descriptor_pa = l.descriptor_pa;
  }
  if constexpr (Structure) {
    if (!s2_structure_ok(c, d)) return s2_fault(f, f_permission, acc, ipa, l.level);
    return true;
  } else {
    // S2PTW: a CD fetch or stage 1 table walk that lands on stage 2 Device memory (MemAttr[3:2]
    // == 0b00; STE.S2FWB is not modelled) is a stage 2 Permission fault (IHI 0070 §5.2 S2PTW).
    const bool device = ((d >> 4) & 3) == 0;
    out.size_shift = l.size_shift;
    out.level = l.level;
    out.perm = s2_permissions(d, c.hd);
    out.dbm_clean = c.hd && ((d >> 51) & 1) != 0 && ((d >> 7) & 1) == 0;
    out.mem_attr = static_cast<std::uint8_t>((d >> 2) & 0xf);
    out.sh = static_cast<std::uint8_t>((d >> 8) & 3);
    const bool allowed = acc.exec ? out.perm.x : acc.write ? out.perm.w : out.perm.r;
    const bool structure = acc.cls != smmuv3::evt::fault_class::in;
    if (!allowed || (c.ptw && structure && device)) {
      return s2_fault(f, f_permission, acc, ipa, l.level);
    }
    return true;
  }
}

// s2_lookup_inline out of line: one copy per format for all callers.
template <vmsa::detail::oa_format F, bool Structure, bool AnyEndian = true, class M, class Cache>
[[nodiscard]] constexpr bool s2_lookup_as(const M& mem, const s2_plan& c, std::uint64_t ipa,
                                          const s2_access& acc, s2_leaf& out, fault_info& f,
                                          Cache& wc) noexcept {
  return s2_lookup_inline<F, Structure, AnyEndian>(mem, c, ipa, acc, out, f, wc);
}

// Stage 2 of `ipa` into `out` (see s2_lookup_inline), for the plan's descriptor format; the walks
// of one translation may share a vmsa::walk_cache `wc` (all with the same plan).
template <bool Structure = false, memory::readable_memory M, class Cache>
[[nodiscard]] constexpr bool s2_lookup(const M& mem, const s2_plan& c, std::uint64_t ipa,
                                       const s2_access& acc, s2_leaf& out, fault_info& f,
                                       Cache& wc) noexcept {
  using vmsa::detail::oa_format;
  switch (c.walk.format) {
    case oa_format::bits48:
      return s2_lookup_as<oa_format::bits48, Structure>(mem, c, ipa, acc, out, f, wc);
    case oa_format::pa52_64k:
      return s2_lookup_as<oa_format::pa52_64k, Structure>(mem, c, ipa, acc, out, f, wc);
    case oa_format::lpa2:
      return s2_lookup_as<oa_format::lpa2, Structure>(mem, c, ipa, acc, out, f, wc);
    default:  // unreachable for a validated STE; kept as a fault, not UB
      if ((ipa & c.beyond_ia) != 0) {
        return s2_fault(f, smmuv3::evt::type::f_translation, acc, ipa, 0);
      }
      return s2_fault(f, smmuv3::evt::type::f_translation, acc, ipa, 3);
  }
}
// s2_lookup with the walk of the usual format (48-bit output) inlined into the caller: a
// translation's output lookup and its first structure lookup (s2_structure_lookup), where the
// call and its dispatch cost a sixth of the walk.
template <bool Structure = false, memory::readable_memory M, class Cache>
[[nodiscard, gnu::always_inline]] constexpr bool s2_lookup_bits48_inline(
    const M& mem, const s2_plan& c, std::uint64_t ipa, const s2_access& acc, s2_leaf& out,
    fault_info& f, Cache& wc) noexcept {
  if (c.walk.format == vmsa::detail::oa_format::bits48 && !c.walk.big_endian) {
    return s2_lookup_inline<vmsa::detail::oa_format::bits48, Structure, false>(mem, c, ipa, acc,
                                                                               out, f, wc);
  }
  // Through locals of its own, so that the call does not take the addresses of `out` and `f`:
  // the caller's stay in registers on the inlined path. (`out` is read only on success, `f` only
  // on a fault.)
  s2_leaf o;
  fault_info fo;
  const bool ok = s2_lookup<Structure>(mem, c, ipa, acc, o, fo, wc);
  if (ok) {
    out = o;
  } else {
    f = fo;
  }
  return ok;
}

// Whether a Structure lookup (see s2_lookup_inline) of `ipa` may take s2_structure_leaf: the walk
// cache holds the level 3 table of `ipa` (a nested walk's stage 1 tables are usually in one stage
// 2 page table: every lookup after the first) and the plan allows it (s2_plan::leaf_path).
[[nodiscard, gnu::always_inline]] constexpr bool s2_leaf_cached(const s2_plan& c,
                                                                const vmsa::walk_cache& wc,
                                                                std::uint64_t ipa) noexcept {
  return wc.deepest == 3 && c.leaf_path && ((ipa ^ wc.ia) >> wc.keep_shift) == 0 &&
         (ipa & c.beyond_ia) == 0;
}

// The Structure lookup of `ipa` when s2_leaf_cached, given the walk cache's level 3 table and
// index shift: one read and the leaf's checks, without the call and the walk's set-up (which cost
// three times the read). The checks are those of walk_levels at level 3 and of s2_lookup_inline,
// in their order. AnyEndian false: the caller knows the plan is little-endian.
template <bool AnyEndian = true, memory::readable_memory M>
[[nodiscard, gnu::always_inline]] constexpr bool s2_structure_leaf(
    const M& mem, const s2_plan& c, std::uint64_t ipa, const s2_access& acc, s2_leaf& out,
    fault_info& f, std::uint64_t table, unsigned shift) noexcept {
  using enum smmuv3::evt::type;
  const vmsa::walk_plan& p = c.walk;
  const std::uint64_t at = table | ((ipa >> shift) & p.index_mask);
  const memory::read_result r = mem.read64(at);
  if (!r.ok()) return s2_fault(f, f_walk_eabt, acc, ipa, 3, at);
  const std::uint64_t d = AnyEndian && p.big_endian ? vmsa::byteswap64(r.value) : r.value;
  // A page descriptor (valid, bit[1] set), else reserved or invalid: Translation.
  if ((d & (vmsa::desc_valid | vmsa::desc_table)) != (vmsa::desc_valid | vmsa::desc_table)) {
    return s2_fault(f, f_translation, acc, ipa, 3);
  }
  // A leaf path plan has 48-bit output: the page's address is where a table descriptor keeps
  // the next table's (table_oa_mask, OA[47:granule]), its offset the IPA's bits below the
  // granule (index_mask | 7: a level's index bits are the granule's bits above the 8 bytes).
  if ((d & p.table_beyond_oa) != 0) return s2_fault(f, f_addr_size, acc, ipa, 3);
  if ((d & vmsa::desc_af) == 0 && !c.affd) return s2_fault(f, f_access, acc, ipa, 3);
  out.pa = (d & p.table_oa_mask) | (ipa & (p.index_mask | 7));
  if (!s2_structure_ok(c, d)) return s2_fault(f, f_permission, acc, ipa, 3);
  return true;
}

// A Structure lookup (see s2_lookup_inline) as s2_lookup<true> makes it, through
// s2_structure_leaf (inlined into the caller) when s2_leaf_cached.
template <memory::readable_memory M, class Cache>
[[nodiscard, gnu::always_inline]] constexpr bool s2_structure_lookup(const M& mem, const s2_plan& c,
                                                                     std::uint64_t ipa,
                                                                     const s2_access& acc,
                                                                     s2_leaf& out, fault_info& f,
                                                                     Cache& wc) noexcept {
  if constexpr (std::is_same_v<Cache, vmsa::walk_cache>) {
    if (s2_leaf_cached(c, wc, ipa)) {
      return s2_structure_leaf(mem, c, ipa, acc, out, f, wc.table[4], wc.deepest_shift);
    }
  }
  return s2_lookup_bits48_inline<true>(mem, c, ipa, acc, out, f, wc);
}

// The table_pa of a nested stage 1 walk over memory it only reads (no HTTU write-back): stage 2
// of each table descriptor address with CLASS == TT through the translation's walk cache `wc`,
// its fault written into `f`. s1_lookup hands it the whole stage 1 walk (walk()), which in the
// usual case (48-bit output at both stages, little-endian, a leaf path plan) keeps what the
// stage 2 lookups share in registers and runs the stage 1 levels without a test of the format.
template <memory::readable_memory M>
struct s2_tables {
  static constexpr s2_access tt{false, false, smmuv3::evt::fault_class::tt};
  const M& mem;
  const s2_plan& plan;
  vmsa::walk_cache& wc;
  fault_info& f;

  [[nodiscard]] constexpr vmsa::table_address operator()(std::uint64_t at) const noexcept {
    s2_leaf l;
    if (s2_leaf_cached(plan, wc, at)) {
      const bool ok = s2_structure_leaf(mem, plan, at, tt, l, f, wc.table[4], wc.deepest_shift);
      return {l.pa, ok};
    }
    const bool ok = s2_lookup<true>(mem, plan, at, tt, l, f, wc);
    return {l.pa, ok};
  }

  // The stage 1 walk of `va` through plan `p` (vmsa::walk_into with this table_pa).
  [[nodiscard]] constexpr vmsa::walk_stop walk(const vmsa::walk_plan& p, std::uint64_t va,
                                               vmsa::leaf& out) const noexcept {
    using vmsa::detail::oa_format;
    if (p.format != oa_format::bits48 || p.big_endian || !plan.leaf_path ||
        plan.walk.big_endian) {
      return vmsa::walk_into(mem, p, va, out, *this);
    }
    // The walk cache's level 3 table, as s2_leaf_cached and s2_structure_leaf read it; reloaded
    // after each lookup that walks (the only thing here that changes the cache).
    bool leaf = false;
    std::uint64_t leaf_ia = 0;
    std::uint64_t leaf_table = 0;
    unsigned keep_shift = 0;
    unsigned leaf_shift = 0;
    auto reload = [&] {
      leaf = wc.deepest == 3;
      if (leaf) {
        leaf_ia = wc.ia;
        leaf_table = wc.table[4];
        keep_shift = wc.keep_shift;
        leaf_shift = wc.deepest_shift;
      }
    };
    reload();
    s2_leaf l;  // only its pa is read: one for every lookup
    auto to_pa = [&](std::uint64_t at) __attribute__((always_inline)) {
      if (leaf && ((at ^ leaf_ia) >> keep_shift) == 0 && (at & plan.beyond_ia) == 0) {
        const bool ok = s2_structure_leaf<false>(mem, plan, at, tt, l, f, leaf_table, leaf_shift);
        return vmsa::table_address{l.pa, ok};
      }
      const bool ok = s2_lookup_as<oa_format::bits48, true, false>(mem, plan, at, tt, l, f, wc);
      reload();
      return vmsa::table_address{l.pa, ok};
    };
    vmsa::no_walk_cache none;
    return vmsa::detail::walk_levels<oa_format::bits48, false>(mem, p, va, out, to_pa, none);
  }
};

template <bool Structure = false, memory::readable_memory M>
[[nodiscard]] constexpr bool s2_lookup(const M& mem, const s2_plan& c, std::uint64_t ipa,
                                       const s2_access& acc, s2_leaf& out, fault_info& f) noexcept {
  vmsa::no_walk_cache none;
  return s2_lookup<Structure>(mem, c, ipa, acc, out, f, none);
}

}  // namespace detail

template <memory::readable_memory M>
[[nodiscard]] constexpr or_fault<s2_leaf> s2_translate(const M& mem, const s2_config& c,
                                                       std::uint64_t ipa,
                                                       const s2_access& acc) noexcept {
  or_fault<s2_leaf> res;  // every path returns `res` itself (built in place)
  res.failed = !detail::s2_lookup(mem, s2_plan(c), ipa, acc, res.value, res.fault);
  return res;
}

}  // namespace vsmmu::walk
