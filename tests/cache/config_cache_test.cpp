#include <catch2/catch.hpp>

#include <vsmmu/cache/config_cache.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <utility>

namespace {

using vsmmu::cache::cd_index;
using vsmmu::cache::config_cache;
using vsmmu::cache::config_cache_options;
namespace vw = vsmmu::walk;

// Distinguishable configurations: the StreamID (or key) goes into a field the test reads back.
vw::stream_config ste_for(std::uint32_t sid, unsigned s1cdmax = 4,
                          vsmmu::smmuv3::s1_dss dss = vsmmu::smmuv3::s1_dss::terminate) {
  vw::stream_config c;
  c.mode = vw::stream_mode::s1;
  c.s1_context_ptr = std::uint64_t{sid} << 6;
  c.s1cdmax = s1cdmax;
  c.s1dss = dss;
  return c;
}

vw::context_config cd_for(std::uint32_t sid, std::uint32_t index) {
  vw::context_config c;
  c.mair = (std::uint64_t{sid} << 32) | index;
  c.asid = static_cast<std::uint16_t>(index);
  return c;
}

}  // namespace

TEST_CASE("config cache: STEs and CDs are found under their keys", "[cache]") {
  config_cache c;
  CHECK(c.find_stream(5) == nullptr);
  c.insert_stream(5, ste_for(5));
  REQUIRE(c.find_stream(5) != nullptr);
  CHECK(c.find_stream(5)->s1_context_ptr == 5U << 6);
  CHECK(c.find_stream(6) == nullptr);

  CHECK(c.insert_context(5, 0, cd_for(5, 0)));
  CHECK(c.insert_context(5, 3, cd_for(5, 3)));
  REQUIRE(c.find_context(5, 3) != nullptr);
  CHECK(c.find_context(5, 3)->mair == ((std::uint64_t{5} << 32) | 3));
  CHECK(c.find_context(5, 1) == nullptr);
  CHECK(c.find_context(3, 5) == nullptr);  // (StreamID, index) is not symmetric
  CHECK(c.stream_count() == 1);
  CHECK(c.context_count() == 2);
}

TEST_CASE("config cache: a CD is cached only through a cached STE", "[cache]") {
  config_cache c;
  CHECK_FALSE(c.insert_context(9, 0, cd_for(9, 0)));
  CHECK(c.context_count() == 0);
  c.insert_stream(9, ste_for(9));
  CHECK(c.insert_context(9, 0, cd_for(9, 0)));
}

TEST_CASE("config cache: replacing an STE drops the CDs decoded against the old one", "[cache]") {
  config_cache c;
  c.insert_stream(1, ste_for(1));
  REQUIRE(c.insert_context(1, 2, cd_for(1, 2)));
  c.insert_stream(1, ste_for(1, 8));
  CHECK(c.find_stream(1)->s1cdmax == 8);
  CHECK_FALSE(c.contains_context(1, 2));
  CHECK(c.stream_count() == 1);
}

TEST_CASE("config cache: the embedder's word lives and dies with its entry", "[cache]") {
  config_cache c;
  const vw::planned_stream_lookup ste(vw::stream_lookup{vw::ste_fetch_status::ok, 0, false,
                                                         ste_for(1)});
  const vw::planned_context_lookup cd(vw::context_lookup{vw::cd_locate_status::ok, {}, false,
                                                          cd_for(1, 2)});
  CHECK(c.find_stream_entry(1).lookup == nullptr);
  c.insert_stream(1, ste, 0x1234);
  CHECK(c.find_stream_entry(1).word == 0x1234);
  CHECK(c.find_stream_entry(1).lookup == c.find_stream_lookup(1));
  // A CD's word is computed from the STE it is cached through.
  REQUIRE(c.insert_context(1, 2, cd, [](const vw::stream_config& parent) {
    return parent.s1_context_ptr | 7;
  }));
  CHECK(c.find_context_entry(1, 2).word == ((1U << 6) | 7));
  CHECK(c.find_context_entry(1, 2).lookup == c.find_context_lookup(1, 2));
  CHECK(c.find_context_entry(1, 3).lookup == nullptr);
  // Replaced with its STE (whose CDs go), dropped with it.
  c.insert_stream(1, ste, 0x99);
  CHECK(c.find_stream_entry(1).word == 0x99);
  CHECK(c.find_context_entry(1, 2).lookup == nullptr);
  c.invalidate_ste(1);
  CHECK(c.find_stream_entry(1).lookup == nullptr);
}

TEST_CASE("config cache: CD index of a transaction (IHI 0070 §4.3.3, S1DSS)", "[cache]") {
  vw::transaction with{};
  with.ssv = true;
  with.ssid = 7;
  vw::transaction without{};
  // Substreams enabled: the SubstreamID is the index; no SubstreamID (S1DSS == 0b10) is index 0.
  CHECK(cd_index(ste_for(0, 4, vsmmu::smmuv3::s1_dss::substream0), with) == 7);
  CHECK(cd_index(ste_for(0, 4, vsmmu::smmuv3::s1_dss::substream0), without) == 0);
  // A single-CD STE is a one-entry table.
  CHECK(cd_index(ste_for(0, 0), without) == 0);
}

TEST_CASE("config cache: CMD_CFGI_STE drops the STE and every CD cached through it", "[cache]") {
  config_cache c;
  for (std::uint32_t sid : {1U, 2U}) {
    c.insert_stream(sid, ste_for(sid));
    for (std::uint32_t i = 0; i < 5; ++i) REQUIRE(c.insert_context(sid, i, cd_for(sid, i)));
  }
  c.invalidate_ste(1);
  CHECK_FALSE(c.contains_stream(1));
  for (std::uint32_t i = 0; i < 5; ++i) CHECK_FALSE(c.contains_context(1, i));
  CHECK(c.contains_stream(2));
  for (std::uint32_t i = 0; i < 5; ++i) CHECK(c.contains_context(2, i));
  CHECK(c.stream_count() == 1);
  CHECK(c.context_count() == 5);
  c.invalidate_ste(77);  // nothing cached: no effect
  CHECK(c.stream_count() == 1);
}

TEST_CASE("config cache: CMD_CFGI_STE_RANGE drops an aligned 2^(Range+1) range", "[cache]") {
  // Few cached STEs and a narrow range (probed per StreamID), or many and a wide one (walks the
  // cached STEs): the same StreamIDs go.
  for (std::uint32_t cached : {4U, 64U}) {
    config_cache c({256, 1024});
    for (std::uint32_t sid = 0; sid < cached; ++sid) {
      c.insert_stream(0x100 + sid, ste_for(0x100 + sid));
      REQUIRE(c.insert_context(0x100 + sid, 1, cd_for(0x100 + sid, 1)));
    }
    // Range = 1: four StreamIDs; the bottom two bits of the StreamID (0x102) are IGNORED.
    c.invalidate_ste_range(0x102, 1);
    for (std::uint32_t sid = 0; sid < cached; ++sid) {
      const bool gone = sid < 4;
      CHECK(c.contains_stream(0x100 + sid) == !gone);
      CHECK(c.contains_context(0x100 + sid, 1) == !gone);
    }
  }
  config_cache c;
  for (std::uint32_t sid : {0x0U, 0x7fU, 0x80U, 0xffU, 0x100U}) c.insert_stream(sid, ste_for(sid));
  c.invalidate_ste_range(0xabU, 6);  // 128 StreamIDs: 0x80-0xff
  CHECK(c.contains_stream(0x0));
  CHECK(c.contains_stream(0x7f));
  CHECK_FALSE(c.contains_stream(0x80));
  CHECK_FALSE(c.contains_stream(0xff));
  CHECK(c.contains_stream(0x100));
}

TEST_CASE("config cache: a huge range costs what is cached, not its width", "[cache]") {
  config_cache c;
  c.insert_stream(0x8000'0001U, ste_for(1));
  c.insert_stream(0x7fff'ffffU, ste_for(2));
  c.invalidate_ste_range(0x8000'0000U, 30);  // 2^31 StreamIDs: returns at once
  CHECK_FALSE(c.contains_stream(0x8000'0001U));
  CHECK(c.contains_stream(0x7fff'ffffU));
}

TEST_CASE("config cache: CMD_CFGI_ALL (Range 31) drops everything", "[cache]") {
  config_cache c;
  for (std::uint32_t sid = 0; sid < 20; ++sid) {
    c.insert_stream(sid * 0x1000'0000U / 2, ste_for(sid));
    REQUIRE(c.insert_context(sid * 0x1000'0000U / 2, 0, cd_for(sid, 0)));
  }
  c.invalidate_ste_range(0x1234, 31);  // StreamID IGNORED
  CHECK(c.stream_count() == 0);
  CHECK(c.context_count() == 0);
  c.insert_stream(3, ste_for(3));
  c.invalidate_all();
  CHECK(c.stream_count() == 0);
}

TEST_CASE("config cache: CMD_CFGI_CD drops exactly one CD index", "[cache]") {
  config_cache c;
  for (std::uint32_t sid : {4U, 5U}) {
    c.insert_stream(sid, ste_for(sid));
    for (std::uint32_t i = 0; i < 4; ++i) REQUIRE(c.insert_context(sid, i, cd_for(sid, i)));
  }
  c.invalidate_cd(4, 2);
  for (std::uint32_t i = 0; i < 4; ++i) {
    CHECK(c.contains_context(4, i) == (i != 2));
    CHECK(c.contains_context(5, i));
  }
  CHECK(c.contains_stream(4));   // the STE stays
  c.invalidate_cd(4, 1U << 20);  // out of range: no effect (§4.1.7 permits it)
  CHECK(c.context_count() == 7);
}

// Issue 4 reports that gem5's CFGI_CD handling misses cached entries. The case that is easy to
// miss: S1DSS == 0b10 traffic without a SubstreamID uses the CD at index 0 (§5.2 S1DSS), and
// CMD_CFGI_CD with SubstreamID 0 invalidates that CD "independent of its role in translation
// through S1DSS" (§4.3.3) — while SubstreamID 0 traffic itself is terminated.
TEST_CASE("config cache: CMD_CFGI_CD 0 drops the CD S1DSS == 0b10 traffic uses", "[cache]") {
  config_cache c;
  const auto ste = ste_for(8, 4, vsmmu::smmuv3::s1_dss::substream0);
  c.insert_stream(8, ste);
  vw::transaction no_ssid{};
  no_ssid.sid = 8;
  vw::transaction ssid3{};
  ssid3.sid = 8;
  ssid3.ssv = true;
  ssid3.ssid = 3;
  REQUIRE(c.insert_context(8, cd_index(ste, no_ssid), cd_for(8, 0)));
  REQUIRE(c.insert_context(8, cd_index(ste, ssid3), cd_for(8, 3)));
  c.invalidate_cd(8, 3);
  CHECK(c.find_context(8, cd_index(ste, no_ssid)) != nullptr);
  REQUIRE(c.insert_context(8, 3, cd_for(8, 3)));
  c.invalidate_cd(8, 0);
  CHECK(c.find_context(8, cd_index(ste, no_ssid)) == nullptr);
  CHECK(c.find_context(8, 3) != nullptr);
}

TEST_CASE("config cache: a single-CD STE's CD is index 0", "[cache]") {
  config_cache c;
  const auto ste = ste_for(2, 0);
  c.insert_stream(2, ste);
  REQUIRE(c.insert_context(2, cd_index(ste, vw::transaction{}), cd_for(2, 0)));
  c.invalidate_cd(2, 1);
  CHECK(c.contains_context(2, 0));
  c.invalidate_cd(2, 0);
  CHECK_FALSE(c.contains_context(2, 0));
}

TEST_CASE("config cache: CMD_CFGI_CD_ALL drops the CDs of one StreamID", "[cache]") {
  config_cache c;
  for (std::uint32_t sid : {1U, 2U}) {
    c.insert_stream(sid, ste_for(sid));
    for (std::uint32_t i = 0; i < 6; ++i) REQUIRE(c.insert_context(sid, i, cd_for(sid, i)));
  }
  c.invalidate_cd_all(1);
  for (std::uint32_t i = 0; i < 6; ++i) {
    CHECK_FALSE(c.contains_context(1, i));
    CHECK(c.contains_context(2, i));
  }
  CHECK(c.contains_stream(1));
  CHECK(c.context_count() == 6);
}

TEST_CASE("config cache: bounded, with second-chance replacement", "[cache]") {
  config_cache c({4, 8});
  CHECK(c.stream_capacity() == 4);
  CHECK(c.context_capacity() == 8);
  for (std::uint32_t sid = 0; sid < 4; ++sid) c.insert_stream(sid, ste_for(sid));
  // StreamID 0 is used: the next insertion evicts another one.
  REQUIRE(c.find_stream(0) != nullptr);
  c.insert_stream(10, ste_for(10));
  CHECK(c.stream_count() == 4);
  CHECK(c.contains_stream(0));
  CHECK(c.contains_stream(10));
  // Evicting an STE evicts its CDs.
  for (std::uint32_t sid = 100; sid < 200; ++sid) {
    c.insert_stream(sid, ste_for(sid));
    (void)c.insert_context(sid, 0, cd_for(sid, 0));
    (void)c.insert_context(sid, 1, cd_for(sid, 1));
    CHECK(c.stream_count() <= 4);
    CHECK(c.context_count() <= 8);
  }
  for (std::uint32_t sid = 100; sid < 200; ++sid) {
    if (!c.contains_stream(sid)) CHECK_FALSE(c.contains_context(sid, 0));
  }
  // Capacity 0 is read as 1.
  config_cache one({0, 0});
  one.insert_stream(1, ste_for(1));
  one.insert_stream(2, ste_for(2));
  CHECK(one.stream_count() == 1);
}

// Random inserts, lookups and invalidations against a model of what the cache may hold: the cache
// never returns an entry that was invalidated, or a value other than the last one inserted, and
// its counts match what it holds.
TEST_CASE("config cache: never returns invalidated or stale configuration", "[cache]") {
  std::mt19937_64 rng(20261123);
  config_cache c({16, 48});
  std::map<std::uint32_t, std::uint64_t> streams;  // sid -> generation stored in s1_context_ptr
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint64_t> contexts;
  std::uint64_t gen = 1;
  auto sid_of = [&] { return static_cast<std::uint32_t>(rng() % 40); };
  auto idx_of = [&] { return static_cast<std::uint32_t>(rng() % 6); };
  for (int step = 0; step < 8000; ++step) {
    const auto op = rng() % 100;
    const std::uint32_t sid = sid_of();
    if (op < 25) {
      vw::stream_config s = ste_for(sid);
      s.s1_context_ptr = ++gen;
      c.insert_stream(sid, s);
      streams[sid] = gen;
      for (auto it = contexts.begin(); it != contexts.end();) {
        it = it->first.first == sid ? contexts.erase(it) : std::next(it);
      }
    } else if (op < 50) {
      const std::uint32_t idx = idx_of();
      vw::context_config cd;
      cd.mair = ++gen;
      if (c.insert_context(sid, idx, cd)) {
        REQUIRE(streams.count(sid) == 1);
        contexts[{sid, idx}] = gen;
      }
    } else if (op < 80) {
      if (const auto* s = c.find_stream(sid)) {
        REQUIRE(streams.count(sid) == 1);
        REQUIRE(s->s1_context_ptr == streams[sid]);
      }
      const std::uint32_t idx = idx_of();
      if (const auto* cd = c.find_context(sid, idx)) {
        REQUIRE(contexts.count({sid, idx}) == 1);
        REQUIRE(cd->mair == contexts[{sid, idx}]);
      }
    } else if (op < 86) {
      c.invalidate_ste(sid);
      streams.erase(sid);
      for (auto it = contexts.begin(); it != contexts.end();) {
        it = it->first.first == sid ? contexts.erase(it) : std::next(it);
      }
    } else if (op < 90) {
      const unsigned range = static_cast<unsigned>(rng() % 6);
      c.invalidate_ste_range(sid, range);
      const std::uint32_t mask = ~((2U << range) - 1);
      for (auto it = streams.begin(); it != streams.end();) {
        it = (it->first & mask) == (sid & mask) ? streams.erase(it) : std::next(it);
      }
      for (auto it = contexts.begin(); it != contexts.end();) {
        it = (it->first.first & mask) == (sid & mask) ? contexts.erase(it) : std::next(it);
      }
    } else if (op < 96) {
      const std::uint32_t idx = idx_of();
      c.invalidate_cd(sid, idx);
      contexts.erase({sid, idx});
    } else if (op < 99) {
      c.invalidate_cd_all(sid);
      for (auto it = contexts.begin(); it != contexts.end();) {
        it = it->first.first == sid ? contexts.erase(it) : std::next(it);
      }
    } else {
      c.invalidate_all();
      streams.clear();
      contexts.clear();
    }
    // Whatever the cache holds is in the model with the same value; counts add up.
    std::uint32_t held_streams = 0;
    std::uint32_t held_contexts = 0;
    for (std::uint32_t s = 0; s < 40; ++s) {
      if (c.contains_stream(s)) {
        ++held_streams;
        REQUIRE(streams.count(s) == 1);
      }
      for (std::uint32_t i = 0; i < 6; ++i) {
        if (c.contains_context(s, i)) {
          ++held_contexts;
          REQUIRE(contexts.count({s, i}) == 1);
          REQUIRE(c.contains_stream(s));
        }
      }
    }
    REQUIRE(held_streams == c.stream_count());
    REQUIRE(held_contexts == c.context_count());
    REQUIRE(c.stream_count() <= 16);
    REQUIRE(c.context_count() <= 48);
  }
}
