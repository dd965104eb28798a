// SPDX-License-Identifier: BSL-1.0
#pragma once

// A trivially correct IOTLB: a vector scanned linearly, each invalidation written straight from
// the IHI 0070 §4.4 wording. The differential tests hold vsmmu::tlb::iotlb to it.
#include <vsmmu/tlb/entry.hpp>
#include <vsmmu/tlb/iotlb.hpp>
#include <vsmmu/tlb/range_invalidation.hpp>

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <vector>

namespace vsmmu::tlb::testing {

class reference_tlb {
 public:
  explicit reference_tlb(iotlb_options o = {})
      : asid_mask_(o.asid_bits >= 16 ? 0xffff : 0xff),
        vmid_mask_(o.vmid_bits >= 16 ? 0xffff : 0xff) {}

  std::vector<entry> entries;
  unsigned vmw = 0;  // SMMU_CR0.VMW: invalidations compare VMID[N:vmw]

  void set_vmid_wildcard(unsigned w) { vmw = w <= 4 ? w : 0; }
  [[nodiscard]] bool same_vm(const entry& e, std::uint16_t vmid) const {
    return (e.tag.vmid >> vmw) == (vm(vmid) >> vmw);
  }

  // The documented normalisation: tags a regime does not have are zero (§3.17 table).
  [[nodiscard]] entry normalise(entry e) const {
    const bool has_asid = e.tag.world != regime::ns_el2 && e.tag.kind == space::va;
    if (!has_asid) e.global = false;
    if (!has_asid || e.global) e.tag.asid = 0;
    if (e.tag.world != regime::ns_el1) e.tag.vmid = 0;
    e.tag.asid = static_cast<std::uint16_t>(e.tag.asid & asid_mask_);
    e.tag.vmid = static_cast<std::uint16_t>(e.tag.vmid & vmid_mask_);
    e.input -= e.input % e.size();
    return e;
  }

  void insert(const entry& in) {
    const entry e = normalise(in);
    for (auto& x : entries) {
      if (x.tag == e.tag && x.global == e.global && x.size_shift == e.size_shift &&
          x.input == e.input) {
        x = e;
        return;
      }
    }
    entries.push_back(e);
  }

  [[nodiscard]] const entry* lookup(context c, std::uint64_t addr) const {
    c.asid = static_cast<std::uint16_t>(c.asid & asid_mask_);
    c.vmid = static_cast<std::uint16_t>(c.vmid & vmid_mask_);
    const bool has_asid = c.world != regime::ns_el2 && c.kind == space::va;
    const bool has_vmid = c.world == regime::ns_el1;
    const entry* best = nullptr;
    for (const bool want_global : {false, true}) {
      for (const auto& e : entries) {
        if (e.tag.world != c.world || e.tag.kind != c.kind || e.global != want_global) continue;
        if (has_vmid && e.tag.vmid != c.vmid) continue;
        if (has_asid && !e.global && e.tag.asid != c.asid) continue;
        if (!e.covers(addr)) continue;
        if (best == nullptr || e.size_shift < best->size_shift) best = &e;
      }
      if (best != nullptr) return best;
    }
    return nullptr;
  }

  template <class Pred>
  void remove_if(Pred p) {
    entries.erase(std::remove_if(entries.begin(), entries.end(), p), entries.end());
  }

  [[nodiscard]] std::uint16_t vm(std::uint16_t v) const {
    return static_cast<std::uint16_t>(v & vmid_mask_);
  }
  [[nodiscard]] std::uint16_t as(std::uint16_t a) const {
    return static_cast<std::uint16_t>(a & asid_mask_);
  }
  static bool in(const entry& e, const address_range& r) { return r.overlaps(e.input, e.last()); }
  static bool el1_s1(const entry& e) {
    return e.tag.world == regime::ns_el1 && e.tag.kind == space::va;
  }

  void invalidate_all() { entries.clear(); }
  // "All Non-secure, non-NS-EL2, non-NS-EL2-E2H TLB entries ... at all implemented stages."
  void nsnh_all() {
    remove_if([](const entry& e) { return e.tag.world == regime::ns_el1; });
  }
  // "all stage 1 NS-EL1 entries for VMID, including global entries"
  void nh_all(std::uint16_t vmid) {
    remove_if([&](const entry& e) { return el1_s1(e) && same_vm(e, vmid); });
  }
  // "stage 1 NS-EL1 non-global entries by ASID and VMID"
  void nh_asid(std::uint16_t vmid, std::uint16_t asid) {
    remove_if([&](const entry& e) {
      return el1_s1(e) && same_vm(e, vmid) && !e.global && e.tag.asid == as(asid);
    });
  }
  // "entries by VMID, ASID and VA, as well as global entries by VMID and VA regardless of ASID"
  void nh_va(std::uint16_t vmid, std::uint16_t asid, const address_range& r) {
    remove_if([&](const entry& e) {
      return el1_s1(e) && same_vm(e, vmid) && (e.global || e.tag.asid == as(asid)) && in(e, r);
    });
  }
  // "entries by VA for all ASIDs in VMID, including global entries"
  void nh_vaa(std::uint16_t vmid, const address_range& r) {
    remove_if([&](const entry& e) { return el1_s1(e) && same_vm(e, vmid) && in(e, r); });
  }
  // "stage 2 by VMID and IPA"; combined entries are not required to go and, here, stay.
  void s2_ipa(std::uint16_t vmid, const address_range& r) {
    remove_if([&](const entry& e) {
      return e.tag.world == regime::ns_el1 && e.tag.kind == space::ipa && same_vm(e, vmid) &&
             in(e, r);
    });
  }
  // "all Non-secure (and non-Hyp) entries at all implemented stages for VMID"
  void s12_vmall(std::uint16_t vmid) {
    remove_if([&](const entry& e) { return e.tag.world == regime::ns_el1 && same_vm(e, vmid); });
  }
  void el2_all() {
    remove_if([](const entry& e) { return e.tag.world != regime::ns_el1; });
  }
  void el2_asid(std::uint16_t asid) {
    remove_if([&](const entry& e) {
      return e.tag.world == regime::ns_el2_e2h && !e.global && e.tag.asid == as(asid);
    });
  }
  void el2_va(std::uint16_t asid, const address_range& r, bool e2h) {
    remove_if([&](const entry& e) {
      if (e2h) {
        return e.tag.world == regime::ns_el2_e2h && (e.global || e.tag.asid == as(asid)) &&
               in(e, r);
      }
      return e.tag.world == regime::ns_el2 && in(e, r);
    });
  }
  void el2_vaa(const address_range& r, bool e2h) {
    remove_if([&](const entry& e) {
      return e.tag.world == (e2h ? regime::ns_el2_e2h : regime::ns_el2) && in(e, r);
    });
  }

 private:
  std::uint16_t asid_mask_;
  std::uint16_t vmid_mask_;
};

// A total order on entries so that two caches' contents compare as sorted vectors.
inline auto entry_order_key(const entry& e) {
  return std::make_tuple(e.tag.world, e.tag.kind, e.tag.vmid, e.tag.asid, e.global, e.size_shift,
                         e.input, e.output);
}

inline std::vector<entry> sorted(std::vector<entry> v) {
  std::sort(v.begin(), v.end(),
            [](const entry& a, const entry& b) { return entry_order_key(a) < entry_order_key(b); });
  return v;
}

template <class Tlb>
std::vector<entry> contents(const Tlb& t) {
  std::vector<entry> v;
  t.for_each([&](const entry& e) { v.push_back(e); });
  return sorted(std::move(v));
}

}  // namespace vsmmu::tlb::testing
