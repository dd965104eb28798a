#pragma once

// The guest memory image docs/cli.md translates through (tests/cli/data/translate.bin, loaded at
// PA 0): built here with the table builder so that the binary file can be checked and rebuilt.
//
//   0x0000  linear Stream table, 8 STEs (STRTAB_BASE_CFG = 0x3: linear, LOG2SIZE 3)
//           SID 0 bypass, 1 stage 1, 2 Config abort, 3 stage 1 with CD.A = 0 (RAZ/WI),
//           4 stage 2 (QEMU's qtest parameters: 4KB, S2T0SZ 0x14, S2SL0 2, S2PS 0b101)
//   0x0800  CD of SID 1; 0x0840 CD of SID 3 (same tables, ASID 2)
//   0x1000  translation tables, to the end of the image (0x9000)
//
// Stage 1 (4KB, 48-bit VA, IPS 48): VA 0x1000'0000 -> PA 0x8'0000'0000, 4KB, read/write;
// VA 0x1000'1000 -> PA 0x8'0000'5000, 4KB, read-only, not executable; VA 0x4020'0000 ->
// PA 0x9'0020'0000, 2MB block. Stage 2: IPA 0x8000'0000 -> PA 0x1'2340'0000, 2MB, read-only.

#include <vsmmu/memory/flat.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/testing/table_builder.hpp>

#include <cstdint>

namespace translate_image {

inline constexpr std::uint64_t size = 0x9000;
using memory = vsmmu::memory::flat_memory<size>;

// The image's stage 1 CD: 4KB granule, 48-bit VA (TTB0 only) and IPS, A = R = 1, ASID 0.
constexpr vsmmu::smmuv3::cd::value stage1_cd(std::uint64_t ttb0) {
  namespace C = vsmmu::smmuv3::cd;
  C::value cd;
  cd.set<C::V>(true)
      .set<C::AA64>(true)
      .set<C::T0SZ>(16)
      .set<C::TG0>(vsmmu::smmuv3::granule::size_4k)
      .set<C::EPD1>(true)
      .set<C::IPS>(vsmmu::smmuv3::address_size::bits48)
      .set<C::A>(true)
      .set<C::R>(true)
      .set<C::TTB0>(ttb0);
  return cd;
}

constexpr void build(memory& mem) {
  namespace S = vsmmu::smmuv3::ste;
  namespace C = vsmmu::smmuv3::cd;
  using vsmmu::smmuv3::address_size;
  using vsmmu::smmuv3::granule;
  using vsmmu::smmuv3::ste_config;
  vsmmu::testing::table_builder b(mem, 0x1000, size - 0x1000);
  const vsmmu::walk::stream_table_config st{0, false, 6, 3};

  const auto s1 = vsmmu::testing::s1_format(12, 48);
  const std::uint64_t root = b.new_root(s1);
  b.map(s1, root, 0x1000'0000, 0x8'0000'0000, 3);
  b.map(s1, root, 0x1000'1000, 0x8'0000'5000, 3, {.write = false, .exec = false});
  b.map(s1, root, 0x4020'0000, 0x9'0020'0000, 2);
  const C::value cd = stage1_cd(root).with<C::ASID>(1);
  b.install_cd(0x800, vsmmu::smmuv3::s1_fmt::linear, 0, 0, cd);
  b.install_cd(0x840, vsmmu::smmuv3::s1_fmt::linear, 0, 0, cd.with<C::A>(false).with<C::ASID>(2));

  const auto s2 = vsmmu::testing::s2_format(12, 44, 0);
  const std::uint64_t s2root = b.new_root(s2);
  b.map(s2, s2root, 0x8000'0000, 0x1'2340'0000, 2, {.write = false});

  S::value ste;
  ste.set<S::V>(true);
  b.install_ste(st, 0, ste.with<S::Config>(ste_config::bypass));
  b.install_ste(st, 1, ste.with<S::Config>(ste_config::s1_trans).with<S::S1ContextPtr>(0x800));
  b.install_ste(st, 2, ste.with<S::Config>(ste_config::abort));
  b.install_ste(st, 3, ste.with<S::Config>(ste_config::s1_trans).with<S::S1ContextPtr>(0x840));
  b.install_ste(st, 4,
                ste.with<S::Config>(ste_config::s2_trans)
                    .with<S::S2T0SZ>(0x14)
                    .with<S::S2SL0>(2)
                    .with<S::S2TG>(granule::size_4k)
                    .with<S::S2PS>(address_size::bits48)
                    .with<S::S2AA64>(true)
                    .with<S::S2R>(true)
                    .with<S::S2VMID>(1)
                    .with<S::S2TTB>(s2root));
}

}  // namespace translate_image
