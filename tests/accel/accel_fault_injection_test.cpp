// Fault injection at every adapter call of bind, install, invalidate and unbind: whatever fails,
// nothing leaks (the kernel's live objects are exactly the vSMMU's bookkeeping, and return to
// where they were) and a failed operation leaves the vSMMU and the host as they were.
#include <catch2/catch.hpp>

#include <cerrno>
#include <functional>
#include <memory>

#include "accel/accel_fixture.hpp"

using namespace accel_test;

namespace {

struct world {
  host h;
  vsmmu_t v{h.k};
  K::device_id d1 = 0;
  K::device_id d2 = 0;
  std::size_t base = 0;  // IOAS and stage 2: not the vSMMU's
  world() {
    d1 = h.add(1, 0x10);
    d2 = h.add(2, 0x20);
    base = h.k.live_objects();
    h.stes[0x100] = s1_ste(0x1000);
    h.stes[0x200] = s1_ste(0x2000);
  }
  [[nodiscard]] bool consistent() const { return h.k.live_objects() == base + v.objects(); }
};

struct snapshot {
  std::vector<std::optional<vsmmu_t::device_state>> devs;
  std::vector<K::object_id> host_attached;
  K::object_id viommu = 0;
  std::size_t objects = 0;
  std::size_t live = 0;
  bool operator==(const snapshot& o) const {
    if (devs.size() != o.devs.size()) return false;
    for (std::size_t i = 0; i < devs.size(); ++i) {
      if (devs[i].has_value() != o.devs[i].has_value()) return false;
      if (devs[i] && (devs[i]->attached != o.devs[i]->attached ||
                      devs[i]->vdevice != o.devs[i]->vdevice || devs[i]->sid != o.devs[i]->sid))
        return false;
    }
    return host_attached == o.host_attached && viommu == o.viommu && objects == o.objects &&
           live == o.live;
  }
};

snapshot take(const world& w) {
  snapshot s;
  for (auto d : {w.d1, w.d2}) {
    s.devs.push_back(w.v.device_info(d));
    s.host_attached.push_back(w.h.k.attached_hwpt(d));
  }
  s.viommu = w.v.viommu_id();
  s.objects = w.v.objects();
  s.live = w.h.k.live_objects();
  return s;
}

using setup_fn = std::function<void(world&)>;
using op_fn = std::function<bool(world&)>;  // true: the operation reported success

// Runs `op` once to count its calls, then once per call with that call failing. With
// `per_device` (SMMUEN, GBPA, reset: every device is tried, as in the seed) a failure leaves each
// device either as it was or as a clean run leaves it, never in between.
void inject_everywhere(const char* name, const setup_fn& setup, const op_fn& op,
                       bool per_device = false) {
  std::uint64_t n = 0;
  snapshot done;
  {
    auto w = std::make_unique<world>();
    setup(*w);
    const std::uint64_t c0 = w->h.k.calls();
    REQUIRE(op(*w));
    n = w->h.k.calls() - c0;
    REQUIRE(w->consistent());
    done = take(*w);
  }
  REQUIRE(n > 0);
  for (std::uint64_t i = 1; i <= n; ++i) {
    INFO(name << ": call " << i << " of " << n << " fails");
    auto w = std::make_unique<world>();
    setup(*w);
    const snapshot before = take(*w);
    w->h.k.fail_call(w->h.k.calls() + i, EIO);
    const bool ok = op(*w);
    CHECK(w->consistent());
    if (!ok && per_device) {
      const snapshot now = take(*w);
      for (std::size_t d = 0; d < now.devs.size(); ++d) {
        const bool as_before = now.host_attached[d] == before.host_attached[d];
        const bool as_done =
            now.host_attached[d] == done.host_attached[d] ||
            (now.devs[d] && done.devs[d] &&
             w->v.kind_of(now.host_attached[d]) == w->v.kind_of(done.host_attached[d]));
        CHECK((as_before || as_done));
        CHECK(now.devs[d]->attached == now.host_attached[d]);
      }
    } else if (!ok) {
      CHECK(take(*w) == before);
    } else {
      // Only a destroy after the point of no return may fail here: retried, then all is as
      // after a clean run.
      w->v.retry_destroys();
      CHECK(w->v.pending_destroys() == 0);
      CHECK(take(*w) == done);
    }
    CHECK(w->consistent());
  }
}

void nothing(world&) {}
void one_bound(world& w) { REQUIRE(w.v.attach_device(w.h.desc(w.d1, 0x100, 0, 1)).ok()); }
void two_bound_enabled(world& w) {
  one_bound(w);
  REQUIRE(w.v.attach_device(w.h.desc(w.d2, 0x200, 0, 2)).ok());
  REQUIRE(w.v.set_smmuen(true, w.h.source()).ok());
}

}  // namespace

TEST_CASE("accel fault injection: bind (first device, vIOMMU creation)", "[accel]") {
  inject_everywhere("bind first", nothing,
                    [](world& w) { return w.v.attach_device(w.h.desc(w.d1, 0x100, 0, 1)).ok(); });
}

TEST_CASE("accel fault injection: bind (joining a live vIOMMU with a translate STE)", "[accel]") {
  inject_everywhere(
      "bind join",
      [](world& w) {
        one_bound(w);
        REQUIRE(w.v.set_smmuen(true, w.h.source()).ok());
      },
      [](world& w) { return w.v.attach_device(w.h.desc(w.d2, 0x200, 0, 2), w.h.source()).ok(); });
}

TEST_CASE("accel fault injection: install (translate to translate)", "[accel]") {
  inject_everywhere("install", two_bound_enabled, [](world& w) {
    w.h.stes[0x100] = s1_ste(0x7000);
    const std::vector<vsmmu::queue::command> c{cfgi_ste(0x100), cmd_sync()};
    return w.v.forward(c, w.h.source()).ok();
  });
}

TEST_CASE("accel fault injection: install (SMMUEN toggles every device)", "[accel]") {
  inject_everywhere(
      "smmuen", two_bound_enabled,
      [](world& w) { return w.v.set_smmuen(false, w.h.source()).ok(); }, true);
}

TEST_CASE("accel fault injection: invalidate", "[accel]") {
  inject_everywhere("invalidate", two_bound_enabled, [](world& w) {
    const std::vector<vsmmu::queue::command> c{tlbi_asid(1), cfgi_cd(0x100), cmd_sync(),
                                               tlbi_asid(2), cmd_sync()};
    return w.v.forward(c, w.h.source()).ok();
  });
}

TEST_CASE("accel fault injection: unbind (not the last device)", "[accel]") {
  inject_everywhere("unbind", two_bound_enabled,
                    [](world& w) { return w.v.detach_device(w.d1).ok(); });
}

TEST_CASE("accel fault injection: unbind (the last device takes the vIOMMU)", "[accel]") {
  inject_everywhere(
      "unbind last",
      [](world& w) {
        two_bound_enabled(w);
        REQUIRE(w.v.detach_device(w.d2).ok());
      },
      [](world& w) { return w.v.detach_device(w.d1).ok(); });
}
