// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/smmuv3/features.hpp>
#include <vsmmu/smmuv3/registers/control.hpp>
#include <vsmmu/smmuv3/registers/queues.hpp>
#include <vsmmu/walk/smmu_features.hpp>

#include <cstdint>

// The walker's inputs from register values: smmu_features from SMMU_IDR0/1/5, smmu_state from
// those plus SMMU_CR0, SMMU_CR2, SMMU_GBPA, SMMU_STRTAB_BASE and SMMU_STRTAB_BASE_CFG
// (IHI 0070 §6.3).
namespace vsmmu::walk {

[[nodiscard]] constexpr smmu_features features_from(const smmuv3::id_registers& id) noexcept {
  namespace R = smmuv3::regs;
  smmu_features f;
  f.s1p = id.get<R::idr0::S1P>();
  f.s2p = id.get<R::idr0::S2P>();
  f.two_level_stream_table = id.get<R::idr0::ST_LEVEL>() == R::st_level::two_level;
  f.cd2l = id.get<R::idr0::CD2L>();
  f.ats = id.get<R::idr0::ATS>();
  f.ns1ats = id.get<R::idr0::NS1ATS>();
  f.asid16 = id.get<R::idr0::ASID16>();
  f.vmid16 = id.get<R::idr0::VMID16>();
  f.hyp = id.get<R::idr0::Hyp>();
  f.term_model = id.get<R::idr0::TERM_MODEL>();
  // Reserved STALL_MODEL 0b11 is taken as "no stall", the conservative reading.
  const auto stall = static_cast<unsigned>(id.get<R::idr0::STALL_MODEL>());
  f.stall_model = stall <= 0b10 ? static_cast<stall_model>(stall) : stall_model::terminate_only;
  // HTTU 0b11 adds table Access flag updates (HAFT), which the model does not use.
  const auto h = static_cast<unsigned>(id.get<R::idr0::HTTU>());
  f.httu = h == 0 ? httu::none : h == 1 ? httu::access_flag : httu::access_and_dirty;
  const auto e = static_cast<unsigned>(id.get<R::idr0::TTENDIAN>());
  f.ttendian = e == 0b10 ? tt_endian::little : e == 0b11 ? tt_endian::big : tt_endian::mixed;
  f.aa64_tables = (static_cast<unsigned>(id.get<R::idr0::TTF>()) & 0b10) != 0;
  f.sidsize = id.get<R::idr1::SIDSIZE>();
  f.ssidsize = id.get<R::idr1::SSIDSIZE>();
  f.oas = id.get<R::idr5::OAS>();
  f.gran4k = id.get<R::idr5::GRAN4K>();
  f.gran16k = id.get<R::idr5::GRAN16K>();
  f.gran64k = id.get<R::idr5::GRAN64K>();
  f.vax52 = id.get<R::idr5::VAX>() != R::vax::bits48;
  f.ds = id.get<R::idr5::DS>();
  return f;
}

// Register values as a guest (or the CLI's --reg) programs them.
struct control_registers {
  std::uint32_t cr0 = 0;
  std::uint32_t cr2 = 0;
  std::uint32_t gbpa = 0;
  std::uint64_t strtab_base = 0;
  std::uint32_t strtab_base_cfg = 0;
};

[[nodiscard]] constexpr smmu_state state_from(const smmuv3::id_registers& id,
                                              const control_registers& c) noexcept {
  namespace R = smmuv3::regs;
  smmu_state st;
  st.features = features_from(id);
  st.smmuen = R::cr0::value{{c.cr0}}.get<R::cr0::SMMUEN>();
  st.recinvsid = R::cr2::value{{c.cr2}}.get<R::cr2::RECINVSID>();
  st.gbpa_abort = R::gbpa::value{{c.gbpa}}.get<R::gbpa::ABORT>();
  st.strtab.base = R::strtab_base::value{{c.strtab_base}}.get<R::strtab_base::ADDR>();
  const R::strtab_base_cfg::value cfg{{c.strtab_base_cfg}};
  // FMT values other than 0b01 are reserved and behave as linear.
  st.strtab.two_level = cfg.get<R::strtab_base_cfg::FMT>() == R::strtab_fmt::two_level;
  st.strtab.split = cfg.get<R::strtab_base_cfg::SPLIT>();
  st.strtab.log2size = cfg.get<R::strtab_base_cfg::LOG2SIZE>();
  return st;
}

}  // namespace vsmmu::walk
