// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/value.hpp>
#include <vsmmu/smmuv3/encodings.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

// CD, Context Descriptor: IHI 0070 §5.4. Every field the spec defines, at the bits it gives,
// up to SMMUv3.5 (HAFT, THE, permission indirection, VMSAv9-128).
//
// Four places change meaning with SMMU_IDR5.D128. The spec describes the SMMU_IDR5.D128 == 0
// meaning as "Otherwise"; those fields (HAD0, HAD1, HWU061/062, HWU161/162) are the primary
// declarations and the VMSAv9-128 fields (DisCH0, DisCH1, SKL0, SKL1) are aliases over the same
// bits, so that an encoder writes the primary meaning last.
//
// Undeclared bits are RES0 except bits [351:320], which are IMPLEMENTATION DEFINED and left
// undeclared as in ste.hpp (see implementation_defined_mask and res0_bits_clear).
namespace vsmmu::smmuv3::cd {

using vsmmu::layout::address;
using vsmmu::layout::bits;
using vsmmu::layout::field;

// dword 0
struct T0SZ final : field<"T0SZ", bits<5, 0>, std::uint8_t> {};
struct TG0 final : field<"TG0", bits<7, 6>, granule> {};
struct IR0 final : field<"IR0", bits<9, 8>, std::uint8_t> {};
struct OR0 final : field<"OR0", bits<11, 10>, std::uint8_t> {};
struct SH0 final : field<"SH0", bits<13, 12>, std::uint8_t> {};
struct EPD0 final : field<"EPD0", bits<14, 14>, bool> {};
struct ENDI final : field<"ENDI", bits<15, 15>, bool> {};
struct T1SZ final : field<"T1SZ", bits<21, 16>, std::uint8_t> {};
struct TG1 final : field<"TG1", bits<23, 22>, granule_tg1> {};  // not TG0's encoding
struct IR1 final : field<"IR1", bits<25, 24>, std::uint8_t> {};
struct OR1 final : field<"OR1", bits<27, 26>, std::uint8_t> {};
struct SH1 final : field<"SH1", bits<29, 28>, std::uint8_t> {};
struct EPD1 final : field<"EPD1", bits<30, 30>, bool> {};
struct V final : field<"V", bits<31, 31>, bool> {};
struct IPS final : field<"IPS", bits<34, 32>, address_size> {};
struct AFFD final : field<"AFFD", bits<35, 35>, bool> {};
struct WXN final : field<"WXN", bits<36, 36>, bool> {};
struct UWXN final : field<"UWXN", bits<37, 37>, bool> {};
struct TBI0 final : field<"TBI0", bits<38, 38>, bool> {};
struct TBI1 final : field<"TBI1", bits<39, 39>, bool> {};
struct PAN final : field<"PAN", bits<40, 40>, bool> {};
struct AA64 final : field<"AA64", bits<41, 41>, bool> {};
struct HD final : field<"HD", bits<42, 42>, bool> {};
struct HA final : field<"HA", bits<43, 43>, bool> {};
struct S final : field<"S", bits<44, 44>, bool> {};
struct R final : field<"R", bits<45, 45>, bool> {};
struct A final : field<"A", bits<46, 46>, bool> {};
struct ASET final : field<"ASET", bits<47, 47>, bool> {};
struct ASID final : field<"ASID", bits<63, 48>, std::uint16_t> {};

// dword 1
struct NSCFG0 final : field<"NSCFG0", bits<64, 64>, bool> {};
struct HAD0 final : field<"HAD0", bits<65, 65>, bool> {};
struct DisCH0 final : field<"DisCH0", bits<65, 65>, bool, vsmmu::layout::access::rw, true> {};
struct E0PD0 final : field<"E0PD0", bits<66, 66>, bool> {};
struct HAFT final : field<"HAFT", bits<67, 67>, bool> {};
// Address bits [55:4]; [55:52] are RES0 unless AA64 selects VMSAv9-128, and [55:48] in
// SMMUv3.0 (IHI 0070 §5.4). Declared at its widest.
struct TTB0 final : field<"TTB0", bits<119, 68>, address> {};
struct PnCH final : field<"PnCH", bits<122, 122>, bool> {};
struct EPAN final : field<"EPAN", bits<123, 123>, bool> {};
struct HWU059 final : field<"HWU059", bits<124, 124>, bool> {};
struct HWU060 final : field<"HWU060", bits<125, 125>, bool> {};
// The spec's "HWU0<x>, bits [127:126]" is HWU061 and HWU062 (descriptor bits [61] and [62]).
struct HWU061 final : field<"HWU061", bits<126, 126>, bool> {};
struct HWU062 final : field<"HWU062", bits<127, 127>, bool> {};
struct SKL0 final : field<"SKL0", bits<127, 126>, std::uint8_t, vsmmu::layout::access::rw, true> {};

// dword 2
struct NSCFG1 final : field<"NSCFG1", bits<128, 128>, bool> {};
struct HAD1 final : field<"HAD1", bits<129, 129>, bool> {};
struct DisCH1 final : field<"DisCH1", bits<129, 129>, bool, vsmmu::layout::access::rw, true> {};
struct E0PD1 final : field<"E0PD1", bits<130, 130>, bool> {};
struct AIE final : field<"AIE", bits<131, 131>, bool> {};
struct TTB1 final : field<"TTB1", bits<183, 132>, address> {};  // as TTB0
struct DS final : field<"DS", bits<186, 186>, bool> {};
struct PIE final : field<"PIE", bits<187, 187>, bool> {};
struct HWU159 final : field<"HWU159", bits<188, 188>, bool> {};
struct HWU160 final : field<"HWU160", bits<189, 189>, bool> {};
// "HWU1<x>, bits [191:190]": HWU161 and HWU162.
struct HWU161 final : field<"HWU161", bits<190, 190>, bool> {};
struct HWU162 final : field<"HWU162", bits<191, 191>, bool> {};
struct SKL1 final : field<"SKL1", bits<191, 190>, std::uint8_t, vsmmu::layout::access::rw, true> {};

// dword 3: MAIR is {MAIR1, MAIR0} as one 64-bit value.
struct MAIR0 final : field<"MAIR0", bits<223, 192>, std::uint32_t> {};
struct MAIR1 final : field<"MAIR1", bits<255, 224>, std::uint32_t> {};

// dword 4
struct AMAIR0 final : field<"AMAIR0", bits<287, 256>, std::uint32_t> {};
struct AMAIR1 final : field<"AMAIR1", bits<319, 288>, std::uint32_t> {};

// dword 5
struct PARTID final : field<"PARTID", bits<367, 352>, std::uint16_t> {};
struct PMG final : field<"PMG", bits<375, 368>, std::uint8_t> {};

// dword 6: PIIU<p> is bits [3p+386:3p+384], the unprivileged permission interpretations.
struct PIIU0 final : field<"PIIU0", bits<386, 384>, std::uint8_t> {};
struct PIIU1 final : field<"PIIU1", bits<389, 387>, std::uint8_t> {};
struct PIIU2 final : field<"PIIU2", bits<392, 390>, std::uint8_t> {};
struct PIIU3 final : field<"PIIU3", bits<395, 393>, std::uint8_t> {};
struct PIIU4 final : field<"PIIU4", bits<398, 396>, std::uint8_t> {};
struct PIIU5 final : field<"PIIU5", bits<401, 399>, std::uint8_t> {};
struct PIIU6 final : field<"PIIU6", bits<404, 402>, std::uint8_t> {};
struct PIIU7 final : field<"PIIU7", bits<407, 405>, std::uint8_t> {};
struct PIIU8 final : field<"PIIU8", bits<410, 408>, std::uint8_t> {};
struct PIIU9 final : field<"PIIU9", bits<413, 411>, std::uint8_t> {};
struct PIIU10 final : field<"PIIU10", bits<416, 414>, std::uint8_t> {};
struct PIIU11 final : field<"PIIU11", bits<419, 417>, std::uint8_t> {};
struct PIIU12 final : field<"PIIU12", bits<422, 420>, std::uint8_t> {};
struct PIIU13 final : field<"PIIU13", bits<425, 423>, std::uint8_t> {};
struct PIIU14 final : field<"PIIU14", bits<428, 426>, std::uint8_t> {};
struct PIIU15 final : field<"PIIU15", bits<431, 429>, std::uint8_t> {};

// dword 7: PIIP<p> is bits [3p+450:3p+448], the privileged permission interpretations.
struct PIIP0 final : field<"PIIP0", bits<450, 448>, std::uint8_t> {};
struct PIIP1 final : field<"PIIP1", bits<453, 451>, std::uint8_t> {};
struct PIIP2 final : field<"PIIP2", bits<456, 454>, std::uint8_t> {};
struct PIIP3 final : field<"PIIP3", bits<459, 457>, std::uint8_t> {};
struct PIIP4 final : field<"PIIP4", bits<462, 460>, std::uint8_t> {};
struct PIIP5 final : field<"PIIP5", bits<465, 463>, std::uint8_t> {};
struct PIIP6 final : field<"PIIP6", bits<468, 466>, std::uint8_t> {};
struct PIIP7 final : field<"PIIP7", bits<471, 469>, std::uint8_t> {};
struct PIIP8 final : field<"PIIP8", bits<474, 472>, std::uint8_t> {};
struct PIIP9 final : field<"PIIP9", bits<477, 475>, std::uint8_t> {};
struct PIIP10 final : field<"PIIP10", bits<480, 478>, std::uint8_t> {};
struct PIIP11 final : field<"PIIP11", bits<483, 481>, std::uint8_t> {};
struct PIIP12 final : field<"PIIP12", bits<486, 484>, std::uint8_t> {};
struct PIIP13 final : field<"PIIP13", bits<489, 487>, std::uint8_t> {};
struct PIIP14 final : field<"PIIP14", bits<492, 490>, std::uint8_t> {};
struct PIIP15 final : field<"PIIP15", bits<495, 493>, std::uint8_t> {};

using layout = vsmmu::layout::layout<
    "CD", 512, std::uint64_t,
    // dword 0
    T0SZ, TG0, IR0, OR0, SH0, EPD0, ENDI, T1SZ, TG1, IR1, OR1, SH1, EPD1, V, IPS, AFFD, WXN, UWXN,
    TBI0, TBI1, PAN, AA64, HD, HA, S, R, A, ASET, ASID,
    // dword 1
    NSCFG0, HAD0, DisCH0, E0PD0, HAFT, TTB0, PnCH, EPAN, HWU059, HWU060, HWU061, HWU062, SKL0,
    // dword 2
    NSCFG1, HAD1, DisCH1, E0PD1, AIE, TTB1, DS, PIE, HWU159, HWU160, HWU161, HWU162, SKL1,
    // dword 3
    MAIR0, MAIR1,
    // dword 4
    AMAIR0, AMAIR1,
    // dword 5
    PARTID, PMG,
    // dword 6
    PIIU0, PIIU1, PIIU2, PIIU3, PIIU4, PIIU5, PIIU6, PIIU7, PIIU8, PIIU9, PIIU10, PIIU11, PIIU12,
    PIIU13, PIIU14, PIIU15,
    // dword 7
    PIIP0, PIIP1, PIIP2, PIIP3, PIIP4, PIIP5, PIIP6, PIIP7, PIIP8, PIIP9, PIIP10, PIIP11, PIIP12,
    PIIP13, PIIP14, PIIP15>;

using value = vsmmu::layout::value<layout>;
using view = vsmmu::layout::view<layout>;
using mutable_view = vsmmu::layout::mutable_view<layout>;

// "CD is a 64-byte structure"; CD tables index CDs by SubstreamID at this stride.
inline constexpr std::size_t size_bytes = 64;
static_assert(layout::byte_count == size_bytes);

// The IMPLEMENTATION DEFINED range per dword: [351:320].
inline constexpr std::array<std::uint64_t, layout::word_count> implementation_defined_mask{
    0, 0, 0, 0, 0, 0x0000'0000'ffff'ffff, 0, 0};
static_assert(vsmmu::layout::outside_declared_fields<layout>(implementation_defined_mask),
              "vsmmu: a CD field overlaps an IMPLEMENTATION DEFINED range");

// True when every RES0 bit (outside every field and the IMPLEMENTATION DEFINED range) is zero.
// Works on a value or a view.
template <class X>
requires std::is_same_v<typename X::layout_type, layout>
[[nodiscard]] constexpr bool res0_bits_clear(const X& x) noexcept {
  return vsmmu::layout::undeclared_bits_clear(x, implementation_defined_mask);
}

}  // namespace vsmmu::smmuv3::cd
