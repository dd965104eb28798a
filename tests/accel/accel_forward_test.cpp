// Invalidation forwarding against the simulated kernel (seed patches 19, 30; "Test cases
// implied" 28-39 of patches 16-37): what is sent, batching until CMD_SYNC or the batch limit,
// pre-validation, the partial count k and the re-submission of what the kernel dropped.
#include <catch2/catch.hpp>

#include <cerrno>

#include "accel/accel_fixture.hpp"

using namespace accel_test;
using K::operation;
using vsmmu::smmuv3::cerror;

namespace {

struct bound {
  host h;
  K::device_id dev = 0;
  K::device_id dev2 = 0;
  vsmmu_t v;
  explicit bound(A::accel_config cfg = {}, bool ats = false) : v(h.k, cfg) {
    dev = h.add(1, 0x10, 0, ats);
    dev2 = h.add(2, 0x20, 0, ats);
    auto d = h.desc(dev, 0x0308, 0, 1);
    d.host.ats = A::on_off_auto::automatic;
    d.host.has_ats_capability = ats;
    REQUIRE(v.attach_device(d).ok());
    REQUIRE(v.attach_device(h.desc(dev2, std::nullopt, 0, 2)).ok());
    h.k.clear_issued();
  }
  A::forward_result run(const std::vector<vsmmu::queue::command>& c) {
    return v.forward(c, h.source());
  }
  std::size_t invalidates_since(std::size_t t0) const {
    std::size_t n = 0;
    for (auto op : h.ops_since(t0)) n += op == operation::invalidate ? 1 : 0;
    return n;
  }
};

}  // namespace

TEST_CASE("accel forward: without a vIOMMU nothing is sent (28)", "[accel]") {
  host h;
  vsmmu_t v(h.k);
  const std::vector<vsmmu::queue::command> c{tlbi_asid(5), cmd_sync()};
  const auto r = v.forward(c);
  CHECK(r.ok());
  CHECK(r.consumed == 2);
  CHECK(h.k.trace().size() == 1);  // the fixture's IOAS
}

TEST_CASE("accel forward: one TLBI_NH_ASID, little-endian, VMID rewritten (29, 30)", "[accel]") {
  bound b;
  const std::size_t t0 = b.h.k.trace().size();
  const auto r = b.run({tlbi_asid(5), cmd_sync()});
  CHECK(r.ok());
  CHECK(r.consumed == 2);
  REQUIRE(
      b.h.calls_since(t0) ==
      std::vector<std::string>{"IOMMU_HWPT_INVALIDATE(viommu=" + std::to_string(b.v.viommu_id()) +
                               ", type=ARM_SMMUV3, entry_len=16, entries=1) = 1"});
  REQUIRE(b.h.k.issued().size() == 1);
  const auto& cmd = b.h.k.issued()[0].commands.at(0);
  CHECK((cmd.cmd[0] & 0xff) == 0x11);
  CHECK((cmd.cmd[0] >> 48) == 5);  // ASID kept, VMID the vIOMMU's
  CHECK(((cmd.cmd[0] >> 32) & 0xffff) == b.h.k.vmid_of(b.v.viommu_id()));

  b.h.k.clear_issued();
  const std::vector<vsmmu::queue::command> all{{C::make<C::tlbi_nh_all::layout>().words()},
                                               {C::make<C::tlbi_nsnh_all::layout>().words()},
                                               {C::make<C::tlbi_nh_va::layout>().words()},
                                               {C::make<C::tlbi_nh_vaa::layout>().words()},
                                               cmd_sync()};
  REQUIRE(b.run(all).ok());
  REQUIRE(b.h.k.issued().size() == 1);
  CHECK(b.h.k.issued()[0].commands.size() == 4);  // one call for the four (batched to SYNC)
}

TEST_CASE("accel forward: SID-scoped commands only with a vDEVICE (32, 33, 34)", "[accel]") {
  bound b;
  std::size_t t0 = b.h.k.trace().size();
  // 0x308 has a vDEVICE; dev2 has no StreamID yet; 0x999 is nobody.
  REQUIRE(b.run({cfgi_cd(0x308),
                 cfgi_cd(0x999),
                 {C::make<C::cfgi_cd_all::layout>().with<C::StreamID>(0x308).words()},
                 cmd_sync()})
              .ok());
  CHECK(b.invalidates_since(t0) == 1);
  REQUIRE(b.h.k.issued().size() == 1);
  CHECK(b.h.k.issued()[0].commands.size() == 2);
  CHECK((b.h.k.issued()[0].commands[0].cmd[0] >> 32) == 0x10);  // vSID 0x308 -> pSID 0x10

  // SSec set: CERROR_ILL at it, nothing sent, the TLBI before it is.
  auto ssec = cfgi_cd(0x308);
  ssec.words[0] |= 1U << 10;
  b.h.k.clear_issued();
  t0 = b.h.k.trace().size();
  const auto r = b.run({tlbi_asid(1), ssec, cmd_sync()});
  CHECK(r.error == cerror::ill);
  CHECK(r.consumed == 1);
  CHECK(b.invalidates_since(t0) == 1);
  CHECK(b.h.k.issued().at(0).commands.size() == 1);

  // CFGI_STE and local-only commands never reach IOMMU_HWPT_INVALIDATE.
  t0 = b.h.k.trace().size();
  REQUIRE(b.run({cfgi_ste(0x308),
                 {C::make<C::tlbi_s12_vmall::layout>().words()},
                 {C::make<C::tlbi_s2_ipa::layout>().words()},
                 {C::make<C::tlbi_el2_all::layout>().words()},
                 {C::make<C::pri_resp::layout>().words()},
                 {C::make<C::resume::layout>().words()},
                 {C::make<C::stall_term::layout>().words()},
                 cmd_sync()})
              .ok());
  CHECK(b.invalidates_since(t0) == 0);
}

TEST_CASE("accel forward: ATC_INV only with ATS on the vSMMU and the device (37)", "[accel]") {
  {
    bound b;  // ats=off
    const std::size_t t0 = b.h.k.trace().size();
    REQUIRE(b.run({atc_inv(0x308), cmd_sync()}).ok());
    CHECK(b.invalidates_since(t0) == 0);
  }
  A::accel_config cfg;
  cfg.props.ats = A::on_off_auto::on;
  bound b(cfg, true);
  const std::size_t t0 = b.h.k.trace().size();
  REQUIRE(b.run({atc_inv(0x308), atc_inv(0x999), cmd_sync()}).ok());
  CHECK(b.invalidates_since(t0) == 1);
  CHECK(b.h.k.issued().at(0).commands.size() == 1);
}

TEST_CASE("accel forward: batches end at CMD_SYNC and at the batch limit", "[accel]") {
  A::accel_config cfg;
  cfg.max_batch = 4;
  bound b(cfg);
  std::vector<vsmmu::queue::command> c;
  for (int i = 0; i < 10; ++i) c.push_back(tlbi_asid(static_cast<std::uint16_t>(i)));
  c.push_back(cmd_sync());
  c.push_back(tlbi_asid(99));
  c.push_back(cmd_sync());
  const std::size_t t0 = b.h.k.trace().size();
  REQUIRE(b.run(c).ok());
  CHECK(b.invalidates_since(t0) == 4);  // 4 + 4 + 2, then 1
  CHECK(b.v.forwarded_commands() == 11);
  // Commands without a trailing CMD_SYNC are still sent before CONS passes them.
  const std::size_t t1 = b.h.k.trace().size();
  REQUIRE(b.run({tlbi_asid(1)}).ok());
  CHECK(b.invalidates_since(t1) == 1);
}

TEST_CASE("accel forward: a failure at the 3rd of 5 is CERROR_ILL there (38)", "[accel]") {
  bound b;
  b.h.k.fail_operation(operation::invalidate, EIO);
  const auto r = b.run({tlbi_asid(1), tlbi_asid(2), tlbi_asid(3), tlbi_asid(4), tlbi_asid(5)});
  // The whole call failed with nothing handled: CONS stays at the first command of the batch.
  CHECK(r.error == cerror::ill);
  CHECK(r.consumed == 0);
  CHECK(r.host.code == EIO);

  // A vSID the kernel no longer knows (its vDEVICE destroyed behind the vSMMU's back) fails
  // conversion at entry 2: the kernel reports 2 handled but issued none of them.
  REQUIRE(b.h.k.destroy(b.h.k.vdevice_of(b.dev)).ok());
  b.h.k.clear_issued();
  const auto p = b.run({tlbi_asid(1), tlbi_asid(2), cfgi_cd(0x308), tlbi_asid(4), tlbi_asid(5)});
  CHECK(p.error == cerror::ill);
  CHECK(p.consumed == 2);
  // Re-submitted: commands 0 and 1 really reached the command queue, exactly once.
  REQUIRE(b.h.k.issued().size() == 1);
  CHECK(b.h.k.issued()[0].commands.size() == 2);
}

TEST_CASE("accel forward: re-submission after the kernel's 63-entry batches", "[accel]") {
  bound b;
  REQUIRE(b.h.k.destroy(b.h.k.vdevice_of(b.dev)).ok());
  std::vector<vsmmu::queue::command> c;
  for (int i = 0; i < 70; ++i) c.push_back(tlbi_asid(static_cast<std::uint16_t>(i)));
  c[65] = cfgi_cd(0x308);
  c.push_back(cmd_sync());
  b.h.k.clear_issued();
  const auto r = b.run(c);
  CHECK(r.error == cerror::ill);
  CHECK(r.consumed == 65);
  // Entries 0-62 went out in the kernel's first batch; 63 and 64 were dropped and re-sent.
  std::size_t issued = 0;
  for (const auto& batch : b.h.k.issued()) issued += batch.commands.size();
  CHECK(issued == 65);
}

TEST_CASE("accel forward: an ATC timeout is CERROR_ATC_INV_SYNC (39)", "[accel]") {
  A::accel_config cfg;
  cfg.props.ats = A::on_off_auto::on;
  bound b(cfg, true);
  b.h.k.fail_cmdq_batch(b.h.k.issued_batch_count() + 1, ETIMEDOUT);
  const auto r = b.run({tlbi_asid(1), tlbi_asid(2), atc_inv(0x308), cmd_sync()});
  CHECK(r.error == cerror::atc_inv_sync);
  CHECK(r.consumed == 2);
  CHECK(r.host.code == ETIMEDOUT);
}

TEST_CASE("accel forward: after the error the guest fixes the queue and goes on (38)", "[accel]") {
  bound b;
  auto ssec = cfgi_cd(0x308);
  ssec.words[0] |= 1U << 10;
  std::vector<vsmmu::queue::command> q{tlbi_asid(1), ssec, tlbi_asid(3), cmd_sync()};
  const auto r = b.run(q);
  REQUIRE(r.error == cerror::ill);
  REQUIRE(r.consumed == 1);
  // The guest's driver replaces the bad entry with CMD_SYNC and acknowledges GERROR; the
  // consumer resumes at CONS.
  q[1] = cmd_sync();
  const std::size_t t0 = b.h.k.trace().size();
  const auto again = b.run({q.begin() + 1, q.end()});
  CHECK(again.ok());
  CHECK(again.consumed == 3);
  CHECK(b.invalidates_since(t0) == 1);
}
