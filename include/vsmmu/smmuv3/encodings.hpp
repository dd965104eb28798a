// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstdint>
#include <optional>

// Field encodings shared by several SMMUv3 structures and registers, with the values IHI 0070
// gives. Values the spec reserves have no enumerator; decoders keep them as they are.
namespace vsmmu::smmuv3 {

// STE.Config, IHI 0070 §5.2.
enum class ste_config : std::uint8_t {
  abort = 0b000,     // 0b001..0b011 are reserved and behave as abort
  bypass = 0b100,
  s1_trans = 0b101,  // stage 1 translates, stage 2 bypasses
  s2_trans = 0b110,  // stage 1 bypasses, stage 2 translates
  nested = 0b111,    // both stages translate
};

// STE.S1Fmt, IHI 0070 §5.2.
enum class s1_fmt : std::uint8_t {
  linear = 0b00,
  two_level_4k = 0b01,   // L2 tables of 64 CDs
  two_level_64k = 0b10,  // L2 tables of 1024 CDs
  // 0b11 reserved, behaves as linear
};

// STE.S1DSS, IHI 0070 §5.2: what a transaction without a SubstreamID does.
enum class s1_dss : std::uint8_t {
  terminate = 0b00,   // abort + F_STREAM_DISABLED
  bypass = 0b01,      // stage 1 bypassed
  substream0 = 0b10,  // use the CD of SubstreamID 0
  // 0b11 reserved, behaves as terminate
};

// STE.EATS, IHI 0070 §5.2.
enum class eats : std::uint8_t {
  abort = 0b00,
  full = 0b01,         // full ATS
  split_stage = 0b10,  // ATS returns stage-1 output (IPA)
  full_dpt = 0b11,     // full ATS with DPT checks (reserved without SMMU_IDR3.DPT)
};

// STE.STRW for the Non-secure Stream table, IHI 0070 §5.2 (0bx1 is ILLEGAL there; 0b01 is
// EL3 for Secure STEs).
enum class strw : std::uint8_t {
  el1 = 0b00,
  el3 = 0b01,  // Secure Stream table only
  el2 = 0b10,  // NS-EL2, or NS-EL2-E2H with SMMU_CR2.E2H = 1
};

// Address sizes as SMMU_IDR5.OAS, CD.IPS and STE.S2PS encode them (IHI 0070 §6.3.6, §5.4,
// §5.2). 0b110 is reserved in SMMUv3.0, 0b111 up to SMMUv3.3.
enum class address_size : std::uint8_t {
  bits32 = 0b000,
  bits36 = 0b001,
  bits40 = 0b010,
  bits42 = 0b011,
  bits44 = 0b100,
  bits48 = 0b101,
  bits52 = 0b110,
  bits56 = 0b111,
};

[[nodiscard]] constexpr unsigned address_bits(address_size s) noexcept {
  constexpr unsigned table[] = {32, 36, 40, 42, 44, 48, 52, 56};
  return table[static_cast<unsigned>(s) & 7U];
}

// Translation granule as CD.TG0 and STE.S2TG encode it (the VMSAv8-64 TCR.TG0 encoding).
enum class granule : std::uint8_t {
  size_4k = 0b00,
  size_64k = 0b01,
  size_16k = 0b10,
  // 0b11 reserved
};

// Translation granule as CD.TG1 encodes it: a different encoding from TG0 (TCR.TG1).
enum class granule_tg1 : std::uint8_t {
  // 0b00 reserved
  size_16k = 0b01,
  size_4k = 0b10,
  size_64k = 0b11,
};

// log2 of the granule size, or nullopt for a reserved encoding.
[[nodiscard]] constexpr std::optional<unsigned> granule_shift(granule g) noexcept {
  switch (g) {
    case granule::size_4k: return 12;
    case granule::size_16k: return 14;
    case granule::size_64k: return 16;
  }
  return std::nullopt;
}
[[nodiscard]] constexpr std::optional<unsigned> granule_shift(granule_tg1 g) noexcept {
  switch (g) {
    case granule_tg1::size_4k: return 12;
    case granule_tg1::size_16k: return 14;
    case granule_tg1::size_64k: return 16;
  }
  return std::nullopt;
}

}  // namespace vsmmu::smmuv3
