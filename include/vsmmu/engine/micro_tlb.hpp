// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/walk/result.hpp>
#include <vsmmu/walk/ste_config.hpp>
#include <vsmmu/walk/translate.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

// A per-device-thread micro-TLB (docs/caches.md, "Concurrency"): what the micro-TLB of a real
// SMMU's TBU is to its TCU's caches. A small object owned by one caller (one device thread) that
// keeps the last translated results of that caller, each tagged with the engine's epoch at the
// time it was decided. smmu_engine::translate(t, micro_tlb&) answers from it when the entry's
// epoch is still the engine's — one atomic load, no mutex, no read-modify-write — and otherwise
// translates as translate(t) does and refills it. The engine advances its epoch on everything
// that can change a result (every CFGI_* and TLBI_*, register state, caching on/off, reset), so
// an entry lives exactly until the next such change, as the TBU's entries die with the TCU's
// invalidations.
//
// Only successful results are kept: translations and bypasses. A fault or an abort is decided
// again every time (its event must be recorded every time). An entry keeps what each of the six
// accesses (read, write, exec × privileged or not) would get, decided once at the fill by the
// engine's own accept_leaf on the STE's PRIVCFG/INSTCFG: a refused access (no permission, or a
// write to a leaf whose dirty state is not recorded yet, HTTU §3.13) takes the engine's path,
// which faults or walks as it would have without the micro-TLB.
namespace vsmmu::engine {

namespace detail {

// The six accesses of a transaction: access kind × PnU.
inline constexpr unsigned access_count = 6;
[[nodiscard]] constexpr unsigned access_index(walk::access_kind a, bool privileged) noexcept {
  return static_cast<unsigned>(a) * 2U + (privileged ? 1U : 0U);
}

// One cached result: a block of input addresses of one stream, with the translation at the
// block's first byte and the verdict of each access.
struct micro_entry {
  static constexpr std::uint64_t empty = ~std::uint64_t{0};  // an epoch no engine reaches

  std::uint64_t epoch = empty;  // the engine epoch the result belongs to
  std::uint64_t stream = 0;     // stream_key(): StreamID and SubstreamID
  std::uint64_t input = 0;      // first input address of the block
  std::uint64_t mask = 0;       // block size - 1
  std::uint8_t allowed = 0;     // per access index: the entry answers it
  bool ssv = false;             // the transactions it answers have a SubstreamID
  walk::outcome kind = walk::outcome::abort;
  walk::permissions perm[access_count]{};  // per access index: the result's perm
  walk::translation x{};                   // output_address and ipa of the block's first byte
};

// The whole SubstreamID, not its architected 20 bits: a hostile wider value must not alias one
// that translates (it faults, C_BAD_SUBSTREAMID, and is never kept).
[[nodiscard]] constexpr std::uint64_t stream_key(const walk::transaction& t) noexcept {
  return std::uint64_t{t.sid} | (t.ssv ? std::uint64_t{t.ssid} << 32 : 0);
}

// The translated `r` of `t` as an entry valid in `epoch`. `privcfg`/`instcfg` are the STE's
// (ignored for a bypass, which every access gets alike). The block is the translation's size
// (the leaf's, or the smaller stage's when nested), or the 4KB page for a bypass (whose OAS/IAS
// check is never finer than a page).
inline void fill(micro_entry& e, const walk::transaction& t, const walk::result& r,
                 std::uint64_t epoch, std::uint8_t privcfg, std::uint8_t instcfg) noexcept {
  const bool translated = r.kind == walk::outcome::translated;
  const unsigned shift = translated ? (r.xlat.size_shift >= 63 ? 63U : r.xlat.size_shift) : 12U;
  const std::uint64_t mask = (std::uint64_t{1} << shift) - 1;
  const std::uint64_t offset = t.address & mask;
  e.epoch = epoch;
  e.stream = stream_key(t);
  e.ssv = t.ssv;
  e.input = t.address - offset;
  e.mask = mask;
  e.kind = r.kind;
  e.x = r.xlat;
  e.x.output_address -= offset;
  e.x.ipa -= offset;
  e.allowed = 0;
  walk::stream_config ste;  // only what effective_attrs() reads
  ste.privcfg = privcfg;
  ste.instcfg = instcfg;
  for (unsigned k = 0; k < 3; ++k) {
    for (unsigned p = 0; p < 2; ++p) {
      walk::transaction u = t;
      u.access = static_cast<walk::access_kind>(k);
      u.privileged = p != 0;
      walk::permissions perm = r.xlat.perm;  // a bypass: what the result has, for every access
      if (translated) {
        walk::translation x = r.xlat;
        if (!walk::detail::accept_leaf(walk::detail::effective_attrs(u, &ste), x)) continue;
        perm = x.perm;
      }
      const unsigned i = access_index(u.access, u.privileged);
      e.allowed = static_cast<std::uint8_t>(e.allowed | (1U << i));
      e.perm[i] = perm;
    }
  }
}

// The hit: writes the result into `r` (a default result) when `e` answers `t` in `epoch`.
[[nodiscard]] inline bool answer(const micro_entry& e, const walk::transaction& t,
                                 std::uint64_t epoch, walk::result& r) noexcept {
  const unsigned i = access_index(t.access, t.privileged);
  if (e.epoch != epoch || e.stream != stream_key(t) || e.ssv != t.ssv ||
      ((t.address ^ e.input) & ~e.mask) != 0 || i >= access_count || ((e.allowed >> i) & 1U) == 0) {
    return false;
  }
  const std::uint64_t offset = t.address & e.mask;
  r.kind = e.kind;
  r.xlat = e.x;
  r.xlat.output_address += offset;
  r.xlat.ipa += offset;
  r.xlat.perm = e.perm[i];
  return true;
}

struct micro_tlb_access;

// Engine identities, never reused in a process (so a micro-TLB cannot mistake a new engine at a
// dead one's address for the engine it followed).
[[nodiscard]] inline std::uint64_t new_engine_identity() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace detail

// N entries, direct-mapped on the 4KB page number, the StreamID and the SubstreamID. A block
// larger than 4KB is kept in the slot of each of its pages that is used. One owner at a time:
// the object is not thread-safe (that is the point); give each device thread its own. It follows
// one engine: used with another, it empties itself first (engines are told apart by an identity
// unique in the process, not by address).
template <std::size_t N = 16>
class alignas(64) micro_tlb {
  static_assert(N >= 1 && N <= 4096 && (N & (N - 1)) == 0,
                "vsmmu: micro_tlb size must be a power of two up to 4096");

 public:
  static constexpr std::size_t size = N;

  micro_tlb() noexcept = default;
  // Copies would share nothing with the original, but would make two owners of one history.
  micro_tlb(const micro_tlb&) = delete;
  micro_tlb& operator=(const micro_tlb&) = delete;

  // Forgets every entry (never needed for correctness: the engine's epoch does that).
  void clear() noexcept {
    for (detail::micro_entry& e : entries_) e.epoch = detail::micro_entry::empty;
  }

  // Translations answered here, and those that went to the engine. Plain counters: the owner's.
  [[nodiscard]] std::uint64_t hits() const noexcept { return hits_; }
  [[nodiscard]] std::uint64_t misses() const noexcept { return misses_; }

 private:
  friend struct detail::micro_tlb_access;

  [[nodiscard]] detail::micro_entry& slot(const walk::transaction& t) noexcept {
    const std::uint64_t page = t.address >> 12;
    const std::uint64_t h = page + t.sid * 0x9e3779b1ULL + (t.ssv ? t.ssid * 0x85ebca6bULL : 0);
    return entries_[h & (N - 1)];
  }

  detail::micro_entry entries_[N];
  std::uint64_t owner_ = 0;  // identity of the engine it follows; 0: none
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

namespace detail {
// The engine's access to a micro_tlb.
struct micro_tlb_access {
  // The slot for `t`, after emptying a micro-TLB that last followed another engine.
  template <std::size_t N>
  [[nodiscard]] static micro_entry& slot(micro_tlb<N>& u, std::uint64_t engine,
                                         const walk::transaction& t) noexcept {
    if (u.owner_ != engine) {
      u.clear();
      u.owner_ = engine;
    }
    return u.slot(t);
  }
  template <std::size_t N>
  static void count(micro_tlb<N>& u, bool hit) noexcept {
    ++(hit ? u.hits_ : u.misses_);
  }
};
}  // namespace detail

}  // namespace vsmmu::engine
