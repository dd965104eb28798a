// translate() end to end through a guest driver that programs the device as Linux does, the
// Stream table size against SIDSIZE, and save/restore.

#include <catch2/catch.hpp>

#include <vsmmu/smmuv3/events.hpp>

#include <vector>

#include "fixture.hpp"
#include <guest_driver.hpp>

namespace {

using namespace fx;
namespace E = vsmmu::smmuv3::evt;
using vsmmu::walk::access_kind;
using vsmmu::walk::outcome;

constexpr std::uint64_t pool = 0x4000'0000;
constexpr std::uint32_t sid = 0x10;
constexpr std::uint16_t asid = 1;
constexpr std::uint64_t iova = 0x1000'0000;
constexpr std::uint64_t pa = 0x8000'0000;

template <class B>
using driver = demo::guest_driver<typename B::device_type, sparse_memory>;

// A device brought up by the driver, SID 0x10 attached with 4 pages mapped at iova.
template <class B>
std::unique_ptr<driver<B>> bring_up(B& b) {
  auto d = std::make_unique<driver<B>>(b.dev, b.mem, pool, 0x100'0000);
  d->probe();
  d->allocate(6, 5);
  d->enable();
  d->attach(sid, asid);
  for (std::uint64_t p = 0; p < 4; ++p) d->map(iova + p * 0x1000, pa + p * 0x1000);
  d->submit(vsmmu::smmuv3::cmd::make<vsmmu::smmuv3::cmd::cfgi_ste::layout>()
                .set<vsmmu::smmuv3::cmd::StreamID>(sid)
                .set<vsmmu::smmuv3::cmd::Leaf>(true)
                .words());
  REQUIRE(d->sync());
  return d;
}

}  // namespace

TEST_CASE("a guest driver's probe, DMA, unmap and the F_TRANSLATION event") {
  auto b = make_bench();
  auto d = bring_up(*b);
  CHECK(b->read32(R::cr0ack::offset) == 0xd);
  CHECK(b->read32(R::gerror::offset) == 0);
  CHECK(d->command_error() == 0);

  const auto r = b->dev.translate(sid, std::nullopt, iova + 0x1234, access_kind::write);
  REQUIRE(r.kind == outcome::translated);
  CHECK(r.output_address() == pa + 0x1234);
  CHECK(r.xlat.asid == asid);

  d->unmap(iova + 0x1000);
  d->submit(vsmmu::smmuv3::cmd::make<vsmmu::smmuv3::cmd::tlbi_nh_va::layout>()
                .set<vsmmu::smmuv3::cmd::ASID>(asid)
                .set<vsmmu::smmuv3::cmd::Address>(iova + 0x1000)
                .words());
  REQUIRE(d->sync());
  const auto f = b->dev.translate(sid, std::nullopt, iova + 0x1008, access_kind::read);
  CHECK(f.kind == outcome::fault);
  const auto events = d->read_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == E::type::f_translation);
  const auto ev = events[0].as<E::f_translation::layout>();
  CHECK(ev.get<E::StreamID>() == sid);
  CHECK(ev.get<E::InputAddr>() == iova + 0x1008);
  CHECK(ev.get<E::RnW>());
  // Other pages still translate.
  CHECK(b->dev.translate(sid, std::nullopt, iova + 0x2000, access_kind::read).output_address() ==
        pa + 0x2000);
}

TEST_CASE(
    "translations are cached until the guest invalidates them, and the platform hears of it") {
  auto b = make_bench();
  auto d = bring_up(*b);
  REQUIRE(b->dev.translate(sid, std::nullopt, iova, access_kind::read).output_address() == pa);
  d->unmap(iova);
  // No invalidation yet: the IOTLB still holds the page (§4.4: software must invalidate).
  CHECK(b->dev.translate(sid, std::nullopt, iova, access_kind::read).output_address() == pa);
  b->platform.iotlb.clear();
  d->submit(vsmmu::smmuv3::cmd::make<vsmmu::smmuv3::cmd::tlbi_nh_asid::layout>()
                .set<vsmmu::smmuv3::cmd::ASID>(asid)
                .words());
  REQUIRE(d->sync());
  REQUIRE(b->platform.iotlb.size() == 1);
  CHECK(b->platform.iotlb[0].scope == vsmmu::engine::tlbi_scope::nh_asid);
  CHECK(b->platform.iotlb[0].asid == asid);
  CHECK(b->dev.translate(sid, std::nullopt, iova, access_kind::read).kind == outcome::fault);
  // The configuration invalidations of bring-up reached the platform too.
  CHECK_FALSE(b->platform.config.empty());

  // Caching off gives the same answers.
  b->dev.translation_engine().set_caching(false);
  CHECK(b->dev.translate(sid, std::nullopt, iova, access_kind::read).kind == outcome::fault);
  CHECK(b->dev.translate(sid, std::nullopt, iova + 0x1000, access_kind::read).output_address() ==
        pa + 0x1000);
}

TEST_CASE("STRTAB_BASE_CFG.LOG2SIZE reads back as written, and is used capped at SIDSIZE") {
  using narrow = vd::config<vd::features{.sidsize = 8}>;
  auto b = make_bench<narrow>();
  b->mem.map(0x40000, 0x10000);
  b->mem.map(0x60000, 0x1000);
  b->dev.write(R::strtab_base::offset, 8, 0x40000);
  b->write32(R::strtab_base_cfg::offset, 12);  // linear, 4096 STEs claimed
  CHECK(b->read32(R::strtab_base_cfg::offset) == 12);
  b->dev.write(R::eventq_base::offset, 8, 0x60000 | 3);
  b->write32(R::cr2::offset, 0x2);
  b->write32(R::cr0::offset, 0x5);
  // StreamID 0x100 is inside LOG2SIZE but beyond SIDSIZE: C_BAD_STREAMID, no STE fetched.
  const auto r = b->dev.translate(0x100, std::nullopt, 0, access_kind::read);
  CHECK(r.event.type() == E::type::c_bad_streamid);
  // StreamID 0xff is in range: its STE is all zeros, V == 0: C_BAD_STE.
  CHECK(b->dev.translate(0xff, std::nullopt, 0, access_kind::read).event.type() ==
        E::type::c_bad_ste);
}

TEST_CASE("a restored device behaves like the original") {
  auto a = make_bench();
  auto d = bring_up(*a);
  // Some history: an event waiting in the queue, a command error acknowledged.
  a->dev.translate(sid, std::nullopt, 0xdead'0000, access_kind::read);
  const auto blob = a->dev.save();

  // The same guest memory on another host: a copy of the pages, a new device.
  fx::bench<> b_store;
  auto& b = b_store;
  for (std::uint64_t page = pool; page < pool + 0x10'0000; page += 0x1000) {
    if (!a->mem.mapped(page)) continue;
    b.mem.map(page, 0x1000);
    for (std::uint64_t o = 0; o < 0x1000; o += 8)
      (void)b.mem.write64(page + o, a->mem.read64(page + o).value);
  }
  REQUIRE(b.dev.restore(blob) == vd::restore_status::ok);
  CHECK(b.dev.registers() == a->dev.registers());
  for (const auto& r : vsmmu::smmuv3::register_catalog) {
    CAPTURE(r.name);
    const auto at = vsmmu::smmuv3::absolute_offset(r);
    CHECK(b.dev.read(at, 4) == a->dev.read(at, 4));
  }

  // The same transactions give the same results and the same events in the same places.
  const std::vector<std::pair<std::uint32_t, std::uint64_t>> traffic{
      {sid, iova}, {sid, iova + 0x3ff8}, {sid, iova + 0x8000}, {0x11, iova}, {0xffff, 0}};
  for (const auto& [s, addr] : traffic) {
    const auto ra = a->dev.translate(s, std::nullopt, addr, access_kind::write);
    const auto rb = b.dev.translate(s, std::nullopt, addr, access_kind::write);
    CHECK(ra.kind == rb.kind);
    CHECK(ra.output_address() == rb.output_address());
    CHECK(ra.event == rb.event);
  }
  CHECK(b.dev.registers() == a->dev.registers());
  // And the restored device goes on consuming commands where the original does.
  const auto tlbi = vsmmu::smmuv3::cmd::make<vsmmu::smmuv3::cmd::tlbi_nsnh_all::layout>().words();
  const std::uint32_t mask = (2U << d->cmdq_log2()) - 1;
  const std::uint32_t prod = a->read32(R::cmdq_prod::offset) & mask;
  REQUIRE(prod == (b.read32(R::cmdq_prod::offset) & mask));
  const std::uint64_t at = d->cmdq() + 16 * std::uint64_t{prod & (mask >> 1)};
  for (auto* m : {&a->mem, &b.mem}) {
    (void)m->write64(at, tlbi[0]);
    (void)m->write64(at + 8, tlbi[1]);
  }
  a->write32(R::cmdq_prod::offset, (prod + 1) & mask);
  b.write32(R::cmdq_prod::offset, (prod + 1) & mask);
  CHECK(a->read32(R::cmdq_cons::offset) == ((prod + 1) & mask));
  CHECK(b.dev.registers() == a->dev.registers());
}

TEST_CASE("restore refuses what it cannot trust") {
  auto a = make_bench();
  a->write32(R::cr1::offset, 0x3);
  const auto blob = a->dev.save();
  auto b = make_bench();
  b->write32(R::cr1::offset, 0x5);

  auto bad = blob;
  bad[0] = std::byte{'x'};
  CHECK(b->dev.restore(bad) == vd::restore_status::bad_magic);
  bad = blob;
  bad[8] = std::byte{2};
  CHECK(b->dev.restore(bad) == vd::restore_status::unsupported_version);
  bad = blob;
  bad[12] = std::byte{3};
  CHECK(b->dev.restore(bad) == vd::restore_status::bad_state_size);
  CHECK(b->dev.restore(std::span<const std::byte>(blob).first(20)) ==
        vd::restore_status::too_short);
  CHECK(b->dev.restore(std::span<const std::byte>(blob).first(vd::snapshot_size - 1)) ==
        vd::restore_status::too_short);
  bad = blob;
  bad[vd::snapshot_header_bytes + 4] = std::byte{1};  // CR0 wider than 32 bits
  CHECK(b->dev.restore(bad) == vd::restore_status::invalid_value);
  CHECK(b->read32(R::cr1::offset) == 0x5);  // nothing was applied

  using other = vd::config<vd::features{.ats = true}>;
  auto c = make_bench<other>();
  CHECK(c->dev.restore(blob) == vd::restore_status::feature_mismatch);

  // RES0 bits in a blob are dropped, not restored.
  bad = blob;
  bad[vd::snapshot_header_bytes] = std::byte{0xff};  // CR0 = 0xff
  REQUIRE(b->dev.restore(bad) == vd::restore_status::ok);
  CHECK(b->read32(R::cr0::offset) == 0xd);
  CHECK(b->read32(R::cr1::offset) == 0x3);
}

TEST_CASE("the driver skips CMD_TLBI_EL2_ALL without IDR0.Hyp, which would be ILLEGAL") {
  using no_hyp = vd::config<vd::features{.hyp = false}>;
  auto b = make_bench<no_hyp>();
  auto d = bring_up(*b);
  CHECK(b->read32(R::gerror::offset) == 0);
  CHECK(d->command_error() == 0);
  CHECK(b->dev.translate(sid, std::nullopt, iova, access_kind::read).output_address() == pa);
  // Issued anyway, it stops the queue with CERROR_ILL.
  d->submit(vsmmu::smmuv3::cmd::make<vsmmu::smmuv3::cmd::tlbi_el2_all::layout>().words());
  CHECK(d->command_error() == static_cast<std::uint8_t>(vsmmu::smmuv3::cerror::ill));
  CHECK(b->read32(R::gerror::offset) == 1);
}
