// IOTLB lookup and invalidation at 256, 4096 and 65536 resident entries, 7/8 4KB pages and 1/8
// 2MB blocks over 16 ASIDs, against baseline (a): a std::unordered_map keyed per page or block,
// probed once per size in use, that scans for ASID invalidation; and, when glib is installed,
// baseline (b): QEMU's published IOTLB scheme on GHashTable. Reports only; never fails.
// `--instructions <name>/<N> <ops>` runs one operation kind for callgrind (see docs/tlb.md).
#include <vsmmu/tlb/iotlb.hpp>

#include <benchmark/benchmark.h>

#if VSMMU_HAVE_GLIB
#include <glib.h>
#endif

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define VSMMU_COLLECT() CALLGRIND_TOGGLE_COLLECT
#else
#define VSMMU_COLLECT() ((void)0)
#endif

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

using namespace vsmmu::tlb;

constexpr std::uint16_t vmid = 1;
constexpr std::uint16_t asids = 16;
constexpr std::uint16_t victim_asid = 100;  // the ASID the invalidation benchmarks drop

entry make_entry(std::uint16_t asid, std::uint64_t va, std::uint8_t shift) {
  entry e;
  e.input = va;
  e.output = 0x80'0000'0000 + va;
  e.tag = context::stage1(vmid, asid);
  e.size_shift = shift;
  e.s1_level = shift == 12 ? 3 : 2;
  e.s1_granule_shift = 12;
  e.s1_perm = perm::read_priv | perm::write_priv;
  return e;
}

// N resident entries in ASID i % 16; the j-th entry of an ASID (j = i / 16) is a 2MB block when
// j % 8 == 7, else a 4KB page, so every address space holds both sizes (the blocks of an older
// version sat in ASIDs 7 and 15 only, which a per-context size hint could have exploited).
std::vector<entry> resident(std::uint32_t n) {
  std::vector<entry> v;
  v.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto asid = static_cast<std::uint16_t>(i % asids);
    const std::uint64_t j = i / asids;
    if (j % 8 == 7) {
      v.push_back(make_entry(asid, 0x40'0000'0000 + (j << 21), 21));
    } else {
      v.push_back(make_entry(asid, 0x1000'0000 + j * 0x3000, 12));  // scattered pages
    }
  }
  return v;
}

struct probe_point {
  context c;
  std::uint64_t addr;
};

constexpr std::uint8_t any_size = 0xff;

// Random lookups over the resident entries of one size (shift), of every size (any_size: the
// 7/8 pages, 1/8 blocks mix), or misses when shift == 0; with hot != 0, over only the first `hot`
// resident entries (a working set smaller than the TLB). The benchmark loops over them, so the
// sequence has the same length (65536) at every N: the branch predictor of the machine the
// figures come from (AMD Zen 4) learns a repeated sequence of 4096 lookups outcome by outcome,
// which an older version (4096 lookups below 65536 entries) let it do at 256 and 4096 entries
// only, so that block hits and misses looked 3x cheaper there than at 65536.
std::vector<probe_point> probes(const std::vector<entry>& es, std::uint8_t shift,
                                std::size_t hot = 0) {
  std::mt19937_64 rng(7);
  std::vector<const entry*> pool;
  for (std::size_t i = 0; i < (hot != 0 ? hot : es.size()); ++i) {
    if (es[i].size_shift == shift || shift == any_size) pool.push_back(&es[i]);
  }
  const std::size_t count = std::max<std::size_t>(65536, std::bit_ceil(es.size()));
  std::vector<probe_point> out(count);
  for (auto& p : out) {
    if (shift == 0) {
      p = {context::stage1(vmid, static_cast<std::uint16_t>(rng() % asids)),
           0x7000'0000'0000 + ((rng() % (1U << 20)) << 12)};
    } else {
      const entry* e = pool[rng() % pool.size()];
      p = {e->tag, e->input + (rng() % e->size())};
    }
  }
  return out;
}

// ---- baseline (a): std::unordered_map, one node per page or block

struct map_key {
  std::uint64_t tag;  // vmid, asid, size shift
  std::uint64_t base;
  bool operator==(const map_key&) const = default;
};
struct map_hash {
  std::size_t operator()(const map_key& k) const noexcept {
    return std::hash<std::uint64_t>{}(k.tag * 0x9e3779b97f4a7c15ULL ^ k.base);
  }
};

class map_tlb {
 public:
  void insert(const entry& e) {
    map_[{tag(e.tag, e.size_shift), e.input}] = e;
    if (e.size_shift == 12) has_pages_ = true;
    if (e.size_shift == 21) has_blocks_ = true;
  }
  const entry* lookup(const context& c, std::uint64_t addr) const {
    for (const std::uint8_t s : {std::uint8_t{12}, std::uint8_t{21}}) {
      if ((s == 12 && !has_pages_) || (s == 21 && !has_blocks_)) continue;
      const auto it = map_.find({tag(c, s), addr & ~((std::uint64_t{1} << s) - 1)});
      if (it != map_.end()) return &it->second;
    }
    return nullptr;
  }
  void nh_va(const context& c, const address_range& r) {
    for (const std::uint8_t s : {std::uint8_t{12}, std::uint8_t{21}}) {
      for (std::uint64_t p = r.first >> s; p <= r.last >> s; ++p) map_.erase({tag(c, s), p << s});
    }
  }
  void nh_asid(const context& c) {  // no index by ASID: a full scan
    for (auto it = map_.begin(); it != map_.end();) {
      it = it->second.tag == c ? map_.erase(it) : std::next(it);
    }
  }

 private:
  static std::uint64_t tag(const context& c, std::uint8_t s) {
    return (std::uint64_t{c.vmid} << 32) | (std::uint64_t{c.asid} << 8) | s;
  }
  std::unordered_map<map_key, entry, map_hash> map_;
  bool has_pages_ = false;
  bool has_blocks_ = false;
};

#if VSMMU_HAVE_GLIB
// ---- baseline (b): QEMU's published IOTLB scheme (hw/arm/smmu-common.c, v10.2) rebuilt on
// GHashTable from its description, not its code: one heap key {iova, asid, vmid, tg, level}
// and one heap entry per translation; a lookup probes every level from the walk's start level
// (0 for 4KB granule, T0SZ = 16) to 3; inserting into a table of Limit entries first removes
// all; ASID and range invalidations, and VA ones without TTL, scan the whole table.

struct qemu_key {
  std::uint64_t iova;
  int asid;
  int vmid;
  std::uint8_t tg;
  std::uint8_t level;
};

guint qemu_key_hash(gconstpointer p) {
  const auto* k = static_cast<const qemu_key*>(p);
  std::uint64_t h = k->iova * 0x9e3779b97f4a7c15ULL;
  h ^= (std::uint64_t(std::uint32_t(k->asid)) << 32 | std::uint32_t(k->vmid)) *
       0xc2b2ae3d27d4eb4fULL;
  h ^= std::uint64_t(k->tg) << 8 | k->level;
  return static_cast<guint>(h ^ (h >> 29));
}
gboolean qemu_key_equal(gconstpointer a, gconstpointer b) {
  const auto* x = static_cast<const qemu_key*>(a);
  const auto* y = static_cast<const qemu_key*>(b);
  return x->iova == y->iova && x->asid == y->asid && x->vmid == y->vmid && x->tg == y->tg &&
         x->level == y->level;
}

template <std::uint32_t Limit>
class qemu_tlb {
 public:
  qemu_tlb() : table_(g_hash_table_new_full(qemu_key_hash, qemu_key_equal, g_free, g_free)) {}
  ~qemu_tlb() { g_hash_table_destroy(table_); }
  qemu_tlb(const qemu_tlb&) = delete;
  qemu_tlb& operator=(const qemu_tlb&) = delete;

  static constexpr std::uint8_t level_of(std::uint8_t shift) { return shift == 12 ? 3 : 2; }

  void insert(const entry& e) {
    if (g_hash_table_size(table_) >= Limit) g_hash_table_remove_all(table_);
    auto* k = g_new0(qemu_key, 1);
    *k = {e.input, e.tag.asid, e.tag.vmid, 12, level_of(e.size_shift)};
    auto* v = g_new(entry, 1);
    *v = e;
    g_hash_table_insert(table_, k, v);
  }
  const entry* lookup(const context& c, std::uint64_t addr) const {
    for (std::uint8_t level = 0; level <= 3; ++level) {
      const unsigned shift = 12 + 9 * (3 - level);
      const qemu_key k{addr & ~((std::uint64_t{1} << shift) - 1), c.asid, c.vmid, 12, level};
      if (auto* v = g_hash_table_lookup(table_, &k)) return static_cast<const entry*>(v);
    }
    return nullptr;
  }
  struct scan {
    int asid;
    int vmid;
    address_range r;
  };
  void nh_va(const context& c, const address_range& r) { remove(scan{c.asid, c.vmid, r}); }
  void nh_asid(const context& c) { remove(scan{c.asid, c.vmid, address_range::everything()}); }

 private:
  void remove(scan s) {
    g_hash_table_foreach_remove(
        table_,
        [](gpointer key, gpointer, gpointer user) -> gboolean {
          const auto* k = static_cast<const qemu_key*>(key);
          const auto* sc = static_cast<const scan*>(user);
          const std::uint64_t last = k->iova + (std::uint64_t{1} << (12 + 9 * (3 - k->level))) - 1;
          return k->asid == sc->asid && k->vmid == sc->vmid && sc->r.overlaps(k->iova, last);
        },
        &s);
  }
  GHashTable* table_;
};
#endif

// ---- fixtures

template <class T>
inline constexpr bool is_iotlb = false;
template <std::uint32_t N>
inline constexpr bool is_iotlb<iotlb<N>> = true;

template <class Tlb>
std::unique_ptr<Tlb> filled(std::uint32_t n, std::uint32_t reserve_for_victims) {
  auto t = std::make_unique<Tlb>();
  for (const auto& e : resident(n - reserve_for_victims)) t->insert(e);
  return t;
}

// A lookup and, on a hit, the output address it gives: the entry is read, as a translation
// would read it.
template <class Entry>
std::uint64_t output_of(const Entry* e, std::uint64_t addr) {
  return e != nullptr ? e->translate(addr) : 0;
}

template <class Tlb>
void lookups(benchmark::State& state, Tlb& t, const std::vector<probe_point>& ps) {
  const std::size_t mask = ps.size() - 1;
  std::size_t i = 0;
  for (auto _ : state) {
    const probe_point& p = ps[i++ & mask];
    benchmark::DoNotOptimize(output_of(t.lookup(p.c, p.addr), p.addr));
  }
  state.SetItemsProcessed(state.iterations());
}

template <std::uint32_t N>
void iotlb_hit_4k(benchmark::State& state) {
  auto t = filled<iotlb<N>>(N, 0);
  lookups(state, *t, probes(resident(N), 12));
}
// The same with the tag packed once per context, as a configuration cache would keep it.
template <std::uint32_t N>
void iotlb_hit_4k_packed(benchmark::State& state) {
  auto t = filled<iotlb<N>>(N, 0);
  const auto ps = probes(resident(N), 12);
  std::vector<std::pair<typename iotlb<N>::packed_tag, std::uint64_t>> packed;
  for (const auto& p : ps) packed.emplace_back(t->tag_for(p.c), p.addr);
  const std::size_t mask = packed.size() - 1;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& p = packed[i++ & mask];
    benchmark::DoNotOptimize(output_of(t->lookup(p.first, p.second), p.second));
  }
  state.SetItemsProcessed(state.iterations());
}
// Hits within a 4096-entry working set of an N-entry TLB: cost follows the working set.
template <std::uint32_t N>
void iotlb_hit_4k_hot(benchmark::State& state) {
  auto t = filled<iotlb<N>>(N, 0);
  lookups(state, *t, probes(resident(N), 12, 4096));
}
template <std::uint32_t N>
void iotlb_hit_2m(benchmark::State& state) {
  auto t = filled<iotlb<N>>(N, 0);
  lookups(state, *t, probes(resident(N), 21));
}
template <std::uint32_t N>
void iotlb_hit_mix(benchmark::State& state) {
  auto t = filled<iotlb<N>>(N, 0);
  lookups(state, *t, probes(resident(N), any_size));
}
template <std::uint32_t N>
void iotlb_miss(benchmark::State& state) {
  auto t = filled<iotlb<N>>(N, 0);
  lookups(state, *t, probes(resident(N), 0));
}
template <std::uint32_t N>
void map_hit_4k(benchmark::State& state) {
  auto t = filled<map_tlb>(N, 0);
  lookups(state, *t, probes(resident(N), 12));
}
template <std::uint32_t N>
void map_hit_2m(benchmark::State& state) {
  auto t = filled<map_tlb>(N, 0);
  lookups(state, *t, probes(resident(N), 21));
}
template <std::uint32_t N>
void map_hit_mix(benchmark::State& state) {
  auto t = filled<map_tlb>(N, 0);
  lookups(state, *t, probes(resident(N), any_size));
}
template <std::uint32_t N>
void map_miss(benchmark::State& state) {
  auto t = filled<map_tlb>(N, 0);
  lookups(state, *t, probes(resident(N), 0));
}

#if VSMMU_HAVE_GLIB
// Baseline (b) with its flush limit at N: at 256 it is QEMU as shipped; above, QEMU with the
// limit raised, which is what a scan-based invalidation would then cost.
template <std::uint32_t N>
void qemu_hit_4k(benchmark::State& state) {
  auto t = filled<qemu_tlb<N>>(N, 0);
  lookups(state, *t, probes(resident(N), 12));
}
template <std::uint32_t N>
void qemu_hit_2m(benchmark::State& state) {
  auto t = filled<qemu_tlb<N>>(N, 0);
  lookups(state, *t, probes(resident(N), 21));
}
template <std::uint32_t N>
void qemu_hit_mix(benchmark::State& state) {
  auto t = filled<qemu_tlb<N>>(N, 0);
  lookups(state, *t, probes(resident(N), any_size));
}
template <std::uint32_t N>
void qemu_miss(benchmark::State& state) {
  auto t = filled<qemu_tlb<N>>(N, 0);
  lookups(state, *t, probes(resident(N), 0));
}
// Inserting new entries past QEMU's 256: every 256th insert removes everything.
void qemu_insert_flush(benchmark::State& state) {
  auto t = filled<qemu_tlb<256>>(256, 0);
  std::uint64_t va = 0x6000'0000'0000;
  for (auto _ : state) {
    t->insert(make_entry(3, va, 12));
    va += 0x1000;
  }
  state.SetItemsProcessed(state.iterations());
}
#endif

// Pages of the victim ASID, consecutive from 0x5000'0000.
std::vector<entry> victims(std::uint32_t count) {
  std::vector<entry> v;
  for (std::uint32_t i = 0; i < count; ++i) {
    v.push_back(make_entry(victim_asid, 0x5000'0000 + (std::uint64_t{i} << 12), 12));
  }
  return v;
}

// CMD_TLBI_NH_VA of one page then the page inserted again, so the TLB stays full.
template <class Tlb, std::uint32_t N>
void invalidate_page(benchmark::State& state) {
  constexpr std::uint32_t n = N;
  auto t = filled<Tlb>(n, 1);
  const auto v = victims(1);
  t->insert(v[0]);
  const auto c = context::stage1(vmid, victim_asid);
  for (auto _ : state) {
    if constexpr (!is_iotlb<Tlb>) {
      t->nh_va(c, address_range::single(v[0].input));
    } else {
      t->nh_va(vmid, victim_asid, address_range::single(v[0].input));
    }
    t->insert(v[0]);
  }
  state.SetItemsProcessed(state.iterations());
}

// Re-inserting an entry already present: what the pairs above pay for the insert half. The table
// holds N - 1 entries, as during those pairs: in a full one the QEMU scheme would flush on the
// first re-insert (it checks the size before the key) and then time inserts into a 1-entry table.
template <class Tlb, std::uint32_t N>
void insert_existing(benchmark::State& state) {
  constexpr std::uint32_t n = N;
  auto t = filled<Tlb>(n, 2);
  const auto v = victims(1);
  t->insert(v[0]);
  for (auto _ : state) t->insert(v[0]);
  state.SetItemsProcessed(state.iterations());
}

// CMD_TLBI_NH_ASID of an ASID holding 16 pages, then the 16 pages again.
template <class Tlb, std::uint32_t N>
void invalidate_asid(benchmark::State& state) {
  constexpr std::uint32_t n = N;
  auto t = filled<Tlb>(n, 16);
  const auto v = victims(16);
  for (const auto& e : v) t->insert(e);
  const auto c = context::stage1(vmid, victim_asid);
  for (auto _ : state) {
    if constexpr (!is_iotlb<Tlb>) {
      t->nh_asid(c);
    } else {
      t->nh_asid(vmid, victim_asid);
    }
    for (const auto& e : v) t->insert(e);
  }
  state.SetItemsProcessed(state.iterations());
}

// CMD_TLBI_NH_VA over 32 pages (TG = 4KB, NUM = 31, SCALE = 0), then the 32 pages again.
template <class Tlb, std::uint32_t N>
void invalidate_range(benchmark::State& state) {
  constexpr std::uint32_t n = N;
  auto t = filled<Tlb>(n, 32);
  const auto v = victims(32);
  for (const auto& e : v) t->insert(e);
  const auto c = context::stage1(vmid, victim_asid);
  const auto r = decode_tlbi_range(
      tlbi_address_fields{
          .address = v[0].input, .tg = vsmmu::smmuv3::cmd::tlbi_tg::size_4k, .num = 31},
      range_features{});
  for (auto _ : state) {
    if constexpr (!is_iotlb<Tlb>) {
      t->nh_va(c, r.value.range);
    } else {
      t->nh_va(vmid, victim_asid, r.value);
    }
    for (const auto& e : v) t->insert(e);
  }
  state.SetItemsProcessed(state.iterations());
}

// Inserting new entries into a full TLB: each insert evicts one (CLOCK).
template <std::uint32_t N>
void iotlb_insert_evict(benchmark::State& state) {
  auto t = filled<iotlb<N>>(N, 0);
  std::uint64_t va = 0x6000'0000'0000;
  for (auto _ : state) {
    t->insert(make_entry(3, va, 12));
    va += 0x1000;
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK_TEMPLATE(iotlb_hit_4k, 256);
BENCHMARK_TEMPLATE(iotlb_hit_4k, 4096);
BENCHMARK_TEMPLATE(iotlb_hit_4k, 65536);
BENCHMARK_TEMPLATE(iotlb_hit_4k_packed, 256);
BENCHMARK_TEMPLATE(iotlb_hit_4k_packed, 4096);
BENCHMARK_TEMPLATE(iotlb_hit_4k_packed, 65536);
BENCHMARK_TEMPLATE(iotlb_hit_4k_hot, 65536);
BENCHMARK_TEMPLATE(iotlb_hit_2m, 256);
BENCHMARK_TEMPLATE(iotlb_hit_2m, 4096);
BENCHMARK_TEMPLATE(iotlb_hit_2m, 65536);
BENCHMARK_TEMPLATE(iotlb_hit_mix, 256);
BENCHMARK_TEMPLATE(iotlb_hit_mix, 4096);
BENCHMARK_TEMPLATE(iotlb_hit_mix, 65536);
BENCHMARK_TEMPLATE(iotlb_miss, 256);
BENCHMARK_TEMPLATE(iotlb_miss, 4096);
BENCHMARK_TEMPLATE(iotlb_miss, 65536);
BENCHMARK_TEMPLATE(map_hit_4k, 256);
BENCHMARK_TEMPLATE(map_hit_4k, 4096);
BENCHMARK_TEMPLATE(map_hit_4k, 65536);
BENCHMARK_TEMPLATE(map_hit_2m, 256);
BENCHMARK_TEMPLATE(map_hit_2m, 4096);
BENCHMARK_TEMPLATE(map_hit_2m, 65536);
BENCHMARK_TEMPLATE(map_hit_mix, 256);
BENCHMARK_TEMPLATE(map_hit_mix, 4096);
BENCHMARK_TEMPLATE(map_hit_mix, 65536);
BENCHMARK_TEMPLATE(map_miss, 256);
BENCHMARK_TEMPLATE(map_miss, 4096);
BENCHMARK_TEMPLATE(map_miss, 65536);

#if VSMMU_HAVE_GLIB
BENCHMARK_TEMPLATE(qemu_hit_4k, 256);
BENCHMARK_TEMPLATE(qemu_hit_4k, 4096);
BENCHMARK_TEMPLATE(qemu_hit_4k, 65536);
BENCHMARK_TEMPLATE(qemu_hit_2m, 256);
BENCHMARK_TEMPLATE(qemu_hit_2m, 4096);
BENCHMARK_TEMPLATE(qemu_hit_2m, 65536);
BENCHMARK_TEMPLATE(qemu_hit_mix, 256);
BENCHMARK_TEMPLATE(qemu_hit_mix, 4096);
BENCHMARK_TEMPLATE(qemu_hit_mix, 65536);
BENCHMARK_TEMPLATE(qemu_miss, 256);
BENCHMARK_TEMPLATE(qemu_miss, 4096);
BENCHMARK_TEMPLATE(qemu_miss, 65536);
BENCHMARK(qemu_insert_flush);
#define VSMMU_TLB_QEMU(fn, n) BENCHMARK_TEMPLATE(fn, qemu_tlb<n>, n)
#else
#define VSMMU_TLB_QEMU(fn, n) static_assert(true)
#endif

#define VSMMU_TLB_BOTH(fn, n)          \
  BENCHMARK_TEMPLATE(fn, iotlb<n>, n); \
  BENCHMARK_TEMPLATE(fn, map_tlb, n);  \
  VSMMU_TLB_QEMU(fn, n)

VSMMU_TLB_BOTH(invalidate_page, 256);
VSMMU_TLB_BOTH(invalidate_page, 4096);
VSMMU_TLB_BOTH(invalidate_page, 65536);
VSMMU_TLB_BOTH(insert_existing, 256);
VSMMU_TLB_BOTH(insert_existing, 4096);
VSMMU_TLB_BOTH(insert_existing, 65536);
VSMMU_TLB_BOTH(invalidate_asid, 256);
VSMMU_TLB_BOTH(invalidate_asid, 4096);
VSMMU_TLB_BOTH(invalidate_asid, 65536);
VSMMU_TLB_BOTH(invalidate_range, 256);
VSMMU_TLB_BOTH(invalidate_range, 4096);
VSMMU_TLB_BOTH(invalidate_range, 65536);
BENCHMARK_TEMPLATE(iotlb_insert_evict, 256);
BENCHMARK_TEMPLATE(iotlb_insert_evict, 4096);
BENCHMARK_TEMPLATE(iotlb_insert_evict, 65536);

// ---- instruction counts: `bench_tlb --instructions <name> <ops>` runs <ops> operations with
// callgrind collection on only around them (valgrind --tool=callgrind --collect-atstart=no);
// the collected Ir divided by <ops> is instructions per operation, stable on a noisy machine.

namespace {

template <class Tlb>
void count_lookups(std::uint32_t n, std::uint8_t shift, std::uint64_t ops) {
  auto t = filled<Tlb>(n, 0);
  const auto ps = probes(resident(n), shift);
  const std::size_t mask = ps.size() - 1;
  VSMMU_COLLECT();
  for (std::uint64_t i = 0; i < ops; ++i) {
    const probe_point& p = ps[i & mask];
    benchmark::DoNotOptimize(output_of(t->lookup(p.c, p.addr), p.addr));
  }
  VSMMU_COLLECT();
}

template <std::uint32_t N>
void count_packed_lookups(std::uint64_t ops) {
  auto t = filled<iotlb<N>>(N, 0);
  const auto ps = probes(resident(N), 12);
  std::vector<std::pair<typename iotlb<N>::packed_tag, std::uint64_t>> packed;
  for (const auto& p : ps) packed.emplace_back(t->tag_for(p.c), p.addr);
  const std::size_t mask = packed.size() - 1;
  VSMMU_COLLECT();
  for (std::uint64_t i = 0; i < ops; ++i) {
    const auto& p = packed[i & mask];
    benchmark::DoNotOptimize(output_of(t->lookup(p.first, p.second), p.second));
  }
  VSMMU_COLLECT();
}

template <class Tlb>
void count_invalidations(std::uint32_t n, std::uint32_t victims_count, std::uint64_t ops) {
  auto t = filled<Tlb>(n, victims_count);
  const auto v = victims(victims_count);
  for (const auto& e : v) t->insert(e);
  const auto c = context::stage1(vmid, victim_asid);
  const auto r = address_range{v.front().input, v.back().last()};
  VSMMU_COLLECT();
  for (std::uint64_t i = 0; i < ops; ++i) {
    if constexpr (!is_iotlb<Tlb>) {
      if (victims_count == 16)
        t->nh_asid(c);
      else
        t->nh_va(c, r);
    } else {
      if (victims_count == 16)
        t->nh_asid(vmid, victim_asid);
      else
        t->nh_va(vmid, victim_asid, r);
    }
    for (const auto& e : v) t->insert(e);
  }
  VSMMU_COLLECT();
}

template <std::uint32_t N>
void count_inserts(std::uint64_t ops) {
  auto t = filled<iotlb<N>>(N, 0);
  std::uint64_t va = 0x6000'0000'0000;
  VSMMU_COLLECT();
  for (std::uint64_t i = 0; i < ops; ++i) {
    t->insert(make_entry(3, va, 12));
    va += 0x1000;
  }
  VSMMU_COLLECT();
}

template <std::uint32_t N>
void count_hot_lookups(std::uint64_t ops) {
  auto t = filled<iotlb<N>>(N, 0);
  const auto ps = probes(resident(N), 12, 4096);
  const std::size_t mask = ps.size() - 1;
  VSMMU_COLLECT();
  for (std::uint64_t i = 0; i < ops; ++i) {
    const probe_point& p = ps[i & mask];
    benchmark::DoNotOptimize(output_of(t->lookup(p.c, p.addr), p.addr));
  }
  VSMMU_COLLECT();
}

template <std::uint32_t N>
bool count(std::string_view name, std::uint64_t ops) {
  const std::string_view suffix = N == 256 ? "/256" : N == 4096 ? "/4096" : "/65536";
  if (!name.ends_with(suffix)) return false;
  name.remove_suffix(suffix.size());
  if (name == "iotlb_hit_4k")
    count_lookups<iotlb<N>>(N, 12, ops);
  else if (name == "iotlb_hit_4k_packed")
    count_packed_lookups<N>(ops);
  else if (name == "iotlb_hit_4k_hot")
    count_hot_lookups<N>(ops);
  else if (name == "iotlb_insert_evict")
    count_inserts<N>(ops);
  else if (name == "iotlb_hit_2m")
    count_lookups<iotlb<N>>(N, 21, ops);
  else if (name == "iotlb_hit_mix")
    count_lookups<iotlb<N>>(N, any_size, ops);
  else if (name == "iotlb_miss")
    count_lookups<iotlb<N>>(N, 0, ops);
  else if (name == "map_hit_4k")
    count_lookups<map_tlb>(N, 12, ops);
  else if (name == "map_hit_2m")
    count_lookups<map_tlb>(N, 21, ops);
  else if (name == "map_hit_mix")
    count_lookups<map_tlb>(N, any_size, ops);
  else if (name == "map_miss")
    count_lookups<map_tlb>(N, 0, ops);
#if VSMMU_HAVE_GLIB
  else if (name == "qemu_hit_4k")
    count_lookups<qemu_tlb<N>>(N, 12, ops);
  else if (name == "qemu_hit_2m")
    count_lookups<qemu_tlb<N>>(N, 21, ops);
  else if (name == "qemu_hit_mix")
    count_lookups<qemu_tlb<N>>(N, any_size, ops);
  else if (name == "qemu_miss")
    count_lookups<qemu_tlb<N>>(N, 0, ops);
  else if (name == "qemu_invalidate_page")
    count_invalidations<qemu_tlb<N>>(N, 1, ops);
  else if (name == "qemu_invalidate_asid")
    count_invalidations<qemu_tlb<N>>(N, 16, ops);
  else if (name == "qemu_invalidate_range")
    count_invalidations<qemu_tlb<N>>(N, 32, ops);
#endif
  else if (name == "iotlb_invalidate_page")
    count_invalidations<iotlb<N>>(N, 1, ops);
  else if (name == "map_invalidate_page")
    count_invalidations<map_tlb>(N, 1, ops);
  else if (name == "iotlb_invalidate_asid")
    count_invalidations<iotlb<N>>(N, 16, ops);
  else if (name == "map_invalidate_asid")
    count_invalidations<map_tlb>(N, 16, ops);
  else if (name == "iotlb_invalidate_range")
    count_invalidations<iotlb<N>>(N, 32, ops);
  else if (name == "map_invalidate_range")
    count_invalidations<map_tlb>(N, 32, ops);
  else
    return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string_view(argv[1]) == "--instructions") {
    const std::string_view name = argv[2];
    const std::uint64_t ops = std::strtoull(argv[3], nullptr, 10);
    if (count<256>(name, ops) || count<4096>(name, ops) || count<65536>(name, ops)) return 0;
    std::fprintf(stderr, "bench_tlb: unknown --instructions name %s\n", argv[2]);
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
