// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/accel/iommufd/adapter.hpp>

#include <cerrno>
#include <cstdint>

// What the Linux arm-smmu-v3 driver accepts from a VMM through iommufd, as plain data and
// constexpr checks. The simulated kernel enforces these rules; the vSMMU's accelerated mode uses
// the same definitions to refuse, before any ioctl, what the host would refuse.
//
// Source: drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-iommufd.c (Linux 6.13 to 6.19: nested STE
// validation, invalidation conversion, vEVENT reporting) and include/uapi/linux/iommufd.h.
// Facts only; no kernel code was copied. Field positions are IHI 0070's (§5.2 STE, §4 commands,
// §7.3 event records).
namespace vsmmu::accel::iommufd::kernel {

// ---- nested STE (IOMMU_HWPT_DATA_ARM_SMMUV3) ----------------------------------------------

// STE dword 0, IHI 0070 §5.2.
inline constexpr std::uint64_t ste0_v = 1ull << 0;
inline constexpr std::uint64_t ste0_config = 0x7ull << 1;
inline constexpr std::uint64_t ste0_s1fmt = 0x3ull << 4;
// The architecture's S1ContextPtr is [55:6]; the kernel accepts only [51:6] (it rejects bits
// 52-55 with EIO, so a VMM must mask them, as 52-bit PAs are the most any SMMUv3 supports).
inline constexpr std::uint64_t ste0_s1contextptr = 0x000F'FFFF'FFFF'FFC0ull;
inline constexpr std::uint64_t ste0_s1cdmax = 0x1Full << 59;
// STE dword 1.
inline constexpr std::uint64_t ste1_s1dss = 0x3ull << 0;
inline constexpr std::uint64_t ste1_s1cir = 0x3ull << 2;
inline constexpr std::uint64_t ste1_s1cor = 0x3ull << 4;
inline constexpr std::uint64_t ste1_s1csh = 0x3ull << 6;
inline constexpr std::uint64_t ste1_mev = 1ull << 19;
inline constexpr std::uint64_t ste1_s1stalld = 1ull << 27;
inline constexpr std::uint64_t ste1_eats = 0x3ull << 28;
inline constexpr std::uint64_t ste1_shcfg = 0x3ull << 44;
// STE dword 2: S2VMID [15:0].
inline constexpr std::uint64_t ste2_s2vmid = 0xFFFFull;

// The only fields a VMM may set in a nested STE.
inline constexpr std::uint64_t ste0_nesting_allowed =
    ste0_v | ste0_config | ste0_s1fmt | ste0_s1contextptr | ste0_s1cdmax;
inline constexpr std::uint64_t ste1_nesting_allowed =
    ste1_s1dss | ste1_s1cir | ste1_s1cor | ste1_s1csh | ste1_s1stalld | ste1_eats;
static_assert(ste0_nesting_allowed == 0xF80F'FFFF'FFFF'FFFFull);
static_assert(ste1_nesting_allowed == 0x0000'0000'3800'00FFull);

// STE.Config values (IHI 0070 §5.2).
namespace config {
inline constexpr unsigned abort = 0b000;
inline constexpr unsigned bypass = 0b100;
inline constexpr unsigned s1_trans = 0b101;
inline constexpr unsigned s2_trans = 0b110;
inline constexpr unsigned nested = 0b111;
}  // namespace config
// STE.EATS values.
namespace eats {
inline constexpr unsigned abort = 0b00;
inline constexpr unsigned trans = 0b01;
inline constexpr unsigned s1chk = 0b10;
}  // namespace eats

[[nodiscard]] constexpr unsigned ste_config(std::uint64_t dword0) noexcept {
  return static_cast<unsigned>((dword0 & ste0_config) >> 1);
}
[[nodiscard]] constexpr unsigned ste_eats(std::uint64_t dword1) noexcept {
  return static_cast<unsigned>((dword1 & ste1_eats) >> 28);
}

// What the kernel makes of a nested STE: an errno (0 = accepted), the STE as it keeps it (both
// words zero when V = 0; EATS removed) and whether the S1 domain asks for ATS (EATS = TRANS).
struct vste_verdict {
  int err = 0;
  nested_ste ste{};
  bool enable_ats = false;
};

// The kernel's order: V = 0 is accepted as an abort STE whatever the other bits say; then any
// bit outside the allowed fields, a Config other than abort/bypass/S1, or EATS other than
// abort/translate is EIO.
[[nodiscard]] constexpr vste_verdict validate_vste(const nested_ste& in) noexcept {
  vste_verdict v;
  const std::uint64_t d0 = in.dwords[0];
  const std::uint64_t d1 = in.dwords[1];
  if ((d0 & ste0_v) == 0) return v;  // zeroed: abort
  if ((d0 & ~ste0_nesting_allowed) != 0 || (d1 & ~ste1_nesting_allowed) != 0) {
    v.err = EIO;
    return v;
  }
  const unsigned cfg = ste_config(d0);
  if (cfg != config::abort && cfg != config::bypass && cfg != config::s1_trans) {
    v.err = EIO;
    return v;
  }
  const unsigned e = ste_eats(d1);
  if (e != eats::abort && e != eats::trans) {
    v.err = EIO;
    return v;
  }
  v.ste.dwords = {d0, d1 & ~ste1_eats};
  v.enable_ats = cfg == config::s1_trans && e == eats::trans;
  return v;
}

// ---- invalidation (IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3) ---------------------------------

// Opcodes (IHI 0070 §4).
namespace op {
inline constexpr std::uint8_t cfgi_cd = 0x05;
inline constexpr std::uint8_t cfgi_cd_all = 0x06;
inline constexpr std::uint8_t tlbi_nh_all = 0x10;
inline constexpr std::uint8_t tlbi_nh_asid = 0x11;
inline constexpr std::uint8_t tlbi_nh_va = 0x12;
inline constexpr std::uint8_t tlbi_nh_vaa = 0x13;
inline constexpr std::uint8_t tlbi_nsnh_all = 0x30;
inline constexpr std::uint8_t atc_inv = 0x40;
}  // namespace op

// Command dword 0 fields the kernel rewrites.
inline constexpr std::uint64_t cmd0_opcode = 0xFFull;
inline constexpr std::uint64_t cmd0_vmid = 0xFFFFull << 32;      // TLBI_NH_*: VMID [47:32]
inline constexpr std::uint64_t cmd0_sid = 0xFFFF'FFFFull << 32;  // CFGI_CD*, ATC_INV: SID [63:32]

[[nodiscard]] constexpr std::uint8_t opcode_of(const invalidation_entry& e) noexcept {
  return static_cast<std::uint8_t>(e.cmd[0] & cmd0_opcode);
}
[[nodiscard]] constexpr std::uint32_t sid_of(const invalidation_entry& e) noexcept {
  return static_cast<std::uint32_t>(e.cmd[0] >> 32);
}

// The commands the kernel accepts on a vIOMMU; every other opcode is EIO.
[[nodiscard]] constexpr bool accepted_opcode(std::uint8_t opcode) noexcept {
  switch (opcode) {
    case op::cfgi_cd:
    case op::cfgi_cd_all:
    case op::tlbi_nh_all:
    case op::tlbi_nh_asid:
    case op::tlbi_nh_va:
    case op::tlbi_nh_vaa:
    case op::tlbi_nsnh_all:
    case op::atc_inv:
      return true;
    default:
      return false;
  }
}
// Accepted commands whose StreamID the kernel translates vSID -> pSID through the vIOMMU's
// vDEVICEs (an unknown vSID is EIO).
[[nodiscard]] constexpr bool opcode_uses_sid(std::uint8_t opcode) noexcept {
  return opcode == op::cfgi_cd || opcode == op::cfgi_cd_all || opcode == op::atc_inv;
}

// The SMMUv3 driver issues converted commands in batches of CMDQ_BATCH_ENTRIES - 1, where
// CMDQ_BATCH_ENTRIES = BITS_PER_LONG (64 on arm64).
inline constexpr std::uint32_t cmdq_batch_entries = 64;

// ---- vEVENTs ---------------------------------------------------------------------------------

// Event records the driver forwards to a vIOMMU: these types, for a device attached to a nested
// HWPT through a vDEVICE, not stalled (Stall = 1 goes to the page-fault path) and not a stage-2
// fault (S2 = 0). Everything else stays in the host log.
namespace event {
inline constexpr std::uint8_t c_bad_ste = 0x04;
inline constexpr std::uint8_t f_stream_disabled = 0x06;
inline constexpr std::uint8_t c_bad_substreamid = 0x08;
inline constexpr std::uint8_t c_bad_cd = 0x0a;
inline constexpr std::uint8_t f_translation = 0x10;
inline constexpr std::uint8_t f_addr_size = 0x11;
inline constexpr std::uint8_t f_access = 0x12;
inline constexpr std::uint8_t f_permission = 0x13;
}  // namespace event
inline constexpr std::uint64_t evt0_type = 0xFFull;
inline constexpr std::uint64_t evt0_sid = 0xFFFF'FFFFull << 32;
inline constexpr std::uint64_t evt1_stall = 1ull << 31;  // event bit 95: goes to the fault queue
inline constexpr std::uint64_t evt1_s2 = 1ull << 39;     // event bit 103

[[nodiscard]] constexpr bool reported_event(std::uint8_t type) noexcept {
  switch (type) {
    case event::c_bad_ste:
    case event::f_stream_disabled:
    case event::c_bad_substreamid:
    case event::c_bad_cd:
    case event::f_translation:
    case event::f_addr_size:
    case event::f_access:
    case event::f_permission:
      return true;
    default:
      return false;
  }
}

}  // namespace vsmmu::accel::iommufd::kernel
