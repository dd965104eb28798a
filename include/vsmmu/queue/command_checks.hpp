// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/value.hpp>
#include <vsmmu/queue/command.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/features.hpp>

#include <cstdint>

// Which commands the Non-secure Command queue accepts, and with which fields (IHI 0070 §4.1.3,
// §4.1.5, §7.1). A command that fails here is CERROR_ILL and never reaches a handler.
//
// vsmmu takes the first option of §4.1.5 everywhere: a Reserved field found non-zero makes the
// command malformed. Reserved means: bits no field of the command's layout in
// smmuv3/commands.hpp declares, and declared fields the advertised features make RES0 (the
// range fields without IDR3.RIL, SCALE[5] without IDR5.DS, Stride on SMMUv3.0, the Secure- or
// Realm-only NS/MSI_NS/SSec parameters on this queue, and the bits of a physical or IPA address
// field above the revision's PA size, §4.1.6).
namespace vsmmu::queue {

// The ID register features command validation depends on.
struct command_features {
  bool s1p = true;     // IDR0.S1P: stage 1 commands (TLBI_NH_*, TLBI_EL2_*, CFGI_CD*)
  bool s2p = true;     // IDR0.S2P: TLBI_S2_IPA, TLBI_S12_VMALL
  bool hyp = true;     // IDR0.Hyp: TLBI_EL2_*
  bool ats = false;    // IDR0.ATS: CMD_ATC_INV
  bool pri = false;    // IDR0.PRI: CMD_PRI_RESP
  bool msi = true;     // IDR0.MSI: CMD_SYNC MSI writes
  bool sev = false;    // IDR0.SEV: SIG_SEV and the non-full wake-up event
  bool stall = false;  // IDR0.STALL_MODEL != 0b01: CMD_RESUME, CMD_STALL_TERM
  bool ril = false;    // IDR3.RIL: range invalidation and TTL hints
  bool mpam = false;   // IDR3.MPAM: CMD_CFGI_VMS_PIDM
  bool dpt = false;    // IDR3.DPT: CMD_DPTI_*
  bool ds = false;     // IDR5.DS: 6-bit SCALE, TTL == 0b01 with the 16KB granule
  bool d128 = false;   // IDR5.D128: TTL128
  bool v3_0 = true;    // AIDR.ArchMinorRev == 0: CMD_PREFETCH_ADDR.Stride is RES0
  // The address bits a physical or IPA address field may use (CMD_TLBI_S2_IPA.Addr,
  // CMD_SYNC.MSIAddress): §4.1.6 makes bits [55:48] RES0 in SMMUv3.0 and [55:52] in SMMUv3.1 to
  // SMMUv3.3. Virtual address fields (CMD_TLBI_*_VA*, CMD_PREFETCH_ADDR, CMD_ATC_INV) are
  // Address[63:12] in every revision.
  unsigned pa_field_bits = 48;

  // The features an SMMU advertising `r` has. The defaults above are vsmmu's default feature
  // set (smmuv3::default_id_registers).
  [[nodiscard]] static constexpr command_features from(const smmuv3::id_registers& r) noexcept {
    namespace regs = smmuv3::regs;
    command_features f;
    f.s1p = r.get<regs::idr0::S1P>();
    f.s2p = r.get<regs::idr0::S2P>();
    f.hyp = r.get<regs::idr0::Hyp>();
    f.ats = r.get<regs::idr0::ATS>();
    f.pri = r.get<regs::idr0::PRI>();
    f.msi = r.get<regs::idr0::MSI>();
    f.sev = r.get<regs::idr0::SEV>();
    f.stall = r.get<regs::idr0::STALL_MODEL>() != regs::stall_model::terminate_only;
    f.ril = r.get<regs::idr3::RIL>();
    f.mpam = r.get<regs::idr3::MPAM>();
    f.dpt = r.get<regs::idr3::DPT>();
    f.ds = r.get<regs::idr5::DS>();
    f.d128 = r.get<regs::idr5::D128>();
    const regs::arch_minor_rev rev = r.revision();
    f.v3_0 = rev == regs::arch_minor_rev::v3_0;
    f.pa_field_bits = f.v3_0 ? 48 : rev <= regs::arch_minor_rev::v3_3 ? 52 : 56;
    return f;
  }
  friend constexpr bool operator==(const command_features&, const command_features&) = default;
};

namespace detail {

template <class L>
[[nodiscard]] constexpr bool reserved_clear(const command& c) noexcept {
  return vsmmu::layout::undeclared_bits_clear(c.as<L>());
}

// SSec on the Non-secure queue (§4.1.6): 1 is ILLEGAL whether or not Secure state exists.
template <class L>
[[nodiscard]] constexpr bool ssec_ok(const command& c) noexcept {
  if constexpr (L::template has<smmuv3::cmd::SSec>) {
    return !c.as<L>().template get<smmuv3::cmd::SSec>();
  } else {
    return true;
  }
}

template <class L>
[[nodiscard]] constexpr bool common_ok(const command& c) noexcept {
  return reserved_clear<L>(c) && ssec_ok<L>(c);
}

// A physical or IPA address field (§4.1.6) with no bit set the revision makes RES0.
[[nodiscard]] constexpr bool pa_field_ok(std::uint64_t address,
                                         const command_features& f) noexcept {
  return f.pa_field_bits >= 64 || (address >> f.pa_field_bits) == 0;
}

// The range and level-hint fields of address-based invalidations (§4.4.1.1).
[[nodiscard]] constexpr bool range_fields_ok(const command& c, const command_features& f) noexcept {
  namespace cmd = smmuv3::cmd;
  const auto v = c.as<cmd::tlbi_nh_va::layout>();  // the fields sit alike in every such command
  const auto tg = static_cast<unsigned>(v.get<cmd::TG>());
  const unsigned ttl = v.get<cmd::TTL>();
  const unsigned num = v.get<cmd::NUM>();
  const unsigned scale = v.get<cmd::SCALE>();
  const bool ttl128 = v.get<cmd::TTL128>();
  if (!f.ril) return tg == 0 && ttl == 0 && num == 0 && scale == 0 && !ttl128;  // all RES0
  if (tg == 0) return ttl == 0 && num == 0 && scale == 0 && !ttl128;  // RES0 when TG == 0b00
  // 16KB granule, TTL == 0b01 without DS: Reserved, and "hardware treats as TTL == 0b00" (the
  // TTL table). So it is CERROR_ILL only through the Reserved combination below (NUM == SCALE ==
  // 0, the note under the range formula); with a range it is a legal range without a level hint.
  const unsigned effective_ttl =
      !f.ds && tg == static_cast<unsigned>(cmd::tlbi_tg::size_16k) && ttl == 0b01 ? 0 : ttl;
  if (num == 0 && scale == 0 && effective_ttl == 0) return false;  // Reserved combination
  if (!f.ds && (scale & 0x20U) != 0) return false;                 // SCALE is [24:20] without DS
  // TTL128 is RES0 when TTL == 0b00 (also the treated-as-0b00 case) or without a 128-bit TTL hint.
  if (ttl128 && (effective_ttl == 0 || !f.d128)) return false;
  return true;
}

}  // namespace detail

// CERROR_ILL or CERROR_NONE for a command fetched from the Non-secure Command queue of an SMMU
// with features `f`. CMD_SYNC is checked here too (CS == 0b11 is ILLEGAL).
[[nodiscard]] constexpr smmuv3::cerror validate(const command& c,
                                                const command_features& f) noexcept {
  namespace cmd = smmuv3::cmd;
  using detail::common_ok;
  using detail::pa_field_ok;
  using detail::range_fields_ok;
  const auto ill = [](bool ok) { return ok ? smmuv3::cerror::none : smmuv3::cerror::ill; };
  switch (c.opcode()) {
    case cmd::opcode::prefetch_config:
      return ill(common_ok<cmd::prefetch_config::layout>(c));
    case cmd::opcode::prefetch_addr: {
      const auto v = c.as<cmd::prefetch_addr::layout>();
      // NS is RES0 on the Non-secure queue; Stride is RES0 in SMMUv3.0 (§4.2.2).
      return ill(common_ok<cmd::prefetch_addr::layout>(c) && !v.get<cmd::prefetch_addr::NS>() &&
                 (!f.v3_0 || v.get<cmd::prefetch_addr::Stride>() == 0));
    }
    case cmd::opcode::cfgi_ste:
      return ill(common_ok<cmd::cfgi_ste::layout>(c));
    case cmd::opcode::cfgi_ste_range:
      return ill(common_ok<cmd::cfgi_ste_range::layout>(c));
    case cmd::opcode::cfgi_cd:  // §4.3.3, §4.3.4: CERROR_ILL without stage 1
      return ill(f.s1p && common_ok<cmd::cfgi_cd::layout>(c));
    case cmd::opcode::cfgi_cd_all:
      return ill(f.s1p && common_ok<cmd::cfgi_cd_all::layout>(c));
    case cmd::opcode::cfgi_vms_pidm:  // §4.3.5
      return ill(f.mpam && common_ok<cmd::cfgi_vms_pidm::layout>(c));
    case cmd::opcode::tlbi_nh_all:  // §4.4.2: stage 1 commands
      return ill(f.s1p && common_ok<cmd::tlbi_nh_all::layout>(c));
    case cmd::opcode::tlbi_nh_asid:
      return ill(f.s1p && common_ok<cmd::tlbi_nh_asid::layout>(c));
    case cmd::opcode::tlbi_nh_va:
      return ill(f.s1p && common_ok<cmd::tlbi_nh_va::layout>(c) && range_fields_ok(c, f));
    case cmd::opcode::tlbi_nh_vaa:
      return ill(f.s1p && common_ok<cmd::tlbi_nh_vaa::layout>(c) && range_fields_ok(c, f));
    case cmd::opcode::tlbi_el2_all:  // §4.4.2.7-10: CERROR_ILL without IDR0.Hyp
      return ill(f.s1p && f.hyp && common_ok<cmd::tlbi_el2_all::layout>(c));
    case cmd::opcode::tlbi_el2_asid:
      return ill(f.s1p && f.hyp && common_ok<cmd::tlbi_el2_asid::layout>(c));
    case cmd::opcode::tlbi_el2_va:
      return ill(f.s1p && f.hyp && common_ok<cmd::tlbi_el2_va::layout>(c) && range_fields_ok(c, f));
    case cmd::opcode::tlbi_el2_vaa:
      return ill(f.s1p && f.hyp && common_ok<cmd::tlbi_el2_vaa::layout>(c) &&
                 range_fields_ok(c, f));
    case cmd::opcode::tlbi_s12_vmall:  // §4.4.3.1-2: CERROR_ILL without stage 2
      return ill(f.s2p && common_ok<cmd::tlbi_s12_vmall::layout>(c));
    case cmd::opcode::tlbi_s2_ipa:
      return ill(f.s2p && common_ok<cmd::tlbi_s2_ipa::layout>(c) && range_fields_ok(c, f) &&
                 pa_field_ok(c.as<cmd::tlbi_s2_ipa::layout>().get<cmd::IPA>(), f));
    case cmd::opcode::tlbi_nsnh_all:  // valid whatever the stages (§4.4.4.1)
      return ill(common_ok<cmd::tlbi_nsnh_all::layout>(c));
    case cmd::opcode::atc_inv: {  // §4.5.1: ILLEGAL without IDR0.ATS; Size > 52 may be
      const auto v = c.as<cmd::atc_inv::layout>();
      return ill(f.ats && common_ok<cmd::atc_inv::layout>(c) && v.get<cmd::atc_inv::Size>() <= 52);
    }
    case cmd::opcode::pri_resp: {  // §4.5.2: ILLEGAL without IDR0.PRI, Resp == 0b11 ILLEGAL
      const auto v = c.as<cmd::pri_resp::layout>();
      return ill(f.pri && common_ok<cmd::pri_resp::layout>(c) &&
                 static_cast<unsigned>(v.get<cmd::pri_resp::Resp>()) != 0b11);
    }
    case cmd::opcode::resume:  // §4.7.1, §4.7.2: CERROR_ILL when STALL_MODEL == 0b01
      return ill(f.stall && common_ok<cmd::resume::layout>(c));
    case cmd::opcode::stall_term:
      return ill(f.stall && common_ok<cmd::stall_term::layout>(c));
    case cmd::opcode::sync: {  // §4.7.3: CS == 0b11 Reserved; MSI_NS RES0 off the Realm queue
      // The RES0 MSIAddress bits are Reserved whatever CS says: IGNORED parameters (SIG_NONE,
      // no IDR0.MSI) keep their field spans.
      const auto v = c.as<cmd::sync::layout>();
      return ill(common_ok<cmd::sync::layout>(c) &&
                 static_cast<unsigned>(v.get<cmd::sync::CS>()) != 0b11 &&
                 !v.get<cmd::sync::MSI_NS>() && pa_field_ok(v.get<cmd::sync::MSIAddress>(), f));
    }
    case cmd::opcode::dpti_all:  // §4.6: CERROR_ILL without IDR3.DPT
      return ill(f.dpt && common_ok<cmd::dpti_all::layout>(c));
    case cmd::opcode::dpti_pa:
      // Its parameters are not declared (commands.hpp): with DPT the bits go to the handler.
      // Its physical address is among them, so its §4.1.6 RES0 bits go unchecked too.
      return ill(f.dpt);
    // EL3, Secure EL2, Secure stage 2 and Secure-all invalidations are valid only on the
    // Secure Command queue (§4.4.2.5-6, §4.4.2.11-14, §4.4.3.3-4, §4.4.4.2).
    case cmd::opcode::tlbi_el3_all:
    case cmd::opcode::tlbi_el3_va:
    case cmd::opcode::tlbi_s_el2_all:
    case cmd::opcode::tlbi_s_el2_asid:
    case cmd::opcode::tlbi_s_el2_va:
    case cmd::opcode::tlbi_s_el2_vaa:
    case cmd::opcode::tlbi_s_s12_vmall:
    case cmd::opcode::tlbi_s_s2_ipa:
    case cmd::opcode::tlbi_snh_all:
      return smmuv3::cerror::ill;
  }
  // Reserved opcodes, and the IMPLEMENTATION DEFINED 0x80-0x8F this model does not define.
  return smmuv3::cerror::ill;
}

}  // namespace vsmmu::queue
