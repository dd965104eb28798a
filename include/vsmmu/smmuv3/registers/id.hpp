// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstdint>

#include <vsmmu/smmuv3/encodings.hpp>
#include <vsmmu/smmuv3/registers/common.hpp>

// The ID registers of the Non-secure programming interface, IHI 0070 §6.3.1-§6.3.8. All are RO
// and IMPLEMENTATION DEFINED; `reset_value` is vsmmu's default feature set, a plain SMMUv3.0
// with both stages, AArch64 tables only, 4KB and 64KB granules and a 48-bit OAS
// (features.hpp checks it against every rule).
namespace vsmmu::smmuv3::regs {

// §6.3.1
namespace idr0 {
inline constexpr std::uint32_t offset = 0x0000;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::implementation_defined;
struct RME_IMPL final : field<"RME_IMPL", bits<30, 30>, bool, ro> {};
struct ST_LEVEL final : field<"ST_LEVEL", bits<28, 27>, st_level, ro> {};
struct TERM_MODEL final : field<"TERM_MODEL", bits<26, 26>, bool, ro> {};
struct STALL_MODEL final : field<"STALL_MODEL", bits<25, 24>, stall_model, ro> {};
struct ATSRECERR final : field<"ATSRECERR", bits<23, 23>, bool, ro> {};
struct TTENDIAN final : field<"TTENDIAN", bits<22, 21>, ttendian, ro> {};
struct VATOS final : field<"VATOS", bits<20, 20>, bool, ro> {};
struct CD2L final : field<"CD2L", bits<19, 19>, bool, ro> {};
struct VMID16 final : field<"VMID16", bits<18, 18>, bool, ro> {};
struct VMW final : field<"VMW", bits<17, 17>, bool, ro> {};
struct PRI final : field<"PRI", bits<16, 16>, bool, ro> {};
struct ATOS final : field<"ATOS", bits<15, 15>, bool, ro> {};
struct SEV final : field<"SEV", bits<14, 14>, bool, ro> {};
struct MSI final : field<"MSI", bits<13, 13>, bool, ro> {};
struct ASID16 final : field<"ASID16", bits<12, 12>, bool, ro> {};
struct NS1ATS final : field<"NS1ATS", bits<11, 11>, bool, ro> {};
struct ATS final : field<"ATS", bits<10, 10>, bool, ro> {};
struct Hyp final : field<"Hyp", bits<9, 9>, bool, ro> {};
struct DORMHINT final : field<"DORMHINT", bits<8, 8>, bool, ro> {};
struct HTTU final : field<"HTTU", bits<7, 6>, httu, ro> {};
struct BTM final : field<"BTM", bits<5, 5>, bool, ro> {};
struct COHACC final : field<"COHACC", bits<4, 4>, bool, ro> {};
struct TTF final : field<"TTF", bits<3, 2>, ttf, ro> {};
struct S1P final : field<"S1P", bits<1, 1>, bool, ro> {};
struct S2P final : field<"S2P", bits<0, 0>, bool, ro> {};
using layout = vsmmu::layout::layout<"SMMU_IDR0", 32, std::uint32_t, RME_IMPL, ST_LEVEL, TERM_MODEL,
                                     STALL_MODEL, ATSRECERR, TTENDIAN, VATOS, CD2L, VMID16, VMW,
                                     PRI, ATOS, SEV, MSI, ASID16, NS1ATS, ATS, Hyp, DORMHINT, HTTU,
                                     BTM, COHACC, TTF, S1P, S2P>;
using value = vsmmu::layout::value<layout>;
// Hyp with both stages, as Arm recommends; no stalls, which PCIe systems cannot use.
inline constexpr std::uint64_t reset_value = [] {
  value v;
  v.init<ST_LEVEL>(st_level::two_level)
      .init<STALL_MODEL>(stall_model::terminate_only)
      .init<TTENDIAN>(ttendian::little)
      .init<CD2L>(true)
      .init<VMID16>(true)
      .init<MSI>(true)
      .init<ASID16>(true)
      .init<Hyp>(true)
      .init<COHACC>(true)
      .init<TTF>(ttf::aarch64)
      .init<S1P>(true)
      .init<S2P>(true);
  return std::uint64_t{v.word(0)};
}();
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace idr0

// §6.3.2
namespace idr1 {
inline constexpr std::uint32_t offset = 0x0004;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::implementation_defined;
struct ECMDQ final : field<"ECMDQ", bits<31, 31>, bool, ro> {};
struct TABLES_PRESET final : field<"TABLES_PRESET", bits<30, 30>, bool, ro> {};
struct QUEUES_PRESET final : field<"QUEUES_PRESET", bits<29, 29>, bool, ro> {};
struct REL final : field<"REL", bits<28, 28>, bool, ro> {};
struct ATTR_TYPES_OVR final : field<"ATTR_TYPES_OVR", bits<27, 27>, bool, ro> {};
struct ATTR_PERMS_OVR final : field<"ATTR_PERMS_OVR", bits<26, 26>, bool, ro> {};
struct CMDQS final : field<"CMDQS", bits<25, 21>, std::uint8_t, ro> {};
struct EVENTQS final : field<"EVENTQS", bits<20, 16>, std::uint8_t, ro> {};
struct PRIQS final : field<"PRIQS", bits<15, 11>, std::uint8_t, ro> {};
struct SSIDSIZE final : field<"SSIDSIZE", bits<10, 6>, std::uint8_t, ro> {};
struct SIDSIZE final : field<"SIDSIZE", bits<5, 0>, std::uint8_t, ro> {};
using layout =
    vsmmu::layout::layout<"SMMU_IDR1", 32, std::uint32_t, ECMDQ, TABLES_PRESET, QUEUES_PRESET, REL,
                          ATTR_TYPES_OVR, ATTR_PERMS_OVR, CMDQS, EVENTQS, PRIQS, SSIDSIZE, SIDSIZE>;
using value = vsmmu::layout::value<layout>;
// 16-bit StreamIDs and SubstreamIDs, the largest queues the architecture allows.
inline constexpr std::uint64_t reset_value = [] {
  value v;
  v.init<CMDQS>(19).init<EVENTQS>(19).init<SSIDSIZE>(16).init<SIDSIZE>(16);
  return std::uint64_t{v.word(0)};
}();
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace idr1

// §6.3.3
namespace idr2 {
inline constexpr std::uint32_t offset = 0x0008;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::implementation_defined;
inline constexpr std::uint64_t reset_value = 0;  // no VATOS page
struct BA_VATOS final : field<"BA_VATOS", bits<9, 0>, std::uint16_t, ro> {};
using layout = vsmmu::layout::layout<"SMMU_IDR2", 32, std::uint32_t, BA_VATOS>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace idr2

// §6.3.4
namespace idr3 {
inline constexpr std::uint32_t offset = 0x000C;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::implementation_defined;
inline constexpr std::uint64_t reset_value = 0;  // nothing beyond SMMUv3.0
struct AIE final : field<"AIE", bits<23, 23>, bool, ro> {};
struct MTEPERM final : field<"MTEPERM", bits<22, 22>, bool, ro> {};
struct THE final : field<"THE", bits<21, 21>, bool, ro> {};
struct S2PO final : field<"S2PO", bits<20, 20>, bool, ro> {};
struct S2PI final : field<"S2PI", bits<19, 19>, bool, ro> {};
struct S1PI final : field<"S1PI", bits<18, 18>, bool, ro> {};
struct EPAN final : field<"EPAN", bits<17, 17>, bool, ro> {};
struct PASIDTT final : field<"PASIDTT", bits<16, 16>, bool, ro> {};
struct DPT final : field<"DPT", bits<15, 15>, bool, ro> {};
struct PTWNNC final : field<"PTWNNC", bits<14, 14>, bool, ro> {};
struct E0PD final : field<"E0PD", bits<13, 13>, bool, ro> {};
struct BBML final : field<"BBML", bits<12, 11>, bbml, ro> {};
struct RIL final : field<"RIL", bits<10, 10>, bool, ro> {};
struct STT final : field<"STT", bits<9, 9>, bool, ro> {};
struct FWB final : field<"FWB", bits<8, 8>, bool, ro> {};
struct MPAM final : field<"MPAM", bits<7, 7>, bool, ro> {};
struct PPS final : field<"PPS", bits<5, 5>, bool, ro> {};
struct XNX final : field<"XNX", bits<4, 4>, bool, ro> {};
struct PBHA final : field<"PBHA", bits<3, 3>, bool, ro> {};
struct HAD final : field<"HAD", bits<2, 2>, bool, ro> {};
using layout = vsmmu::layout::layout<"SMMU_IDR3", 32, std::uint32_t, AIE, MTEPERM, THE, S2PO, S2PI,
                                     S1PI, EPAN, PASIDTT, DPT, PTWNNC, E0PD, BBML, RIL, STT, FWB,
                                     MPAM, PPS, XNX, PBHA, HAD>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace idr3

// §6.3.5: wholly IMPLEMENTATION DEFINED (the spec's field name is "IMPLEMENTATION DEFINED").
namespace idr4 {
inline constexpr std::uint32_t offset = 0x0010;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::implementation_defined;
inline constexpr std::uint64_t reset_value = 0;
struct IMPLEMENTATION_DEFINED final
    : field<"IMPLEMENTATION_DEFINED", bits<31, 0>, std::uint32_t, ro> {};
using layout = vsmmu::layout::layout<"SMMU_IDR4", 32, std::uint32_t, IMPLEMENTATION_DEFINED>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace idr4

// §6.3.6
namespace idr5 {
inline constexpr std::uint32_t offset = 0x0014;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::implementation_defined;
struct STALL_MAX final : field<"STALL_MAX", bits<31, 16>, std::uint16_t, ro> {};
struct VAX final : field<"VAX", bits<11, 10>, vax, ro> {};
struct D128 final : field<"D128", bits<8, 8>, bool, ro> {};
struct DS final : field<"DS", bits<7, 7>, bool, ro> {};
struct GRAN64K final : field<"GRAN64K", bits<6, 6>, bool, ro> {};
struct GRAN16K final : field<"GRAN16K", bits<5, 5>, bool, ro> {};
struct GRAN4K final : field<"GRAN4K", bits<4, 4>, bool, ro> {};
struct OAS final : field<"OAS", bits<2, 0>, address_size, ro> {};
using layout = vsmmu::layout::layout<"SMMU_IDR5", 32, std::uint32_t, STALL_MAX, VAX, D128, DS,
                                     GRAN64K, GRAN16K, GRAN4K, OAS>;
using value = vsmmu::layout::value<layout>;
// The two granules Arm recommends (§6.3.6) and a 48-bit PA.
inline constexpr std::uint64_t reset_value = [] {
  value v;
  v.init<GRAN64K>(true).init<GRAN4K>(true).init<OAS>(address_size::bits48);
  return std::uint64_t{v.word(0)};
}();
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace idr5

// §6.3.7
namespace iidr {
inline constexpr std::uint32_t offset = 0x0018;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::implementation_defined;
inline constexpr std::uint64_t reset_value = 0;  // no JEP106 implementer claimed
struct ProductID final : field<"ProductID", bits<31, 20>, std::uint16_t, ro> {};
struct Variant final : field<"Variant", bits<19, 16>, std::uint8_t, ro> {};
struct Revision final : field<"Revision", bits<15, 12>, std::uint8_t, ro> {};
struct Implementer final : field<"Implementer", bits<11, 0>, std::uint16_t, ro> {};
using layout = vsmmu::layout::layout<"SMMU_IIDR", 32, std::uint32_t, ProductID, Variant, Revision,
                                     Implementer>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace iidr

// §6.3.8
namespace aidr {
inline constexpr std::uint32_t offset = 0x001C;
inline constexpr unsigned page = 0;
inline constexpr reset_kind reset = reset_kind::implementation_defined;
inline constexpr std::uint64_t reset_value = 0;  // SMMUv3.0
struct ArchMajorRev final : field<"ArchMajorRev", bits<7, 4>, arch_major_rev, ro> {};
struct ArchMinorRev final : field<"ArchMinorRev", bits<3, 0>, arch_minor_rev, ro> {};
using layout = vsmmu::layout::layout<"SMMU_AIDR", 32, std::uint32_t, ArchMajorRev, ArchMinorRev>;
using value = vsmmu::layout::value<layout>;
inline constexpr register_desc desc = detail::describe<layout>(offset, page, reset, reset_value);
}  // namespace aidr

}  // namespace vsmmu::smmuv3::regs
