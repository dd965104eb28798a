#pragma once

// Shared set-up for the engine tests: 2MB of flat guest memory with a linear Stream table, CD
// tables and a table builder's pool; STE/CD builders (the guest model's); command builders; a
// recording notifier; a full comparison of translation results.

#include <vsmmu/engine/notifications.hpp>
#include <vsmmu/engine/smmu_engine.hpp>
#include <vsmmu/memory/flat.hpp>
#include <vsmmu/queue/command.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/testing/commands.hpp>
#include <vsmmu/testing/guest_model.hpp>
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

// Stage 1 tables: 4KB granule, 39-bit VAs (start level 1); stage 2: 4KB, 40-bit IPAs, SL0 = 1;
// valid CDs and STEs for them: the guest model's (vsmmu/testing/guest_model.hpp).
using vt::guest::s1_cd;
using vt::guest::s1_fmt;
using vt::guest::s1_ste;
using vt::guest::s2_fmt;
using vt::guest::with_s2;

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
