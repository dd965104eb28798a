// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/walk/result.hpp>
#include <vsmmu/walk/vmsa.hpp>

#include <cstdint>

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

template <memory::readable_memory M>
[[nodiscard]] constexpr or_fault<s2_leaf> s2_translate(const M& mem, const s2_config& c,
                                                       std::uint64_t ipa,
                                                       const s2_access& acc) noexcept {
  or_fault<s2_leaf> res;  // every path returns `res` itself (built in place)
  fault_info tmpl;
  tmpl.s2 = true;
  tmpl.cls = acc.cls;
  tmpl.ipa = ipa;
  auto fail = [&res, &tmpl](smmuv3::evt::type t, int level) {
    res.fault = tmpl;
    res.fault.type = t;
    res.fault.level = level;
    res.failed = true;
  };
  // Check 1 of §3.4: an IPA beyond the S2T0SZ range is a stage 2 Translation fault.
  if ((ipa >> c.walk.ia_bits) != 0) {
    fail(smmuv3::evt::type::f_translation, 0);
    return res;
  }
  const auto walked = vmsa::walk(mem, c.walk, ipa, tmpl, [](std::uint64_t pa) noexcept {
    return or_fault<std::uint64_t>{pa, {}, false};
  });
  if (!walked.ok()) {
    res.fault = walked.fault;
    res.failed = true;
    return res;
  }
  const vmsa::leaf& l = walked.value;
  const std::uint64_t d = l.descriptor;
  if ((d & vmsa::desc_af) == 0 && !c.affd && !c.ha) {
    fail(smmuv3::evt::type::f_access, l.level);
    return res;
  }
  s2_leaf& out = res.value;
  out.pa = l.output_address;
  out.size_shift = l.size_shift;
  out.level = l.level;
  out.perm = detail::s2_permissions(d, c.hd);
  out.dbm_clean = c.hd && ((d >> 51) & 1) != 0 && ((d >> 7) & 1) == 0;
  if (c.ha || c.hd) {  // only HTTU needs them (translate.hpp writes the updates back)
    out.af_update = (d & vmsa::desc_af) == 0 && c.ha && !c.affd;
    out.descriptor = d;
    out.descriptor_pa = l.descriptor_pa;
  }
  out.mem_attr = static_cast<std::uint8_t>((d >> 2) & 0xf);
  out.sh = static_cast<std::uint8_t>((d >> 8) & 3);
  const bool allowed = acc.exec ? out.perm.x : acc.write ? out.perm.w : out.perm.r;
  // S2PTW: a CD fetch or stage 1 table walk that lands on stage 2 Device memory (MemAttr[3:2]
  // == 0b00; STE.S2FWB is not modelled) is a stage 2 Permission fault (IHI 0070 §5.2 S2PTW).
  const bool structure = acc.cls != smmuv3::evt::fault_class::in;
  if (!allowed || (c.ptw && structure && (out.mem_attr & 0xc) == 0)) {
    fail(smmuv3::evt::type::f_permission, l.level);
  }
  return res;
}

}  // namespace vsmmu::walk
