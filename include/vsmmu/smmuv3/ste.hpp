// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/value.hpp>
#include <vsmmu/smmuv3/encodings.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

// STE, Stream Table Entry: IHI 0070 §5.2. Every field the spec defines, at the bits it gives,
// up to SMMUv3.5 (RME, MPAM, DPT, THE, permission indirection and overlays, VMSAv9-128).
//
// Undeclared bits are either RES0 or IMPLEMENTATION DEFINED. The IMPLEMENTATION DEFINED ranges
// ([127:116], [159:144], [271:256]) are left undeclared rather than declared as fields: the spec
// names all three "IMPLEMENTATION DEFINED" and a layout's field names are unique. They are listed
// in implementation_defined_mask so that a RES0 check can skip them (res0_bits_clear).
namespace vsmmu::smmuv3::ste {

using vsmmu::layout::address;
using vsmmu::layout::bits;
using vsmmu::layout::field;

// dword 0
struct V final : field<"V", bits<0, 0>, bool> {};
struct Config final : field<"Config", bits<3, 1>, ste_config> {};
struct S1Fmt final : field<"S1Fmt", bits<5, 4>, s1_fmt> {};
struct S1ContextPtr final : field<"S1ContextPtr", bits<55, 6>, address> {};
struct S1CDMax final : field<"S1CDMax", bits<63, 59>, std::uint8_t> {};

// dword 1
struct S1DSS final : field<"S1DSS", bits<65, 64>, s1_dss> {};
struct S1CIR final : field<"S1CIR", bits<67, 66>, std::uint8_t> {};
struct S1COR final : field<"S1COR", bits<69, 68>, std::uint8_t> {};
struct S1CSH final : field<"S1CSH", bits<71, 70>, std::uint8_t> {};
struct S2HWU59 final : field<"S2HWU59", bits<72, 72>, bool> {};
struct S2HWU60 final : field<"S2HWU60", bits<73, 73>, bool> {};
struct S2HWU61 final : field<"S2HWU61", bits<74, 74>, bool> {};
struct S2HWU62 final : field<"S2HWU62", bits<75, 75>, bool> {};
struct DRE final : field<"DRE", bits<76, 76>, bool> {};
struct CONT final : field<"CONT", bits<80, 77>, std::uint8_t> {};
struct DCP final : field<"DCP", bits<81, 81>, bool> {};
struct PPAR final : field<"PPAR", bits<82, 82>, bool> {};
struct MEV final : field<"MEV", bits<83, 83>, bool> {};
struct SW_RESERVED final : field<"SW_RESERVED", bits<87, 84>, std::uint8_t> {};
struct S1PIE final : field<"S1PIE", bits<88, 88>, bool> {};
struct S2FWB final : field<"S2FWB", bits<89, 89>, bool> {};
struct S1MPAM final : field<"S1MPAM", bits<90, 90>, bool> {};
struct S1STALLD final : field<"S1STALLD", bits<91, 91>, bool> {};
struct EATS final : field<"EATS", bits<93, 92>, eats> {};
struct STRW final : field<"STRW", bits<95, 94>, strw> {};
struct MemAttr final : field<"MemAttr", bits<99, 96>, std::uint8_t> {};
struct MTCFG final : field<"MTCFG", bits<100, 100>, bool> {};
struct ALLOCCFG final : field<"ALLOCCFG", bits<104, 101>, std::uint8_t> {};
struct SHCFG final : field<"SHCFG", bits<109, 108>, std::uint8_t> {};
struct NSCFG final : field<"NSCFG", bits<111, 110>, std::uint8_t> {};
struct PRIVCFG final : field<"PRIVCFG", bits<113, 112>, std::uint8_t> {};
struct INSTCFG final : field<"INSTCFG", bits<115, 114>, std::uint8_t> {};

// dword 2
struct S2VMID final : field<"S2VMID", bits<143, 128>, std::uint16_t> {};
struct S2T0SZ final : field<"S2T0SZ", bits<165, 160>, std::uint8_t> {};
struct S2SL0 final : field<"S2SL0", bits<167, 166>, std::uint8_t> {};
struct S2IR0 final : field<"S2IR0", bits<169, 168>, std::uint8_t> {};
struct S2OR0 final : field<"S2OR0", bits<171, 170>, std::uint8_t> {};
struct S2SH0 final : field<"S2SH0", bits<173, 172>, std::uint8_t> {};
struct S2TG final : field<"S2TG", bits<175, 174>, granule> {};
struct S2PS final : field<"S2PS", bits<178, 176>, address_size> {};
struct S2AA64 final : field<"S2AA64", bits<179, 179>, bool> {};
struct S2ENDI final : field<"S2ENDI", bits<180, 180>, bool> {};
struct S2AFFD final : field<"S2AFFD", bits<181, 181>, bool> {};
struct S2PTW final : field<"S2PTW", bits<182, 182>, bool> {};
struct S2HD final : field<"S2HD", bits<183, 183>, bool> {};
struct S2HA final : field<"S2HA", bits<184, 184>, bool> {};
struct S2S final : field<"S2S", bits<185, 185>, bool> {};
struct S2R final : field<"S2R", bits<186, 186>, bool> {};
struct S2HAFT final : field<"S2HAFT", bits<187, 187>, bool> {};
struct S2PIE final : field<"S2PIE", bits<188, 188>, bool> {};
struct S2POE final : field<"S2POE", bits<189, 189>, bool> {};
struct DPT_VMATCH final : field<"DPT_VMATCH", bits<191, 190>, std::uint8_t> {};

// dword 3
struct S2NSW final : field<"S2NSW", bits<192, 192>, bool> {};
struct S2NSA final : field<"S2NSA", bits<193, 193>, bool> {};
struct S2SL0_2 final : field<"S2SL0_2", bits<194, 194>, bool> {};
struct S2DS final : field<"S2DS", bits<195, 195>, bool> {};
// Address bits [55:4]; [55:52] are RES0 unless S2AA64 selects VMSAv9-128, and [55:48] in
// SMMUv3.0 (IHI 0070 §5.2). Declared at its widest.
struct S2TTB final : field<"S2TTB", bits<247, 196>, address> {};
struct S2SKL final : field<"S2SKL", bits<254, 253>, std::uint8_t> {};

// dword 4
struct PARTID final : field<"PARTID", bits<287, 272>, std::uint16_t> {};
struct S_S2T0SZ final : field<"S_S2T0SZ", bits<293, 288>, std::uint8_t> {};
struct S_S2SL0 final : field<"S_S2SL0", bits<295, 294>, std::uint8_t> {};
struct S_S2TG final : field<"S_S2TG", bits<303, 302>, granule> {};  // encoded as S2TG
struct MECID final : field<"MECID", bits<319, 304>, std::uint16_t> {};

// dword 5
struct PMG final : field<"PMG", bits<327, 320>, std::uint8_t> {};
struct MPAM_NS final : field<"MPAM_NS", bits<328, 328>, bool> {};
struct AssuredOnly final : field<"AssuredOnly", bits<329, 329>, bool> {};
struct TL0 final : field<"TL0", bits<330, 330>, bool> {};
struct TL1 final : field<"TL1", bits<331, 331>, bool> {};
// Address bits [55:12]. The spec's text says address bits [63:55] are taken as zero, but the
// field's bits [375:332] reach address bit 55; the bit positions are taken as authoritative.
struct VMSPtr final : field<"VMSPtr", bits<375, 332>, address> {};

// dword 6
struct S2SW final : field<"S2SW", bits<384, 384>, bool> {};
struct S2SA final : field<"S2SA", bits<385, 385>, bool> {};
struct S_S2SL0_2 final : field<"S_S2SL0_2", bits<386, 386>, bool> {};
struct S_S2TTB final : field<"S_S2TTB", bits<439, 388>, address> {};  // as S2TTB
struct S_S2SKL final : field<"S_S2SKL", bits<446, 445>, std::uint8_t> {};

// dword 7: S2POI<p> is bits [4p+451:4p+448], the 16 stage 2 overlay interpretations.
struct S2POI0 final : field<"S2POI0", bits<451, 448>, std::uint8_t> {};
struct S2POI1 final : field<"S2POI1", bits<455, 452>, std::uint8_t> {};
struct S2POI2 final : field<"S2POI2", bits<459, 456>, std::uint8_t> {};
struct S2POI3 final : field<"S2POI3", bits<463, 460>, std::uint8_t> {};
struct S2POI4 final : field<"S2POI4", bits<467, 464>, std::uint8_t> {};
struct S2POI5 final : field<"S2POI5", bits<471, 468>, std::uint8_t> {};
struct S2POI6 final : field<"S2POI6", bits<475, 472>, std::uint8_t> {};
struct S2POI7 final : field<"S2POI7", bits<479, 476>, std::uint8_t> {};
struct S2POI8 final : field<"S2POI8", bits<483, 480>, std::uint8_t> {};
struct S2POI9 final : field<"S2POI9", bits<487, 484>, std::uint8_t> {};
struct S2POI10 final : field<"S2POI10", bits<491, 488>, std::uint8_t> {};
struct S2POI11 final : field<"S2POI11", bits<495, 492>, std::uint8_t> {};
struct S2POI12 final : field<"S2POI12", bits<499, 496>, std::uint8_t> {};
struct S2POI13 final : field<"S2POI13", bits<503, 500>, std::uint8_t> {};
struct S2POI14 final : field<"S2POI14", bits<507, 504>, std::uint8_t> {};
struct S2POI15 final : field<"S2POI15", bits<511, 508>, std::uint8_t> {};

using layout =
    vsmmu::layout::layout<"STE", 512, std::uint64_t,
                          // dword 0
                          V, Config, S1Fmt, S1ContextPtr, S1CDMax,
                          // dword 1
                          S1DSS, S1CIR, S1COR, S1CSH, S2HWU59, S2HWU60, S2HWU61, S2HWU62, DRE, CONT,
                          DCP, PPAR, MEV, SW_RESERVED, S1PIE, S2FWB, S1MPAM, S1STALLD, EATS, STRW,
                          MemAttr, MTCFG, ALLOCCFG, SHCFG, NSCFG, PRIVCFG, INSTCFG,
                          // dword 2
                          S2VMID, S2T0SZ, S2SL0, S2IR0, S2OR0, S2SH0, S2TG, S2PS, S2AA64, S2ENDI,
                          S2AFFD, S2PTW, S2HD, S2HA, S2S, S2R, S2HAFT, S2PIE, S2POE, DPT_VMATCH,
                          // dword 3
                          S2NSW, S2NSA, S2SL0_2, S2DS, S2TTB, S2SKL,
                          // dword 4
                          PARTID, S_S2T0SZ, S_S2SL0, S_S2TG, MECID,
                          // dword 5
                          PMG, MPAM_NS, AssuredOnly, TL0, TL1, VMSPtr,
                          // dword 6
                          S2SW, S2SA, S_S2SL0_2, S_S2TTB, S_S2SKL,
                          // dword 7
                          S2POI0, S2POI1, S2POI2, S2POI3, S2POI4, S2POI5, S2POI6, S2POI7, S2POI8,
                          S2POI9, S2POI10, S2POI11, S2POI12, S2POI13, S2POI14, S2POI15>;

using value = vsmmu::layout::value<layout>;
using view = vsmmu::layout::view<layout>;
using mutable_view = vsmmu::layout::mutable_view<layout>;

// "STE is a 64-byte structure"; Stream tables index STEs by StreamID at this stride.
inline constexpr std::size_t size_bytes = 64;
static_assert(layout::byte_count == size_bytes);

// The IMPLEMENTATION DEFINED ranges per dword: [127:116], [159:144], [271:256].
inline constexpr std::array<std::uint64_t, layout::word_count> implementation_defined_mask{
    0, 0xfff0'0000'0000'0000, 0x0000'0000'ffff'0000, 0, 0x0000'0000'0000'ffff, 0, 0, 0};
static_assert(vsmmu::layout::outside_declared_fields<layout>(implementation_defined_mask),
              "vsmmu: an STE field overlaps an IMPLEMENTATION DEFINED range");

// True when every RES0 bit (outside every field and every IMPLEMENTATION DEFINED range) is
// zero. Works on a value or a view.
template <class X>
requires std::is_same_v<typename X::layout_type, layout>
[[nodiscard]] constexpr bool res0_bits_clear(const X& x) noexcept {
  return vsmmu::layout::undeclared_bits_clear(x, implementation_defined_mask);
}

}  // namespace vsmmu::smmuv3::ste
