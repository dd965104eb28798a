// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/tlb/entry.hpp>
#include <vsmmu/walk/result.hpp>
#include <vsmmu/walk/translate.hpp>

#include <cstdint>

// Between a walk's leaf translation (walk::translation under a walk::leaf_key) and an IOTLB entry
// (tlb::entry), both ways, so that a hit reproduces exactly what the walk returned.
//
// tlb::entry keeps one memory attribute and one shareability byte, and one size for the combined
// block; a translation keeps each stage's. What does not fit goes into bits the IOTLB does not
// interpret: mem_attr holds stage 1's MAIR byte, shareability holds SH of stage 1 [1:0], SH of
// stage 2 [3:2] and stage 2 MemAttr [7:4]; `intermediate` (aligned to the entry's size, at least
// 4KB) carries in bits [9:0] AttrIndx [2:0], which stage's block is larger [3] and by how many
// size bits [9:4].
namespace vsmmu::engine::detail {

inline constexpr std::uint64_t packed_low_mask = 0x3ff;

// The IOTLB tag of a leaf key: the StreamWorld, the address space and the VMID/ASID it uses.
[[nodiscard]] constexpr tlb::context tlb_context(const walk::leaf_key& k) noexcept {
  if (k.s1 && k.el2) return {tlb::regime::ns_el2, tlb::space::va, 0, 0};
  if (k.s1) return tlb::context::stage1(k.vmid, k.asid);
  return tlb::context::stage2(k.vmid);
}

[[nodiscard]] constexpr tlb::entry to_entry(const walk::leaf_key& k, std::uint64_t address,
                                            const walk::translation& x) noexcept {
  tlb::entry e;
  const unsigned shift = x.size_shift >= 64 ? 63U : x.size_shift;
  const std::uint64_t offset = address & ((std::uint64_t{1} << shift) - 1);
  e.size_shift = static_cast<std::uint8_t>(shift);
  e.input = address - offset;
  e.output = x.output_address - offset;
  e.tag = tlb_context(k);
  e.global = k.s1 && x.global;
  e.from = k.s1 && k.s2 ? tlb::stages::nested : k.s1 ? tlb::stages::s1_only : tlb::stages::s2_only;
  e.s1_level = static_cast<std::uint8_t>(k.s1 && x.s1_level > 0 ? x.s1_level : 0);
  e.s2_level = static_cast<std::uint8_t>(k.s2 && x.s2_level > 0 ? x.s2_level : 0);
  e.s1_granule_shift = x.s1_granule_shift;
  e.s2_granule_shift = x.s2_granule_shift;
  e.s1_perm = static_cast<tlb::perm>(x.s1_perm_set & 0x3fU);
  e.s2_perm = static_cast<tlb::perm>(x.s2_perm_set & 0x3fU);
  e.mem_attr = x.s1_mem_attr;
  e.shareability =
      static_cast<std::uint8_t>((x.s1_sh & 3U) | (x.s2_sh & 3U) << 2 | (x.s2_mem_attr & 0xfU) << 4);
  e.ns = true;
  e.s1_dbm_clean = x.s1_dbm_clean;
  e.s2_dbm_clean = x.s2_dbm_clean;
  // Per-stage sizes: in a nested entry one stage's block is the entry's, the other may be larger.
  std::uint64_t packed = x.s1_attr_index & 7U;
  const unsigned s1 = k.s1 ? x.s1_size_shift : 0U;
  const unsigned s2 = k.s2 ? x.s2_size_shift : 0U;
  if (k.s1 && k.s2) {
    const bool s2_larger = s2 > s1;
    const unsigned delta = (s2_larger ? s2 : s1) - shift;
    packed |= std::uint64_t{s2_larger} << 3 | std::uint64_t{delta & 0x3fU} << 4;
  }
  e.intermediate = (k.s1 && k.s2 ? x.ipa - offset : 0) | packed;
  return e;
}

// The translation an entry gives for `address`, as the walk produced it (translate() itself sets
// perm, s1_enabled, s2_enabled and vmid), written over x, which holds a default translation.
[[gnu::always_inline]] constexpr void from_entry(const walk::leaf_key& k, const tlb::entry& e,
                                                 std::uint64_t address,
                                                 walk::translation& x) noexcept {
  const std::uint64_t offset = address & (e.size() - 1);
  x.output_address = e.output + offset;
  x.size_shift = e.size_shift;
  x.s1_enabled = k.s1;
  x.s2_enabled = k.s2;
  x.vmid = k.vmid;
  const std::uint64_t packed = e.intermediate & packed_low_mask;
  if (k.s1 && k.s2) {
    x.ipa = (e.intermediate & ~packed_low_mask) + offset;
  } else if (k.s1) {
    x.ipa = x.output_address;
  } else {
    x.ipa = address;
  }
  if (k.s1) {
    x.asid = k.asid;
    x.global = e.global || k.el2;  // the IOTLB clears it for NS-EL2 (no ASID), walks set it
    x.s1_attr_index = static_cast<std::uint8_t>(packed & 7U);
    x.s1_mem_attr = e.mem_attr;
    x.s1_sh = static_cast<std::uint8_t>(e.shareability & 3U);
    x.s1_level = e.s1_level;
    x.s1_size_shift = e.size_shift;
  }
  if (k.s2) {
    x.s2_mem_attr = static_cast<std::uint8_t>(e.shareability >> 4);
    x.s2_sh = static_cast<std::uint8_t>((e.shareability >> 2) & 3U);
    x.s2_level = e.s2_level;
    x.s2_size_shift = e.size_shift;
  }
  if (k.s1 && k.s2) {
    const unsigned delta = static_cast<unsigned>((packed >> 4) & 0x3fU);
    if ((packed & 8U) != 0) {
      x.s2_size_shift += delta;
    } else {
      x.s1_size_shift += delta;
    }
  }
  x.s1_perm_set = static_cast<std::uint8_t>(e.s1_perm);
  x.s2_perm_set = static_cast<std::uint8_t>(e.s2_perm);
  x.s1_dbm_clean = e.s1_dbm_clean;
  x.s2_dbm_clean = e.s2_dbm_clean;
  x.s1_granule_shift = e.s1_granule_shift;
  x.s2_granule_shift = e.s2_granule_shift;
}

[[nodiscard]] constexpr walk::translation from_entry(const walk::leaf_key& k, const tlb::entry& e,
                                                     std::uint64_t address) noexcept {
  walk::translation x;
  from_entry(k, e, address, x);
  return x;
}

}  // namespace vsmmu::engine::detail
