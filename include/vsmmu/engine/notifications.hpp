// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/tlb/range_invalidation.hpp>

#include <algorithm>
#include <bit>
#include <concepts>
#include <cstdint>
#include <limits>

// What the engine tells the embedder when the guest invalidates (IHI 0070 §4.3, §4.4, §4.5):
// device-side IOTLBs (a VMM's vhost or VFIO mappings, a simulator's device TLBs) learn which
// translations went, as aligned power-of-two pieces; ATC invalidations become requests to the
// endpoint, which say whether they completed.
namespace vsmmu::engine {

// The naturally aligned block [base, base + 2^size_shift); size_shift 64 is the whole space.
struct range_piece {
  std::uint64_t base = 0;
  unsigned size_shift = 64;

  [[nodiscard]] constexpr std::uint64_t last() const noexcept {
    return size_shift >= 64 ? std::numeric_limits<std::uint64_t>::max()
                            : base + ((std::uint64_t{1} << size_shift) - 1);
  }
  friend constexpr bool operator==(const range_piece&, const range_piece&) = default;
};

// Splits the inclusive range r into the fewest naturally aligned power-of-two pieces, calling
// fn(range_piece) for each in ascending order; returns how many (at most 128). A device IOTLB
// that can only drop one aligned block per call (QEMU's IOMMU notifiers take an address mask)
// gets exactly r, no more and no less.
template <class Fn>
constexpr unsigned split_range(const tlb::address_range& r, Fn&& fn) {
  if (r.first > r.last) return 0;
  unsigned count = 0;
  std::uint64_t a = r.first;
  for (;;) {
    const std::uint64_t rest_minus_one = r.last - a;  // bytes left, minus one
    const unsigned fits = rest_minus_one == std::numeric_limits<std::uint64_t>::max()
                              ? 64U
                              : static_cast<unsigned>(std::bit_width(rest_minus_one + 1)) - 1;
    const unsigned aligned = a == 0 ? 64U : static_cast<unsigned>(std::countr_zero(a));
    const range_piece p{a, std::min(fits, aligned)};
    fn(p);
    ++count;
    if (p.last() == r.last) return count;
    a = p.last() + 1;
  }
}

// The IOTLB invalidation scopes of the Non-secure command queue (§4.4).
enum class tlbi_scope : std::uint8_t {
  nsnh_all,   // CMD_TLBI_NSNH_ALL: every NS-EL1 entry, all stages, every VMID
  nh_all,     // CMD_TLBI_NH_ALL: stage 1 (and nested) entries of vmid, global ones too
  nh_asid,    // CMD_TLBI_NH_ASID: non-global stage 1 entries of (vmid, asid)
  nh_va,      // CMD_TLBI_NH_VA: entries of (vmid, asid) and global entries of vmid, in piece
  nh_vaa,     // CMD_TLBI_NH_VAA: stage 1 entries of every ASID of vmid, in piece
  s2_ipa,     // CMD_TLBI_S2_IPA: stage 2-only entries of vmid, IPAs in piece
  s12_vmall,  // CMD_TLBI_S12_VMALL: every NS-EL1 entry of vmid, all stages
  el2_all,    // CMD_TLBI_EL2_ALL: NS-EL2 entries
  el2_asid,   // CMD_TLBI_EL2_ASID: non-global NS-EL2-E2H entries of asid
  el2_va,     // CMD_TLBI_EL2_VA: NS-EL2 entries in piece (SMMU_CR2.E2H == 0: asid not matched)
  el2_vaa,    // CMD_TLBI_EL2_VAA: NS-EL2 entries in piece
};

// One IOTLB invalidation, or one piece of a ranged one: a command with an address range notifies
// once per aligned piece (split_range). The address of a command without a range (TG == 0)
// stands for the 4KB page holding it: drop every cached translation overlapping the piece,
// whatever its size.
struct iotlb_invalidation {
  tlbi_scope scope = tlbi_scope::nsnh_all;
  std::uint16_t vmid = 0;  // 0 when stage 2 is not implemented (the VMID is not matched)
  std::uint16_t asid = 0;
  bool leaf = false;    // only last-level entries need to go
  range_piece piece{};  // the whole space for scopes without an address
};

// CMD_CFGI_*: configuration of StreamIDs [first_sid, last_sid] changed; for CMD_CFGI_CD only the
// CD at cd_index, for CMD_CFGI_CD_ALL every CD (the STE stays).
struct config_invalidation {
  enum class what : std::uint8_t { ste, cd, cd_all };
  what kind = what::ste;
  std::uint32_t first_sid = 0;
  std::uint32_t last_sid = 0;
  std::uint32_t cd_index = 0;  // what == cd
};

// CMD_ATC_INV (§4.5.1): an ATS Invalidation Request to the endpoint of sid, with a PASID when
// ssv, for the aligned span `span` (4096 * 2^Size bytes; Size >= 52 is everything).
struct atc_invalidation {
  std::uint32_t sid = 0;
  bool ssv = false;
  std::uint32_t ssid = 0;  // the PASID, ssv only
  bool global = false;     // the Global Invalidate flag, ssv only
  range_piece span{};
};

// What an engine's embedder implements. Calls come from the thread that runs
// smmu_engine::execute(), after the engine's own caches are invalidated, with no engine lock held
// (a notifier may call back into the engine). invalidate_atc returns whether the endpoint
// completed the invalidation; false becomes CERROR_ATC_INV_SYNC at the next CMD_SYNC.
template <class N>
concept notifier = requires(N& n, const iotlb_invalidation& i, const config_invalidation& c,
                            const atc_invalidation& a) {
  n.iotlb_invalidated(i);
  n.config_invalidated(c);
  { n.invalidate_atc(a) } -> std::same_as<bool>;
};

// For embedders without device-side caches or ATS endpoints.
struct null_notifier {
  constexpr void iotlb_invalidated(const iotlb_invalidation&) const noexcept {}
  constexpr void config_invalidated(const config_invalidation&) const noexcept {}
  [[nodiscard]] constexpr bool invalidate_atc(const atc_invalidation&) const noexcept {
    return true;
  }
};

static_assert(notifier<null_notifier>);

}  // namespace vsmmu::engine
