// SPDX-License-Identifier: BSL-1.0
#include <catch2/catch.hpp>

#include <vsmmu/accel/iommufd/kernel_rules.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/events.hpp>
#include <vsmmu/smmuv3/ste.hpp>

#include <cerrno>
#include <cstdint>

using namespace vsmmu::accel::iommufd;
namespace k = vsmmu::accel::iommufd::kernel;
namespace ste = vsmmu::smmuv3::ste;

namespace {
// The bits field F occupies in 64-bit word `dword` of its structure.
template <class F>
constexpr std::uint64_t mask_in(unsigned dword) {
  std::uint64_t m = 0;
  for (unsigned b = F::lsb; b <= F::msb; ++b)
    if (b / 64 == dword) m |= std::uint64_t{1} << (b % 64);
  return m;
}
}  // namespace

TEST_CASE("kernel rules: the nesting masks are the spec's fields (S1ContextPtr cut at bit 51)") {
  CHECK(k::ste0_v == mask_in<ste::V>(0));
  CHECK(k::ste0_config == mask_in<ste::Config>(0));
  CHECK(k::ste0_s1fmt == mask_in<ste::S1Fmt>(0));
  CHECK(k::ste0_s1cdmax == mask_in<ste::S1CDMax>(0));
  // IHI 0070 §5.2 gives S1ContextPtr [55:6]; the kernel takes [51:6].
  CHECK(mask_in<ste::S1ContextPtr>(0) == 0x00FF'FFFF'FFFF'FFC0ull);
  CHECK(k::ste0_s1contextptr == (mask_in<ste::S1ContextPtr>(0) & ((1ull << 52) - 1)));
  CHECK(k::ste1_s1dss == mask_in<ste::S1DSS>(1));
  CHECK(k::ste1_s1cir == mask_in<ste::S1CIR>(1));
  CHECK(k::ste1_s1cor == mask_in<ste::S1COR>(1));
  CHECK(k::ste1_s1csh == mask_in<ste::S1CSH>(1));
  CHECK(k::ste1_s1stalld == mask_in<ste::S1STALLD>(1));
  CHECK(k::ste1_eats == mask_in<ste::EATS>(1));
  CHECK(k::ste1_mev == mask_in<ste::MEV>(1));
  CHECK(k::ste1_shcfg == mask_in<ste::SHCFG>(1));
  CHECK(k::ste2_s2vmid == mask_in<ste::S2VMID>(2));
  CHECK(k::evt1_s2 == mask_in<vsmmu::smmuv3::evt::S2>(1));
  CHECK(k::evt1_stall == mask_in<vsmmu::smmuv3::evt::Stall>(1));
}

TEST_CASE("kernel rules: V = 0 is accepted as abort whatever else is set") {
  const auto v = k::validate_vste(nested_ste{{~1ull, ~0ull}});
  CHECK(v.err == 0);
  CHECK(v.ste == nested_ste{});
  CHECK_FALSE(v.enable_ats);
}

TEST_CASE("kernel rules: every bit outside the allowed fields is EIO") {
  const nested_ste base{{0x1 | (5ull << 1), 0}};  // V, S1 translate
  REQUIRE(k::validate_vste(base).err == 0);
  for (unsigned word = 0; word < 2; ++word) {
    for (unsigned b = 0; b < 64; ++b) {
      if (word == 0 && b < 4) continue;  // V and Config are checked on their own
      nested_ste s = base;
      s.dwords[word] |= 1ull << b;
      const std::uint64_t allowed = word == 0 ? k::ste0_nesting_allowed : k::ste1_nesting_allowed;
      const bool eats_s1chk = word == 1 && b == 29;  // EATS = 0b10
      const int expected = ((allowed >> b) & 1) != 0 && !eats_s1chk ? 0 : EIO;
      INFO("dword " << word << " bit " << b);
      CHECK(k::validate_vste(s).err == expected);
    }
  }
}

TEST_CASE("kernel rules: Config must be abort, bypass or S1; EATS abort or translate") {
  for (unsigned cfg = 0; cfg < 8; ++cfg) {
    const nested_ste s{{0x1 | (std::uint64_t{cfg} << 1), 0}};
    const bool ok = cfg == 0 || cfg == 4 || cfg == 5;
    INFO("Config " << cfg);
    CHECK(k::validate_vste(s).err == (ok ? 0 : EIO));
  }
  for (unsigned eats = 0; eats < 4; ++eats) {
    const nested_ste s{{0x1 | (5ull << 1), std::uint64_t{eats} << 28}};
    const auto v = k::validate_vste(s);
    INFO("EATS " << eats);
    CHECK(v.err == (eats <= 1 ? 0 : EIO));
    if (eats <= 1) {
      CHECK(v.enable_ats == (eats == 1));
      CHECK((v.ste.dwords[1] & k::ste1_eats) == 0);  // EATS is the kernel's business
    }
  }
  // EATS = translate on a bypass STE does not enable ATS.
  CHECK_FALSE(k::validate_vste(nested_ste{{0x9, 1ull << 28}}).enable_ats);
}

TEST_CASE("kernel rules: the seed's masked all-ones STE is refused for bits 52-55") {
  // QEMU masks dword 0 with 0xF8FF_FFFF_FFFF_FFFF (S1ContextPtr up to bit 55).
  const nested_ste qemu{{0xFFFF'FFFF'FFFF'FFFBull & 0xF8FF'FFFF'FFFF'FFFFull, 0x3800'00FFull}};
  CHECK(k::validate_vste(qemu).err == EIO);
  // The same with S1ContextPtr cut at bit 51, and EATS = translate: accepted.
  const nested_ste fixed{{0xFFFF'FFFF'FFFF'FFFBull & k::ste0_nesting_allowed, 0x1800'00FFull}};
  const auto v = k::validate_vste(fixed);
  CHECK(v.err == 0);
  CHECK(v.enable_ats);
  CHECK(v.ste.dwords[0] == fixed.dwords[0]);
  CHECK(v.ste.dwords[1] == 0x0800'00FFull);
  // The proxy STEs of the seed.
  CHECK(k::validate_vste(nested_ste{{0x1, 0}}).err == 0);
  CHECK(k::validate_vste(nested_ste{{0x9, 0}}).err == 0);
}

TEST_CASE("kernel rules: exactly eight opcodes are accepted, three of them by StreamID") {
  using vsmmu::smmuv3::cmd::opcode;
  int accepted = 0;
  for (unsigned o = 0; o < 256; ++o)
    if (k::accepted_opcode(static_cast<std::uint8_t>(o))) ++accepted;
  CHECK(accepted == 8);
  CHECK(k::accepted_opcode(static_cast<std::uint8_t>(opcode::cfgi_cd)));
  CHECK(k::accepted_opcode(static_cast<std::uint8_t>(opcode::cfgi_cd_all)));
  CHECK(k::accepted_opcode(static_cast<std::uint8_t>(opcode::tlbi_nh_all)));
  CHECK(k::accepted_opcode(static_cast<std::uint8_t>(opcode::tlbi_nh_asid)));
  CHECK(k::accepted_opcode(static_cast<std::uint8_t>(opcode::tlbi_nh_va)));
  CHECK(k::accepted_opcode(static_cast<std::uint8_t>(opcode::tlbi_nh_vaa)));
  CHECK(k::accepted_opcode(static_cast<std::uint8_t>(opcode::tlbi_nsnh_all)));
  CHECK(k::accepted_opcode(static_cast<std::uint8_t>(opcode::atc_inv)));
  CHECK_FALSE(k::accepted_opcode(static_cast<std::uint8_t>(opcode::cfgi_ste)));
  CHECK_FALSE(k::accepted_opcode(static_cast<std::uint8_t>(opcode::sync)));
  CHECK_FALSE(k::accepted_opcode(static_cast<std::uint8_t>(opcode::tlbi_s2_ipa)));
  CHECK_FALSE(k::accepted_opcode(static_cast<std::uint8_t>(opcode::tlbi_s12_vmall)));
  int by_sid = 0;
  for (unsigned o = 0; o < 256; ++o)
    if (k::opcode_uses_sid(static_cast<std::uint8_t>(o))) ++by_sid;
  CHECK(by_sid == 3);
  CHECK(k::sid_of(invalidation_entry{{0x0000'0308'0000'0005ull, 0}}) == 0x308);
  CHECK(k::opcode_of(invalidation_entry{{0x0000'0308'0000'0005ull, 0}}) == 0x05);
}

TEST_CASE("kernel rules: the event types forwarded to a vIOMMU") {
  int n = 0;
  for (unsigned t = 0; t < 256; ++t)
    if (k::reported_event(static_cast<std::uint8_t>(t))) ++n;
  CHECK(n == 8);
  CHECK(k::reported_event(0x10));
  CHECK(k::reported_event(0x04));
  CHECK_FALSE(k::reported_event(0x02));  // C_BAD_STREAMID
  CHECK_FALSE(k::reported_event(0x03));  // F_STE_FETCH
}
