// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/smmuv3/events.hpp>
#include <vsmmu/walk/result.hpp>

#include <cstdint>

// Fault recording and termination (IHI 0070 §3.12, §5.5): event records built with the
// smmuv3::evt layouts, and the A/R/S policy for the four translation-related faults.
namespace vsmmu::walk {

// The transaction attributes an event reports: InD/PnU after the STE overrides (§7.3.13).
struct event_attrs {
  bool rnw = true;
  bool ind = false;
  bool pnu = false;
};

namespace detail {
template <class L>
constexpr void stream_fields(vsmmu::layout::value<L>& v, const transaction& t) noexcept {
  namespace E = smmuv3::evt;
  v.template init<E::Type>(E::type_of<L>);
  v.template init<E::StreamID>(t.sid);
  if constexpr (L::template has<E::SSV>) {
    v.template init<E::SSV>(t.ssv);
    if (t.ssv) v.template init<E::SubstreamID>(t.ssid & 0xfffff);
  }
}

[[nodiscard]] constexpr std::uint64_t in_place(std::uint64_t addr, std::uint64_t mask) noexcept {
  return addr & mask;
}

template <class L>
[[nodiscard]] constexpr event_record translation_event(const transaction& t, const fault_info& f,
                                                       const event_attrs& a, bool stall) noexcept {
  namespace E = smmuv3::evt;
  vsmmu::layout::value<L> v;
  stream_fields(v, t);
  v.template init<E::Stall>(stall);
  if (stall) v.template init<E::STAG>(t.stag);
  v.template init<E::PnU>(a.pnu);
  v.template init<E::InD>(a.ind);
  v.template init<E::RnW>(a.rnw);
  v.template init<E::S2>(f.s2);
  v.template init<E::CLASS>(f.cls);
  v.template init<E::InputAddr>(t.address);
  // IPA is UNKNOWN for stage 1 faults; recorded as zero.
  if (f.s2) v.template init<E::IPA>(in_place(f.ipa, E::IPA::value_mask));
  if constexpr (std::is_same_v<L, E::f_permission::layout>) {
    if (f.cls == E::fault_class::tt) v.template init<E::f_permission::TTRnW>(f.ttrnw);
  }
  return event_record(v);
}
}  // namespace detail

// True for F_TRANSLATION, F_ADDR_SIZE, F_ACCESS and F_PERMISSION: the faults A/R/S govern.
[[nodiscard]] constexpr bool translation_related(smmuv3::evt::type t) noexcept {
  using enum smmuv3::evt::type;
  return t == f_translation || t == f_addr_size || t == f_access || t == f_permission;
}

// The record for a fault, in the layout of its type.
[[nodiscard]] constexpr event_record make_event(const transaction& t, const fault_info& f,
                                                const event_attrs& a, bool stall) noexcept {
  namespace E = smmuv3::evt;
  switch (f.type) {
    case E::type::f_translation:
      return detail::translation_event<E::f_translation::layout>(t, f, a, stall);
    case E::type::f_addr_size:
      return detail::translation_event<E::f_addr_size::layout>(t, f, a, stall);
    case E::type::f_access:
      return detail::translation_event<E::f_access::layout>(t, f, a, stall);
    case E::type::f_permission:
      return detail::translation_event<E::f_permission::layout>(t, f, a, stall);
    case E::type::f_walk_eabt: {
      vsmmu::layout::value<E::f_walk_eabt::layout> v;
      detail::stream_fields(v, t);
      v.init<E::PnU>(a.pnu);
      v.init<E::InD>(a.ind);
      v.init<E::RnW>(a.rnw);
      v.init<E::S2>(f.s2);
      v.init<E::CLASS>(f.cls);
      v.init<E::InputAddr>(t.address);
      v.init<E::FetchAddr>(detail::in_place(f.fetch_addr, E::FetchAddr::value_mask));
      return event_record(v);
    }
    case E::type::f_ste_fetch: {
      vsmmu::layout::value<E::f_ste_fetch::layout> v;
      detail::stream_fields(v, t);
      v.init<E::FetchAddr>(detail::in_place(f.fetch_addr, E::FetchAddr::value_mask));
      return event_record(v);
    }
    case E::type::f_cd_fetch: {
      vsmmu::layout::value<E::f_cd_fetch::layout> v;
      detail::stream_fields(v, t);
      v.init<E::FetchAddr>(detail::in_place(f.fetch_addr, E::FetchAddr::value_mask));
      return event_record(v);
    }
    case E::type::c_bad_streamid: {
      vsmmu::layout::value<E::c_bad_streamid::layout> v;
      detail::stream_fields(v, t);
      return event_record(v);
    }
    case E::type::c_bad_ste: {
      vsmmu::layout::value<E::c_bad_ste::layout> v;
      detail::stream_fields(v, t);
      return event_record(v);
    }
    case E::type::c_bad_cd: {
      vsmmu::layout::value<E::c_bad_cd::layout> v;
      detail::stream_fields(v, t);
      return event_record(v);
    }
    case E::type::f_stream_disabled: {
      vsmmu::layout::value<E::f_stream_disabled::layout> v;
      detail::stream_fields(v, t);
      return event_record(v);
    }
    case E::type::c_bad_substreamid: {
      // No SSV: SubstreamID is always valid, 0 for a transaction without one (§7.3.9).
      vsmmu::layout::value<E::c_bad_substreamid::layout> v;
      detail::stream_fields(v, t);
      v.init<E::SubstreamID>(t.ssv ? t.ssid & 0xfffff : 0);
      return event_record(v);
    }
    default:
      break;
  }
  // Not produced by the walker (F_UUT, ATS, conflicts, ...): the type alone.
  vsmmu::layout::value<E::impdef_event::layout> v;
  v.init<E::Type>(f.type);
  return event_record(v);
}

// A/R/S of the stage that faulted. Stage 2 has an implied A == 1 (§5.5).
struct fault_policy {
  bool a = true;
  bool r = true;
  bool s = false;
};

// The result of a fault: recorded or not, aborted, RAZ/WI or stalled.
//   - a translation-related fault follows `policy` (pass nullptr where none applies: stage 1
//     bypass address size faults, which always abort and record);
//   - every other fault aborts and records.
[[nodiscard]] constexpr result fault_result(const transaction& t, const fault_info& f,
                                            const event_attrs& a,
                                            const fault_policy* policy) noexcept {
  result r;
  r.has_event = true;
  if (policy == nullptr || !translation_related(f.type)) {
    r.kind = outcome::fault;
    r.term = termination::abort;
    r.event = make_event(t, f, a, false);
    return r;
  }
  if (policy->s) {  // stall: always recorded, R is ignored
    r.kind = outcome::fault;
    r.term = termination::stall;
    r.event = make_event(t, f, a, true);
    return r;
  }
  r.kind = policy->r ? outcome::fault : outcome::abort;
  r.term = policy->a ? termination::abort : termination::raz_wi;
  r.event = make_event(t, f, a, false);
  return r;
}

// A transaction terminated with nothing recorded (Config abort, GBPA abort, C_BAD_STREAMID
// with RECINVSID == 0).
[[nodiscard]] constexpr result silent_abort() noexcept {
  result r;
  r.kind = outcome::abort;
  r.term = termination::abort;
  return r;
}

}  // namespace vsmmu::walk
