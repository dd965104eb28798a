// Guest-controlled structures are hostile: random Stream tables, STEs, CDs and descriptors must
// always produce an architected result, within a bounded number of memory reads.

#include <vsmmu/testing/counting_memory.hpp>

#include <catch2/catch.hpp>

#include <set>

#include "walk/fixture.hpp"

using namespace fx;

namespace {

// Counts reads so that the bound on a walk can be checked.
using counting_memory = vsmmu::testing::counting_memory<world::mem_type>;
static_assert(vsmmu::memory::readable_memory<counting_memory>);

struct xorshift {
  std::uint64_t s;
  std::uint64_t operator()() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

}  // namespace

TEST_CASE("random structures: always an architected outcome, bounded reads", "[walk][hostile]") {
  using enum E::type;
  const std::set<E::type> produced{c_bad_streamid,    f_ste_fetch, c_bad_ste, f_stream_disabled,
                                   c_bad_substreamid, f_cd_fetch,  c_bad_cd,  f_walk_eabt,
                                   f_translation,     f_addr_size, f_access,  f_permission};
  auto w = make_world();
  xorshift rng{0x9e3779b97f4a7c15};
  unsigned translated = 0;
  for (int round = 0; round < 200; ++round) {
    // Fill memory with words that are mostly plausible: small addresses, valid-looking bits.
    for (std::uint64_t a = 0; a < 0x40000; a += 8) {
      const std::uint64_t v = rng();
      const std::uint64_t mostly_low = (v & 0xfff0'0000'0003'ffffULL) | (v & 0x0700);
      w->b.write64(a, (round & 1) != 0 ? v : mostly_low);
    }
    w->st.features.sidsize = 1 + static_cast<unsigned>(rng() % 32);
    w->st.features.oas = static_cast<address_size>(rng() % 7);
    w->st.features.httu = static_cast<vw::httu>(rng() % 3);
    w->st.features.ats = (rng() & 1) != 0;
    w->st.strtab = {rng() & 0x3ffc0, (rng() & 1) != 0, static_cast<unsigned>(rng() % 16),
                    static_cast<unsigned>(rng() % 64)};
    for (int i = 0; i < 200; ++i) {
      vw::transaction t;
      t.sid = static_cast<std::uint32_t>(rng() % 64);
      t.ssv = (rng() & 3) == 0;
      t.ssid = static_cast<std::uint32_t>(rng() % 1024);
      t.address = (rng() & 1) != 0 ? rng() : rng() & 0x3ffff;
      t.access = static_cast<vw::access_kind>(rng() % 3);
      t.privileged = (rng() & 1) != 0;
      counting_memory m{&w->mem};
      const auto r = vw::translate(m, w->st, t);
      // STE (8) + L1STD + L1CD + CD (8) + a nested walk: at most 5 stage 2 walks (CD and four
      // stage 1 levels) plus the output's, each at most 4 reads, and 4 stage 1 reads; and what
      // the usual nested route reads before it declines a walk the general walk then makes.
      CHECK(m.reads <= 8 + 1 + 1 + 8 + 6 * 4 + 4 + 2 + vw::detail::usual_nested_max_reads);
      switch (r.kind) {
        case vw::outcome::translated:
          ++translated;
          CHECK((r.output_address() >> w->st.features.oas_bits()) == 0);
          break;
        case vw::outcome::bypass:
          break;
        case vw::outcome::abort:
          CHECK(r.term != vw::termination::none);
          break;
        case vw::outcome::fault:
          CHECK(produced.count(r.event.type()) == 1);
          break;
      }
    }
  }
  INFO("translated " << translated);
  CHECK(true);
}

TEST_CASE("corrupted valid structures: bit flips in a nested set-up", "[walk][hostile]") {
  using enum E::type;
  auto base = make_world();
  auto& b = base->b;
  const auto s2fmt = vt::s2_format(12, 40, 1);
  const auto s1fmt = vt::s1_format(12, 48);
  const auto s2root = b.new_root(s2fmt);
  b.map(s2fmt, s2root, 0, 0, 1);
  b.map(s2fmt, s2root, 0x40'0000'0000, 0x2'0000'0000, 2);
  const auto s1root = b.new_root(s1fmt);
  for (std::uint64_t va = 0; va < 0x10'0000; va += 0x1'0000) {
    b.map(s1fmt, s1root, va, 0x40'0000'0000 + va, 3);
  }
  base->put_ste(
      with_s2(s1_ste().with<S::Config>(ste_config::nested).with<S::S1CDMax>(2), s2root, 40, 1));
  for (std::uint32_t ssid = 0; ssid < 4; ++ssid) {
    b.install_cd(cd_ptr, vsmmu::smmuv3::s1_fmt::linear, 2, ssid, s1_cd(s1root));
  }
  const std::uint64_t used = 0x1000 + 0x10000;  // Stream table, CDs and the tables
  xorshift rng{12345};
  unsigned outcomes[4] = {};
  for (int round = 0; round < 2000; ++round) {
    auto w = std::make_unique<world>(*base);
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i) {
      const std::uint64_t at = (rng() % (used / 8)) * 8;
      w->b.write64(at, w->b.read64(at) ^ (std::uint64_t{1} << (rng() % 64)));
    }
    vw::transaction t;
    t.sid = 1;
    t.ssv = true;
    t.ssid = static_cast<std::uint32_t>(rng() % 4);
    t.address = (rng() % 16) * 0x1'0000 + (rng() % 0x1000);  // inside a mapped page
    t.access = static_cast<vw::access_kind>(rng() % 3);
    counting_memory m{&w->mem};
    const auto r = vw::translate(m, w->st, t);
    CHECK(m.reads <= 8 + 1 + 1 + 8 + 6 * 4 + 4 + 2 + vw::detail::usual_nested_max_reads);
    ++outcomes[static_cast<unsigned>(r.kind)];
    if (r.kind == vw::outcome::translated) {
      CHECK((r.output_address() >> 48) == 0);
    }
    if (r.kind == vw::outcome::fault) CHECK(r.event.type() != E::type{});
  }
  // Most single flips land in unused descriptor bits: the walk still translates.
  CHECK(outcomes[static_cast<unsigned>(vw::outcome::translated)] > 500);
  CHECK(outcomes[static_cast<unsigned>(vw::outcome::fault)] > 0);
}
