// SPDX-License-Identifier: BSL-1.0
// The consumer against a plain reference model: random queues of valid, malformed and
// synchronising commands, random handler answers, random PROD/CONS, repeated kicks with
// acknowledgements in between. Both must agree on every command executed, every CMD_SYNC
// completed, where CONS stops and which error it reports.
#include <catch2/catch.hpp>

#include <vsmmu/queue/command_queue.hpp>
#include <vsmmu/smmuv3/commands.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "fixture.hpp"

namespace c = vsmmu::smmuv3::cmd;
using namespace vsmmu::queue;
using vsmmu::queue::test::cmdq_fixture;
using vsmmu::smmuv3::cerror;

namespace {

// The handler's answer, a function of the command only so that the model can predict it.
command_status answer_for(const command& x) {
  if (x.opcode() == c::opcode::atc_inv && ((x.words[0] >> 32) & 1U) != 0) {
    return command_status::atc_incomplete;  // odd StreamIDs time out
  }
  if (x.opcode() == c::opcode::cfgi_ste && ((x.words[0] >> 32) % 13) == 0) {
    return command_status::illegal;  // the handler refuses some StreamIDs
  }
  return command_status::ok;
}

command random_command(std::mt19937_64& g) {
  const auto sid = static_cast<std::uint32_t>(g() % 64);
  switch (g() % 12) {
    case 0:
    case 1:
    case 2:
      return vsmmu::queue::test::tlbi_va(0x1000 * (g() % 512));
    case 3:
      return vsmmu::queue::test::to_command(c::make<c::cfgi_ste::layout>().with<c::StreamID>(sid));
    case 4:
      return vsmmu::queue::test::to_command(c::make<c::atc_inv::layout>().with<c::StreamID>(sid));
    case 5:
    case 6:
      return vsmmu::queue::test::make_sync(static_cast<c::cs>(g() % 3), 0x8000, 1);
    case 7:
      return vsmmu::queue::test::make_sync(c::cs{3});  // Reserved CS
    case 8:
      return command{{0x0f, 0}};  // Reserved opcode
    case 9: {
      auto x = vsmmu::queue::test::tlbi_va(0x2000);
      x.words[1] |= 1U << 2;  // a RES0 bit
      return x;
    }
    default:
      return vsmmu::queue::test::plain<c::tlbi_nsnh_all::layout>();
  }
}

struct model {
  std::vector<command> executed;
  std::uint32_t syncs = 0;
  std::uint32_t cons = 0;
  cerror error = cerror::none;
  bool atc_failed = false;
};

// The reference: one entry at a time, straight from the spec's words.
void reference(model& m, const std::vector<command>& ring_entries, const ring& r,
               std::uint32_t prod, const command_features& f) {
  std::uint32_t cons = r.pointer(m.cons);
  prod = r.pointer(prod);
  const std::uint32_t n = (prod - cons) & r.pointer_mask();
  if (n > r.size()) return;  // inconsistent: nothing
  for (std::uint32_t k = 0; k < n; ++k) {
    const command& x = ring_entries[r.index(cons)];
    if (validate(x, f) != cerror::none) {
      m.error = cerror::ill;
      break;
    }
    if (x.opcode() == c::opcode::sync) {
      if (m.atc_failed) {
        m.atc_failed = false;
        m.error = cerror::atc_inv_sync;
        break;
      }
      ++m.syncs;
    } else {
      m.executed.push_back(x);
      const auto a = answer_for(x);
      if (a == command_status::illegal) {
        m.error = cerror::ill;
        break;
      }
      if (a == command_status::atc_incomplete) m.atc_failed = true;
    }
    cons = r.advance(cons);
  }
  m.cons = cons;
}

}  // namespace

TEST_CASE("cmdq: the consumer agrees with a reference model on random queues",
          "[queue][cmdq][reference]") {
  std::mt19937_64 g(20261123);
  for (int round = 0; round < 400; ++round) {
    const unsigned log2size = static_cast<unsigned>(g() % 6);
    cmdq_fixture<> f(log2size);
    f.cfg.features.ats = true;
    f.handler.answer = answer_for;
    const ring& r = f.cfg.geometry;
    std::vector<command> entries(r.size());
    for (std::uint32_t i = 0; i < r.size(); ++i) {
      entries[i] = random_command(g);
      f.put(i, entries[i]);
    }
    model m;
    m.cons = f.st.cons = static_cast<std::uint32_t>(g());
    m.cons = r.pointer(m.cons);
    for (int kick = 0; kick < 4; ++kick) {
      // Software moves PROD on by up to a queue's worth (rarely anywhere at all).
      const std::uint32_t prod =
          g() % 16 == 0
              ? static_cast<std::uint32_t>(g())
              : r.advance(r.pointer(f.st.cons), static_cast<std::uint32_t>(g() % (r.size() + 1)));
      f.st.prod = prod;
      const std::size_t before = m.executed.size();
      const std::uint32_t syncs_before = m.syncs;
      m.error = cerror::none;
      reference(m, entries, r, prod, f.cfg.features);
      f.handler.seen.clear();
      const auto got = f.run();
      CAPTURE(round, kick, log2size, prod);
      REQUIRE(got.error == m.error);
      REQUIRE(f.cons_pointer() == m.cons);
      REQUIRE(got.syncs == m.syncs - syncs_before);
      REQUIRE(f.st.atc_inv_failed == m.atc_failed);
      REQUIRE(f.handler.seen ==
              std::vector<command>(m.executed.begin() + static_cast<std::ptrdiff_t>(before),
                                   m.executed.end()));
      if (got.error != cerror::none) {
        REQUIRE(f.st.error_code() == got.error);
        // Software replaces the failing entry with a harmless one and acknowledges.
        entries[r.index(m.cons)] = vsmmu::queue::test::plain<c::tlbi_nsnh_all::layout>();
        f.put(r.index(m.cons), entries[r.index(m.cons)]);
        f.errors.write_gerrorn(f.errors.gerror);
      }
    }
  }
}
