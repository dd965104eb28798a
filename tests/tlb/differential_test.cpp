// Differential tests: vsmmu::tlb::iotlb against the linear reference model over random workloads
// with a fixed seed. Without capacity pressure the two must hold the same entries after every
// operation and answer every lookup alike; under pressure the IOTLB may only lose entries by
// evicting one per insert into a full cache.
#include <catch2/catch.hpp>

#include <vsmmu/tlb/iotlb.hpp>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "tlb/reference_model.hpp"

using namespace vsmmu::tlb;
using vsmmu::tlb::testing::contents;
using vsmmu::tlb::testing::reference_tlb;
using vsmmu::tlb::testing::sorted;

namespace {

// Few tags and a small address window so that hits, overlaps and aliasing are frequent. The
// upper bytes of 0x0101/0x0201 alias with 1 and 2 under 8-bit tags.
constexpr std::uint16_t vmids[] = {0, 1, 2, 0x0101};
constexpr std::uint16_t asids[] = {0, 1, 2, 3, 0x0201};
constexpr std::uint8_t shifts[] = {12, 12, 12, 12, 12, 14, 16, 21, 21, 30};

struct workload {
  std::mt19937_64 rng;
  explicit workload(std::uint64_t seed) : rng(seed) {}

  std::uint64_t pick(std::uint64_t n) { return rng() % n; }

  std::uint64_t address() {
    // Mostly a 16MB window at the bottom, sometimes the top (TTB1) 16MB, sometimes 4GB.
    const std::uint64_t r = pick(10);
    const std::uint64_t off = pick(std::uint64_t{1} << 24);
    if (r == 0) return 0xffff'ffff'ff00'0000ULL + off;
    if (r == 1) return pick(std::uint64_t{1} << 32);
    return off;
  }

  context ctx() {
    const std::uint64_t r = pick(20);
    if (r == 0) return {regime::ns_el2, space::va, 0, 0};
    if (r == 1) return {regime::ns_el2_e2h, space::va, 0, asids[pick(5)]};
    if (r < 5) return context::stage2(vmids[pick(4)]);
    // One draw per statement: argument evaluation order differs between compilers.
    const std::uint16_t vmid = vmids[pick(4)];
    return context::stage1(vmid, asids[pick(5)]);
  }

  entry make() {
    entry e;
    e.tag = ctx();
    e.size_shift = shifts[pick(std::size(shifts))];
    e.input = address();
    e.output = rng() & 0x000f'ffff'ffff'f000ULL;
    e.global = e.tag.kind == space::va && pick(8) == 0;
    e.from = e.tag.kind == space::ipa ? stages::s2_only
                                      : (pick(2) == 0 ? stages::s1_only : stages::nested);
    e.s1_perm = static_cast<perm>(pick(64));
    e.s2_perm = static_cast<perm>(pick(64));
    e.s1_level = static_cast<std::uint8_t>(1 + pick(3));
    e.mem_attr = static_cast<std::uint8_t>(rng());
    return e;
  }

  address_range range() {
    const std::uint64_t a = address();
    switch (pick(4)) {
      case 0:
        return address_range::single(a);
      case 1: {
        // Through the RIL decoder, with a random granule, NUM and SCALE.
        const auto tg = static_cast<vsmmu::smmuv3::cmd::tlbi_tg>(1 + pick(3));
        const auto r =
            decode_tlbi_range(tlbi_address_fields{.address = a & ~std::uint64_t{0xfff},
                                                  .tg = tg,
                                                  .ttl = static_cast<std::uint8_t>(pick(4)),
                                                  .num = static_cast<std::uint8_t>(pick(32)),
                                                  .scale = static_cast<std::uint8_t>(pick(8))},
                              range_features{});
        return r.ok() ? r.value.range : address_range::single(a);
      }
      case 2:
        return {a, a + pick(std::uint64_t{1} << 22)};
      default:
        return address_range::everything();
    }
  }
};

template <class Tlb>
void apply_invalidation(workload& w, Tlb& t, reference_tlb& ref) {
  const std::uint16_t vmid = vmids[w.pick(4)];
  const std::uint16_t asid = asids[w.pick(5)];
  const bool e2h = w.pick(2) == 0;
  const address_range r = w.range();
  switch (w.pick(13)) {
    case 0:
      t.invalidate_all();
      ref.invalidate_all();
      break;
    case 1:
      t.nsnh_all();
      ref.nsnh_all();
      break;
    case 2:
      t.nh_all(vmid);
      ref.nh_all(vmid);
      break;
    case 3:
      t.nh_asid(vmid, asid);
      ref.nh_asid(vmid, asid);
      break;
    case 4:
      t.nh_va(vmid, asid, r);
      ref.nh_va(vmid, asid, r);
      break;
    case 5:
      t.nh_vaa(vmid, r);
      ref.nh_vaa(vmid, r);
      break;
    case 6:
      t.s2_ipa(vmid, r);
      ref.s2_ipa(vmid, r);
      break;
    case 7:
      t.s12_vmall(vmid);
      ref.s12_vmall(vmid);
      break;
    case 8:
      t.el2_all();
      ref.el2_all();
      break;
    case 9:
      t.el2_asid(asid);
      ref.el2_asid(asid);
      break;
    case 10:
      t.el2_va(asid, r, e2h);
      ref.el2_va(asid, r, e2h);
      break;
    case 11:
      t.el2_vaa(r, e2h);
      ref.el2_vaa(r, e2h);
      break;
    default:
      t.nh_va(vmid, asid, r);
      ref.nh_va(vmid, asid, r);
      break;
  }
}

// Returns whether the lookup hit.
template <class Tlb>
bool check_lookup(workload& w, Tlb& t, const reference_tlb& ref) {
  // Half the lookups aim at a cached entry so that hits are common.
  context c = w.ctx();
  std::uint64_t a = w.address();
  if (!ref.entries.empty() && w.pick(2) == 0) {
    const entry& e = ref.entries[w.pick(ref.entries.size())];
    c = e.tag;
    if (e.global) c.asid = asids[w.pick(5)];
    a = e.input + w.pick(e.size());
  }
  const entry* got = t.lookup(c, a);
  const entry* want = ref.lookup(c, a);
  REQUIRE((got == nullptr) == (want == nullptr));
  if (got != nullptr) REQUIRE(*got == *want);
  return got != nullptr;
}

template <std::uint32_t N>
void run_exact(std::uint64_t seed, iotlb_options opt, int ops, unsigned vmw = 0) {
  auto t = std::make_unique<iotlb<N>>(opt);
  reference_tlb ref(opt);
  t->set_vmid_wildcard(vmw);
  ref.set_vmid_wildcard(vmw);
  workload w(seed);
  int hits = 0;
  for (int i = 0; i < ops; ++i) {
    const std::uint64_t op = w.pick(10);
    if (op < 5) {
      const entry e = w.make();
      t->insert(e);
      ref.insert(e);
    } else if (op < 8) {
      hits += check_lookup(w, *t, ref) ? 1 : 0;
    } else {
      apply_invalidation(w, *t, ref);
    }
    REQUIRE(t->size() == ref.entries.size());
    if (op >= 8 || i % 64 == 0) REQUIRE(contents(*t) == sorted(ref.entries));
  }
  CHECK(hits > ops / 20);  // the workload does exercise hits, not only misses
}

}  // namespace

TEST_CASE("random workloads match the reference model (16-bit tags)", "[tlb][diff]") {
  for (std::uint64_t seed : {1, 2, 3, 4}) {
    INFO("seed " << seed);
    run_exact<4096>(seed, {}, 6000);
  }
}

TEST_CASE("random workloads match the reference model (8-bit tags)", "[tlb][diff]") {
  for (std::uint64_t seed : {11, 12}) {
    INFO("seed " << seed);
    run_exact<4096>(seed, iotlb_options{.asid_bits = 8, .vmid_bits = 8}, 6000);
  }
}

TEST_CASE("random workloads match the reference model (VMID wildcards)", "[tlb][diff]") {
  for (unsigned vmw : {1U, 2U, 4U}) {
    INFO("VMW " << vmw);
    run_exact<4096>(30 + vmw, {}, 4000, vmw);
  }
  run_exact<4096>(35, iotlb_options{.asid_bits = 8, .vmid_bits = 8}, 4000, 1);
}

namespace {

// Under pressure the table is at its maximum load, clusters are long and every insert and
// eviction moves entries (Robin Hood insertion, backward-shift deletion): list links, contexts and
// fingerprints must follow them.
template <std::uint32_t n>
void run_pressure(std::uint64_t seed) {
  {
    auto t = std::make_unique<iotlb<n>>();
    reference_tlb ref;
    workload w(seed);
    std::uint64_t evictions = 0;
    for (int i = 0; i < 8000; ++i) {
      const std::uint64_t op = w.pick(20);
      if (op < 14) {
        const entry e = w.make();
        const bool was_full = t->size() == n;
        t->insert(e);
        ref.insert(e);
        const auto got = contents(*t);
        REQUIRE(got.size() <= n);
        // Every cached entry is one the reference holds; at most one is missing, and only when
        // the cache was full; the new entry is always there.
        std::vector<entry> missing;
        for (const auto& x : sorted(ref.entries)) {
          if (!std::binary_search(got.begin(), got.end(), x, [](const entry& a, const entry& b) {
                return vsmmu::tlb::testing::entry_order_key(a) <
                       vsmmu::tlb::testing::entry_order_key(b);
              })) {
            missing.push_back(x);
          }
        }
        REQUIRE(got.size() + missing.size() == ref.entries.size());
        REQUIRE(missing.size() <= 1);
        if (!missing.empty()) {
          REQUIRE(was_full);
          ++evictions;
        }
        REQUIRE(t->lookup(ref.normalise(e).tag, e.input) != nullptr);
        ref.entries = got;  // the reference follows the eviction
      } else if (op < 19) {
        check_lookup(w, *t, ref);
      } else {
        apply_invalidation(w, *t, ref);
        REQUIRE(contents(*t) == sorted(ref.entries));
      }
    }
    CHECK(evictions > 100);
  }
}

}  // namespace

TEST_CASE("under capacity pressure only evictions differ from the reference", "[tlb][diff]") {
  for (std::uint64_t seed : {21, 22, 23}) {
    INFO("seed " << seed);
    run_pressure<64>(seed);
  }
  for (std::uint64_t seed : {24, 25}) {
    INFO("seed " << seed << ", 8 entries");
    run_pressure<8>(seed);
  }
  run_pressure<1>(26);
}

TEST_CASE("a context walk follows the entries each deletion moves", "[tlb][diff]") {
  // One tag, a full table at load 1/2: clusters are common, and deleting an entry often moves the
  // next one of its context's list back into the hole. Ranges wider than the context has entries
  // make the invalidation walk the list rather than probe addresses.
  constexpr std::uint32_t n = 16;
  std::mt19937_64 rng(41);
  for (int round = 0; round < 3000; ++round) {
    INFO("round " << round);
    iotlb<n> t;
    // Three times the capacity: the evictions' deletions make the later list order and the slot
    // order differ, which is when a deletion can move an older entry back.
    for (std::uint32_t k = 0; k < 3 * n; ++k) {
      entry e;
      e.tag = context::stage1(1, 1);
      e.size_shift = rng() % 4 == 0 ? 21 : 12;
      e.input = (rng() % 512) << 21 | (rng() % 512) << 12;
      e.output = rng() & 0x000f'ffff'ffff'f000ULL;
      t.insert(e);
    }
    reference_tlb ref;
    ref.entries = contents(t);  // what survived the evictions
    const std::uint64_t first = (rng() % 512) << 21;
    const address_range r{first, first + ((1 + rng() % 256) << 21) - 1};
    t.nh_va(1, 1, r);
    ref.nh_va(1, 1, r);
    REQUIRE(t.size() == ref.entries.size());
    REQUIRE(contents(t) == sorted(ref.entries));
    t.nh_asid(1, 1);
    REQUIRE(t.size() == 0);
    REQUIRE(contents(t).empty());
  }
}
