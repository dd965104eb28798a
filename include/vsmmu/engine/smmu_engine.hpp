// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/cache/config_cache.hpp>
#include <vsmmu/engine/detail/engine_mutex.hpp>
#include <vsmmu/engine/detail/leaf_codec.hpp>
#include <vsmmu/engine/detail/shared_limits.hpp>
#include <vsmmu/engine/micro_tlb.hpp>
#include <vsmmu/engine/notifications.hpp>
#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/queue/command.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/tlb/iotlb.hpp>
#include <vsmmu/tlb/range_invalidation.hpp>
#include <vsmmu/walk/translate.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>

// The translation engine: walk::translate() through a configuration cache (decoded STEs and CDs)
// and an IOTLB (leaf translations, nested ones combined), and the commands that maintain them
// (CFGI_*, TLBI_*, ATC_INV, PREFETCH_*), with the embedder told of invalidations through a
// Notifier (notifications.hpp). Caching can be switched off: results are identical, only slower.
//
// Threads (docs/caches.md). translate() may be called from any number of threads at once, and
// concurrently with execute() and the other members. One mutex guards the caches and the engine
// state; it is never held across a fetch from guest memory, so a miss's walk runs in parallel with
// other translations and with commands. Every invalidation advances an epoch under the mutex; a
// walk that started in an earlier epoch returns its result (the transaction looked the structures
// up before the invalidation, which §4.3.8 and §4.4 allow) but caches nothing, so no stale entry
// outlives an invalidation. wait_for_translations() returns once every translation that was in
// flight when it was called has finished: what a CMD_SYNC needs (§4.3.8).
//
// STEs and CDs are decoded through walk::decode_limits (the decoders' fast path), built once per
// feature set: an immutable object that set_state() replaces, under the mutex, only when the
// features change; a walk that decodes without the mutex holds a reference to the one that
// matches its snapshot of the state, so a replaced object lives until its last walk ends.
//
// translate(t, micro_tlb&) puts a caller-owned micro-TLB (micro_tlb.hpp) in front: its entries
// are tagged with the epoch, which also advances on every register state and caching change, so
// a hit needs one atomic load of the epoch and neither the mutex nor a read-modify-write.
namespace vsmmu::engine {

struct engine_options {
  cache::config_cache_options config{};
  tlb::range_features ranges{};  // SMMU_IDR3.RIL, SMMU_IDR5.DS: how TLBI ranges decode
  // CMD_SYNC waits for the translations in flight (synchronize()). Turn off when a translation
  // can block on something the thread consuming the command queue holds (a VMM-wide lock taken
  // by the memory adapter), which would deadlock; CMD_SYNC then orders only the caches.
  bool sync_waits_for_translations = true;
};

// What the engine uses with caching off. walk::uncached fills every field a cache stores (both
// privileges' permission sets), so results are identical with caching on and off.
using walk_only = walk::uncached;

// Counters since construction, and what the caches hold.
struct engine_stats {
  std::uint64_t stream_hits = 0;
  std::uint64_t stream_misses = 0;
  std::uint64_t context_hits = 0;
  std::uint64_t context_misses = 0;
  std::uint64_t leaf_hits = 0;
  std::uint64_t leaf_misses = 0;
  std::uint32_t streams_cached = 0;
  std::uint32_t contexts_cached = 0;
  std::uint32_t leaves_cached = 0;
  std::uint64_t epoch = 0;  // invalidations, state and caching changes applied
};

template <memory::readable_memory M, class Notifier = null_notifier,
          std::size_t IotlbCapacity = 4096>
requires notifier<Notifier>
class smmu_engine {
  static_assert(IotlbCapacity >= 1 && IotlbCapacity <= (std::size_t{1} << 24),
                "vsmmu: IOTLB capacity out of range");

 public:
  using iotlb_type = tlb::iotlb<static_cast<std::uint32_t>(IotlbCapacity)>;

  // `mem` is the guest memory the walks read; it must outlive the engine and allow concurrent
  // reads when translate() is called from several threads. SMMU_IDR0.ASID16/VMID16 are taken
  // from st.features once, for the IOTLB's tag widths. Through a const reference the walks only
  // read: HA/HD suppress Access flag faults and make DBM descriptors writable, but nothing is
  // written back.
  explicit smmu_engine(const M& mem, const walk::smmu_state& st = {}, Notifier n = Notifier{},
                       const engine_options& o = {})
      : mem_(mem),
        state_(st),
        notifier_(std::move(n)),
        ranges_(o.ranges),
        sync_waits_(o.sync_waits_for_translations),
        config_(o.config),
        iotlb_(tlb::iotlb_options{st.features.asid16 ? 16U : 8U, st.features.vmid16 ? 16U : 8U}),
        limits_(make_limits(st.features)) {}

  // Through a non-const reference to a writable adapter (memory::guest_memory), the walks also
  // write the hardware flag updates back (IHI 0070 §3.13: AF, and the dirty state of DBM
  // descriptors), as walk::translate() does over writable memory; the adapter must then allow
  // concurrent writes (compare_exchange64 makes each update atomic, see memory/adapter.hpp).
  explicit smmu_engine(M& mem, const walk::smmu_state& st = {}, Notifier n = Notifier{},
                       const engine_options& o = {})
      : smmu_engine(static_cast<const M&>(mem), st, std::move(n), o) {
    if constexpr (memory::guest_memory<M>) writable_ = &mem;
  }

  smmu_engine(const smmu_engine&) = delete;
  smmu_engine& operator=(const smmu_engine&) = delete;

  // ---- Translation

  [[nodiscard]] walk::result translate(const walk::transaction& t) noexcept {
    walk::result r;
    translate_into<false>(t, r, nullptr);
    return r;
  }

  // The same result, answered from `u` when it holds a translation or bypass of `t` decided in
  // the current epoch (no lock, no read-modify-write: the epoch's acquire load is the only access
  // to shared state), else translated as above and kept in `u`. `u` belongs to the calling
  // thread. A hit here is complete like a hit under the mutex: it is ordered before the
  // invalidation that ends its epoch, and is not counted in flight (docs/caches.md).
  template <std::size_t N>
  [[nodiscard]] walk::result translate(const walk::transaction& t, micro_tlb<N>& u) noexcept {
    walk::result r;
    detail::micro_entry& e = detail::micro_tlb_access::slot(u, identity_, t);
    const bool hit = detail::answer(e, t, epoch_.value.load(std::memory_order_acquire), r);
    detail::micro_tlb_access::count(u, hit);
    if (!hit) translate_filling(t, r, e);
    return r;
  }

  // Off: every translation fetches and decodes, nothing is cached (and what was is dropped).
  void set_caching(bool on) noexcept {
    std::lock_guard<detail::engine_mutex> lk(mutex_);
    if (on == caching_) return;
    caching_ = on;
    if (on) {
      advance_epoch();  // nothing was kept while off; conservative for micro-TLBs
    } else {
      drop_everything();
    }
  }
  [[nodiscard]] bool caching() const noexcept {
    std::lock_guard<detail::engine_mutex> lk(mutex_);
    return caching_;
  }

  // ---- Commands (satisfies queue::command_handler). The queue has validated the opcode, the
  // advertised features and the Reserved fields; CMD_SYNC never comes here.
  [[nodiscard]] queue::command_status execute(const queue::command& c) noexcept {
    namespace C = smmuv3::cmd;
    using queue::command_status;
    const walk::smmu_features f = state().features;
    // §4.4.2: the VMID of CMD_TLBI_NH_* is matched only with stage 2 (else RES0); entries of a
    // stage 1-only SMMU are tagged with VMID 0.
    auto vmid_of = [&f](std::uint16_t v) -> std::uint16_t { return f.s2p ? v : 0; };
    switch (c.opcode()) {
      case C::opcode::prefetch_config:
      case C::opcode::prefetch_addr:
        return command_status::ok;  // hints (§4.2): nothing needs to be fetched

      case C::opcode::cfgi_ste: {
        const std::uint32_t sid = c.as<C::cfgi_ste::layout>().get<C::StreamID>();
        with_caches([&] { config_.invalidate_ste(sid); });
        notifier_.config_invalidated({config_invalidation::what::ste, sid, sid, 0});
        return command_status::ok;
      }
      case C::opcode::cfgi_ste_range: {
        const auto v = c.as<C::cfgi_ste_range::layout>();
        const std::uint32_t sid = v.get<C::StreamID>();
        const unsigned range = v.get<C::cfgi_ste_range::Range>();
        with_caches([&] { config_.invalidate_ste_range(sid, range); });
        const std::uint64_t width = std::uint64_t{1} << (range >= 31 ? 32U : range + 1);
        const auto first = static_cast<std::uint32_t>(sid & ~(width - 1));
        notifier_.config_invalidated({config_invalidation::what::ste, first,
                                      static_cast<std::uint32_t>(first + (width - 1)), 0});
        return command_status::ok;
      }
      case C::opcode::cfgi_cd: {
        if (!f.s1p) return command_status::illegal;  // §4.3.3
        const auto v = c.as<C::cfgi_cd::layout>();
        const std::uint32_t sid = v.get<C::StreamID>();
        const std::uint32_t ssid = v.get<C::SubstreamID>();
        with_caches([&] { config_.invalidate_cd(sid, ssid); });
        notifier_.config_invalidated({config_invalidation::what::cd, sid, sid, ssid});
        return command_status::ok;
      }
      case C::opcode::cfgi_cd_all: {
        if (!f.s1p) return command_status::illegal;  // §4.3.4
        const std::uint32_t sid = c.as<C::cfgi_cd_all::layout>().get<C::StreamID>();
        with_caches([&] { config_.invalidate_cd_all(sid); });
        notifier_.config_invalidated({config_invalidation::what::cd_all, sid, sid, 0});
        return command_status::ok;
      }
      case C::opcode::cfgi_vms_pidm:
        return command_status::ok;  // no MPAM / VMS: nothing is cached from it

      case C::opcode::tlbi_nh_all: {
        if (!f.s1p) return command_status::illegal;
        const std::uint16_t vmid = vmid_of(c.as<C::tlbi_nh_all::layout>().get<C::VMID>());
        with_caches([&] { iotlb_.nh_all(vmid); });
        notify_tlbi({tlbi_scope::nh_all, vmid, 0, false, {}});
        return command_status::ok;
      }
      case C::opcode::tlbi_nh_asid: {
        if (!f.s1p) return command_status::illegal;
        const auto v = c.as<C::tlbi_nh_asid::layout>();
        const std::uint16_t vmid = vmid_of(v.get<C::VMID>());
        const std::uint16_t asid = v.get<C::ASID>();
        with_caches([&] { iotlb_.nh_asid(vmid, asid); });
        notify_tlbi({tlbi_scope::nh_asid, vmid, asid, false, {}});
        return command_status::ok;
      }
      case C::opcode::tlbi_nh_va: {
        if (!f.s1p) return command_status::illegal;
        const auto v = c.as<C::tlbi_nh_va::layout>();
        const auto d = tlb::decode_tlbi_range(v, ranges_);
        if (!d.ok()) return command_status::illegal;
        const std::uint16_t vmid = vmid_of(v.get<C::VMID>());
        const std::uint16_t asid = v.get<C::ASID>();
        with_caches([&] { iotlb_.nh_va(vmid, asid, d.value); });
        notify_ranged({tlbi_scope::nh_va, vmid, asid, d.value.leaf, {}}, d.value);
        return command_status::ok;
      }
      case C::opcode::tlbi_nh_vaa: {
        if (!f.s1p) return command_status::illegal;
        const auto v = c.as<C::tlbi_nh_vaa::layout>();
        const auto d = tlb::decode_tlbi_range(v, ranges_);
        if (!d.ok()) return command_status::illegal;
        const std::uint16_t vmid = vmid_of(v.get<C::VMID>());
        with_caches([&] { iotlb_.nh_vaa(vmid, d.value); });
        notify_ranged({tlbi_scope::nh_vaa, vmid, 0, d.value.leaf, {}}, d.value);
        return command_status::ok;
      }
      case C::opcode::tlbi_el2_all: {
        if (!f.hyp) return command_status::illegal;
        with_caches([&] { iotlb_.el2_all(); });
        notify_tlbi({tlbi_scope::el2_all, 0, 0, false, {}});
        return command_status::ok;
      }
      case C::opcode::tlbi_el2_asid: {
        if (!f.hyp) return command_status::illegal;
        const std::uint16_t asid = c.as<C::tlbi_el2_asid::layout>().get<C::ASID>();
        with_caches([&] { iotlb_.el2_asid(asid); });
        notify_tlbi({tlbi_scope::el2_asid, 0, asid, false, {}});
        return command_status::ok;
      }
      case C::opcode::tlbi_el2_va: {
        if (!f.hyp) return command_status::illegal;
        const auto v = c.as<C::tlbi_el2_va::layout>();
        const auto d = tlb::decode_tlbi_range(v, ranges_);
        if (!d.ok()) return command_status::illegal;
        const std::uint16_t asid = v.get<C::ASID>();
        // The model has SMMU_CR2.E2H == 0: NS-EL2 entries, the ASID not matched (§4.4.2.8).
        with_caches([&] { iotlb_.el2_va(asid, d.value.range, false); });
        notify_ranged({tlbi_scope::el2_va, 0, asid, d.value.leaf, {}}, d.value);
        return command_status::ok;
      }
      case C::opcode::tlbi_el2_vaa: {
        if (!f.hyp) return command_status::illegal;
        const auto d = tlb::decode_tlbi_range(c.as<C::tlbi_el2_vaa::layout>(), ranges_);
        if (!d.ok()) return command_status::illegal;
        with_caches([&] { iotlb_.el2_vaa(d.value.range, false); });
        notify_ranged({tlbi_scope::el2_vaa, 0, 0, d.value.leaf, {}}, d.value);
        return command_status::ok;
      }
      case C::opcode::tlbi_s12_vmall: {
        if (!f.s2p) return command_status::illegal;  // §4.4.3.2
        const std::uint16_t vmid = c.as<C::tlbi_s12_vmall::layout>().get<C::VMID>();
        with_caches([&] { iotlb_.s12_vmall(vmid); });
        notify_tlbi({tlbi_scope::s12_vmall, vmid, 0, false, {}});
        return command_status::ok;
      }
      case C::opcode::tlbi_s2_ipa: {
        if (!f.s2p) return command_status::illegal;  // §4.4.3.1
        const auto v = c.as<C::tlbi_s2_ipa::layout>();
        const auto d = tlb::decode_tlbi_range(v, ranges_);
        if (!d.ok()) return command_status::illegal;
        const std::uint16_t vmid = v.get<C::VMID>();
        with_caches([&] { iotlb_.s2_ipa(vmid, d.value); });
        notify_ranged({tlbi_scope::s2_ipa, vmid, 0, d.value.leaf, {}}, d.value);
        return command_status::ok;
      }
      case C::opcode::tlbi_nsnh_all: {
        with_caches([&] { iotlb_.nsnh_all(); });
        notify_tlbi({tlbi_scope::nsnh_all, 0, 0, false, {}});
        return command_status::ok;
      }

      case C::opcode::atc_inv:
        return atc_inv(c, f);

      // Stalls and page requests are the device's (queue/device layers); nothing cached here.
      case C::opcode::pri_resp:
      case C::opcode::resume:
      case C::opcode::stall_term:
        return command_status::ok;

      default:  // EL3, Secure, DPT, CMD_SYNC: not for a Non-secure engine
        return command_status::illegal;
    }
  }

  // Called by the command queue before a CMD_SYNC completes (queue::synchronizing_handler):
  // waits for the translations in flight, so that every transaction that used invalidated
  // structures has completed (§4.3.8). An incomplete CMD_ATC_INV was already reported by
  // execute().
  [[nodiscard]] queue::command_status synchronize() noexcept {
    if (sync_waits_) wait_for_translations();
    return queue::command_status::ok;
  }

  // ---- State

  [[nodiscard]] walk::smmu_state state() const noexcept {
    std::lock_guard<detail::engine_mutex> lk(mutex_);
    return state_;
  }

  // New register state. A change of anything that locates or interprets configuration (the
  // Stream table, the features, SMMUEN, GBPA) drops every cached STE, CD and translation; a
  // change of the features also replaces the decode limits. Every call advances the epoch,
  // whatever changed (micro-TLBs start again).
  void set_state(const walk::smmu_state& st) noexcept {
    // Declared before the lock: the limits replaced here are released after the mutex (by their
    // last walk, when one still holds them).
    detail::shared_limits replaced;
    std::lock_guard<detail::engine_mutex> lk(mutex_);
    const walk::smmu_state& o = state_;
    const bool same_feat = same_features(o.features, st.features);
    const bool same =
        o.smmuen == st.smmuen && o.gbpa_abort == st.gbpa_abort && o.strtab.base == st.strtab.base &&
        o.strtab.two_level == st.strtab.two_level && o.strtab.split == st.strtab.split &&
        o.strtab.log2size == st.strtab.log2size && same_feat;
    state_ = st;
    if (!same_feat) {
      replaced = std::exchange(limits_, make_limits(st.features));
      ++limits_generation_;
    }
    if (same) {
      advance_epoch();
    } else {
      drop_everything();
    }
  }

  // SMMU_CR0.VMW (§6.3.9): VMID wildcard of TLB invalidations.
  void set_vmid_wildcard(unsigned vmw) noexcept {
    std::lock_guard<detail::engine_mutex> lk(mutex_);
    iotlb_.set_vmid_wildcard(vmw);
  }

  // Drops every cached STE, CD and translation (reset, or an embedder's own reasons).
  void invalidate_all() noexcept {
    std::lock_guard<detail::engine_mutex> lk(mutex_);
    drop_everything();
  }

  // Returns once every translate() that was running when it was called has returned (a hit,
  // decided under the mutex this takes first, is complete once it released it); a CMD_SYNC
  // completes after it (§4.3.8: a transaction that used invalidated structures is visible before
  // the CMD_SYNC completes). Translations that start meanwhile are not waited for. Must not be
  // called from inside translate() (a notifier, a memory adapter).
  void wait_for_translations() {
    const std::lock_guard<std::mutex> one_drainer(drain_mutex_);
    std::unique_lock<detail::engine_mutex> lk(mutex_);
    const unsigned current = flight_slot_;
    drain_waiting_.store(true);
    lk.unlock();
    // Translations counted in the other slot started before any in `current`: let them finish,
    // then send newcomers to that slot and wait for `current` to empty. A slot that is not
    // flight_slot_ only counts down, so waiting for it needs no lock.
    wait_until_empty(in_flight_[current ^ 1U]);
    lk.lock();
    flight_slot_ = current ^ 1U;
    lk.unlock();
    wait_until_empty(in_flight_[current]);
    drain_waiting_.store(false);
  }

  [[nodiscard]] engine_stats stats() const noexcept {
    std::lock_guard<detail::engine_mutex> lk(mutex_);
    engine_stats s = stats_;
    s.streams_cached = config_.stream_count();
    s.contexts_cached = config_.context_count();
    s.leaves_cached = iotlb_.size();
    s.epoch = epoch();
    return s;
  }

  [[nodiscard]] Notifier& notifier() noexcept { return notifier_; }
  [[nodiscard]] const M& memory() const noexcept { return mem_; }

 private:
  // What a micro-TLB fill needs of the STE besides the result.
  struct stream_access_cfg {
    std::uint8_t privcfg = 0;
    std::uint8_t instcfg = 0;
  };

  // What hit() found before it gave up, for the walk that follows in the same critical section
  // (the mutex held throughout): the cached STE and CD, and that the IOTLB has no entry for the
  // leaf, so that the walk's policy probes neither the configuration cache nor the IOTLB again.
  // With `ste` null nothing else is valid. The walk asks for exactly what hit() looked up: the
  // same transaction, the same select_cd() and leaf key, over caches and a state that cannot
  // change while the mutex is held. The policy forgets it as soon as it releases the mutex.
  struct hit_memo {
    const walk::planned_stream_lookup* ste;
    const walk::planned_context_lookup* cd;  // null: not looked up, or not cached
    bool leaf_missed;                        // the IOTLB was probed and had nothing
  };

  // A lookup the policy keeps for its walk, copied from the configuration cache (the walk reads
  // it without the mutex, while the cached entry may be replaced) or decoded. Constructed in place
  // when the walk asks for it: a walk that needs no CD does not pay for zeroing one, and a decoded
  // lookup is planned straight into it.
  template <class T>
  union kept_lookup {
    static_assert(std::is_trivially_destructible_v<T>);
    kept_lookup() noexcept {}
    template <class... A>
    T& make(A&&... a) noexcept {
      return *::new (static_cast<void*>(&value)) T(static_cast<A&&>(a)...);
    }
    T value;
  };

  // The packed IOTLB tags a hit looks up with, kept with the cached STE (stage 2 alone: S1DSS
  // bypass or a stage 2-only STE) and CD (stage 1 or nested), so that a hit neither builds the
  // tlb::context nor packs it: the leaf key hit() builds from the same STE and CD, through
  // tlb_context(). Both change only with the STE or CD they are cached with, which CMD_CFGI_*
  // drop; the IOTLB's tag widths are fixed at construction.
  [[nodiscard]] std::uint64_t tag_of_stage2(const walk::stream_config& ste) const noexcept {
    walk::leaf_key k;
    k.s1 = false;
    k.vmid = ste.s2.vmid;
    return iotlb_.tag_for(detail::tlb_context(k)).bits;
  }
  [[nodiscard]] std::uint64_t tag_of_stage1(const walk::stream_config& ste,
                                            const walk::context_config& cd) const noexcept {
    walk::leaf_key k;
    k.s1 = true;
    k.el2 = ste.el2;
    k.vmid = ste.s2.vmid;
    k.asid = cd.asid;
    return iotlb_.tag_for(detail::tlb_context(k)).bits;
  }

  // A micro-TLB miss: out of line, so that the micro-TLB's hit path stays small.
  [[gnu::noinline]] void translate_filling(const walk::transaction& t, walk::result& r,
                                           detail::micro_entry& fill) noexcept {
    translate_into<true>(t, r, &fill);
  }

  // One translation into r (a default result); with Fill, a successful one is kept in *fill.
  template <bool Fill>
  void translate_into(const walk::transaction& t, walk::result& r,
                      detail::micro_entry* fill) noexcept {
    mutex_.lock();
    // A hit is decided entirely under the mutex: it used the caches as they were before any
    // invalidation that takes the mutex after it, and uses nothing afterwards, so it is complete
    // when the mutex is released and is not counted in flight (two atomic read-modify-writes
    // fewer on the hot path). A micro-TLB fill is the caller's memory only: done unlocked.
    // Nothing here throws: the lock is taken and released by hand, the walk's own with a
    // unique_lock that adopts it.
    stream_access_cfg ac;
    hit_memo memo;
    if (caching_ && hit(t, r, ac, memo)) {
      if constexpr (Fill) {
        const std::uint64_t ep = epoch();
        mutex_.unlock();
        detail::fill(*fill, t, r, ep, ac.privcfg, ac.instcfg);
      } else {
        mutex_.unlock();
      }
      return;
    }
    std::unique_lock<detail::engine_mutex> lk(mutex_, std::adopt_lock);
    walk_into<Fill>(t, r, fill, lk, memo);
  }

  // The rest of translate_into(), entered under the mutex: the walk through the caches (or
  // without them). Out of line, so that the hit path keeps a small frame.
  template <bool Fill>
  [[gnu::noinline]] void walk_into(const walk::transaction& t, walk::result& r,
                                   detail::micro_entry* fill,
                                   std::unique_lock<detail::engine_mutex>& lk,
                                   const hit_memo& memo) noexcept {
    stream_access_cfg ac;
    // Counted under the mutex, so that wait_for_translations() sees a consistent generation.
    const unsigned slot = flight_slot_;
    in_flight_[slot].fetch_add(1, std::memory_order_relaxed);
    bool keep = false;
    std::uint64_t ep = 0;
    {
      const walk::smmu_state st = state_;  // a consistent snapshot for the whole walk
      if (caching_) {
        cached_policy p(*this, lk, memo);
        r = without_httu(memo) ? walk::translate(mem_, st, t, p) : translate_with(st, t, p);
        // Kept under the epoch the translation began in: if anything was invalidated since, the
        // entry is dead on arrival, exactly as the caches refuse the fill (cached_policy::fill).
        keep = Fill && (r.kind == walk::outcome::translated || r.kind == walk::outcome::bypass);
        ep = p.epoch();
        ac = p.access_cfg();
      } else {
        // The limits of the snapshot's features, held for the walk (it decodes unlocked).
        const detail::shared_limits lim = limits_;
        lk.unlock();
        walk_only p{lim.get()};
        r = translate_with(st, t, p);
      }
      if (lk.owns_lock()) lk.unlock();
    }
    // Leaving takes no lock; the last one out wakes a drainer waiting on the count (seq_cst pairs
    // with its drain_waiting_ store and count load: one of the two sees the other).
    if (in_flight_[slot].fetch_sub(1) == 1 && drain_waiting_.load()) in_flight_[slot].notify_all();
    if constexpr (Fill) {
      if (keep) detail::fill(*fill, t, r, ep, ac.privcfg, ac.instcfg);
    }
  }

  // The hit path, under the mutex: the translated result when the STE, the CD (with stage 1) and
  // the leaf are all cached and the leaf answers the access, read in place from the caches (no
  // copy of the decoded STE or CD, no state snapshot). Anything else (a miss, a fault, a bypass,
  // an access the leaf does not allow) returns false and takes walk::translate() with
  // cached_policy, which decides it the same way: the choices are walk::detail's select_cd and
  // accept_leaf, the tag is leaf_codec's, and the differential test compares both paths with
  // caching off. Counters are updated only for a complete hit, so a fall-back counts once. `ac`
  // receives the STE's PRIVCFG and INSTCFG, for a micro-TLB fill; `m` what a fall-back's walk
  // need not look up again.
  bool hit(const walk::transaction& t, walk::result& r, stream_access_cfg& ac,
           hit_memo& m) noexcept {
    m.ste = nullptr;
    if (!state_.smmuen) return false;
    const auto [ste, stage2_tag] = config_.find_stream_entry(t.sid);
    if (ste == nullptr) return false;
    m.ste = ste;
    m.cd = nullptr;
    m.leaf_missed = false;
    const walk::stream_config* cfg = &ste->config;
    const walk::stream_mode mode = cfg->mode;
    if (mode == walk::stream_mode::abort || mode == walk::stream_mode::bypass) return false;
    const walk::detail::cd_selection sel = walk::detail::select_cd(t, *cfg);
    if (sel.faulted) return false;
    walk::leaf_key key;
    key.s1 = sel.use_s1;
    key.s2 = cfg->s2_enabled();
    key.vmid = cfg->s2.vmid;
    key.sid = t.sid;
    key.el2 = sel.use_s1 && cfg->el2;
    // The IOTLB tag of tlb_context(key), packed when the STE and CD were cached (tag_of_*).
    std::uint64_t tag = stage2_tag;
    if (sel.use_s1) {
      const auto [c, stage1_tag] = config_.find_context_entry(t.sid, sel.ssid);
      if (c == nullptr) return false;
      m.cd = c;
      key.asid = c->config.asid;
      tag = stage1_tag;
    } else {
      // Stage 1 bypassed by S1DSS: stage 2 alone, for inputs within the IAS (else F_ADDR_SIZE).
      if (!key.s2 || (t.address >> state_.features.ias_bits()) != 0) return false;
    }
    const tlb::entry* e = iotlb_.lookup(typename iotlb_type::packed_tag{tag}, t.address);
    if (e == nullptr) {
      m.leaf_missed = true;
      return false;
    }
    walk::translation& x = r.xlat;
    detail::from_entry(key, *e, t.address, x);
    if (!walk::detail::accept_leaf(walk::detail::effective_attrs(t, cfg), x)) {
      x = walk::translation{};
      return false;
    }
    r.kind = walk::outcome::translated;
    ac.privcfg = cfg->privcfg;
    ac.instcfg = cfg->instcfg;
    ++stats_.stream_hits;
    if (sel.use_s1) ++stats_.context_hits;
    ++stats_.leaf_hits;
    return true;
  }

  // The seam of walk::translate(): the configuration cache for STEs and CDs, the IOTLB for
  // leaves. The engine's mutex is held while the caches are used and released around fetches
  // from guest memory; fills happen only while the epoch is the one the translation began in.
  // STEs and CDs are returned as planned lookups the policy keeps (copied from the cache, plans
  // included, or decoded and planned once, then cached with their plans): a walk whose
  // configuration is cached derives no walk plan.
  class cached_policy {
   public:
    // Constructed under the mutex, with the snapshot of the state the walk uses, right after
    // hit() gave up (`m`: what it found; the mutex has been held since).
    cached_policy(smmu_engine& e, std::unique_lock<detail::engine_mutex>& lk,
                  const hit_memo& m) noexcept
        : e_(e),
          lk_(lk),
          memo_(m.ste != nullptr ? &m : nullptr),
          epoch_(e.epoch()),
          generation_(e.limits_generation_) {}

    // The epoch the translation began in, and the STE's PRIVCFG/INSTCFG (for a micro-TLB fill).
    [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_; }
    [[nodiscard]] stream_access_cfg access_cfg() const noexcept { return ac_; }

    const walk::planned_stream_lookup& stream(const M& mem, const walk::smmu_state& st,
                                              std::uint32_t sid) {
      relock();
      const walk::planned_stream_lookup* c =
          memo_ != nullptr ? memo_->ste : e_.config_.find_stream_lookup(sid);
      if (c != nullptr) {
        ++e_.stats_.stream_hits;
        const walk::planned_stream_lookup& out = ste_.make(*c);
        ac_ = {out.config.privcfg, out.config.instcfg};
        return out;
      }
      ++e_.stats_.stream_misses;
      const walk::uncached decode{limits()};
      unlock();
      const walk::stream_lookup l = decode.stream(mem, st, sid);
      ac_ = {l.config.privcfg, l.config.instcfg};
      if (l.status != walk::ste_fetch_status::ok || l.illegal) {
        walk::planned_stream_lookup& out = ste_.make();  // the walk stops at the STE: no plan
        static_cast<walk::stream_lookup&>(out) = l;
        return out;
      }
      const walk::planned_stream_lookup& out = ste_.make(l);  // planned once: walk and cache
      if (fill()) e_.config_.insert_stream(sid, out, e_.tag_of_stage2(out.config));
      return out;
    }

    template <class StructurePa>
    const walk::planned_context_lookup& context(const M& mem, const walk::smmu_state& st,
                                                const walk::stream_config& ste, std::uint32_t sid,
                                                std::uint32_t cd_index,
                                                StructurePa&& structure_pa) {
      relock();
      const walk::planned_context_lookup* c = memo_ != nullptr && memo_->cd != nullptr
                                                  ? memo_->cd
                                                  : e_.config_.find_context_lookup(sid, cd_index);
      if (c != nullptr) {
        ++e_.stats_.context_hits;
        return cd_.make(*c);
      }
      ++e_.stats_.context_misses;
      const walk::uncached decode{limits()};
      unlock();
      const walk::context_lookup l =
          decode.context(mem, st, ste, sid, cd_index, static_cast<StructurePa&&>(structure_pa));
      if (l.status != walk::cd_locate_status::ok || l.illegal) {
        walk::planned_context_lookup& out = cd_.make();
        static_cast<walk::context_lookup&>(out) = l;
        return out;
      }
      const walk::planned_context_lookup& out = cd_.make(l);
      if (fill()) {
        (void)e_.config_.insert_context(sid, cd_index, out, [&](const walk::stream_config& p) {
          return e_.tag_of_stage1(p, out.config);
        });
      }
      return out;
    }

    bool find_leaf(const walk::leaf_key& k, std::uint64_t address, walk::translation& out) {
      relock();
      // hit() probed the same key and found nothing, and the mutex has been held since.
      const bool known_miss = memo_ != nullptr && memo_->leaf_missed;
      const tlb::entry* e =
          known_miss ? nullptr : e_.iotlb_.lookup(detail::tlb_context(k), address);
      if (e != nullptr) {
        ++e_.stats_.leaf_hits;
        detail::from_entry(k, *e, address, out);
      } else {
        ++e_.stats_.leaf_misses;
      }
      // Either way the caches are done with until a fill: what follows is the result's
      // construction, or the walk.
      unlock();
      return e != nullptr;
    }

    void record_leaf(const walk::leaf_key& k, std::uint64_t address, const walk::translation& x) {
      if (fill()) e_.iotlb_.insert(detail::to_entry(k, address, x));
    }

   private:
    void relock() {
      if (!lk_.owns_lock()) lk_.lock();
    }
    // What hit() found is valid only until the mutex is released.
    void unlock() {
      memo_ = nullptr;
      lk_.unlock();
    }
    // Under the mutex, before a decode: the limits of the features of the walk's snapshot, held
    // until the walk ends. Taken at the first miss rather than with the snapshot, so that a
    // translation whose STE and CD are cached touches no reference count. When set_state()
    // replaced them since the snapshot, none: the decoder then reads the snapshot's features
    // rule by rule (a walk racing with a feature change; it fills nothing either).
    const walk::decode_limits* limits() {
      if (!held_ && e_.limits_generation_ == generation_) held_ = e_.limits_;
      return held_.get();
    }
    // Locks; true when nothing was invalidated since the translation began.
    bool fill() {
      relock();
      return e_.epoch() == epoch_;
    }

    smmu_engine& e_;
    std::unique_lock<detail::engine_mutex>& lk_;
    const hit_memo* memo_;  // null: nothing found, or the mutex was released since
    std::uint64_t epoch_;
    std::uint64_t generation_;  // of the limits matching the walk's snapshot
    detail::shared_limits held_;
    stream_access_cfg ac_{};
    kept_lookup<walk::planned_stream_lookup> ste_;
    kept_lookup<walk::planned_context_lookup> cd_;
  };

  // Whether the walk of a transaction whose hit() left `m` reads guest memory only: its STE and
  // the CD it uses were cached (the walk uses those very lookups, under the same mutex hold) and
  // neither enables HTTU (STE.S2HA/S2HD, CD.HA/HD), so that nothing would be written back. The
  // read-only walk is the same translation without the descriptor updates' retry loops (an
  // IOTLB miss under a cached configuration: nested 2430 -> 2299 instructions).
  [[nodiscard]] static bool without_httu(const hit_memo& m) noexcept {
    if (m.ste == nullptr) return false;
    const walk::stream_config& s = m.ste->config;
    if (s.s2.ha || s.s2.hd) return false;
    if (!s.s1()) return true;
    return m.cd != nullptr && !m.cd->config.ha && !m.cd->config.hd;
  }

  template <class Policy>
  walk::result translate_with(const walk::smmu_state& st, const walk::transaction& t,
                              Policy& p) noexcept {
    if constexpr (memory::guest_memory<M>) {
      if (writable_ != nullptr) return walk::translate(*writable_, st, t, p);
    }
    return walk::translate(mem_, st, t, p);
  }

  template <class Fn>
  void with_caches(Fn&& fn) noexcept {
    std::lock_guard<detail::engine_mutex> lk(mutex_);
    fn();
    advance_epoch();
  }

  // Under the mutex. The epoch is written only there; the release store pairs with the acquire
  // load of a micro-TLB hit, which reads no other shared state.
  [[nodiscard]] std::uint64_t epoch() const noexcept {
    return epoch_.value.load(std::memory_order_relaxed);
  }
  void advance_epoch() noexcept {
    epoch_.value.store(epoch_.value.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // Blocks (C++20 atomic wait, lighter to include than <condition_variable>) until a count that
  // only goes down reaches 0. The translation that takes it to 0 notifies when drain_waiting_ is
  // set; both sides use seq_cst, so either it sees the flag or the load here sees its decrement.
  static void wait_until_empty(std::atomic<unsigned>& count) noexcept {
    for (unsigned n = count.load(); n != 0; n = count.load()) count.wait(n);
  }

  // Under the mutex.
  void drop_everything() noexcept {
    config_.invalidate_all();
    iotlb_.invalidate_all();
    advance_epoch();
  }

  // Every field of smmu_features, by a structured binding: a field added to the struct fails to
  // compile here instead of being left out of the comparison (finding F4 was IDR5.DS left out).
  // decode_limits depends on all of them (it keeps the features for the rule-by-rule decoder).
  [[nodiscard]] static auto feature_fields(const walk::smmu_features& f) noexcept {
    const auto& [s1p, s2p, two_level_stream_table, cd2l, ats, ns1ats, asid16, vmid16, hyp,
                 aa64_tables, term_model, stall_model, httu, ttendian, sidsize, ssidsize, oas,
                 gran4k, gran16k, gran64k, vax52, ds] = f;
    return std::tie(s1p, s2p, two_level_stream_table, cd2l, ats, ns1ats, asid16, vmid16, hyp,
                    aa64_tables, term_model, stall_model, httu, ttendian, sidsize, ssidsize, oas,
                    gran4k, gran16k, gran64k, vax52, ds);
  }
  [[nodiscard]] static bool same_features(const walk::smmu_features& a,
                                          const walk::smmu_features& b) noexcept {
    return feature_fields(a) == feature_fields(b);
  }

  // The decoders' tables for a feature set; none if they cannot be allocated (the decoders then
  // read the features rule by rule: slower, the same results).
  [[nodiscard]] static detail::shared_limits make_limits(const walk::smmu_features& f) noexcept {
    return detail::shared_limits::make(f);
  }

  void notify_tlbi(const iotlb_invalidation& n) { notifier_.iotlb_invalidated(n); }

  // One notification per aligned piece. Without a range (TG == 0) the address names the 4KB page
  // holding it; entries of any size overlapping it go (§4.4: low address bits are ignored as the
  // entry's size requires).
  void notify_ranged(iotlb_invalidation n, const tlb::tlbi_range& r) {
    tlb::address_range span = r.range;
    if (!r.granule_shift) {
      span.first &= ~std::uint64_t{0xfff};
      span.last = span.first | 0xfff;
    }
    split_range(span, [&](const range_piece& p) {
      n.piece = p;
      notifier_.iotlb_invalidated(n);
    });
  }

  // CMD_ATC_INV (§4.5.1).
  queue::command_status atc_inv(const queue::command& c, const walk::smmu_features& f) {
    namespace C = smmuv3::cmd;
    if (!f.ats) return queue::command_status::illegal;
    if (!state().smmuen) return queue::command_status::ok;  // IGNORED while SMMUEN == 0
    const auto v = c.as<C::atc_inv::layout>();
    atc_invalidation a;
    a.sid = v.get<C::StreamID>();
    // Without PASIDs, SSV == 1 behaves as SSV == 0 (one of the CONSTRAINED UNPREDICTABLE
    // choices); Global is IGNORED without SSV.
    a.ssv = v.get<C::SSV>() && f.ssidsize != 0;
    a.ssid = a.ssv ? v.get<C::SubstreamID>() : 0;
    a.global = a.ssv && v.get<C::atc_inv::Global>();
    // A span of 4096 * 2^Size bytes, aligned to its size; Size 52 is everything, and larger
    // values (an UNKNOWN span) are taken as everything too.
    const unsigned size = v.get<C::atc_inv::Size>();
    a.span.size_shift = size >= 52 ? 64U : 12U + size;
    a.span.base = a.span.size_shift >= 64
                      ? 0
                      : v.get<C::Address>() & ~((std::uint64_t{1} << a.span.size_shift) - 1);
    return notifier_.invalidate_atc(a) ? queue::command_status::ok
                                       : queue::command_status::atc_incomplete;
  }

  const M& mem_;
  M* writable_ = nullptr;  // set when constructed over writable memory: HTTU writes back
  mutable detail::engine_mutex mutex_;  // guards everything below except notifier_ and ranges_
  walk::smmu_state state_;
  Notifier notifier_;  // called by the thread running execute(), without the mutex
  tlb::range_features ranges_;
  bool sync_waits_;
  cache::config_cache config_;
  iotlb_type iotlb_;
  bool caching_ = true;
  engine_stats stats_{};
  // In-flight translations, in two generations for wait_for_translations().
  std::atomic<unsigned> in_flight_[2] = {0, 0};
  unsigned flight_slot_ = 0;
  std::atomic<bool> drain_waiting_{false};
  std::mutex drain_mutex_;  // one wait_for_translations() at a time
  const std::uint64_t identity_ = detail::new_engine_identity();  // for micro-TLBs
  // Written under the mutex, read without it by micro-TLB hits of every thread: on a cache line
  // of its own, so that the counters the mutexed paths write do not bounce it between cores.
  struct alignas(64) padded_epoch {
    std::atomic<std::uint64_t> value{0};
  };
  padded_epoch epoch_;
  // The decode limits of state_.features: immutable once built, replaced (never modified) by
  // set_state() when the features change, which also advances the generation. Read and replaced
  // under the mutex; a walk that decodes holds its own reference (docs/caches.md).
  detail::shared_limits limits_;
  std::uint64_t limits_generation_ = 0;
};

}  // namespace vsmmu::engine
