// SPDX-License-Identifier: BSL-1.0
#pragma once

// A random but well-behaved guest, for differential tests of a caching SMMU model against the
// uncached walk: it builds streams, CDs and translation tables in flat guest memory, then maps,
// unmaps and remaps pages and blocks, switches CDs between table sets and changes STEs, and after
// each change issues one of the invalidations the architecture makes sufficient for it (IHI 0070
// §3.21, §4.3, §4.4), chosen at random. It also keeps to what software must for a cache to be
// usable at all: every table set has its own (VMID, ASID) tag, every stage 2 its own VMID, and
// global pages appear only in a stream whose VMID has one CD. Under those rules any cached answer
// must be the walk's answer, so a test can compare every engine it runs with walk::translate.
//
// The guest only writes memory and hands commands to the caller (`issue(command, required)`): the
// caller runs its engines, checks the statuses and the translations of random_transaction(). Its
// decisions come from a choice_source: a seeded PRNG in a test (seeded_choices), the input bytes
// in a fuzzer, so that one input replays one run.
//
// Guest memory (memory_bytes): a linear Stream table of 16 STEs at 0, a linear CD table of 16 CDs
// per StreamID from 0x1000, translation tables from 0x10000. Streams:
//   SID 0  stage 1, one CD, may map global pages;   SID 1  stage 1, 4 CDs, S1DSS changes;
//   SID 2  stage 1, 2 CDs, S1DSS = bypass;          SID 3  stage 2 only;
//   SID 4  nested (its structures through an identity 1GB stage 2 block);
//   SID 5  bypass;                                  SID 6  stage 1, STE changes (V, Config);
//   SID 7  STRW = EL2 (with SMMU_IDR0.Hyp; else an NS-EL1 stream with a VMID and global pages).

#include <vsmmu/memory/flat.hpp>
#include <vsmmu/queue/command.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/testing/commands.hpp>
#include <vsmmu/testing/table_builder.hpp>
#include <vsmmu/walk/result.hpp>
#include <vsmmu/walk/smmu_features.hpp>

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <type_traits>
#include <vector>

namespace vsmmu::testing {

// Where the guest's decisions come from: values of each width, pick(n) below n, chance(percent).
template <class C>
concept choice_source = requires(C& c, std::uint64_t n, unsigned percent) {
  { c.u8() } -> std::convertible_to<std::uint8_t>;
  { c.u16() } -> std::convertible_to<std::uint16_t>;
  { c.u32() } -> std::convertible_to<std::uint32_t>;
  { c.u64() } -> std::convertible_to<std::uint64_t>;
  { c.pick(n) } -> std::convertible_to<std::uint64_t>;
  { c.chance(percent) } -> std::convertible_to<bool>;
};

// A choice_source from a seed (splitmix64): the same seed, the same run.
class seeded_choices {
 public:
  explicit constexpr seeded_choices(std::uint64_t seed) noexcept : state_(seed) {}
  constexpr std::uint64_t u64() noexcept {
    state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  constexpr std::uint8_t u8() noexcept { return static_cast<std::uint8_t>(u64()); }
  constexpr std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(u64()); }
  constexpr std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(u64()); }
  constexpr std::uint64_t pick(std::uint64_t n) noexcept { return u64() % n; }
  constexpr bool chance(unsigned percent) noexcept { return pick(100) < percent; }

 private:
  std::uint64_t state_;
};
static_assert(choice_source<seeded_choices>);

// Formats and structures of the guest's tables; usable on their own for hand-written tests.
namespace guest {

// Stage 1: 4KB granule, 39-bit VAs (start level 1); stage 2: 4KB, 40-bit IPAs, SL0 = 1.
inline constexpr tt_format s1_fmt = s1_format(12, 39);
inline constexpr tt_format s2_fmt = s2_format(12, 40, 1);

// A valid AArch64 CD for s1_fmt tables at ttb0 (TTB1 walks disabled), MAIR0 = 0xff44.
[[nodiscard]] inline smmuv3::cd::value s1_cd(std::uint64_t ttb0, std::uint16_t asid,
                                             bool ha_hd = false, bool ds = false) {
  namespace C = smmuv3::cd;
  C::value cd;
  cd.set<C::V>(true)
      .set<C::AA64>(true)
      .set<C::T0SZ>(static_cast<std::uint8_t>(64 - 39))
      .set<C::TG0>(smmuv3::granule::size_4k)
      .set<C::EPD1>(true)
      .set<C::TG1>(smmuv3::granule_tg1::size_4k)
      .set<C::T1SZ>(16)
      .set<C::IPS>(smmuv3::address_size::bits48)
      .set<C::A>(true)
      .set<C::R>(true)
      .set<C::HA>(ha_hd)
      .set<C::HD>(ha_hd)
      .set<C::DS>(ds)
      .set<C::ASID>(asid)
      .set<C::MAIR0>(0x0000'ff44)
      .set<C::TTB0>(ttb0);
  return cd;
}

// A valid stage 1 STE over the linear CD table at context_ptr.
[[nodiscard]] inline smmuv3::ste::value s1_ste(std::uint64_t context_ptr, unsigned s1cdmax = 0,
                                               smmuv3::s1_dss dss = smmuv3::s1_dss::terminate,
                                               std::uint16_t vmid = 0) {
  namespace S = smmuv3::ste;
  S::value ste;
  ste.set<S::V>(true)
      .set<S::Config>(smmuv3::ste_config::s1_trans)
      .set<S::S1ContextPtr>(context_ptr)
      .set<S::S1CDMax>(static_cast<std::uint8_t>(s1cdmax))
      .set<S::S1DSS>(dss)
      .set<S::S2VMID>(vmid);
  return ste;
}

// Stage 2 fields for s2_fmt tables at s2ttb on top of `ste` (Config chosen by the caller).
[[nodiscard]] inline smmuv3::ste::value with_s2(smmuv3::ste::value ste, std::uint64_t s2ttb,
                                                std::uint16_t vmid) {
  namespace S = smmuv3::ste;
  ste.set<S::S2T0SZ>(static_cast<std::uint8_t>(64 - 40))
      .set<S::S2SL0>(1)
      .set<S::S2TG>(smmuv3::granule::size_4k)
      .set<S::S2PS>(smmuv3::address_size::bits48)
      .set<S::S2AA64>(true)
      .set<S::S2R>(true)
      .set<S::S2VMID>(vmid)
      .set<S::S2TTB>(s2ttb);
  return ste;
}

// The SMMU the guest runs on (SMMU_IDR0/IDR5 fields) and the CD flags it sets everywhere.
struct options {
  bool hyp = true;  // SMMU_IDR0.Hyp: SID 7 is an EL2 stream, the EL2 TLBIs exist
  bool asid16 = true;
  bool vmid16 = true;
  bool ds = false;  // SMMU_IDR5.DS
  walk::httu httu = walk::httu::none;
  bool cd_ds = false;    // CD.DS (meaningful with ds)
  bool cd_hahd = false;  // CD.HA/HD (meaningful with httu)
};

// One CD: the two table sets it can point at, which one, its ASID, whether it is valid.
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

}  // namespace guest

// The guest. Changes take `issue`, called as issue(const queue::command&, bool required) for each
// command the guest sends after the change: `required` commands are ones it relies on, which an
// SMMU must accept (CMD_TLBI_EL2_* only with Hyp).
template <choice_source Choices>
class guest_model {
 public:
  static constexpr std::uint64_t memory_bytes = 0x100000;
  using memory = vsmmu::memory::flat_memory<memory_bytes>;
  static constexpr std::uint64_t cd_base = 0x1000;
  static constexpr std::uint64_t pool = 0x10000;
  [[nodiscard]] static constexpr std::uint64_t cd_table(std::uint32_t sid) {
    return cd_base + sid * 0x400ULL;
  }
  // Stage 1 VA windows (and stage 2-only IPAs): 32 4KB pages (level 3) and 4 2MB blocks (level
  // 2); the nested stream's stage 1 outputs (its data IPAs) likewise.
  static constexpr std::uint64_t page_va = 0x1000'0000;
  static constexpr std::uint64_t block_va = 0x4000'0000;
  static constexpr std::uint64_t nested_page_ipa = 0x8000'0000;
  static constexpr std::uint64_t nested_block_ipa = 0xc000'0000;
  static constexpr unsigned pages = 32;
  static constexpr unsigned blocks = 4;

  // Builds the structures; VMIDs and ASIDs come from `in`, made distinct within the widths the
  // SMMU has (a collision would be the guest's error, after which caches may legally differ).
  // No mapping yet: populate() makes some.
  explicit guest_model(Choices& in, const guest::options& o = {}) : in_(in), opt_(o) {
    namespace S = smmuv3::ste;
    st_.strtab.base = 0;
    st_.strtab.log2size = 4;
    st_.features.ats = true;
    st_.features.hyp = o.hyp;
    st_.features.asid16 = o.asid16;
    st_.features.vmid16 = o.vmid16;
    st_.features.ds = o.ds;
    st_.features.httu = o.httu;
    const std::uint16_t vmid_mask = o.vmid16 ? 0xffff : 0xff;
    const std::uint16_t asid_mask = o.asid16 ? 0xffff : 0xff;
    std::vector<std::uint16_t> vmids;
    auto fresh = [](std::vector<std::uint16_t>& used, std::uint16_t v, std::uint16_t mask) {
      v = static_cast<std::uint16_t>(v & mask);
      while (std::find(used.begin(), used.end(), v) != used.end()) {
        v = static_cast<std::uint16_t>((v + 1) & mask);
      }
      used.push_back(v);
      return v;
    };
    auto fresh_vmid = [&] { return fresh(vmids, in_.u16(), vmid_mask); };
    streams_.push_back({0, fresh_vmid(), 0, true, false, false});
    streams_.push_back({1, fresh_vmid(), 2, false, false, false});
    streams_.push_back({2, fresh_vmid(), 1, false, false, false});
    streams_.push_back({4, fresh_vmid(), 0, false, true, false});
    streams_.push_back({6, fresh_vmid(), 0, false, false, false});
    // Without Hyp, STRW is ignored (IgnoreSTESTRW): SID 7 is then an NS-EL1 stream, with a VMID
    // of its own (its global pages must not reach another stream's ASIDs) and the NH_* TLBIs.
    streams_.push_back({7, 0, 0, true, false, o.hyp});
    nested_vmid_ = streams_[3].vmid;
    s2_only_vmid_ = fresh_vmid();
    streams_.back().vmid = fresh(vmids, 0x77, vmid_mask);
    std::vector<std::uint16_t> asids;
    for (const guest::stream& s : streams_) {
      for (std::uint32_t i = 0; i < (1U << s.s1cdmax); ++i) {
        guest::cd_slot c;
        c.sid = s.sid;
        c.index = i;
        c.roots = {b_.new_root(guest::s1_fmt), b_.new_root(guest::s1_fmt)};
        c.asid = fresh(asids, in_.u16(), asid_mask);
        cds_.push_back(c);
        write_cd(c);
      }
    }
    for (const std::uint32_t sid : {0U, 1U, 2U, 6U, 7U}) write_ste(sid);
    s2_only_root_ = b_.new_root(guest::s2_fmt);
    put_ste(
        3, guest::with_s2(S::value{}.with<S::V>(true).with<S::Config>(smmuv3::ste_config::s2_trans),
                          s2_only_root_, s2_only_vmid_));
    nested_s2_root_ = b_.new_root(guest::s2_fmt);
    b_.map(guest::s2_fmt, nested_s2_root_, 0, 0, 1);
    put_ste(4,
            guest::with_s2(guest::s1_ste(cd_table(4)).with<S::Config>(smmuv3::ste_config::nested),
                           nested_s2_root_, nested_vmid_));
    put_ste(5, S::value{}.with<S::V>(true).with<S::Config>(smmuv3::ste_config::bypass));
  }
  guest_model(const guest_model&) = delete;
  guest_model& operator=(const guest_model&) = delete;

  // What the engines read (and, with HTTU, write back to).
  [[nodiscard]] memory& mem() noexcept { return *mem_; }
  [[nodiscard]] const memory& mem() const noexcept { return *mem_; }
  // The register state: the caller may change it (SMMUEN, features...) and must tell its engines.
  [[nodiscard]] walk::smmu_state& state() noexcept { return st_; }
  [[nodiscard]] const walk::smmu_state& state() const noexcept { return st_; }
  [[nodiscard]] const guest::options& options() const noexcept { return opt_; }
  [[nodiscard]] const std::vector<guest::stream>& streams() const noexcept { return streams_; }
  [[nodiscard]] const std::vector<guest::cd_slot>& cds() const noexcept { return cds_; }

  // n mappings before any engine caches anything: no invalidation.
  void populate(unsigned n) {
    for (unsigned i = 0; i < n; ++i) change_mapping(nullptr);
  }

  // Maps, remaps or unmaps one stage 1 or stage 2 leaf, then invalidates as required.
  template <class Issue>
  void change_mapping(Issue&& issue) {
    namespace cmd = smmuv3::cmd;
    using namespace commands;
    constexpr bool invalidate = !std::is_null_pointer_v<std::remove_cvref_t<Issue>>;
    const bool unmap = in_.chance(15);
    const bool block = in_.chance(25);
    const unsigned slot = static_cast<unsigned>(block ? in_.pick(blocks) : in_.pick(pages));
    const int level = block ? 2 : 3;
    const std::uint64_t size = block ? 0x20'0000 : 0x1000;
    const unsigned what = static_cast<unsigned>(in_.pick(10));
    if (what < 6) {  // a stage 1 leaf of some CD's table set (active or not)
      const guest::cd_slot& c = cds_[in_.pick(cds_.size())];
      const guest::stream& s = stream_of(c.sid);
      const std::uint64_t root = c.roots[in_.pick(2)];
      const std::uint64_t va = (block ? block_va : page_va) + slot * size;
      if (unmap) {
        clear_leaf(guest::s1_fmt, root, va, level);
      } else {
        std::uint64_t out = 0x1'0000'0000ULL + in_.pick(0x1000) * size;
        if (s.nested) out = (block ? nested_block_ipa : nested_page_ipa) + in_.pick(blocks) * size;
        if (s.nested && !block) out = nested_page_ipa + in_.pick(pages) * size;
        b_.map(guest::s1_fmt, root, va, out, level, random_attrs(false, s.globals));
      }
      if constexpr (invalidate) {
        if (s.el2) {
          invalidate_el2(issue, va, level);
        } else {
          invalidate_s1(issue, s.vmid, c.asid, va, size, level, s.globals);
        }
      }
    } else if (what < 8) {  // the stage 2-only stream
      const std::uint64_t ipa = (block ? block_va : page_va) + slot * size;
      if (unmap) {
        clear_leaf(guest::s2_fmt, s2_only_root_, ipa, level);
      } else {
        b_.map(guest::s2_fmt, s2_only_root_, ipa, 0x2'0000'0000ULL + in_.pick(0x1000) * size, level,
               random_attrs(true, false));
      }
      if constexpr (invalidate) {
        switch (in_.pick(4)) {
          case 0:
            issue(s2_ipa(s2_only_vmid_, ipa + in_.pick(0x1000)), true);
            break;
          case 1: {
            range_fields r;
            r.tg = cmd::tlbi_tg::size_4k;
            r.num = static_cast<std::uint8_t>(in_.pick(32));
            r.scale = static_cast<std::uint8_t>(block ? 9 : in_.pick(4));
            if (r.num == 0 && r.scale == 0) r.num = 1;  // else Reserved (CERROR_ILL)
            issue(s2_ipa(s2_only_vmid_, ipa, r), true);
            break;
          }
          case 2:
            issue(s12_vmall(s2_only_vmid_), true);
            break;
          default:
            issue(nsnh_all(), true);
            break;
        }
      }
    } else {  // stage 2 of the nested stream (data IPAs only, never its structures)
      const std::uint64_t ipa = (block ? nested_block_ipa : nested_page_ipa) + slot * size;
      if (unmap) {
        clear_leaf(guest::s2_fmt, nested_s2_root_, ipa, level);
      } else {
        b_.map(guest::s2_fmt, nested_s2_root_, ipa, 0x3'0000'0000ULL + in_.pick(0x1000) * size,
               level, random_attrs(true, false));
      }
      if constexpr (invalidate) {
        // §4.4.3.1: S2_IPA need not remove combined entries; it goes with NH_ALL (or S12_VMALL).
        switch (in_.pick(3)) {
          case 0:
            issue(s2_ipa(nested_vmid_, ipa), true);
            issue(nh_all(nested_vmid_), true);
            break;
          case 1:
            issue(s12_vmall(nested_vmid_), true);
            break;
          default:
            issue(nsnh_all(), true);
            break;
        }
      }
    }
  }

  // Switches a CD to its other table set or flips its V, then a CFGI and the TLBI for its ASID.
  template <class Issue>
  void change_cd(Issue&& issue) {
    using namespace commands;
    guest::cd_slot& c = cds_[in_.pick(cds_.size())];
    const guest::stream& s = stream_of(c.sid);
    if (in_.chance(20)) {
      c.valid = !c.valid;
    } else {
      c.active ^= 1U;
    }
    write_cd(c);
    invalidate_config(issue, c.sid, c.index, true);
    // The old tables' translations carry the same ASID: they go too.
    if (s.el2) {
      issue(as_command(smmuv3::cmd::make<smmuv3::cmd::tlbi_el2_all::layout>()), opt_.hyp);
    } else if (s.globals || in_.chance(30)) {
      issue(nh_all(s.vmid), true);
    } else {
      issue(nh_asid(s.vmid, c.asid), true);
    }
  }

  // Changes SID 1's S1DSS or SID 6's V/Config, then a CFGI that covers the STE.
  template <class Issue>
  void change_ste(Issue&& issue) {
    if (in_.chance(50)) {
      constexpr smmuv3::s1_dss modes[] = {smmuv3::s1_dss::substream0, smmuv3::s1_dss::bypass,
                                          smmuv3::s1_dss::terminate};
      sid1_dss_ = modes[in_.pick(3)];
      write_ste(1);
      invalidate_config(issue, 1, 0, false);
    } else {
      sid6_mode_ = static_cast<unsigned>(in_.pick(4));
      write_ste(6);
      invalidate_config(issue, 6, 0, false);
    }
  }

  // A transaction: mostly into the windows, on the streams above and on ones without an STE.
  [[nodiscard]] walk::transaction random_transaction() {
    constexpr std::uint32_t sids[] = {0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 9, 100};
    walk::transaction t;
    t.sid = sids[in_.pick(std::size(sids))];
    const std::uint8_t f = in_.u8();
    if ((f & 3U) == 0 || (f & 3U) == 1) {
      t.ssv = true;
      t.ssid = (f & 0x80U) != 0 ? in_.u32() : static_cast<std::uint32_t>(in_.pick(6));
    }
    const auto where = in_.pick(10);
    if (where < 5) {
      t.address = page_va + in_.pick(pages) * 0x1000 + in_.pick(0x1000);
    } else if (where < 8) {
      t.address = block_va + in_.pick(blocks) * 0x20'0000 + in_.pick(0x20'0000);
    } else if (where < 9) {
      t.address = in_.u64() >> in_.pick(64);
    } else {
      t.address = (in_.chance(50) ? nested_page_ipa : nested_block_ipa) + in_.pick(0x100000);
    }
    t.access = static_cast<walk::access_kind>(in_.pick(3));
    t.privileged = (f & 4U) != 0;
    return t;
  }

  // t again, nearby (the same page), with another access: the likelier cache hit.
  [[nodiscard]] walk::transaction nearby(walk::transaction t) {
    t.address ^= in_.pick(0x1000);
    t.access = static_cast<walk::access_kind>(in_.pick(3));
    t.privileged = in_.chance(50);
    return t;
  }

 private:
  void put_ste(std::uint32_t sid, const smmuv3::ste::value& ste) {
    b_.install_ste(st_.strtab, sid, ste);
  }

  [[nodiscard]] const guest::stream& stream_of(std::uint32_t sid) const {
    for (const guest::stream& s : streams_) {
      if (s.sid == sid) return s;
    }
    return streams_.front();
  }

  void write_cd(const guest::cd_slot& c) {
    const smmuv3::cd::value cd = guest::s1_cd(c.roots[c.active], c.asid, opt_.cd_hahd, opt_.cd_ds)
                                     .with<smmuv3::cd::V>(c.valid);
    b_.install_cd(cd_table(c.sid), smmuv3::s1_fmt::linear, stream_of(c.sid).s1cdmax, c.index, cd);
  }

  void write_ste(std::uint32_t sid) {
    namespace S = smmuv3::ste;
    using smmuv3::s1_dss;
    const guest::stream& s = stream_of(sid);
    if (sid == 1) {
      put_ste(1, guest::s1_ste(cd_table(1), s.s1cdmax, sid1_dss_, s.vmid));
    } else if (sid == 2) {
      put_ste(2, guest::s1_ste(cd_table(2), s.s1cdmax, s1_dss::bypass, s.vmid));
    } else if (sid == 6) {
      S::value ste = guest::s1_ste(cd_table(6), 0, s1_dss::terminate, s.vmid);
      if (sid6_mode_ == 1) ste.set<S::V>(false);
      if (sid6_mode_ == 2) ste.set<S::Config>(smmuv3::ste_config::abort);
      if (sid6_mode_ == 3) ste.set<S::Config>(smmuv3::ste_config::bypass);
      put_ste(6, ste);
    } else if (sid == 7) {
      put_ste(7, guest::s1_ste(cd_table(7), 0, s1_dss::terminate, s.vmid)
                     .with<S::STRW>(smmuv3::strw::el2));
    } else {
      put_ste(sid, guest::s1_ste(cd_table(sid), s.s1cdmax, s1_dss::terminate, s.vmid));
    }
  }

  void clear_leaf(const tt_format& fmt, std::uint64_t root, std::uint64_t ia, int level) {
    if (const auto at = b_.descriptor_address(fmt, root, ia, level); at != 0) b_.write64(at, 0);
  }

  [[nodiscard]] leaf_attrs random_attrs(bool stage2, bool global_ok) {
    leaf_attrs a;
    const std::uint8_t r = in_.u8();
    a.read = !stage2 || (r & 1U) == 0 || in_.chance(80);
    a.write = (r & 2U) == 0 || in_.chance(60);
    a.exec = (r & 4U) == 0 || in_.chance(50);
    a.user = (r & 8U) == 0 || in_.chance(60);
    a.af = (r & 16U) == 0 || in_.chance(80);
    a.global = global_ok && (r & 32U) != 0;
    a.attr = static_cast<std::uint8_t>(stage2 ? in_.pick(16) : in_.pick(8));
    a.sh = (r & 64U) != 0 ? 2 : 3;
    return a;
  }

  // After a change at va of the NS-EL2 StreamWorld (SMMU_CR2.E2H == 0: the ASID is not matched).
  template <class Issue>
  void invalidate_el2(Issue& issue, std::uint64_t va, int level) {
    namespace cmd = smmuv3::cmd;
    using namespace commands;
    switch (in_.pick(4)) {
      case 0:
        issue(as_command(ranged<cmd::tlbi_el2_va::layout, cmd::Address>(va + in_.pick(0x1000), {})
                             .template with<cmd::ASID>(in_.u16())),
              opt_.hyp);
        break;
      case 1: {
        range_fields r;
        r.tg = cmd::tlbi_tg::size_4k;
        r.num = static_cast<std::uint8_t>(in_.pick(4));
        r.ttl = static_cast<std::uint8_t>(level);
        issue(as_command(ranged<cmd::tlbi_el2_vaa::layout, cmd::Address>(va, r)), opt_.hyp);
        break;
      }
      case 2:
        issue(
            as_command(ranged<cmd::tlbi_el2_vaa::layout, cmd::Address>(va + in_.pick(0x1000), {})),
            opt_.hyp);
        break;
      default:
        issue(as_command(cmd::make<cmd::tlbi_el2_all::layout>()), opt_.hyp);
        break;
    }
  }

  // After a stage 1 change at va of (vmid, asid): one of the TLBIs that cover it.
  template <class Issue>
  void invalidate_s1(Issue& issue, std::uint16_t vmid, std::uint16_t asid, std::uint64_t va,
                     std::uint64_t size, int level, bool global_possible) {
    namespace cmd = smmuv3::cmd;
    using namespace commands;
    switch (in_.pick(7)) {
      case 0: {
        range_fields r;
        r.leaf = in_.chance(50);
        issue(nh_va(vmid, asid, va + in_.pick(size < 0x1000 ? size : 0x1000), r), true);
        break;
      }
      case 1: {
        // A range starting at or below va that reaches its end: (NUM + 1) << SCALE pages.
        range_fields r;
        r.tg = cmd::tlbi_tg::size_4k;
        r.scale = static_cast<std::uint8_t>(in_.pick(size > 0x1000 ? 10 : 3));
        const std::uint64_t below = in_.pick(3) * 0x1000;
        const std::uint64_t need = (below + size) >> 12;  // pages from start to va's end
        unsigned num = static_cast<unsigned>(in_.pick(32));
        while (((std::uint64_t{num} + 1) << r.scale) < need) {
          if (num < 31) {
            ++num;
          } else {
            ++r.scale;
          }
        }
        r.num = static_cast<std::uint8_t>(num);
        r.ttl = static_cast<std::uint8_t>(in_.chance(50) ? level : 0);
        if (r.num == 0 && r.scale == 0 && r.ttl == 0) r.num = 1;
        r.leaf = in_.chance(50);
        issue(nh_va(vmid, asid, va - below, r), true);
        break;
      }
      case 2:
        issue(nh_vaa(vmid, va + in_.pick(0x1000)), true);
        break;
      case 3:
        if (!global_possible) {
          issue(nh_asid(vmid, asid), true);
          break;
        }
        [[fallthrough]];
      case 4:
        issue(nh_all(vmid), true);
        break;
      case 5:
        issue(s12_vmall(vmid), true);
        break;
      default:
        issue(nsnh_all(), true);
        break;
    }
  }

  // A CFGI that covers sid's STE, or (cd_only) the CD at index.
  template <class Issue>
  void invalidate_config(Issue& issue, std::uint32_t sid, std::uint32_t index, bool cd_only) {
    using namespace commands;
    switch (in_.pick(cd_only ? 5 : 3)) {
      case 0:
        issue(cfgi_ste(sid), true);
        break;
      case 1:
        issue(cfgi_ste_range(sid ^ static_cast<std::uint32_t>(in_.pick(2)),
                             static_cast<std::uint8_t>(1 + in_.pick(31))),
              true);
        break;
      case 2:
        issue(cfgi_ste_range(in_.u32(), 31), true);
        break;
      case 3:
        issue(cfgi_cd(sid, index), true);
        break;
      default:
        issue(cfgi_cd_all(sid), true);
        break;
    }
  }

  Choices& in_;
  guest::options opt_;
  std::unique_ptr<memory> mem_ = std::make_unique<memory>();
  walk::smmu_state st_;
  table_builder<memory> b_{*mem_, pool, memory_bytes - pool};
  std::vector<guest::stream> streams_;
  std::vector<guest::cd_slot> cds_;
  std::uint64_t s2_only_root_ = 0;    // SID 3
  std::uint64_t nested_s2_root_ = 0;  // SID 4
  std::uint16_t s2_only_vmid_ = 0;
  std::uint16_t nested_vmid_ = 0;
  smmuv3::s1_dss sid1_dss_ = smmuv3::s1_dss::substream0;
  unsigned sid6_mode_ = 0;
};

}  // namespace vsmmu::testing
