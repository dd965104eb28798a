// The device's translate(t, micro_tlb&) (device/smmu_device.hpp) through a guest driver that
// programs it as Linux does: answers repeated translations from the micro-TLB, keeps a stale
// page until the guest's TLBI reaches the Command queue, then records the fault in the Event
// queue as translate(t) does; a register write (SMMUEN off) ends its entries too.

#include <catch2/catch.hpp>

#include <vsmmu/engine/micro_tlb.hpp>
#include <vsmmu/smmuv3/events.hpp>

#include "device/fixture.hpp"
#include <guest_driver.hpp>

namespace {

using namespace fx;
namespace E = vsmmu::smmuv3::evt;
namespace cmd = vsmmu::smmuv3::cmd;
using vsmmu::walk::access_kind;
using vsmmu::walk::outcome;

constexpr std::uint64_t pool = 0x4000'0000;
constexpr std::uint32_t sid = 0x10;
constexpr std::uint16_t asid = 1;
constexpr std::uint64_t iova = 0x1000'0000;
constexpr std::uint64_t pa = 0x8000'0000;

vsmmu::walk::transaction txn(std::uint64_t address, access_kind a = access_kind::read) {
  vsmmu::walk::transaction t;
  t.sid = sid;
  t.address = address;
  t.access = a;
  return t;
}

}  // namespace

TEST_CASE("device: translate through a micro-TLB, a guest's unmap + TLBI, the fault's event",
          "[engine][micro_tlb][device]") {
  auto b = make_bench();
  using B = std::remove_reference_t<decltype(*b)>;
  demo::guest_driver<typename B::device_type, sparse_memory> d(b->dev, b->mem, pool, 0x100'0000);
  d.probe();
  d.allocate(6, 5);
  d.enable();
  d.attach(sid, asid);
  for (std::uint64_t p = 0; p < 4; ++p) d.map(iova + p * 0x1000, pa + p * 0x1000);
  REQUIRE(d.sync());

  vsmmu::engine::micro_tlb<8> u;
  CHECK(b->dev.translate(txn(iova + 0x1234, access_kind::write), u).output_address() ==
        pa + 0x1234);
  CHECK(b->dev.translate(txn(iova + 0x1238), u).output_address() == pa + 0x1238);
  CHECK(u.hits() == 1);

  // Unmapped, not yet invalidated: still answered (a TLB may hold it until the TLBI).
  d.unmap(iova + 0x1000);
  CHECK(b->dev.translate(txn(iova + 0x1008), u).output_address() == pa + 0x1008);
  CHECK(u.hits() == 2);
  d.submit(cmd::make<cmd::tlbi_nh_va::layout>()
               .set<cmd::ASID>(asid)
               .set<cmd::Address>(iova + 0x1000)
               .words());
  REQUIRE(d.sync());
  const auto f = b->dev.translate(txn(iova + 0x1008), u);
  CHECK(f.kind == outcome::fault);
  const auto events = d.read_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == E::type::f_translation);
  CHECK(events[0].as<E::f_translation::layout>().get<E::InputAddr>() == iova + 0x1008);
  // Other pages: filled, then answered.
  CHECK(b->dev.translate(txn(iova + 0x2000), u).output_address() == pa + 0x2000);
  CHECK(b->dev.translate(txn(iova + 0x2010), u).output_address() == pa + 0x2010);
  const auto hits = u.hits();
  CHECK(hits == 3);

  // SMMUEN off: a register write the engine sees ends every entry; GBPA decides now (the driver
  // leaves GBPA.ABORT set, so the transaction aborts, as without the micro-TLB).
  b->write32(R::cr0::offset, 0);
  REQUIRE(b->read32(R::cr0ack::offset) == 0);
  const auto off = b->dev.translate(txn(iova + 0x2010), u);
  CHECK(off.kind != outcome::translated);
  CHECK(off.kind == b->dev.translate(txn(iova + 0x2010)).kind);
  CHECK(u.hits() == hits);
}
