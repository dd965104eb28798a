// The IOTLB's open-addressing index (tlb/iotlb.hpp, detail::hash_index): both slot widths, probe
// clusters that wrap around the table, backward-shift deletion, and fingerprint collisions, against
// a plain map of what must be present.
#include <catch2/catch.hpp>

#include <vsmmu/tlb/iotlb.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <vector>

using vsmmu::tlb::detail::hash_index;
using vsmmu::tlb::detail::npos;

namespace {

// Hashes chosen to collide: `home` lands in the top bits (the home slot of a 2^k-slot table is
// h >> (64 - k)), `fp` in the low ones.
constexpr std::uint64_t hash_of(std::uint64_t home, std::uint64_t fp, unsigned k) {
  return (home << (64 - k)) | fp;
}

template <bool Compact>
void random_workload(unsigned seed) {
  constexpr unsigned k = 6;          // 64 slots
  constexpr std::uint32_t ids = 32;  // load <= 1/2, as the IOTLB uses it
  hash_index<Compact> index(std::size_t{1} << k);
  REQUIRE(index.slot_count() == 64);
  std::vector<std::uint64_t> hash(ids);
  std::map<std::uint32_t, bool> present;
  std::mt19937_64 rng(seed);
  // Few homes and few fingerprints: long clusters, wrap-around, equal fingerprints.
  for (auto& h : hash) h = hash_of(rng() % 4 == 0 ? 63 : rng() % 8, rng() % 3, k);
  auto home_of = [&](std::uint32_t id) { return hash[id]; };
  for (int step = 0; step < 4000; ++step) {
    const auto id = static_cast<std::uint32_t>(rng() % ids);
    if (present[id]) {
      index.erase(hash[id], id, home_of);
      present[id] = false;
    } else {
      index.insert(hash[id], id);
      present[id] = true;
    }
    for (std::uint32_t i = 0; i < ids; ++i) {
      const auto found = index.find(hash[i], [&](std::uint32_t c) { return c == i; });
      REQUIRE(found == (present[i] ? i : npos));
    }
  }
}

}  // namespace

TEST_CASE("hash index: random inserts and erases in colliding clusters", "[tlb][index]") {
  for (unsigned seed = 1; seed <= 4; ++seed) {
    random_workload<true>(seed);
    random_workload<false>(seed);
  }
}

TEST_CASE("hash index: a fingerprint of 0 is stored as 1 and still found", "[tlb][index]") {
  hash_index<true> index(16);
  auto home_of = [](std::uint32_t id) { return hash_of(3, id == 7 ? 0 : 1, 4); };
  index.insert(home_of(7), 7);  // fingerprint 0
  index.insert(home_of(9), 9);  // fingerprint 1, the same home
  CHECK(index.find(home_of(7), [](std::uint32_t c) { return c == 7; }) == 7);
  CHECK(index.find(home_of(9), [](std::uint32_t c) { return c == 9; }) == 9);
  index.erase(home_of(7), 7, home_of);
  CHECK(index.find(home_of(7), [](std::uint32_t c) { return c == 7; }) == npos);
  CHECK(index.find(home_of(9), [](std::uint32_t c) { return c == 9; }) == 9);
}

TEST_CASE("IOTLB above 65536 entries: 32-bit index slots", "[tlb][lru]") {
  constexpr std::uint32_t n = 65537;
  auto t = std::make_unique<vsmmu::tlb::iotlb<n>>();
  using vsmmu::tlb::context;
  auto make = [](std::uint64_t i) {
    vsmmu::tlb::entry e;
    e.input = i << 12;
    e.output = 0x80'0000'0000 + (i << 12);
    e.tag = context::stage1(static_cast<std::uint16_t>(i % 5), static_cast<std::uint16_t>(i % 11));
    return e;
  };
  for (std::uint64_t i = 0; i < n + 1000; ++i) t->insert(make(i));
  CHECK(t->size() == n);
  std::uint32_t survivors = 0;
  for (std::uint64_t i = 0; i < n + 1000; ++i) {
    const auto e = make(i);
    if (const auto* hit = t->lookup(e.tag, e.input + 0x123)) {
      ++survivors;
      CHECK(hit->translate(e.input + 0x123) == e.output + 0x123);
    }
  }
  CHECK(survivors == n);
  for (std::uint16_t v = 0; v < 5; ++v) t->nh_all(v);
  CHECK(t->size() == 0);
}
