// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <vsmmu/smmuv3/catalog.hpp>
#include <vsmmu/smmuv3/registers/common.hpp>
#include <vsmmu/smmuv3/registers/control.hpp>
#include <vsmmu/smmuv3/registers/id.hpp>
#include <vsmmu/smmuv3/registers/queues.hpp>

// The SMMUv3 Non-secure register map, IHI 0070 §6.2: one namespace per register under
// vsmmu::smmuv3::regs (regs::idr0, regs::cr0, regs::strtab_base_cfg, ...), each holding its
// fields, `offset` within its `page`, `layout`, `value`, `reset`, `reset_value` and catalogue
// entry `desc`.
namespace vsmmu::smmuv3 {

// Every register, in address order (page 0, then page 1).
inline constexpr std::array register_catalog{
    regs::idr0::desc,
    regs::idr1::desc,
    regs::idr2::desc,
    regs::idr3::desc,
    regs::idr4::desc,
    regs::idr5::desc,
    regs::iidr::desc,
    regs::aidr::desc,
    regs::cr0::desc,
    regs::cr0ack::desc,
    regs::cr1::desc,
    regs::cr2::desc,
    regs::statusr::desc,
    regs::gbpa::desc,
    regs::agbpa::desc,
    regs::irq_ctrl::desc,
    regs::irq_ctrlack::desc,
    regs::gerror::desc,
    regs::gerrorn::desc,
    regs::gerror_irq_cfg0::desc,
    regs::gerror_irq_cfg1::desc,
    regs::gerror_irq_cfg2::desc,
    regs::strtab_base::desc,
    regs::strtab_base_cfg::desc,
    regs::cmdq_base::desc,
    regs::cmdq_prod::desc,
    regs::cmdq_cons::desc,
    regs::eventq_base::desc,
    regs::eventq_irq_cfg0::desc,
    regs::eventq_irq_cfg1::desc,
    regs::eventq_irq_cfg2::desc,
    regs::priq_base::desc,
    regs::priq_irq_cfg0::desc,
    regs::priq_irq_cfg1::desc,
    regs::priq_irq_cfg2::desc,
    regs::eventq_prod::desc,
    regs::eventq_cons::desc,
    regs::priq_prod::desc,
    regs::priq_cons::desc,
};

namespace detail {
// Register names compare ASCII-case-insensitively ("cmdq_base" names SMMU_CMDQ_BASE).
[[nodiscard]] constexpr bool same_register_name(std::string_view a, std::string_view b) noexcept {
  const auto upper = [](char c) {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  };
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper(b[i])) return false;
  }
  return true;
}
}  // namespace detail

// The register called `name` ("CMDQ_BASE", "SMMU_CMDQ_BASE", "cmdq_base"), or nullptr.
[[nodiscard]] constexpr const register_desc* find_register(std::string_view name) noexcept {
  constexpr std::string_view prefix = "SMMU_";
  if (name.size() > prefix.size() &&
      detail::same_register_name(name.substr(0, prefix.size()), prefix)) {
    name.remove_prefix(prefix.size());
  }
  for (const auto& r : register_catalog) {
    if (detail::same_register_name(r.name, name)) return &r;
  }
  return nullptr;
}

// The register that holds byte `offset` of `page` (either half of a 64-bit register), or
// nullptr for a reserved location: what an MMIO handler dispatches on.
[[nodiscard]] constexpr const register_desc* find_register(unsigned page,
                                                           std::uint32_t offset) noexcept {
  for (const auto& r : register_catalog) {
    if (r.page == page && offset >= r.offset && offset < r.offset + r.width / 8) return &r;
  }
  return nullptr;
}

// Offset of a register from the start of the register file (page 1 starts at 0x10000).
[[nodiscard]] constexpr std::uint32_t absolute_offset(const register_desc& r) noexcept {
  return r.page * regs::page_size + r.offset;
}

}  // namespace vsmmu::smmuv3
