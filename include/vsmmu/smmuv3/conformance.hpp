// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include <vsmmu/smmuv3/features.hpp>

// Whether a feature set is one the architecture allows: the constraints IHI 0070 places on the
// ID register fields (reserved encodings, fields that are RES0 unless another feature is
// present, features a revision makes mandatory), plus vsmmu's own policy.
//
//   constexpr auto r = vsmmu::smmuv3::check(idrs);      // std::optional<rule>
//   static_assert(vsmmu::smmuv3::conforms<my_idrs>);    // fails naming the rule
namespace vsmmu::smmuv3 {

// One enumerator per rule, in the order check() tries them: AIDR, then IDR0, IDR1, IDR2, IDR3,
// IDR5 in field order, then vsmmu's policy.
enum class rule : std::uint8_t {
  arch_revision_reserved,
  at_least_one_stage,
  ttf_reserved,
  stall_model_reserved,
  ttendian_reserved,
  st_level_reserved,
  hyp_requires_s1p_and_s2p,
  hyp_required_from_v3_2,
  ns1ats_requires_ats_s1p_s2p,
  pri_requires_ats,
  atsrecerr_requires_ats,
  vmw_requires_s2p,
  vatos_requires_atos_s1p_s2p,
  sidsize_too_large,
  sidsize_7_or_more_needs_two_level_table,
  ssidsize_too_large,
  cmdqs_too_large,
  eventqs_too_large,
  priqs_too_large,
  rel_requires_preset,
  ecmdq_requires_cohacc_msi_and_no_queues_preset,
  ba_vatos_requires_vatos,
  dpt_requires_ats,
  dpt_excludes_aarch32_tables,
  bbml_reserved,
  had_requires_s1p,
  pbha_requires_had,
  xnx_pbha_reserved_in_v3_0,
  had_xnx_required_from_v3_1,
  ril_fwb_bbml_required_from_v3_2,
  e0pd_ptwnnc_required_from_v3_3,
  epan_mteperm_required_from_v3_4,
  oas_reserved_for_version,
  oas_52_requires_gran64k,
  oas_56_requires_d128,
  no_granule,
  gran4k_required_for_aarch32,
  ds_requires_gran4k_or_gran16k,
  ds_requires_vax_52,
  vax_reserved_for_version,
  vax_52_requires_gran64k_or_ds,
  vax_56_requires_d128,
  d128_requires_aarch64_only,
  policy_aarch64_tables_required,  // vsmmu's policy, not the architecture's
};

inline constexpr std::size_t rule_count =
    static_cast<std::size_t>(rule::policy_aarch64_tables_required) + 1;

namespace detail {
struct rule_text {
  rule id;
  std::string_view name;
  std::string_view description;
};

// clang-format off
inline constexpr std::array<rule_text, rule_count> rule_texts{{
  {rule::arch_revision_reserved, "arch_revision_reserved",
   "SMMU_AIDR names no defined revision (ArchMajorRev 0, ArchMinorRev 0-4: SMMUv3.0-v3.4) (6.3.8)"},
  {rule::at_least_one_stage, "at_least_one_stage",
   "an SMMU supports at least one stage of translation: SMMU_IDR0.S1P or S2P (3.3)"},
  {rule::ttf_reserved, "ttf_reserved", "SMMU_IDR0.TTF == 0b00 is reserved (6.3.1)"},
  {rule::stall_model_reserved, "stall_model_reserved",
   "SMMU_IDR0.STALL_MODEL == 0b11 is reserved (6.3.1)"},
  {rule::ttendian_reserved, "ttendian_reserved", "SMMU_IDR0.TTENDIAN == 0b01 is reserved (6.3.1)"},
  {rule::st_level_reserved, "st_level_reserved", "SMMU_IDR0.ST_LEVEL == 0b1x is reserved (6.3.1)"},
  {rule::hyp_requires_s1p_and_s2p, "hyp_requires_s1p_and_s2p",
   "SMMU_IDR0.Hyp is RES0 unless both S1P and S2P are 1 (6.3.1)"},
  {rule::hyp_required_from_v3_2, "hyp_required_from_v3_2",
   "from SMMUv3.2, SMMU_IDR0.Hyp is 1 when S1P and S2P are both 1 (6.3.1)"},
  {rule::ns1ats_requires_ats_s1p_s2p, "ns1ats_requires_ats_s1p_s2p",
   "SMMU_IDR0.NS1ATS is RES0 unless ATS, S1P and S2P are all 1 (6.3.1)"},
  {rule::pri_requires_ats, "pri_requires_ats", "SMMU_IDR0.PRI is RES0 when ATS == 0 (6.3.1)"},
  {rule::atsrecerr_requires_ats, "atsrecerr_requires_ats",
   "SMMU_IDR0.ATSRECERR is RES0 when ATS == 0 (6.3.1)"},
  {rule::vmw_requires_s2p, "vmw_requires_s2p", "SMMU_IDR0.VMW is RES0 when S2P == 0 (6.3.1)"},
  {rule::vatos_requires_atos_s1p_s2p, "vatos_requires_atos_s1p_s2p",
   "SMMU_IDR0.VATOS requires ATOS and both stages of translation (6.3.1)"},
  {rule::sidsize_too_large, "sidsize_too_large", "SMMU_IDR1.SIDSIZE is at most 32 (6.3.2)"},
  {rule::sidsize_7_or_more_needs_two_level_table, "sidsize_7_or_more_needs_two_level_table",
   "SMMU_IDR1.SIDSIZE >= 7 requires SMMU_IDR0.ST_LEVEL != 0b00 (6.3.2)"},
  {rule::ssidsize_too_large, "ssidsize_too_large", "SMMU_IDR1.SSIDSIZE is at most 20 (6.3.2)"},
  {rule::cmdqs_too_large, "cmdqs_too_large", "SMMU_IDR1.CMDQS is at most 19 (6.3.2)"},
  {rule::eventqs_too_large, "eventqs_too_large", "SMMU_IDR1.EVENTQS is at most 19 (6.3.2)"},
  {rule::priqs_too_large, "priqs_too_large",
   "SMMU_IDR1.PRIQS is at most 19 when SMMU_IDR0.PRI == 1 (6.3.2)"},
  {rule::rel_requires_preset, "rel_requires_preset",
   "SMMU_IDR1.REL is RES0 unless TABLES_PRESET or QUEUES_PRESET is 1 (6.3.2)"},
  {rule::ecmdq_requires_cohacc_msi_and_no_queues_preset,
   "ecmdq_requires_cohacc_msi_and_no_queues_preset",
   "SMMU_IDR1.ECMDQ requires SMMU_IDR0.COHACC == 1, MSI == 1 and QUEUES_PRESET == 0 (6.3.2)"},
  {rule::ba_vatos_requires_vatos, "ba_vatos_requires_vatos",
   "SMMU_IDR2.BA_VATOS is RES0 unless SMMU_IDR0.VATOS == 1 (6.3.3)"},
  {rule::dpt_requires_ats, "dpt_requires_ats",
   "SMMU_IDR3.DPT == 1 requires SMMU_IDR0.ATS == 1 (6.3.4)"},
  {rule::dpt_excludes_aarch32_tables, "dpt_excludes_aarch32_tables",
   "SMMU_IDR0.TTF[0] is 0 when SMMU_IDR3.DPT == 1 (6.3.1)"},
  {rule::bbml_reserved, "bbml_reserved", "SMMU_IDR3.BBML == 0b11 is reserved (6.3.4)"},
  {rule::had_requires_s1p, "had_requires_s1p",
   "SMMU_IDR3.HAD is 0 when SMMU_IDR0.S1P == 0 (6.3.4)"},
  {rule::pbha_requires_had, "pbha_requires_had",
   "SMMU_IDR3.PBHA == 1 requires SMMU_IDR3.HAD == 1 (6.3.4)"},
  {rule::xnx_pbha_reserved_in_v3_0, "xnx_pbha_reserved_in_v3_0",
   "SMMU_IDR3.XNX and PBHA are RES0 in SMMUv3.0 (6.3.4)"},
  {rule::had_xnx_required_from_v3_1, "had_xnx_required_from_v3_1",
   "from SMMUv3.1, SMMU_IDR3.HAD is 1 with stage 1 and XNX is 1 with stage 2 (6.3.4)"},
  {rule::ril_fwb_bbml_required_from_v3_2, "ril_fwb_bbml_required_from_v3_2",
   "from SMMUv3.2, SMMU_IDR3.RIL and FWB are 1 and BBML is level 1 or 2 (6.3.4)"},
  {rule::e0pd_ptwnnc_required_from_v3_3, "e0pd_ptwnnc_required_from_v3_3",
   "from SMMUv3.3, SMMU_IDR3.E0PD is 1, and PTWNNC is 1 with stage 2 (6.3.4)"},
  {rule::epan_mteperm_required_from_v3_4, "epan_mteperm_required_from_v3_4",
   "from SMMUv3.4, SMMU_IDR3.EPAN is 1, and MTEPERM is 1 with stage 2 (6.3.4)"},
  {rule::oas_reserved_for_version, "oas_reserved_for_version",
   "SMMU_IDR5.OAS 52 bits is reserved in SMMUv3.0, 56 bits up to SMMUv3.3 (6.3.6)"},
  {rule::oas_52_requires_gran64k, "oas_52_requires_gran64k",
   "a 52-bit SMMU_IDR5.OAS requires GRAN64K, DS or D128 (6.3.6)"},
  {rule::oas_56_requires_d128, "oas_56_requires_d128",
   "a 56-bit SMMU_IDR5.OAS requires D128 (6.3.6)"},
  {rule::no_granule, "no_granule",
   "SMMU_IDR5 has no translation granule: a translating stage needs one (3.3, 6.3.6)"},
  {rule::gran4k_required_for_aarch32, "gran4k_required_for_aarch32",
   "SMMU_IDR5.GRAN4K is RES1 when SMMU_IDR0.TTF[0] == 1 (6.3.6)"},
  {rule::ds_requires_gran4k_or_gran16k, "ds_requires_gran4k_or_gran16k",
   "SMMU_IDR5.DS is RES0 unless GRAN4K or GRAN16K is 1 (6.3.6)"},
  {rule::ds_requires_vax_52, "ds_requires_vax_52",
   "SMMU_IDR5.DS == 1 requires a VAX of at least 52 bits (6.3.6)"},
  {rule::vax_reserved_for_version, "vax_reserved_for_version",
   "SMMU_IDR5.VAX == 0b11 is reserved, and VAX is RES0 in SMMUv3.0 (6.3.6)"},
  {rule::vax_52_requires_gran64k_or_ds, "vax_52_requires_gran64k_or_ds",
   "SMMU_IDR5.VAX >= 52 bits requires GRAN64K, or DS with GRAN4K or GRAN16K (6.3.6)"},
  {rule::vax_56_requires_d128, "vax_56_requires_d128",
   "a 56-bit SMMU_IDR5.VAX requires D128 (6.3.6)"},
  {rule::d128_requires_aarch64_only, "d128_requires_aarch64_only",
   "SMMU_IDR5.D128 == 1 requires SMMU_IDR0.TTF == 0b10 (VMSAv8-64 only) (6.3.6)"},
  {rule::policy_aarch64_tables_required, "policy_aarch64_tables_required",
   "vsmmu policy: SMMU_IDR0.TTF includes VMSAv8-64 (VMSAv8-32 LPAE alone is not modelled)"},
}};
// clang-format on

[[nodiscard]] consteval bool rule_texts_in_order() {
  for (std::size_t i = 0; i < rule_texts.size(); ++i) {
    if (static_cast<std::size_t>(rule_texts[i].id) != i) return false;
  }
  return true;
}
static_assert(rule_texts_in_order(), "vsmmu: rule_texts out of step with enum class rule");

template <class E>
[[nodiscard]] constexpr unsigned encoding_of(E e) noexcept {
  return static_cast<unsigned>(e);
}
}  // namespace detail

// The rule's name, as spelled in the enumeration: "hyp_requires_s1p_and_s2p".
[[nodiscard]] constexpr std::string_view to_string(rule r) noexcept {
  const auto i = static_cast<std::size_t>(r);
  return i < rule_count ? detail::rule_texts[i].name : std::string_view{"?"};
}

// What the rule requires, with the IHI 0070 section it comes from.
[[nodiscard]] constexpr std::string_view description(rule r) noexcept {
  const auto i = static_cast<std::size_t>(r);
  return i < rule_count ? detail::rule_texts[i].description : std::string_view{"?"};
}

// True when `idrs` breaks rule `r`.
[[nodiscard]] constexpr bool violates(const id_registers& idrs, rule r) noexcept {
  namespace i0 = regs::idr0;
  namespace i1 = regs::idr1;
  namespace i3 = regs::idr3;
  namespace i5 = regs::idr5;
  const auto raw = [](auto e) { return detail::encoding_of(e); };
  const unsigned minor = raw(idrs.get<regs::aidr::ArchMinorRev>());
  const bool s1p = idrs.get<i0::S1P>();
  const bool s2p = idrs.get<i0::S2P>();
  const bool ats = idrs.get<i0::ATS>();
  const unsigned ttf = raw(idrs.get<i0::TTF>());
  const bool aarch32 = (ttf & 0b01U) != 0;
  const bool aarch64 = (ttf & 0b10U) != 0;
  const bool gran4k = idrs.get<i5::GRAN4K>();
  const bool gran16k = idrs.get<i5::GRAN16K>();
  const bool gran64k = idrs.get<i5::GRAN64K>();
  const bool ds = idrs.get<i5::DS>();
  const bool d128 = idrs.get<i5::D128>();
  const auto oas = idrs.get<i5::OAS>();
  const unsigned vax = raw(idrs.get<i5::VAX>());

  switch (r) {
    case rule::arch_revision_reserved:
      return idrs.get<regs::aidr::ArchMajorRev>() != regs::arch_major_rev::smmuv3 ||
             minor > raw(regs::arch_minor_rev::v3_4);
    case rule::at_least_one_stage: return !s1p && !s2p;
    case rule::ttf_reserved: return ttf == 0b00;
    case rule::stall_model_reserved: return raw(idrs.get<i0::STALL_MODEL>()) == 0b11;
    case rule::ttendian_reserved: return raw(idrs.get<i0::TTENDIAN>()) == 0b01;
    case rule::st_level_reserved: return (raw(idrs.get<i0::ST_LEVEL>()) & 0b10U) != 0;
    case rule::hyp_requires_s1p_and_s2p: return idrs.get<i0::Hyp>() && !(s1p && s2p);
    case rule::hyp_required_from_v3_2:
      return minor >= raw(regs::arch_minor_rev::v3_2) && s1p && s2p && !idrs.get<i0::Hyp>();
    case rule::ns1ats_requires_ats_s1p_s2p: return idrs.get<i0::NS1ATS>() && !(ats && s1p && s2p);
    case rule::pri_requires_ats: return idrs.get<i0::PRI>() && !ats;
    case rule::atsrecerr_requires_ats: return idrs.get<i0::ATSRECERR>() && !ats;
    case rule::vmw_requires_s2p: return idrs.get<i0::VMW>() && !s2p;
    case rule::vatos_requires_atos_s1p_s2p:
      return idrs.get<i0::VATOS>() && !(idrs.get<i0::ATOS>() && s1p && s2p);
    case rule::sidsize_too_large: return idrs.get<i1::SIDSIZE>() > 32;
    case rule::sidsize_7_or_more_needs_two_level_table:
      return idrs.get<i1::SIDSIZE>() >= 7 && idrs.get<i0::ST_LEVEL>() == regs::st_level::linear;
    case rule::ssidsize_too_large: return idrs.get<i1::SSIDSIZE>() > 20;
    case rule::cmdqs_too_large: return idrs.get<i1::CMDQS>() > 19;
    case rule::eventqs_too_large: return idrs.get<i1::EVENTQS>() > 19;
    // Without PRI the field holds an IMPLEMENTATION SPECIFIC value (§6.3.2).
    case rule::priqs_too_large: return idrs.get<i0::PRI>() && idrs.get<i1::PRIQS>() > 19;
    case rule::rel_requires_preset:
      return idrs.get<i1::REL>() && !idrs.get<i1::TABLES_PRESET>() &&
             !idrs.get<i1::QUEUES_PRESET>();
    case rule::ecmdq_requires_cohacc_msi_and_no_queues_preset:
      return idrs.get<i1::ECMDQ>() &&
             (!idrs.get<i0::COHACC>() || !idrs.get<i0::MSI>() || idrs.get<i1::QUEUES_PRESET>());
    case rule::ba_vatos_requires_vatos:
      return idrs.get<regs::idr2::BA_VATOS>() != 0 && !idrs.get<i0::VATOS>();
    case rule::dpt_requires_ats: return idrs.get<i3::DPT>() && !ats;
    case rule::dpt_excludes_aarch32_tables: return idrs.get<i3::DPT>() && aarch32;
    case rule::bbml_reserved: return raw(idrs.get<i3::BBML>()) == 0b11;
    case rule::had_requires_s1p: return idrs.get<i3::HAD>() && !s1p;
    case rule::pbha_requires_had: return idrs.get<i3::PBHA>() && !idrs.get<i3::HAD>();
    case rule::xnx_pbha_reserved_in_v3_0:
      return minor == raw(regs::arch_minor_rev::v3_0) &&
             (idrs.get<i3::XNX>() || idrs.get<i3::PBHA>());
    case rule::had_xnx_required_from_v3_1:
      return minor >= raw(regs::arch_minor_rev::v3_1) &&
             ((s1p && !idrs.get<i3::HAD>()) || (s2p && !idrs.get<i3::XNX>()));
    case rule::ril_fwb_bbml_required_from_v3_2:
      return minor >= raw(regs::arch_minor_rev::v3_2) &&
             (!idrs.get<i3::RIL>() || !idrs.get<i3::FWB>() ||
              idrs.get<i3::BBML>() == regs::bbml::level0);
    case rule::e0pd_ptwnnc_required_from_v3_3:
      return minor >= raw(regs::arch_minor_rev::v3_3) &&
             (!idrs.get<i3::E0PD>() || (s2p && !idrs.get<i3::PTWNNC>()));
    case rule::epan_mteperm_required_from_v3_4:
      return minor >= raw(regs::arch_minor_rev::v3_4) &&
             (!idrs.get<i3::EPAN>() || (s2p && !idrs.get<i3::MTEPERM>()));
    // OAS 0b110 is reserved in SMMUv3.0 and 0b111 "in SMMUv3.3", i.e. up to it (§6.3.6).
    case rule::oas_reserved_for_version:
      return (oas == address_size::bits52 && minor < raw(regs::arch_minor_rev::v3_1)) ||
             (oas == address_size::bits56 && minor < raw(regs::arch_minor_rev::v3_4));
    // Named for the common case; DS (LPA2) or D128 descriptors also reach 52 bits (§6.3.6).
    case rule::oas_52_requires_gran64k:
      return oas == address_size::bits52 && !gran64k && !ds && !d128;
    case rule::oas_56_requires_d128: return oas == address_size::bits56 && !d128;
    // Not stated outright: follows from §3.3 (a stage must translate) and §6.3.6.
    case rule::no_granule: return !gran4k && !gran16k && !gran64k;
    case rule::gran4k_required_for_aarch32: return aarch32 && !gran4k;
    case rule::ds_requires_gran4k_or_gran16k: return ds && !gran4k && !gran16k;
    case rule::ds_requires_vax_52: return ds && vax == raw(regs::vax::bits48);
    case rule::vax_reserved_for_version:
      return vax == 0b11 || (minor == raw(regs::arch_minor_rev::v3_0) && vax != 0);
    case rule::vax_52_requires_gran64k_or_ds:
      return vax != raw(regs::vax::bits48) && !gran64k && !(ds && (gran4k || gran16k));
    case rule::vax_56_requires_d128: return vax == raw(regs::vax::bits56) && !d128;
    case rule::d128_requires_aarch64_only: return d128 && ttf != raw(regs::ttf::aarch64);
    case rule::policy_aarch64_tables_required: return !aarch64;
  }
  return false;
}

// A set of rules, one bit per rule.
class rule_set {
 public:
  constexpr rule_set() noexcept = default;
  constexpr void insert(rule r) noexcept { bits_ |= bit(r); }
  [[nodiscard]] constexpr bool contains(rule r) const noexcept { return (bits_ & bit(r)) != 0; }
  [[nodiscard]] constexpr bool empty() const noexcept { return bits_ == 0; }
  [[nodiscard]] constexpr std::size_t size() const noexcept {
    return static_cast<std::size_t>(std::popcount(bits_));
  }
  // The rule check() would report: the lowest-numbered one.
  [[nodiscard]] constexpr std::optional<rule> first() const noexcept {
    if (bits_ == 0) return std::nullopt;
    return static_cast<rule>(std::countr_zero(bits_));
  }
  friend constexpr bool operator==(const rule_set&, const rule_set&) = default;

 private:
  static_assert(rule_count <= 64, "vsmmu: rule_set holds at most 64 rules");
  [[nodiscard]] static constexpr std::uint64_t bit(rule r) noexcept {
    return std::uint64_t{1} << static_cast<unsigned>(r);
  }
  std::uint64_t bits_ = 0;
};

// Every rule `idrs` breaks.
[[nodiscard]] constexpr rule_set violations(const id_registers& idrs) noexcept {
  rule_set out;
  for (std::size_t i = 0; i < rule_count; ++i) {
    if (violates(idrs, static_cast<rule>(i))) out.insert(static_cast<rule>(i));
  }
  return out;
}

// The first rule `idrs` breaks, in declaration order, or nullopt for a conforming feature set.
[[nodiscard]] constexpr std::optional<rule> check(const id_registers& idrs) noexcept {
  for (std::size_t i = 0; i < rule_count; ++i) {
    if (violates(idrs, static_cast<rule>(i))) return static_cast<rule>(i);
  }
  return std::nullopt;
}

// Declared, never defined: instantiating it stops compilation with the rule in the message
// ("incomplete type error::feature_rule_violated<rule::hyp_requires_s1p_and_s2p>").
namespace error {
template <rule R>
struct feature_rule_violated;
}  // namespace error

namespace detail {
template <id_registers R>
constexpr bool report_conformance() {
  constexpr std::optional<rule> violated = check(R);
  if constexpr (violated.has_value()) {
    static_assert(sizeof(error::feature_rule_violated<*violated>) > 0,
                  "vsmmu: the ID registers break an SMMUv3 feature rule");
    return false;
  } else {
    return true;
  }
}
}  // namespace detail

// True for a conforming feature set; otherwise compilation fails naming the broken rule.
//   static_assert(vsmmu::smmuv3::conforms<my_idrs>);
template <id_registers R>
inline constexpr bool conforms = detail::report_conformance<R>();

}  // namespace vsmmu::smmuv3
