// Issue 4 item 6 with per-thread micro-TLBs: translating threads, each with its own micro_tlb,
// against a command thread that maps, unmaps and remaps pages, invalidates them with one of the
// sufficient commands, and churns the register state and the caching switch. Built into
// test_engine, which CI also runs under ThreadSanitizer (build/tsan).
//
// What must hold, for every translation: it never returns a translation whose invalidation had
// completed before the translate() call began, and never one not yet written. "Before" is
// happens-before: the command thread publishes each completed invalidation with a release store
// of the page's generation, which a translating thread loads (acquire) before it calls
// translate() — the floor. The ceiling is the generation written to the tables, published
// before the write and loaded after the call. A generation g of a page maps it to pa_of(page, g),
// except every fourth, which unmaps it: a fault is allowed only if some generation in
// [floor, ceiling] is an unmapped one.

#include <catch2/catch.hpp>

#include <vsmmu/engine/micro_tlb.hpp>
#include <vsmmu/engine/smmu_engine.hpp>
#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/testing/table_builder.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <thread>
#include <vector>

#include "engine/atomic_memory.hpp"
#include "engine/fixture.hpp"

using namespace ex;
using engine_test::atomic_memory;
using engine_test::pa_of;
using vsmmu::queue::command_status;

namespace {

constexpr unsigned page_count = 8;
constexpr std::uint64_t va_base = 0x1000'0000;

bool unmapped(std::uint64_t gen) { return gen % 4 == 3; }

}  // namespace

TEST_CASE("micro-TLB stress: per-thread micro-TLBs, maps, unmaps and invalidations",
          "[engine][micro_tlb][stress]") {
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
  std::array<std::array<std::uint64_t, page_count>, 2> leaf{};
  for (unsigned p = 0; p < page_count; ++p) {
    leaf[0][p] = b.map(s1_fmt, s1root, va_base + p * 0x1000ULL, pa_of(p, 0), 3, ng);
    leaf[1][p] = b.map(s2_fmt, s2root, va_base + p * 0x1000ULL, pa_of(p, 0), 3);
  }

  ve::smmu_engine<atomic_memory, ve::null_notifier, 64> e(mem, st);
  std::array<std::array<std::atomic<std::uint64_t>, page_count>, 2> written{};
  std::array<std::array<std::atomic<std::uint64_t>, page_count>, 2> visible{};
  std::atomic<std::uint64_t> errors{0};

  constexpr unsigned translator_count = 3;
  // Per translator, different sizes: one entry (replacement on every other page), and more than
  // enough.
  std::array<ve::micro_tlb<1>, translator_count> small;
  std::array<ve::micro_tlb<64>, translator_count> large;
  engine_test::translator_threads translators(translator_count, [&](unsigned id, std::uint64_t x) {
    const unsigned p = static_cast<unsigned>(x % page_count);
    const unsigned stage = static_cast<unsigned>((x >> 8) % 2);
    const std::uint64_t floor = visible[stage][p].load(std::memory_order_acquire);
    const vw::transaction t =
        txn(stage == 0 ? 1 : 2, va_base + p * 0x1000ULL + (x >> 20) % 4096,
            (x >> 40) % 2 == 0 ? vw::access_kind::read : vw::access_kind::write);
    // Mostly the micro-TLB path; now and then the plain one, which must agree.
    const auto r = id == 0 && (x >> 44) % 8 == 0 ? e.translate(t)
                   : (x >> 48) % 4 == 0          ? e.translate(t, small[id])
                                                 : e.translate(t, large[id]);
    const std::uint64_t ceiling = written[stage][p].load(std::memory_order_acquire);
    bool ok = false;
    if (r.kind == vw::outcome::translated) {
      const std::uint64_t base = r.output_address() - (t.address & 0xfff);
      const std::uint64_t gen = (base - pa_of(p, 0)) >> 12;
      ok = base == pa_of(p, gen) && gen >= floor && gen <= ceiling && !unmapped(gen);
    } else if (r.kind == vw::outcome::fault) {
      for (std::uint64_t g = floor; g <= ceiling && !ok; ++g) ok = unmapped(g);
    }
    if (!ok) errors.fetch_add(1, std::memory_order_relaxed);
  });

  // On a loaded machine the command thread could finish before a translator ran at all: it
  // waits (bounded) for the translators to make progress at the start, now and then, and after
  // its last change, when the epoch stays put and the micro-TLBs must hit.
  translators.wait(100);

  // The command thread: change one page, invalidate with a sufficient command, publish.
  std::uint64_t x = 54321;
  for (unsigned i = 0; i < 3000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const unsigned p = static_cast<unsigned>((x >> 33) % page_count);
    const unsigned stage = static_cast<unsigned>((x >> 40) % 2);
    const std::uint64_t gen = written[stage][p].load(std::memory_order_relaxed) + 1;
    const std::uint64_t va = va_base + p * 0x1000ULL;
    written[stage][p].store(gen, std::memory_order_release);
    if (unmapped(gen)) {
      b.write64(leaf[stage][p], 0);
    } else if (stage == 0) {
      b.map(s1_fmt, s1root, va, pa_of(p, gen), 3, ng);
    } else {
      b.map(s2_fmt, s2root, va, pa_of(p, gen), 3);
    }
    command_status s = command_status::ok;
    switch ((x >> 50) % 6) {
      case 0:
        s = stage == 0 ? e.execute(nh_va(3, 5, va)) : e.execute(s2_ipa(4, va));
        break;
      case 1:
        s = stage == 0 ? e.execute(nh_asid(3, 5)) : e.execute(s12_vmall(4));
        break;
      case 2:
        s = e.execute(nsnh_all());
        break;
      case 3:
        s = stage == 0 ? e.execute(nh_vaa(3, va)) : e.execute(s2_ipa(4, va));
        if (s == command_status::ok) s = e.execute(cfgi_ste_range(0, 31));
        break;
      case 4:
        e.invalidate_all();
        break;
      default:
        // The caches alone would not need this; the micro-TLBs must not miss it either.
        s = stage == 0 ? e.execute(nh_va(3, 5, va)) : e.execute(s2_ipa(4, va));
        e.set_state(st);
        break;
    }
    if (s != command_status::ok) errors.fetch_add(1, std::memory_order_relaxed);
    visible[stage][p].store(gen, std::memory_order_release);
    if (i % 128 == 0 && e.synchronize() != command_status::ok) {
      errors.fetch_add(1, std::memory_order_relaxed);
    }
    if (i % 700 == 699) {
      e.set_caching(false);
      e.set_caching(true);
    }
    // Give the translators time to fill and hit between changes.
    if (i % 2 == 0) std::this_thread::yield();
    if (i % 256 == 255) translators.wait(10);
  }
  translators.stop(1000);

  CHECK(errors.load() == 0);
  CHECK(translators.translated() > 0);
  std::uint64_t micro_hits = 0;
  for (unsigned id = 0; id < translator_count; ++id)
    micro_hits += small[id].hits() + large[id].hits();
  CHECK(micro_hits > 0);
}
