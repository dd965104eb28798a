#pragma once

// Shared set-up for the walk tests: an SMMU state, a flat memory, and builders for the STEs and
// CDs the scenarios vary. Everything is constexpr so scenarios can run inside static_assert.

#include <vsmmu/memory/flat.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/testing/table_builder.hpp>
#include <vsmmu/walk/translate.hpp>

#include <cstdint>

namespace fx {

namespace vw = vsmmu::walk;
namespace vt = vsmmu::testing;
namespace S = vsmmu::smmuv3::ste;
namespace C = vsmmu::smmuv3::cd;
using vsmmu::smmuv3::address_size;
using vsmmu::smmuv3::granule;
using vsmmu::smmuv3::granule_tg1;
using vsmmu::smmuv3::ste_config;

// Physical memory map of every scenario (the flat memory starts at 0):
//   0x0000  linear Stream table, 16 STEs (LOG2SIZE 4)
//   0x0800  CD (or CD table / L1CD table)
//   0x1000+ translation tables and level 2 tables, from the builder's pool
inline constexpr std::uint64_t strtab = 0x0;
inline constexpr std::uint64_t cd_ptr = 0x800;
inline constexpr std::uint64_t pool = 0x1000;

template <std::size_t Bytes = 0x20000>
using memory = vsmmu::memory::flat_memory<Bytes>;

constexpr vw::smmu_state state(unsigned log2size = 4) {
  vw::smmu_state st;
  st.strtab.base = strtab;
  st.strtab.log2size = log2size;
  return st;
}

// A stage 1 CD: TTB0 range of ia_bits with granule g, TTB1 disabled, IPS, A = R = 1.
constexpr C::value s1_cd(std::uint64_t ttb0, unsigned ia_bits = 48, granule g = granule::size_4k,
                         address_size ips = address_size::bits48) {
  C::value cd;
  cd.set<C::V>(true)
      .set<C::AA64>(true)
      .set<C::T0SZ>(static_cast<std::uint8_t>(64 - ia_bits))
      .set<C::TG0>(g)
      .set<C::EPD1>(true)
      .set<C::TG1>(granule_tg1::size_4k)
      .set<C::T1SZ>(16)
      .set<C::IPS>(ips)
      .set<C::A>(true)
      .set<C::R>(true)
      .set<C::ASID>(0x42)
      .set<C::MAIR0>(0x0000'ff44)  // Attr0 = Normal NC, Attr1 = Normal WB
      .set<C::TTB0>(ttb0);
  return cd;
}

constexpr S::value s1_ste(std::uint64_t context_ptr = cd_ptr) {
  S::value ste;
  ste.set<S::V>(true).set<S::Config>(ste_config::s1_trans).set<S::S1ContextPtr>(context_ptr);
  return ste;
}

// Stage 2 fields: granule g, input ia_bits, SL0, S2PS, S2R = 1.
constexpr S::value with_s2(S::value ste, std::uint64_t s2ttb, unsigned ia_bits, unsigned sl0,
                           granule g = granule::size_4k, address_size ps = address_size::bits48) {
  ste.set<S::S2T0SZ>(static_cast<std::uint8_t>(64 - ia_bits))
      .set<S::S2SL0>(static_cast<std::uint8_t>(sl0))
      .set<S::S2TG>(g)
      .set<S::S2PS>(ps)
      .set<S::S2AA64>(true)
      .set<S::S2R>(true)
      .set<S::S2VMID>(7)
      .set<S::S2TTB>(s2ttb);
  return ste;
}

// A bypass STE: the simplest valid STE, so that a lookup's success shows as outcome::bypass.
constexpr S::value bypass_ste() {
  S::value ste;
  ste.set<S::V>(true).set<S::Config>(ste_config::bypass);
  return ste;
}

constexpr vw::transaction read_at(std::uint64_t addr, std::uint32_t sid = 1) {
  vw::transaction t;
  t.sid = sid;
  t.address = addr;
  return t;
}
constexpr vw::transaction with_access(vw::transaction t, vw::access_kind a, bool priv = false) {
  t.access = a;
  t.privileged = priv;
  return t;
}

}  // namespace fx

#include <memory>

namespace fx {

namespace E = vsmmu::smmuv3::evt;

// A run-time scenario: 256KB of flat memory from PA 0, the builder's pool 0x1000-0x30000;
// 0x30000-0x40000 is free for tests that place structures themselves.
struct world {
  using mem_type = memory<0x40000>;
  mem_type mem;
  vw::smmu_state st = state();
  vt::table_builder<mem_type> b{mem, pool, 0x2f000};

  vw::result run(const vw::transaction& t) const { return vw::translate(mem, st, t); }
  // A stage 1 stream for SID 1 with one CD at cd_ptr; returns the TTB0 root.
  std::uint64_t stage1(const vt::tt_format& fmt, C::value cd_template = {}) {
    const std::uint64_t root = b.new_root(fmt);
    C::value cd = cd_template == C::value{} ? s1_cd(root, fmt.ia_bits,
                                                    fmt.granule_shift == 12   ? granule::size_4k
                                                    : fmt.granule_shift == 14 ? granule::size_16k
                                                                              : granule::size_64k)
                                            : cd_template;
    cd.set<C::TTB0>(root);
    b.install_ste(st.strtab, 1, s1_ste());
    b.install_cd(cd_ptr, vsmmu::smmuv3::s1_fmt::linear, 0, 0, cd);
    return root;
  }
  void put_ste(const S::value& ste, std::uint32_t sid = 1) { b.install_ste(st.strtab, sid, ste); }
  void put_cd(const C::value& cd) { b.install_cd(cd_ptr, vsmmu::smmuv3::s1_fmt::linear, 0, 0, cd); }
};

inline std::unique_ptr<world> make_world() { return std::make_unique<world>(); }

// A stage 2 only STE (Config 0b110) with the stage 2 fields of with_s2.
inline S::value s2_only(std::uint64_t root, unsigned ia_bits, unsigned sl0,
                        granule g = granule::size_4k, address_size ps = address_size::bits48) {
  S::value ste;
  ste.set<S::V>(true).set<S::Config>(ste_config::s2_trans);
  return with_s2(ste, root, ia_bits, sl0, g, ps);
}

// Nested: stage 2 identity-maps IPA 0-1GB with a level 1 block, so the CD and the stage 1
// tables the builder writes at PAs below 1GB are reachable at the same IPAs. Data pages are
// mapped separately.
struct nested_world {
  std::unique_ptr<world> w = make_world();
  vt::tt_format s1fmt = vt::s1_format(12, 48);
  vt::tt_format s2fmt = vt::s2_format(12, 40, 1);
  std::uint64_t s1root = 0;
  std::uint64_t s2root = 0;
  S::value ste;

  nested_world() {
    s2root = w->b.new_root(s2fmt);
    w->b.map(s2fmt, s2root, 0, 0, 1);
    s1root = w->b.new_root(s1fmt);
    ste = with_s2(s1_ste().with<S::Config>(ste_config::nested), s2root, 40, 1);
    w->put_ste(ste);
    w->put_cd(s1_cd(s1root));
  }
  // Copies the stage 1 level 2 table of VA 0x5000 to PA 0x3'0000 and points its level 1
  // descriptor at IPA 0x40'0010'0000, which stage 2 maps there with `a`.
  void move_s1_table(const vt::leaf_attrs& a = {}) {
    w->b.map(s2fmt, s2root, 0x40'0010'0000, 0x3'0000, 3, a);
    const auto l1 = w->b.descriptor_address(s1fmt, s1root, 0x5000, 1);
    const auto l2 = w->b.read64(l1) & 0xffff'ffff'f000;
    for (std::uint64_t o = 0; o < 4096; o += 8) w->b.write64(0x3'0000 + o, w->b.read64(l2 + o));
    w->b.write64(l1, 0x40'0010'0000 | 3);
  }
  // Copies the CD to PA 0x3'1000, which stage 2 maps at IPA 0x40'0020'0000 with `a`; returns
  // `from` pointing at it (not installed).
  S::value move_cd(const S::value& from, const vt::leaf_attrs& a = {}) {
    w->b.map(s2fmt, s2root, 0x40'0020'0000, 0x3'1000, 3, a);
    const auto cd = s1_cd(s1root);
    for (unsigned i = 0; i < 8; ++i) w->b.write64(0x3'1000 + 8 * i, cd.words()[i]);
    return from.with<S::S1ContextPtr>(0x40'0020'0000);
  }
};

inline constexpr granule tg(unsigned g) {
  return g == 12 ? granule::size_4k : g == 14 ? granule::size_16k : granule::size_64k;
}

}  // namespace fx
