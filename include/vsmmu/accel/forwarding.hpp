// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/queue/command.hpp>
#include <vsmmu/smmuv3/commands.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

// Which guest commands go to the host after the vSMMU has applied them locally (the seed's
// patches 19 and 30), and their wire form. The host kernel accepts exactly TLBI_NH_ALL,
// TLBI_NH_ASID, TLBI_NH_VA, TLBI_NH_VAA, TLBI_NSNH_ALL, ATC_INV, CFGI_CD and CFGI_CD_ALL
// (anything else is -EIO for the whole call), rewrites VMIDs to the vIOMMU's and StreamIDs from
// vSIDs to pSIDs through the vDEVICEs (an unknown vSID is -EIO).
namespace vsmmu::accel {

enum class forward_class : std::uint8_t {
  local,        // applied by the vSMMU only (stage 2, EL2/EL3, PRI, stall, prefetch)
  forward,      // to the host as is
  forward_sid,  // to the host if its StreamID has a vDEVICE (CFGI_CD, CFGI_CD_ALL)
  forward_atc,  // ATC_INV: as forward_sid, and only if the vSMMU and the device have ATS
  ste,          // CFGI_STE, CFGI_STE_RANGE/CFGI_ALL: STE install, never an invalidation
  sync,         // CMD_SYNC: completes the batch before it
};

[[nodiscard]] constexpr forward_class classify(const queue::command& c) noexcept {
  using smmuv3::cmd::opcode;
  switch (c.opcode()) {
    case opcode::tlbi_nh_all:
    case opcode::tlbi_nh_asid:
    case opcode::tlbi_nh_va:
    case opcode::tlbi_nh_vaa:
    case opcode::tlbi_nsnh_all:
      return forward_class::forward;
    case opcode::cfgi_cd:
    case opcode::cfgi_cd_all:
      return forward_class::forward_sid;
    case opcode::atc_inv:
      return forward_class::forward_atc;
    case opcode::cfgi_ste:
    case opcode::cfgi_ste_range:
      return forward_class::ste;
    case opcode::sync:
      return forward_class::sync;
    default:
      return forward_class::local;
  }
}

// The StreamID of a SID-scoped command (CFGI_CD, CFGI_CD_ALL, ATC_INV, CFGI_STE): dword 0
// [63:32] in all of them.
[[nodiscard]] constexpr std::uint32_t command_sid(const queue::command& c) noexcept {
  return static_cast<std::uint32_t>(c.words[0] >> 32);
}

// CFGI_CD and CFGI_CD_ALL carry SSec (dword 0 bit 10): a Non-secure queue's command with it set
// is CERROR_ILL (IHI 0070 §4.1.6), never sent.
[[nodiscard]] constexpr bool secure_bit_set(const queue::command& c) noexcept {
  const auto op = c.opcode();
  const bool has_ssec =
      op == smmuv3::cmd::opcode::cfgi_cd || op == smmuv3::cmd::opcode::cfgi_cd_all ||
      op == smmuv3::cmd::opcode::cfgi_ste || op == smmuv3::cmd::opcode::cfgi_ste_range;
  return has_ssec && ((c.words[0] >> 10) & 1U) != 0;
}

// One entry of IOMMU_HWPT_INVALIDATE's array (struct iommu_viommu_arm_smmuv3_invalidate): the
// command's two dwords, little-endian whatever the host's byte order.
inline constexpr std::size_t invalidate_entry_len = 16;
using invalidate_entry = std::array<std::byte, invalidate_entry_len>;

[[nodiscard]] constexpr invalidate_entry encode_entry(const queue::command& c) noexcept {
  invalidate_entry e{};
  for (std::size_t w = 0; w < 2; ++w) {
    for (std::size_t i = 0; i < 8; ++i) {
      e[w * 8 + i] = static_cast<std::byte>((c.words[w] >> (8 * i)) & 0xff);
    }
  }
  return e;
}

[[nodiscard]] constexpr queue::command decode_entry(std::span<const std::byte, 16> e) noexcept {
  queue::command c;
  for (std::size_t w = 0; w < 2; ++w) {
    for (std::size_t i = 0; i < 8; ++i) {
      c.words[w] |= std::uint64_t{std::to_integer<std::uint8_t>(e[w * 8 + i])} << (8 * i);
    }
  }
  return c;
}

}  // namespace vsmmu::accel
