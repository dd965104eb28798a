// The engine's decode limits under concurrency: translating threads that miss the configuration
// cache all the time (two-entry pools, STEs and CDs decoded outside the engine's mutex, with
// caching on and off) against a command thread whose set_state() calls flip the features, each
// flip replacing the limits object those decodes use. Built into test_engine, which CI also runs
// under ThreadSanitizer: a walk decoding through limits that set_state() freed, or a torn
// replacement, is a report there.
//
// What must hold, for every translation: its result is the walk's under one of the two feature
// sets, field for field (no decode mixes the features of one set with the limits of the other).
// Each stream is legal under one set and ILLEGAL under the other, or legal under both.

#include <catch2/catch.hpp>

#include <vsmmu/engine/micro_tlb.hpp>
#include <vsmmu/engine/smmu_engine.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "engine/atomic_memory.hpp"
#include "engine/fixture.hpp"

using namespace ex;

TEST_CASE("limits stress: feature changes while translations decode", "[engine][stress]") {
  world w;
  // SID 1: stage 1, CD.HA == 1 (ILLEGAL without HTTU). SID 2: stage 2 with 40-bit IPAs (ILLEGAL
  // with a 36-bit OAS, IAS == OAS). SID 3: stage 1, legal under both.
  const auto s1root = w.b.new_root(s1_fmt);
  const auto s2root = w.b.new_root(s2_fmt);
  w.b.map(s1_fmt, s1root, 0x1000'0000, 0x4000'0000, 3);
  w.b.map(s2_fmt, s2root, 0x1000'0000, 0x5000'0000, 3);
  w.put_cd(1, 0, 0, s1_cd(s1root, 5).with<C::HA>(true));
  w.put_ste(1, s1_ste(cd_table(1), 0, vsmmu::smmuv3::s1_dss::terminate, 3));
  w.put_ste(2,
            with_s2(S::value{}.with<S::V>(true).with<S::Config>(ste_config::s2_trans), s2root, 4));
  w.put_cd(3, 0, 0, s1_cd(s1root, 6));
  w.put_ste(3, s1_ste(cd_table(3), 0, vsmmu::smmuv3::s1_dss::terminate, 3));

  std::array<vw::smmu_state, 2> states{w.st, w.st};
  states[0].features.httu = vw::httu::access_flag;
  states[1].features.httu = vw::httu::none;
  states[1].features.oas = address_size::bits36;

  constexpr unsigned sids = 3;
  std::array<std::array<vw::result, 2>, sids> expect{};
  for (unsigned s = 0; s < sids; ++s) {
    for (unsigned k = 0; k < 2; ++k) {
      w.st = states[k];
      expect[s][k] = w.walk(txn(s + 1, 0x1000'0123));
    }
  }
  // The cases are what they are meant to be: SID 1 and 2 differ between the sets, SID 3 not.
  REQUIRE(expect[0][0].kind == vw::outcome::translated);
  REQUIRE(expect[0][1].event.type() == vsmmu::smmuv3::evt::type::c_bad_cd);
  REQUIRE(expect[1][0].kind == vw::outcome::translated);
  REQUIRE(expect[1][1].event.type() == vsmmu::smmuv3::evt::type::c_bad_ste);
  REQUIRE(expect[2][0].kind == vw::outcome::translated);
  REQUIRE(same_result(expect[2][0], expect[2][1]));

  ve::engine_options o;
  o.config = {2, 2};             // three streams: most translations miss and decode
  const memory& guest = *w.mem;  // read only: no write-back, the threads only read
  ve::smmu_engine<memory> e(guest, states[0], {}, o);
  std::atomic<std::uint64_t> errors{0};

  constexpr unsigned translator_count = 3;
  std::array<ve::micro_tlb<4>, translator_count> utlb;
  engine_test::translator_threads translators(translator_count, [&](unsigned id, std::uint64_t x) {
    const unsigned s = static_cast<unsigned>(x % sids);
    const vw::transaction t = txn(s + 1, 0x1000'0123);
    const vw::result r = (x >> 32) % 2 == 0 ? e.translate(t) : e.translate(t, utlb[id]);
    if (!same_result(r, expect[s][0]) && !same_result(r, expect[s][1])) {
      errors.fetch_add(1, std::memory_order_relaxed);
    }
  });

  translators.wait(100);
  std::uint64_t x = 12345;
  for (unsigned i = 0; i < 2000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    switch ((x >> 40) % 8) {
      case 0:
        e.set_caching(false);  // walk_only: every translation decodes, unlocked
        break;
      case 1:
        e.set_caching(true);
        break;
      case 2:
        e.set_state(e.state());  // the same features: the limits stay
        break;
      default:
        e.set_state(states[(x >> 50) % 2]);
        break;
    }
    if (i % 2 == 0) std::this_thread::yield();
    if (i % 256 == 255) translators.wait(10);
  }
  translators.stop(100);

  CHECK(errors.load() == 0);
  CHECK(translators.translated() > 0);
}
