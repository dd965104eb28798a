// SPDX-License-Identifier: BSL-1.0
#pragma once

// The field positions of IHI 0070 G.b §5.1 (L1STD), §5.2 (STE), §5.3 (L1CD) and §5.4 (CD), as
// the spec's field headings give them ("## S1ContextPtr, bits [55:6]"), generated from the
// markdown headings by a throwaway script and checked by eye. Heading order is kept, so a few
// entries are out of bit order where the spec's are (CD.V after CD.IPS, CD.ASET before CD.S).
//
// Expansions: "S2POI<p>, bits [4p+451:4p+448], for p = 15 to 0" and CD.PIIU<p> / CD.PIIP<p>
// are listed per p; "HWU0<x>, bits [127:126]" and "HWU1<x>, bits [191:190]" are the spec's
// "HWU062 and HWU061" / "HWU162 and HWU161", listed one bit each.
//
// Headings that name no field are in spec_excluded_headings, with why.
//
// Also here: generic checks of a layout against this table and field round-trip helpers,
// shared by ste_test.cpp, cd_test.cpp and l1_test.cpp.

#include <catch2/catch.hpp>

#include <vsmmu/layout/decode.hpp>
#include <vsmmu/layout/dynamic.hpp>
#include <vsmmu/layout/for_each_field.hpp>
#include <vsmmu/layout/value.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string_view>

namespace vsmmu_test {

struct spec_position {
  std::string_view structure;
  std::string_view field;
  unsigned msb;
  unsigned lsb;
};

// clang-format off
inline constexpr spec_position spec_positions_structures[] = {
    // L1STD, IHI 0070 §5.1
    {"L1STD", "Span", 4, 0},
    {"L1STD", "L2Ptr", 55, 6},
    // STE, IHI 0070 §5.2
    {"STE", "V", 0, 0},
    {"STE", "Config", 3, 1},
    {"STE", "S1Fmt", 5, 4},
    {"STE", "S1ContextPtr", 55, 6},
    {"STE", "S1CDMax", 63, 59},
    {"STE", "S1DSS", 65, 64},
    {"STE", "S1CIR", 67, 66},
    {"STE", "S1COR", 69, 68},
    {"STE", "S1CSH", 71, 70},
    {"STE", "S2HWU59", 72, 72},
    {"STE", "S2HWU60", 73, 73},
    {"STE", "S2HWU61", 74, 74},
    {"STE", "S2HWU62", 75, 75},
    {"STE", "DRE", 76, 76},
    {"STE", "CONT", 80, 77},
    {"STE", "DCP", 81, 81},
    {"STE", "PPAR", 82, 82},
    {"STE", "MEV", 83, 83},
    {"STE", "SW_RESERVED", 87, 84},
    {"STE", "S1PIE", 88, 88},
    {"STE", "S2FWB", 89, 89},
    {"STE", "S1MPAM", 90, 90},
    {"STE", "S1STALLD", 91, 91},
    {"STE", "EATS", 93, 92},
    {"STE", "STRW", 95, 94},
    {"STE", "MemAttr", 99, 96},
    {"STE", "MTCFG", 100, 100},
    {"STE", "ALLOCCFG", 104, 101},
    {"STE", "SHCFG", 109, 108},
    {"STE", "NSCFG", 111, 110},
    {"STE", "PRIVCFG", 113, 112},
    {"STE", "INSTCFG", 115, 114},
    {"STE", "S2VMID", 143, 128},
    {"STE", "S2T0SZ", 165, 160},
    {"STE", "S2SL0", 167, 166},
    {"STE", "S2IR0", 169, 168},
    {"STE", "S2OR0", 171, 170},
    {"STE", "S2SH0", 173, 172},
    {"STE", "S2TG", 175, 174},
    {"STE", "S2PS", 178, 176},
    {"STE", "S2AA64", 179, 179},
    {"STE", "S2ENDI", 180, 180},
    {"STE", "S2AFFD", 181, 181},
    {"STE", "S2PTW", 182, 182},
    {"STE", "S2HD", 183, 183},
    {"STE", "S2HA", 184, 184},
    {"STE", "S2S", 185, 185},
    {"STE", "S2R", 186, 186},
    {"STE", "S2HAFT", 187, 187},
    {"STE", "S2PIE", 188, 188},
    {"STE", "S2POE", 189, 189},
    {"STE", "DPT_VMATCH", 191, 190},
    {"STE", "S2NSW", 192, 192},
    {"STE", "S2NSA", 193, 193},
    {"STE", "S2SL0_2", 194, 194},
    {"STE", "S2DS", 195, 195},
    {"STE", "S2TTB", 247, 196},
    {"STE", "S2SKL", 254, 253},
    {"STE", "PARTID", 287, 272},
    {"STE", "S_S2T0SZ", 293, 288},
    {"STE", "S_S2SL0", 295, 294},
    {"STE", "S_S2TG", 303, 302},
    {"STE", "MECID", 319, 304},
    {"STE", "PMG", 327, 320},
    {"STE", "MPAM_NS", 328, 328},
    {"STE", "AssuredOnly", 329, 329},
    {"STE", "TL0", 330, 330},
    {"STE", "TL1", 331, 331},
    {"STE", "VMSPtr", 375, 332},
    {"STE", "S2SW", 384, 384},
    {"STE", "S2SA", 385, 385},
    {"STE", "S_S2SL0_2", 386, 386},
    {"STE", "S_S2TTB", 439, 388},
    {"STE", "S_S2SKL", 446, 445},
    // S2POI<p>, bits [4p+451:4p+448], for p = 15 to 0
    {"STE", "S2POI0", 451, 448},
    {"STE", "S2POI1", 455, 452},
    {"STE", "S2POI2", 459, 456},
    {"STE", "S2POI3", 463, 460},
    {"STE", "S2POI4", 467, 464},
    {"STE", "S2POI5", 471, 468},
    {"STE", "S2POI6", 475, 472},
    {"STE", "S2POI7", 479, 476},
    {"STE", "S2POI8", 483, 480},
    {"STE", "S2POI9", 487, 484},
    {"STE", "S2POI10", 491, 488},
    {"STE", "S2POI11", 495, 492},
    {"STE", "S2POI12", 499, 496},
    {"STE", "S2POI13", 503, 500},
    {"STE", "S2POI14", 507, 504},
    {"STE", "S2POI15", 511, 508},
    // L1CD, IHI 0070 §5.3
    {"L1CD", "V", 0, 0},
    {"L1CD", "L2Ptr", 55, 12},
    // CD, IHI 0070 §5.4
    {"CD", "T0SZ", 5, 0},
    {"CD", "TG0", 7, 6},
    {"CD", "IR0", 9, 8},
    {"CD", "OR0", 11, 10},
    {"CD", "SH0", 13, 12},
    {"CD", "EPD0", 14, 14},
    {"CD", "ENDI", 15, 15},
    {"CD", "T1SZ", 21, 16},
    {"CD", "TG1", 23, 22},
    {"CD", "IR1", 25, 24},
    {"CD", "OR1", 27, 26},
    {"CD", "SH1", 29, 28},
    {"CD", "EPD1", 30, 30},
    {"CD", "IPS", 34, 32},
    {"CD", "V", 31, 31},
    {"CD", "AFFD", 35, 35},
    {"CD", "WXN", 36, 36},
    {"CD", "UWXN", 37, 37},
    {"CD", "TBI0", 38, 38},
    {"CD", "TBI1", 39, 39},
    {"CD", "PAN", 40, 40},
    {"CD", "AA64", 41, 41},
    {"CD", "HD", 42, 42},
    {"CD", "HA", 43, 43},
    {"CD", "ASET", 47, 47},
    {"CD", "S", 44, 44},
    {"CD", "R", 45, 45},
    {"CD", "A", 46, 46},
    {"CD", "ASID", 63, 48},
    {"CD", "NSCFG0", 64, 64},
    // Bit [65]: DisCH0 when SMMU_IDR5.D128 == 1, otherwise HAD0
    {"CD", "DisCH0", 65, 65},
    {"CD", "HAD0", 65, 65},
    {"CD", "E0PD0", 66, 66},
    {"CD", "HAFT", 67, 67},
    {"CD", "TTB0", 119, 68},
    {"CD", "PnCH", 122, 122},
    {"CD", "EPAN", 123, 123},
    {"CD", "HWU059", 124, 124},
    {"CD", "HWU060", 125, 125},
    // Bits [127:126]: SKL0 when SMMU_IDR5.D128 == 1, otherwise HWU0<x>
    {"CD", "SKL0", 127, 126},
    {"CD", "HWU061", 126, 126},
    {"CD", "HWU062", 127, 127},
    {"CD", "NSCFG1", 128, 128},
    // Bit [129]: DisCH1 when SMMU_IDR5.D128 == 1, otherwise HAD1
    {"CD", "DisCH1", 129, 129},
    {"CD", "HAD1", 129, 129},
    {"CD", "E0PD1", 130, 130},
    {"CD", "AIE", 131, 131},
    {"CD", "TTB1", 183, 132},
    {"CD", "DS", 186, 186},
    {"CD", "PIE", 187, 187},
    {"CD", "HWU159", 188, 188},
    {"CD", "HWU160", 189, 189},
    // Bits [191:190]: SKL1 when SMMU_IDR5.D128 == 1, otherwise HWU1<x>
    {"CD", "SKL1", 191, 190},
    {"CD", "HWU161", 190, 190},
    {"CD", "HWU162", 191, 191},
    {"CD", "MAIR0", 223, 192},
    {"CD", "MAIR1", 255, 224},
    {"CD", "AMAIR0", 287, 256},
    {"CD", "AMAIR1", 319, 288},
    {"CD", "PARTID", 367, 352},
    {"CD", "PMG", 375, 368},
    // PIIU<p>, bits [3p+386:3p+384], for p = 15 to 0
    {"CD", "PIIU0", 386, 384},
    {"CD", "PIIU1", 389, 387},
    {"CD", "PIIU2", 392, 390},
    {"CD", "PIIU3", 395, 393},
    {"CD", "PIIU4", 398, 396},
    {"CD", "PIIU5", 401, 399},
    {"CD", "PIIU6", 404, 402},
    {"CD", "PIIU7", 407, 405},
    {"CD", "PIIU8", 410, 408},
    {"CD", "PIIU9", 413, 411},
    {"CD", "PIIU10", 416, 414},
    {"CD", "PIIU11", 419, 417},
    {"CD", "PIIU12", 422, 420},
    {"CD", "PIIU13", 425, 423},
    {"CD", "PIIU14", 428, 426},
    {"CD", "PIIU15", 431, 429},
    // PIIP<p>, bits [3p+450:3p+448], for p = 15 to 0
    {"CD", "PIIP0", 450, 448},
    {"CD", "PIIP1", 453, 451},
    {"CD", "PIIP2", 456, 454},
    {"CD", "PIIP3", 459, 457},
    {"CD", "PIIP4", 462, 460},
    {"CD", "PIIP5", 465, 463},
    {"CD", "PIIP6", 468, 466},
    {"CD", "PIIP7", 471, 469},
    {"CD", "PIIP8", 474, 472},
    {"CD", "PIIP9", 477, 475},
    {"CD", "PIIP10", 480, 478},
    {"CD", "PIIP11", 483, 481},
    {"CD", "PIIP12", 486, 484},
    {"CD", "PIIP13", 489, 487},
    {"CD", "PIIP14", 492, 490},
    {"CD", "PIIP15", 495, 493},
};
// clang-format on

// Headings that name no field, kept so that every bit of each structure is accounted for.
enum class excluded_kind : unsigned char {
  res0,                    // "Reserved, RES0."
  implementation_defined,  // left undeclared by our headers (the spec gives them one name)
  alternatives,            // a range whose fields depend on SMMU_IDR5.D128, listed above
};

struct spec_excluded {
  std::string_view structure;
  std::string_view heading;
  unsigned msb;
  unsigned lsb;
  excluded_kind kind;
};

// The markdown moved some headings away from their text (STE "Bit [255]", "Bit [387]" and
// "Bit [447]" from their "Reserved, RES0.", CD "Bit [65]" and "Bit [129]" from the fields that
// share them); their positions are in the headings themselves, so nothing is lost.
// clang-format off
inline constexpr spec_excluded spec_excluded_headings[] = {
    {"L1STD", "Bit [5]", 5, 5, excluded_kind::res0},
    {"L1STD", "Bits [63:56]", 63, 56, excluded_kind::res0},
    {"STE", "Bits [58:56]", 58, 56, excluded_kind::res0},
    {"STE", "Bits [107:105]", 107, 105, excluded_kind::res0},
    {"STE", "IMPLEMENTATION DEFINED [127:116]", 127, 116, excluded_kind::implementation_defined},
    {"STE", "IMPLEMENTATION DEFINED [159:144]", 159, 144, excluded_kind::implementation_defined},
    {"STE", "Bits [252:248]", 252, 248, excluded_kind::res0},
    {"STE", "Bit [255]", 255, 255, excluded_kind::res0},
    {"STE", "IMPLEMENTATION DEFINED [271:256]", 271, 256, excluded_kind::implementation_defined},
    {"STE", "Bits [301:296]", 301, 296, excluded_kind::res0},
    {"STE", "Bits [383:376]", 383, 376, excluded_kind::res0},
    {"STE", "Bit [387]", 387, 387, excluded_kind::res0},
    {"STE", "Bits [444:440]", 444, 440, excluded_kind::res0},
    {"STE", "Bit [447]", 447, 447, excluded_kind::res0},
    {"L1CD", "Bits [11:1]", 11, 1, excluded_kind::res0},
    {"L1CD", "Bits [63:56]", 63, 56, excluded_kind::res0},
    {"CD", "Bit [65]", 65, 65, excluded_kind::alternatives},
    {"CD", "Bits [121:120]", 121, 120, excluded_kind::res0},
    {"CD", "Bits [127:126]", 127, 126, excluded_kind::alternatives},
    {"CD", "Bit [129]", 129, 129, excluded_kind::alternatives},
    {"CD", "Bits [185:184]", 185, 184, excluded_kind::res0},
    {"CD", "Bits [191:190]", 191, 190, excluded_kind::alternatives},
    {"CD", "IMPLEMENTATION DEFINED [351:320]", 351, 320, excluded_kind::implementation_defined},
    {"CD", "Bits [383:376]", 383, 376, excluded_kind::res0},
    {"CD", "Bits [447:432]", 447, 432, excluded_kind::res0},
    {"CD", "Bits [511:496]", 511, 496, excluded_kind::res0},
};
// clang-format on

// The table row for structure.field, or nullptr.
[[nodiscard]] constexpr const spec_position* spec_row(std::string_view structure,
                                                      std::string_view field) {
  for (const auto& row : spec_positions_structures) {
    if (row.structure == structure && row.field == field) return &row;
  }
  return nullptr;
}

// The layout's field called `name` (reserved ranges excluded), or nullptr.
template <class L>
[[nodiscard]] constexpr const vsmmu::layout::field_info* layout_field(std::string_view name) {
  for (const auto& f : L::field_infos) {
    if (!f.is_reserved() && f.name == name) return &f;
  }
  return nullptr;
}

// Disagreements between layout L and the table's rows for L::name, both ways: a field the
// table lacks or places elsewhere, and a row no field of L matches. Zero when they agree.
template <class L>
[[nodiscard]] constexpr std::size_t position_mismatches() {
  std::size_t count = 0;
  for (const auto& f : L::field_infos) {
    if (f.is_reserved()) continue;
    const auto* row = spec_row(L::name, f.name);
    if (row == nullptr || row->msb != f.msb || row->lsb != f.lsb) ++count;
  }
  for (const auto& row : spec_positions_structures) {
    if (row.structure != L::name) continue;
    const auto* f = layout_field<L>(row.field);
    if (f == nullptr || f->msb != row.msb || f->lsb != row.lsb) ++count;
  }
  return count;
}

// Every bit of L is claimed exactly once by a non-alias field, a RES0 heading or an IMPLEMENTATION
// DEFINED heading; the version-dependent ranges are covered by fields (primary and alias).
template <class L>
[[nodiscard]] constexpr bool bits_accounted() {
  std::array<unsigned, L::bit_count> claims{};
  std::array<bool, L::bit_count> in_alias{};
  for (const auto& f : L::field_infos) {
    for (unsigned b = f.lsb; b <= f.msb; ++b) {
      if (f.alias) {
        in_alias[b] = true;
      } else {
        ++claims[b];
      }
    }
  }
  for (const auto& e : spec_excluded_headings) {
    if (e.structure != L::name) continue;
    for (unsigned b = e.lsb; b <= e.msb; ++b) {
      if (e.kind == excluded_kind::alternatives) {
        if (claims[b] == 0 || !in_alias[b]) return false;
      } else {
        ++claims[b];
      }
    }
  }
  for (const unsigned c : claims) {
    if (c != 1) return false;
  }
  return true;
}

// Bits [msb:lsb] of `words` replaced by `raw`: where a field's bits must land, computed bit by
// bit without the library's extract/insert.
template <class L>
[[nodiscard]] constexpr auto with_bits(std::array<typename L::word_type, L::word_count> words,
                                       unsigned msb, unsigned lsb, std::uint64_t raw) {
  using word = typename L::word_type;
  for (unsigned b = lsb; b <= msb; ++b) {
    const auto mask = static_cast<word>(word{1} << (b % L::word_bits));
    auto& w = words[b / L::word_bits];
    w = ((raw >> (b - lsb)) & 1U) != 0 ? static_cast<word>(w | mask) : static_cast<word>(w & ~mask);
  }
  return words;
}

// Sets every field of L in turn, with random values over a random background, through the
// owning value, the byte views and the run-time description, and checks each lands at its
// bits, reads back, and leaves every other bit alone.
template <class L>
void check_fields_round_trip(std::uint64_t seed, int rounds = 8) {
  namespace vl = vsmmu::layout;
  std::mt19937_64 rng(seed);  // fixed seed: the same values on every run and platform
  const vl::layout_info info = vl::info_of_layout<L>();
  for (int round = 0; round < rounds; ++round) {
    vl::value<L> background;
    for (auto& w : background.words()) w = static_cast<typename L::word_type>(rng());
    vl::for_each_field<L>([&](auto t) {
      using F = typename decltype(t)::type;
      INFO(L::name << "." << F::name << " round " << round);
      const std::uint64_t raw = rng() & F::raw_mask;
      const typename F::value_type v = F::from_raw(raw);
      const auto expected = with_bits<L>(background.words(), F::msb, F::lsb, raw);

      vl::value<L> x = background;
      x.template set<F>(v);
      CHECK(x.words() == expected);
      CHECK(x.template get<F>() == v);
      CHECK(x.template raw<F>() == raw);
      CHECK(background.template with<F>(v) == x);

      auto bytes = background.bytes();
      vl::mutable_view<L> writer(bytes);
      writer.template set<F>(v);
      CHECK(vl::value<L>::from_bytes(bytes) == x);
      CHECK(vl::view<L>(bytes).template get<F>() == v);

      const vl::field_info* dynamic = info.find(F::name);
      REQUIRE(dynamic != nullptr);
      CHECK(vl::read_value(*dynamic, bytes) == F::to_raw(v));
      auto dynamic_bytes = background.bytes();
      CHECK(vl::write_value(*dynamic, dynamic_bytes, F::to_raw(v)));
      CHECK(dynamic_bytes == bytes);
    });
  }
}

// decode -> encode keeps every declared bit and drops the rest; encode -> decode gives back
// every non-alias field's value.
template <class L>
void check_decode_encode(std::uint64_t seed, int rounds = 8) {
  namespace vl = vsmmu::layout;
  std::mt19937_64 rng(seed);
  for (int round = 0; round < rounds; ++round) {
    INFO(L::name << " round " << round);
    vl::value<L> noisy;
    vl::value<L> declared;
    for (std::size_t i = 0; i < L::word_count; ++i) {
      noisy.words()[i] = static_cast<typename L::word_type>(rng());
      declared.words()[i] =
          static_cast<typename L::word_type>(noisy.words()[i] & L::declared_mask[i]);
    }
    CHECK(vl::encode(vl::decode(noisy)) == declared);
    CHECK(declared.undeclared_bits_clear());

    vl::decoded<L> chosen;
    vl::for_each_field<L>([&](auto t) {
      using F = typename decltype(t)::type;
      if constexpr (!F::alias) chosen.template get<F>() = F::from_raw(rng());
    });
    const vl::value<L> encoded = vl::encode(chosen);
    const vl::decoded<L> back = vl::decode(encoded);
    vl::for_each_field<L>([&](auto t) {
      using F = typename decltype(t)::type;
      INFO(F::name);
      // An alias reads back whatever its primaries were given (cd_test checks which).
      if constexpr (!F::alias) CHECK(back.template get<F>() == chosen.template get<F>());
    });
    CHECK(vl::encode(back) == encoded);
  }
}

}  // namespace vsmmu_test
