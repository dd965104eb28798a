// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/detail/mix64.hpp>
#include <vsmmu/tlb/entry.hpp>
#include <vsmmu/tlb/range_invalidation.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

// The IOTLB: a fixed-capacity cache of last-level translations with the invalidation scopes of
// IHI 0070 §4.4.
//
// Layout. The entries are stored in the hash table itself: one 64-byte slot per entry holds the
// entry (whose adjacent tag, global and size bytes, read as one word, are the key with its input
// address) and the bookkeeping of invalidation and replacement, so a hit reads one cache line.
// The table has twice Capacity slots (load <= 1/2), linear probing, backward-shift deletion, and a
// byte per slot outside the lines (an occupied flag and 7 hash bits: 128 KB for 65536 entries,
// which stays in L2), so that a probe reads a slot's line only when its fingerprint matches. The
// bytes are matched sixteen at a time (SSE2; elsewhere eight, as one word), so where in its
// cluster a key sits costs no branch. A lookup probes once per entry size present in the whole
// TLB, smallest first, the two smallest inline: with only 4KB pages, a hit is one probe and no
// loop; with 4KB pages and 2MB blocks, a block hit is a page probe that reads one fingerprint
// group, then a block probe, with no call. Never one probe per walk level. Global entries are
// probed only while some are cached.
//
// Invalidation. Entries sharing a tag (regime, space, VMID, ASID, global) are linked in a
// "context"; contexts sharing (regime, VMID) are linked in a "VM". An ASID or VMID invalidation
// walks only its lists; an address or range invalidation probes the table for each size in use
// when that is cheaper than walking the context. Cost follows what matches (plus the number of
// live ASIDs of the VM for NH_VAA), never the TLB's capacity. Entries move when others are
// inserted or removed next to them; a move patches the two list neighbours (or the context's head).
//
// Replacement: CLOCK (second chance) over the slots when the TLB is full; a hit sets the slot's
// reference bit only when it is clear, so a hit dirties its line at most once per sweep. The hand
// follows slot order, so which unreferenced entry goes is pseudo-random rather than oldest-first.
// All memory is allocated by the constructor; nothing allocates afterwards.
//
// Not thread-safe: the embedder serialises calls (the concurrency model comes with the command
// queue). A pointer lookup() returns stays valid until the next non-const call.
namespace vsmmu::tlb {

struct iotlb_options {
  unsigned asid_bits = 16;  // 8 unless SMMU_IDR0.ASID16
  unsigned vmid_bits = 16;  // 8 unless SMMU_IDR0.VMID16
};

namespace detail {

using vsmmu::detail::mix64;

inline constexpr std::uint32_t npos = 0xffffffffU;

// Open-addressing index from a 64-bit hash to an id below Capacity (linear probing, backward-shift
// deletion): the IOTLB's index of contexts and of VMs. A slot is a fingerprint of the hash and an
// id, both 16 bits while ids fit, else 32 bits. The home slot comes from the hash's top bits, the
// fingerprint from its low ones; fingerprint 0 marks an empty slot. Deletion asks the owner for
// a member's hash (home_of) rather than storing it.
template <bool Compact>
class hash_index {
  using half = std::conditional_t<Compact, std::uint16_t, std::uint32_t>;

 public:
  explicit hash_index(std::size_t min_slots)
      : mask_(std::bit_ceil(min_slots < 2 ? std::size_t{2} : min_slots) - 1),
        shift_(64 - static_cast<unsigned>(std::countr_one(mask_))),
        slots_(mask_ + 1) {
    clear();
  }

  void clear() noexcept {
    for (std::size_t i = 0; i <= mask_; ++i) slots_[i] = slot{};
  }

  template <class Eq>
  [[nodiscard]] std::uint32_t find(std::uint64_t h, Eq&& eq) const noexcept {
    const half fp = fingerprint(h);
    for (std::size_t i = home(h);; i = (i + 1) & mask_) {
      const slot s = slots_[i];
      if (s.fp == 0) return npos;
      if (s.fp == fp && eq(std::uint32_t{s.id})) return s.id;
    }
  }

  void insert(std::uint64_t h, std::uint32_t id) noexcept {
    std::size_t i = home(h);
    while (slots_[i].fp != 0) i = (i + 1) & mask_;
    slots_[i] = slot{fingerprint(h), static_cast<half>(id)};
  }

  // The id must be present under h; home_of(id) returns the hash id was inserted under.
  template <class HomeOf>
  void erase(std::uint64_t h, std::uint32_t id, HomeOf&& home_of) noexcept {
    const half fp = fingerprint(h);
    std::size_t i = home(h);
    while (slots_[i].fp != fp || slots_[i].id != id) i = (i + 1) & mask_;
    // Backward shift: pull later members of the cluster into the hole when their home allows,
    // so that no tombstones lengthen later probes.
    for (std::size_t j = (i + 1) & mask_; slots_[j].fp != 0; j = (j + 1) & mask_) {
      const std::size_t home_j = home(home_of(std::uint32_t{slots_[j].id}));
      if (((j - home_j) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = slot{};
  }

  [[nodiscard]] std::size_t slot_count() const noexcept { return mask_ + 1; }

 private:
  struct slot {
    half fp = 0;
    half id = 0;
  };
  [[nodiscard]] static half fingerprint(std::uint64_t h) noexcept {
    const auto f = static_cast<half>(h);
    return f == 0 ? half{1} : f;
  }
  [[nodiscard]] std::size_t home(std::uint64_t h) const noexcept {
    return static_cast<std::size_t>(h >> shift_);
  }
  std::size_t mask_;
  unsigned shift_;
  std::vector<slot> slots_;
};

// Packed tag: regime [7:0], space [15:8], VMID [31:16], ASID [47:32], global [48], which is the
// byte layout of vsmmu::tlb::context on a little-endian host, so packing is one load. An entry's
// key adds the size shift in [61:56], which is the byte layout of entry::tag, global and
// size_shift.
inline constexpr unsigned tag_shift_pos = 56;
inline constexpr std::uint64_t asid_field = 0xffff'0000'0000ULL;
inline constexpr std::uint64_t global_bit = std::uint64_t{1} << 48;
inline constexpr std::uint64_t vm_mask = 0xffff'00ffULL;          // regime and VMID
inline constexpr std::uint64_t tag_mask = 0x1'ffff'ffff'ffffULL;  // no size shift
inline constexpr std::uint64_t dead_key = ~std::uint64_t{0};      // a free group

}  // namespace detail

template <std::uint32_t Capacity = 4096>
class iotlb {
  static_assert(Capacity >= 1 && Capacity <= (1U << 24), "vsmmu: IOTLB capacity out of range");

 public:
  static constexpr std::uint32_t capacity = Capacity;

 private:
  using index_type = detail::hash_index<(Capacity <= 0x10000)>;
  // Twice the capacity, a power of two: the entry table's load stays <= 1/2.
  static constexpr std::size_t slot_count = std::bit_ceil(std::size_t{Capacity} * 2);
  static constexpr std::size_t slot_mask = slot_count - 1;
  static constexpr unsigned home_shift = 64 - std::countr_zero(slot_count);

 public:
  explicit iotlb(iotlb_options options = {})
      : asid_mask_(options.asid_bits >= 16 ? 0xffffU : 0xffU),
        vmid_mask_(options.vmid_bits >= 16 ? 0xffffU : 0xffU),
        meta_(slot_count + group_width - 1),
        slots_(slot_count),
        records_(Capacity),
        contexts_(Capacity),
        context_index_(std::size_t{Capacity} * 2),
        vms_(Capacity),
        vm_index_(std::size_t{Capacity} * 2),
        tag_masks_(make_tag_masks(asid_mask_, vmid_mask_)) {
    reset();
  }

  [[nodiscard]] std::uint32_t size() const noexcept { return size_; }

  // The entry covering addr for a transaction of context c: first a non-global entry of c's
  // ASID, then a global one, smallest size first within each. nullptr on a miss.
  [[nodiscard, gnu::always_inline]] const entry* lookup(const context& c,
                                                        std::uint64_t addr) noexcept {
    return lookup(tag_for(c), addr);
  }

  // The packed form of a context, for embedders that keep it next to their cached configuration
  // (a CD's ASID and an STE's VMID change only with that configuration) and so skip packing it on
  // every lookup.
  struct packed_tag {
    std::uint64_t bits = 0;
  };
  [[nodiscard]] packed_tag tag_for(const context& c) const noexcept {
    // One AND with the mask of the context's regime and space: no test of either.
    const std::uint64_t raw = raw_of(c);
    return {raw & tag_masks_[mask_index(raw)]};
  }

  [[nodiscard, gnu::always_inline]] const entry* lookup(packed_tag t, std::uint64_t addr) noexcept {
    // Inline: the smallest size in use, then the second (a 2MB block after a 4KB page), each as
    // one group of fingerprint bytes from the home slot and the line of the first byte that
    // matches, with no branch on where in the group the key is (probe_size). More sizes and
    // global entries are lookup_slow's.
    if (const entry* e = probe_size(t.bits | first_size_key_, addr & first_base_mask_)) return e;
    if (second_base_mask_ != 0) {
      if (const entry* e = probe_size(t.bits | second_size_key_, addr & second_base_mask_)) {
        return e;
      }
    }
    // Both absent: a miss unless there are more sizes or global entries.
    if ((rest_sizes_ | global_count_) == 0) return nullptr;
    return lookup_slow(t, addr, rest_sizes_);
  }

  // Caches e, replacing an entry with the same tag, size and input address. The stored copy has
  // the tags its regime does not use cleared (see stored_key) and input aligned to its size.
  void insert(const entry& e) noexcept {
    // Key and aligned input stay in registers and the copy is written once, into its slot:
    // patching a stack copy's tag bytes and reading it back as vectors stalled store forwarding
    // (re-inserting a present entry: ~4 ns of 16-20).
    const std::uint64_t key = stored_key(e);
    const auto s = static_cast<unsigned>(key >> detail::tag_shift_pos);
    const std::uint64_t base = e.input & ~((std::uint64_t{1} << s) - 1);
    if (const std::uint32_t i = find(key, base); i != detail::npos) {
      store(slots_[i].e, e, key, base);
      slots_[i].referenced = 1;
      return;
    }
    if (size_ == Capacity) evict();  // may free a context, so contexts are looked up afterwards
    const std::uint32_t ctx = context_for(key & detail::tag_mask);
    place(e, key, base, ctx);
    ++contexts_[ctx].count;
    if (shift_count_[s]++ == 0) sizes_changed(shift_mask_ | std::uint64_t{1} << s);
    if ((key & detail::global_bit) != 0) ++global_count_;
    ++size_;
  }

  // Calls fn(const entry&) for every cached entry (tests, debugging; O(Capacity)).
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const slot& s : slots_) {
      if (s.probe != 0) fn(s.e);
    }
  }

  // ---- Invalidation, one function per command scope (IHI 0070 §4.4). The Non-secure queue only.

  // Everything, whatever the regime: reset, SMMUEN transitions.
  void invalidate_all() noexcept {
    for (auto r : {regime::ns_el1, regime::ns_el2, regime::ns_el2_e2h}) drop_regime(r);
  }

  // CMD_TLBI_NSNH_ALL (§4.4.4.1): every NS-EL1 entry, both stages; EL2 entries stay.
  void nsnh_all() noexcept { drop_regime(regime::ns_el1); }

  // SMMU_CR0.VMW (§6.3.9): invalidations naming a VMID match VMID[N:vmw] for vmw 1 to 4;
  // lookups always match the whole VMID. Other values behave as 0.
  void set_vmid_wildcard(unsigned vmw) noexcept { vmw_ = vmw <= 4 ? vmw : 0; }

  // In the functions below, a VMID stands for its wildcard group (at most 16 VMIDs).

  // CMD_TLBI_NH_ALL (§4.4.2.1): stage 1 (and nested) NS-EL1 entries of vmid, global ones too.
  void nh_all(std::uint16_t vmid) noexcept {
    for_vmid_group(vmid, [&](std::uint16_t v) {
      drop_vm(vm_key(regime::ns_el1, v), space_filter::va, address_range::everything());
    });
  }

  // CMD_TLBI_NH_ASID (§4.4.2.2): non-global stage 1 entries of (vmid, asid).
  void nh_asid(std::uint16_t vmid, std::uint16_t asid) noexcept {
    for_vmid_group(vmid, [&](std::uint16_t v) {
      drop_context(tag_of(context::stage1(v, asid), false), address_range::everything());
    });
  }

  // CMD_TLBI_NH_VA (§4.4.2.4): entries of (vmid, asid) and global entries of vmid in range.
  // Leaf does not narrow anything here: this cache holds last-level entries only. The TG/TTL
  // hints are not used either: entries of another granule or level in range go too, which the
  // spec permits (over-invalidation, §4.4) and which keeps a wrong hint harmless.
  void nh_va(std::uint16_t vmid, std::uint16_t asid, const address_range& r) noexcept {
    for_vmid_group(vmid, [&](std::uint16_t v) {
      drop_context(tag_of(context::stage1(v, asid), false), r);
      if (global_count_ != 0) drop_context(tag_of(context::stage1(v, 0), true), r);
    });
  }
  void nh_va(std::uint16_t vmid, std::uint16_t asid, const tlbi_range& r) noexcept {
    nh_va(vmid, asid, r.range);
  }

  // CMD_TLBI_NH_VAA (§4.4.2.3): stage 1 entries of every ASID of vmid, and global ones, in range.
  void nh_vaa(std::uint16_t vmid, const address_range& r) noexcept {
    for_vmid_group(
        vmid, [&](std::uint16_t v) { drop_vm(vm_key(regime::ns_el1, v), space_filter::va, r); });
  }
  void nh_vaa(std::uint16_t vmid, const tlbi_range& r) noexcept { nh_vaa(vmid, r.range); }

  // CMD_TLBI_S2_IPA (§4.4.3.1): stage 2-only entries of vmid in range. Nested entries need not go
  // (the spec pairs this command with NH_ALL or NH_VAA for them), and they stay.
  void s2_ipa(std::uint16_t vmid, const address_range& r) noexcept {
    for_vmid_group(vmid,
                   [&](std::uint16_t v) { drop_context(tag_of(context::stage2(v), false), r); });
  }
  void s2_ipa(std::uint16_t vmid, const tlbi_range& r) noexcept { s2_ipa(vmid, r.range); }

  // CMD_TLBI_S12_VMALL (§4.4.3.2): every NS-EL1 entry of vmid, all stages.
  void s12_vmall(std::uint16_t vmid) noexcept {
    for_vmid_group(vmid, [&](std::uint16_t v) {
      drop_vm(vm_key(regime::ns_el1, v), space_filter::any, address_range::everything());
    });
  }

  // CMD_TLBI_EL2_ALL (§4.4.2.7): NS-EL2 and NS-EL2-E2H entries.
  void el2_all() noexcept {
    drop_regime(regime::ns_el2);
    drop_regime(regime::ns_el2_e2h);
  }

  // CMD_TLBI_EL2_ASID (§4.4.2.10): non-global NS-EL2-E2H entries of asid.
  void el2_asid(std::uint16_t asid) noexcept {
    drop_context(tag_of({regime::ns_el2_e2h, space::va, 0, asid}, false),
                 address_range::everything());
  }

  // CMD_TLBI_EL2_VA (§4.4.2.8): with e2h (SMMU_CR2.E2H), NS-EL2-E2H entries of asid or global;
  // without, NS-EL2 entries whatever the ASID parameter.
  void el2_va(std::uint16_t asid, const address_range& r, bool e2h) noexcept {
    if (e2h) {
      drop_context(tag_of({regime::ns_el2_e2h, space::va, 0, asid}, false), r);
      if (global_count_ != 0) drop_context(tag_of({regime::ns_el2_e2h, space::va, 0, 0}, true), r);
    } else {
      drop_context(tag_of({regime::ns_el2, space::va, 0, 0}, false), r);
    }
  }

  // CMD_TLBI_EL2_VAA (§4.4.2.9): as EL2_VA for every ASID.
  void el2_vaa(const address_range& r, bool e2h) noexcept {
    if (e2h) {
      drop_vm(vm_key(regime::ns_el2_e2h, 0), space_filter::va, r);
    } else {
      drop_context(tag_of({regime::ns_el2, space::va, 0, 0}, false), r);
    }
  }

 private:
  // One cache line per entry: what a hit reads (the entry, whose tag, global, size and input
  // fields are the key), the probe distance and the CLOCK bit. Entries move when a deletion
  // shifts its cluster back; the id they carry names their record, which follows them.
  struct alignas(64) slot {
    entry e{};
    std::uint32_t probe = 0;  // 1 + distance from the home slot; 0 when empty
    std::uint32_t id = 0;     // its record in records_
    std::uint8_t referenced = 0;
  };

  // What invalidation and replacement need and a hit does not, apart from the lines a hit reads
  // (16 bytes an entry, 1 MB for 65536, mostly in L2): links in its context's list, its context,
  // and where its slot is. Ids are stable, so a move updates one record and no list neighbour.
  struct record {
    std::uint32_t prev = detail::npos;  // in its context's list, or the free list (next only)
    std::uint32_t next = detail::npos;
    std::uint32_t ctx = 0;
    std::uint32_t pos = 0;  // slot number
  };

  // A context (records of one tag) or a VM (contexts of one regime and VMID).
  struct group {
    std::uint64_t key = detail::dead_key;
    std::uint32_t head = detail::npos;
    std::uint32_t count = 0;
    std::uint32_t prev = detail::npos;  // in the parent's list, or the free list (next only)
    std::uint32_t next = detail::npos;
  };

  enum class space_filter : std::uint8_t { va, any };

  template <class Fn>
  void for_vmid_group(std::uint16_t vmid, Fn&& fn) noexcept {
    const unsigned n = 1U << vmw_;
    const unsigned base = vmid & vmid_mask_ & ~(n - 1);
    for (unsigned i = 0; i < n; ++i) fn(static_cast<std::uint16_t>(base | i));
  }

  // The stored form's key: tags the regime does not have cleared, the rest cut to the configured
  // widths, the size shift cut to 6 bits; store writes it back so that the entry's own bytes are
  // its key.
  [[nodiscard]] std::uint64_t stored_key(const entry& e) const noexcept {
    const bool global = e.global && e.tag.kind != space::ipa && e.tag.world != regime::ns_el2;
    return key_of(tag_of(e.tag, global), e.size_shift & 63U);
  }
  static void store(entry& to, const entry& e, std::uint64_t key, std::uint64_t base) noexcept {
    to = e;
    to.input = base;
    if constexpr (key_is_one_word) {
      // One eight-byte store, which the next probe's eight-byte key load can forward from.
      std::memcpy(reinterpret_cast<unsigned char*>(&to) + offsetof(entry, tag), &key, 8);
    } else {
      to.tag.vmid = static_cast<std::uint16_t>(key >> 16);
      to.tag.asid = static_cast<std::uint16_t>(key >> 32);
      to.global = (key & detail::global_bit) != 0;
      to.size_shift = static_cast<std::uint8_t>(key >> detail::tag_shift_pos);
    }
  }

  // The context's bytes as one word (regime [7:0], space [15:8], VMID [31:16], ASID [47:32]).
  [[nodiscard]] static std::uint64_t raw_of(const context& c) noexcept {
    std::uint64_t raw = 0;
    if constexpr (std::endian::native == std::endian::little && sizeof(context) == 6 &&
                  offsetof(context, world) == 0 && offsetof(context, kind) == 1 &&
                  offsetof(context, vmid) == 2 && offsetof(context, asid) == 4) {
      // Two loads into registers: copying six bytes into an eight-byte stack word and reading
      // it back defeats store forwarding and costs more than the packing it saves.
      std::uint32_t lo = 0;
      std::uint16_t hi = 0;
      std::memcpy(&lo, &c, 4);
      std::memcpy(&hi, reinterpret_cast<const unsigned char*>(&c) + 4, 2);
      raw = lo | (std::uint64_t{hi} << 32);
    } else {
      raw = std::uint64_t{static_cast<std::uint8_t>(c.world)} |
            (std::uint64_t{static_cast<std::uint8_t>(c.kind)} << 8) |
            (std::uint64_t{c.vmid} << 16) | (std::uint64_t{c.asid} << 32);
    }
    return raw;
  }

  // A stored entry's key: its context, global and size bytes, which store made equal to the
  // packed tag, read as one word (packed tag | size shift << 56).
  static constexpr bool key_is_one_word =
      std::endian::native == std::endian::little && sizeof(context) == 6 &&
      offsetof(context, world) == 0 && offsetof(context, kind) == 1 &&
      offsetof(context, vmid) == 2 && offsetof(context, asid) == 4 &&
      offsetof(entry, global) == offsetof(entry, tag) + 6 &&
      offsetof(entry, size_shift) == offsetof(entry, tag) + 7;
  [[nodiscard]] static std::uint64_t key_word(const entry& e) noexcept {
    if constexpr (key_is_one_word) {
      std::uint64_t w = 0;
      std::memcpy(&w, reinterpret_cast<const unsigned char*>(&e) + offsetof(entry, tag), 8);
      return w;
    } else {
      return raw_of(e.tag) | (e.global ? detail::global_bit : 0U) |
             (std::uint64_t{e.size_shift} << detail::tag_shift_pos);
    }
  }
  [[nodiscard]] static std::uint64_t key_of(std::uint64_t tag, unsigned shift) noexcept {
    return tag | (std::uint64_t{shift} << detail::tag_shift_pos);
  }

  // The packed tag of c: the world and space bits, and the VMID and ASID bits the regime has
  // (tag_masks_), ASID cleared and the global bit set for a global entry.
  [[nodiscard]] std::uint64_t tag_of(const context& c, bool global) const noexcept {
    const std::uint64_t raw = raw_of(c);
    const std::uint64_t m = tag_masks_[mask_index(raw)];
    return global ? (raw & m & ~detail::asid_field) | detail::global_bit : raw & m;
  }

  // The tag masks are indexed by the packed tag's regime bits [1:0] and space bit [8] as they
  // sit, which takes one AND (folding bit 8 down to bit 2 took three more instructions on every
  // lookup); the 252 entries in between are never used.
  static constexpr std::size_t tag_mask_count = 0x104;
  [[nodiscard]] static constexpr std::size_t mask_index(std::uint64_t raw) noexcept {
    return static_cast<std::size_t>(raw & 0x103U);
  }
  [[nodiscard]] static std::array<std::uint64_t, tag_mask_count> make_tag_masks(
      std::uint16_t asid_mask, std::uint16_t vmid_mask) {
    std::array<std::uint64_t, tag_mask_count> out{};
    for (unsigned w = 0; w < 4; ++w) {
      for (unsigned k = 0; k < 2; ++k) {
        // §3.17: ASIDs tag VA entries of NS-EL1 and NS-EL2-E2H; VMIDs tag NS-EL1 entries.
        const bool has_asid = k == 0 && (w == 0 || w == 2);
        const bool has_vmid = w == 0;
        out[w | (k << 8)] = 0xffffULL | (has_asid ? std::uint64_t{asid_mask} << 32 : 0U) |
                            (has_vmid ? std::uint64_t{vmid_mask} << 16 : 0U);
      }
    }
    return out;
  }
  [[nodiscard]] std::uint64_t vm_key(regime r, std::uint16_t vmid) const noexcept {
    return tag_of({r, space::va, vmid, 0}, false) & detail::vm_mask;
  }

  // Multiply-shift over {key, aligned input}: two multiplies, and the home slot is the product's
  // top bits, which every input bit reaches.
  [[nodiscard]] static constexpr std::uint64_t hash(std::uint64_t key,
                                                    std::uint64_t base) noexcept {
    return (base ^ (key * 0x9e3779b97f4a7c15ULL)) * 0xd6e8feb86659fd93ULL;
  }
  [[nodiscard]] static constexpr std::size_t home(std::uint64_t h) noexcept {
    return static_cast<std::size_t>(h >> home_shift);
  }
  // Seven hash bits and a top bit so that 0 means empty. Not the bits just below the home
  // slot's: with a multiplicative hash, keys whose homes are near each other (the keys of one
  // cluster) tend to agree there too, and 4% of the benchmark's 4096 resident entries (24% of a
  // 256-entry TLB of 2MB blocks in 4 ASIDs) sat behind a key with their fingerprint. Bits from
  // the middle of the product collide as rarely as random ones (0.1-0.5% over pages, 16KB/2MB/
  // 1GB blocks, sequential and random addresses). Bits [42:36] depend on input bits [42:0] only
  // (and on the whole tag, which the first multiply spreads): higher ones would take a large
  // block's fingerprint from too few of its address bits.
  static constexpr unsigned fingerprint_shift = home_shift - 7 < 36 ? home_shift - 7 : 36;
  [[nodiscard]] static constexpr std::uint64_t fingerprint(std::uint64_t h) noexcept {
    return ((h >> fingerprint_shift) & 0x7fU) | 0x80U;
  }

  // ---- fingerprint groups: group_width consecutive fingerprint bytes from slot i, and bit masks
  // of those that match or are empty, bit k << slot_bit_shift standing for slot i + k. With SSE2
  // (the x86-64 baseline), sixteen bytes compared at once, exact; elsewhere, eight bytes as one
  // word, where the lowest match is exact and a higher one may be a false positive (a borrow out
  // of a matching byte), which the key compare rejects. meta_ repeats its first group_width - 1
  // bytes after the last slot, so a group starting near the end reads the slots it wraps to.
#if defined(__SSE2__) && defined(__GNUC__) && !defined(VSMMU_TLB_PORTABLE_GROUPS)
  // GCC/clang vector types and one builtin rather than <emmintrin.h>, which every includer
  // would parse.
  using meta_bytes = char __attribute__((vector_size(16)));
  static constexpr std::size_t group_width = 16;
  static constexpr unsigned slot_bit_shift = 0;
  struct meta_group {
    meta_bytes bytes;
    [[nodiscard]] std::uint64_t matches(std::uint64_t h) const noexcept {
      // fingerprint(h) as a byte: its & 0x7f is the truncation, and no zero-extension is left
      // on the hit path before the broadcast.
      const auto fp = static_cast<char>(static_cast<unsigned>(h >> fingerprint_shift) | 0x80U);
      const meta_bytes want = meta_bytes{} + fp;
      return static_cast<unsigned>(__builtin_ia32_pmovmskb128((meta_bytes)(bytes == want)));
    }
    // Occupied bytes have their top bit set.
    [[nodiscard]] std::uint64_t empties() const noexcept {
      return ~static_cast<unsigned>(__builtin_ia32_pmovmskb128(bytes)) & 0xffffU;
    }
  };
  [[nodiscard]] meta_group group_at(std::size_t i) const noexcept {
    meta_group g;
    std::memcpy(&g.bytes, meta_.data() + i, sizeof g.bytes);
    return g;
  }
#else
  static constexpr std::size_t group_width = 8;
  static constexpr unsigned slot_bit_shift = 3;
  struct meta_group {
    static constexpr std::uint64_t lsb_bytes = 0x0101'0101'0101'0101ULL;
    static constexpr std::uint64_t msb_bytes = 0x8080'8080'8080'8080ULL;
    std::uint64_t bytes;  // byte k at bits [8k+7:8k]
    [[nodiscard]] std::uint64_t matches(std::uint64_t h) const noexcept {
      const std::uint64_t x = bytes ^ (fingerprint(h) * lsb_bytes);
      return (x - lsb_bytes) & ~x & msb_bytes;
    }
    [[nodiscard]] std::uint64_t empties() const noexcept { return ~bytes & msb_bytes; }
  };
  [[nodiscard]] meta_group group_at(std::size_t i) const noexcept {
    const std::uint8_t* p = meta_.data() + i;
    meta_group g{0};
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&g.bytes, p, sizeof g.bytes);
    } else {
      for (std::size_t k = 0; k < group_width; ++k) g.bytes |= std::uint64_t{p[k]} << (8 * k);
    }
    return g;
  }
#endif
  // The slot offset from the group's first slot of the lowest bit of a non-zero mask.
  [[nodiscard]] static constexpr std::size_t first_of(std::uint64_t mask) noexcept {
    return static_cast<unsigned>(std::countr_zero(mask)) >> slot_bit_shift;
  }
  void set_meta(std::size_t i, std::uint8_t v) noexcept {
    meta_[i] = v;
    for (std::size_t k = i + slot_count; k < slot_count + group_width - 1; k += slot_count) {
      meta_[k] = v;
    }
  }

  // The smallest size in use, as lookup's inline probe wants it.
  void sizes_changed(std::uint64_t mask) noexcept {
    shift_mask_ = mask;
    const auto s = static_cast<unsigned>(std::countr_zero(mask)) & 63U;
    first_size_key_ = std::uint64_t{s} << detail::tag_shift_pos;
    first_base_mask_ = ~std::uint64_t{0} << s;
    // The second smallest, if any (a zero mask says none: no size aligns to 2^64).
    const std::uint64_t rest = mask & (mask - 1);
    const auto s2 = static_cast<unsigned>(std::countr_zero(rest)) & 63U;
    second_size_key_ = std::uint64_t{s2} << detail::tag_shift_pos;
    second_base_mask_ = rest != 0 ? ~std::uint64_t{0} << s2 : 0;
    rest_sizes_ = rest & (rest - 1);
  }

  [[nodiscard]] const entry* hit(slot& s) noexcept {
    // No store when the bit is already set: a hit dirties its line only once per CLOCK sweep.
    if (s.referenced == 0) s.referenced = 1;
    return &s.e;
  }

  // A probe reads the fingerprint bytes from the home slot to the first empty one, and a slot's
  // line only when its fingerprint matches: a miss, or the probe of a size the address does not
  // have, costs fingerprint bytes (a 65536-entry TLB's are 128 KB) rather than 64-byte lines.
  // The bytes are read a group at a time (group_at): which of them match, and where the cluster
  // ends, are bit masks, so the usual probe (the key at or near its home, or absent with an empty
  // slot in the group) takes no branch that depends on the key's position in the cluster.
  // Such branches are unpredictable, and at 65536 entries each waits for an L2 read before the
  // pipeline restarts: they, not cache misses, made block hits and misses 3-4x a page hit.
  [[nodiscard]] std::uint32_t find(std::uint64_t key, std::uint64_t base) const noexcept {
    const std::uint64_t h = hash(key, base);
    for (std::size_t i = home(h);; i = (i + group_width) & slot_mask) {
      const meta_group g = group_at(i);
      const std::uint64_t e = g.empties();
      // Matches up to the first empty slot (all of them when there is none): the key cannot be
      // past the end of its cluster.
      for (std::uint64_t m = g.matches(h) & (e ^ (e - 1)); m != 0; m &= m - 1) {
        const std::size_t j = (i + first_of(m)) & slot_mask;
        const slot& s = slots_[j];
        if (key_word(s.e) == key && s.e.input == base) return static_cast<std::uint32_t>(j);
      }
      if (e != 0) return detail::npos;
    }
  }

  // One size: one group of fingerprint bytes from the home slot of {key, base} and the line of
  // the first byte that matches. The entry, or nullptr when the size is absent: no byte matches
  // and the group holds an empty slot, where the key's cluster ends. A fingerprint collision or
  // a cluster longer than the group goes to the general probe (find_hit), for this size only:
  // sending it to lookup_slow's loop over every size made 4-5% of the benchmark's 4096-entry
  // hits cost ~150 instructions. The mask of matches is dead after the first one, which keeps
  // the usual hit short.
  [[gnu::always_inline]] const entry* probe_size(std::uint64_t key, std::uint64_t base) noexcept {
    const std::uint64_t h = hash(key, base);
    const std::size_t i = home(h);
    const meta_group g = group_at(i);
    if (const std::uint64_t m = g.matches(h); m != 0) {
      slot& s = slots_[(i + first_of(m)) & slot_mask];
      if (key_word(s.e) == key && s.e.input == base) return hit(s);
    } else if (g.empties() != 0) {
      return nullptr;
    }
    return find_hit(key, base);
  }
  [[gnu::noinline]] const entry* find_hit(std::uint64_t key, std::uint64_t base) noexcept {
    const std::uint32_t j = find(key, base);
    return j != detail::npos ? hit(slots_[j]) : nullptr;
  }

  // The general case: every size in `sizes`, smallest first, each with as many groups as its
  // cluster takes, then global entries. Out of line, so that lookup's probes run without saving
  // the registers this loop needs.
  [[gnu::noinline]] const entry* lookup_slow(packed_tag t, std::uint64_t addr,
                                             std::uint64_t sizes) noexcept {
    const std::uint64_t tag = t.bits & detail::tag_mask;
    if (const entry* e = probe(tag, addr, sizes)) return e;
    // Global entries exist where ASIDs do (§3.17): NS-EL1 and NS-EL2-E2H VA contexts.
    const auto world = static_cast<unsigned>(tag & 0xffU);
    const bool has_asid = world == static_cast<unsigned>(regime::ns_el1) ||
                          world == static_cast<unsigned>(regime::ns_el2_e2h);
    if (global_count_ != 0 && has_asid && ((tag >> 8) & 0xffU) == 0) {
      return probe((tag & ~detail::asid_field) | detail::global_bit, addr, shift_mask_);
    }
    return nullptr;
  }
  [[nodiscard]] const entry* probe(std::uint64_t tag, std::uint64_t addr,
                                   std::uint64_t sizes) noexcept {
    for (std::uint64_t m = sizes; m != 0; m &= m - 1) {
      const auto s = static_cast<unsigned>(std::countr_zero(m));
      const std::uint64_t key = key_of(tag, s);
      const std::uint64_t base = addr & (~std::uint64_t{0} << s);
      if (const std::uint32_t j = find(key, base); j != detail::npos) return hit(slots_[j]);
    }
    return nullptr;
  }

  // ---- the slot table

  // Moves the occupant of slot `from` to the empty slot `to`.
  void move_slot(std::size_t from, std::size_t to) noexcept {
    slots_[to] = slots_[from];
    set_meta(to, meta_[from]);
    records_[slots_[to].id].pos = static_cast<std::uint32_t>(to);
  }

  // Inserts a new key (absent from the table) in the first empty slot from its home: nothing
  // else moves.
  void place(const entry& e, std::uint64_t key, std::uint64_t base, std::uint32_t ctx) noexcept {
    const std::uint64_t h = hash(key, base);
    std::size_t i = home(h);
    std::uint32_t p = 1;
    std::uint64_t free = group_at(i).empties();
    while (free == 0) {
      i = (i + group_width) & slot_mask;
      p += group_width;
      free = group_at(i).empties();
    }
    const auto k = static_cast<std::uint32_t>(first_of(free));
    i = (i + k) & slot_mask;
    p += k;
    const std::uint32_t id = free_record_;
    record& rec = records_[id];
    free_record_ = rec.next;
    slot& s = slots_[i];
    store(s.e, e, key, base);
    s.probe = p;
    s.id = id;
    s.referenced = 0;  // a new entry must earn its second chance
    set_meta(i, static_cast<std::uint8_t>(fingerprint(h)));
    group& g = contexts_[ctx];
    rec.pos = static_cast<std::uint32_t>(i);
    rec.ctx = ctx;
    rec.prev = detail::npos;
    rec.next = g.head;
    if (g.head != detail::npos) records_[g.head].prev = id;
    g.head = id;
  }

  // Removes the entry in slot i from its context and the table; the context is released by the
  // caller. Backward shift: each later entry of the cluster whose home allows it moves into the
  // hole, so no tombstones lengthen later probes.
  void erase_slot(std::size_t i) noexcept {
    const slot& s = slots_[i];
    const std::uint32_t id = s.id;
    record& rec = records_[id];
    group& ctx = contexts_[rec.ctx];
    if (rec.prev != detail::npos) {
      records_[rec.prev].next = rec.next;
    } else {
      ctx.head = rec.next;
    }
    if (rec.next != detail::npos) records_[rec.next].prev = rec.prev;
    rec.next = free_record_;
    free_record_ = id;
    --ctx.count;
    const unsigned sh = s.e.size_shift;
    if (--shift_count_[sh] == 0) sizes_changed(shift_mask_ & ~(std::uint64_t{1} << sh));
    if (s.e.global) --global_count_;
    --size_;
    for (std::size_t j = (i + 1) & slot_mask; meta_[j] != 0; j = (j + 1) & slot_mask) {
      // The entry in j may fill the hole at i unless its home lies after i (cyclically).
      const auto gap = static_cast<std::uint32_t>((j - i) & slot_mask);
      if (slots_[j].probe > gap) {
        move_slot(j, i);
        slots_[i].probe -= gap;
        i = j;
      }
    }
    slots_[i].probe = 0;
    set_meta(i, 0);
  }

  // ---- contexts and VMs

  template <class At>
  static void link(group& g, std::uint32_t id, At&& at) noexcept {
    auto& n = at(id);
    n.prev = detail::npos;
    n.next = g.head;
    if (g.head != detail::npos) at(g.head).prev = id;
    g.head = id;
  }
  template <class At>
  static void unlink(group& g, std::uint32_t id, At&& at) noexcept {
    auto& n = at(id);
    if (n.prev != detail::npos) {
      at(n.prev).next = n.next;
    } else {
      g.head = n.next;
    }
    if (n.next != detail::npos) at(n.next).prev = n.prev;
  }

  [[nodiscard]] std::uint32_t find_group(const index_type& index, const group* pool,
                                         std::uint64_t key) const noexcept {
    return index.find(detail::mix64(key), [&](std::uint32_t id) { return pool[id].key == key; });
  }

  [[nodiscard]] std::uint32_t context_for(std::uint64_t tag) noexcept {
    if (const auto id = find_group(context_index_, contexts_.data(), tag); id != detail::npos) {
      return id;
    }
    // Every record taken: the only empty context is the parked one (contexts with entries are
    // at most the entries, fewer than Capacity before this one).
    if (free_context_ == detail::npos) unpark();
    const std::uint32_t vm = vm_for(tag & detail::vm_mask);
    const std::uint32_t id = free_context_;
    free_context_ = contexts_[id].next;
    contexts_[id] = group{tag};
    context_index_.insert(detail::mix64(tag), id);
    link(vms_[vm], id, [this](std::uint32_t i) -> group& { return contexts_[i]; });
    ++vms_[vm].count;
    return id;
  }

  [[nodiscard]] std::uint32_t vm_for(std::uint64_t key) noexcept {
    if (const auto id = find_group(vm_index_, vms_.data(), key); id != detail::npos) return id;
    const std::uint32_t id = free_vm_;
    free_vm_ = vms_[id].next;
    vms_[id] = group{key};
    vm_index_.insert(detail::mix64(key), id);
    link(regimes_[regime_of(key)], id, [this](std::uint32_t i) -> group& { return vms_[i]; });
    return id;
  }

  [[nodiscard]] static std::size_t regime_of(std::uint64_t key) noexcept {
    return static_cast<std::size_t>(key & 3U);
  }

  // ---- removal

  // Parks an emptied context (see parked_), freeing the one parked before if it is still empty.
  void release_if_empty(std::uint32_t ctx_id) noexcept {
    if (contexts_[ctx_id].count != 0) return;
    if (!parking_) {
      free_context(ctx_id);
      return;
    }
    if (ctx_id == parked_) return;
    unpark();
    parked_ = ctx_id;
  }
  void unpark() noexcept {
    const std::uint32_t id = parked_;
    parked_ = detail::npos;
    if (id != detail::npos && contexts_[id].count == 0) free_context(id);
  }

  // Frees an empty context, and its VM when that empties too.
  void free_context(std::uint32_t ctx_id) noexcept {
    group& ctx = contexts_[ctx_id];
    if (ctx_id == parked_) parked_ = detail::npos;
    const std::uint32_t vm_id = find_group(vm_index_, vms_.data(), ctx.key & detail::vm_mask);
    group& vm = vms_[vm_id];
    unlink(vm, ctx_id, [this](std::uint32_t i) -> group& { return contexts_[i]; });
    --vm.count;
    context_index_.erase(detail::mix64(ctx.key), ctx_id,
                         [this](std::uint32_t i) { return detail::mix64(contexts_[i].key); });
    ctx.key = detail::dead_key;
    ctx.next = free_context_;
    free_context_ = ctx_id;
    if (vm.count != 0) return;
    unlink(regimes_[regime_of(vm.key)], vm_id,
           [this](std::uint32_t i) -> group& { return vms_[i]; });
    vm_index_.erase(detail::mix64(vm.key), vm_id,
                    [this](std::uint32_t i) { return detail::mix64(vms_[i].key); });
    vm.key = detail::dead_key;
    vm.next = free_vm_;
    free_vm_ = vm_id;
  }

  // CLOCK over the slots: the hand clears reference bits until it meets an entry without one.
  // Runs only when the TLB is full, so half the slots it passes hold an entry; it skips empty ones
  // on their fingerprint byte. The hand visits slots in a scattered order (an odd multiple of its
  // count, a permutation of the table): sweeping them in address order would evict every
  // unreferenced entry of a region at once and leave the table denser just ahead of the hand, and
  // the longer clusters there slow inserts and probes. An entry that a deletion moves behind the
  // hand waits a sweep; CLOCK is approximate anyway.
  void evict() noexcept {
    for (;;) {
      const std::size_t i = (hand_ * 0x9e3779b97f4a7c15ULL) & slot_mask;
      hand_ = (hand_ + 1) & slot_mask;
      if (meta_[i] == 0) continue;
      slot& s = slots_[i];
      if (s.referenced != 0) {
        s.referenced = 0;
        continue;
      }
      const std::uint32_t ctx = records_[s.id].ctx;
      erase_slot(i);
      release_if_empty(ctx);
      return;
    }
  }

  // Drops the entries of one context that overlap r: by probing each aligned address of r for
  // each size in use when that is fewer probes than the context has entries, else by walking the
  // context.
  void drop_in_context(std::uint32_t ctx_id, const address_range& r) noexcept {
    group& ctx = contexts_[ctx_id];
    const std::uint64_t budget = ctx.count;
    std::uint64_t probes = 0;
    for (std::uint64_t m = shift_mask_; m != 0 && probes <= budget; m &= m - 1) {
      const auto s = static_cast<unsigned>(std::countr_zero(m));
      const std::uint64_t pages_minus_one = (r.last >> s) - (r.first >> s);
      probes = pages_minus_one >= budget ? ~std::uint64_t{0} : probes + pages_minus_one + 1;
    }
    if (probes <= budget) {
      for (std::uint64_t m = shift_mask_; m != 0 && ctx.count != 0; m &= m - 1) {
        const auto s = static_cast<unsigned>(std::countr_zero(m));
        for (std::uint64_t p = r.first >> s;; ++p) {
          if (const auto i = find(key_of(ctx.key, s), p << s); i != detail::npos) erase_slot(i);
          if (p == (r.last >> s)) break;
        }
      }
    } else {
      for (std::uint32_t id = ctx.head; id != detail::npos;) {
        const record& rec = records_[id];
        const std::uint32_t next = rec.next;
        const entry& e = slots_[rec.pos].e;
        if (r.overlaps(e.input, e.last())) erase_slot(rec.pos);
        id = next;
      }
    }
    release_if_empty(ctx_id);
  }

  void drop_context(std::uint64_t tag, const address_range& r) noexcept {
    if (const auto id = find_group(context_index_, contexts_.data(), tag); id != detail::npos) {
      drop_in_context(id, r);
    }
  }

  void drop_vm(std::uint64_t key, space_filter f, const address_range& r) noexcept {
    const std::uint32_t vm_id = find_group(vm_index_, vms_.data(), key);
    if (vm_id == detail::npos) return;
    // Releasing the VM's last context frees the VM: stop on the count, not on a freed list.
    // Emptied contexts are freed, not parked: parking one frees the one parked before, which
    // may be the next in this list (and drop_regime needs every VM freed, parked ones included).
    parking_ = false;
    for (std::uint32_t id = vms_[vm_id].head; id != detail::npos;) {
      const std::uint32_t next = contexts_[id].next;
      const bool last = next == detail::npos;
      const bool is_va = ((contexts_[id].key >> 8) & 0xffU) == 0;
      if (f == space_filter::any || is_va) drop_in_context(id, r);
      if (last) break;
      id = next;
    }
    parking_ = true;
  }

  void drop_regime(regime rg) noexcept {
    group& list = regimes_[static_cast<std::size_t>(rg)];
    while (list.head != detail::npos) {
      drop_vm(vms_[list.head].key, space_filter::any, address_range::everything());
    }
  }

  void reset() noexcept {
    for (slot& s : slots_) s = slot{};
    for (std::uint32_t i = 0; i < Capacity; ++i) {
      records_[i] = record{};
      records_[i].next = i + 1 == Capacity ? detail::npos : i + 1;
    }
    free_record_ = 0;
    for (std::uint8_t& m : meta_) m = 0;
    for (std::uint32_t i = 0; i < Capacity; ++i) {
      const std::uint32_t next = i + 1 == Capacity ? detail::npos : i + 1;
      contexts_[i] = group{};
      contexts_[i].next = next;
      vms_[i] = group{};
      vms_[i].next = next;
    }
    free_context_ = free_vm_ = 0;
    parked_ = detail::npos;
    context_index_.clear();
    vm_index_.clear();
    regimes_ = {};
    shift_count_ = {};
    sizes_changed(0);
    global_count_ = 0;
    size_ = 0;
    hand_ = 0;
  }

  // What a hit reads besides its slot, together at the start.
  std::uint64_t first_size_key_ = 0;    // the smallest size in use << 56
  std::uint64_t first_base_mask_ = 0;   // and its alignment mask
  std::uint64_t second_size_key_ = 0;   // the next size in use << 56
  std::uint64_t second_base_mask_ = 0;  // and its alignment mask; 0 when there is none
  std::uint64_t shift_mask_ = 0;        // the sizes in use
  std::uint64_t rest_sizes_ = 0;        // the sizes in use but the two smallest
  std::uint32_t global_count_ = 0;
  std::uint32_t size_ = 0;
  std::uint16_t asid_mask_;
  std::uint16_t vmid_mask_;
  std::vector<std::uint8_t> meta_;  // per slot: 0 empty, else 0x80 | 7 hash bits
  std::vector<slot> slots_;
  std::vector<record> records_;
  std::vector<group> contexts_;
  index_type context_index_;
  std::vector<group> vms_;
  index_type vm_index_;
  std::array<group, 4> regimes_{};  // list heads of VMs per regime
  std::array<std::uint32_t, 64> shift_count_{};
  std::size_t hand_ = 0;
  unsigned vmw_ = 0;
  std::uint32_t free_record_ = 0;
  std::uint32_t free_context_ = 0;
  std::uint32_t free_vm_ = 0;
  // The context an invalidation or eviction emptied last, kept (indexed, in its VM's list, with
  // its VM) rather than freed: dropping a context's only entries and inserting them again (an
  // unmap and map of one buffer) found it freed and re-created it, ~200 instructions of a
  // 580-instruction NH_VA + re-insert of one page. At most one: a second empty context frees the
  // first, and so does taking the last free record (context_for). VM-wide scopes (drop_vm) free
  // what they empty, the parked context included when they visit it.
  std::uint32_t parked_ = detail::npos;
  bool parking_ = true;
  // Last: a hit reads its regime and space entries only, and the members above stay together.
  std::array<std::uint64_t, tag_mask_count> tag_masks_;  // by mask_index
};

}  // namespace vsmmu::tlb
