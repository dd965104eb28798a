// Issue 4 item 6: translations from several device threads while a command thread changes
// mappings and invalidates. Run under ThreadSanitizer too (docs/caches.md gives the command).
//
// What must hold: a translation that starts after the invalidation of a change completed sees
// that change or a later one, never an older mapping, and never a mapping not yet written.
// Each page's output address grows with every remap, which makes both checkable.

#include <catch2/catch.hpp>

#include <vsmmu/engine/smmu_engine.hpp>
#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/testing/table_builder.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "engine/atomic_memory.hpp"
#include "engine/fixture.hpp"

using namespace ex;
using engine_test::atomic_memory;
using engine_test::pa_of;
using vsmmu::memory::access_status;
using vsmmu::memory::read_result;
using vsmmu::queue::command_status;

namespace {

constexpr unsigned page_count = 16;
constexpr std::uint64_t va_base = 0x1000'0000;

}  // namespace

TEST_CASE("engine stress: translating threads and a command thread", "[engine][stress]") {
  atomic_memory mem(0x100000);
  vt::table_builder<atomic_memory> b(mem, pool, 0x100000 - pool);
  vw::smmu_state st = state();
  // SID 1: stage 1, ASID 5, VMID 3. SID 2: stage 2 only, VMID 4 (IPA = the same VA window).
  const std::uint64_t s1root = b.new_root(s1_fmt);
  const std::uint64_t s2root = b.new_root(s2_fmt);
  b.install_ste(st.strtab, 1, s1_ste(cd_table(1), 0, vsmmu::smmuv3::s1_dss::terminate, 3));
  b.install_cd(cd_table(1), vsmmu::smmuv3::s1_fmt::linear, 0, 0, s1_cd(s1root, 5));
  b.install_ste(
      st.strtab, 2,
      with_s2(S::value{}.with<S::V>(true).with<S::Config>(ste_config::s2_trans), s2root, 4));
  vt::leaf_attrs ng;
  ng.global = false;
  for (unsigned p = 0; p < page_count; ++p) {
    b.map(s1_fmt, s1root, va_base + p * 0x1000ULL, pa_of(p, 0), 3, ng);
    b.map(s2_fmt, s2root, va_base + p * 0x1000ULL, pa_of(p, 0), 3);
  }

  ve::smmu_engine<atomic_memory, ve::null_notifier, 64> e(mem, st);
  // Per page and stage: the generation written to the tables, and the one whose invalidation
  // has completed.
  std::array<std::array<std::atomic<std::uint64_t>, page_count>, 2> written{};
  std::array<std::array<std::atomic<std::uint64_t>, page_count>, 2> visible{};
  std::atomic<std::uint64_t> errors{0};

  engine_test::translator_threads translators(3, [&](unsigned, std::uint64_t x) {
    const unsigned p = static_cast<unsigned>(x % page_count);
    const unsigned stage = static_cast<unsigned>((x >> 8) % 2);
    const std::uint64_t floor = visible[stage][p].load(std::memory_order_acquire);
    const auto r =
        e.translate(txn(stage == 0 ? 1 : 2, va_base + p * 0x1000ULL + (x >> 20) % 4096,
                        (x >> 40) % 2 == 0 ? vw::access_kind::read : vw::access_kind::write));
    const std::uint64_t ceiling = written[stage][p].load(std::memory_order_acquire);
    const std::uint64_t gen = (r.output_address() - pa_of(p, 0)) >> 12;
    if (r.kind != vw::outcome::translated || gen < floor || gen > ceiling) ++errors;
  });

  translators.wait(100);
  // The command thread: remap, invalidate with one of the sufficient commands, publish.
  std::uint64_t x = 12345;
  for (unsigned i = 0; i < 3000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const unsigned p = static_cast<unsigned>((x >> 33) % page_count);
    const unsigned stage = static_cast<unsigned>((x >> 40) % 2);
    const std::uint64_t gen = written[stage][p].load(std::memory_order_relaxed) + 1;
    const std::uint64_t va = va_base + p * 0x1000ULL;
    // Publish the write before it can be seen, so the check's ceiling is never too low.
    written[stage][p].store(gen, std::memory_order_release);
    if (stage == 0) {
      b.map(s1_fmt, s1root, va, pa_of(p, gen), 3, ng);
    } else {
      b.map(s2_fmt, s2root, va, pa_of(p, gen), 3);
    }
    command_status s = command_status::ok;
    switch ((x >> 50) % 4) {
      case 0:
        s = stage == 0 ? e.execute(nh_va(3, 5, va)) : e.execute(s2_ipa(4, va));
        break;
      case 1:
        s = stage == 0 ? e.execute(nh_asid(3, 5)) : e.execute(s12_vmall(4));
        break;
      case 2:
        s = e.execute(nsnh_all());
        break;
      default:
        s = stage == 0 ? e.execute(nh_vaa(3, va)) : e.execute(s2_ipa(4, va));
        // Configuration churn as well: nothing changed, so results must not either.
        if (s == command_status::ok) s = e.execute(cfgi_ste_range(0, 31));
        break;
    }
    if (s != command_status::ok) ++errors;
    visible[stage][p].store(gen, std::memory_order_release);
    if (i % 256 == 0 && e.synchronize() != command_status::ok) ++errors;
    if (i % 1000 == 999) {
      e.set_caching(false);
      e.set_caching(true);
    }
    if (i % 4 == 0) std::this_thread::yield();
    if (i % 256 == 255) translators.wait(10);
  }
  translators.stop(100);

  CHECK(errors.load() == 0);
  CHECK(translators.translated() > 0);
  const auto s = e.stats();
  CHECK(s.leaf_hits + s.leaf_misses > 0);
}

namespace {

// Memory whose reads wait while `hold` is set, telling when a read has started.
struct gated_memory {
  const atomic_memory* m = nullptr;
  std::atomic<bool>* hold = nullptr;
  std::atomic<bool>* entered = nullptr;
  [[nodiscard]] read_result read64(std::uint64_t pa) const noexcept {
    entered->store(true);
    while (hold->load()) std::this_thread::yield();
    return m->read64(pa);
  }
  access_status read_bytes(std::uint64_t pa, std::span<std::byte> out) const noexcept {
    entered->store(true);
    while (hold->load()) std::this_thread::yield();
    return m->read_bytes(pa, out);
  }
};

}  // namespace

TEST_CASE("engine: wait_for_translations waits for a translation in flight", "[engine][stress]") {
  atomic_memory mem(0x100000);
  vt::table_builder<atomic_memory> b(mem, pool, 0x100000 - pool);
  vw::smmu_state st = state();
  const std::uint64_t root = b.new_root(s1_fmt);
  b.install_ste(st.strtab, 1, s1_ste(cd_table(1), 0, vsmmu::smmuv3::s1_dss::terminate, 3));
  b.install_cd(cd_table(1), vsmmu::smmuv3::s1_fmt::linear, 0, 0, s1_cd(root, 5));
  b.map(s1_fmt, root, va_base, pa_of(0, 0), 3);

  std::atomic<bool> hold{true};
  std::atomic<bool> entered{false};
  const gated_memory gm{&mem, &hold, &entered};
  ve::smmu_engine<gated_memory, ve::null_notifier, 16> e(gm, st);
  std::atomic<bool> translated{false};
  std::thread device([&] {
    const auto r = e.translate(txn(1, va_base));
    translated.store(r.kind == vw::outcome::translated);
  });
  while (!entered.load()) std::this_thread::yield();  // the walk is reading guest memory
  // Commands proceed while a walk is in flight (the mutex is not held across it)...
  CHECK(e.execute(nsnh_all()) == command_status::ok);
  // ...and a drain waits for it.
  std::atomic<bool> drained{false};
  std::thread sync([&] {
    e.wait_for_translations();
    drained.store(true);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(drained.load());
  hold.store(false);
  sync.join();
  device.join();
  CHECK(drained.load());
  CHECK(translated.load());
  // The walk raced with an invalidation: its result was returned but not cached.
  CHECK(e.stats().leaves_cached == 0);
  CHECK(e.stats().streams_cached == 0);
}
