// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstdint>
#include <string_view>

#include <vsmmu/layout/dynamic.hpp>
#include <vsmmu/layout/field.hpp>
#include <vsmmu/layout/layout.hpp>
#include <vsmmu/layout/value.hpp>
#include <vsmmu/smmuv3/catalog.hpp>

// What every SMMU register header shares: the field vocabulary, the page geometry and the
// encodings of register fields that no in-memory structure uses.
namespace vsmmu::smmuv3::regs {

using vsmmu::layout::address;
using vsmmu::layout::bits;
using vsmmu::layout::field;
using vsmmu::layout::reserved_bits;
using enum vsmmu::layout::access;

// The register file is two 64KB pages; EVENTQ_PROD/CONS and PRIQ_PROD/CONS live in page 1 so that
// the producer/consumer indexes can be mapped to a different agent (IHI 0070 §6.1).
inline constexpr std::uint32_t page_size = 0x10000;

// SMMU_IDR0.ST_LEVEL. 0b1x is reserved.
enum class st_level : std::uint8_t {
  linear = 0b00,
  two_level = 0b01,  // in addition to linear
};

// SMMU_IDR0.STALL_MODEL. 0b11 is reserved.
enum class stall_model : std::uint8_t {
  stall_and_terminate = 0b00,
  terminate_only = 0b01,  // STE.S2S and CD.S must be 0
  stall_forced = 0b10,    // STE.S2S and CD.S must be 1
};

// SMMU_IDR0.TTENDIAN. 0b01 is reserved.
enum class ttendian : std::uint8_t {
  mixed = 0b00,
  little = 0b10,
  big = 0b11,
};

// SMMU_IDR0.HTTU.
enum class httu : std::uint8_t {
  none = 0b00,
  access_flag = 0b01,
  access_flag_and_dirty = 0b10,
  access_flag_dirty_and_table_access_flag = 0b11,
};

// SMMU_IDR0.TTF: translation table formats. 0b00 is reserved.
enum class ttf : std::uint8_t {
  aarch32_lpae = 0b01,
  aarch64 = 0b10,
  aarch32_lpae_and_aarch64 = 0b11,
};

// SMMU_IDR3.BBML. 0b11 is reserved.
enum class bbml : std::uint8_t {
  level0 = 0b00,
  level1 = 0b01,
  level2 = 0b10,
};

// SMMU_IDR5.VAX: largest VA a CD.TTBx translates. 0b11 is reserved.
enum class vax : std::uint8_t {
  bits48 = 0b00,
  bits52 = 0b01,
  bits56 = 0b10,
};

// SMMU_AIDR.ArchMajorRev: 0b0000 is SMMUv3.x, other values are not defined.
enum class arch_major_rev : std::uint8_t {
  smmuv3 = 0b0000,
};

// SMMU_AIDR.ArchMinorRev. Values above 0b0100 are not defined.
enum class arch_minor_rev : std::uint8_t {
  v3_0 = 0b0000,
  v3_1 = 0b0001,
  v3_2 = 0b0010,
  v3_3 = 0b0011,
  v3_4 = 0b0100,
};

// SMMU_CR0.VMW: low VMID bits TLB invalidations ignore. Other values behave as exact.
enum class vmid_wildcard : std::uint8_t {
  exact = 0b000,
  ignore_1_bit = 0b001,  // match VMID[N:1]
  ignore_2_bits = 0b010,
  ignore_3_bits = 0b011,
  ignore_4_bits = 0b100,
};

// SMMU_CR1.{TABLE,QUEUE}_SH and SMMU_*_IRQ_CFG2.SH. 0b01 is reserved and treated as 0b00.
enum class shareability : std::uint8_t {
  non_shareable = 0b00,
  outer_shareable = 0b10,
  inner_shareable = 0b11,
};

// SMMU_CR1.{TABLE,QUEUE}_{OC,IC}. 0b11 is reserved and treated as 0b00 (unlike CD.IR0/OR0,
// where 0b11 is Write-Back no-allocate).
enum class cacheability : std::uint8_t {
  non_cacheable = 0b00,
  write_back = 0b01,
  write_through = 0b10,
};

// SMMU_GBPA.INSTCFG. 0b01 is reserved and behaves as 0b00.
enum class instcfg : std::uint8_t {
  use_incoming = 0b00,
  data = 0b10,
  instruction = 0b11,
};

// SMMU_GBPA.PRIVCFG. 0b01 is reserved and behaves as 0b00.
enum class privcfg : std::uint8_t {
  use_incoming = 0b00,
  unprivileged = 0b10,
  privileged = 0b11,
};

// SMMU_GBPA.SHCFG: unlike the CR1 encoding, 0b01 means "use incoming".
enum class shcfg : std::uint8_t {
  non_shareable = 0b00,
  use_incoming = 0b01,
  outer_shareable = 0b10,
  inner_shareable = 0b11,
};

// SMMU_STRTAB_BASE_CFG.FMT. Other values are reserved and behave as linear.
enum class strtab_fmt : std::uint8_t {
  linear = 0b00,
  two_level = 0b01,
};

namespace detail {
// A catalogue entry from a register's layout; the entry's name is the layout's without "SMMU_".
template <vsmmu::layout::layout_type L>
[[nodiscard]] constexpr register_desc describe(std::uint32_t offset, unsigned page,
                                               reset_kind reset,
                                               std::uint64_t reset_value) noexcept {
  constexpr std::string_view prefix = "SMMU_";
  std::string_view name = L::name;
  if (name.substr(0, prefix.size()) == prefix) name.remove_prefix(prefix.size());
  return {.name = name,
          .offset = offset,
          .page = page,
          .width = static_cast<unsigned>(L::bit_count),
          .reset = reset,
          .reset_value = reset_value,
          .layout = vsmmu::layout::info_of_layout<L>()};
}
}  // namespace detail

}  // namespace vsmmu::smmuv3::regs
