// Hardware Access flag and dirty state updates (IHI 0070 §3.13) through the engine: an engine
// built over writable memory writes them back, with caching on and off alike; one built over a
// const reference only reads. A cached leaf that is writable only through DBM does not answer a
// write until the dirty state is recorded.

#include <catch2/catch.hpp>

#include <cstdint>

#include "engine/fixture.hpp"

using namespace ex;
using vw::access_kind;
using vw::outcome;

namespace {

using engine = ve::smmu_engine<memory, recording_notifier, 256>;

constexpr std::uint64_t af = 1U << 10;
constexpr std::uint64_t ap2 = 1U << 7;  // stage 1 read-only
constexpr std::uint64_t dbm = std::uint64_t{1} << 51;

// SID 1: stage 1, CD with HA and HD; 4KB page 0x40000000 -> 0x80000000 with AF clear, and
// 0x40001000 -> 0x80001000 writable-clean (AP[2] = 1, DBM = 1).
struct httu_world : world {
  std::uint64_t root = b.new_root(s1_fmt);
  std::uint64_t leaf_af = 0;
  std::uint64_t leaf_dbm = 0;
  httu_world() {
    st.features.httu = vw::httu::access_and_dirty;
    put_ste(1, s1_ste(cd_table(1)));
    put_cd(1, 0, 0, s1_cd(root, 5).with<C::HA>(true).with<C::HD>(true));
    vt::leaf_attrs a;
    a.af = false;
    leaf_af = b.map(s1_fmt, root, 0x4000'0000, 0x8000'0000, 3, a);
    leaf_dbm = b.map(s1_fmt, root, 0x4000'1000, 0x8000'1000, 3, {});
    b.write64(leaf_dbm, b.read64(leaf_dbm) | ap2 | dbm);
  }
};

}  // namespace

TEST_CASE("engine HTTU: writable memory gets AF and the dirty state", "[engine][httu]") {
  httu_world w;
  engine e(*w.mem, w.st);
  const bool caching = GENERATE(true, false);
  e.set_caching(caching);

  const std::uint64_t before = w.b.read64(w.leaf_af);
  const auto r = e.translate(txn(1, 0x4000'0123));
  REQUIRE(r.kind == outcome::translated);
  CHECK(r.output_address() == 0x8000'0123);
  CHECK(w.b.read64(w.leaf_af) == (before | af));

  // A read leaves the DBM descriptor clean, and its translation is cached as such.
  const std::uint64_t clean = w.b.read64(w.leaf_dbm);
  const auto rd = e.translate(txn(1, 0x4000'1008));
  REQUIRE(rd.kind == outcome::translated);
  CHECK(rd.xlat.s1_dbm_clean);
  CHECK(w.b.read64(w.leaf_dbm) == clean);
  // The write walks again (a cached clean leaf does not answer it) and records the dirty state.
  const auto wr = e.translate(txn(1, 0x4000'1010, access_kind::write));
  REQUIRE(wr.kind == outcome::translated);
  CHECK(wr.output_address() == 0x8000'1010);
  CHECK_FALSE(wr.xlat.s1_dbm_clean);
  CHECK(w.b.read64(w.leaf_dbm) == (clean & ~ap2));
  // Now dirty: a second write is a hit when caching, and equals the walk either way.
  const auto wr2 = e.translate(txn(1, 0x4000'1018, access_kind::write));
  CHECK(same_result(wr2, w.walk(txn(1, 0x4000'1018, access_kind::write))));
  // Leaves found: the clean one, declined for the write, and the dirty one.
  if (caching) CHECK(e.stats().leaf_hits == 2);
}

TEST_CASE("engine HTTU: a const memory reference is only read", "[engine][httu]") {
  httu_world w;
  const memory& ro = *w.mem;
  engine e(ro, w.st);
  const std::uint64_t before_af = w.b.read64(w.leaf_af);
  const std::uint64_t before_dbm = w.b.read64(w.leaf_dbm);
  CHECK(e.translate(txn(1, 0x4000'0000)).kind == outcome::translated);
  const auto wr = e.translate(txn(1, 0x4000'1000, access_kind::write));
  CHECK(wr.kind == outcome::translated);
  CHECK(w.b.read64(w.leaf_af) == before_af);
  CHECK(w.b.read64(w.leaf_dbm) == before_dbm);
  // Still clean in memory, so still clean in the cache: the next write walks again.
  const auto misses = e.stats().leaf_misses;
  const auto again = e.translate(txn(1, 0x4000'1000, access_kind::write));
  CHECK(again.xlat.s1_dbm_clean);
  CHECK(same_result(again, wr));
  CHECK(e.stats().epoch == 0);
  CHECK(e.stats().leaf_misses == misses);  // found, declined, walked
}

TEST_CASE("engine HTTU: an IOTLB miss under a cached STE with S2HA still writes AF back",
          "[engine][httu]") {
  // The engine walks a leaf miss whose STE and CD are cached and enable no HTTU over memory it
  // only reads (smmu_engine::without_httu); with S2HA on the cached STE it must still write.
  world w;
  w.st.features.httu = vw::httu::access_flag;
  const std::uint64_t s2root = w.b.new_root(s2_fmt);
  vt::leaf_attrs a;
  a.af = false;
  const std::uint64_t first = w.b.map(s2_fmt, s2root, 0x4000'0000, 0x8000'0000, 3, a);
  const std::uint64_t second = w.b.map(s2_fmt, s2root, 0x4000'1000, 0x8000'1000, 3, a);
  w.put_ste(2, with_s2(S::value{}.with<S::V>(true).with<S::Config>(ste_config::s2_trans), s2root, 9)
                   .with<S::S2HA>(true));
  engine e(*w.mem, w.st);
  REQUIRE(e.translate(txn(2, 0x4000'0010)).kind == outcome::translated);  // the STE is cached
  CHECK((w.b.read64(first) & af) != 0);
  const auto misses = e.stats().stream_misses;
  const auto r = e.translate(txn(2, 0x4000'1010));
  REQUIRE(r.kind == outcome::translated);
  CHECK(r.output_address() == 0x8000'1010);
  CHECK(e.stats().stream_misses == misses);  // the walk used the cached STE
  CHECK((w.b.read64(second) & af) != 0);
}
