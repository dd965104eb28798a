// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/walk/cd_config.hpp>
#include <vsmmu/walk/result.hpp>
#include <vsmmu/walk/vmsa.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>

// Stage 1 translation of a VA through a validated CD (IHI 0070 §3.4 stage 1 checks; DDI 0487
// D8.2 (VA ranges, TBI), D8.3 (descriptors), D8.4 (direct permissions, pseudocode
// AArch64.S1DirectBasePermissions)).
namespace vsmmu::walk {

struct s1_request {
  std::uint64_t va = 0;
  bool write = false;
  bool exec = false;            // InD after STE.INSTCFG
  bool privileged = false;      // PnU after STE.PRIVCFG
  bool both_privileges = true;  // kept for compatibility: perm_set always has both halves
};

struct s1_leaf {
  std::uint64_t ipa = 0;
  unsigned size_shift = 0;
  int level = 0;
  permissions perm{};         // for the request's privilege
  std::uint8_t perm_set = 0;  // both privileges (result.hpp perm_set)
  bool dbm_clean = false;     // writable only through DBM (HD == 1, AP[2] == 1)
  unsigned granule_shift = 12;
  // For hardware flag updates (HTTU, IHI 0070 §3.13), filled only with HA or HD: the leaf
  // descriptor as read, where it is (an IPA when nested) and how it is stored.
  std::uint64_t descriptor = 0;
  std::uint64_t descriptor_address = 0;
  bool big_endian = false;
  bool af_update = false;  // AF == 0 with HA == 1 and AFFD == 0: the access sets AF (§3.13.2)
  std::uint8_t attr_index = 0;
  std::uint8_t sh = 0;
  bool global = false;
};

namespace detail {
// AArch64.S1DirectBasePermissions for the EL1&0 regime (two VA ranges, unprivileged accesses)
// and the EL2 regime (one range, privileged only), followed by PAN and WXN. Computed as bit
// masks (r = 1, w = 2, x = 4): cheaper than assembling bools.
[[nodiscard]] constexpr unsigned s1_permission_set(const vmsa::leaf& l,
                                                   const context_config& c) noexcept {
  constexpr unsigned r = 1, w = 2, x = 4;
  const std::uint64_t d = l.descriptor;
  unsigned ap = static_cast<unsigned>((d >> 6) & 3);  // AP[2:1]
  // With hardware dirty state, DBM (bit 51) makes a writable-clean page writable: AP[2] reads
  // as 0 (translate() clears it on a write when the memory is writable, §3.13.3).
  if (c.hd && ((d >> 51) & 1) != 0) ap &= 1U;
  const bool pxn = ((d >> 53) & 1) != 0;
  const bool uxn = ((d >> 54) & 1) != 0;
  unsigned priv = 0;
  unsigned unpriv = 0;
  if (c.el2) {
    // AP[1] is RES1 and APTable[0] RES0 in a regime without unprivileged accesses; XN is [54].
    priv = r | ((ap & 2) == 0 && (l.ap_table & 2) == 0 ? w : 0) | (!uxn && !l.uxn_table ? x : 0);
    unpriv = priv;
  } else {
    // AP[2:1] = 00: privileged RW; 01: RW at both; 10: privileged RO; 11: RO at both.
    const bool ap_table_priv_only = (l.ap_table & 1) != 0;  // APTable[0]: no EL0 access
    const bool ap_table_ro = (l.ap_table & 2) != 0;         // APTable[1]: no writes
    const bool pw = (ap & 2) == 0 && !ap_table_ro;
    const bool ur = (ap & 1) != 0 && !ap_table_priv_only;
    const bool uw = ur && (ap & 2) == 0 && !ap_table_ro;
    // Locations writable by unprivileged accesses are never privileged-executable.
    const bool px = !(pxn || l.pxn_table || uw);
    const bool ux = !(uxn || l.uxn_table);
    // PAN: privileged data accesses to unprivileged-accessible locations fault.
    const bool pan_block = c.pan && ur;
    priv = (pan_block ? 0 : r | (pw ? w : 0)) | (px ? x : 0);
    unpriv = (ur ? r : 0) | (uw ? w : 0) | (ux ? x : 0);
  }
  if (c.wxn) {
    if ((priv & w) != 0) priv &= ~x;
    if ((unpriv & w) != 0) unpriv &= ~x;
  }
  return priv | (unpriv << 3);
}

// s1_permission_set of every input that matters, so that a walk looks its permissions up
// instead of deriving them (a fifth of a stage 1 walk's instructions otherwise). Index bits:
// [1:0] AP[2:1] after DBM, [2] PXN, [3] UXN, [4] PXNTable, [5] UXNTable, [7:6] APTable,
// [8] EL2 regime, [9] PAN, [10] WXN.
struct s1_permission_table {
  std::uint8_t set[2048];
};
[[nodiscard]] constexpr s1_permission_table make_s1_permission_table() noexcept {
  s1_permission_table t{};
  for (unsigned i = 0; i < 2048; ++i) {
    vmsa::leaf l;
    l.descriptor = (std::uint64_t{i & 3} << 6) | (std::uint64_t{(i >> 2) & 3} << 53);
    l.pxn_table = ((i >> 4) & 1) != 0;
    l.uxn_table = ((i >> 5) & 1) != 0;
    l.ap_table = static_cast<std::uint8_t>((i >> 6) & 3);
    context_config c;
    c.el2 = ((i >> 8) & 1) != 0;
    c.pan = ((i >> 9) & 1) != 0;
    c.wxn = ((i >> 10) & 1) != 0;
    t.set[i] = static_cast<std::uint8_t>(s1_permission_set(l, c));
  }
  return t;
}
inline constexpr s1_permission_table s1_permissions = make_s1_permission_table();

// s1_permission_set, looked up.
[[nodiscard, gnu::always_inline]] constexpr unsigned s1_permission_set_fast(
    const vmsa::leaf& l, const context_config& c) noexcept {
  const std::uint64_t d = l.descriptor;
  unsigned ap = static_cast<unsigned>((d >> 6) & 3);
  if (c.hd && ((d >> 51) & 1) != 0) ap &= 1U;  // DBM: writable-clean reads as writable
  const unsigned i = ap | (static_cast<unsigned>((d >> 53) & 3) << 2) |
                     (l.pxn_table ? 1U << 4 : 0U) | (l.uxn_table ? 1U << 5 : 0U) |
                     ((l.ap_table & 3U) << 6) | (c.el2 ? 1U << 8 : 0U) | (c.pan ? 1U << 9 : 0U) |
                     (c.wxn ? 1U << 10 : 0U);
  return s1_permissions.set[i];
}

// The share of a perm_set (result.hpp) of one privilege.
[[nodiscard]] constexpr permissions permissions_of(unsigned set, bool privileged) noexcept {
  const unsigned bits = set >> (privileged ? 0U : 3U);
  return {(bits & 1U) != 0, (bits & 2U) != 0, (bits & 4U) != 0};
}

// What one privilege may do (r = 1, w = 2, x = 4).
[[nodiscard]] constexpr unsigned s1_permission_bits(const vmsa::leaf& l, const context_config& c,
                                                    bool privileged) noexcept {
  const unsigned set = s1_permission_set(l, c);
  return privileged ? set & 7U : set >> 3;
}
}  // namespace detail

namespace detail {
// The stage 1 leaf's memory attributes into `x` (D8.3): ASID, AttrIndx and the MAIR byte it
// selects, shareability, nG.
[[gnu::always_inline]] constexpr void store_s1_attributes(translation& x, std::uint64_t d,
                                                          const context_config& c,
                                                          const tt_range& range) noexcept {
  const unsigned attr_index = static_cast<unsigned>((d >> 2) & 7);
  x.asid = c.asid;
  x.s1_attr_index = static_cast<std::uint8_t>(attr_index);
  x.s1_mem_attr = static_cast<std::uint8_t>(c.mair >> (8 * attr_index));
  // Under DS descriptor bits [9:8] are OA[51:50]; the shareability is CD.SHx (FEAT_LPA2).
  x.s1_sh = range.walk.ds ? range.sh : static_cast<std::uint8_t>((d >> 8) & 3);
  x.global = c.el2 || ((d >> 11) & 1) == 0;
}

// What a stage 1 descriptor update (HTTU, IHI 0070 §3.13) needs of the leaf, filled only with HA
// or HD: the descriptor as read, where it is (an IPA when nested) and how it is stored.
struct s1_update {
  std::uint64_t descriptor = 0;
  std::uint64_t descriptor_address = 0;
  bool big_endian = false;
  bool af_update = false;  // AF == 0 with HA == 1 and AFFD == 0: the access sets AF (§3.13.2)
};

// Stage 1 of req.va; false with `f` filled on a fault. On success the leaf is in `x`, the
// translation's own (no s1_leaf copied into it field by field): x.ipa (the stage 1 output),
// asid and the s1_* fields; `u` with HA or HD. The request's permissions are left to the caller
// (x.s1_perm_set holds both privileges'). On a fault `x` may be partly written. `table_pa(ipa)`
// maps each table descriptor address to a vmsa::table_address (vmsa::identity_pa, or stage 2
// with CLASS == TT, which on a fault writes it into `f` and returns ok == false). `plans` (a
// const vmsa::walk_plan*) holds walk_plan(c.tt[i].walk) for each enabled range i, derived once
// for a kept CD (planned_context_lookup); nullptr (the default): the walk derives its plan.
template <memory::readable_memory M, class TablePa, class Plans = std::nullptr_t>
[[nodiscard]] constexpr bool s1_lookup(const M& mem, const context_config& c, const s1_request& req,
                                       TablePa&& table_pa, translation& x, s1_update& u,
                                       fault_info& f, Plans plans = nullptr) noexcept {
  // Stage 1 faults: S2 == 0, CLASS == IN (TT for a walk abort).
  auto fail = [&f](smmuv3::evt::type t, int level) {
    f = fault_info{};
    f.type = t;
    f.level = level;
    return false;
  };
  const std::uint64_t va = req.va;
  // Range selection by VA[55] (TBI never changes which range an address is in).
  const unsigned sel = c.el2 ? 0U : static_cast<unsigned>((va >> 55) & 1);
  const tt_range& range = c.tt[sel];
  if (!range.enabled) return fail(smmuv3::evt::type::f_translation, 0);  // EPDx == 1
  const unsigned addr_top = range.tbi ? 55 : 63;
  const unsigned ia = range.walk.ia_bits;
  // VA[AddrTop:ia] must all equal the range's sign (AArch64.VAIsOutOfRange).
  const std::uint64_t top = (va >> ia) & vmsa::mask_below(addr_top - ia + 1);
  const std::uint64_t expect = sel == 1 ? vmsa::mask_below(addr_top - ia + 1) : 0;
  if (top != expect) return fail(smmuv3::evt::type::f_translation, 0);
  if (range.e0pd && !req.privileged && !c.el2) return fail(smmuv3::evt::type::f_translation, 0);

  vmsa::leaf l{};  // zeroed: g++ -O2 cannot see that each field read below was written
  vmsa::walk_stop s;
  if constexpr (requires { table_pa.walk(vmsa::walk_plan{}, va, l); }) {
    // A table_pa that walks itself (detail::s2_tables: a nested walk).
    if constexpr (std::is_null_pointer_v<Plans>) {
      s = table_pa.walk(vmsa::walk_plan(range.walk), va, l);
    } else {
      s = table_pa.walk(plans[sel], va, l);
    }
  } else if constexpr (std::is_null_pointer_v<Plans>) {
    s = vmsa::walk_into(mem, vmsa::walk_plan(range.walk), va, l, table_pa);
  } else if constexpr (std::is_same_v<std::remove_cvref_t<TablePa>, vmsa::identity_pa>) {
    // A kept plan without stage 2: the walk inlined here (a call costs a tenth of it).
    s = vmsa::detail::walk_formats(mem, plans[sel], va, l, table_pa);
  } else {
    s = vmsa::walk_into(mem, plans[sel], va, l, table_pa);
  }
  if (s == vmsa::walk_stop::table_pa) return false;  // the stage 2 fault, as table_pa wrote it
  if (s != vmsa::walk_stop::leaf) {
    fail(vmsa::fault_type(s), l.level);
    // A stage 1 descriptor fetch abort reports CLASS == TT (§7.3.12).
    if (s == vmsa::walk_stop::external_abort) {
      f.cls = smmuv3::evt::fault_class::tt;
      f.fetch_addr = l.descriptor_pa;
    }
    return false;
  }
  const std::uint64_t d = l.descriptor;
  // An Access flag fault takes priority over a Permission fault (DDI 0487 D8.15.5).
  const vmsa::af_action af = vmsa::access_flag(d, c.affd, c.ha);
  if (af == vmsa::af_action::fault) return fail(smmuv3::evt::type::f_access, l.level);
  x.ipa = l.output_address;
  x.s1_size_shift = l.size_shift;
  x.s1_level = l.level;
  x.s1_granule_shift = static_cast<std::uint8_t>(range.walk.granule_shift);
  if (c.ha || c.hd) {  // only HTTU needs them (translate.hpp writes the updates back)
    u.descriptor = d;
    u.descriptor_address = l.descriptor_address;
    u.big_endian = range.walk.big_endian;
    u.af_update = af == vmsa::af_action::set;
  }
  // Both privileges (perm_set layout), computed together; caches need both, and walks fill both
  // so that results do not depend on caching. An unprivileged access to an E0PD range faults
  // before the walk, so the unprivileged half is nothing there.
  unsigned set = s1_permission_set_fast(l, c);
  if (req.privileged && range.e0pd && !c.el2) set &= 7U;
  x.s1_perm_set = static_cast<std::uint8_t>(set);
  const unsigned bits = req.privileged ? set & 7U : set >> 3;
  x.s1_dbm_clean = c.hd && ((d >> 51) & 1) != 0 && ((d >> 7) & 1) != 0;
  store_s1_attributes(x, d, c, range);
  if ((bits & (req.exec ? 4U : req.write ? 2U : 1U)) == 0) {
    return fail(smmuv3::evt::type::f_permission, l.level);
  }
  return true;
}
}  // namespace detail

// Translates req.va. `table_pa(ipa)` maps each table descriptor address to the PA to fetch
// (identity, or stage 2 with CLASS == TT) and returns or_fault<std::uint64_t>.
template <memory::readable_memory M, class TablePa>
[[nodiscard]] constexpr or_fault<s1_leaf> s1_translate(const M& mem, const context_config& c,
                                                       const s1_request& req,
                                                       TablePa&& table_pa) noexcept {
  or_fault<s1_leaf> res;  // every path returns `res` itself (built in place)
  auto to_pa = [&](std::uint64_t at) {
    const auto r = table_pa(at);
    if (!r.ok()) {
      res.fault = r.fault;
      // A stage 1 descriptor fetch abort reports CLASS == TT (§7.3.12).
      if (r.fault.type == smmuv3::evt::type::f_walk_eabt && !r.fault.s2) {
        res.fault.cls = smmuv3::evt::fault_class::tt;
      }
    }
    return vmsa::table_address{r.value, r.ok()};
  };
  translation x;
  detail::s1_update u;
  res.failed = !detail::s1_lookup(mem, c, req, to_pa, x, u, res.fault);
  if (!res.failed) {
    s1_leaf& out = res.value;
    out.ipa = x.ipa;
    out.size_shift = x.s1_size_shift;
    out.level = x.s1_level;
    out.perm = detail::permissions_of(x.s1_perm_set, req.privileged);
    out.perm_set = x.s1_perm_set;
    out.dbm_clean = x.s1_dbm_clean;
    out.granule_shift = x.s1_granule_shift;
    out.descriptor = u.descriptor;
    out.descriptor_address = u.descriptor_address;
    out.big_endian = u.big_endian;
    out.af_update = u.af_update;
    out.attr_index = x.s1_attr_index;
    out.sh = x.s1_sh;
    out.global = x.global;
  }
  return res;
}

}  // namespace vsmmu::walk
