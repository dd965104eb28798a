// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstdint>

#include <vsmmu/smmuv3/registers/common.hpp>

// Stream table base, Command/Event/PRI queue and queue-interrupt registers of the Non-secure
// programming interface, IHI 0070 §6.3.24-§6.3.36 and §6.3.95-§6.3.98. Base and index registers
// reset to UNKNOWN (IMPLEMENTATION DEFINED when SMMU_IDR1.TABLES_PRESET / QUEUES_PRESET say
// they are preset); vsmmu resets them to 0.
//
// ADDR fields are in place and span bits [55:x] as in the spec; the Linux driver masks them at
// [51:x] and QEMU at [47:5], both narrower than the architecture.
namespace vsmmu::smmuv3::regs {

// §6.3.24
namespace strtab_base {
inline constexpr std::uint32_t offset = 0x0080;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct RA final : field<"RA", bits<62, 62>, bool> {};
struct ADDR final : field<"ADDR", bits<55, 6>, address> {};
using layout = vsmmu::layout::layout<"SMMU_STRTAB_BASE", 64, std::uint64_t, RA, ADDR>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace strtab_base

// §6.3.25
namespace strtab_base_cfg {
inline constexpr std::uint32_t offset = 0x0088;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct FMT final : field<"FMT", bits<17, 16>, strtab_fmt> {};
struct SPLIT final : field<"SPLIT", bits<10, 6>, std::uint8_t> {};  // 6, 8 or 10 bits
struct LOG2SIZE final : field<"LOG2SIZE", bits<5, 0>, std::uint8_t> {};
using layout =
    vsmmu::layout::layout<"SMMU_STRTAB_BASE_CFG", 32, std::uint32_t, FMT, SPLIT, LOG2SIZE>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace strtab_base_cfg

// §6.3.26
namespace cmdq_base {
inline constexpr std::uint32_t offset = 0x0090;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct RA final : field<"RA", bits<62, 62>, bool> {};
struct ADDR final : field<"ADDR", bits<55, 5>, address> {};
struct LOG2SIZE final : field<"LOG2SIZE", bits<4, 0>, std::uint8_t> {};
using layout = vsmmu::layout::layout<"SMMU_CMDQ_BASE", 64, std::uint64_t, RA, ADDR, LOG2SIZE>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace cmdq_base

// §6.3.27: WR holds the index in bits [QS-1:0] and the wrap flag in bit [QS], QS being
// CMDQ_BASE.LOG2SIZE; the same holds for every PROD/CONS index below.
namespace cmdq_prod {
inline constexpr std::uint32_t offset = 0x0098;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct WR final : field<"WR", bits<19, 0>, std::uint32_t> {};
using layout = vsmmu::layout::layout<"SMMU_CMDQ_PROD", 32, std::uint32_t, WR>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace cmdq_prod

// §6.3.28: ERR is a CERROR code (§7.1), valid while SMMU_GERROR.CMDQ_ERR is active.
namespace cmdq_cons {
inline constexpr std::uint32_t offset = 0x009C;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct ERR final : field<"ERR", bits<30, 24>, std::uint8_t> {};
struct RD final : field<"RD", bits<19, 0>, std::uint32_t> {};
using layout = vsmmu::layout::layout<"SMMU_CMDQ_CONS", 32, std::uint32_t, ERR, RD>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace cmdq_cons

// §6.3.29
namespace eventq_base {
inline constexpr std::uint32_t offset = 0x00A0;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct WA final : field<"WA", bits<62, 62>, bool> {};
struct ADDR final : field<"ADDR", bits<55, 5>, address> {};
struct LOG2SIZE final : field<"LOG2SIZE", bits<4, 0>, std::uint8_t> {};
using layout = vsmmu::layout::layout<"SMMU_EVENTQ_BASE", 64, std::uint64_t, WA, ADDR, LOG2SIZE>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace eventq_base

// §6.3.95, in page 1. §6.2.1: page 0 offset 0xA8 is an optional alias of this register,
// otherwise RAZ/WI. No ID register says which, and the spec gives the alias no name of its
// own, so it has no catalogue entry.
namespace eventq_prod {
inline constexpr std::uint32_t offset = 0x00A8;
inline constexpr unsigned page = 1;
inline constexpr std::uint32_t page0_alias_offset = 0x00A8;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct OVFLG final : field<"OVFLG", bits<31, 31>, bool> {};
struct WR final : field<"WR", bits<19, 0>, std::uint32_t> {};
using layout = vsmmu::layout::layout<"SMMU_EVENTQ_PROD", 32, std::uint32_t, OVFLG, WR>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace eventq_prod

// §6.3.96, in page 1; optional page-0 alias at 0xAC (§6.2.1).
namespace eventq_cons {
inline constexpr std::uint32_t offset = 0x00AC;
inline constexpr unsigned page = 1;
inline constexpr std::uint32_t page0_alias_offset = 0x00AC;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct OVACKFLG final : field<"OVACKFLG", bits<31, 31>, bool> {};
struct RD final : field<"RD", bits<19, 0>, std::uint32_t> {};
using layout = vsmmu::layout::layout<"SMMU_EVENTQ_CONS", 32, std::uint32_t, OVACKFLG, RD>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace eventq_cons

// §6.3.30-§6.3.32: the Event queue MSI; present only when SMMU_IDR0.MSI == 1.
namespace eventq_irq_cfg0 {
inline constexpr std::uint32_t offset = 0x00B0;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;  // ADDR == 0: no MSI
struct ADDR final : field<"ADDR", bits<55, 2>, address> {};
using layout = vsmmu::layout::layout<"SMMU_EVENTQ_IRQ_CFG0", 64, std::uint64_t, ADDR>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace eventq_irq_cfg0

namespace eventq_irq_cfg1 {
inline constexpr std::uint32_t offset = 0x00B8;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct DATA final : field<"DATA", bits<31, 0>, std::uint32_t> {};
using layout = vsmmu::layout::layout<"SMMU_EVENTQ_IRQ_CFG1", 32, std::uint32_t, DATA>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace eventq_irq_cfg1

namespace eventq_irq_cfg2 {
inline constexpr std::uint32_t offset = 0x00BC;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct SH final : field<"SH", bits<5, 4>, shareability> {};
struct MemAttr final : field<"MemAttr", bits<3, 0>, std::uint8_t> {};
using layout = vsmmu::layout::layout<"SMMU_EVENTQ_IRQ_CFG2", 32, std::uint32_t, SH, MemAttr>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace eventq_irq_cfg2

// §6.3.33: present only when SMMU_IDR0.PRI == 1.
namespace priq_base {
inline constexpr std::uint32_t offset = 0x00C0;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct WA final : field<"WA", bits<62, 62>, bool> {};
struct ADDR final : field<"ADDR", bits<55, 5>, address> {};
struct LOG2SIZE final : field<"LOG2SIZE", bits<4, 0>, std::uint8_t> {};
using layout = vsmmu::layout::layout<"SMMU_PRIQ_BASE", 64, std::uint64_t, WA, ADDR, LOG2SIZE>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace priq_base

// §6.3.97, in page 1; optional page-0 alias at 0xC8 (§6.2.1). OVFLG resets to 0, WR to UNKNOWN.
namespace priq_prod {
inline constexpr std::uint32_t offset = 0x00C8;
inline constexpr unsigned page = 1;
inline constexpr std::uint32_t page0_alias_offset = 0x00C8;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct OVFLG final : field<"OVFLG", bits<31, 31>, bool> {};
struct WR final : field<"WR", bits<19, 0>, std::uint32_t> {};
using layout = vsmmu::layout::layout<"SMMU_PRIQ_PROD", 32, std::uint32_t, OVFLG, WR>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace priq_prod

// §6.3.98, in page 1; optional page-0 alias at 0xCC (§6.2.1).
namespace priq_cons {
inline constexpr std::uint32_t offset = 0x00CC;
inline constexpr unsigned page = 1;
inline constexpr std::uint32_t page0_alias_offset = 0x00CC;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct OVACKFLG final : field<"OVACKFLG", bits<31, 31>, bool> {};
struct RD final : field<"RD", bits<19, 0>, std::uint32_t> {};
using layout = vsmmu::layout::layout<"SMMU_PRIQ_CONS", 32, std::uint32_t, OVACKFLG, RD>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace priq_cons

// §6.3.34-§6.3.36: the PRI queue MSI; present only when SMMU_IDR0.MSI == 1 and PRI == 1.
namespace priq_irq_cfg0 {
inline constexpr std::uint32_t offset = 0x00D0;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;  // ADDR == 0: no MSI
struct ADDR final : field<"ADDR", bits<55, 2>, address> {};
using layout = vsmmu::layout::layout<"SMMU_PRIQ_IRQ_CFG0", 64, std::uint64_t, ADDR>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace priq_irq_cfg0

namespace priq_irq_cfg1 {
inline constexpr std::uint32_t offset = 0x00D8;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct DATA final : field<"DATA", bits<31, 0>, std::uint32_t> {};
using layout = vsmmu::layout::layout<"SMMU_PRIQ_IRQ_CFG1", 32, std::uint32_t, DATA>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace priq_irq_cfg1

// LO ("last only") applies to wired interrupts too, so it is not RES0 without MSI support.
namespace priq_irq_cfg2 {
inline constexpr std::uint32_t offset = 0x00DC;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::unknown;
inline constexpr std::uint64_t reset_value = 0;
struct LO final : field<"LO", bits<31, 31>, bool> {};
struct SH final : field<"SH", bits<5, 4>, shareability> {};
struct MemAttr final : field<"MemAttr", bits<3, 0>, std::uint8_t> {};
using layout = vsmmu::layout::layout<"SMMU_PRIQ_IRQ_CFG2", 32, std::uint32_t, LO, SH, MemAttr>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace priq_irq_cfg2

}  // namespace vsmmu::smmuv3::regs
