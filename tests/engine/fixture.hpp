#pragma once

// Shared set-up for the engine tests: 2MB of flat guest memory with a linear Stream table, CD
// tables and a table builder's pool; STE/CD builders; command builders; a recording notifier;
// a full comparison of translation results.

#include <vsmmu/engine/notifications.hpp>
#include <vsmmu/engine/smmu_engine.hpp>
#include <vsmmu/memory/flat.hpp>
#include <vsmmu/queue/command.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/testing/commands.hpp>
#include <vsmmu/testing/table_builder.hpp>
#include <vsmmu/walk/translate.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace ex {

namespace vw = vsmmu::walk;
namespace vt = vsmmu::testing;
namespace ve = vsmmu::engine;
namespace S = vsmmu::smmuv3::ste;
namespace C = vsmmu::smmuv3::cd;
namespace cmd = vsmmu::smmuv3::cmd;
using vsmmu::smmuv3::address_size;
using vsmmu::smmuv3::granule;
using vsmmu::smmuv3::granule_tg1;
using vsmmu::smmuv3::ste_config;

// Physical memory map:
//   0x00000  linear Stream table, 64 STEs (LOG2SIZE 6)
//   0x02000  CD tables, 0x400 bytes (16 CDs) per StreamID
//   0x10000+ translation tables, from the builder's pool
inline constexpr std::uint64_t mem_bytes = 0x200000;
inline constexpr std::uint64_t cd_base = 0x2000;
inline constexpr std::uint64_t pool = 0x10000;
using memory = vsmmu::memory::flat_memory<mem_bytes>;

[[nodiscard]] inline std::uint64_t cd_table(std::uint32_t sid) { return cd_base + sid * 0x400ULL; }

// Stage 1 tables: 4KB granule, 39-bit VAs (start level 1); stage 2: 4KB, 40-bit IPAs, SL0 = 1.
inline const vt::tt_format s1_fmt = vt::s1_format(12, 39);
inline const vt::tt_format s2_fmt = vt::s2_format(12, 40, 1);

inline C::value s1_cd(std::uint64_t ttb0, std::uint16_t asid) {
  C::value cd;
  cd.set<C::V>(true)
      .set<C::AA64>(true)
      .set<C::T0SZ>(static_cast<std::uint8_t>(64 - 39))
      .set<C::TG0>(granule::size_4k)
      .set<C::EPD1>(true)
      .set<C::TG1>(granule_tg1::size_4k)
      .set<C::T1SZ>(16)
      .set<C::IPS>(address_size::bits48)
      .set<C::A>(true)
      .set<C::R>(true)
      .set<C::ASID>(asid)
      .set<C::MAIR0>(0x0000'ff44)
      .set<C::TTB0>(ttb0);
  return cd;
}

inline S::value s1_ste(std::uint64_t context_ptr, unsigned s1cdmax = 0,
                       vsmmu::smmuv3::s1_dss dss = vsmmu::smmuv3::s1_dss::terminate,
                       std::uint16_t vmid = 0) {
  S::value ste;
  ste.set<S::V>(true)
      .set<S::Config>(ste_config::s1_trans)
      .set<S::S1ContextPtr>(context_ptr)
      .set<S::S1CDMax>(static_cast<std::uint8_t>(s1cdmax))
      .set<S::S1DSS>(dss)
      .set<S::S2VMID>(vmid);
  return ste;
}

// Stage 2 fields on top of `ste` (Config chosen by the caller).
inline S::value with_s2(S::value ste, std::uint64_t s2ttb, std::uint16_t vmid) {
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

inline vw::smmu_state state() {
  vw::smmu_state st;
  st.strtab.base = 0;
  st.strtab.log2size = 6;
  st.features.ats = true;
  return st;
}

struct world {
  std::unique_ptr<memory> mem = std::make_unique<memory>();
  vw::smmu_state st = state();
  vt::table_builder<memory> b{*mem, pool, mem_bytes - pool};

  void put_ste(std::uint32_t sid, const S::value& ste) { b.install_ste(st.strtab, sid, ste); }
  // A CD at `index` of sid's linear CD table.
  void put_cd(std::uint32_t sid, unsigned s1cdmax, std::uint32_t index, const C::value& cd) {
    b.install_cd(cd_table(sid), vsmmu::smmuv3::s1_fmt::linear, s1cdmax, index, cd);
  }
  // The walk with nothing cached, as the engine does it with caching off.
  [[nodiscard]] vw::result walk(const vw::transaction& t) const {
    ve::walk_only p;
    return vw::translate(*mem, st, t, p);
  }
};

inline vw::transaction txn(std::uint32_t sid, std::uint64_t address,
                           vw::access_kind a = vw::access_kind::read, bool priv = false) {
  vw::transaction t;
  t.sid = sid;
  t.address = address;
  t.access = a;
  t.privileged = priv;
  return t;
}
inline vw::transaction with_ssid(vw::transaction t, std::uint32_t ssid) {
  t.ssv = true;
  t.ssid = ssid;
  return t;
}

// ---- Commands: vsmmu/testing/commands.hpp (as_command, range_fields, cfgi_*, nh_*, ...).
using namespace vsmmu::testing::commands;

// ---- A notifier that records what it is told (thread-safe: the stress test shares one).
struct recording_notifier {
  struct log {
    std::mutex m;
    std::vector<ve::iotlb_invalidation> iotlb;
    std::vector<ve::config_invalidation> config;
    std::vector<ve::atc_invalidation> atc;
    bool atc_completes = true;
  };
  std::shared_ptr<log> l = std::make_shared<log>();

  void iotlb_invalidated(const ve::iotlb_invalidation& i) {
    std::lock_guard<std::mutex> g(l->m);
    l->iotlb.push_back(i);
  }
  void config_invalidated(const ve::config_invalidation& c) {
    std::lock_guard<std::mutex> g(l->m);
    l->config.push_back(c);
  }
  bool invalidate_atc(const ve::atc_invalidation& a) {
    std::lock_guard<std::mutex> g(l->m);
    l->atc.push_back(a);
    return l->atc_completes;
  }
};

// ---- Every field of a result (walk::result's operator==), for the differential comparisons.
inline bool same_result(const vw::result& a, const vw::result& b) { return a == b; }

}  // namespace ex
