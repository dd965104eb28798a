// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/access.hpp>
#include <vsmmu/smmuv3/catalog.hpp>
#include <vsmmu/smmuv3/features.hpp>
#include <vsmmu/smmuv3/registers.hpp>

#include <cstdint>

// Which bits of each register exist for a given feature set: the bits the guest can write and
// reads can return non-zero. Everything else is RES0 (IHI 0070 §6.2).
namespace vsmmu::device::detail {

// Bits of the fields a register's layout declares (RES0 positions are never declared).
[[nodiscard]] constexpr std::uint64_t declared_bits(const smmuv3::register_desc& r) noexcept {
  std::uint64_t m = 0;
  for (const auto& f : r.layout.fields) {
    if (f.is_reserved()) continue;
    const unsigned w = f.width();
    m |= (w >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << w) - 1)) << f.lsb;
  }
  return m;
}

template <class F>
[[nodiscard]] constexpr std::uint64_t bits_of() noexcept {
  const unsigned w = F::msb - F::lsb + 1;
  return (w >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << w) - 1)) << F::lsb;
}

template <class F>
[[nodiscard]] constexpr std::uint64_t bits_if(bool present) noexcept {
  return present ? bits_of<F>() : 0;
}

struct register_masks {
  std::uint64_t cr0 = 0;
  std::uint64_t cr1 = 0;
  std::uint64_t cr2 = 0;
  std::uint64_t gbpa = 0;  // without Update
  std::uint64_t irq_ctrl = 0;
  std::uint64_t gerror = 0;
  std::uint64_t irq_cfg0 = 0;  // ADDR [55:2]; 0 without MSIs
  std::uint64_t irq_cfg1 = 0;
  std::uint64_t irq_cfg2 = 0;
  std::uint64_t strtab_base = 0;
  std::uint64_t strtab_base_cfg = 0;
  std::uint64_t queue_base = 0;  // CMDQ_BASE and EVENTQ_BASE: RA/WA, ADDR, LOG2SIZE
  std::uint64_t cmdq_prod = 0;
  std::uint64_t cmdq_cons = 0;
  std::uint64_t eventq_prod = 0;
  std::uint64_t eventq_cons = 0;
};

[[nodiscard]] constexpr register_masks masks_for(const smmuv3::id_registers& id) noexcept {
  namespace R = smmuv3::regs;
  const bool pri = id.get<R::idr0::PRI>();
  const bool msi = id.get<R::idr0::MSI>();
  register_masks m;
  // §6.3.9: the fields that exist only with their feature are RES0 without it; bits 5, 9 and
  // [31:11] are RES0 always.
  m.cr0 = bits_of<R::cr0::SMMUEN>() | bits_of<R::cr0::CMDQEN>() | bits_of<R::cr0::EVENTQEN>() |
          bits_if<R::cr0::PRIQEN>(pri) | bits_if<R::cr0::ATSCHK>(id.get<R::idr0::ATS>()) |
          bits_if<R::cr0::VMW>(id.get<R::idr0::VMW>()) |
          bits_if<R::cr0::DPT_WALK_EN>(id.get<R::idr3::DPT>());
  m.cr1 = declared_bits(R::cr1::desc);
  // §6.3.12: E2H with Hyp, PTM with BTM, REC_CFG_ATS with ATSRECERR.
  m.cr2 = bits_of<R::cr2::RECINVSID>() | bits_if<R::cr2::E2H>(id.get<R::idr0::Hyp>()) |
          bits_if<R::cr2::PTM>(id.get<R::idr0::BTM>()) |
          bits_if<R::cr2::REC_CFG_ATS>(id.get<R::idr0::ATSRECERR>());
  m.gbpa = declared_bits(R::gbpa::desc) & ~bits_of<R::gbpa::Update>();
  m.irq_ctrl = bits_of<R::irq_ctrl::GERROR_IRQEN>() | bits_of<R::irq_ctrl::EVENTQ_IRQEN>() |
               bits_if<R::irq_ctrl::PRIQ_IRQEN>(pri);
  // §6.3.19: each error exists with what can cause it.
  m.gerror = bits_of<R::gerror::CMDQ_ERR>() | bits_of<R::gerror::EVENTQ_ABT_ERR>() |
             bits_of<R::gerror::SFM_ERR>() | bits_if<R::gerror::PRIQ_ABT_ERR>(pri) |
             bits_if<R::gerror::MSI_CMDQ_ABT_ERR>(msi) |
             bits_if<R::gerror::MSI_EVENTQ_ABT_ERR>(msi) |
             bits_if<R::gerror::MSI_GERROR_ABT_ERR>(msi) |
             bits_if<R::gerror::MSI_PRIQ_ABT_ERR>(msi && pri) |
             bits_if<R::gerror::CMDQP_ERR>(id.get<R::idr1::ECMDQ>()) |
             bits_if<R::gerror::DPT_ERR>(id.get<R::idr3::DPT>());
  if (msi) {
    m.irq_cfg0 = declared_bits(R::gerror_irq_cfg0::desc);
    m.irq_cfg1 = declared_bits(R::gerror_irq_cfg1::desc);
    m.irq_cfg2 = declared_bits(R::gerror_irq_cfg2::desc);
  }
  m.strtab_base = declared_bits(R::strtab_base::desc);
  m.strtab_base_cfg = declared_bits(R::strtab_base_cfg::desc);
  m.queue_base = declared_bits(R::cmdq_base::desc);
  m.cmdq_prod = declared_bits(R::cmdq_prod::desc);
  m.cmdq_cons = declared_bits(R::cmdq_cons::desc);
  m.eventq_prod = declared_bits(R::eventq_prod::desc);
  m.eventq_cons = declared_bits(R::eventq_cons::desc);
  return m;
}

}  // namespace vsmmu::device::detail
