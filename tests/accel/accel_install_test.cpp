// STE install against the simulated kernel (seed patch 14; "Test cases implied" 30-41 of
// patches 01-15): lazy vDEVICEs, proxies, nested HWPTs with the kernel's masks,
// make-before-break, ranges, renumbering.
#include <catch2/catch.hpp>

#include <cerrno>

#include "accel/accel_fixture.hpp"

using namespace accel_test;
using K::operation;
using vsmmu::smmuv3::cerror;
using vsmmu::smmuv3::ste_config;

namespace {

struct bound {
  host h;
  K::device_id dev = 0;
  std::size_t start = 0;
  vsmmu_t v{h.k};
  explicit bound(std::optional<std::uint32_t> sid = 0x0308) {
    dev = h.add(1, 0x10);
    start = h.k.live_objects();
    REQUIRE(v.attach_device(h.desc(dev, sid, 0, 1), h.source()).ok());
  }
  A::forward_result run(std::initializer_list<vsmmu::queue::command> cmds) {
    const std::vector<vsmmu::queue::command> c(cmds);
    return v.forward(c, h.source());
  }
  bool consistent() const { return h.k.live_objects() == start + v.objects(); }
};

}  // namespace

TEST_CASE("accel install: SMMUEN = 0, the vDEVICE is made once (30)", "[accel]") {
  bound b(std::nullopt);  // cold plug before enumeration: no StreamID yet
  CHECK(b.h.k.vdevice_of(b.dev) == K::no_object);
  REQUIRE(b.v.set_stream_id(b.dev, 0x0308));
  const std::size_t t0 = b.h.k.trace().size();
  REQUIRE(b.run({cfgi_ste(0x0308), cmd_sync()}).ok());
  const auto calls = b.h.calls_since(t0);
  REQUIRE(calls.size() == 1);  // already on the GBPA proxy: no attach
  CHECK(calls[0].find("IOMMU_VDEVICE_ALLOC(viommu=" + std::to_string(b.v.viommu_id()) +
                      ", dev=" + std::to_string(b.dev) + ", virt_id=0x308)") == 0);
  const std::size_t t1 = b.h.k.trace().size();
  REQUIRE(b.run({cfgi_ste(0x0308), cmd_sync()}).ok());
  CHECK(b.h.k.trace().size() == t1);
}

TEST_CASE("accel install: SMMUEN = 1, V = 0, abort, bypass (31), unfetchable STE (37)", "[accel]") {
  bound b;
  (void)b.v.set_smmuen(true, b.h.source());  // no STE yet: abort proxy
  CHECK(b.h.k.attached_hwpt(b.dev) == b.v.abort_hwpt());
  b.h.stes[0x308] = config_ste(ste_config::bypass);
  REQUIRE(b.run({cfgi_ste(0x308)}).ok());
  CHECK(b.h.k.attached_hwpt(b.dev) == b.v.bypass_hwpt());
  b.h.stes[0x308] = config_ste(ste_config::bypass, false);
  REQUIRE(b.run({cfgi_ste(0x308)}).ok());
  CHECK(b.h.k.attached_hwpt(b.dev) == b.v.abort_hwpt());
  b.h.stes[0x308] = config_ste(ste_config{2});
  REQUIRE(b.v.install_ste(0x308, config_ste(ste_config::bypass)).ok());
  REQUIRE(b.run({cfgi_ste(0x308)}).ok());
  CHECK(b.h.k.attached_hwpt(b.dev) == b.v.abort_hwpt());
  // The seed installs nothing when the STE cannot be fetched; the device would keep bypassing.
  REQUIRE(b.v.install_ste(0x308, config_ste(ste_config::bypass)).ok());
  b.h.stes.erase(0x308);
  REQUIRE(b.run({cfgi_ste(0x308)}).ok());
  CHECK(b.h.k.attached_hwpt(b.dev) == b.v.abort_hwpt());
  CHECK(b.consistent());
}

TEST_CASE("accel install: stage 1 goes to a nested HWPT the kernel accepts (32)", "[accel]") {
  bound b;
  (void)b.v.set_smmuen(true, b.h.source());
  A::ste_words w = s1_ste(0x0000'0812'3456'7000);
  w[1] |= 0xffff'ffff'0000'0000ULL;  // STRW, SHCFG, MemAttr...: never sent
  w[2] = 0xdead'beef;                // stage-2 words: never sent
  b.h.stes[0x308] = w;
  const std::size_t t0 = b.h.k.trace().size();
  REQUIRE(b.run({cfgi_ste(0x308), cmd_sync()}).ok());
  const auto& tr = b.h.k.trace();
  REQUIRE(tr.size() == t0 + 2);
  CHECK(tr[t0].op == operation::alloc_nested_hwpt);
  CHECK(tr[t0].args[3] == (w[0] & A::nested_ste0_mask));
  CHECK(tr[t0].args[4] == (w[1] & A::nested_ste1_mask & ~(3ULL << 28)));
  CHECK(tr[t0 + 1].op == operation::attach);
  const auto ste = b.h.k.ste_of(b.dev);
  CHECK(ste.kind == K::ste_kind::nested);
  CHECK((ste.dwords[0] & 0x000f'ffff'ffff'ffc0ULL) == 0x0812'3456'7000ULL);
}

TEST_CASE("accel install: ILLEGAL STEs abort, never CERROR (33, the seed differs)", "[accel]") {
  bound b;
  (void)b.v.set_smmuen(true, b.h.source());
  for (auto c : {ste_config::s2_trans, ste_config::nested}) {
    b.h.stes[0x308] = config_ste(c);
    const auto r = b.run({cfgi_ste(0x308)});
    CHECK(r.ok());
    CHECK(r.consumed == 1);
    CHECK(b.h.k.attached_hwpt(b.dev) == b.v.abort_hwpt());
    CHECK(b.h.k.vdevice_of(b.dev) != K::no_object);
  }
  // A context pointer beyond the vSMMU's 44-bit OAS (the seed sends [55:52] and gets EIO).
  b.h.stes[0x308] = s1_ste(0x00f0'0000'0000'0040ULL);
  CHECK(b.run({cfgi_ste(0x308)}).ok());
  CHECK(b.h.k.attached_hwpt(b.dev) == b.v.abort_hwpt());
}

TEST_CASE("accel install: make-before-break (34) and a failed attach keeps the old (35)",
          "[accel]") {
  bound b;
  (void)b.v.set_smmuen(true, b.h.source());
  b.h.stes[0x308] = s1_ste(0x1000);
  REQUIRE(b.run({cfgi_ste(0x308)}).ok());
  const auto t1 = b.h.k.attached_hwpt(b.dev);
  b.h.stes[0x308] = s1_ste(0x2000);
  std::size_t t0 = b.h.k.trace().size();
  REQUIRE(b.run({cfgi_ste(0x308)}).ok());
  const auto t2 = b.h.k.attached_hwpt(b.dev);
  CHECK(b.h.ops_since(t0) == std::vector<operation>{operation::alloc_nested_hwpt, operation::attach,
                                                    operation::destroy});
  CHECK(b.h.k.trace().back().args[0] == t1);

  // Attach fails: the new HWPT is destroyed, the device stays on T2, CERROR_ILL at the command.
  b.h.stes[0x308] = s1_ste(0x3000);
  b.h.k.fail_operation(operation::attach, EINVAL);
  t0 = b.h.k.trace().size();
  const auto r = b.run({tlbi_asid(1), cfgi_ste(0x308), cmd_sync()});
  CHECK(r.error == cerror::ill);
  CHECK(r.consumed == 1);
  CHECK(r.host.code == EINVAL);
  CHECK(b.h.k.attached_hwpt(b.dev) == t2);
  CHECK(b.v.device_info(b.dev)->attached == t2);
  CHECK(b.consistent());

  // Translate -> abort: attach the proxy, then destroy the nested HWPT.
  b.h.stes[0x308] = config_ste(ste_config::abort);
  t0 = b.h.k.trace().size();
  REQUIRE(b.run({cfgi_ste(0x308)}).ok());
  CHECK(b.h.ops_since(t0) == std::vector<operation>{operation::attach, operation::destroy});
  CHECK(b.consistent());
}

TEST_CASE("accel install: vDEVICE failure is CERROR_ILL with nothing done (36)", "[accel]") {
  bound b(std::nullopt);
  REQUIRE(b.v.set_stream_id(b.dev, 0x308));
  b.h.stes[0x308] = s1_ste();
  (void)b.v.set_smmuen(true, b.h.source());  // vDEVICE made here; take it away again
  REQUIRE(b.v.detach_device(b.dev).ok());
  REQUIRE(b.v.attach_device(b.h.desc(b.dev, std::nullopt)).ok());
  REQUIRE(b.v.set_stream_id(b.dev, 0x308));
  b.h.k.fail_operation(operation::alloc_vdevice, ENOMEM);
  const std::size_t t0 = b.h.k.trace().size();
  const auto r = b.run({cfgi_ste(0x308)});
  CHECK(r.error == cerror::ill);
  CHECK(b.h.ops_since(t0) == std::vector<operation>{operation::alloc_vdevice});
  CHECK(b.consistent());
}

TEST_CASE("accel install: no device, or no vIOMMU: nothing (38)", "[accel]") {
  host h;
  vsmmu_t v(h.k);
  const std::vector<vsmmu::queue::command> c{cfgi_ste(0x100), cfgi_range(0, 31), cmd_sync()};
  CHECK(v.forward(c, h.source()).ok());
  CHECK(h.k.trace().size() == 1);  // the fixture's IOAS
  bound b;
  const std::size_t t0 = b.h.k.trace().size();
  CHECK(b.run({cfgi_ste(0x999)}).ok());
  CHECK(b.h.k.trace().size() == t0);
}

TEST_CASE("accel install: ranges and CFGI_ALL (39), a failure does not stop the rest (40)",
          "[accel]") {
  host h;
  const auto d1 = h.add(1, 0x10);
  const auto d2 = h.add(2, 0x20);
  vsmmu_t v(h.k);
  REQUIRE(v.attach_device(h.desc(d1, 0x0308, 0, 1)).ok());
  REQUIRE(v.attach_device(h.desc(d2, 0x0410, 0, 2)).ok());
  (void)v.set_smmuen(true, h.source());
  h.stes[0x308] = config_ste(ste_config::bypass);
  h.stes[0x410] = config_ste(ste_config::bypass);
  std::vector<vsmmu::queue::command> c{cfgi_range(0x0300, 7)};
  REQUIRE(v.forward(c, h.source()).ok());
  CHECK(h.k.attached_hwpt(d1) == v.bypass_hwpt());
  CHECK(h.k.attached_hwpt(d2) == v.abort_hwpt());
  c = {vsmmu::queue::command{C::make_cfgi_all().words()}};
  REQUIRE(v.forward(c, h.source()).ok());
  CHECK(h.k.attached_hwpt(d2) == v.bypass_hwpt());

  h.stes[0x308] = s1_ste();
  h.stes[0x410] = s1_ste(0x5000);
  h.k.fail_operation(operation::alloc_nested_hwpt, ENOMEM);
  const auto r = v.forward(c, h.source());
  CHECK(r.error == cerror::ill);
  CHECK(r.message.find("Failed to install all STEs properly") != std::string::npos);
  CHECK(h.k.attached_hwpt(d1) == v.bypass_hwpt());
  CHECK(v.kind_of(h.k.attached_hwpt(d2)) == A::hwpt_kind::nested);
}

TEST_CASE("accel install: renumbered buses re-create the vDEVICE (41)", "[accel]") {
  bound b;
  (void)b.v.set_smmuen(true, b.h.source());
  CHECK(b.v.device_info(b.dev)->vdevice_sid == 0x308);
  REQUIRE(b.v.set_stream_id(b.dev, 0x508));
  b.h.stes[0x508] = s1_ste();
  // Until the new StreamID's STE is installed, SID-scoped commands for it are not forwarded.
  REQUIRE(b.run({cfgi_ste(0x508)}).ok());
  CHECK(b.v.device_info(b.dev)->vdevice_sid == 0x508);
  CHECK(b.h.k.event_vsid(b.dev) == 0x508);
  CHECK(b.consistent());
}
