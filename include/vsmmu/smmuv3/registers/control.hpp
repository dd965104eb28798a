// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstdint>

#include <vsmmu/smmuv3/registers/common.hpp>

// Control, status, global bypass, interrupt control and global error registers of the
// Non-secure programming interface, IHI 0070 §6.3.9-§6.3.23. Access is given as the spec gives
// it for the register; Guarded fields (CR1 while SMMUEN == 1, ...) are RW here and it is the
// model's job to make them read-only while their guard is set.
namespace vsmmu::smmuv3::regs {

// §6.3.9: every field resets to 0.
namespace cr0 {
inline constexpr std::uint32_t offset = 0x0020;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::known;
inline constexpr std::uint64_t reset_value = 0;
struct DPT_WALK_EN final : field<"DPT_WALK_EN", bits<10, 10>, bool> {};
struct VMW final : field<"VMW", bits<8, 6>, vmid_wildcard> {};
struct ATSCHK final : field<"ATSCHK", bits<4, 4>, bool> {};
struct CMDQEN final : field<"CMDQEN", bits<3, 3>, bool> {};
struct EVENTQEN final : field<"EVENTQEN", bits<2, 2>, bool> {};
struct PRIQEN final : field<"PRIQEN", bits<1, 1>, bool> {};
struct SMMUEN final : field<"SMMUEN", bits<0, 0>, bool> {};
using layout = vsmmu::layout::layout<"SMMU_CR0", 32, std::uint32_t, DPT_WALK_EN, VMW, ATSCHK,
                                     CMDQEN, EVENTQEN, PRIQEN, SMMUEN>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace cr0

// §6.3.10: the SMMU's acknowledgement of each CR0 field once its Update completes.
namespace cr0ack {
inline constexpr std::uint32_t offset = 0x0024;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::known;
inline constexpr std::uint64_t reset_value = 0;
struct DPT_WALK_EN final : field<"DPT_WALK_EN", bits<10, 10>, bool, ro> {};
struct VMW final : field<"VMW", bits<8, 6>, vmid_wildcard, ro> {};
struct ATSCHK final : field<"ATSCHK", bits<4, 4>, bool, ro> {};
struct CMDQEN final : field<"CMDQEN", bits<3, 3>, bool, ro> {};
struct EVENTQEN final : field<"EVENTQEN", bits<2, 2>, bool, ro> {};
struct PRIQEN final : field<"PRIQEN", bits<1, 1>, bool, ro> {};
struct SMMUEN final : field<"SMMUEN", bits<0, 0>, bool, ro> {};
using layout = vsmmu::layout::layout<"SMMU_CR0ACK", 32, std::uint32_t, DPT_WALK_EN, VMW, ATSCHK,
                                     CMDQEN, EVENTQEN, PRIQEN, SMMUEN>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace cr0ack

// §6.3.11: UNKNOWN at reset unless the tables/queues are preset; software must program it.
namespace cr1 {
inline constexpr std::uint32_t offset = 0x0028;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;  // vsmmu's choice for UNKNOWN
struct TABLE_SH final : field<"TABLE_SH", bits<11, 10>, shareability> {};
struct TABLE_OC final : field<"TABLE_OC", bits<9, 8>, cacheability> {};
struct TABLE_IC final : field<"TABLE_IC", bits<7, 6>, cacheability> {};
struct QUEUE_SH final : field<"QUEUE_SH", bits<5, 4>, shareability> {};
struct QUEUE_OC final : field<"QUEUE_OC", bits<3, 2>, cacheability> {};
struct QUEUE_IC final : field<"QUEUE_IC", bits<1, 0>, cacheability> {};
using layout = vsmmu::layout::layout<"SMMU_CR1", 32, std::uint32_t, TABLE_SH, TABLE_OC, TABLE_IC,
                                     QUEUE_SH, QUEUE_OC, QUEUE_IC>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace cr1

// §6.3.12: every field resets to UNKNOWN.
namespace cr2 {
inline constexpr std::uint32_t offset = 0x002C;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;  // vsmmu's choice for UNKNOWN
struct REC_CFG_ATS final : field<"REC_CFG_ATS", bits<3, 3>, bool> {};
struct PTM final : field<"PTM", bits<2, 2>, bool> {};
struct RECINVSID final : field<"RECINVSID", bits<1, 1>, bool> {};
struct E2H final : field<"E2H", bits<0, 0>, bool> {};
using layout =
    vsmmu::layout::layout<"SMMU_CR2", 32, std::uint32_t, REC_CFG_ATS, PTM, RECINVSID, E2H>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace cr2

// §6.3.13
namespace statusr {
inline constexpr std::uint32_t offset = 0x0040;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::known;
inline constexpr std::uint64_t reset_value = 0;
struct DORMANT final : field<"DORMANT", bits<0, 0>, bool, ro> {};
using layout = vsmmu::layout::layout<"SMMU_STATUSR", 32, std::uint32_t, DORMANT>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace statusr

// §6.3.14: Update resets to 0, every other field to an IMPLEMENTATION DEFINED value.
namespace gbpa {
inline constexpr std::uint32_t offset = 0x0044;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::implementation_defined;
struct Update final : field<"Update", bits<31, 31>, bool> {};
struct ABORT final : field<"ABORT", bits<20, 20>, bool> {};
struct INSTCFG final : field<"INSTCFG", bits<19, 18>, instcfg> {};
struct PRIVCFG final : field<"PRIVCFG", bits<17, 16>, privcfg> {};
struct SHCFG final : field<"SHCFG", bits<13, 12>, shcfg> {};
struct ALLOCCFG final : field<"ALLOCCFG", bits<11, 8>, std::uint8_t> {};
struct MTCFG final : field<"MTCFG", bits<4, 4>, bool> {};
struct MemAttr final : field<"MemAttr", bits<3, 0>, std::uint8_t> {};
using layout = vsmmu::layout::layout<"SMMU_GBPA", 32, std::uint32_t, Update, ABORT, INSTCFG,
                                     PRIVCFG, SHCFG, ALLOCCFG, MTCFG, MemAttr>;
using value = vsmmu::layout::value<layout>;
// Bypass with every attribute taken from the incoming transaction: no abort, and SHCFG at its
// "use incoming" encoding (the only field whose zero encoding is not "use incoming").
inline constexpr std::uint64_t reset_value = [] {
  value v;
  v.init<SHCFG>(shcfg::use_incoming);
  return std::uint64_t{v.word(0)};
}();
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace gbpa

// §6.3.15: wholly IMPLEMENTATION DEFINED; RES0 when unsupported, as in vsmmu.
namespace agbpa {
inline constexpr std::uint32_t offset = 0x0048;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::implementation_defined;
inline constexpr std::uint64_t reset_value = 0;
struct IMPLEMENTATION_DEFINED final
    : field<"IMPLEMENTATION_DEFINED", bits<31, 0>, std::uint32_t, rw> {};
using layout = vsmmu::layout::layout<"SMMU_AGBPA", 32, std::uint32_t, IMPLEMENTATION_DEFINED>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace agbpa

// §6.3.16
namespace irq_ctrl {
inline constexpr std::uint32_t offset = 0x0050;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::known;
inline constexpr std::uint64_t reset_value = 0;
struct EVENTQ_IRQEN final : field<"EVENTQ_IRQEN", bits<2, 2>, bool> {};
struct PRIQ_IRQEN final : field<"PRIQ_IRQEN", bits<1, 1>, bool> {};
struct GERROR_IRQEN final : field<"GERROR_IRQEN", bits<0, 0>, bool> {};
using layout = vsmmu::layout::layout<"SMMU_IRQ_CTRL", 32, std::uint32_t, EVENTQ_IRQEN, PRIQ_IRQEN,
                                     GERROR_IRQEN>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace irq_ctrl

// §6.3.18
namespace irq_ctrlack {
inline constexpr std::uint32_t offset = 0x0054;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::known;
inline constexpr std::uint64_t reset_value = 0;
struct EVENTQ_IRQEN final : field<"EVENTQ_IRQEN", bits<2, 2>, bool, ro> {};
struct PRIQ_IRQEN final : field<"PRIQ_IRQEN", bits<1, 1>, bool, ro> {};
struct GERROR_IRQEN final : field<"GERROR_IRQEN", bits<0, 0>, bool, ro> {};
using layout = vsmmu::layout::layout<"SMMU_IRQ_CTRLACK", 32, std::uint32_t, EVENTQ_IRQEN,
                                     PRIQ_IRQEN, GERROR_IRQEN>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace irq_ctrlack

// §6.3.19: RO, not W1C: the SMMU toggles a bit to raise an error, and software acknowledges it
// by toggling the same bit of GERRORN.
namespace gerror {
inline constexpr std::uint32_t offset = 0x0060;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::known;
inline constexpr std::uint64_t reset_value = 0;
struct DPT_ERR final : field<"DPT_ERR", bits<10, 10>, bool, ro> {};
struct CMDQP_ERR final : field<"CMDQP_ERR", bits<9, 9>, bool, ro> {};
struct SFM_ERR final : field<"SFM_ERR", bits<8, 8>, bool, ro> {};
struct MSI_GERROR_ABT_ERR final : field<"MSI_GERROR_ABT_ERR", bits<7, 7>, bool, ro> {};
struct MSI_PRIQ_ABT_ERR final : field<"MSI_PRIQ_ABT_ERR", bits<6, 6>, bool, ro> {};
struct MSI_EVENTQ_ABT_ERR final : field<"MSI_EVENTQ_ABT_ERR", bits<5, 5>, bool, ro> {};
struct MSI_CMDQ_ABT_ERR final : field<"MSI_CMDQ_ABT_ERR", bits<4, 4>, bool, ro> {};
struct PRIQ_ABT_ERR final : field<"PRIQ_ABT_ERR", bits<3, 3>, bool, ro> {};
struct EVENTQ_ABT_ERR final : field<"EVENTQ_ABT_ERR", bits<2, 2>, bool, ro> {};
struct CMDQ_ERR final : field<"CMDQ_ERR", bits<0, 0>, bool, ro> {};
using layout = vsmmu::layout::layout<"SMMU_GERROR", 32, std::uint32_t, DPT_ERR, CMDQP_ERR, SFM_ERR,
                                     MSI_GERROR_ABT_ERR, MSI_PRIQ_ABT_ERR, MSI_EVENTQ_ABT_ERR,
                                     MSI_CMDQ_ABT_ERR, PRIQ_ABT_ERR, EVENTQ_ABT_ERR, CMDQ_ERR>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace gerror

// §6.3.20: software's copy; an error is active while GERROR[x] != GERRORN[x].
namespace gerrorn {
inline constexpr std::uint32_t offset = 0x0064;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::known;
inline constexpr std::uint64_t reset_value = 0;
struct DPT_ERR final : field<"DPT_ERR", bits<10, 10>, bool> {};
struct CMDQP_ERR final : field<"CMDQP_ERR", bits<9, 9>, bool> {};
struct SFM_ERR final : field<"SFM_ERR", bits<8, 8>, bool> {};
struct MSI_GERROR_ABT_ERR final : field<"MSI_GERROR_ABT_ERR", bits<7, 7>, bool> {};
struct MSI_PRIQ_ABT_ERR final : field<"MSI_PRIQ_ABT_ERR", bits<6, 6>, bool> {};
struct MSI_EVENTQ_ABT_ERR final : field<"MSI_EVENTQ_ABT_ERR", bits<5, 5>, bool> {};
struct MSI_CMDQ_ABT_ERR final : field<"MSI_CMDQ_ABT_ERR", bits<4, 4>, bool> {};
struct PRIQ_ABT_ERR final : field<"PRIQ_ABT_ERR", bits<3, 3>, bool> {};
struct EVENTQ_ABT_ERR final : field<"EVENTQ_ABT_ERR", bits<2, 2>, bool> {};
struct CMDQ_ERR final : field<"CMDQ_ERR", bits<0, 0>, bool> {};
using layout = vsmmu::layout::layout<"SMMU_GERRORN", 32, std::uint32_t, DPT_ERR, CMDQP_ERR, SFM_ERR,
                                     MSI_GERROR_ABT_ERR, MSI_PRIQ_ABT_ERR, MSI_EVENTQ_ABT_ERR,
                                     MSI_CMDQ_ABT_ERR, PRIQ_ABT_ERR, EVENTQ_ABT_ERR, CMDQ_ERR>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace gerrorn

// §6.3.21-§6.3.23: the GERROR MSI; present only when SMMU_IDR0.MSI == 1. All fields UNKNOWN
// at reset.
namespace gerror_irq_cfg0 {
inline constexpr std::uint32_t offset = 0x0068;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;  // ADDR == 0: no MSI
struct ADDR final : field<"ADDR", bits<55, 2>, address> {};
using layout = vsmmu::layout::layout<"SMMU_GERROR_IRQ_CFG0", 64, std::uint64_t, ADDR>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace gerror_irq_cfg0

namespace gerror_irq_cfg1 {
inline constexpr std::uint32_t offset = 0x0070;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct DATA final : field<"DATA", bits<31, 0>, std::uint32_t> {};
using layout = vsmmu::layout::layout<"SMMU_GERROR_IRQ_CFG1", 32, std::uint32_t, DATA>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace gerror_irq_cfg1

namespace gerror_irq_cfg2 {
inline constexpr std::uint32_t offset = 0x0074;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct SH final : field<"SH", bits<5, 4>, shareability> {};
struct MemAttr final : field<"MemAttr", bits<3, 0>, std::uint8_t> {};
using layout = vsmmu::layout::layout<"SMMU_GERROR_IRQ_CFG2", 32, std::uint32_t, SH, MemAttr>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace gerror_irq_cfg2

}  // namespace vsmmu::smmuv3::regs
