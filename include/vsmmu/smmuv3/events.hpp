// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/dynamic.hpp>
#include <vsmmu/layout/field.hpp>
#include <vsmmu/layout/layout.hpp>
#include <vsmmu/layout/value.hpp>
#include <vsmmu/smmuv3/catalog.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

// Event queue records, IHI 0070 §7.3: 32 bytes, four little-endian 64-bit dwords, the event
// type in bits [7:0]. Portions not defined are RES0.
//
// Most record figures are drawings the markdown edition lost or garbled. Positions come from
// what survives of them (F_UUT, F_STE_FETCH, F_VMS_FETCH, F_CFG_CONFLICT, E_PAGE_REQUEST, and
// the common StreamID/SubstreamID/SSV words) and otherwise from public drivers and models, taken
// as facts only; tests/smmuv3/events_test.cpp lists where sources disagree.
namespace vsmmu::smmuv3::evt {

using vsmmu::layout::address;
using vsmmu::layout::bits;
using vsmmu::layout::field;

// Event numbers, §7.3.2-§7.3.21. Every other value is Reserved.
enum class type : std::uint8_t {
  f_uut = 0x01,
  c_bad_streamid = 0x02,
  f_ste_fetch = 0x03,
  c_bad_ste = 0x04,
  f_bad_ats_treq = 0x05,
  f_stream_disabled = 0x06,
  f_transl_forbidden = 0x07,
  c_bad_substreamid = 0x08,
  f_cd_fetch = 0x09,
  c_bad_cd = 0x0a,
  f_walk_eabt = 0x0b,
  f_translation = 0x10,
  f_addr_size = 0x11,
  f_access = 0x12,
  f_permission = 0x13,
  f_tlb_conflict = 0x20,
  f_cfg_conflict = 0x21,
  e_page_request = 0x24,
  f_vms_fetch = 0x25,
  impdef_first = 0xe0,  // IMPDEF_EVENTn, 0xE0-0xEF (§7.3.21)
  impdef_last = 0xef,
};

[[nodiscard]] constexpr bool is_implementation_defined(std::uint8_t t) noexcept {
  return t >= static_cast<std::uint8_t>(type::impdef_first) &&
         t <= static_cast<std::uint8_t>(type::impdef_last);
}

// CLASS, the operation that faulted (§7.3). 0b11 is Reserved.
enum class fault_class : std::uint8_t {
  cd = 0b00,  // CD fetch
  tt = 0b01,  // stage 1 translation table fetch ("TTD")
  in = 0b10,  // the input address
};

// Fields shared by several records. Each record's namespace below lists the ones it has.

// dword 0
struct Type final : field<"Type", bits<7, 0>, type> {};
struct SSV final : field<"SSV", bits<11, 11>, bool> {};
struct SubstreamID final : field<"SubstreamID", bits<31, 12>, std::uint32_t> {};
struct StreamID final : field<"StreamID", bits<63, 32>, std::uint32_t> {};

// dword 1
struct STAG final : field<"STAG", bits<79, 64>, std::uint16_t> {};  // for CMD_RESUME
// 16-bit IMPLEMENTATION DEFINED cause of UUT, fetch and walk aborts.
struct Reason final : field<"Reason", bits<79, 64>, std::uint16_t> {};
// 32-bit IMPLEMENTATION DEFINED cause of TLB and configuration cache conflicts.
struct ConflictReason final : field<"Reason", bits<95, 64>, std::uint32_t> {};
struct GPCF final : field<"GPCF", bits<80, 80>, bool> {};  // the abort was a GPC fault
struct Stall final : field<"Stall", bits<95, 95>, bool> {};
struct PnU final : field<"PnU", bits<97, 97>, bool> {};  // 1 = privileged
struct InD final : field<"InD", bits<98, 98>, bool> {};  // 1 = instruction
struct RnW final : field<"RnW", bits<99, 99>, bool> {};  // 1 = read
// Secure event queue, S2 == 1: the NS output of stage 1 for the faulting access.
struct NSIPA final : field<"NSIPA", bits<102, 102>, bool> {};
struct S2 final : field<"S2", bits<103, 103>, bool> {};  // 1 = stage 2 fault
struct CLASS final : field<"CLASS", bits<105, 104>, fault_class> {};

// dword 2
struct InputAddr final : field<"InputAddr", bits<191, 128>, address> {};  // as input, TBI and all

// dword 3
struct IPA final : field<"IPA", bits<247, 204>, address> {};  // IPA[55:12]
// FetchAddr[55:3], the STE/CD/VMS/descriptor address fetched; [55:OAS] RES0.
struct FetchAddr final : field<"FetchAddr", bits<247, 195>, address> {};

template <vsmmu::layout::fixed_string Name, class... Fields>
using event_layout = vsmmu::layout::layout<Name, 256, std::uint64_t, Fields...>;

namespace detail {
template <class L>
consteval type not_an_event() {
  static_assert(sizeof(L) == 0, "vsmmu: type_of<L>: L is not an architected event layout");
  return {};
}
}  // namespace detail

// The event number a record layout carries; specialised after each record below.
template <class L>
inline constexpr type type_of = detail::not_an_event<L>();

// §7.3.2. InD/PnU are the incoming attributes, before STE overrides.
namespace f_uut {
using evt::PnU, evt::InD, evt::RnW, evt::InputAddr;
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID, evt::Reason;
using layout =
    event_layout<"F_UUT", Type, SSV, SubstreamID, StreamID, Reason, PnU, InD, RnW, InputAddr>;
}  // namespace f_uut
template <>
inline constexpr type type_of<f_uut::layout> = type::f_uut;

// §7.3.3
namespace c_bad_streamid {
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID;
using layout = event_layout<"C_BAD_STREAMID", Type, SSV, SubstreamID, StreamID>;
}  // namespace c_bad_streamid
template <>
inline constexpr type type_of<c_bad_streamid::layout> = type::c_bad_streamid;

// §7.3.4
namespace f_ste_fetch {
using evt::FetchAddr;
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID, evt::Reason, evt::GPCF;
using layout =
    event_layout<"F_STE_FETCH", Type, SSV, SubstreamID, StreamID, Reason, GPCF, FetchAddr>;
}  // namespace f_ste_fetch
template <>
inline constexpr type type_of<f_ste_fetch::layout> = type::f_ste_fetch;

// §7.3.5
namespace c_bad_ste {
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID;
using layout = event_layout<"C_BAD_STE", Type, SSV, SubstreamID, StreamID>;
}  // namespace c_bad_ste
template <>
inline constexpr type type_of<c_bad_ste::layout> = type::c_bad_ste;

// §7.3.6. R/W/X/PRIV as requested by the ATS Translation Request, before STE overrides.
namespace f_bad_ats_treq {
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID;
// dword 1
struct Span final : field<"Span", bits<67, 64>, std::uint8_t> {};  // STUs requested
struct PRIV final : field<"PRIV", bits<92, 92>, bool> {};
struct X final : field<"X", bits<93, 93>, bool> {};
struct W final : field<"W", bits<94, 94>, bool> {};  // !NW
struct R final : field<"R", bits<95, 95>, bool> {};  // always 1 for PCIe ATS
// dword 2
struct InputAddr final : field<"InputAddr", bits<191, 140>, address> {};  // InputAddr[63:12]
using layout = event_layout<"F_BAD_ATS_TREQ", Type, SSV, SubstreamID, StreamID, Span, PRIV, X, W, R,
                            InputAddr>;
}  // namespace f_bad_ats_treq
template <>
inline constexpr type type_of<f_bad_ats_treq::layout> = type::f_bad_ats_treq;

// §7.3.7: StreamID only.
namespace f_stream_disabled {
using evt::Type, evt::StreamID;
using layout = event_layout<"F_STREAM_DISABLED", Type, StreamID>;
}  // namespace f_stream_disabled
template <>
inline constexpr type type_of<f_stream_disabled::layout> = type::f_stream_disabled;

// §7.3.8
namespace f_transl_forbidden {
using evt::Type, evt::StreamID, evt::RnW, evt::InputAddr;
using layout = event_layout<"F_TRANSL_FORBIDDEN", Type, StreamID, RnW, InputAddr>;
}  // namespace f_transl_forbidden
template <>
inline constexpr type type_of<f_transl_forbidden::layout> = type::f_transl_forbidden;

// §7.3.9: SubstreamID is always valid here; there is no SSV.
namespace c_bad_substreamid {
using evt::Type, evt::SubstreamID, evt::StreamID;
using layout = event_layout<"C_BAD_SUBSTREAMID", Type, SubstreamID, StreamID>;
}  // namespace c_bad_substreamid
template <>
inline constexpr type type_of<c_bad_substreamid::layout> = type::c_bad_substreamid;

// §7.3.10
namespace f_cd_fetch {
using evt::FetchAddr;
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID, evt::Reason, evt::GPCF;
using layout =
    event_layout<"F_CD_FETCH", Type, SSV, SubstreamID, StreamID, Reason, GPCF, FetchAddr>;
}  // namespace f_cd_fetch
template <>
inline constexpr type type_of<f_cd_fetch::layout> = type::f_cd_fetch;

// §7.3.11
namespace c_bad_cd {
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID;
using layout = event_layout<"C_BAD_CD", Type, SSV, SubstreamID, StreamID>;
}  // namespace c_bad_cd
template <>
inline constexpr type type_of<c_bad_cd::layout> = type::c_bad_cd;

// §7.3.12. Unlike the translation faults, a stage 1 walk abort reports CLASS == TT.
namespace f_walk_eabt {
using evt::FetchAddr;
using evt::PnU, evt::InD, evt::RnW, evt::NSIPA, evt::S2, evt::CLASS, evt::InputAddr;
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID, evt::Reason, evt::GPCF;
using layout = event_layout<"F_WALK_EABT", Type, SSV, SubstreamID, StreamID, Reason, GPCF, PnU, InD,
                            RnW, NSIPA, S2, CLASS, InputAddr, FetchAddr>;
}  // namespace f_walk_eabt
template <>
inline constexpr type type_of<f_walk_eabt::layout> = type::f_walk_eabt;

// §7.3.13-§7.3.15: the translation-related faults that may stall.
namespace f_translation {
using evt::PnU, evt::InD, evt::RnW, evt::NSIPA, evt::S2, evt::CLASS, evt::InputAddr, evt::IPA;
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID, evt::STAG, evt::Stall;
using layout = event_layout<"F_TRANSLATION", Type, SSV, SubstreamID, StreamID, STAG, Stall, PnU,
                            InD, RnW, NSIPA, S2, CLASS, InputAddr, IPA>;
}  // namespace f_translation
template <>
inline constexpr type type_of<f_translation::layout> = type::f_translation;

namespace f_addr_size {
using evt::PnU, evt::InD, evt::RnW, evt::NSIPA, evt::S2, evt::CLASS, evt::InputAddr, evt::IPA;
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID, evt::STAG, evt::Stall;
using layout = event_layout<"F_ADDR_SIZE", Type, SSV, SubstreamID, StreamID, STAG, Stall, PnU, InD,
                            RnW, NSIPA, S2, CLASS, InputAddr, IPA>;
}  // namespace f_addr_size
template <>
inline constexpr type type_of<f_addr_size::layout> = type::f_addr_size;

namespace f_access {
using evt::PnU, evt::InD, evt::RnW, evt::NSIPA, evt::S2, evt::CLASS, evt::InputAddr, evt::IPA;
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID, evt::STAG, evt::Stall;
using layout = event_layout<"F_ACCESS", Type, SSV, SubstreamID, StreamID, STAG, Stall, PnU, InD,
                            RnW, NSIPA, S2, CLASS, InputAddr, IPA>;
}  // namespace f_access
template <>
inline constexpr type type_of<f_access::layout> = type::f_access;

// §7.3.16
namespace f_permission {
using evt::PnU, evt::InD, evt::RnW, evt::NSIPA, evt::S2, evt::CLASS, evt::InputAddr, evt::IPA;
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID, evt::STAG, evt::Stall;
// dword 1
// Indirect permissions with hardware dirty state off would have updated dirty state.
struct DirtyBit final : field<"DirtyBit", bits<106, 106>, bool> {};
struct AssuredOnly final : field<"AssuredOnly", bits<107, 107>, bool> {};  // stage 2 only
// CLASS == TT: 1 = the descriptor read faulted, 0 = its write (HTTU); UNKNOWN otherwise.
struct TTRnW final : field<"TTRnW", bits<108, 108>, bool> {};
struct Overlay final : field<"Overlay", bits<109, 109>, bool> {};  // stage 2 overlay denied it
using layout =
    event_layout<"F_PERMISSION", Type, SSV, SubstreamID, StreamID, STAG, Stall, PnU, InD, RnW,
                 NSIPA, S2, CLASS, DirtyBit, AssuredOnly, TTRnW, Overlay, InputAddr, IPA>;
}  // namespace f_permission
template <>
inline constexpr type type_of<f_permission::layout> = type::f_permission;

// §7.3.17. IPA is valid when S2 == 1.
namespace f_tlb_conflict {
using evt::PnU, evt::InD, evt::RnW, evt::NSIPA, evt::S2, evt::InputAddr, evt::IPA;
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID;
using Reason = evt::ConflictReason;
using layout = event_layout<"F_TLB_CONFLICT", Type, SSV, SubstreamID, StreamID, Reason, PnU, InD,
                            RnW, NSIPA, S2, InputAddr, IPA>;
}  // namespace f_tlb_conflict
template <>
inline constexpr type type_of<f_tlb_conflict::layout> = type::f_tlb_conflict;

// §7.3.18
namespace f_cfg_conflict {
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID;
using Reason = evt::ConflictReason;
using layout = event_layout<"F_CFG_CONFLICT", Type, SSV, SubstreamID, StreamID, Reason>;
}  // namespace f_cfg_conflict
template <>
inline constexpr type type_of<f_cfg_conflict::layout> = type::f_cfg_conflict;

// §7.3.19: a hint that the span will be accessed with these permissions.
namespace e_page_request {
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID;
// dword 1
struct uX final : field<"uX", bits<97, 97>, bool> {};
struct uW final : field<"uW", bits<98, 98>, bool> {};
struct uR final : field<"uR", bits<99, 99>, bool> {};
struct pX final : field<"pX", bits<101, 101>, bool> {};
struct pW final : field<"pW", bits<102, 102>, bool> {};
struct pR final : field<"pR", bits<103, 103>, bool> {};
struct Span final : field<"Span", bits<115, 108>, std::uint8_t> {};  // Span * 4096 bytes
// dword 2
struct InputAddr final : field<"InputAddr", bits<191, 140>, address> {};  // InputAddr[63:12]
using layout = event_layout<"E_PAGE_REQUEST", Type, SSV, SubstreamID, StreamID, uX, uW, uR, pX, pW,
                            pR, Span, InputAddr>;
}  // namespace e_page_request
template <>
inline constexpr type type_of<e_page_request::layout> = type::e_page_request;

// §7.3.20
namespace f_vms_fetch {
using evt::FetchAddr;
using evt::Type, evt::SSV, evt::SubstreamID, evt::StreamID, evt::Reason, evt::GPCF;
using layout =
    event_layout<"F_VMS_FETCH", Type, SSV, SubstreamID, StreamID, Reason, GPCF, FetchAddr>;
}  // namespace f_vms_fetch
template <>
inline constexpr type type_of<f_vms_fetch::layout> = type::f_vms_fetch;

// §7.3.21: only the event number is architected; the rest of the record is the implementation's.
namespace impdef_event {
using evt::Type;
using layout = event_layout<"IMPDEF_EVENTn", Type>;
}  // namespace impdef_event

template <vsmmu::layout::layout_type L>
[[nodiscard]] constexpr event_desc describe() noexcept {
  return {static_cast<std::uint8_t>(type_of<L>), L::name, vsmmu::layout::info_of_layout<L>()};
}

namespace detail {
inline constexpr std::array<std::string_view, 16> impdef_names{
    "IMPDEF_EVENT0",  "IMPDEF_EVENT1",  "IMPDEF_EVENT2",  "IMPDEF_EVENT3",
    "IMPDEF_EVENT4",  "IMPDEF_EVENT5",  "IMPDEF_EVENT6",  "IMPDEF_EVENT7",
    "IMPDEF_EVENT8",  "IMPDEF_EVENT9",  "IMPDEF_EVENT10", "IMPDEF_EVENT11",
    "IMPDEF_EVENT12", "IMPDEF_EVENT13", "IMPDEF_EVENT14", "IMPDEF_EVENT15"};

[[nodiscard]] constexpr event_desc describe_impdef(unsigned n) noexcept {
  return {static_cast<std::uint8_t>(static_cast<unsigned>(type::impdef_first) + n), impdef_names[n],
          vsmmu::layout::info_of_layout<impdef_event::layout>()};
}
}  // namespace detail

}  // namespace vsmmu::smmuv3::evt

namespace vsmmu::smmuv3 {

// Every event number of §7.3, in numeric order; IMPDEF_EVENTn is number 0xE0 + n.
inline constexpr std::array<event_desc, 35> event_catalog{
    evt::describe<evt::f_uut::layout>(),
    evt::describe<evt::c_bad_streamid::layout>(),
    evt::describe<evt::f_ste_fetch::layout>(),
    evt::describe<evt::c_bad_ste::layout>(),
    evt::describe<evt::f_bad_ats_treq::layout>(),
    evt::describe<evt::f_stream_disabled::layout>(),
    evt::describe<evt::f_transl_forbidden::layout>(),
    evt::describe<evt::c_bad_substreamid::layout>(),
    evt::describe<evt::f_cd_fetch::layout>(),
    evt::describe<evt::c_bad_cd::layout>(),
    evt::describe<evt::f_walk_eabt::layout>(),
    evt::describe<evt::f_translation::layout>(),
    evt::describe<evt::f_addr_size::layout>(),
    evt::describe<evt::f_access::layout>(),
    evt::describe<evt::f_permission::layout>(),
    evt::describe<evt::f_tlb_conflict::layout>(),
    evt::describe<evt::f_cfg_conflict::layout>(),
    evt::describe<evt::e_page_request::layout>(),
    evt::describe<evt::f_vms_fetch::layout>(),
    evt::detail::describe_impdef(0),
    evt::detail::describe_impdef(1),
    evt::detail::describe_impdef(2),
    evt::detail::describe_impdef(3),
    evt::detail::describe_impdef(4),
    evt::detail::describe_impdef(5),
    evt::detail::describe_impdef(6),
    evt::detail::describe_impdef(7),
    evt::detail::describe_impdef(8),
    evt::detail::describe_impdef(9),
    evt::detail::describe_impdef(10),
    evt::detail::describe_impdef(11),
    evt::detail::describe_impdef(12),
    evt::detail::describe_impdef(13),
    evt::detail::describe_impdef(14),
    evt::detail::describe_impdef(15),
};

// The event with this number; nullptr for Reserved numbers.
[[nodiscard]] constexpr const event_desc* find_event(std::uint8_t type) noexcept {
  for (const auto& e : event_catalog) {
    if (e.type == type) return &e;
  }
  return nullptr;
}

}  // namespace vsmmu::smmuv3
