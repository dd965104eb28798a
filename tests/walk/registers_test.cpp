// The walker's inputs decoded from SMMU register values (IHI 0070 §6.3).

#include <catch2/catch.hpp>

#include <vsmmu/walk/from_registers.hpp>

#include "walk/fixture.hpp"

using namespace fx;
namespace R = vsmmu::smmuv3::regs;

TEST_CASE("smmu_features from the ID registers", "[walk][registers]") {
  const auto id = vsmmu::smmuv3::default_id_registers;
  const auto f = vw::features_from(id);
  // vsmmu's reset feature set (registers/id.hpp): both stages, AArch64 tables, 4KB and 64KB,
  // OAS 48, 16-bit StreamIDs and SubstreamIDs.
  CHECK(f.s1p);
  CHECK(f.s2p);
  CHECK(f.aa64_tables);
  CHECK(f.gran4k);
  CHECK_FALSE(f.gran16k);
  CHECK(f.gran64k);
  CHECK(f.oas == address_size::bits48);
  CHECK(f.sidsize == 16);
  CHECK(f.ssidsize == 16);

  const auto g = vw::features_from(id.with<R::idr0::STALL_MODEL>(R::stall_model::stall_forced)
                                       .with<R::idr0::HTTU>(R::httu::access_flag)
                                       .with<R::idr0::TTF>(R::ttf::aarch32_lpae)
                                       .with<R::idr5::OAS>(address_size::bits40)
                                       .with<R::idr1::SIDSIZE>(5));
  CHECK(g.stall_model == vw::stall_model::stall_forced);
  CHECK(g.httu == vw::httu::access_flag);
  CHECK_FALSE(g.aa64_tables);
  CHECK(g.oas_bits() == 40);
  CHECK(g.sidsize == 5);
  // Without VMSAv8-64 tables every translating STE and CD is ILLEGAL.
  const auto s2 = with_s2(s1_ste().with<S::Config>(ste_config::s2_trans), 0x10000, 40, 1);
  const auto aarch32_only = vw::features_from(id.with<R::idr0::TTF>(R::ttf::aarch32_lpae));
  CHECK(vw::decode_ste(s2, vw::features_from(id)).error == vw::ste_error::none);
  CHECK(vw::decode_ste(s2, aarch32_only).error == vw::ste_error::s2aa64);
  CHECK(vw::decode_cd(s1_cd(0x10000), vw::stream_config{}, aarch32_only).error ==
        vw::cd_error::aa64);
}

TEST_CASE("smmu_state from control registers drives a translation", "[walk][registers]") {
  auto w = make_world();
  w->put_ste(S::value{}.with<S::V>(true).with<S::Config>(ste_config::bypass), 3);
  vw::control_registers c;
  c.cr0 = 1;                      // SMMUEN
  c.cr2 = 1U << 1;                // RECINVSID
  c.strtab_base = strtab | 0x3f;  // ADDR is bits [55:6]
  c.strtab_base_cfg = 4;          // linear, LOG2SIZE 4
  auto st = vw::state_from(vsmmu::smmuv3::default_id_registers, c);
  CHECK(st.strtab.base == strtab);
  CHECK(st.strtab.log2size == 4);
  CHECK_FALSE(st.strtab.two_level);
  CHECK(vw::translate(w->mem, st, read_at(0x1234, 3)).kind == vw::outcome::bypass);
  CHECK(vw::translate(w->mem, st, read_at(0x1234, 16)).event.type() == E::type::c_bad_streamid);

  c.strtab_base_cfg = (1U << 16) | (8U << 6) | 16;  // 2-level, SPLIT 8, LOG2SIZE 16
  st = vw::state_from(vsmmu::smmuv3::default_id_registers, c);
  CHECK(st.strtab.two_level);
  CHECK(st.strtab.split == 8);

  c.cr0 = 0;
  c.gbpa = 1U << 20;  // ABORT
  st = vw::state_from(vsmmu::smmuv3::default_id_registers, c);
  const auto r = vw::translate(w->mem, st, read_at(0x1234, 3));
  CHECK(r.kind == vw::outcome::abort);
  CHECK_FALSE(r.has_event);
}
