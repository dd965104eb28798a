// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/cache/detail/key_index.hpp>
#include <vsmmu/walk/cd_config.hpp>
#include <vsmmu/walk/result.hpp>
#include <vsmmu/walk/ste_config.hpp>
#include <vsmmu/walk/translate.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

// The configuration cache: decoded, validated STEs keyed by StreamID and decoded CDs keyed by
// (StreamID, CD table index), with the invalidation scopes of IHI 0070 §4.3.
//
// What is cached. Only valid configuration (§16.2: a structure that is not valid, or ILLEGAL, is
// not cached): an STE whose decode_ste() succeeded (including Config = abort and bypass), a CD
// whose decode_cd() succeeded. Decoded forms are kept, with the walk plans every translation
// through them would derive (walk::planned_stream_lookup: the stage 2 plan; planned_context_lookup:
// the plan of each enabled TTB range), so a hit costs neither a fetch, a decode nor a plan. The
// plans live and die with their entry: whatever drops an STE or CD drops its plans. L1STDs and
// L1CDs are not cached on their own: a cached STE or CD already stands for the walk that found it,
// so the Leaf parameter of CMD_CFGI_STE / CMD_CFGI_CD changes nothing here.
//
// Keys. A CD is cached under the StreamID whose STE located it (§4.3.3: CDs are local to the
// StreamID) and its index in that STE's CD table: the SubstreamID when the transaction has one,
// else 0 (S1DSS == 0b10 traffic without a SubstreamID uses entry 0), and 0 for a single-CD STE
// (S1CDMax == 0), which is a one-entry table. cd_index() computes it.
//
// Layout. Two fixed pools (capacities chosen by the embedder, allocated by the constructor;
// nothing allocates afterwards), each with an open-addressing index. Every cached CD hangs off
// the cached STE of its StreamID (a CD is cached only while its STE is), so dropping an STE drops
// its CDs by walking that STE's list. Cached STEs are also on one list, so that a StreamID range
// wider than the number of cached STEs is handled by walking the cached ones. Every invalidation
// costs what it matches (plus, for a range, the smaller of its width and the number of cached
// STEs), never the capacity.
//
// Replacement: CLOCK (second chance) within each pool; evicting an STE evicts its CDs.
//
// Not thread-safe: the engine serialises access (docs/caches.md).
namespace vsmmu::cache {

struct config_cache_options {
  std::uint32_t streams = 256;    // STEs
  std::uint32_t contexts = 1024;  // CDs, over all StreamIDs
};

// The CD table index a transaction's CD is fetched from, for an STE that uses stage 1 for it:
// the SubstreamID if one is supplied, else 0 (S1DSS == 0b10 without a SubstreamID, or a single-CD
// STE). The caller has already handled what translate() terminates or bypasses.
[[nodiscard]] constexpr std::uint32_t cd_index(const walk::stream_config& ste,
                                               const walk::transaction& t) noexcept {
  return ste.s1cdmax != 0 && t.ssv ? t.ssid : 0U;
}

// A class template only so that its member functions (and the std::vector members they use) are
// instantiated where they are used, not in every TU that includes the umbrella header. Use
// config_cache.
template <class = void>
class basic_config_cache {
 public:
  explicit basic_config_cache(config_cache_options o = {})
      : streams_(o.streams == 0 ? 1 : o.streams),
        stream_ref_(streams_.size()),
        stream_index_(streams_.size()),
        contexts_(o.contexts == 0 ? 1 : o.contexts),
        context_ref_(contexts_.size()),
        context_index_(contexts_.size()) {
    reset();
  }

  [[nodiscard]] std::uint32_t stream_capacity() const noexcept { return size32(streams_); }
  [[nodiscard]] std::uint32_t context_capacity() const noexcept { return size32(contexts_); }
  [[nodiscard]] std::uint32_t stream_count() const noexcept { return stream_count_; }
  [[nodiscard]] std::uint32_t context_count() const noexcept { return context_count_; }

  // ---- Lookup (marks the entry as recently used). The pointer stays valid until the next
  // non-const call.

  // A cached lookup and the embedder's word stored with it (see insert_stream); lookup is null
  // when nothing is cached.
  template <class Lookup>
  struct found {
    const Lookup* lookup;
    std::uint64_t word;
  };

  // The cached STE with its stage 2 plan, as walk::translate() takes it from a policy (status ok,
  // not illegal).
  [[nodiscard]] found<walk::planned_stream_lookup> find_stream_entry(std::uint32_t sid) noexcept {
    const std::uint32_t id = find_stream_id(sid);
    if (id == detail::npos) return {nullptr, 0};
    stream_ref_[id] = 1;
    return {&streams_[id].lookup, streams_[id].word};
  }
  [[nodiscard]] const walk::planned_stream_lookup* find_stream_lookup(std::uint32_t sid) noexcept {
    return find_stream_entry(sid).lookup;
  }
  [[nodiscard]] const walk::stream_config* find_stream(std::uint32_t sid) noexcept {
    const walk::planned_stream_lookup* l = find_stream_lookup(sid);
    return l != nullptr ? &l->config : nullptr;
  }

  // The cached CD with the plans of its enabled TTB ranges.
  [[nodiscard]] found<walk::planned_context_lookup> find_context_entry(
      std::uint32_t sid, std::uint32_t index) noexcept {
    const std::uint32_t id = find_context_id(sid, index);
    if (id == detail::npos) return {nullptr, 0};
    context_ref_[id] = 1;
    return {&contexts_[id].lookup, contexts_[id].word};
  }
  [[nodiscard]] const walk::planned_context_lookup* find_context_lookup(
      std::uint32_t sid, std::uint32_t index) noexcept {
    return find_context_entry(sid, index).lookup;
  }
  [[nodiscard]] const walk::context_config* find_context(std::uint32_t sid,
                                                         std::uint32_t index) noexcept {
    const walk::planned_context_lookup* l = find_context_lookup(sid, index);
    return l != nullptr ? &l->config : nullptr;
  }

  // Presence without touching replacement state (tests, diagnostics).
  [[nodiscard]] bool contains_stream(std::uint32_t sid) const noexcept {
    return find_stream_id(sid) != detail::npos;
  }
  [[nodiscard]] bool contains_context(std::uint32_t sid, std::uint32_t index) const noexcept {
    return find_context_id(sid, index) != detail::npos;
  }

  // ---- Fill. Callers insert only valid, decoded configuration.

  // Caches the STE of sid, planning its walks. Replacing a cached STE drops the CDs cached through
  // the old one: they were decoded against it.
  void insert_stream(std::uint32_t sid, const walk::stream_config& cfg) noexcept {
    insert_stream(sid, walk::planned_stream_lookup(
                           walk::stream_lookup{walk::ste_fetch_status::ok, 0, false, cfg}));
  }
  // The same with the plans already derived (a walk that decoded the STE planned it): `l` must be
  // a complete lookup (status ok, not illegal) built by planned_stream_lookup's constructor.
  // `word` is the embedder's, kept with the entry and returned by find_stream_entry: something
  // derived from the STE alone (the engine keeps the STE's IOTLB tag there), which lives and dies
  // with the entry as its plans do.
  void insert_stream(std::uint32_t sid, const walk::planned_stream_lookup& l,
                     std::uint64_t word = 0) noexcept {
    std::uint32_t id = find_stream_id(sid);
    if (id != detail::npos) {
      drop_contexts_of(id);
    } else {
      id = take_stream();
      stream_node& n = streams_[id];
      n.sid = sid;
      n.used = true;
      n.cd_head = detail::npos;
      n.cd_count = 0;
      push_live(id);
      stream_index_.insert(sid, id);
      ++stream_count_;
      stream_ref_[id] = 0;  // a new entry earns its second chance
    }
    streams_[id].lookup = l;
    streams_[id].word = word;
  }

  // Caches the CD at `index` of sid's CD table, planning its walks. Refused (false) when sid's STE
  // is not cached: a CD is cached only through a cached STE, so that CMD_CFGI_STE finds it.
  bool insert_context(std::uint32_t sid, std::uint32_t index,
                      const walk::context_config& cfg) noexcept {
    return insert_context(sid, index,
                          walk::planned_context_lookup(
                              walk::context_lookup{walk::cd_locate_status::ok, {}, false, cfg}));
  }
  // The same with the plans already derived: `l` complete (status ok, not illegal) and built by
  // planned_context_lookup's constructor.
  bool insert_context(std::uint32_t sid, std::uint32_t index,
                      const walk::planned_context_lookup& l) noexcept {
    return insert_context(sid, index, l, [](const walk::stream_config&) { return 0; });
  }
  // The same with the embedder's word returned by find_context_entry: word_of(stream_config)
  // computes it from the STE the CD is cached through (the cached one, whatever the caller
  // decoded the CD against), since a CD is cached only while that STE is: the engine keeps the
  // IOTLB tag of the CD's ASID and the STE's VMID there.
  template <class WordOf>
  bool insert_context(std::uint32_t sid, std::uint32_t index,
                      const walk::planned_context_lookup& l, WordOf&& word_of) noexcept {
    const std::uint32_t parent = find_stream_id(sid);
    if (parent == detail::npos) return false;
    std::uint32_t id = find_context_id(sid, index);
    if (id == detail::npos) {
      id = take_context();
      context_node& n = contexts_[id];
      n.key = context_key(sid, index);
      n.used = true;
      n.stream = parent;
      stream_node& s = streams_[parent];
      n.prev = detail::npos;
      n.next = s.cd_head;
      if (s.cd_head != detail::npos) contexts_[s.cd_head].prev = id;
      s.cd_head = id;
      ++s.cd_count;
      context_index_.insert(n.key, id);
      ++context_count_;
      context_ref_[id] = 0;
    }
    contexts_[id].lookup = l;
    contexts_[id].word = static_cast<std::uint64_t>(word_of(streams_[parent].lookup.config));
    return true;
  }

  // ---- Invalidation (IHI 0070 §4.3). The model has one (Non-secure) Stream table: SSec is the
  // command queue's business.

  // CMD_CFGI_STE (§4.3.1): the STE of sid and every CD (and L1CD) cached through it; Leaf
  // changes nothing (no L1STD is cached apart from the STE).
  void invalidate_ste(std::uint32_t sid) noexcept {
    if (const std::uint32_t id = find_stream_id(sid); id != detail::npos) drop_stream(id);
  }

  // CMD_CFGI_STE_RANGE (§4.3.2): the 2^(Range+1) StreamIDs of the aligned range holding sid
  // (the bottom Range+1 bits of sid are IGNORED), with their CDs. Range == 31 is CMD_CFGI_ALL.
  void invalidate_ste_range(std::uint32_t sid, unsigned range) noexcept {
    if (range >= 31) {
      invalidate_all();
      return;
    }
    const std::uint64_t width = std::uint64_t{1} << (range + 1);
    const std::uint64_t base = sid & ~(width - 1);
    if (width <= stream_count_) {
      for (std::uint64_t s = base; s < base + width && stream_count_ != 0; ++s) {
        invalidate_ste(static_cast<std::uint32_t>(s));
      }
      return;
    }
    for (std::uint32_t id = live_head_; id != detail::npos;) {
      const std::uint32_t next = streams_[id].next;
      if ((streams_[id].sid & ~(width - 1)) == base) drop_stream(id);
      id = next;
    }
  }

  // CMD_CFGI_ALL (§4.3.6): every STE and CD.
  void invalidate_all() noexcept {
    while (live_head_ != detail::npos) drop_stream(live_head_);
  }

  // CMD_CFGI_CD (§4.3.3): exactly the CD cached from index `ssid` of sid's CD table (index 0 is
  // also the CD that S1DSS == 0b10 traffic without a SubstreamID uses, and a single-CD STE's).
  // An out-of-range SubstreamID matches nothing (§4.1.7 permits no effect). Leaf changes nothing.
  void invalidate_cd(std::uint32_t sid, std::uint32_t ssid) noexcept {
    if (const std::uint32_t id = find_context_id(sid, ssid); id != detail::npos) drop_context(id);
  }

  // CMD_CFGI_CD_ALL (§4.3.4): every CD (and L1CD) cached through sid; the STE stays.
  void invalidate_cd_all(std::uint32_t sid) noexcept {
    if (const std::uint32_t id = find_stream_id(sid); id != detail::npos) drop_contexts_of(id);
  }

 private:
  struct stream_node {
    std::uint32_t sid = 0;
    bool used = false;
    std::uint32_t cd_head = detail::npos;  // this STE's cached CDs
    std::uint32_t cd_count = 0;
    std::uint32_t prev = detail::npos;  // live list, or the free list (next only)
    std::uint32_t next = detail::npos;
    std::uint64_t word = 0;  // the embedder's (insert_stream)
    walk::planned_stream_lookup lookup{};
  };

  struct context_node {
    std::uint64_t key = 0;  // StreamID << 32 | index
    bool used = false;
    std::uint32_t stream = detail::npos;  // the STE node it was cached through
    std::uint32_t prev = detail::npos;    // in that STE's list, or the free list (next only)
    std::uint32_t next = detail::npos;
    std::uint64_t word = 0;  // the embedder's (insert_context)
    walk::planned_context_lookup lookup{};
  };

  template <class V>
  [[nodiscard]] static std::uint32_t size32(const V& v) noexcept {
    return static_cast<std::uint32_t>(v.size());
  }

  [[nodiscard]] static constexpr std::uint64_t context_key(std::uint32_t sid,
                                                           std::uint32_t index) noexcept {
    return (std::uint64_t{sid} << 32) | index;
  }

  [[nodiscard]] std::uint32_t find_stream_id(std::uint32_t sid) const noexcept {
    return stream_index_.find(sid);
  }
  [[nodiscard]] std::uint32_t find_context_id(std::uint32_t sid,
                                              std::uint32_t index) const noexcept {
    return context_index_.find(context_key(sid, index));
  }

  void push_live(std::uint32_t id) noexcept {
    stream_node& n = streams_[id];
    n.prev = detail::npos;
    n.next = live_head_;
    if (live_head_ != detail::npos) streams_[live_head_].prev = id;
    live_head_ = id;
  }

  void drop_context(std::uint32_t id) noexcept {
    context_node& n = contexts_[id];
    stream_node& s = streams_[n.stream];
    if (n.prev != detail::npos) {
      contexts_[n.prev].next = n.next;
    } else {
      s.cd_head = n.next;
    }
    if (n.next != detail::npos) contexts_[n.next].prev = n.prev;
    --s.cd_count;
    context_index_.erase(n.key, id);
    n.used = false;
    n.stream = detail::npos;
    n.prev = detail::npos;
    n.next = free_context_;
    free_context_ = id;
    --context_count_;
  }

  void drop_contexts_of(std::uint32_t stream_id) noexcept {
    while (streams_[stream_id].cd_head != detail::npos) drop_context(streams_[stream_id].cd_head);
  }

  void drop_stream(std::uint32_t id) noexcept {
    drop_contexts_of(id);
    stream_node& n = streams_[id];
    if (n.prev != detail::npos) {
      streams_[n.prev].next = n.next;
    } else {
      live_head_ = n.next;
    }
    if (n.next != detail::npos) streams_[n.next].prev = n.prev;
    stream_index_.erase(n.sid, id);
    n.used = false;
    n.prev = detail::npos;
    n.next = free_stream_;
    free_stream_ = id;
    --stream_count_;
  }

  // A free node, evicting one (CLOCK) when none is free.
  std::uint32_t take_stream() noexcept {
    if (free_stream_ == detail::npos) {
      // Every node is used; at most two turns of the hand find one without a second chance.
      for (;;) {
        const std::uint32_t id = stream_hand_;
        stream_hand_ = stream_hand_ + 1 == streams_.size() ? 0 : stream_hand_ + 1;
        if (stream_ref_[id] != 0) {
          stream_ref_[id] = 0;
          continue;
        }
        drop_stream(id);
        break;
      }
    }
    const std::uint32_t id = free_stream_;
    free_stream_ = streams_[id].next;
    return id;
  }

  std::uint32_t take_context() noexcept {
    if (free_context_ == detail::npos) {
      for (;;) {
        const std::uint32_t id = context_hand_;
        context_hand_ = context_hand_ + 1 == contexts_.size() ? 0 : context_hand_ + 1;
        if (context_ref_[id] != 0) {
          context_ref_[id] = 0;
          continue;
        }
        drop_context(id);
        break;
      }
    }
    const std::uint32_t id = free_context_;
    free_context_ = contexts_[id].next;
    return id;
  }

  void reset() noexcept {
    for (std::uint32_t i = 0; i < streams_.size(); ++i) {
      streams_[i] = stream_node{};
      streams_[i].next = i + 1 == streams_.size() ? detail::npos : i + 1;
      stream_ref_[i] = 0;
    }
    for (std::uint32_t i = 0; i < contexts_.size(); ++i) {
      contexts_[i] = context_node{};
      contexts_[i].next = i + 1 == contexts_.size() ? detail::npos : i + 1;
      context_ref_[i] = 0;
    }
    free_stream_ = free_context_ = 0;
    live_head_ = detail::npos;
    stream_hand_ = context_hand_ = 0;
    stream_count_ = context_count_ = 0;
    stream_index_.clear();
    context_index_.clear();
  }

  std::vector<stream_node> streams_;
  std::vector<std::uint8_t> stream_ref_;
  detail::key_index stream_index_;
  std::vector<context_node> contexts_;
  std::vector<std::uint8_t> context_ref_;
  detail::key_index context_index_;
  std::uint32_t free_stream_ = 0;
  std::uint32_t free_context_ = 0;
  std::uint32_t live_head_ = detail::npos;
  std::uint32_t stream_hand_ = 0;
  std::uint32_t context_hand_ = 0;
  std::uint32_t stream_count_ = 0;
  std::uint32_t context_count_ = 0;
};

using config_cache = basic_config_cache<>;

}  // namespace vsmmu::cache
