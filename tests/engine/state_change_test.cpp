// set_state() with a feature that changes how a CD decodes drops what was cached under the old
// features (fuzz harness `engine`, finding F4: SMMU_IDR5.DS was left out of the comparison, so a
// CD decoded with CD.DS in effect went on being used after DS was withdrawn, and the reverse).

#include <catch2/catch.hpp>

#include "engine/fixture.hpp"

using namespace ex;

TEST_CASE("engine: a change of SMMU_IDR5.DS drops the cached CDs", "[engine][state]") {
  for (const bool ds_first : {true, false}) {
    world w;
    w.st.features.ds = ds_first;
    const auto root = w.b.new_root(s1_fmt);
    // SH = 3 in descriptor bits [9:8]: OA[51:50] when CD.DS is in effect (an address beyond the
    // 48-bit OAS), shareability when it is not.
    w.b.map(s1_fmt, root, 0x1000'0000, 0x4000'0000, 3, {.sh = 3});
    w.put_cd(1, 0, 0, s1_cd(root, 5).with<C::DS>(true));
    w.put_ste(1, s1_ste(cd_table(1)));
    ve::smmu_engine<memory> e(*w.mem, w.st);
    ve::micro_tlb<4> u;
    const vw::transaction t = txn(1, 0x1000'0123);
    const vw::result before = w.walk(t);
    REQUIRE(same_result(e.translate(t), before));
    REQUIRE(same_result(e.translate(t), before));  // from the caches when it translated
    REQUIRE(same_result(e.translate(t, u), before));

    w.st.features.ds = !ds_first;
    e.set_state(w.st);
    const vw::result after = w.walk(t);
    REQUIRE_FALSE(same_result(before, after));  // DS matters to this CD
    CHECK(same_result(e.translate(t), after));
    CHECK(same_result(e.translate(t, u), after));
  }
}

// The engine decodes through decode_limits built from the features (the decoders' fast path); a
// set_state() that changes the features must replace them. Each case is an STE or CD that is
// legal under one feature set and ILLEGAL under the other: after every change the engine (caching
// on, through a micro-TLB, and caching off) must decode under the features now in effect, as the
// walk does from the features alone, in both directions and back.
namespace {

using vsmmu::smmuv3::evt::type;

struct feature_case {
  const char* name;
  void (*legal)(vw::smmu_features&);    // applied to the fixture's features
  void (*illegal)(vw::smmu_features&);  // applied to the fixture's features
  type bad;                             // the event under `illegal`
  // Installs SID 1's structures (mapping 0x1000'0000) into the world.
  void (*install)(world&);
};

void install_s1(world& w, const C::value& cd, unsigned s1cdmax = 0, std::uint16_t vmid = 0) {
  const auto root = w.b.new_root(s1_fmt);
  w.b.map(s1_fmt, root, 0x1000'0000, 0x4000'0000, 3);
  w.put_cd(1, s1cdmax, 0, cd.with<C::TTB0>(root));
  w.put_ste(1, s1_ste(cd_table(1), s1cdmax, vsmmu::smmuv3::s1_dss::substream0, vmid));
}

const feature_case feature_cases[] = {
    {"IDR0.HTTU (CD.HA)", [](vw::smmu_features& f) { f.httu = vw::httu::access_flag; },
     [](vw::smmu_features& f) { f.httu = vw::httu::none; }, type::c_bad_cd,
     [](world& w) { install_s1(w, s1_cd(0, 5).with<C::HA>(true)); }},
    {"IDR0.ASID16 (CD.ASID[15:8])", [](vw::smmu_features& f) { f.asid16 = true; },
     [](vw::smmu_features& f) { f.asid16 = false; }, type::c_bad_cd,
     [](world& w) { install_s1(w, s1_cd(0, 0x105)); }},
    {"IDR0.STALL_MODEL terminate-only (CD.S == 1)",
     [](vw::smmu_features& f) { f.stall_model = vw::stall_model::stall_and_terminate; },
     [](vw::smmu_features& f) { f.stall_model = vw::stall_model::terminate_only; }, type::c_bad_cd,
     [](world& w) { install_s1(w, s1_cd(0, 5).with<C::S>(true)); }},
    {"IDR0.STALL_MODEL stall-forced (CD.S == 0)",
     [](vw::smmu_features& f) { f.stall_model = vw::stall_model::stall_and_terminate; },
     [](vw::smmu_features& f) { f.stall_model = vw::stall_model::stall_forced; }, type::c_bad_cd,
     [](world& w) { install_s1(w, s1_cd(0, 5)); }},
    {"IDR0.VMID16 (STE.S2VMID[15:8])", [](vw::smmu_features& f) { f.vmid16 = true; },
     [](vw::smmu_features& f) { f.vmid16 = false; }, type::c_bad_ste,
     [](world& w) { install_s1(w, s1_cd(0, 5), 0, 0x104); }},
    {"IDR1.SSIDSIZE (STE.S1CDMax)", [](vw::smmu_features& f) { f.ssidsize = 20; },
     [](vw::smmu_features& f) { f.ssidsize = 2; }, type::c_bad_ste,
     [](world& w) { install_s1(w, s1_cd(0, 5), 4); }},
    // IAS == OAS: a 36-bit OAS makes S2T0SZ 24 (40-bit IPAs) ILLEGAL (STES2T0SZInvalid).
    {"IDR5.OAS (STE.S2T0SZ)", [](vw::smmu_features& f) { f.oas = address_size::bits48; },
     [](vw::smmu_features& f) { f.oas = address_size::bits36; }, type::c_bad_ste,
     [](world& w) {
       const auto root = w.b.new_root(s2_fmt);
       w.b.map(s2_fmt, root, 0x1000'0000, 0x4000'0000, 3);
       w.put_ste(
           1, with_s2(S::value{}.with<S::V>(true).with<S::Config>(ste_config::s2_trans), root, 4));
     }},
};

}  // namespace

TEST_CASE("engine: set_state() decodes under the limits of the new features", "[engine][state]") {
  for (const feature_case& c : feature_cases) {
    for (const bool legal_first : {true, false}) {
      INFO(c.name << (legal_first ? ", legal first" : ", ILLEGAL first"));
      world w;
      c.install(w);
      auto features = [&](bool legal) {
        vw::smmu_features f = state().features;
        (legal ? c.legal : c.illegal)(f);
        return f;
      };
      w.st.features = features(legal_first);
      ve::smmu_engine<memory> on(*w.mem, w.st);
      ve::smmu_engine<memory> off(*w.mem, w.st);
      off.set_caching(false);
      ve::micro_tlb<4> u;
      const vw::transaction t = txn(1, 0x1000'0123);
      // Legal, ILLEGAL, legal again (or the reverse): each change replaces the limits.
      for (const bool legal : {legal_first, !legal_first, legal_first}) {
        w.st.features = features(legal);
        on.set_state(w.st);
        off.set_state(w.st);
        const vw::result expect = w.walk(t);  // decoded from the features alone
        if (legal) {
          REQUIRE(expect.kind == vw::outcome::translated);
        } else {
          REQUIRE(expect.kind == vw::outcome::fault);
          REQUIRE(expect.event.type() == c.bad);
        }
        CHECK(same_result(on.translate(t), expect));
        CHECK(same_result(on.translate(t), expect));  // from the caches when it translated
        CHECK(same_result(on.translate(t, u), expect));
        CHECK(same_result(on.translate(t, u), expect));
        CHECK(same_result(off.translate(t), expect));
      }
    }
  }
}
