// SPDX-License-Identifier: BSL-1.0
// Command validation on the Non-secure queue (IHI 0070 §4.1.3, §4.1.5, §7.1).
#include <catch2/catch.hpp>

#include <vsmmu/queue/command_checks.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/features.hpp>

#include <cstdint>

#include "fixture.hpp"

namespace c = vsmmu::smmuv3::cmd;
namespace regs = vsmmu::smmuv3::regs;
using vsmmu::queue::command;
using vsmmu::queue::command_features;
using vsmmu::queue::validate;
using vsmmu::smmuv3::cerror;

using vsmmu::queue::test::everything;
using vsmmu::queue::test::legal;
using vsmmu::queue::test::plain;
using vsmmu::queue::test::to_command;

namespace {

command raw(std::uint64_t w0, std::uint64_t w1 = 0) { return command{{w0, w1}}; }

}  // namespace

TEST_CASE("command checks: default features are vsmmu's default ID registers", "[queue][checks]") {
  CHECK(command_features::from(vsmmu::smmuv3::default_id_registers) == command_features{});
  const auto r = vsmmu::smmuv3::default_id_registers.with<regs::idr0::ATS>(true)
                     .with<regs::idr3::RIL>(true)
                     .with<regs::idr0::STALL_MODEL>(regs::stall_model::stall_and_terminate)
                     .with<regs::idr0::Hyp>(false);
  const auto f = command_features::from(r);
  CHECK(f.ats);
  CHECK(f.ril);
  CHECK(f.stall);
  CHECK_FALSE(f.hyp);
}

TEST_CASE("command checks: every plain Non-secure command is legal with every feature",
          "[queue][checks]") {
  const auto f = everything();
  CHECK(legal(plain<c::prefetch_config::layout>(), f));
  CHECK(legal(plain<c::prefetch_addr::layout>(), f));
  CHECK(legal(plain<c::cfgi_ste::layout>(), f));
  CHECK(legal(plain<c::cfgi_ste_range::layout>(), f));
  CHECK(legal(to_command(c::make_cfgi_all()), f));
  CHECK(legal(plain<c::cfgi_cd::layout>(), f));
  CHECK(legal(plain<c::cfgi_cd_all::layout>(), f));
  CHECK(legal(plain<c::cfgi_vms_pidm::layout>(), f));
  CHECK(legal(plain<c::tlbi_nh_all::layout>(), f));
  CHECK(legal(plain<c::tlbi_nh_asid::layout>(), f));
  CHECK(legal(plain<c::tlbi_nh_va::layout>(), f));
  CHECK(legal(plain<c::tlbi_nh_vaa::layout>(), f));
  CHECK(legal(plain<c::tlbi_el2_all::layout>(), f));
  CHECK(legal(plain<c::tlbi_el2_asid::layout>(), f));
  CHECK(legal(plain<c::tlbi_el2_va::layout>(), f));
  CHECK(legal(plain<c::tlbi_el2_vaa::layout>(), f));
  CHECK(legal(plain<c::tlbi_s12_vmall::layout>(), f));
  CHECK(legal(plain<c::tlbi_s2_ipa::layout>(), f));
  CHECK(legal(plain<c::tlbi_nsnh_all::layout>(), f));
  CHECK(legal(plain<c::atc_inv::layout>(), f));
  CHECK(legal(plain<c::pri_resp::layout>(), f));
  CHECK(legal(plain<c::resume::layout>(), f));
  CHECK(legal(plain<c::stall_term::layout>(), f));
  CHECK(legal(plain<c::sync::layout>(), f));
  CHECK(legal(plain<c::dpti_all::layout>(), f));
  CHECK(legal(plain<c::dpti_pa::layout>(), f));
}

TEST_CASE("command checks: Reserved and IMPLEMENTATION DEFINED opcodes are CERROR_ILL",
          "[queue][checks]") {
  const auto f = everything();
  int architected = 0;
  for (unsigned op = 0; op < 256; ++op) {
    // An architected opcode with all-zero parameters is legal with every feature unless it is
    // a Secure-queue-only one; everything else is Reserved or IMPDEF.
    const bool known = vsmmu::smmuv3::find_command(static_cast<std::uint8_t>(op)) != nullptr;
    if (known) ++architected;
    if (!known) CHECK_FALSE(legal(raw(op), f));
  }
  CHECK(architected == 34);
  CHECK_FALSE(legal(raw(0x00), f));
  CHECK_FALSE(legal(raw(0x80), f));
  CHECK_FALSE(legal(raw(0x8f), f));
  CHECK_FALSE(legal(raw(0xff), f));
}

TEST_CASE("command checks: EL3 and Secure commands are CERROR_ILL on the Non-secure queue",
          "[queue][checks]") {
  const auto f = everything();
  CHECK_FALSE(legal(plain<c::tlbi_el3_all::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_el3_va::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_s_el2_all::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_s_el2_asid::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_s_el2_va::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_s_el2_vaa::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_s_s12_vmall::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_s_s2_ipa::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_snh_all::layout>(), f));
}

TEST_CASE("command checks: SSec == 1 is ILLEGAL on the Non-secure queue (§4.1.6)",
          "[queue][checks]") {
  CHECK_FALSE(legal(to_command(c::make<c::cfgi_ste::layout>().with<c::SSec>(true))));
  CHECK_FALSE(legal(to_command(c::make_cfgi_all(true))));
  CHECK_FALSE(legal(to_command(c::make<c::cfgi_cd::layout>().with<c::SSec>(true))));
  CHECK_FALSE(legal(to_command(c::make<c::prefetch_config::layout>().with<c::SSec>(true))));
  auto f = everything();
  CHECK_FALSE(legal(to_command(c::make<c::resume::layout>().with<c::SSec>(true)), f));
  CHECK_FALSE(legal(to_command(c::make<c::stall_term::layout>().with<c::SSec>(true)), f));
  CHECK_FALSE(legal(to_command(c::make<c::cfgi_vms_pidm::layout>().with<c::SSec>(true)), f));
}

TEST_CASE("command checks: commands the advertised features do not allow", "[queue][checks]") {
  command_features f;
  f.hyp = false;
  CHECK_FALSE(legal(plain<c::tlbi_el2_all::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_el2_asid::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_el2_va::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_el2_vaa::layout>(), f));
  CHECK(legal(plain<c::tlbi_nh_all::layout>(), f));

  f = {};
  f.s2p = false;  // stage 1 only
  CHECK_FALSE(legal(plain<c::tlbi_s2_ipa::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_s12_vmall::layout>(), f));
  CHECK(legal(plain<c::tlbi_nsnh_all::layout>(), f));

  f = {};
  f.s1p = false;  // stage 2 only
  f.hyp = false;
  CHECK_FALSE(legal(plain<c::tlbi_nh_all::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_nh_asid::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_nh_va::layout>(), f));
  CHECK_FALSE(legal(plain<c::tlbi_nh_vaa::layout>(), f));
  CHECK_FALSE(legal(plain<c::cfgi_cd::layout>(), f));
  CHECK_FALSE(legal(plain<c::cfgi_cd_all::layout>(), f));
  CHECK(legal(plain<c::tlbi_s2_ipa::layout>(), f));
  CHECK(legal(plain<c::tlbi_nsnh_all::layout>(), f));
  CHECK(legal(plain<c::cfgi_ste::layout>(), f));

  f = {};  // no ATS, PRI, stalls, MPAM or DPT
  CHECK_FALSE(legal(plain<c::atc_inv::layout>(), f));
  CHECK_FALSE(legal(plain<c::pri_resp::layout>(), f));
  CHECK_FALSE(legal(plain<c::resume::layout>(), f));
  CHECK_FALSE(legal(plain<c::stall_term::layout>(), f));
  CHECK_FALSE(legal(plain<c::cfgi_vms_pidm::layout>(), f));
  CHECK_FALSE(legal(plain<c::dpti_all::layout>(), f));
  CHECK_FALSE(legal(plain<c::dpti_pa::layout>(), f));
}

TEST_CASE("command checks: non-zero undeclared (RES0) bits make a command malformed",
          "[queue][checks]") {
  const auto f = everything();
  // CMD_CFGI_STE: bits [31:11] of dword 0 and [127:65] (dword 1 bits [63:1]) are RES0.
  CHECK_FALSE(legal(raw(0x03 | (1ULL << 11)), f));
  CHECK_FALSE(legal(raw(0x03, 1ULL << 1), f));
  CHECK(legal(raw(0x03 | (0x1234ULL << 32), 1), f));  // StreamID and Leaf are fields
  // CMD_TLBI_NSNH_ALL is all RES0 but its opcode.
  CHECK_FALSE(legal(raw(0x30 | (1ULL << 8)), f));
  CHECK_FALSE(legal(raw(0x30, 1ULL << 63), f));
  // CMD_SYNC: bits [21:14] are RES0.
  CHECK_FALSE(legal(raw(0x46 | (1ULL << 14)), f));
  // Every single undeclared bit of CMD_TLBI_NH_ASID, each alone.
  using L = c::tlbi_nh_asid::layout;
  for (unsigned bit = 0; bit < 128; ++bit) {
    const std::uint64_t m = 1ULL << (bit % 64);
    if ((L::declared_mask[bit / 64] & m) != 0) continue;
    auto w = c::make<L>().words();
    w[bit / 64] |= m;
    CAPTURE(bit);
    CHECK_FALSE(legal(command{w}, f));
  }
}

TEST_CASE("command checks: range invalidation fields (§4.4.1.1)", "[queue][checks]") {
  using L = c::tlbi_nh_va::layout;
  const auto base = c::make<L>().with<c::Address>(0x4000'0000);
  command_features no_ril;
  auto ril = no_ril;
  ril.ril = true;

  // Without RIL, NUM, SCALE, TG, TTL and TTL128 are RES0.
  CHECK(legal(to_command(base), no_ril));
  CHECK_FALSE(legal(to_command(base.with<c::TG>(c::tlbi_tg::size_4k).with<c::TTL>(3)), no_ril));
  CHECK_FALSE(legal(to_command(base.with<c::NUM>(1)), no_ril));
  CHECK_FALSE(legal(to_command(base.with<c::SCALE>(1)), no_ril));
  CHECK_FALSE(legal(to_command(base.with<c::TTL>(1)), no_ril));

  // With RIL: TG == 0 keeps the others RES0.
  CHECK_FALSE(legal(to_command(base.with<c::NUM>(3)), ril));
  CHECK_FALSE(legal(to_command(base.with<c::TTL>(2)), ril));
  // TG != 0 with NUM == SCALE == TTL == 0 is the Reserved combination.
  CHECK_FALSE(legal(to_command(base.with<c::TG>(c::tlbi_tg::size_4k)), ril));
  CHECK(legal(to_command(base.with<c::TG>(c::tlbi_tg::size_4k).with<c::TTL>(3)), ril));
  CHECK(legal(to_command(base.with<c::TG>(c::tlbi_tg::size_64k).with<c::NUM>(7)), ril));
  CHECK(legal(to_command(base.with<c::TG>(c::tlbi_tg::size_4k).with<c::SCALE>(31)), ril));
  // SCALE[5] needs IDR5.DS.
  CHECK_FALSE(legal(to_command(base.with<c::TG>(c::tlbi_tg::size_4k).with<c::SCALE>(39)), ril));
  auto ds = ril;
  ds.ds = true;
  CHECK(legal(to_command(base.with<c::TG>(c::tlbi_tg::size_4k).with<c::SCALE>(39)), ds));
  // 16KB granule with TTL == 0b01 is CERROR_ILL without DS.
  const auto k16 = base.with<c::TG>(c::tlbi_tg::size_16k).with<c::TTL>(1);
  CHECK_FALSE(legal(to_command(k16), ril));
  CHECK(legal(to_command(k16), ds));
  // TTL128 only with a TTL hint and IDR5.D128.
  const auto hint = base.with<c::TG>(c::tlbi_tg::size_4k).with<c::TTL>(2);
  CHECK_FALSE(legal(to_command(hint.with<c::TTL128>(true)), ril));
  auto d128 = ril;
  d128.d128 = true;
  CHECK(legal(to_command(hint.with<c::TTL128>(true)), d128));
  CHECK_FALSE(
      legal(to_command(base.with<c::TG>(c::tlbi_tg::size_4k).with<c::NUM>(1).with<c::TTL128>(true)),
            d128));
  // The same rules for the other address-based invalidations.
  CHECK_FALSE(
      legal(to_command(c::make<c::tlbi_s2_ipa::layout>().with<c::TG>(c::tlbi_tg::size_4k)), ril));
  CHECK_FALSE(legal(to_command(c::make<c::tlbi_nh_vaa::layout>().with<c::NUM>(1)), ril));
  CHECK_FALSE(legal(to_command(c::make<c::tlbi_el2_va::layout>().with<c::TTL>(1)), no_ril));
  CHECK(legal(
      to_command(
          c::make<c::tlbi_el2_vaa::layout>().with<c::TG>(c::tlbi_tg::size_4k).with<c::NUM>(1)),
      ril));
}

TEST_CASE("command checks: per-command ILLEGAL values", "[queue][checks]") {
  const auto f = everything();
  // CMD_SYNC.CS == 0b11 is Reserved; MSI_NS is RES0 off the Realm queue.
  CHECK(legal(to_command(c::make<c::sync::layout>().with<c::sync::CS>(c::cs::sig_sev)), f));
  CHECK_FALSE(legal(to_command(c::make<c::sync::layout>().with<c::sync::CS>(c::cs{3})), f));
  CHECK_FALSE(legal(to_command(c::make<c::sync::layout>().with<c::sync::MSI_NS>(true)), f));
  // MSH == 0b01 is Reserved but treated as Non-shareable, not ILLEGAL.
  CHECK(legal(to_command(c::make<c::sync::layout>().with<c::sync::MSH>(c::msh{1})), f));
  // CMD_PRI_RESP.Resp == 0b11.
  CHECK(legal(to_command(c::make<c::pri_resp::layout>().with<c::pri_resp::Resp>(c::resp::success)),
              f));
  CHECK_FALSE(
      legal(to_command(c::make<c::pri_resp::layout>().with<c::pri_resp::Resp>(c::resp{3})), f));
  // CMD_ATC_INV.Size > 52 (permitted to be CERROR_ILL: vsmmu makes it one).
  CHECK(legal(to_command(c::make<c::atc_inv::layout>().with<c::atc_inv::Size>(52)), f));
  CHECK_FALSE(legal(to_command(c::make<c::atc_inv::layout>().with<c::atc_inv::Size>(53)), f));
  // CMD_PREFETCH_ADDR: NS is RES0 on the Non-secure queue, Stride RES0 on SMMUv3.0.
  CHECK_FALSE(
      legal(to_command(c::make<c::prefetch_addr::layout>().with<c::prefetch_addr::NS>(true)), f));
  const auto strided =
      to_command(c::make<c::prefetch_addr::layout>().with<c::prefetch_addr::Stride>(9));
  CHECK(legal(strided, f));
  auto v30 = f;
  v30.v3_0 = true;
  CHECK_FALSE(legal(strided, v30));
  // CMD_DPTI_PA parameters are undeclared: with DPT they are not refused.
  CHECK(legal(raw(0x73 | (0xffULL << 8), ~0ULL), f));
}

TEST_CASE("command checks: PA and IPA address bits the revision makes RES0 (§4.1.6)",
          "[queue][checks]") {
  // "Bits[55:52] of these fields are RES0 in SMMUv3.1 to SMMUv3.3. Bits[55:48] of these fields
  // are RES0 in SMMUv3.0": a Reserved field found non-zero, so CERROR_ILL (§4.1.5).
  const auto features_of = [](regs::arch_minor_rev rev) {
    return command_features::from(
        vsmmu::smmuv3::default_id_registers.with<regs::aidr::ArchMinorRev>(rev));
  };
  using rev = regs::arch_minor_rev;
  CHECK(features_of(rev::v3_0).pa_field_bits == 48);
  CHECK(features_of(rev::v3_1).pa_field_bits == 52);
  CHECK(features_of(rev::v3_2).pa_field_bits == 52);
  CHECK(features_of(rev::v3_3).pa_field_bits == 52);
  CHECK(features_of(rev::v3_4).pa_field_bits == 56);
  CHECK(command_features{}.pa_field_bits == 48);  // the default SMMUv3.0

  const auto ipa = [](std::uint64_t a) {
    return to_command(c::make<c::tlbi_s2_ipa::layout>().with<c::IPA>(a));
  };
  const auto msi = [](c::cs cs, std::uint64_t a) {
    return to_command(
        c::make<c::sync::layout>().with<c::sync::CS>(cs).with<c::sync::MSIAddress>(a));
  };
  for (const auto r : {rev::v3_0, rev::v3_1, rev::v3_3, rev::v3_4}) {
    const auto f = features_of(r);
    const unsigned top = f.pa_field_bits;
    CAPTURE(static_cast<unsigned>(r), top);
    const std::uint64_t highest_legal = (std::uint64_t{1} << (top - 1)) | 0x1000;
    CHECK(legal(ipa(highest_legal), f));
    CHECK(legal(msi(c::cs::sig_irq, highest_legal | 0x4), f));
    if (top < 56) {
      const std::uint64_t res0 = std::uint64_t{1} << top;
      CHECK_FALSE(legal(ipa(res0), f));
      CHECK_FALSE(legal(ipa(std::uint64_t{1} << 55 | 0x1000), f));
      // The field span is Reserved whatever CS and IDR0.MSI make of the parameter.
      for (const auto cs : {c::cs::sig_none, c::cs::sig_irq, c::cs::sig_sev}) {
        CHECK_FALSE(legal(msi(cs, res0), f));
      }
      auto no_msi = f;
      no_msi.msi = false;
      CHECK_FALSE(legal(msi(c::cs::sig_irq, res0), no_msi));
    }
  }
  // Virtual address fields are Address[63:12] in every revision (§4.1.6).
  const auto v30 = features_of(rev::v3_0);
  auto ats = v30;
  ats.ats = true;
  const std::uint64_t va = 0xffff'ffff'ffff'f000ULL;
  CHECK(legal(to_command(c::make<c::tlbi_nh_va::layout>().with<c::Address>(va)), v30));
  CHECK(legal(to_command(c::make<c::tlbi_nh_vaa::layout>().with<c::Address>(va)), v30));
  CHECK(legal(to_command(c::make<c::tlbi_el2_va::layout>().with<c::Address>(va)), v30));
  CHECK(legal(to_command(c::make<c::tlbi_el2_vaa::layout>().with<c::Address>(va)), v30));
  CHECK(
      legal(to_command(c::make<c::prefetch_addr::layout>().with<c::prefetch_addr::Addr>(va)), v30));
  CHECK(legal(to_command(c::make<c::atc_inv::layout>().with<c::Address>(va)), ats));
}
