// SPDX-License-Identifier: BSL-1.0
// The register file (IHI 0070 §6): values a guest writes to any register, lookups by name and
// by MMIO offset, and the feature-set check over ID register values a host reports.
// Input: a selector byte, then the register value (or seven ID register words), then values
// to write, then a name to look up.
#include <vsmmu/smmuv3/conformance.hpp>
#include <vsmmu/smmuv3/features.hpp>
#include <vsmmu/smmuv3/registers.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "layout_invariants.hpp"
#include "type_list.hpp"

namespace {

namespace s = vsmmu::smmuv3;
namespace r = vsmmu::smmuv3::regs;
using vsmmu::fuzz::reader;

// Every register layout, in register_catalog order.
using registers = vsmmu::fuzz::type_list<
    r::idr0::layout, r::idr1::layout, r::idr2::layout, r::idr3::layout, r::idr4::layout,
    r::idr5::layout, r::iidr::layout, r::aidr::layout, r::cr0::layout, r::cr0ack::layout,
    r::cr1::layout, r::cr2::layout, r::statusr::layout, r::gbpa::layout, r::agbpa::layout,
    r::irq_ctrl::layout, r::irq_ctrlack::layout, r::gerror::layout, r::gerrorn::layout,
    r::gerror_irq_cfg0::layout, r::gerror_irq_cfg1::layout, r::gerror_irq_cfg2::layout,
    r::strtab_base::layout, r::strtab_base_cfg::layout, r::cmdq_base::layout, r::cmdq_prod::layout,
    r::cmdq_cons::layout, r::eventq_base::layout, r::eventq_irq_cfg0::layout,
    r::eventq_irq_cfg1::layout, r::eventq_irq_cfg2::layout, r::priq_base::layout,
    r::priq_irq_cfg0::layout, r::priq_irq_cfg1::layout, r::priq_irq_cfg2::layout,
    r::eventq_prod::layout, r::eventq_cons::layout, r::priq_prod::layout, r::priq_cons::layout>;
static_assert(registers::size == s::register_catalog.size(),
              "fuzz/registers_fuzzer.cpp: a register was added to the catalogue, not here");

template <class L>
void check_register(std::size_t index, reader& in) {
  const s::register_desc& d = s::register_catalog[index];
  vsmmu::fuzz::check_same_info<L>(d.layout);
  VSMMU_FUZZ_CHECK(d.width == L::bit_count, "a register's width differs from its layout");
  VSMMU_FUZZ_CHECK(d.width == 64 || (d.reset_value >> d.width) == 0,
                   "a reset value is wider than its register");
  VSMMU_FUZZ_CHECK(s::find_register(d.name) == &d, "find_register(name) misses a register");
  for (std::uint32_t b = 0; b < d.width / 8; ++b) {
    VSMMU_FUZZ_CHECK(s::find_register(d.page, d.offset + b) == &d,
                     "find_register(page, offset) misses a byte of a register");
  }
  vsmmu::fuzz::check_layout_from<L>(in);
}

// Any page and offset: nullptr, or the register that holds that byte.
void check_offset_lookup(reader& in) {
  const unsigned page = in.integer<std::uint8_t>() & 3U;
  const auto offset = in.integer<std::uint32_t>() & 0x1ffffU;
  const s::register_desc* found = s::find_register(page, offset);
  std::size_t holders = 0;
  for (const auto& d : s::register_catalog) {
    if (d.page == page && offset >= d.offset && offset < d.offset + d.width / 8) ++holders;
  }
  VSMMU_FUZZ_CHECK(holders <= 1, "two registers share a byte");
  VSMMU_FUZZ_CHECK((found != nullptr) == (holders == 1), "find_register(page, offset) is wrong");
  if (found != nullptr) {
    VSMMU_FUZZ_CHECK(
        found->page == page && offset >= found->offset && offset < found->offset + found->width / 8,
        "find_register(page, offset) returned a register that does not hold it");
    VSMMU_FUZZ_CHECK(s::absolute_offset(*found) == found->page * r::page_size + found->offset,
                     "absolute_offset is wrong");
  }
}

// Any ID register values a host may report: the conformance check is total and consistent,
// and the feature set reads each field as the register's own layout does.
void check_features(reader& in) {
  s::id_registers idrs;
  idrs.idr0 = in.integer<std::uint32_t>();
  idrs.idr1 = in.integer<std::uint32_t>();
  idrs.idr2 = in.integer<std::uint32_t>();
  idrs.idr3 = in.integer<std::uint32_t>();
  idrs.idr4 = in.integer<std::uint32_t>();
  idrs.idr5 = in.integer<std::uint32_t>();
  idrs.aidr = in.integer<std::uint32_t>();

  const s::rule_set all = s::violations(idrs);
  VSMMU_FUZZ_CHECK(s::check(idrs) == all.first(), "check() is not the first violation");
  std::size_t count = 0;
  for (std::size_t i = 0; i < s::rule_count; ++i) {
    const auto rule = static_cast<s::rule>(i);
    const bool broken = s::violates(idrs, rule);
    VSMMU_FUZZ_CHECK(all.contains(rule) == broken, "violations() and violates() differ");
    VSMMU_FUZZ_CHECK(s::to_string(rule) != "?" && !s::description(rule).empty(),
                     "a rule has no name or description");
    if (broken) ++count;
  }
  VSMMU_FUZZ_CHECK(all.size() == count && all.empty() == (count == 0), "rule_set counts wrong");

  const auto same_fields = [&]<class L>(std::uint32_t word) {
    const vsmmu::layout::value<L> v({word});
    L::visit_fields([&]<class F>() {
      if constexpr (!vsmmu::layout::reserved(F::access_mode)) {
        VSMMU_FUZZ_CHECK(idrs.get<F>() == v.template get<F>(),
                         "id_registers::get differs from the register's layout");
        const auto flipped = vsmmu::fuzz::detail::from_u64<F>(
            vsmmu::fuzz::field_candidate(in, F::width, F::value_shift) & F::value_mask);
        VSMMU_FUZZ_CHECK(idrs.with<F>(flipped).template get<F>() == flipped,
                         "id_registers::with does not read back");
      }
    });
  };
  same_fields.operator()<r::idr0::layout>(idrs.idr0);
  same_fields.operator()<r::idr1::layout>(idrs.idr1);
  same_fields.operator()<r::idr2::layout>(idrs.idr2);
  same_fields.operator()<r::idr3::layout>(idrs.idr3);
  same_fields.operator()<r::idr4::layout>(idrs.idr4);
  same_fields.operator()<r::idr5::layout>(idrs.idr5);
  same_fields.operator()<r::aidr::layout>(idrs.aidr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader in(data, size);
  const std::size_t which = in.integer<std::uint8_t>() % (registers::size + 1);
  if (which == registers::size) {
    check_features(in);
  } else {
    registers::with(which, [&]<class L>() { check_register<L>(which, in); });
  }
  check_offset_lookup(in);

  // Names from a user or a configuration file: any text.
  const std::string_view name = in.rest_as_text();
  if (const s::register_desc* found = s::find_register(name)) {
    std::string_view bare = name;
    if (bare.size() > 5 && s::detail::same_register_name(bare.substr(0, 5), "SMMU_")) {
      bare.remove_prefix(5);
    }
    VSMMU_FUZZ_CHECK(s::detail::same_register_name(found->name, bare),
                     "find_register(name) returned a register of another name");
  }
  return 0;
}
