// Feature conformance: id_registers and the rules of conformance.hpp, one minimal violating
// feature set per rule.
#include <catch2/catch.hpp>

#include <vsmmu/smmuv3/conformance.hpp>
#include <vsmmu/smmuv3/features.hpp>

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace smmu = vsmmu::smmuv3;
namespace regs = vsmmu::smmuv3::regs;
using smmu::address_size;
using smmu::id_registers;
using smmu::rule;

namespace i0 = regs::idr0;
namespace i1 = regs::idr1;
namespace i3 = regs::idr3;
namespace i5 = regs::idr5;
using MajorRev = regs::aidr::ArchMajorRev;
using MinorRev = regs::aidr::ArchMinorRev;

namespace {

// Conforming feature sets, one per revision, each adding what the next revision makes
// mandatory (IHI 0070 §6.3.4).
constexpr id_registers v30 = smmu::default_id_registers;
constexpr id_registers v31 = v30.with<MinorRev>(regs::arch_minor_rev::v3_1)
                                 .with<i3::HAD>(true)   // mandatory with stage 1
                                 .with<i3::XNX>(true);  // mandatory with stage 2
constexpr id_registers v32 = v31.with<MinorRev>(regs::arch_minor_rev::v3_2)
                                 .with<i3::RIL>(true)
                                 .with<i3::FWB>(true)
                                 .with<i3::BBML>(regs::bbml::level1);
constexpr id_registers v33 =
    v32.with<MinorRev>(regs::arch_minor_rev::v3_3).with<i3::E0PD>(true).with<i3::PTWNNC>(true);
constexpr id_registers v34 =
    v33.with<MinorRev>(regs::arch_minor_rev::v3_4).with<i3::EPAN>(true).with<i3::MTEPERM>(true);

// Every revision's base passes, at compile time as well.
static_assert(smmu::conforms<v30>);
static_assert(smmu::conforms<v31>);
static_assert(smmu::conforms<v32>);
static_assert(smmu::conforms<v33>);
static_assert(smmu::conforms<v34>);
static_assert(smmu::check(v34) == std::nullopt);

template <class E>
constexpr E encoding(unsigned raw) {
  return static_cast<E>(raw);  // a value the enumeration leaves reserved
}

struct violation_case {
  rule expected;
  std::string_view name;  // the enumerator's spelling
  id_registers idrs;
  std::vector<rule> also = {};  // rules the same change cannot help breaking
};

// One case per rule (some rules have two): the smallest change to a conforming base that
// breaks it. `also` lists the rules that necessarily break with it.
const std::vector<violation_case>& cases() {
  static const std::vector<violation_case> all = {
      {rule::arch_revision_reserved, "arch_revision_reserved",
       v30.with<MajorRev>(encoding<regs::arch_major_rev>(1))},
      {rule::arch_revision_reserved, "arch_revision_reserved",
       v34.with<MinorRev>(encoding<regs::arch_minor_rev>(5))},
      // §3.3. Hyp must go too: it is RES0 without both stages.
      {rule::at_least_one_stage, "at_least_one_stage",
       v30.with<i0::S1P>(false).with<i0::S2P>(false).with<i0::Hyp>(false)},
      {rule::ttf_reserved,
       "ttf_reserved",
       v30.with<i0::TTF>(encoding<regs::ttf>(0)),
       {rule::policy_aarch64_tables_required}},
      {rule::stall_model_reserved, "stall_model_reserved",
       v30.with<i0::STALL_MODEL>(encoding<regs::stall_model>(3))},
      {rule::ttendian_reserved, "ttendian_reserved",
       v30.with<i0::TTENDIAN>(encoding<regs::ttendian>(1))},
      {rule::st_level_reserved, "st_level_reserved",
       v30.with<i0::ST_LEVEL>(encoding<regs::st_level>(2))},
      {rule::hyp_requires_s1p_and_s2p, "hyp_requires_s1p_and_s2p", v30.with<i0::S2P>(false)},
      {rule::hyp_required_from_v3_2, "hyp_required_from_v3_2", v32.with<i0::Hyp>(false)},
      {rule::ns1ats_requires_ats_s1p_s2p, "ns1ats_requires_ats_s1p_s2p",
       v30.with<i0::NS1ATS>(true)},
      {rule::pri_requires_ats, "pri_requires_ats", v30.with<i0::PRI>(true)},
      {rule::atsrecerr_requires_ats, "atsrecerr_requires_ats", v30.with<i0::ATSRECERR>(true)},
      {rule::vmw_requires_s2p, "vmw_requires_s2p",
       v30.with<i0::S2P>(false).with<i0::Hyp>(false).with<i0::VMW>(true)},
      {rule::vatos_requires_atos_s1p_s2p, "vatos_requires_atos_s1p_s2p", v30.with<i0::VATOS>(true)},
      {rule::sidsize_too_large, "sidsize_too_large", v30.with<i1::SIDSIZE>(33)},
      {rule::sidsize_7_or_more_needs_two_level_table, "sidsize_7_or_more_needs_two_level_table",
       v30.with<i0::ST_LEVEL>(regs::st_level::linear)},
      {rule::ssidsize_too_large, "ssidsize_too_large", v30.with<i1::SSIDSIZE>(21)},
      {rule::cmdqs_too_large, "cmdqs_too_large", v30.with<i1::CMDQS>(20)},
      {rule::eventqs_too_large, "eventqs_too_large", v30.with<i1::EVENTQS>(20)},
      {rule::priqs_too_large, "priqs_too_large",
       v30.with<i0::ATS>(true).with<i0::PRI>(true).with<i1::PRIQS>(20)},
      {rule::rel_requires_preset, "rel_requires_preset", v30.with<i1::REL>(true)},
      {rule::ecmdq_requires_cohacc_msi_and_no_queues_preset,
       "ecmdq_requires_cohacc_msi_and_no_queues_preset",
       v30.with<i1::ECMDQ>(true).with<i1::QUEUES_PRESET>(true)},
      {rule::ecmdq_requires_cohacc_msi_and_no_queues_preset,
       "ecmdq_requires_cohacc_msi_and_no_queues_preset",
       v30.with<i1::ECMDQ>(true).with<i0::MSI>(false)},
      {rule::ba_vatos_requires_vatos, "ba_vatos_requires_vatos", v30.with<regs::idr2::BA_VATOS>(3)},
      {rule::dpt_requires_ats, "dpt_requires_ats", v30.with<i3::DPT>(true)},
      {rule::dpt_excludes_aarch32_tables, "dpt_excludes_aarch32_tables",
       v30.with<i0::ATS>(true).with<i3::DPT>(true).with<i0::TTF>(
           regs::ttf::aarch32_lpae_and_aarch64)},
      {rule::bbml_reserved, "bbml_reserved", v30.with<i3::BBML>(encoding<regs::bbml>(3))},
      {rule::had_requires_s1p, "had_requires_s1p",
       v30.with<i0::S1P>(false).with<i0::Hyp>(false).with<i3::HAD>(true)},
      // Without stage 1, SMMUv3.1 does not require HAD, so PBHA alone is the fault.
      {rule::pbha_requires_had, "pbha_requires_had",
       v31.with<i0::S1P>(false).with<i0::Hyp>(false).with<i3::HAD>(false).with<i3::PBHA>(true)},
      {rule::xnx_pbha_reserved_in_v3_0, "xnx_pbha_reserved_in_v3_0", v30.with<i3::XNX>(true)},
      {rule::had_xnx_required_from_v3_1, "had_xnx_required_from_v3_1", v31.with<i3::XNX>(false)},
      {rule::ril_fwb_bbml_required_from_v3_2, "ril_fwb_bbml_required_from_v3_2",
       v32.with<i3::RIL>(false)},
      {rule::ril_fwb_bbml_required_from_v3_2, "ril_fwb_bbml_required_from_v3_2",
       v32.with<i3::BBML>(regs::bbml::level0)},
      {rule::e0pd_ptwnnc_required_from_v3_3, "e0pd_ptwnnc_required_from_v3_3",
       v33.with<i3::PTWNNC>(false)},
      {rule::epan_mteperm_required_from_v3_4, "epan_mteperm_required_from_v3_4",
       v34.with<i3::EPAN>(false)},
      // 52-bit OAS does not exist in SMMUv3.0 (§6.3.6; the base has GRAN64K for the 52-bit rule).
      {rule::oas_reserved_for_version, "oas_reserved_for_version",
       v30.with<i5::OAS>(address_size::bits52)},
      // 56-bit OAS only from SMMUv3.4, even with D128.
      {rule::oas_reserved_for_version, "oas_reserved_for_version",
       v33.with<i5::OAS>(address_size::bits56).with<i5::D128>(true)},
      {rule::oas_52_requires_gran64k, "oas_52_requires_gran64k",
       v31.with<i5::OAS>(address_size::bits52).with<i5::GRAN64K>(false)},
      {rule::oas_56_requires_d128, "oas_56_requires_d128", v34.with<i5::OAS>(address_size::bits56)},
      {rule::no_granule, "no_granule", v30.with<i5::GRAN4K>(false).with<i5::GRAN64K>(false)},
      {rule::gran4k_required_for_aarch32, "gran4k_required_for_aarch32",
       v30.with<i0::TTF>(regs::ttf::aarch32_lpae_and_aarch64).with<i5::GRAN4K>(false)},
      {rule::ds_requires_gran4k_or_gran16k, "ds_requires_gran4k_or_gran16k",
       v31.with<i5::DS>(true).with<i5::GRAN4K>(false).with<i5::VAX>(regs::vax::bits52)},
      {rule::ds_requires_vax_52, "ds_requires_vax_52", v31.with<i5::DS>(true)},
      {rule::vax_reserved_for_version, "vax_reserved_for_version",
       v30.with<i5::VAX>(regs::vax::bits52)},
      {rule::vax_reserved_for_version, "vax_reserved_for_version",
       v31.with<i5::VAX>(encoding<regs::vax>(3))},
      {rule::vax_52_requires_gran64k_or_ds, "vax_52_requires_gran64k_or_ds",
       v31.with<i5::VAX>(regs::vax::bits52).with<i5::GRAN64K>(false)},
      {rule::vax_56_requires_d128, "vax_56_requires_d128", v34.with<i5::VAX>(regs::vax::bits56)},
      {rule::d128_requires_aarch64_only, "d128_requires_aarch64_only",
       v34.with<i5::D128>(true).with<i0::TTF>(regs::ttf::aarch32_lpae_and_aarch64)},
      {rule::policy_aarch64_tables_required, "policy_aarch64_tables_required",
       v30.with<i0::TTF>(regs::ttf::aarch32_lpae)},
  };
  return all;
}

}  // namespace

TEST_CASE("each revision's conforming base passes every rule") {
  for (const id_registers& base : {v30, v31, v32, v33, v34}) {
    INFO("AIDR " << base.aidr);
    CHECK(smmu::check(base) == std::nullopt);
    CHECK(smmu::violations(base).empty());
  }
  CHECK(v30 == smmu::default_id_registers);
}

TEST_CASE("each rule catches its minimal violating feature set") {
  for (const auto& c : cases()) {
    INFO(c.name << " with IDR0 " << c.idrs.idr0 << " IDR1 " << c.idrs.idr1 << " IDR3 "
                << c.idrs.idr3 << " IDR5 " << c.idrs.idr5 << " AIDR " << c.idrs.aidr);
    CHECK(smmu::to_string(c.expected) == c.name);
    CHECK(smmu::violates(c.idrs, c.expected));
    CHECK(smmu::check(c.idrs) == c.expected);
    smmu::rule_set expected;
    expected.insert(c.expected);
    for (rule r : c.also) expected.insert(r);
    CHECK(smmu::violations(c.idrs) == expected);
  }
}

TEST_CASE("every rule has a violating case") {
  std::set<rule> covered;
  for (const auto& c : cases()) covered.insert(c.expected);
  for (std::size_t i = 0; i < smmu::rule_count; ++i) {
    INFO(smmu::to_string(static_cast<rule>(i)));
    CHECK(covered.count(static_cast<rule>(i)) == 1);
  }
}

TEST_CASE("spec boundaries are allowed, one past them is not") {
  // IHI 0070 §6.3.2: SIDSIZE 0..32, SSIDSIZE 0..20, queue sizes up to 19.
  CHECK(smmu::check(v30.with<i1::SIDSIZE>(32)) == std::nullopt);
  CHECK(smmu::check(v30.with<i1::SSIDSIZE>(20)) == std::nullopt);
  CHECK(smmu::check(v30.with<i1::CMDQS>(19).with<i1::EVENTQS>(19)) == std::nullopt);
  // SIDSIZE 6 fits a linear table; 7 needs 2-level support.
  const id_registers linear = v30.with<i0::ST_LEVEL>(regs::st_level::linear);
  CHECK(smmu::check(linear.with<i1::SIDSIZE>(6)) == std::nullopt);
  CHECK(smmu::check(linear.with<i1::SIDSIZE>(7)) == rule::sidsize_7_or_more_needs_two_level_table);
  // Without PRI, PRIQS holds an IMPLEMENTATION SPECIFIC value and is not checked.
  CHECK(smmu::check(v30.with<i1::PRIQS>(31)) == std::nullopt);
  CHECK(smmu::check(v30.with<i0::ATS>(true).with<i0::PRI>(true).with<i1::PRIQS>(19)) ==
        std::nullopt);
  // One stage is enough.
  CHECK(smmu::check(v30.with<i0::S2P>(false).with<i0::Hyp>(false)) == std::nullopt);
  CHECK(smmu::check(v30.with<i0::S1P>(false).with<i0::Hyp>(false)) == std::nullopt);
  // A single granule of any size is enough.
  CHECK(smmu::check(v30.with<i5::GRAN4K>(false)) == std::nullopt);
  CHECK(smmu::check(v30.with<i5::GRAN64K>(false)) == std::nullopt);
  CHECK(smmu::check(v30.with<i5::GRAN4K>(false).with<i5::GRAN64K>(false).with<i5::GRAN16K>(true)) ==
        std::nullopt);
  // Before SMMUv3.2, Hyp is optional even with both stages.
  CHECK(smmu::check(v31.with<i0::Hyp>(false)) == std::nullopt);
  // ECMDQ with COHACC, MSI and no preset queues is fine.
  CHECK(smmu::check(v30.with<i1::ECMDQ>(true)) == std::nullopt);
  // REL with a preset.
  CHECK(smmu::check(v30.with<i1::REL>(true).with<i1::TABLES_PRESET>(true)) == std::nullopt);
  // VATOS with ATOS and both stages, and its page offset.
  CHECK(smmu::check(v30.with<i0::VATOS>(true).with<i0::ATOS>(true).with<regs::idr2::BA_VATOS>(1)) ==
        std::nullopt);
  // Full ATS with split-stage disabled.
  CHECK(smmu::check(v30.with<i0::ATS>(true).with<i0::NS1ATS>(true)) == std::nullopt);
}

TEST_CASE("52- and 56-bit output addresses follow the revision and the granule rules") {
  // §6.3.6: 52 bits from SMMUv3.1 with GRAN64K, or DS, or D128.
  const id_registers oas52 = v31.with<i5::OAS>(address_size::bits52);
  CHECK(smmu::check(oas52) == std::nullopt);  // GRAN64K
  const id_registers no64k = oas52.with<i5::GRAN64K>(false);
  CHECK(smmu::check(no64k) == rule::oas_52_requires_gran64k);
  CHECK(smmu::check(no64k.with<i5::DS>(true).with<i5::VAX>(regs::vax::bits52)) == std::nullopt);
  CHECK(
      smmu::check(
          v34.with<i5::OAS>(address_size::bits52).with<i5::GRAN64K>(false).with<i5::D128>(true)) ==
      std::nullopt);
  // 56 bits from SMMUv3.4, with D128.
  CHECK(smmu::check(v34.with<i5::OAS>(address_size::bits56).with<i5::D128>(true)) == std::nullopt);
  CHECK(smmu::check(v33.with<i5::OAS>(address_size::bits56).with<i5::D128>(true)) ==
        rule::oas_reserved_for_version);
  // 48 bits and below are fine in every revision.
  CHECK(smmu::check(v30.with<i5::OAS>(address_size::bits32)) == std::nullopt);
}

TEST_CASE("check() reports the first broken rule in declaration order") {
  // Both reserved TTF and the AArch64 policy break; ttf_reserved comes first.
  const id_registers both = v30.with<i0::TTF>(encoding<regs::ttf>(0));
  CHECK(smmu::check(both) == rule::ttf_reserved);
  CHECK(smmu::violations(both).size() == 2);
  CHECK(smmu::violations(both).first() == rule::ttf_reserved);
  // Everything wrong at once: the AIDR rule is checked first.
  const id_registers all_wrong{0xffff'ffffU, 0xffff'ffffU, 0xffff'ffffU, 0xffff'ffffU,
                               0xffff'ffffU, 0xffff'ffffU, 0xffff'ffffU};
  CHECK(smmu::check(all_wrong) == rule::arch_revision_reserved);
  CHECK(smmu::violations(all_wrong).size() > 10);
  CHECK(smmu::check(id_registers{}) == rule::at_least_one_stage);
}

TEST_CASE("rule names and descriptions are distinct and cite their source") {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < smmu::rule_count; ++i) {
    const rule r = static_cast<rule>(i);
    INFO(smmu::to_string(r));
    CHECK(names.insert(smmu::to_string(r)).second);
    CHECK_FALSE(smmu::description(r).empty());
    const bool cites = smmu::description(r).find('(') != std::string_view::npos;
    CHECK(cites);
  }
  CHECK(smmu::to_string(rule::hyp_requires_s1p_and_s2p) == "hyp_requires_s1p_and_s2p");
  CHECK(smmu::to_string(static_cast<rule>(smmu::rule_count)) == "?");
}

TEST_CASE("rule_set records membership and the lowest-numbered rule") {
  smmu::rule_set s;
  CHECK(s.empty());
  CHECK(s.first() == std::nullopt);
  s.insert(rule::policy_aarch64_tables_required);
  s.insert(rule::pri_requires_ats);
  s.insert(rule::pri_requires_ats);
  CHECK(s.size() == 2);
  CHECK(s.contains(rule::pri_requires_ats));
  CHECK_FALSE(s.contains(rule::no_granule));
  CHECK(s.first() == rule::pri_requires_ats);
}

TEST_CASE("id_registers reads and replaces fields of whichever ID register holds them") {
  const id_registers r = v30.with<i5::OAS>(address_size::bits44).with<i1::SIDSIZE>(8);
  CHECK(r.get<i5::OAS>() == address_size::bits44);
  CHECK(r.get<i1::SIDSIZE>() == 8);
  CHECK(r.idr5 == ((v30.idr5 & ~0x7U) | 0b100U));
  CHECK(r.idr1 == ((v30.idr1 & ~0x3fU) | 8U));
  CHECK(r.idr0 == v30.idr0);
  CHECK(r.revision() == regs::arch_minor_rev::v3_0);
  CHECK(v32.revision() == regs::arch_minor_rev::v3_2);

  // Whole typed registers in, whole typed registers out.
  regs::idr3::value idr3;
  idr3.init<i3::RIL>(true).init<i3::BBML>(regs::bbml::level2);
  const id_registers with3 = v30.with(idr3);
  CHECK(with3.idr3 == (1U << 10 | 0b10U << 11));
  CHECK(with3.idr3_value() == idr3);
  CHECK(with3.get<i3::BBML>() == regs::bbml::level2);

  const id_registers built = smmu::make_id_registers(
      v32.idr0_value(), v32.idr1_value(), v32.idr2_value(), v32.idr3_value(), v32.idr4_value(),
      v32.idr5_value(), v32.aidr_value());
  CHECK(built == v32);
  CHECK(built != v31);
}

namespace {
// What an embedder writes: the feature set as a template argument, checked where it is used.
template <id_registers R>
struct model {
  static_assert(smmu::conforms<R>);
  static constexpr unsigned stream_id_bits = R.get<i1::SIDSIZE>();
  static constexpr bool nested = R.get<i0::S1P>() && R.get<i0::S2P>();
};
}  // namespace

TEST_CASE("a feature set is a non-type template argument checked at compile time") {
  using m = model<v34.with<i1::SIDSIZE>(20)>;
  STATIC_REQUIRE(m::stream_id_bits == 20);
  STATIC_REQUIRE(m::nested);
  STATIC_REQUIRE(smmu::check(v30.with<i0::S2P>(false)) == rule::hyp_requires_s1p_and_s2p);
  STATIC_REQUIRE(smmu::violations(v30).empty());
}
