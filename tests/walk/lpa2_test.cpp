// FEAT_LPA2 at stage 1 (CD.DS with SMMU_IDR5.DS, IHI 0070 §5.4 DS; DDI 0487 D8 "52-bit
// addresses with the 4KB and 16KB granules"): OA[51:50] in descriptor bits [9:8], shareability
// from CD.SHx, 52-bit VAs (start level -1 with 4KB), 512GB / 64GB blocks, TTBx above 48 bits.

#include <vsmmu/testing/counting_memory.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <span>
#include <utility>

#include "walk/fixture.hpp"

using namespace fx;
using vw::outcome;

namespace {

// An SMMU with DS, 52-bit VAs and a 52-bit OAS.
void lpa2_smmu(world& w) {
  w.st.features.ds = true;
  w.st.features.vax52 = true;
  w.st.features.oas = address_size::bits52;
}

C::value ds_cd(std::uint64_t root, unsigned ia_bits, granule g) {
  return s1_cd(root, ia_bits, g, address_size::bits52).with<C::DS>(true).with<C::SH0>(2);
}

using counted = vsmmu::testing::counting_memory<world::mem_type>;

}  // namespace

TEST_CASE("LPA2: 4KB, 52-bit VA and PA, five lookups from level -1", "[walk][lpa2]") {
  auto w = make_world();
  lpa2_smmu(*w);
  const auto fmt = vt::s1_format(12, 52, 52, true);
  REQUIRE(fmt.start_level == -1);
  REQUIRE(fmt.start_table_bytes() == 128);  // IA[51:48]: 16 entries
  const auto root = w->b.new_root(fmt);
  w->put_ste(s1_ste());
  w->put_cd(ds_cd(root, 52, granule::size_4k));

  SECTION("a page with OA[51:50] set") {
    const std::uint64_t va = 0x000a'bcde'f012'3000;
    const std::uint64_t pa = 0x000f'1234'5678'9000;
    const auto leaf = w->b.map(fmt, root, va, pa, 3);
    CHECK(w->b.descriptor_address(fmt, root, va, -1) == root + 0xa * 8);
    // The descriptor holds OA[49:12] in place and OA[51:50] in bits [9:8]; no SH bits.
    CHECK(((w->b.read64(leaf) >> 8) & 3) == 3);
    CHECK(((w->b.read64(leaf) >> 12) & 0x3'ffff'ffffULL) == ((pa >> 12) & 0x3'ffff'ffffULL));
    counted c{&w->mem};
    const auto r = vw::translate(c, w->st, read_at(va + 0xabc));
    REQUIRE(r.kind == outcome::translated);
    CHECK(r.output_address() == pa + 0xabc);
    CHECK(r.xlat.s1_level == 3);
    CHECK(r.xlat.size_shift == 12);
    CHECK(r.xlat.s1_sh == 2);  // CD.SH0
    CHECK(c.reads == 8 + 8 + 5);
  }
  SECTION("a 512GB block at level 0") {
    const std::uint64_t va = std::uint64_t{3} << 39;
    const std::uint64_t pa = std::uint64_t{0xc} << 48;
    w->b.map(fmt, root, va, pa, 0);
    const auto r = w->run(read_at(va + 0x12'3456'789a));
    REQUIRE(r.kind == outcome::translated);
    CHECK(r.output_address() == pa + 0x12'3456'789a);
    CHECK(r.xlat.size_shift == 39);
  }
  SECTION("a block at level -1 is a Translation fault at level -1") {
    const std::uint64_t va = std::uint64_t{5} << 48;
    const auto d = w->b.descriptor_address(fmt, root, va, -1);
    w->b.write64(d, vw::vmsa::desc_valid | vw::vmsa::desc_af);  // bit 1 clear: a block
    CHECK(w->run(read_at(va)).event.type() == E::type::f_translation);
  }
  SECTION("an output beyond the OAS is an Address size fault") {
    w->st.features.oas = address_size::bits48;  // effective IPS 48
    const std::uint64_t va = 0x1000;
    w->b.map(fmt, root, va, std::uint64_t{1} << 50, 3);
    // TTB0 and the walk are within 48 bits; only the output is not.
    CHECK(w->run(read_at(va)).event.type() == E::type::f_addr_size);
  }
}

TEST_CASE("LPA2: 16KB, a 64GB block at level 1", "[walk][lpa2]") {
  auto w = make_world();
  lpa2_smmu(*w);
  const auto fmt = vt::s1_format(14, 52, 52, true);
  REQUIRE(fmt.start_level == 0);
  const auto root = w->b.new_root(fmt);
  w->put_ste(s1_ste());
  w->put_cd(ds_cd(root, 52, granule::size_16k));
  const std::uint64_t va = (std::uint64_t{1} << 51) - (std::uint64_t{9} << 36);
  const std::uint64_t pa = std::uint64_t{0x8} << 48;
  w->b.map(fmt, root, va, pa, 1);
  const auto r = w->run(read_at(va + 0x7'6543'2100));
  REQUIRE(r.kind == outcome::translated);
  CHECK(r.output_address() == pa + 0x7'6543'2100);
  CHECK(r.xlat.size_shift == 36);
  // Without DS there is no level 1 block with 16KB: the same descriptor is a Translation fault.
  w->st.features.ds = false;
  w->st.features.vax52 = false;
  const auto fmt48 = vt::s1_format(14, 48);
  const auto root48 = w->b.new_root(fmt48);
  w->b.map(fmt48, root48, 0x40'0000'0000, 0x80'0000'0000, 1);
  w->put_cd(s1_cd(root48, 48, granule::size_16k));
  CHECK(w->run(read_at(0x40'0000'0000)).event.type() == E::type::f_translation);
}

TEST_CASE("LPA2: CD checks", "[walk][lpa2]") {
  vw::smmu_features f;
  f.ds = true;
  f.vax52 = true;
  f.oas = address_size::bits52;
  const vw::stream_config ste;
  const auto cd52 = s1_cd(0x1000, 52, granule::size_4k, address_size::bits52);
  SECTION("T0SZ 12 with 4KB needs CD.DS, IDR5.DS and 52-bit VAs") {
    CHECK(vw::decode_cd(cd52.with<C::DS>(true), ste, f).error == vw::cd_error::none);
    CHECK(vw::decode_cd(cd52, ste, f).error == vw::cd_error::txsz);
    vw::smmu_features no_ds = f;
    no_ds.ds = false;  // CD.DS is then RES0: ignored
    CHECK(vw::decode_cd(cd52.with<C::DS>(true), ste, no_ds).error == vw::cd_error::txsz);
    vw::smmu_features no_vax = f;
    no_vax.vax52 = false;  // DS without 52-bit VAs: 52-bit PAs only
    CHECK(vw::decode_cd(cd52.with<C::DS>(true), ste, no_vax).error == vw::cd_error::txsz);
    CHECK(vw::decode_cd(s1_cd(0x1000, 48, granule::size_4k, address_size::bits52).with<C::DS>(true),
                        ste, no_vax)
              .error == vw::cd_error::none);
  }
  SECTION("TTB0 above 48 bits is ILLEGAL only without DS") {
    const auto high = s1_cd(std::uint64_t{1} << 50, 48, granule::size_4k, address_size::bits52);
    CHECK(vw::decode_cd(high.with<C::DS>(true), ste, f).error == vw::cd_error::none);
    CHECK(vw::decode_cd(high, ste, f).error == vw::cd_error::ttb);
  }
  SECTION("the effective IPS reaches 52 bits with DS") {
    const auto d = vw::decode_cd(cd52.with<C::DS>(true), ste, f);
    REQUIRE_FALSE(d.illegal());
    CHECK(d.config.tt[0].walk.oa_bits == 52);
    CHECK(d.config.tt[0].walk.ds);
    CHECK(d.config.tt[0].walk.start_level == -1);
    const auto plain =
        vw::decode_cd(s1_cd(0x1000, 48, granule::size_4k, address_size::bits52), ste, f);
    CHECK(plain.config.tt[0].walk.oa_bits == 48);
    CHECK_FALSE(plain.config.tt[0].walk.ds);
  }
  SECTION("64KB ignores DS") {
    const auto d = vw::decode_cd(
        s1_cd(0x10000, 52, granule::size_64k, address_size::bits52).with<C::DS>(true), ste, f);
    REQUIRE_FALSE(d.illegal());
    CHECK_FALSE(d.config.tt[0].walk.ds);
    CHECK(d.config.tt[0].walk.oa_bits == 52);
  }
}

// DS in constant evaluation too.
static_assert([] {
  memory<> mem;
  vt::table_builder b(mem, pool, 0x10000);
  const auto fmt = vt::s1_format(12, 52, 52, true);
  const std::uint64_t root = b.new_root(fmt);
  b.map(fmt, root, 0x000f'0000'0000'0000, 0x000c'0000'0000'0000, 3);
  b.install_ste(state().strtab, 1, s1_ste());
  b.install_cd(cd_ptr, vsmmu::smmuv3::s1_fmt::linear, 0, 0,
               s1_cd(root, 52, granule::size_4k, address_size::bits52).with<C::DS>(true));
  vw::smmu_state st = state();
  st.features.ds = true;
  st.features.vax52 = true;
  st.features.oas = address_size::bits52;
  return vw::translate(std::as_const(mem), st, read_at(0x000f'0000'0000'0123)).output_address() ==
         0x000c'0000'0000'0123;
}());
