// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/walk/cd_config.hpp>
#include <vsmmu/walk/detail/usual_nested.hpp>
#include <vsmmu/walk/fault.hpp>
#include <vsmmu/walk/result.hpp>
#include <vsmmu/walk/smmu_features.hpp>
#include <vsmmu/walk/stage1.hpp>
#include <vsmmu/walk/stage2.hpp>
#include <vsmmu/walk/ste_config.hpp>
#include <vsmmu/walk/stream_table.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

// The whole translation of one transaction (IHI 0070 §3.3 steps 1-4): global bypass, Stream
// table, STE, SubstreamID and S1DSS, CD (through stage 2 when nested), stage 1, stage 2, and the
// event the architecture records when any of it fails. Generic over the memory adapter and
// usable in constant evaluation.
//
// A policy is the seam through which translate() obtains configuration and leaf translations:
// `uncached` fetches and decodes the STE and CD on every transaction and caches nothing; an
// engine puts a configuration cache and an IOTLB behind the same four calls, so that the
// translation sequence (and the fault every step produces) exists once.
namespace vsmmu::walk {

// The STE of a StreamID, found and decoded.
struct stream_lookup {
  ste_fetch_status status = ste_fetch_status::ok;
  std::uint64_t fetch_addr = 0;  // F_STE_FETCH address (status == fetch_abort)
  bool illegal = false;          // C_BAD_STE
  stream_config config{};
};

// The CD at a CD index, found and decoded.
struct context_lookup {
  cd_locate_status status = cd_locate_status::ok;
  fault_info fault{};    // status == fault: F_CD_FETCH, or the stage 2 fault (CLASS == CD)
  bool illegal = false;  // C_BAD_CD
  context_config config{};
};

// A lookup with what every translation through it would derive from its configuration derived
// once: the walk plans. What a policy that keeps lookups (a configuration cache) returns by const
// reference, so that a translation through it neither copies the configuration nor plans its
// walks. Build it from the complete lookup: the plans are those of its configuration.
struct planned_stream_lookup : stream_lookup {
  s2_plan stage2_plan{};  // s2_plan(config.s2) when stage 2 is enabled

  constexpr planned_stream_lookup() noexcept = default;
  constexpr explicit planned_stream_lookup(const stream_lookup& l) noexcept
      : stream_lookup(l), stage2_plan(l.config.s2_enabled() ? s2_plan(l.config.s2) : s2_plan{}) {}
};

struct planned_context_lookup : context_lookup {
  // walk_plan(config.tt[i].walk) for each enabled range i (a disabled range is never walked)
  vmsa::walk_plan tt_plans[2]{};

  constexpr planned_context_lookup() noexcept = default;
  // Each plan initialised once (not zeroed, then overwritten).
  constexpr explicit planned_context_lookup(const context_lookup& l) noexcept
      : context_lookup(l), tt_plans{plan_of(l.config.tt[0]), plan_of(l.config.tt[1])} {}

 private:
  [[nodiscard, gnu::always_inline]] static constexpr vmsa::walk_plan plan_of(
      const tt_range& r) noexcept {
    return r.enabled ? vmsa::walk_plan(r.walk) : vmsa::walk_plan{};
  }
};

// What tags a cached leaf translation (tlb::context maps from it).
struct leaf_key {
  bool s1 = false, s2 = false;  // stages that applied
  std::uint16_t asid = 0, vmid = 0;
  std::uint32_t sid = 0;  // for policies that want it; the IOTLB ignores it
  bool el2 = false;       // stage 1 in the NS-EL2 StreamWorld (tlb::regime::ns_el2); ASID is 0
};

// A cached leaf translation applied to one input address. The policy fills `xlat` as the walk
// would have: output_address and ipa for this input address, size_shift, the perm_set of each
// stage, the dbm_clean flags and the attributes; translate() derives `xlat.perm` for the
// transaction's privilege itself. Returned by value: an IOTLB entry covers a block, so a pointer
// to a stored translation could not carry the output for this address.
struct leaf_hit {
  bool hit = false;
  translation xlat{};
};

namespace detail {
// A structure_pa as translate() passes it, for the concept below.
struct structure_pa_archetype {
  or_fault<std::uint64_t> operator()(std::uint64_t) const noexcept;
};
}  // namespace detail

// A lookup as a policy returns it: a stream_lookup / context_lookup by value, or by const
// reference one the policy keeps, plain or planned (valid until the policy's next call).
template <class R, class L, class Planned>
concept lookup_return =
    std::same_as<R, L> || std::same_as<R, const L&> || std::same_as<R, const Planned&>;

// A policy P for memory M.
//   p.stream(mem, st, sid)                         the STE of sid, fetched and decoded
//   p.context(mem, st, ste, sid, cd_index, to_pa)  the CD at cd_index (0 without substreams);
//                                                  to_pa maps CD table IPAs to PAs
//     each by value, or by const reference to a lookup the policy keeps (no copy per
//     translation); a planned_*_lookup also spares the translation its walk plans
//   p.find_leaf(key, input_address, out) -> bool   a cached leaf written into `out` (the
//                                                  result's own translation: no copy), or false;
//     or p.find_leaf(key, input_address) -> leaf_hit, the older by-value form
//   p.record_leaf(key, input_address, xlat)        a successful walk, to cache
// A policy may declare `static constexpr bool caches_leaves = false;`: translate() then never
// calls find_leaf/record_leaf (the uncached path carries no trace of them).
template <class P>
concept fills_leaf_in_place = requires(P& p, const leaf_key& k, std::uint64_t a, translation& o) {
  { p.find_leaf(k, a, o) } -> std::same_as<bool>;
};

template <class P>
concept finds_leaf_by_value = requires(P& p, const leaf_key& k, std::uint64_t a) {
  { p.find_leaf(k, a) } -> std::same_as<leaf_hit>;
};

template <class P, class M>
concept translation_policy = memory::readable_memory<M> &&
    requires(P& p, const M& m, const smmu_state& st, const stream_config& ste, std::uint32_t id,
             detail::structure_pa_archetype to_pa, const leaf_key& k, std::uint64_t a,
             const translation& x) {
  { p.stream(m, st, id) } -> lookup_return<stream_lookup, planned_stream_lookup>;
  { p.context(m, st, ste, id, id, to_pa) } -> lookup_return<context_lookup, planned_context_lookup>;
  p.record_leaf(k, a, x);
} &&(fills_leaf_in_place<P> || finds_leaf_by_value<P>);

// Fetch and decode every time; no leaf cache.
struct uncached {
  static constexpr bool caches_leaves = false;

  // Limits derived once from the same features as the smmu_state's (an engine keeps one per
  // register state): the decoders' fast path. Without them the features are read rule by rule
  // (building decode_limits for one translation would cost more than it saves).
  const decode_limits* limits = nullptr;

  template <memory::readable_memory M>
  [[nodiscard, gnu::always_inline]] constexpr stream_lookup stream(
      const M& mem, const smmu_state& st, std::uint32_t sid) const noexcept {
    // Located, read and decoded in place: each path builds its result where it returns, the
    // fast path's from the words of its decode.
    const detail::ste_location at = detail::locate_ste(mem, st.features, st.strtab, sid);
    if (at.status != ste_fetch_status::ok) return {at.status, at.addr, false, stream_config{}};
    detail::ste_words ste;  // written whole by read_ste_words before any use
    if (!detail::read_ste_words(mem, at.addr, st.features.oas_bits(), ste)) {
      return {ste_fetch_status::fetch_abort,
              detail::ste_fetch_addr(at.addr, st.features.oas_bits()), false, stream_config{}};
    }
    detail::stream_words w;
    if (limits != nullptr && detail::ste_fast_words(ste, *limits, w)) {
      return {ste_fetch_status::ok, 0, false, stream_config(w)};
    }
    stream_lookup out;
    out.illegal = (limits != nullptr
                       ? detail::decode_ste_rules(ste.value(), *limits, out.config)
                       : decode_ste_into(ste.value(), st.features, out.config)) != ste_error::none;
    return out;
  }

  template <memory::readable_memory M, class StructurePa>
  [[nodiscard]] constexpr context_lookup context(const M& mem, const smmu_state& st,
                                                 const stream_config& ste, std::uint32_t /*sid*/,
                                                 std::uint32_t cd_index,
                                                 StructurePa&& structure_pa) const noexcept {
    // The words stay where they are read, decoded from there (no cd_fetch copied: its fault_info
    // came back as 16-byte loads of smaller stores, which do not forward).
    detail::cd_storage words;  // whole when the status is ok
    fault_info fault;          // set when the status is fault
    const cd_locate_status status =
        detail::fetch_cd_words(mem, ste, st.features, cd_index, structure_pa, words, fault);
    if (status != cd_locate_status::ok) return context_failed(status, fault);
    const detail::cd_words_ref raw{words};
    detail::context_words w;  // the fast path's decode: built in place, once
    if (limits != nullptr && detail::cd_fast_words(raw, ste, *limits, w)) {
      return {cd_locate_status::ok, fault_info{}, false, context_config(w)};
    }
    return context_by_rules(raw, ste, st.features);
  }

  [[nodiscard]] constexpr leaf_hit find_leaf(const leaf_key&, std::uint64_t) const noexcept {
    return {};
  }
  constexpr void record_leaf(const leaf_key&, std::uint64_t, const translation&) const noexcept {}

 private:
  [[nodiscard, gnu::cold, gnu::noinline]] static constexpr context_lookup context_failed(
      cd_locate_status status, const fault_info& fault) noexcept {
    context_lookup out;
    out.status = status;
    out.fault = fault;
    return out;
  }
  // A CD the fast path does not take (or no limits): the rule-by-rule decoder, which names the
  // error of an ILLEGAL one.
  [[nodiscard, gnu::noinline]] constexpr context_lookup context_by_rules(
      const detail::cd_words_ref& raw, const stream_config& ste,
      const smmu_features& f) const noexcept {
    context_lookup out;  // built in place
    out.illegal = (limits != nullptr ? detail::decode_cd(raw, ste, *limits, out.config)
                                     : detail::decode_cd(raw, ste, detail::live_limits(f),
                                                         out.config)) != cd_error::none;
    return out;
  }
};

namespace detail {
[[nodiscard]] constexpr or_fault<std::uint64_t> identity_pa(std::uint64_t a) noexcept {
  return {a, {}, false};
}

// InD/PnU after STE.INSTCFG / STE.PRIVCFG (§5.2); InD is 0 for writes (§13.1.2).
[[nodiscard]] constexpr event_attrs effective_attrs(const transaction& t,
                                                    const stream_config* c) noexcept {
  event_attrs a{t.is_read(), t.is_instruction(), t.privileged};
  if (c != nullptr) {
    if (c->privcfg == 0b10) a.pnu = false;
    if (c->privcfg == 0b11) a.pnu = true;
    if (c->instcfg == 0b10) a.ind = false;
    if (c->instcfg == 0b11) a.ind = true;
  }
  if (!a.rnw) a.ind = false;
  return a;
}

// Which CD a transaction uses (§5.2 S1DSS, §7.3.9): a SubstreamID needs stage 1 with
// substreams enabled and in range (else C_BAD_SUBSTREAMID); without one, S1DSS terminates
// (F_STREAM_DISABLED), bypasses stage 1, or selects CD 0; SubstreamID 0 under S1DSS == 0b10 is
// F_STREAM_DISABLED. Shared by translate() and caches' hit paths, so that both decide alike.
struct cd_selection {
  bool faulted = false;
  smmuv3::evt::type fault = smmuv3::evt::type::c_bad_substreamid;
  bool use_s1 = false;
  std::uint32_t ssid = 0;  // the CD index
};
[[nodiscard, gnu::always_inline]] constexpr cd_selection select_cd(
    const transaction& t, const stream_config& cfg) noexcept {
  cd_selection out;
  if (t.ssv && (!cfg.s1() || cfg.s1cdmax == 0 ||
                std::uint64_t{t.ssid} >= (std::uint64_t{1} << cfg.s1cdmax))) {
    out.faulted = true;
    return out;
  }
  out.use_s1 = cfg.s1();
  if (out.use_s1 && cfg.s1cdmax != 0) {
    if (!t.ssv) {
      if (cfg.s1dss == smmuv3::s1_dss::terminate) {
        out.faulted = true;
        out.fault = smmuv3::evt::type::f_stream_disabled;
        return out;
      }
      if (cfg.s1dss == smmuv3::s1_dss::bypass) out.use_s1 = false;
    } else {
      if (cfg.s1dss == smmuv3::s1_dss::substream0 && t.ssid == 0) {
        out.faulted = true;
        out.fault = smmuv3::evt::type::f_stream_disabled;
        return out;
      }
      out.ssid = t.ssid;
    }
  }
  return out;
}

// Whether a cached leaf in `x` may answer an access with attributes `a`: its permissions allow
// it, and a write does not need the dirty state recorded first (HTTU, §3.13). When it may, sets
// x.perm to the access's privilege's share. Anything else walks, which yields the architected
// fault or the update.
[[nodiscard]] constexpr bool accept_leaf(const event_attrs& a, translation& x) noexcept {
  const unsigned granted = x.s1_perm_set & x.s2_perm_set;
  if ((granted & perm_set::needed(a.rnw, a.ind, a.pnu)) == 0) return false;
  if (!a.rnw && (x.s1_dbm_clean || x.s2_dbm_clean)) return false;
  x.perm = permissions_of(granted, a.pnu);
  return true;
}

[[nodiscard]] constexpr unsigned s2_bits(const permissions& p) noexcept {
  return (p.r ? 1U : 0U) | (p.w ? 2U : 0U) | (p.x ? 4U : 0U);
}

// HTTU write-back happens only through a non-const adapter that can write (guest_memory).
template <class Mem>
inline constexpr bool writes_back =
    !std::is_const_v<Mem> && memory::guest_memory<std::remove_const_t<Mem>>;

// A descriptor update that keeps meeting a changed descriptor gives up after this many walks
// (each one re-reads the descriptor), so that a hostile concurrent writer cannot keep the
// translation in a loop: the update is then reported as an external abort on the walk.
inline constexpr unsigned max_update_attempts = 4;

enum class update_status : std::uint8_t { done, changed, abort };

// Replaces the descriptor at `pa` by `desired` only if it still holds `expected` (both as the
// walk sees them, before ENDI). With an adapter that has compare_exchange64(pa, expected,
// desired) -> read_result (the value found; exchanged when it equals `expected`) the update is
// that one atomic operation; otherwise it is a read, a compare and a write, atomic as long as
// nothing else writes guest memory between them (true of a single-threaded embedder).
template <class Mem>
[[nodiscard]] constexpr update_status swap_descriptor(Mem& mem, std::uint64_t pa,
                                                      std::uint64_t expected, std::uint64_t desired,
                                                      bool big_endian) noexcept {
  const std::uint64_t e = big_endian ? vmsa::byteswap64(expected) : expected;
  const std::uint64_t d = big_endian ? vmsa::byteswap64(desired) : desired;
  if constexpr (requires {
                  { mem.compare_exchange64(pa, e, d) } -> std::same_as<memory::read_result>;
                }) {
    const memory::read_result found = mem.compare_exchange64(pa, e, d);
    if (!found.ok()) return update_status::abort;
    return found.value == e ? update_status::done : update_status::changed;
  } else {
    const memory::read_result found = mem.read64(pa);
    if (!found.ok()) return update_status::abort;
    if (found.value != e) return update_status::changed;
    return mem.write64(pa, d) == memory::access_status::ok ? update_status::done
                                                           : update_status::abort;
  }
}

// The stage 2 plan of a translation: the planned lookup's, or the one it derived.
[[nodiscard]] constexpr const s2_plan& stage2_plan_of(const planned_stream_lookup& l,
                                                      const s2_plan&) noexcept {
  return l.stage2_plan;
}
[[nodiscard]] constexpr const s2_plan& stage2_plan_of(const stream_lookup&,
                                                      const s2_plan& own) noexcept {
  return own;
}
// The stage 1 plans of a planned lookup; nullptr (a type of its own): the walk derives its own.
[[nodiscard]] constexpr const vmsa::walk_plan* tt_plans_of(
    const planned_context_lookup& l) noexcept {
  return l.tt_plans;
}
[[nodiscard]] constexpr std::nullptr_t tt_plans_of(const context_lookup&) noexcept {
  return nullptr;
}

template <class P>
inline constexpr bool caches_leaves = true;
template <class P>
requires requires { P::caches_leaves; }
inline constexpr bool caches_leaves<P> = P::caches_leaves;
}  // namespace detail

namespace detail {
// translate() for memory `Mem`: const (read only) or a writable adapter (HTTU write-back).
// WalkCache false: every stage 2 lookup walks from the start level (the reference the walk
// cache is tested against; the results are the same, only the reads differ).
template <class Mem, class P, bool WalkCache = true>
[[nodiscard]] constexpr result translate(Mem& mem, const smmu_state& st, const transaction& t,
                                         P& policy) noexcept {
  using enum smmuv3::evt::type;
  constexpr bool httu_writes = writes_back<Mem>;
  // Every path returns `r` itself, so that the result is built in place (a copy of a struct
  // written field by field costs store-forwarding stalls on the hot path).
  result r;
  const smmu_features& f = st.features;
  // A fault outside A/R/S: aborts and records.
  auto fault = [&r](const transaction& tx, smmuv3::evt::type type, const event_attrs& a,
                    std::uint64_t fetch = 0) {
    fault_info fi;
    fi.type = type;
    fi.fetch_addr = fetch;
    r = fault_result(tx, fi, a, nullptr);
  };

  // Step 1: SMMU disabled. GBPA.ABORT, or an address beyond the OAS, aborts silently (§3.4).
  if (!st.smmuen) {
    if (st.gbpa_abort || (t.address >> f.oas_bits()) != 0) {
      r = silent_abort();
    } else {
      r.kind = outcome::bypass;
      r.xlat.output_address = t.address;
      r.xlat.ipa = t.address;
    }
    return r;
  }

  // Built only where a fault needs them (a walk that succeeds never does).
  auto incoming = [&t] { return detail::effective_attrs(t, nullptr); };
  // By value (elided into this variable) or a reference to the policy's own.
  decltype(auto) ste = policy.stream(mem, st, t.sid);
  if (ste.status == ste_fetch_status::bad_streamid) {
    if (st.recinvsid) {
      fault(t, c_bad_streamid, incoming());
    } else {
      r = silent_abort();
    }
    return r;
  }
  if (ste.status == ste_fetch_status::fetch_abort) {
    fault(t, f_ste_fetch, incoming(), ste.fetch_addr);
    return r;
  }
  if (ste.illegal) {
    fault(t, c_bad_ste, incoming());
    return r;
  }
  const stream_config& cfg = ste.config;
  if (cfg.mode == stream_mode::abort) {  // Config abort records nothing
    r = silent_abort();
    return r;
  }

  const event_attrs attrs = detail::effective_attrs(t, &cfg);
  const cd_selection sel = detail::select_cd(t, cfg);
  if (sel.faulted) {
    fault(t, sel.fault, attrs);
    return r;
  }
  const bool use_s1 = sel.use_s1;
  const std::uint32_t ssid = sel.ssid;

  translation& x = r.xlat;
  x.s1_enabled = use_s1;
  x.s2_enabled = cfg.s2_enabled();
  x.vmid = cfg.s2.vmid;

  auto s2_policy = [&cfg] { return fault_policy{true, cfg.s2.r, cfg.s2.s}; };
  const bool s2_on = cfg.s2_enabled();
  // Derived once (or kept with the lookup): every stage 2 lookup of this translation (the CD,
  // each stage 1 table descriptor, the output) shares it, and the walk cache of its tables.
  constexpr bool planned_ste =
      std::is_same_v<std::remove_cvref_t<decltype(ste)>, planned_stream_lookup>;
  const s2_plan own_s2p = !planned_ste && s2_on ? s2_plan(cfg.s2) : s2_plan{};
  const s2_plan& s2p = detail::stage2_plan_of(ste, own_s2p);
  std::conditional_t<WalkCache, vmsa::walk_cache, vmsa::no_walk_cache> s2_walks;
  // Stage 2 of an IPA into `out` (false with `f` filled on a fault); with write-back, the
  // access sets AF and a write dirties a writable-clean descriptor (never for a CD or L1CD
  // fetch, §3.13.3), retrying when the descriptor changed under the update.
  // `wc`: s2_walks, or a no_walk_cache where it cannot help (a lone stage 2 lookup).
  // `Structure`: a structure read (the CD, a stage 1 table descriptor), which needs only the PA
  // (and the HTTU fields); false for the input and for a stage 1 descriptor update (a write).
  auto stage2 = [&]<bool Structure>(std::bool_constant<Structure>, std::uint64_t ipa, bool write,
                                    bool exec, smmuv3::evt::fault_class cls, s2_leaf& out,
                                    fault_info& f, auto& wc) {
    const s2_access acc{write, exec, cls};
    if constexpr (!httu_writes) {
      // Called directly: a closure of eight references built per lookup cost as much as the
      // walk cache's leaf path.
      if constexpr (Structure) {
        return detail::s2_structure_lookup(mem, s2p, ipa, acc, out, f, wc);
      } else {
        return detail::s2_lookup_bits48_inline<false>(mem, s2p, ipa, acc, out, f, wc);
      }
    } else {
      auto lookup = [&] {
        if constexpr (Structure) {
          return detail::s2_structure_lookup(mem, s2p, ipa, acc, out, f, wc);
        } else {
          return detail::s2_lookup<false>(mem, s2p, ipa, acc, out, f, wc);
        }
      };
      bool ok = lookup();
      for (unsigned attempt = 1; ok; ++attempt) {
        const std::uint64_t d = out.descriptor;
        std::uint64_t nd = out.af_update ? d | vmsa::desc_af : d;
        const bool dirty = write && out.dbm_clean && cls != smmuv3::evt::fault_class::cd;
        if (dirty) nd |= vmsa::desc_s2ap1 | vmsa::desc_af;
        if (nd == d) break;
        const update_status u =
            swap_descriptor(mem, out.descriptor_pa, d, nd, cfg.s2.walk.big_endian);
        if (u == update_status::done) {
          if (dirty) out.dbm_clean = false;
          break;
        }
        if (u == update_status::abort || attempt == max_update_attempts) {
          const std::uint64_t at = out.descriptor_pa;
          f = fault_info{};
          f.type = f_walk_eabt;
          f.s2 = true;
          f.cls = cls;
          f.ipa = ipa;
          f.fetch_addr = at;
          return false;
        }
        out = s2_leaf{};
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(wc)>, vmsa::walk_cache>) {
          wc.clear();  // a retry reads every level again
        }
        ok = lookup();
      }
      return ok;
    }
  };
  // The CD (and L1CD) address: an IPA translated by stage 2 when it is enabled.
  auto cd_pa = [&](std::uint64_t a) -> or_fault<std::uint64_t> {
    or_fault<std::uint64_t> o;
    o.value = a;
    if (s2_on) {
      s2_leaf l;
      o.failed = !stage2(std::true_type{}, a, false, false, smmuv3::evt::fault_class::cd, l,
                         o.fault, s2_walks);
      o.value = o.failed ? 0 : l.pa;
    }
    return o;
  };

  leaf_key key;
  key.s1 = use_s1;
  key.s2 = cfg.s2_enabled();
  key.vmid = cfg.s2.vmid;
  key.sid = t.sid;
  key.el2 = use_s1 && cfg.el2;
  // A cached leaf answers only an access its permissions allow, and a write only once the
  // dirty state is recorded (accept_leaf); anything else walks, which yields the architected
  // fault.
  auto cached = [&]() {
    using policy_type = std::remove_const_t<P>;
    if constexpr (!detail::caches_leaves<policy_type>) {
      return false;
    } else if constexpr (fills_leaf_in_place<P>) {
      if (!policy.find_leaf(key, t.address, x)) return false;
      if (!detail::accept_leaf(attrs, x)) {
        x = translation{};  // the walk starts from a clean translation
        x.s1_enabled = key.s1;
        x.s2_enabled = key.s2;
        x.vmid = key.vmid;
        return false;
      }
      r.kind = outcome::translated;
      return true;
    } else {
      leaf_hit hit = policy.find_leaf(key, t.address);
      if (!hit.hit || !detail::accept_leaf(attrs, hit.xlat)) return false;
      r.kind = outcome::translated;
      x = hit.xlat;
      x.s1_enabled = key.s1;
      x.s2_enabled = key.s2;
      x.vmid = key.vmid;
      return true;
    }
  };

  std::uint64_t ipa = t.address;
  bool both_stages = false;  // detail::nested_usual walked stage 1 and the output's stage 2
  if (cfg.mode == stream_mode::bypass || !use_s1) {
    // Stage 1 bypassed: the input must fit the OAS (Config bypass) or IAS (§3.4); the
    // resulting F_ADDR_SIZE is stage 1, CLASS == IN, and always aborts and records.
    const unsigned limit = cfg.mode == stream_mode::bypass ? f.oas_bits() : f.ias_bits();
    if ((t.address >> limit) != 0) {
      fault(t, f_addr_size, attrs);
      return r;
    }
    if (cfg.mode == stream_mode::bypass || !cfg.s2_enabled()) {
      r.kind = outcome::bypass;
      x.output_address = t.address;
      x.ipa = t.address;
      return r;
    }
    if (cached()) return r;
  } else {
    decltype(auto) cdf = policy.context(mem, st, cfg, t.sid, ssid, cd_pa);
    if (cdf.status == cd_locate_status::bad_substreamid) {
      transaction used = t;  // the record carries the SubstreamID used: 0 under S1DSS == 0b10
      used.ssid = ssid;
      used.ssv = true;
      fault(used, c_bad_substreamid, attrs);
      return r;
    }
    if (cdf.status == cd_locate_status::fault) {
      const fault_policy s2p_policy = s2_policy();
      r = fault_result(t, cdf.fault, attrs, cdf.fault.s2 ? &s2p_policy : nullptr);
      return r;
    }
    if (cdf.illegal) {
      fault(t, c_bad_cd, attrs);
      return r;
    }
    const context_config& c = cdf.config;
    key.asid = c.asid;
    if (cached()) return r;
    // Both privileges' permissions, cached or not: results do not depend on the policy.
    const s1_request req{t.address, !attrs.rnw, attrs.ind, attrs.pnu, true};
    detail::s1_update s1u;  // the leaf itself goes straight into `x`
    fault_info s1f;
    // Stage 1 table addresses: IPAs translated by stage 2 (CLASS TT) when it is enabled; its
    // fault is the stage 1 walk's.
    s2_leaf table_s2;  // one for every table descriptor: a structure lookup sets only .pa
    // The lookups whose level 3 table the walk cache holds (all but the first, usually) take the
    // leaf path here, inline in the stage 1 walk: through `stage2` (a call) it cost twice as much.
    // Forced inline (GNU syntax: the standard one would apply to the type): a call per level
    // costs as much as the lookup.
    auto tt_pa = [&](std::uint64_t at) __attribute__((always_inline)) {
      bool ok;
      if constexpr (WalkCache) {
        if (detail::s2_leaf_cached(s2p, s2_walks, at)) {
          ok = detail::s2_structure_leaf(
              mem, s2p, at, s2_access{false, false, smmuv3::evt::fault_class::tt}, table_s2, s1f,
              s2_walks.table[4], s2_walks.deepest_shift);
          return vmsa::table_address{table_s2.pa, ok};
        }
      }
      ok = stage2(std::true_type{}, at, false, false, smmuv3::evt::fault_class::tt, table_s2, s1f,
                  s2_walks);
      return vmsa::table_address{table_s2.pa, ok};
    };
    // Without stage 2 the walk has no call per level (identity_pa inlines to nothing).
    const auto s1_plans = detail::tt_plans_of(cdf);
    auto s1_walk = [&] {
      if (!s2_on) return detail::s1_lookup(mem, c, req, vmsa::identity_pa{}, x, s1u, s1f, s1_plans);
      if constexpr (WalkCache && !httu_writes) {
        // Memory only read: the stage 1 walk and its stage 2 lookups in one (s2_tables::walk).
        return detail::s1_lookup(
            mem, c, req, detail::s2_tables<std::remove_const_t<Mem>>{mem, s2p, s2_walks, s1f}, x,
            s1u, s1f, s1_plans);
      } else {
        return detail::s1_lookup(mem, c, req, tt_pa, x, s1u, s1f, s1_plans);
      }
    };
    // The usual nested configuration: both stages at once where the walk ends in a translation
    // (else the general walk below, which names the fault).
    if constexpr (WalkCache && !httu_writes) {
      both_stages = s2_on && detail::nested_usual(mem, c, s1_plans, s2p,
                                                  cfg.s2.walk.granule_shift, s2_walks, req, x);
    }
    bool s1_ok = both_stages || s1_walk();
    if constexpr (httu_writes) {
      // The access sets AF, a write dirties a writable-clean descriptor (clears AP[2]). When
      // nested the descriptor is at an IPA: the update is a stage 2 write (CLASS TT, TTRnW 0).
      for (unsigned attempt = 1; s1_ok; ++attempt) {
        const std::uint64_t d = s1u.descriptor;
        std::uint64_t nd = s1u.af_update ? d | vmsa::desc_af : d;
        const bool dirty = req.write && x.s1_dbm_clean;
        if (dirty) nd = (nd & ~vmsa::desc_ap2) | vmsa::desc_af;
        if (nd == d) break;
        std::uint64_t at = s1u.descriptor_address;
        if (s2_on) {
          s2_leaf w;
          if (!stage2(std::false_type{}, at, true, false, smmuv3::evt::fault_class::tt, w, s1f,
                      s2_walks)) {
            s1f.ttrnw = false;
            s1_ok = false;
            break;
          }
          at = w.pa;
        }
        const update_status u = swap_descriptor(mem, at, d, nd, s1u.big_endian);
        if (u == update_status::done) {
          if (dirty) x.s1_dbm_clean = false;
          break;
        }
        if (u == update_status::abort || attempt == max_update_attempts) {
          s1f = fault_info{};
          s1f.type = f_walk_eabt;
          s1f.cls = smmuv3::evt::fault_class::tt;
          s1f.fetch_addr = at;
          s1_ok = false;
          break;
        }
        s1u = detail::s1_update{};
        if constexpr (WalkCache) s2_walks.clear();  // a retry reads every level again
        s1_ok = s1_walk();
      }
    }
    if (!s1_ok) {
      const fault_policy policy_of_stage = s1f.s2 ? s2_policy() : fault_policy{c.a, c.r, c.s};
      r = fault_result(t, s1f, attrs, &policy_of_stage);
      return r;
    }
    ipa = x.ipa;
  }

  std::uint64_t pa = ipa;
  unsigned size_shift = use_s1 ? x.s1_size_shift : 64;
  if (both_stages) {
    pa = x.output_address;
    size_shift = x.size_shift;
  } else if (s2_on) {
    s2_leaf s2;
    fault_info s2f;
    // Without stage 1 this is the translation's only stage 2 lookup: nothing to share. With it,
    // the last: it uses the walk cache without updating it (unless an HTTU retry clears it).
    vmsa::no_walk_cache alone;
    auto& last_walks = [&]() -> auto& {
      if constexpr (httu_writes) {
        return s2_walks;
      } else {
        return std::as_const(s2_walks);
      }
    }();
    const bool ok = use_s1 ? stage2(std::false_type{}, ipa, !attrs.rnw, attrs.ind,
                                    smmuv3::evt::fault_class::in, s2, s2f, last_walks)
                           : stage2(std::false_type{}, ipa, !attrs.rnw, attrs.ind,
                                    smmuv3::evt::fault_class::in, s2, s2f, alone);
    if (!ok) {
      const fault_policy s2p_policy = s2_policy();
      r = fault_result(t, s2f, attrs, &s2p_policy);
      return r;
    }
    pa = s2.pa;
    x.s2_mem_attr = s2.mem_attr;
    x.s2_sh = s2.sh;
    x.s2_level = s2.level;
    x.s2_size_shift = s2.size_shift;
    x.s2_perm_set = static_cast<std::uint8_t>(detail::s2_bits(s2.perm) * 9U);  // both privileges
    x.s2_dbm_clean = s2.dbm_clean;
    x.s2_granule_shift = static_cast<std::uint8_t>(cfg.s2.walk.granule_shift);
    size_shift = std::min(size_shift, s2.size_shift);
  }
  r.kind = outcome::translated;
  x.output_address = pa;
  x.ipa = ipa;
  x.size_shift = size_shift;
  // The access's privilege's share of what every enabled stage grants (a stage that did not
  // apply grants all).
  x.perm = permissions_of(x.s1_perm_set & x.s2_perm_set, attrs.pnu);
  if constexpr (detail::caches_leaves<std::remove_const_t<P>>) {
    policy.record_leaf(key, t.address, x);
  }
  return r;
}
}  // namespace detail

// Translates `t` through `policy`. Over read-only memory the translation only reads: HA/HD
// suppress Access flag faults and make DBM writable-clean descriptors writable, but nothing is
// written back.
template <memory::readable_memory M, class P>
requires translation_policy<std::remove_const_t<P>, M>
[[nodiscard]] constexpr result translate(const M& mem, const smmu_state& st, const transaction& t,
                                         P& policy) noexcept {
  return detail::translate(mem, st, t, policy);
}

// Over writable memory (a non-const guest_memory), hardware flag updates are written back
// (IHI 0070 §3.13): AF set instead of an Access flag fault (CD.HA, STE.S2HA), AP[2] cleared /
// S2AP[1] set by a write to a writable-clean (DBM) descriptor (CD.HD, STE.S2HD).
template <memory::guest_memory M, class P>
requires translation_policy<std::remove_const_t<P>, M>
[[nodiscard]] constexpr result translate(M& mem, const smmu_state& st, const transaction& t,
                                         P& policy) noexcept {
  return detail::translate(mem, st, t, policy);
}

// The translation with nothing cached: fetch and decode on every transaction.
template <memory::readable_memory M>
[[nodiscard]] constexpr result translate(const M& mem, const smmu_state& st,
                                         const transaction& t) noexcept {
  uncached policy;
  return detail::translate(mem, st, t, policy);
}
template <memory::guest_memory M>
[[nodiscard]] constexpr result translate(M& mem, const smmu_state& st,
                                         const transaction& t) noexcept {
  uncached policy;
  return detail::translate(mem, st, t, policy);
}

}  // namespace vsmmu::walk
