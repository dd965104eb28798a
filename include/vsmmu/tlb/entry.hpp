// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstdint>

// What one cached translation holds, independent of how the IOTLB stores it (IHI 0070 §3.17:
// entries are tagged by translation regime, VMID and, for non-global stage 1 entries, ASID).
namespace vsmmu::tlb {

// The StreamWorld an entry was inserted under (IHI 0070 §3.17). Secure, Realm and EL3 worlds
// are not modelled yet; their commands come from queues this library does not emulate.
enum class regime : std::uint8_t {
  ns_el1 = 0,      // tagged with VMID (and ASID when non-global)
  ns_el2 = 1,      // no VMID, no ASID
  ns_el2_e2h = 2,  // ASID when non-global, no VMID
};

// Which address space the input address belongs to. Stage 2-only entries translate IPAs and must
// stay distinguishable from VA entries so that CMD_TLBI_S2_IPA finds them (IHI 0070 §4.4.3.1).
enum class space : std::uint8_t {
  va = 0,   // stage 1-only or nested (stage 1 + stage 2 combined)
  ipa = 1,  // stage 2-only
};

// Which stages produced the entry.
enum class stages : std::uint8_t {
  s1_only = 1,
  s2_only = 2,
  nested = 3,  // one combined VA -> PA entry; keeps both stages' permissions
};

// Permissions a descriptor grants, as a bit set: stage 1 AP[2:1]/UXN/PXN and stage 2 S2AP/XN
// resolved into what each kind of access may do. Stage 2 has no privilege split for reads and
// writes, so its read/write bits are equal in both halves.
enum class perm : std::uint8_t {
  none = 0,
  read_priv = 1U << 0,
  write_priv = 1U << 1,
  exec_priv = 1U << 2,
  read_unpriv = 1U << 3,
  write_unpriv = 1U << 4,
  exec_unpriv = 1U << 5,
  all = 0x3f,
};

[[nodiscard]] constexpr perm operator|(perm a, perm b) noexcept {
  return static_cast<perm>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
[[nodiscard]] constexpr perm operator&(perm a, perm b) noexcept {
  return static_cast<perm>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b));
}
// True when every permission in `wanted` is granted by `granted`.
[[nodiscard]] constexpr bool allows(perm granted, perm wanted) noexcept {
  return (granted & wanted) == wanted;
}

// The tag a lookup presents: the StreamWorld, address space, VMID and ASID of the transaction's
// configuration. VMID is 0 where the regime has none (or stage 2 is not implemented); ASID is 0
// for stage 2-only and ns_el2.
struct context {
  regime world = regime::ns_el1;
  space kind = space::va;
  std::uint16_t vmid = 0;
  std::uint16_t asid = 0;

  [[nodiscard]] static constexpr context stage1(std::uint16_t vmid, std::uint16_t asid) noexcept {
    return {regime::ns_el1, space::va, vmid, asid};
  }
  [[nodiscard]] static constexpr context stage2(std::uint16_t vmid) noexcept {
    return {regime::ns_el1, space::ipa, vmid, 0};
  }
  friend constexpr bool operator==(const context&, const context&) = default;
};

// One cached translation: a naturally aligned block of 2^size_shift input bytes starting at
// `input` maps to `output`. Only last-level (leaf) translations are cached here: walk caches of
// table descriptors are a separate structure, so Leaf = 1 and Leaf = 0 TLBIs remove the same
// entries from this one.
struct entry {
  std::uint64_t input = 0;         // VA or IPA, aligned to 1 << size_shift
  std::uint64_t output = 0;        // PA (stage 1-only output is the PA too)
  std::uint64_t intermediate = 0;  // nested only: the IPA `input` maps to, for stage 2 faults

  // tag, global and size_shift are adjacent, in this order: the IOTLB reads the eight bytes as
  // its key (iotlb.hpp, key_word).
  context tag{};
  bool global = false;           // stage 1 nG == 0: matches every ASID of its VMID (and regime)
  std::uint8_t size_shift = 12;  // log2 of the page, block or contiguous-range size
  stages from = stages::s1_only;

  // Walk facts for TTL/TG hints: the level the leaf came from and the granule (log2) of each
  // stage; 0 for a stage that did not take part.
  std::uint8_t s1_level = 0;
  std::uint8_t s2_level = 0;
  std::uint8_t s1_granule_shift = 0;
  std::uint8_t s2_granule_shift = 0;

  perm s1_perm = perm::all;  // all for a stage 2-only entry
  perm s2_perm = perm::all;  // all for a stage 1-only entry

  // Final attributes: MAIR-format memory attribute, shareability (SH encoding), output NS.
  std::uint8_t mem_attr = 0;
  std::uint8_t shareability = 0;
  bool ns = true;
  // HTTU dirty state: writable only because DBM is set on a still-clean descriptor, so a write
  // must go back to the walk to mark it dirty.
  bool s1_dbm_clean = false;
  bool s2_dbm_clean = false;

  [[nodiscard]] constexpr std::uint64_t size() const noexcept {
    return std::uint64_t{1} << size_shift;
  }
  [[nodiscard]] constexpr std::uint64_t last() const noexcept { return input + (size() - 1); }
  [[nodiscard]] constexpr bool covers(std::uint64_t addr) const noexcept {
    return (addr >> size_shift) == (input >> size_shift);
  }
  [[nodiscard]] constexpr std::uint64_t translate(std::uint64_t addr) const noexcept {
    return output + (addr & (size() - 1));
  }
  [[nodiscard]] constexpr perm effective_perm() const noexcept { return s1_perm & s2_perm; }

  friend constexpr bool operator==(const entry&, const entry&) = default;
};

}  // namespace vsmmu::tlb
