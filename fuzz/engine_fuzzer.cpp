// SPDX-License-Identifier: BSL-1.0
// engine::smmu_engine's caches against the walk, over random guest behaviour (docs/reliability.md,
// docs/caches.md).
//
// Input: a header (features and CD flags, 16 bits; six VMIDs and ten ASIDs, 16 bits each; a seed
// and a count for the mappings to start with), then operations, from the input or in bursts from a
// generator it seeds: map, unmap or remap a stage 1 or stage 2 page or block followed by one of the
// invalidations that suffice for it (NH_VA single or ranged, NH_VAA, NH_ASID, NH_ALL, S2_IPA with
// NH_ALL, S12_VMALL, NSNH_ALL, EL2_*), CD and STE changes followed by a sufficient CFGI_* (and
// TLBI), commands built from raw words (any opcode, hostile fields), register state churn (SMMUEN
// and GBPA, RECINVSID, and feature changes: DS, HTTU, OAS), the VMID wildcard, caching switched off
// and on, and translations.
//
// The guest (as in tests/engine/differential_test.cpp) always issues the invalidations the
// architecture requires after a change (§3.21, §4.3, §4.4), and keeps to what software must for a
// cache to be usable at all: every table set has its own (VMID, ASID) tag, every stage 2 its own
// VMID, and global pages appear only in a stream whose VMID has one CD. Under those rules every
// cached answer must be the walk's answer. Invariants:
//   - every translation gives the same result (kind, termination, event record, and every field
//     of the translation) from: an engine with an 8-entry IOTLB and a 2-STE/2-CD configuration
//     cache (evicting all the time), an engine with a 64-entry IOTLB through a 1-entry and a
//     16-entry micro-TLB, an engine with caching off, and walk::translate itself;
//   - execute() returns a command_status (ok, illegal, atc_incomplete) for any two words, the
//     same from the three engines, and ok for every sufficient invalidation the guest issues
//     (EL2 ones only with SMMU_IDR0.Hyp);
//   - no ASan or UBSan report, no hang.
#include <vsmmu/engine/micro_tlb.hpp>
#include <vsmmu/engine/smmu_engine.hpp>
#include <vsmmu/memory/flat.hpp>
#include <vsmmu/queue/command.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/testing/commands.hpp>
#include <vsmmu/testing/table_builder.hpp>
#include <vsmmu/walk/translate.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

#include "check.hpp"
#include "choices.hpp"

namespace {

namespace vw = vsmmu::walk;
namespace vt = vsmmu::testing;
namespace ve = vsmmu::engine;
namespace S = vsmmu::smmuv3::ste;
namespace C = vsmmu::smmuv3::cd;
namespace cmd = vsmmu::smmuv3::cmd;
using vsmmu::queue::command_status;
using vsmmu::smmuv3::address_size;
using vsmmu::smmuv3::granule;
using vsmmu::smmuv3::granule_tg1;
using vsmmu::smmuv3::s1_dss;
using vsmmu::smmuv3::ste_config;

// Physical memory: a linear Stream table of 16 STEs at 0, CD tables (16 CDs each) from 0x1000,
// translation tables from 0x10000.
constexpr std::uint64_t mem_bytes = 0x100000;
constexpr std::uint64_t cd_base = 0x1000;
constexpr std::uint64_t pool = 0x10000;
using memory = vsmmu::memory::flat_memory<mem_bytes>;
[[nodiscard]] constexpr std::uint64_t cd_table(std::uint32_t sid) {
  return cd_base + sid * 0x400ULL;
}

// Stage 1: 4KB granule, 39-bit VAs; stage 2: 4KB, 40-bit IPAs, SL0 = 1.
constexpr vt::tt_format s1_fmt = vt::s1_format(12, 39);
constexpr vt::tt_format s2_fmt = vt::s2_format(12, 40, 1);

// Stage 1 VA windows (and stage 2-only IPAs): 32 4KB pages (level 3) and 4 2MB blocks (level
// 2); the nested stream's stage 1 outputs (its data IPAs) likewise.
constexpr std::uint64_t page_va = 0x1000'0000;
constexpr std::uint64_t block_va = 0x4000'0000;
constexpr std::uint64_t nested_page_ipa = 0x8000'0000;
constexpr std::uint64_t nested_block_ipa = 0xc000'0000;
constexpr unsigned pages = 32;
constexpr unsigned blocks = 4;

using namespace vsmmu::testing::commands;

// One CD: two table sets it can point at, its ASID, whether it is valid.
struct cd_slot {
  std::uint32_t sid = 0;
  std::uint32_t index = 0;
  std::array<std::uint64_t, 2> roots{};
  unsigned active = 0;
  bool valid = true;
  std::uint16_t asid = 0;
};

struct stream {
  std::uint32_t sid = 0;
  std::uint16_t vmid = 0;
  unsigned s1cdmax = 0;
  bool globals = false;  // the only CD of its VMID: may map global pages
  bool nested = false;
  bool el2 = false;  // STRW = EL2 with Hyp: no ASID, no VMID, every entry global
};

using engine8 = ve::smmu_engine<memory, ve::null_notifier, 8>;
using engine64 = ve::smmu_engine<memory, ve::null_notifier, 64>;

struct workload {
  vsmmu::fuzz::choices& in;
  std::unique_ptr<memory> mem = std::make_unique<memory>();
  const memory& ro = *mem;  // the engines and the reference walk only read
  vt::table_builder<memory> b{*mem, pool, mem_bytes - pool};
  vw::smmu_state st;
  std::unique_ptr<engine8> tiny;
  std::unique_ptr<engine64> micro;
  std::unique_ptr<engine8> off;
  ve::micro_tlb<1> utlb1;
  ve::micro_tlb<16> utlb16;
  std::vector<stream> streams;
  std::vector<cd_slot> cds;
  std::uint64_t s2_only_root = 0;    // SID 3
  std::uint64_t nested_s2_root = 0;  // SID 4
  std::uint16_t s2_only_vmid = 0;
  std::uint16_t nested_vmid = 0;
  s1_dss sid1_dss = s1_dss::substream0;
  unsigned sid6_mode = 0;
  bool cd_ds = false;    // CD.DS on every CD (meaningful with SMMU_IDR5.DS)
  bool cd_hahd = false;  // CD.HA/HD on every CD (meaningful with HTTU)

  explicit workload(vsmmu::fuzz::choices& c) : in(c) {
    const std::uint16_t f = in.u16();
    st.strtab.base = 0;
    st.strtab.log2size = 4;
    st.features.ats = true;
    st.features.hyp = (f & 1U) == 0;
    st.features.asid16 = (f & 2U) == 0;
    st.features.vmid16 = (f & 4U) == 0;
    st.features.ds = (f & 8U) != 0;
    st.features.httu = static_cast<vw::httu>(((f >> 4) & 3U) % 3U);
    cd_ds = (f & 0x40U) != 0;
    cd_hahd = (f & 0x80U) != 0;
    ve::engine_options small;
    small.config = {2, 2};
    tiny = std::make_unique<engine8>(ro, st, ve::null_notifier{}, small);
    micro = std::make_unique<engine64>(ro, st);
    off = std::make_unique<engine8>(ro, st);
    off->set_caching(false);

    // VMIDs and ASIDs from the input, made distinct within the widths the SMMU has (a collision
    // would be the guest's error, after which caches may legally differ).
    const std::uint16_t vmid_mask = st.features.vmid16 ? 0xffff : 0xff;
    const std::uint16_t asid_mask = st.features.asid16 ? 0xffff : 0xff;
    std::vector<std::uint16_t> vmids;
    auto fresh_vmid = [&](bool from_input = true) {
      auto v = static_cast<std::uint16_t>((from_input ? in.u16() : 0x77U) & vmid_mask);
      while (std::find(vmids.begin(), vmids.end(), v) != vmids.end()) {
        v = static_cast<std::uint16_t>((v + 1) & vmid_mask);
      }
      vmids.push_back(v);
      return v;
    };
    // SID 0: stage 1, one CD, global pages. SID 1: 4 CDs, S1DSS changes. SID 2: 2 CDs, S1DSS =
    // bypass. SID 4: nested. SID 6: STE changes. SID 7: the NS-EL2 StreamWorld (with Hyp).
    streams.push_back({0, fresh_vmid(), 0, true, false, false});
    streams.push_back({1, fresh_vmid(), 2, false, false, false});
    streams.push_back({2, fresh_vmid(), 1, false, false, false});
    streams.push_back({4, fresh_vmid(), 0, false, true, false});
    streams.push_back({6, fresh_vmid(), 0, false, false, false});
    // Without Hyp, STRW is ignored (IgnoreSTESTRW): SID 7 is then an NS-EL1 stream, with a VMID
    // of its own (its global pages must not reach another stream's ASIDs) and the NH_* TLBIs.
    streams.push_back({7, 0, 0, true, false, st.features.hyp});
    nested_vmid = streams[3].vmid;
    s2_only_vmid = fresh_vmid();
    streams.back().vmid = fresh_vmid(false);
    std::vector<std::uint16_t> asids;
    for (const stream& s : streams) {
      for (std::uint32_t i = 0; i < (1U << s.s1cdmax); ++i) {
        cd_slot c;
        c.sid = s.sid;
        c.index = i;
        c.roots = {b.new_root(s1_fmt), b.new_root(s1_fmt)};
        auto a = static_cast<std::uint16_t>(in.u16() & asid_mask);
        while (std::find(asids.begin(), asids.end(), a) != asids.end()) {
          a = static_cast<std::uint16_t>((a + 1) & asid_mask);
        }
        asids.push_back(a);
        c.asid = a;
        cds.push_back(c);
        write_cd(c);
      }
    }
    for (const std::uint32_t sid : {0U, 1U, 2U, 6U, 7U}) write_ste(sid);
    s2_only_root = b.new_root(s2_fmt);
    put_ste(3, with_s2(S::value{}.with<S::V>(true).with<S::Config>(ste_config::s2_trans),
                       s2_only_root, s2_only_vmid));
    // The nested stream's structures are reached through an identity 1GB block.
    nested_s2_root = b.new_root(s2_fmt);
    b.map(s2_fmt, nested_s2_root, 0, 0, 1);
    put_ste(4, with_s2(s1_ste(cd_table(4)).with<S::Config>(ste_config::nested), nested_s2_root,
                       nested_vmid));
    put_ste(5, S::value{}.with<S::V>(true).with<S::Config>(ste_config::bypass));
    // Mappings to start with, drawn from a generator the header seeds.
    const std::uint64_t seed = in.u64();
    const unsigned n = 8U + in.u8();
    in.start_burst(seed, n);
    for (unsigned i = 0; i < n; ++i) change_mapping(false);
    in.end_burst();
  }

  // ---- structures

  void put_ste(std::uint32_t sid, const S::value& ste) { b.install_ste(st.strtab, sid, ste); }

  [[nodiscard]] static S::value s1_ste(std::uint64_t context_ptr, unsigned s1cdmax = 0,
                                       s1_dss dss = s1_dss::terminate, std::uint16_t vmid = 0) {
    S::value ste;
    ste.set<S::V>(true)
        .set<S::Config>(ste_config::s1_trans)
        .set<S::S1ContextPtr>(context_ptr)
        .set<S::S1CDMax>(static_cast<std::uint8_t>(s1cdmax))
        .set<S::S1DSS>(dss)
        .set<S::S2VMID>(vmid);
    return ste;
  }
  [[nodiscard]] static S::value with_s2(S::value ste, std::uint64_t s2ttb, std::uint16_t vmid) {
    ste.set<S::S2T0SZ>(static_cast<std::uint8_t>(64 - 40))
        .set<S::S2SL0>(1)
        .set<S::S2TG>(granule::size_4k)
        .set<S::S2PS>(address_size::bits48)
        .set<S::S2AA64>(true)
        .set<S::S2R>(true)
        .set<S::S2VMID>(vmid)
        .set<S::S2TTB>(s2ttb);
    return ste;
  }

  [[nodiscard]] const stream& stream_of(std::uint32_t sid) const {
    for (const stream& s : streams) {
      if (s.sid == sid) return s;
    }
    return streams.front();
  }

  void write_cd(const cd_slot& c) {
    C::value cd;
    cd.set<C::V>(c.valid)
        .set<C::AA64>(true)
        .set<C::T0SZ>(static_cast<std::uint8_t>(64 - 39))
        .set<C::TG0>(granule::size_4k)
        .set<C::EPD1>(true)
        .set<C::TG1>(granule_tg1::size_4k)
        .set<C::T1SZ>(16)
        .set<C::IPS>(address_size::bits48)
        .set<C::A>(true)
        .set<C::R>(true)
        .set<C::HA>(cd_hahd)
        .set<C::HD>(cd_hahd)
        .set<C::DS>(cd_ds)
        .set<C::ASID>(c.asid)
        .set<C::MAIR0>(0x0000'ff44)
        .set<C::TTB0>(c.roots[c.active]);
    b.install_cd(cd_table(c.sid), vsmmu::smmuv3::s1_fmt::linear, stream_of(c.sid).s1cdmax, c.index,
                 cd);
  }

  void write_ste(std::uint32_t sid) {
    const stream& s = stream_of(sid);
    if (sid == 1) {
      put_ste(1, s1_ste(cd_table(1), s.s1cdmax, sid1_dss, s.vmid));
    } else if (sid == 2) {
      put_ste(2, s1_ste(cd_table(2), s.s1cdmax, s1_dss::bypass, s.vmid));
    } else if (sid == 6) {
      S::value ste = s1_ste(cd_table(6), 0, s1_dss::terminate, s.vmid);
      if (sid6_mode == 1) ste.set<S::V>(false);
      if (sid6_mode == 2) ste.set<S::Config>(ste_config::abort);
      if (sid6_mode == 3) ste.set<S::Config>(ste_config::bypass);
      put_ste(6, ste);
    } else if (sid == 7) {
      put_ste(7, s1_ste(cd_table(7), 0, s1_dss::terminate, s.vmid)
                     .with<S::STRW>(vsmmu::smmuv3::strw::el2));
    } else {
      put_ste(sid, s1_ste(cd_table(sid), s.s1cdmax, s1_dss::terminate, s.vmid));
    }
  }

  // ---- commands

  // A command every engine applies alike. `sufficient`: one the guest relies on, which must be
  // accepted (EL2 ones exist only with Hyp).
  void all(const vsmmu::queue::command& c, bool sufficient = true) {
    const command_status a = tiny->execute(c);
    const command_status m = micro->execute(c);
    const command_status o = off->execute(c);
    VSMMU_FUZZ_CHECK(a == command_status::ok || a == command_status::illegal ||
                         a == command_status::atc_incomplete,
                     "execute() returned something that is not a command_status");
    VSMMU_FUZZ_CHECK(a == m && a == o, "engines gave one command different statuses");
    if (sufficient) {
      VSMMU_FUZZ_CHECK(a == command_status::ok, "a well-formed invalidation was refused");
    }
  }
  void el2(const vsmmu::queue::command& c) { all(c, st.features.hyp); }

  // ---- the guest's changes, each followed by a sufficient invalidation the input picks

  vt::leaf_attrs random_attrs(bool stage2, bool global_ok) {
    vt::leaf_attrs a;
    const std::uint8_t r = in.u8();
    a.read = !stage2 || (r & 1U) == 0 || in.chance(80);
    a.write = (r & 2U) == 0 || in.chance(60);
    a.exec = (r & 4U) == 0 || in.chance(50);
    a.user = (r & 8U) == 0 || in.chance(60);
    a.af = (r & 16U) == 0 || in.chance(80);
    a.global = global_ok && (r & 32U) != 0;
    a.attr = static_cast<std::uint8_t>(stage2 ? in.pick(16) : in.pick(8));
    a.sh = (r & 64U) != 0 ? 2 : 3;
    return a;
  }

  // NS-EL2 (SMMU_CR2.E2H == 0: the ASID is not matched).
  void invalidate_el2(std::uint64_t va, int level) {
    switch (in.pick(4)) {
      case 0:
        el2(as_command(ranged<cmd::tlbi_el2_va::layout, cmd::Address>(va + in.pick(0x1000), {})
                           .with<cmd::ASID>(in.u16())));
        break;
      case 1: {
        range_fields r;
        r.tg = cmd::tlbi_tg::size_4k;
        r.num = static_cast<std::uint8_t>(in.pick(4));
        r.ttl = static_cast<std::uint8_t>(level);
        el2(as_command(ranged<cmd::tlbi_el2_vaa::layout, cmd::Address>(va, r)));
        break;
      }
      case 2:
        el2(as_command(ranged<cmd::tlbi_el2_vaa::layout, cmd::Address>(va + in.pick(0x1000), {})));
        break;
      default:
        el2(as_command(cmd::make<cmd::tlbi_el2_all::layout>()));
        break;
    }
  }

  // After a stage 1 change at va of (vmid, asid): one of the TLBIs that cover it.
  void invalidate_s1(std::uint16_t vmid, std::uint16_t asid, std::uint64_t va, std::uint64_t size,
                     int level, bool global_possible) {
    switch (in.pick(7)) {
      case 0: {
        range_fields r;
        r.leaf = in.chance(50);
        all(nh_va(vmid, asid, va + in.pick(size < 0x1000 ? size : 0x1000), r));
        break;
      }
      case 1: {
        // A range starting at or below va that reaches its end: (NUM + 1) << SCALE pages.
        range_fields r;
        r.tg = cmd::tlbi_tg::size_4k;
        r.scale = static_cast<std::uint8_t>(in.pick(size > 0x1000 ? 10 : 3));
        const std::uint64_t below = in.pick(3) * 0x1000;
        const std::uint64_t need = (below + size) >> 12;  // pages from start to va's end
        unsigned num = static_cast<unsigned>(in.pick(32));
        while (((std::uint64_t{num} + 1) << r.scale) < need) {
          if (num < 31) {
            ++num;
          } else {
            ++r.scale;
          }
        }
        r.num = static_cast<std::uint8_t>(num);
        r.ttl = static_cast<std::uint8_t>(in.chance(50) ? level : 0);
        if (r.num == 0 && r.scale == 0 && r.ttl == 0) r.num = 1;
        r.leaf = in.chance(50);
        all(nh_va(vmid, asid, va - below, r));
        break;
      }
      case 2:
        all(nh_vaa(vmid, va + in.pick(0x1000)));
        break;
      case 3:
        if (!global_possible) {
          all(nh_asid(vmid, asid));
          break;
        }
        [[fallthrough]];
      case 4:
        all(nh_all(vmid));
        break;
      case 5:
        all(s12_vmall(vmid));
        break;
      default:
        all(nsnh_all());
        break;
    }
  }

  // Maps, remaps or unmaps one stage 1 or stage 2 leaf, then invalidates as required.
  void change_mapping(bool invalidate = true) {
    const bool unmap = in.chance(15);
    const bool block = in.chance(25);
    const unsigned slot = static_cast<unsigned>(block ? in.pick(blocks) : in.pick(pages));
    const int level = block ? 2 : 3;
    const std::uint64_t size = block ? 0x20'0000 : 0x1000;
    const unsigned what = static_cast<unsigned>(in.pick(10));
    if (what < 6) {  // a stage 1 leaf of some CD's table set (active or not)
      const cd_slot& c = cds[in.pick(cds.size())];
      const stream& s = stream_of(c.sid);
      const std::uint64_t root = c.roots[in.pick(2)];
      const std::uint64_t va = (block ? block_va : page_va) + slot * size;
      if (unmap) {
        if (const auto at = b.descriptor_address(s1_fmt, root, va, level); at != 0) {
          (void)b.write64(at, 0);
        }
      } else {
        std::uint64_t out = 0x1'0000'0000ULL + in.pick(0x1000) * size;
        if (s.nested) out = (block ? nested_block_ipa : nested_page_ipa) + in.pick(blocks) * size;
        if (s.nested && !block) out = nested_page_ipa + in.pick(pages) * size;
        b.map(s1_fmt, root, va, out, level, random_attrs(false, s.globals));
      }
      if (invalidate && s.el2) {
        invalidate_el2(va, level);
      } else if (invalidate) {
        invalidate_s1(s.vmid, c.asid, va, size, level, s.globals);
      }
    } else if (what < 8) {  // the stage 2-only stream
      const std::uint64_t ipa = (block ? block_va : page_va) + slot * size;
      if (unmap) {
        if (const auto at = b.descriptor_address(s2_fmt, s2_only_root, ipa, level); at != 0) {
          (void)b.write64(at, 0);
        }
      } else {
        b.map(s2_fmt, s2_only_root, ipa, 0x2'0000'0000ULL + in.pick(0x1000) * size, level,
              random_attrs(true, false));
      }
      if (!invalidate) return;
      switch (in.pick(4)) {
        case 0:
          all(s2_ipa(s2_only_vmid, ipa + in.pick(0x1000)));
          break;
        case 1: {
          range_fields r;
          r.tg = cmd::tlbi_tg::size_4k;
          r.num = static_cast<std::uint8_t>(in.pick(32));
          r.scale = static_cast<std::uint8_t>(block ? 9 : in.pick(4));
          if (r.num == 0 && r.scale == 0) r.num = 1;  // else Reserved (CERROR_ILL)
          all(s2_ipa(s2_only_vmid, ipa, r));
          break;
        }
        case 2:
          all(s12_vmall(s2_only_vmid));
          break;
        default:
          all(nsnh_all());
          break;
      }
    } else {  // stage 2 of the nested stream (data IPAs only, never its structures)
      const std::uint64_t ipa = (block ? nested_block_ipa : nested_page_ipa) + slot * size;
      if (unmap) {
        if (const auto at = b.descriptor_address(s2_fmt, nested_s2_root, ipa, level); at != 0) {
          (void)b.write64(at, 0);
        }
      } else {
        b.map(s2_fmt, nested_s2_root, ipa, 0x3'0000'0000ULL + in.pick(0x1000) * size, level,
              random_attrs(true, false));
      }
      if (!invalidate) return;
      // §4.4.3.1: S2_IPA need not remove combined entries; it goes with NH_ALL (or S12_VMALL).
      switch (in.pick(3)) {
        case 0:
          all(s2_ipa(nested_vmid, ipa));
          all(nh_all(nested_vmid));
          break;
        case 1:
          all(s12_vmall(nested_vmid));
          break;
        default:
          all(nsnh_all());
          break;
      }
    }
  }

  // A CFGI that covers sid's STE, or (cd_only) the CD at index.
  void invalidate_config(std::uint32_t sid, std::uint32_t index, bool cd_only) {
    switch (in.pick(cd_only ? 5 : 3)) {
      case 0:
        all(as_command(cmd::make<cmd::cfgi_ste::layout>().with<cmd::StreamID>(sid)));
        break;
      case 1:
        all(as_command(
            cmd::make<cmd::cfgi_ste_range::layout>()
                .with<cmd::StreamID>(sid ^ static_cast<std::uint32_t>(in.pick(2)))
                .with<cmd::cfgi_ste_range::Range>(static_cast<std::uint8_t>(1 + in.pick(31)))));
        break;
      case 2:
        all(as_command(cmd::make<cmd::cfgi_ste_range::layout>()
                           .with<cmd::StreamID>(in.u32())
                           .with<cmd::cfgi_ste_range::Range>(31)));
        break;
      case 3:
        all(as_command(
            cmd::make<cmd::cfgi_cd::layout>().with<cmd::StreamID>(sid).with<cmd::SubstreamID>(
                index)));
        break;
      default:
        all(as_command(cmd::make<cmd::cfgi_cd_all::layout>().with<cmd::StreamID>(sid)));
        break;
    }
  }

  void change_cd() {
    cd_slot& c = cds[in.pick(cds.size())];
    const stream& s = stream_of(c.sid);
    if (in.chance(20)) {
      c.valid = !c.valid;
    } else {
      c.active ^= 1U;
    }
    write_cd(c);
    invalidate_config(c.sid, c.index, true);
    // The old tables' translations carry the same ASID: they go too.
    if (s.el2) {
      el2(as_command(cmd::make<cmd::tlbi_el2_all::layout>()));
    } else if (s.globals || in.chance(30)) {
      all(nh_all(s.vmid));
    } else {
      all(nh_asid(s.vmid, c.asid));
    }
  }

  void change_ste() {
    if (in.chance(50)) {
      constexpr s1_dss modes[] = {s1_dss::substream0, s1_dss::bypass, s1_dss::terminate};
      sid1_dss = modes[in.pick(3)];
      write_ste(1);
      invalidate_config(1, 0, false);
    } else {
      sid6_mode = static_cast<unsigned>(in.pick(4));
      write_ste(6);
      invalidate_config(6, 0, false);
    }
  }

  // Two words from the input: mostly an opcode the engine handles, fields anything.
  void hostile_command() {
    constexpr std::uint8_t opcodes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x10, 0x11,
                                        0x12, 0x13, 0x18, 0x20, 0x21, 0x22, 0x23, 0x28, 0x2a,
                                        0x30, 0x40, 0x41, 0x44, 0x45, 0x46, 0x50};
    vsmmu::queue::command c{{in.u64(), in.u64()}};
    if (!in.chance(10)) c.words[0] = (c.words[0] & ~std::uint64_t{0xff}) | opcodes[in.pick(25)];
    all(c, false);
  }

  void set_state_everywhere() {
    tiny->set_state(st);
    micro->set_state(st);
    off->set_state(st);
  }

  void churn_state() {
    switch (in.pick(6)) {
      case 0:
        set_state_everywhere();  // the same state again
        break;
      case 1: {
        // The SMMU disabled for a while (GBPA bypass or abort), translating meanwhile.
        st.smmuen = false;
        st.gbpa_abort = in.chance(50);
        set_state_everywhere();
        for (auto i = in.pick(6); i > 0; --i) translate_and_compare(random_transaction());
        st.smmuen = true;
        st.gbpa_abort = false;
        set_state_everywhere();
        break;
      }
      case 2:
        st.recinvsid = !st.recinvsid;
        set_state_everywhere();
        break;
      case 3:  // SMMU_IDR5.DS: whether CD.DS means anything
        st.features.ds = !st.features.ds;
        set_state_everywhere();
        break;
      case 4:
        st.features.httu = static_cast<vw::httu>(in.pick(3));
        set_state_everywhere();
        break;
      default: {
        constexpr address_size sizes[] = {address_size::bits48, address_size::bits44,
                                          address_size::bits40, address_size::bits36,
                                          address_size::bits52};
        st.features.oas = sizes[in.pick(5)];
        set_state_everywhere();
        break;
      }
    }
  }

  void churn_engine() {
    switch (in.pick(3)) {
      case 0: {
        const auto vmw = static_cast<unsigned>(in.pick(8));
        tiny->set_vmid_wildcard(vmw);
        micro->set_vmid_wildcard(vmw);
        off->set_vmid_wildcard(vmw);
        break;
      }
      case 1:
        tiny->set_caching(false);
        micro->set_caching(false);
        translate_and_compare(random_transaction());
        tiny->set_caching(true);
        micro->set_caching(true);
        break;
      default:
        tiny->invalidate_all();
        micro->invalidate_all();
        break;
    }
  }

  // ---- translations

  vw::transaction random_transaction() {
    constexpr std::uint32_t sids[] = {0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 9, 100};
    vw::transaction t;
    t.sid = sids[in.pick(std::size(sids))];
    const std::uint8_t f = in.u8();
    if ((f & 3U) == 0 || (f & 3U) == 1) {
      t.ssv = true;
      t.ssid = (f & 0x80U) != 0 ? in.u32() : static_cast<std::uint32_t>(in.pick(6));
    }
    const auto where = in.pick(10);
    if (where < 5) {
      t.address = page_va + in.pick(pages) * 0x1000 + in.pick(0x1000);
    } else if (where < 8) {
      t.address = block_va + in.pick(blocks) * 0x20'0000 + in.pick(0x20'0000);
    } else if (where < 9) {
      t.address = in.u64() >> in.pick(64);
    } else {
      t.address = (in.chance(50) ? nested_page_ipa : nested_block_ipa) + in.pick(0x100000);
    }
    t.access = static_cast<vw::access_kind>(in.pick(3));
    t.privileged = (f & 4U) != 0;
    return t;
  }

  // What a finding prints before it aborts: the transaction, the state, the four results.
  void report(const vw::transaction& t, const vw::result& ref, const vw::result& a,
              const vw::result& m, const vw::result& o) const {
    std::fprintf(stderr,
                 "transaction: sid %u ssv %d ssid %u address 0x%llx access %d priv %d\n"
                 "state: smmuen %d gbpa_abort %d ds %d httu %d oas %d; cd_ds %d cd_hahd %d\n",
                 t.sid, t.ssv, t.ssid, static_cast<unsigned long long>(t.address),
                 static_cast<int>(t.access), t.privileged, st.smmuen, st.gbpa_abort, st.features.ds,
                 static_cast<int>(st.features.httu), static_cast<int>(st.features.oas), cd_ds,
                 cd_hahd);
    const std::pair<const char*, const vw::result*> rs[] = {
        {"walk", &ref}, {"tiny", &a}, {"micro", &m}, {"off", &o}};
    for (const auto& [name, r] : rs) {
      std::fprintf(stderr,
                   "  %-5s kind %d term %d event 0x%02x out 0x%llx ipa 0x%llx size %u perm %d%d%d "
                   "asid %u vmid %u global %d\n",
                   name, static_cast<int>(r->kind), static_cast<int>(r->term),
                   static_cast<unsigned>(r->event.type()),
                   static_cast<unsigned long long>(r->xlat.output_address),
                   static_cast<unsigned long long>(r->xlat.ipa), r->xlat.size_shift, r->xlat.perm.r,
                   r->xlat.perm.w, r->xlat.perm.x, r->xlat.asid, r->xlat.vmid, r->xlat.global);
    }
  }

  void translate_and_compare(const vw::transaction& t) {
    ve::walk_only p;
    const vw::result ref = vw::translate(ro, st, t, p);
    const vw::result a = tiny->translate(t);
    const vw::result m = in.chance(25) ? micro->translate(t, utlb1) : micro->translate(t, utlb16);
    const vw::result o = off->translate(t);
    if (o != ref || a != ref || m != ref)
      report(t, ref, a, m, o);
    VSMMU_FUZZ_CHECK(o == ref, "caching off differs from the walk");
    VSMMU_FUZZ_CHECK(a == ref, "the caching engine (tiny caches) differs from the walk");
    VSMMU_FUZZ_CHECK(m == ref, "the micro-TLB engine differs from the walk");
  }

  void step() {
    const auto op = in.pick(100);
    if (op < 50) {
      vw::transaction t = random_transaction();
      translate_and_compare(t);
      // Again, nearby, with another access: the likelier hit.
      for (auto i = in.pick(4); i > 0; --i) {
        t.address ^= in.pick(0x1000);
        t.access = static_cast<vw::access_kind>(in.pick(3));
        t.privileged = in.chance(50);
        translate_and_compare(t);
      }
    } else if (op < 72) {
      change_mapping();
    } else if (op < 80) {
      change_cd();
    } else if (op < 84) {
      change_ste();
    } else if (op < 91) {
      hostile_command();
    } else if (op < 96) {
      churn_state();
    } else {
      churn_engine();
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vsmmu::fuzz::reader raw(data, size);
  vsmmu::fuzz::choices in(raw);
  workload w(in);
  unsigned ops = 0;
  while (ops++ < 4096 && in.next_op()) {
    if (!in.in_burst() && raw.remaining() >= 3 && in.u8() >= 0xf0) {
      const std::uint64_t seed = in.u64();
      in.start_burst(seed, 1U + in.u8());
      continue;
    }
    w.step();
  }
  return 0;
}
