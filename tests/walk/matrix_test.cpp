// The Linux io-pgtable self-test matrix, rebuilt with the table builder: for every granule, every
// input size (IAS) and output size (OAS), stage 1 and stage 2, map a leaf at every level that
// may hold one, then check the translation, its neighbour (unmapped: Translation fault) and an
// output one bit beyond the OAS (Address size fault). Addresses are chosen so that every level's
// index is non-zero.

#include <catch2/catch.hpp>

#include "walk/fixture.hpp"

using namespace fx;

namespace {

address_size size_of(unsigned bits) {
  switch (bits) {
    case 32:
      return address_size::bits32;
    case 36:
      return address_size::bits36;
    case 40:
      return address_size::bits40;
    case 42:
      return address_size::bits42;
    case 44:
      return address_size::bits44;
    default:
      return address_size::bits48;
  }
}

// The S2SL0 encoding of a start level (IHI 0070 §5.2 S2SL0).
unsigned sl0_of(unsigned g, int level) {
  return g == 12 ? static_cast<unsigned>(2 - level) : static_cast<unsigned>(3 - level);
}

}  // namespace

TEST_CASE("io-pgtable matrix: granule x IAS x OAS x stage x level", "[walk][matrix]") {
  unsigned checked = 0;
  for (unsigned g : {12U, 14U, 16U}) {
    for (unsigned ias : {32U, 36U, 40U, 42U, 44U, 48U}) {
      for (unsigned oas : {32U, 36U, 40U, 42U, 44U, 48U}) {
        for (bool stage2 : {false, true}) {
          if (stage2 && ias > oas) continue;  // stage 2 input is capped to the IAS == OAS
          auto w = make_world();
          w->st.features.oas = size_of(oas);
          vt::tt_format fmt = vt::s1_format(g, ias, oas);
          S::value ste;
          if (stage2) {
            // The stage 1 start level, or one level down with concatenated tables where the
            // architecture refuses it (4KB level 0 below 44 bits, 16KB level 0 without DS).
            int level = fmt.start_level;
            ste = with_s2(S::value{}.with<S::V>(true).with<S::Config>(ste_config::s2_trans), 0, ias,
                          sl0_of(g, level), tg(g), size_of(oas));
            if (vw::decode_ste(ste, w->st.features).illegal()) {
              ++level;
              ste.set<S::S2SL0>(static_cast<std::uint8_t>(sl0_of(g, level)));
            }
            fmt = vt::s2_format(g, ias, level, oas);
          }
          for (int level = fmt.start_level; level <= 3; ++level) {
            if (level < 3 && !vw::vmsa::block_supported(g, level, oas)) continue;
            CAPTURE(g, ias, oas, stage2, level);
            auto world_ = make_world();
            auto& v = *world_;
            v.st.features.oas = size_of(oas);
            const auto root = v.b.new_root(fmt);
            if (stage2) {
              v.put_ste(ste.with<S::S2TTB>(root));
              REQUIRE_FALSE(vw::decode_ste(ste.with<S::S2TTB>(root), v.st.features).illegal());
            } else {
              v.put_ste(s1_ste());
              v.put_cd(s1_cd(root, ias, tg(g), size_of(oas)));
            }
            const unsigned lsb = vw::vmsa::level_lsb(g, level);
            // Input: 0b0101... in every index, top bit of the range clear; output likewise.
            const std::uint64_t ia = 0x5555'5555'5555'5555ULL & vw::vmsa::mask_below(ias - 1) &
                                     ~vw::vmsa::mask_below(lsb);
            const std::uint64_t oa =
                0x2aaa'aaaa'aaaa'aaaaULL & vw::vmsa::mask_below(oas) & ~vw::vmsa::mask_below(lsb);
            const std::uint64_t offset = 0x123 & vw::vmsa::mask_below(lsb);
            const auto leaf = v.b.map(fmt, root, ia, oa, level);
            auto r = v.run(read_at(ia + offset));
            REQUIRE(r.kind == vw::outcome::translated);
            CHECK(r.output_address() == oa + offset);
            CHECK(r.xlat.size_shift == lsb);
            // The neighbouring leaf is not mapped.
            const std::uint64_t next = ia + (std::uint64_t{1} << lsb);
            if ((next >> ias) == 0) {
              CHECK(v.run(read_at(next)).event.type() == E::type::f_translation);
            }
            // An output one bit beyond the OAS.
            if (oas < 48) {
              v.b.write64(leaf, v.b.read64(leaf) | (std::uint64_t{1} << oas));
              r = v.run(read_at(ia + offset));
              CHECK(r.event.type() == E::type::f_addr_size);
              CHECK(r.event.as<E::f_addr_size::layout>().get<E::S2>() == stage2);
            }
            ++checked;
          }
        }
      }
    }
  }
  CHECK(checked > 300);
}

// io-pgtable's unmap/remap steps: a block is unmapped (its descriptor invalidated), the range
// faults; a page is mapped inside it (a table replaces the block), only that page translates.
TEST_CASE("io-pgtable: unmap a block, remap a page inside it", "[walk][matrix]") {
  for (unsigned g : {12U, 14U, 16U}) {
    for (bool stage2 : {false, true}) {
      CAPTURE(g, stage2);
      auto w = make_world();
      const unsigned ias = 40;
      const int block_level = 2;
      // Stage 2 starts where at most 16 concatenated tables cover 40 bits.
      const vt::tt_format fmt =
          stage2 ? vt::s2_format(g, ias, g == 12 ? 1 : 2) : vt::s1_format(g, ias);
      const auto root = w->b.new_root(fmt);
      if (stage2) {
        const S::value ste =
            with_s2(S::value{}.with<S::V>(true).with<S::Config>(ste_config::s2_trans), root, ias,
                    sl0_of(g, fmt.start_level), tg(g));
        REQUIRE_FALSE(vw::decode_ste(ste, w->st.features).illegal());
        w->put_ste(ste);
      } else {
        w->put_ste(s1_ste());
        w->put_cd(s1_cd(root, ias, tg(g)));
      }
      const unsigned lsb = vw::vmsa::level_lsb(g, block_level);
      const std::uint64_t ia = std::uint64_t{3} << lsb;
      const std::uint64_t oa = std::uint64_t{5} << lsb;
      const auto block = w->b.map(fmt, root, ia, oa, block_level);
      CHECK(w->run(read_at(ia + 0x88)).output_address() == oa + 0x88);
      w->b.write64(block, 0);  // unmap
      CHECK(w->run(read_at(ia + 0x88)).event.type() == E::type::f_translation);
      const std::uint64_t page = ia + (std::uint64_t{7} << g);
      w->b.map(fmt, root, page, 0x9000'0000, 3);  // a table where the block was
      CHECK(w->run(read_at(page + 0x10)).output_address() == 0x9000'0010);
      CHECK(w->run(read_at(page + 0x10)).xlat.size_shift == g);
      CHECK(w->run(read_at(ia)).event.type() == E::type::f_translation);
    }
  }
}
