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
// The guest is vsmmu/testing/guest_model.hpp (as in tests/engine/differential_test.cpp), drawing
// from the input: it always issues the invalidations the architecture requires after a change
// (§3.21, §4.3, §4.4), and keeps to what software must for a cache to be usable at all. Under
// those rules every cached answer must be the walk's answer. Invariants:
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
#include <vsmmu/queue/command.hpp>
#include <vsmmu/testing/guest_model.hpp>
#include <vsmmu/walk/translate.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <utility>

#include "check.hpp"
#include "choices.hpp"

namespace {

namespace vw = vsmmu::walk;
namespace vt = vsmmu::testing;
namespace ve = vsmmu::engine;
using vsmmu::queue::command_status;
using vsmmu::smmuv3::address_size;

using guest = vt::guest_model<vsmmu::fuzz::choices>;
using memory = guest::memory;
using engine8 = ve::smmu_engine<memory, ve::null_notifier, 8>;
using engine64 = ve::smmu_engine<memory, ve::null_notifier, 64>;

// The SMMU and the CD flags from the header's first 16 bits.
vt::guest::options options_from(std::uint16_t f) {
  vt::guest::options o;
  o.hyp = (f & 1U) == 0;
  o.asid16 = (f & 2U) == 0;
  o.vmid16 = (f & 4U) == 0;
  o.ds = (f & 8U) != 0;
  o.httu = static_cast<vw::httu>(((f >> 4) & 3U) % 3U);
  o.cd_ds = (f & 0x40U) != 0;
  o.cd_hahd = (f & 0x80U) != 0;
  return o;
}

struct workload {
  vsmmu::fuzz::choices& in;
  guest g;
  vw::smmu_state& st = g.state();
  const memory& ro = g.mem();  // the engines and the reference walk only read
  std::unique_ptr<engine8> tiny;
  std::unique_ptr<engine64> micro;
  std::unique_ptr<engine8> off;
  ve::micro_tlb<1> utlb1;
  ve::micro_tlb<16> utlb16;

  explicit workload(vsmmu::fuzz::choices& c) : in(c), g(c, options_from(c.u16())) {
    ve::engine_options small;
    small.config = {2, 2};
    tiny = std::make_unique<engine8>(ro, st, ve::null_notifier{}, small);
    micro = std::make_unique<engine64>(ro, st);
    off = std::make_unique<engine8>(ro, st);
    off->set_caching(false);
    // Mappings to start with, drawn from a generator the header seeds.
    const std::uint64_t seed = in.u64();
    const unsigned n = 8U + in.u8();
    in.start_burst(seed, n);
    g.populate(n);
    in.end_burst();
  }

  // ---- commands

  // A command every engine applies alike. `required`: one the guest relies on, which must be
  // accepted (EL2 ones exist only with Hyp).
  void all(const vsmmu::queue::command& c, bool required) {
    const command_status a = tiny->execute(c);
    const command_status m = micro->execute(c);
    const command_status o = off->execute(c);
    VSMMU_FUZZ_CHECK(a == command_status::ok || a == command_status::illegal ||
                         a == command_status::atc_incomplete,
                     "execute() returned something that is not a command_status");
    VSMMU_FUZZ_CHECK(a == m && a == o, "engines gave one command different statuses");
    if (required) {
      VSMMU_FUZZ_CHECK(a == command_status::ok, "a well-formed invalidation was refused");
    }
  }
  [[nodiscard]] auto issue() {
    return [this](const vsmmu::queue::command& c, bool required) { all(c, required); };
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
        for (auto i = in.pick(6); i > 0; --i) translate_and_compare(g.random_transaction());
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
        translate_and_compare(g.random_transaction());
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

  // What a finding prints before it aborts: the transaction, the state, the four results.
  void report(const vw::transaction& t, const vw::result& ref, const vw::result& a,
              const vw::result& m, const vw::result& o) const {
    std::fprintf(stderr,
                 "transaction: sid %u ssv %d ssid %u address 0x%llx access %d priv %d\n"
                 "state: smmuen %d gbpa_abort %d ds %d httu %d oas %d; cd_ds %d cd_hahd %d\n",
                 t.sid, t.ssv, t.ssid, static_cast<unsigned long long>(t.address),
                 static_cast<int>(t.access), t.privileged, st.smmuen, st.gbpa_abort, st.features.ds,
                 static_cast<int>(st.features.httu), static_cast<int>(st.features.oas),
                 g.options().cd_ds, g.options().cd_hahd);
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
    if (o != ref || a != ref || m != ref) report(t, ref, a, m, o);
    VSMMU_FUZZ_CHECK(o == ref, "caching off differs from the walk");
    VSMMU_FUZZ_CHECK(a == ref, "the caching engine (tiny caches) differs from the walk");
    VSMMU_FUZZ_CHECK(m == ref, "the micro-TLB engine differs from the walk");
  }

  void step() {
    const auto op = in.pick(100);
    if (op < 50) {
      vw::transaction t = g.random_transaction();
      translate_and_compare(t);
      // Again, nearby, with another access: the likelier hit.
      for (auto i = in.pick(4); i > 0; --i) {
        t = g.nearby(t);
        translate_and_compare(t);
      }
    } else if (op < 72) {
      g.change_mapping(issue());
    } else if (op < 80) {
      g.change_cd(issue());
    } else if (op < 84) {
      g.change_ste(issue());
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
