// SPDX-License-Identifier: BSL-1.0
// tlb::iotlb against a reference model (docs/reliability.md, docs/tlb.md).
//
// Input: one byte choosing the IOTLB (capacity 1, 3, 8 or 64, 8- or 16-bit ASIDs and VMIDs; or a
// 65537-entry one, whose context and VM indexes take the non-compact 32-bit form), then
// operations: insert, both lookup forms, every invalidation scope the IOTLB has (all, NSNH_ALL,
// NH_ALL, NH_ASID, NH_VA and NH_VAA with an address range or a decoded TLBI range, S2_IPA,
// S12_VMALL, EL2_ALL, EL2_ASID, EL2_VA and EL2_VAA with and without E2H), the VMID wildcard, and
// bursts: a seed and a count from which a generator draws up to 1021 operations, so that one input
// runs thousands of them.
//
// The model is the list of entries the IOTLB holds, normalised as the IOTLB documents (tags a
// regime does not have cleared, ASID and VMID cut to their widths, input aligned to the size).
// Invariants:
//   - size() equals the model's count, never above the capacity; for the small IOTLBs, for_each
//     yields exactly the model's entries after every operation;
//   - an insert replaces the entry with the same tag, size and input, or adds one, evicting at
//     most one other entry and only when the IOTLB was full (the model then drops the one evicted);
//   - both lookup forms return exactly what the documented order gives over the model: the
//     smallest non-global entry of the context covering the address, else the smallest global
//     entry of its regime and VMID (for VA contexts of regimes with ASIDs): no false hit, no hit
//     on an invalidated or evicted entry, no miss while a covering entry is held;
//   - each invalidation removes exactly its documented scope (IHI 0070 §4.4 as iotlb.hpp states
//     it: range hints ignored, VMID wildcards as SMMU_CR0.VMW); decode_tlbi_range gives a range
//     that starts at the address and does not wrap.
#include <vsmmu/tlb/iotlb.hpp>
#include <vsmmu/tlb/range_invalidation.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <tuple>
#include <vector>

#include "check.hpp"
#include "choices.hpp"

namespace {

namespace vt = vsmmu::tlb;
using vsmmu::fuzz::reader;

using source = vsmmu::fuzz::choices;

// ---- the model

struct model {
  std::uint16_t asid_mask = 0xffff;
  std::uint16_t vmid_mask = 0xffff;
  unsigned vmw = 0;
  std::vector<vt::entry> live;

  // The stored form, written from the IOTLB's documentation rather than its code: global only
  // for VA entries of regimes with ASIDs; the ASID only on non-global VA entries of NS-EL1 and
  // NS-EL2-E2H; the VMID only on NS-EL1 entries; the size shift 6 bits; the input aligned.
  [[nodiscard]] vt::entry normalise(vt::entry e) const noexcept {
    const bool va = e.tag.kind == vt::space::va;
    const bool asid_regime =
        e.tag.world == vt::regime::ns_el1 || e.tag.world == vt::regime::ns_el2_e2h;
    if (!va || !asid_regime) e.global = false;
    e.tag.asid =
        va && asid_regime && !e.global ? static_cast<std::uint16_t>(e.tag.asid & asid_mask) : 0;
    e.tag.vmid =
        e.tag.world == vt::regime::ns_el1 ? static_cast<std::uint16_t>(e.tag.vmid & vmid_mask) : 0;
    e.size_shift &= 63U;
    e.input &= ~(e.size() - 1);
    return e;
  }
  // The tag a lookup of c matches (non-global).
  [[nodiscard]] vt::context lookup_tag(vt::context c) const noexcept {
    vt::entry e;
    e.tag = c;
    return normalise(e).tag;
  }

  [[nodiscard]] static bool same_key(const vt::entry& a, const vt::entry& b) noexcept {
    return a.tag == b.tag && a.global == b.global && a.size_shift == b.size_shift &&
           a.input == b.input;
  }
  [[nodiscard]] static auto key(const vt::entry& e) noexcept {
    return std::make_tuple(static_cast<int>(e.tag.world), static_cast<int>(e.tag.kind), e.tag.vmid,
                           e.tag.asid, e.global, e.size_shift, e.input);
  }

  // What lookup must return: the smallest non-global entry of c's tag covering addr, else the
  // smallest global entry of c's regime and VMID when c is a VA context of a regime with ASIDs.
  [[nodiscard]] const vt::entry* expect(const vt::context& c, std::uint64_t addr) const noexcept {
    const vt::context t = lookup_tag(c);
    const vt::entry* best = nullptr;
    for (const vt::entry& e : live) {
      if (!e.global && e.tag == t && e.covers(addr) &&
          (best == nullptr || e.size_shift < best->size_shift)) {
        best = &e;
      }
    }
    if (best != nullptr) return best;
    const bool may_be_global = c.kind == vt::space::va &&
                               (c.world == vt::regime::ns_el1 || c.world == vt::regime::ns_el2_e2h);
    if (!may_be_global) return nullptr;
    for (const vt::entry& e : live) {
      if (e.global && e.tag.world == t.world && e.tag.kind == t.kind && e.tag.vmid == t.vmid &&
          e.covers(addr) && (best == nullptr || e.size_shift < best->size_shift)) {
        best = &e;
      }
    }
    return best;
  }

  [[nodiscard]] bool in_vmid_group(std::uint16_t param, std::uint16_t vmid) const noexcept {
    const unsigned n = 1U << vmw;
    const unsigned base = param & vmid_mask & ~(n - 1);
    return vmid >= base && vmid < base + n;
  }
  [[nodiscard]] bool asid_is(std::uint16_t param, const vt::entry& e) const noexcept {
    return !e.global && e.tag.asid == (param & asid_mask);
  }
};

// ---- generators

[[nodiscard]] vt::context random_context(source& s) {
  vt::context c;
  constexpr vt::regime worlds[] = {vt::regime::ns_el1, vt::regime::ns_el1, vt::regime::ns_el1,
                                   vt::regime::ns_el2, vt::regime::ns_el2_e2h};
  const std::uint8_t b = s.u8();
  c.world = worlds[b % 5U];
  c.kind = (b & 0x80U) != 0 ? vt::space::ipa : vt::space::va;
  // Few distinct values, so that tags collide; sometimes ones the widths cut, or anything.
  constexpr std::uint16_t ids[] = {0, 1, 2, 3, 5, 0x101, 0xff, 0xffff};
  const std::uint8_t v = s.u8();
  c.vmid = (v & 0x10U) != 0 ? s.u16() : ids[v & 7U];
  c.asid = (v & 0x80U) != 0 ? s.u16() : ids[(v >> 4) & 7U];
  return c;
}

[[nodiscard]] std::uint8_t random_shift(source& s) {
  constexpr std::uint8_t shifts[] = {12, 12, 12, 12, 13, 14, 16, 16, 21, 21, 25, 29, 30, 39, 0, 63};
  const std::uint8_t b = s.u8();
  if ((b & 0xf0U) == 0xf0U) return s.u8();  // anything, 64 and above too (cut to 6 bits)
  return shifts[b & 15U];
}

[[nodiscard]] std::uint64_t random_address(source& s) {
  const std::uint8_t b = s.u8();
  if ((b & 7U) == 7U) return s.u64();
  constexpr std::uint64_t bases[] = {0, 0x1000'0000, 0x4000'0000, 0x7fff'ffff'f000,
                                     0xffff'ffff'ffe0'0000};
  return bases[(b >> 3) % 5U] + (std::uint64_t{s.u8()} << 12) + (std::uint64_t{s.u8()} << 4);
}

// A context and address near what the model holds (the likelier hit), or anywhere.
[[nodiscard]] std::pair<vt::context, std::uint64_t> probe_target(source& s, const model& m) {
  if (m.live.empty() || s.chance(15)) return {random_context(s), random_address(s)};
  const vt::entry& e = m.live[s.u16() % m.live.size()];
  vt::context c = e.tag;
  if (e.global) c.asid = s.u16();  // any ASID sees a global entry
  std::uint64_t a = e.input + (s.u64() & (e.size() - 1));
  if (s.chance(12)) a ^= std::uint64_t{1} << (s.u8() & 63U);  // just outside, sometimes
  return {c, a};
}

[[nodiscard]] vt::entry random_entry(source& s) {
  vt::entry e;
  e.tag = random_context(s);
  const std::uint8_t b = s.u8();
  e.global = (b & 1U) != 0;
  e.size_shift = random_shift(s);
  e.input = random_address(s);
  e.output = s.u64();
  e.intermediate = (b & 2U) != 0 ? s.u64() : 0;
  e.from = static_cast<vt::stages>(1U + (b >> 2) % 3U);
  e.s1_level = s.u8();
  e.s2_level = s.u8();
  e.s1_granule_shift = s.u8();
  e.s2_granule_shift = s.u8();
  e.s1_perm = static_cast<vt::perm>(s.u8() & 0x3fU);
  e.s2_perm = static_cast<vt::perm>(s.u8() & 0x3fU);
  e.mem_attr = s.u8();
  e.shareability = s.u8() & 3U;
  e.ns = (b & 0x20U) != 0;
  e.s1_dbm_clean = (b & 0x40U) != 0;
  e.s2_dbm_clean = (b & 0x80U) != 0;
  return e;
}

[[nodiscard]] vt::address_range random_range(source& s, const model& m) {
  const std::uint8_t b = s.u8();
  std::uint64_t first = 0;
  if (!m.live.empty() && (b & 1U) != 0) {
    const vt::entry& e = m.live[s.u16() % m.live.size()];
    first = e.input + (s.u64() & (e.size() - 1));
  } else {
    first = random_address(s);
  }
  switch ((b >> 1) & 7U) {
    case 0:
    case 1:
      return vt::address_range::single(first);
    case 2:
      return vt::address_range::everything();
    case 3:  // reversed bounds: no decoder makes them, and they must not do harm
      return {first, first - (s.u64() & 0xffff)};
    case 4: {
      const std::uint64_t len = s.u64();
      return {first, len > ~first ? ~std::uint64_t{0} : first + len};
    }
    default: {
      const std::uint64_t len = (std::uint64_t{s.u16()} << (s.u8() % 40U));
      return {first, len > ~first ? ~std::uint64_t{0} : first + len};
    }
  }
}

// A TLBI command's address fields, decoded as the engine decodes them; checked.
[[nodiscard]] vt::tlbi_range_result random_tlbi_range(source& s, const model& m) {
  vt::tlbi_address_fields f;
  const auto r = random_range(s, m);
  f.address = r.first & ~std::uint64_t{0xfff};
  const std::uint8_t b = s.u8();
  f.tg = static_cast<vsmmu::smmuv3::cmd::tlbi_tg>(b & 3U);
  f.ttl = (b >> 2) & 3U;
  f.ttl128 = (b & 0x10U) != 0;
  f.leaf = (b & 0x20U) != 0;
  f.num = s.u8() & 0x1fU;
  f.scale = s.u8() & 0x3fU;
  vt::range_features feat;
  feat.ril = (b & 0x40U) == 0;
  feat.ds = (b & 0x80U) != 0;
  const vt::tlbi_range_result d = vt::decode_tlbi_range(f, feat);
  if (d.ok()) {
    VSMMU_FUZZ_CHECK(d.value.range.first == f.address, "a TLBI range not starting at Address");
    VSMMU_FUZZ_CHECK(d.value.range.last >= d.value.range.first, "a TLBI range that wraps");
    VSMMU_FUZZ_CHECK(d.value.leaf == f.leaf, "Leaf lost in decoding");
    if (!feat.ril || f.tg == vsmmu::smmuv3::cmd::tlbi_tg::any) {
      VSMMU_FUZZ_CHECK(d.value.range.last == f.address, "a TLBI without range not one address");
    }
  }
  return d;
}

// ---- the harness over one IOTLB type

template <std::uint32_t N>
class harness {
 public:
  harness(vt::iotlb<N>& tlb, model& m, source& s, bool exact) noexcept
      : tlb_(tlb), m_(m), s_(s), exact_(exact) {}

  void run(reader& in) {
    unsigned ops = 0;
    // Bounded: bursts are capped, and the big IOTLB must never fill (the model has no eviction
    // for it, whose contents are not listed).
    while (ops++ < 8192 && s_.next_op()) {
      const std::uint8_t op = s_.u8();
      if (!s_.in_burst() && op >= 0xf8) {
        const std::uint64_t seed = in.integer<std::uint64_t>();
        s_.start_burst(seed, 1U + in.integer<std::uint8_t>() * 4U);
        continue;
      }
      step(op);
      check_state();
    }
  }

 private:
  void step(std::uint8_t op) {
    switch (op % 24U) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
        insert(random_entry(s_));
        break;
      case 5:
      case 6:
      case 7:
      case 8: {
        const auto [c, a] = probe_target(s_, m_);
        lookup(c, a);
        break;
      }
      case 9:
        tlb_.invalidate_all();
        drop([](const vt::entry&) { return true; });
        break;
      case 10:
        tlb_.nsnh_all();
        drop([](const vt::entry& e) { return e.tag.world == vt::regime::ns_el1; });
        break;
      case 11: {
        const std::uint16_t v = vmid_param();
        tlb_.nh_all(v);
        drop([&](const vt::entry& e) { return el1_va(e) && m_.in_vmid_group(v, e.tag.vmid); });
        break;
      }
      case 12: {
        const std::uint16_t v = vmid_param();
        const std::uint16_t a = asid_param();
        tlb_.nh_asid(v, a);
        drop([&](const vt::entry& e) {
          return el1_va(e) && m_.in_vmid_group(v, e.tag.vmid) && m_.asid_is(a, e);
        });
        break;
      }
      case 13:
      case 14: {
        const std::uint16_t v = vmid_param();
        const std::uint16_t a = asid_param();
        vt::address_range r;
        if (op % 24U == 13) {
          r = random_range(s_, m_);
          tlb_.nh_va(v, a, r);
        } else {
          const auto d = random_tlbi_range(s_, m_);
          if (!d.ok()) break;
          r = d.value.range;
          tlb_.nh_va(v, a, d.value);
        }
        drop([&](const vt::entry& e) {
          return el1_va(e) && m_.in_vmid_group(v, e.tag.vmid) && (e.global || m_.asid_is(a, e)) &&
                 r.overlaps(e.input, e.last());
        });
        break;
      }
      case 15: {
        const std::uint16_t v = vmid_param();
        vt::address_range r;
        if (s_.chance(50)) {
          r = random_range(s_, m_);
          tlb_.nh_vaa(v, r);
        } else {
          const auto d = random_tlbi_range(s_, m_);
          if (!d.ok()) break;
          r = d.value.range;
          tlb_.nh_vaa(v, d.value);
        }
        drop([&](const vt::entry& e) {
          return el1_va(e) && m_.in_vmid_group(v, e.tag.vmid) && r.overlaps(e.input, e.last());
        });
        break;
      }
      case 16: {
        const std::uint16_t v = vmid_param();
        vt::address_range r;
        if (s_.chance(50)) {
          r = random_range(s_, m_);
          tlb_.s2_ipa(v, r);
        } else {
          const auto d = random_tlbi_range(s_, m_);
          if (!d.ok()) break;
          r = d.value.range;
          tlb_.s2_ipa(v, d.value);
        }
        drop([&](const vt::entry& e) {
          return e.tag.world == vt::regime::ns_el1 && e.tag.kind == vt::space::ipa &&
                 m_.in_vmid_group(v, e.tag.vmid) && r.overlaps(e.input, e.last());
        });
        break;
      }
      case 17: {
        const std::uint16_t v = vmid_param();
        tlb_.s12_vmall(v);
        drop([&](const vt::entry& e) {
          return e.tag.world == vt::regime::ns_el1 && m_.in_vmid_group(v, e.tag.vmid);
        });
        break;
      }
      case 18:
        tlb_.el2_all();
        drop([](const vt::entry& e) { return e.tag.world != vt::regime::ns_el1; });
        break;
      case 19: {
        const std::uint16_t a = asid_param();
        tlb_.el2_asid(a);
        drop([&](const vt::entry& e) {
          return e.tag.world == vt::regime::ns_el2_e2h && e.tag.kind == vt::space::va &&
                 m_.asid_is(a, e);
        });
        break;
      }
      case 20: {
        const std::uint16_t a = asid_param();
        const vt::address_range r = random_range(s_, m_);
        const bool e2h = s_.chance(50);
        tlb_.el2_va(a, r, e2h);
        drop([&](const vt::entry& e) {
          if (e.tag.kind != vt::space::va || !r.overlaps(e.input, e.last())) return false;
          return e2h ? e.tag.world == vt::regime::ns_el2_e2h && (e.global || m_.asid_is(a, e))
                     : e.tag.world == vt::regime::ns_el2;
        });
        break;
      }
      case 21: {
        const vt::address_range r = random_range(s_, m_);
        const bool e2h = s_.chance(50);
        tlb_.el2_vaa(r, e2h);
        drop([&](const vt::entry& e) {
          return e.tag.kind == vt::space::va && r.overlaps(e.input, e.last()) &&
                 e.tag.world == (e2h ? vt::regime::ns_el2_e2h : vt::regime::ns_el2);
        });
        break;
      }
      case 22: {
        const unsigned vmw = s_.u8() % 7U;  // 5 and 6 behave as 0
        tlb_.set_vmid_wildcard(vmw);
        m_.vmw = vmw <= 4 ? vmw : 0;
        break;
      }
      default:  // every held entry, at its first and last byte
        for (std::size_t i = 0; i < m_.live.size() && i < 64; ++i) {
          const vt::entry e = m_.live[i];
          lookup(e.tag, e.input);
          lookup(e.tag, e.last());
        }
        break;
    }
  }

  [[nodiscard]] static bool el1_va(const vt::entry& e) noexcept {
    return e.tag.world == vt::regime::ns_el1 && e.tag.kind == vt::space::va;
  }
  // Mostly a VMID or ASID the model holds, so that invalidations find something.
  [[nodiscard]] std::uint16_t vmid_param() {
    if (!m_.live.empty() && s_.chance(78)) return m_.live[s_.u16() % m_.live.size()].tag.vmid;
    return s_.u16();
  }
  [[nodiscard]] std::uint16_t asid_param() {
    if (!m_.live.empty() && s_.chance(78)) return m_.live[s_.u16() % m_.live.size()].tag.asid;
    return s_.u16();
  }

  void insert(const vt::entry& raw) {
    const vt::entry e = m_.normalise(raw);
    const bool full = tlb_.size() == N;
    const auto same = std::find_if(m_.live.begin(), m_.live.end(),
                                   [&](const vt::entry& x) { return model::same_key(x, e); });
    const bool fresh = same == m_.live.end();
    tlb_.insert(raw);
    if (!fresh) {
      *same = e;
      return;
    }
    m_.live.push_back(e);
    if (!full) return;
    VSMMU_FUZZ_CHECK(exact_, "the big IOTLB filled up: the harness bounds inserts");
    // Exactly one other entry went: find it and forget it.
    const std::vector<vt::entry> held = contents();
    VSMMU_FUZZ_CHECK(held.size() == N, "an insert into a full IOTLB did not evict exactly one");
    std::vector<vt::entry> want = sorted(m_.live);
    std::vector<vt::entry> gone;
    std::set_difference(want.begin(), want.end(), held.begin(), held.end(),
                        std::back_inserter(gone), less);
    VSMMU_FUZZ_CHECK(gone.size() == 1, "an eviction that is not one held entry");
    VSMMU_FUZZ_CHECK(!model::same_key(gone[0], e), "the IOTLB evicted the entry it was inserting");
    m_.live.erase(std::find_if(m_.live.begin(), m_.live.end(),
                               [&](const vt::entry& x) { return model::same_key(x, gone[0]); }));
  }

  void lookup(const vt::context& c, std::uint64_t addr) {
    const vt::entry* want = m_.expect(c, addr);
    const vt::entry* got = tlb_.lookup(c, addr);
    check_hit(want, got);
    // The packed form, as an embedder that keeps it next to its configuration uses it.
    const vt::entry* got2 = tlb_.lookup(tlb_.tag_for(c), addr);
    check_hit(want, got2);
  }
  static void check_hit(const vt::entry* want, const vt::entry* got) {
    if (want == nullptr) {
      VSMMU_FUZZ_CHECK(got == nullptr, "a hit where no held entry matches (false or stale hit)");
    } else {
      VSMMU_FUZZ_CHECK(got != nullptr, "a miss while a matching entry is held");
      VSMMU_FUZZ_CHECK(*got == *want, "a hit on another entry than the documented order gives");
    }
  }

  template <class Pred>
  void drop(Pred&& pred) {
    std::vector<vt::entry> dropped;
    for (auto it = m_.live.begin(); it != m_.live.end();) {
      if (pred(*it)) {
        dropped.push_back(*it);
        it = m_.live.erase(it);
      } else {
        ++it;
      }
    }
    // Nothing invalidated answers any more (what an entry covers is now the model's answer).
    for (std::size_t i = 0; i < dropped.size() && i < 16; ++i) {
      vt::context c = dropped[i].tag;
      lookup(c, dropped[i].input);
      if (dropped[i].global) {
        c.asid = static_cast<std::uint16_t>(c.asid + 1);
        lookup(c, dropped[i].last());
      }
    }
  }

  static bool less(const vt::entry& a, const vt::entry& b) noexcept {
    return model::key(a) < model::key(b);
  }
  static std::vector<vt::entry> sorted(std::vector<vt::entry> v) {
    std::sort(v.begin(), v.end(), less);
    return v;
  }
  [[nodiscard]] std::vector<vt::entry> contents() const {
    std::vector<vt::entry> v;
    tlb_.for_each([&](const vt::entry& e) { v.push_back(e); });
    return sorted(std::move(v));
  }

  void check_state() {
    VSMMU_FUZZ_CHECK(tlb_.size() <= N, "more entries than the capacity");
    VSMMU_FUZZ_CHECK(tlb_.size() == m_.live.size(), "size() is not the number of held entries");
    if (!exact_) return;
    VSMMU_FUZZ_CHECK(contents() == sorted(m_.live), "for_each does not list the held entries");
  }

  vt::iotlb<N>& tlb_;
  model& m_;
  source& s_;
  bool exact_;
};

template <std::uint32_t N>
void run_fresh(reader& in, source& s, unsigned bits) {
  model m;
  m.asid_mask = bits & 1U ? 0xff : 0xffff;
  m.vmid_mask = bits & 2U ? 0xff : 0xffff;
  vt::iotlb<N> tlb(vt::iotlb_options{bits & 1U ? 8U : 16U, bits & 2U ? 8U : 16U});
  harness<N>(tlb, m, s, true).run(in);
}

// 65537 entries: the context and VM indexes hold 32-bit ids. 25 MB, so built once and emptied
// by invalidate_all() for each input (which the first checks confirm).
constexpr std::uint32_t big = 0x10001;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader in(data, size);
  source s(in);
  const std::uint8_t variant = in.integer<std::uint8_t>();
  const unsigned bits = variant >> 4;
  switch (variant % 9U) {
    case 0:
      run_fresh<1>(in, s, bits);
      break;
    case 1:
      run_fresh<3>(in, s, bits);
      break;
    case 2:
    case 3:
    case 4:
      run_fresh<8>(in, s, bits);
      break;
    case 5:
    case 6:
    case 7:
      run_fresh<64>(in, s, bits);
      break;
    default: {
      static const auto tlb = std::make_unique<vt::iotlb<big>>();
      tlb->invalidate_all();
      tlb->set_vmid_wildcard(0);
      VSMMU_FUZZ_CHECK(tlb->size() == 0, "invalidate_all() left entries");
      model m;
      harness<big>(*tlb, m, s, false).run(in);
      break;
    }
  }
  return 0;
}
