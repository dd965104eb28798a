// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/smmuv3/encodings.hpp>

#include <cstdint>

// What the walker needs to know about the SMMU it models: decoded ID-register features and the
// few control-register settings that steer a translation. Plain structs, so that tests and
// embedders can write them directly; they will be fed from SMMU_IDRx / SMMU_CRx
// (smmuv3/features.hpp) once that is wired up.
//
// The model is the Non-secure programming interface of an SMMUv3.1+ with VMSAv8-64 tables only
// (SMMU_IDR0.TTF == 0b10): no Secure or Realm state, no VMSAv8-32 LPAE, no VMSAv9-128.
namespace vsmmu::walk {

// SMMU_IDR0.STALL_MODEL (IHI 0070 §6.3.1).
enum class stall_model : std::uint8_t {
  stall_and_terminate = 0b00,  // both supported, chosen per CD/STE
  terminate_only = 0b01,       // no stall: CD.S / STE.S2S == 1 is ILLEGAL
  stall_forced = 0b10,         // stall forced: CD.S / STE.S2S == 0 is ILLEGAL
};

// SMMU_IDR0.HTTU: hardware update of the Access flag and dirty state.
enum class httu : std::uint8_t { none = 0b00, access_flag = 0b01, access_and_dirty = 0b10 };

// SMMU_IDR0.TTENDIAN: translation table endianness the SMMU can walk.
enum class tt_endian : std::uint8_t { mixed = 0b00, little = 0b10, big = 0b11 };

struct smmu_features {
  // SMMU_IDR0
  bool s1p = true;                     // stage 1 implemented
  bool s2p = true;                     // stage 2 implemented
  bool two_level_stream_table = true;  // ST_LEVEL == 0b01
  bool cd2l = true;                    // two-level CD tables
  bool ats = false;
  bool ns1ats = false;  // split-stage ATS not supported
  bool asid16 = true;
  bool vmid16 = true;
  bool hyp = false;
  bool aa64_tables = true;  // TTF[1]: VMSAv8-64 tables (the only format this model walks)
  bool term_model = false;  // 1: CD.A == 0 (RAZ/WI termination) not supported
  walk::stall_model stall_model = walk::stall_model::stall_and_terminate;
  walk::httu httu = walk::httu::none;
  tt_endian ttendian = tt_endian::mixed;
  // SMMU_IDR1
  unsigned sidsize = 16;   // StreamID bits, 0..32
  unsigned ssidsize = 20;  // SubstreamID bits, 0..20
  // SMMU_IDR5
  smmuv3::address_size oas = smmuv3::address_size::bits48;
  bool gran4k = true;
  bool gran16k = true;
  bool gran64k = true;
  bool vax52 = false;  // VAX == 0b01: 52-bit VAs with the 64KB granule
  bool ds = false;     // DS: FEAT_LPA2 (CD.DS: 52-bit addresses with 4KB and 16KB granules)

  [[nodiscard]] constexpr unsigned oas_bits() const noexcept { return smmuv3::address_bits(oas); }
  // IHI 0070 §3.4: IAS == OAS without VMSAv8-32 LPAE support.
  [[nodiscard]] constexpr unsigned ias_bits() const noexcept { return oas_bits(); }
  [[nodiscard]] constexpr bool granule_supported(unsigned shift) const noexcept {
    return (shift == 12 && gran4k) || (shift == 14 && gran16k) || (shift == 16 && gran64k);
  }
};

// SMMU_STRTAB_BASE / SMMU_STRTAB_BASE_CFG (IHI 0070 §6.3.24, §6.3.25), decoded.
struct stream_table_config {
  std::uint64_t base = 0;  // STRTAB_BASE.ADDR, bits [55:6]
  bool two_level = false;  // FMT == 0b01
  unsigned split = 6;      // SPLIT; reserved values behave as 6
  unsigned log2size = 0;   // LOG2SIZE
};

// The SMMU's register state a translation depends on.
struct smmu_state {
  smmu_features features{};
  bool smmuen = true;       // SMMU_CR0.SMMUEN
  bool gbpa_abort = false;  // SMMU_GBPA.ABORT, used when SMMUEN == 0
  bool recinvsid = true;    // SMMU_CR2.RECINVSID: record C_BAD_STREAMID
  stream_table_config strtab{};
};

}  // namespace vsmmu::walk
