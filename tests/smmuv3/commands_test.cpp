#include <catch2/catch.hpp>

#include "round_trip.hpp"

#include <vsmmu/layout/decode.hpp>
#include <vsmmu/layout/dynamic.hpp>
#include <vsmmu/layout/for_each_field.hpp>
#include <vsmmu/layout/value.hpp>
#include <vsmmu/smmuv3/commands.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

// Where the bit positions come from, and where sources disagree (the spec wins):
//
// - TLBI SCALE: IHI 0070 §4.4.1.1 gives bits [25:20] (6 bits when SMMU_IDR5.DS == 1). Linux
//   (CMDQ_TLBI_0_SCALE), QEMU (CMD_SCALE) and EDK2's SmmuV3Registers.h use 5 bits, [24:20].
// - TLBI IPA: §4.1.6 says physical and IPA address fields are Address[55:12]. Linux
//   (CMDQ_TLBI_1_IPA_MASK) stops at bit 51 and EDK2 at bit 51 too; both predate 56-bit PAs.
// - CMD_SYNC.MSIAddress: §4.7.3 says MSIAddress[55:2]; Linux CMDQ_SYNC_1_MSIADDR_MASK stops at
//   bit 51.
// - CMD_PRI_RESP.Resp: Linux CMDQ_PRI_1_RESP is dword 1 [13:12] = bits [77:76], and a vendor HAL
//   writes Resp << 12 into word 2, the same bits. QEMU's CMD_RESP reads word 2 [12:11] = bits
//   [76:75]; QEMU never sends PRI responses. We follow Linux: [77:76].
// - CMD_ATC_INV.Size: Linux CMDQ_ATC_1_SIZE is 6 bits [69:64] (Size 52 = invalidate all needs
//   them); gem5's SMMUCommand declares a 5-bit size at [68:64].
// - CMD_RESUME: Ac bit 12, Ab bit 13 (QEMU CMD_RESUME_AC/AB, EDK2); Linux folds both into a
//   2-bit CMDQ_RESUME_0_RESP [13:12] with TERM = 0, RETRY = 1, ABORT = 2, which is the same bits.
// - Single-source positions: CMD_PREFETCH_ADDR.Stride [73:69] (Renode's ARM_SMMUv3 model and a
//   vendor HAL) and .NS [75] (Renode); CMD_SYNC.MSI_NS [127] (Renode); CMD_TLBI_S_S2_IPA.NS [65]
//   (a vendor HAL only). CMD_DPTI_PA's Address/SIZE/Leaf bits are in no public source: only its
//   opcode is declared.

namespace vl = vsmmu::layout;
namespace sm = vsmmu::smmuv3;
namespace cmd = vsmmu::smmuv3::cmd;

namespace {

struct spec_opcode {
  std::uint8_t opcode;
  std::string_view name;
};

// IHI 0070 §4.1.1, transcribed row by row.
// clang-format off
constexpr spec_opcode spec_opcodes[] = {
    {0x01, "CMD_PREFETCH_CONFIG"}, {0x02, "CMD_PREFETCH_ADDR"},   {0x03, "CMD_CFGI_STE"},
    {0x04, "CMD_CFGI_STE_RANGE"},  {0x05, "CMD_CFGI_CD"},         {0x06, "CMD_CFGI_CD_ALL"},
    {0x07, "CMD_CFGI_VMS_PIDM"},   {0x10, "CMD_TLBI_NH_ALL"},     {0x11, "CMD_TLBI_NH_ASID"},
    {0x12, "CMD_TLBI_NH_VA"},      {0x13, "CMD_TLBI_NH_VAA"},     {0x18, "CMD_TLBI_EL3_ALL"},
    {0x1A, "CMD_TLBI_EL3_VA"},     {0x20, "CMD_TLBI_EL2_ALL"},    {0x21, "CMD_TLBI_EL2_ASID"},
    {0x22, "CMD_TLBI_EL2_VA"},     {0x23, "CMD_TLBI_EL2_VAA"},    {0x28, "CMD_TLBI_S12_VMALL"},
    {0x2A, "CMD_TLBI_S2_IPA"},     {0x30, "CMD_TLBI_NSNH_ALL"},   {0x40, "CMD_ATC_INV"},
    {0x41, "CMD_PRI_RESP"},        {0x44, "CMD_RESUME"},          {0x45, "CMD_STALL_TERM"},
    {0x46, "CMD_SYNC"},            {0x50, "CMD_TLBI_S_EL2_ALL"},  {0x51, "CMD_TLBI_S_EL2_ASID"},
    {0x52, "CMD_TLBI_S_EL2_VA"},   {0x53, "CMD_TLBI_S_EL2_VAA"},  {0x58, "CMD_TLBI_S_S12_VMALL"},
    {0x5A, "CMD_TLBI_S_S2_IPA"},   {0x60, "CMD_TLBI_SNH_ALL"},    {0x70, "CMD_DPTI_ALL"},
    {0x73, "CMD_DPTI_PA"},
};
// clang-format on

using all_layouts =
    std::tuple<cmd::prefetch_config::layout, cmd::prefetch_addr::layout, cmd::cfgi_ste::layout,
               cmd::cfgi_ste_range::layout, cmd::cfgi_cd::layout, cmd::cfgi_cd_all::layout,
               cmd::cfgi_vms_pidm::layout, cmd::tlbi_nh_all::layout, cmd::tlbi_nh_asid::layout,
               cmd::tlbi_nh_va::layout, cmd::tlbi_nh_vaa::layout, cmd::tlbi_el3_all::layout,
               cmd::tlbi_el3_va::layout, cmd::tlbi_el2_all::layout, cmd::tlbi_el2_asid::layout,
               cmd::tlbi_el2_va::layout, cmd::tlbi_el2_vaa::layout, cmd::tlbi_s12_vmall::layout,
               cmd::tlbi_s2_ipa::layout, cmd::tlbi_nsnh_all::layout, cmd::atc_inv::layout,
               cmd::pri_resp::layout, cmd::resume::layout, cmd::stall_term::layout,
               cmd::sync::layout, cmd::tlbi_s_el2_all::layout, cmd::tlbi_s_el2_asid::layout,
               cmd::tlbi_s_el2_va::layout, cmd::tlbi_s_el2_vaa::layout,
               cmd::tlbi_s_s12_vmall::layout, cmd::tlbi_s_s2_ipa::layout, cmd::tlbi_snh_all::layout,
               cmd::dpti_all::layout, cmd::dpti_pa::layout>;

template <class Fn>
void for_each_layout(Fn&& fn) {
  round_trip::for_each_layout<all_layouts>(fn);
}

using round_trip::check_round_trip;

template <class L>
std::array<std::uint64_t, 2> dwords(const vl::value<L>& v) {
  return {v.word(0), v.word(1)};
}

}  // namespace

TEST_CASE("commands: the opcode table of §4.1.1, every opcode in the catalogue") {
  STATIC_REQUIRE(sm::command_catalog.size() == std::size(spec_opcodes));
  STATIC_REQUIRE(std::tuple_size_v<all_layouts> == std::size(spec_opcodes));
  for (const auto& row : spec_opcodes) {
    INFO(std::string(row.name));
    const auto* desc = sm::find_command(row.opcode);
    REQUIRE(desc != nullptr);
    CHECK(desc->opcode == row.opcode);
    CHECK(desc->name == row.name);
    CHECK(desc->layout.name == row.name);
    CHECK(desc->layout.bit_count == 128);
    CHECK(desc->layout.word_bits == 64);
    const auto* op = desc->layout.find("Opcode");
    REQUIRE(op != nullptr);
    CHECK(op->msb == 7);
    CHECK(op->lsb == 0);
  }
}

TEST_CASE("commands: Reserved and IMPLEMENTATION DEFINED opcodes decode as unknown") {
  std::set<unsigned> architected;
  for (const auto& row : spec_opcodes) architected.insert(row.opcode);
  for (unsigned op = 0; op < 256; ++op) {
    INFO(op);
    const auto* desc = sm::find_command(static_cast<std::uint8_t>(op));
    CHECK((desc != nullptr) == (architected.count(op) == 1));
    CHECK(cmd::is_implementation_defined(static_cast<std::uint8_t>(op)) ==
          (op >= 0x80 && op <= 0x8f));
  }
  CHECK(sm::find_command(0x00) == nullptr);
  CHECK(sm::find_command(0x08) == nullptr);  // 0x08-0x0A Reserved
  CHECK(sm::find_command(0x80) == nullptr);
  CHECK(sm::find_command(0xff) == nullptr);
}

TEST_CASE("commands: catalogue opcodes and names are unique and in opcode order") {
  std::set<unsigned> opcodes;
  std::set<std::string_view> names;
  unsigned previous = 0;
  for (const auto& c : sm::command_catalog) {
    CHECK(opcodes.insert(c.opcode).second);
    CHECK(names.insert(c.name).second);
    CHECK(c.opcode > previous);
    previous = c.opcode;
  }
  constexpr auto* sync = sm::find_command(0x46);
  STATIC_REQUIRE(sync != nullptr);
  STATIC_REQUIRE(sync->name == "CMD_SYNC");
}

TEST_CASE("commands: each layout carries its opcode in bits [7:0] and is catalogued") {
  for_each_layout([](auto t) {
    using L = typename decltype(t)::type;
    INFO(std::string(L::name));
    STATIC_REQUIRE(L::bit_count == 128);
    STATIC_REQUIRE(std::is_same_v<typename L::word_type, std::uint64_t>);
    STATIC_REQUIRE(L::template has<cmd::Opcode>);
    const auto v = cmd::make<L>();
    CHECK(v.word(0) == static_cast<std::uint64_t>(cmd::opcode_of<L>));
    CHECK(v.word(1) == 0);
    CHECK(std::to_integer<unsigned>(v.bytes()[0]) == static_cast<unsigned>(cmd::opcode_of<L>));
    const auto* desc = sm::find_command(static_cast<std::uint8_t>(cmd::opcode_of<L>));
    REQUIRE(desc != nullptr);
    CHECK(desc->name == L::name);
    CHECK(desc->layout.fields.data() == L::field_infos.data());
    CHECK(desc->layout.fields.size() == L::field_count);
  });
}

TEST_CASE("commands: every field survives encode/decode, raw dwords survive decode/encode") {
  std::mt19937_64 rng(0x5eed'c0de'0070ULL);
  for_each_layout([&](auto t) { check_round_trip<typename decltype(t)::type>(rng); });
}

TEST_CASE("commands: CMD_CFGI_STE known vector") {
  auto c = cmd::make<cmd::cfgi_ste::layout>();
  c.set<cmd::cfgi_ste::StreamID>(0x1234).set<cmd::cfgi_ste::Leaf>(true);
  CHECK(dwords(c) == std::array<std::uint64_t, 2>{0x0000'1234'0000'0003ULL, 0x1});
  c.set<cmd::SSec>(true);
  CHECK(c.word(0) == 0x0000'1234'0000'0403ULL);  // SSec is bit 10
}

TEST_CASE("commands: CMD_SYNC with an MSI known vector") {
  auto c = cmd::make<cmd::sync::layout>();
  c.set<cmd::sync::CS>(cmd::cs::sig_irq)
      .set<cmd::sync::MSH>(cmd::msh::inner_shareable)
      .set<cmd::sync::MSIAttr>(0xf)
      .set<cmd::sync::MSIData>(0xdead'beef)
      .set<cmd::sync::MSIAddress>(0x0080'1234'5678'9abcULL);
  // dword 0: 0x46 | CS 1 << 12 | MSH 0b11 << 22 | MSIAttr 0xf << 24 | MSIData << 32.
  // dword 1: MSIAddress[55:2] in place; bit 55 set checks the spec's width over Linux's [51:2].
  CHECK(dwords(c) ==
        std::array<std::uint64_t, 2>{0xdead'beef'0fc0'1046ULL, 0x0080'1234'5678'9abcULL});
  CHECK(c.get<cmd::sync::MSIAddress>() == 0x0080'1234'5678'9abcULL);
  CHECK_FALSE(cmd::sync::MSIAddress::fits(0x1002));      // below bit 2: not word aligned
  CHECK_FALSE(cmd::sync::MSIAddress::fits(1ULL << 56));  // above bit 55
  c.set<cmd::sync::MSI_NS>(true);
  CHECK(c.word(1) == (0x8000'0000'0000'0000ULL | 0x0080'1234'5678'9abcULL));
}

TEST_CASE("commands: CMD_TLBI_NH_VA range invalidation known vector") {
  auto c = cmd::make<cmd::tlbi_nh_va::layout>();
  c.set<cmd::ASID>(0xabcd)
      .set<cmd::VMID>(0x0102)
      .set<cmd::TG>(cmd::tlbi_tg::size_4k)
      .set<cmd::NUM>(5)
      .set<cmd::SCALE>(3)
      .set<cmd::TTL>(3)
      .set<cmd::Leaf>(true)
      .set<cmd::Address>(0x0000'7fff'ffff'f000ULL);
  // dword 0: 0x12 | NUM 5 << 12 | SCALE 3 << 20 | VMID << 32 | ASID << 48.
  // dword 1: Leaf | TTL 3 << 8 | TG 0b01 << 10 | Address[63:12] in place.
  CHECK(dwords(c) ==
        std::array<std::uint64_t, 2>{0xabcd'0102'0030'5012ULL, 0x0000'7fff'ffff'f701ULL});
  // SCALE's sixth bit (bit 25, used with SMMU_IDR5.DS == 1) and TTL128 (bit 71).
  c.set<cmd::SCALE>(39).set<cmd::TTL128>(true);
  CHECK(c.word(0) == 0xabcd'0102'0270'5012ULL);
  CHECK(c.word(1) == 0x0000'7fff'ffff'f781ULL);
  CHECK(cmd::Address::fits(0xffff'8000'0000'0000ULL));  // a TTB1 VA: all 64 bits
  CHECK_FALSE(cmd::Address::fits(0x800));
}

TEST_CASE("commands: CMD_TLBI_S2_IPA takes IPA[55:12]; the Secure form adds NS") {
  auto c = cmd::make<cmd::tlbi_s2_ipa::layout>();
  c.set<cmd::VMID>(7).set<cmd::IPA>(0x00f0'0000'1234'5000ULL);
  CHECK(dwords(c) ==
        std::array<std::uint64_t, 2>{0x0000'0007'0000'002aULL, 0x00f0'0000'1234'5000ULL});
  CHECK_FALSE(cmd::IPA::fits(1ULL << 56));

  auto s = cmd::make<cmd::tlbi_s_s2_ipa::layout>();
  s.set<cmd::tlbi_s_s2_ipa::NS>(true).set<cmd::Leaf>(true).set<cmd::IPA>(0x4000'0000ULL);
  CHECK(dwords(s) == std::array<std::uint64_t, 2>{0x5a, 0x4000'0003ULL});
}

TEST_CASE("commands: CMD_ATC_INV, CMD_PRI_RESP, CMD_RESUME known vectors") {
  auto atc = cmd::make<cmd::atc_inv::layout>();
  atc.set<cmd::StreamID>(0x10)
      .set<cmd::SSV>(true)
      .set<cmd::SubstreamID>(3)
      .set<cmd::atc_inv::Global>(true)
      .set<cmd::atc_inv::Size>(52);  // 2^64 bytes: invalidate all
  CHECK(dwords(atc) == std::array<std::uint64_t, 2>{0x0000'0010'0000'3a40ULL, 52});

  auto pri = cmd::make<cmd::pri_resp::layout>();
  pri.set<cmd::StreamID>(0x42)
      .set<cmd::SSV>(true)
      .set<cmd::SubstreamID>(0x55)
      .set<cmd::pri_resp::PRGIndex>(0x1ff)
      .set<cmd::pri_resp::Resp>(cmd::resp::success);
  CHECK(dwords(pri) == std::array<std::uint64_t, 2>{0x0000'0042'0005'5841ULL, 0x21ff});

  auto res = cmd::make<cmd::resume::layout>();
  res.set<cmd::StreamID>(7)
      .set<cmd::resume::Ac>(cmd::action::terminate)
      .set<cmd::resume::Ab>(cmd::abort_mode::abort)
      .set<cmd::resume::STAG>(0xbeef);
  // Linux's CMDQ_RESUME_0_RESP_ABORT (2 in bits [13:12]) is Ac = 0, Ab = 1.
  CHECK(dwords(res) == std::array<std::uint64_t, 2>{0x0000'0007'0000'2044ULL, 0xbeef});
  res.set<cmd::resume::Ac>(cmd::action::retry).set<cmd::resume::Ab>(cmd::abort_mode::raz_wi);
  CHECK(res.word(0) == 0x0000'0007'0000'1044ULL);  // CMDQ_RESUME_0_RESP_RETRY
}

TEST_CASE("commands: CMD_PREFETCH_ADDR known vector") {
  auto c = cmd::make<cmd::prefetch_addr::layout>();
  c.set<cmd::StreamID>(1)
      .set<cmd::prefetch_addr::Size>(3)
      .set<cmd::prefetch_addr::Stride>(9)  // 2 MB
      .set<cmd::prefetch_addr::NS>(true)
      .set<cmd::prefetch_addr::Addr>(0xffff'8000'0020'0000ULL);
  CHECK(dwords(c) ==
        std::array<std::uint64_t, 2>{0x0000'0001'0000'0002ULL, 0xffff'8000'0020'0923ULL});
}

TEST_CASE("commands: CMD_CFGI_ALL is CMD_CFGI_STE_RANGE with Range == 31") {
  const auto* range = sm::find_command(0x04);
  REQUIRE(range != nullptr);

  const auto all = cmd::make_cfgi_all(true);
  CHECK(dwords(all) == std::array<std::uint64_t, 2>{0x404, 31});
  const auto all_bytes = all.bytes();
  CHECK(sm::command_name(*range, all_bytes) == "CMD_CFGI_ALL");

  auto thirty = cmd::make<cmd::cfgi_ste_range::layout>();
  thirty.set<cmd::cfgi_ste_range::Range>(30).set<cmd::StreamID>(0xffff'ffff);
  const auto thirty_bytes = thirty.bytes();
  CHECK(sm::command_name(*range, thirty_bytes) == "CMD_CFGI_STE_RANGE");

  // Only opcode 0x04 is renamed: CMD_CFGI_STE with bits [68:64] all ones keeps its name.
  std::array<std::byte, 16> ste{};
  ste[0] = std::byte{0x03};
  ste[8] = std::byte{0x1f};
  const auto* cfgi_ste = sm::find_command(0x03);
  REQUIRE(cfgi_ste != nullptr);
  CHECK(sm::command_name(*cfgi_ste, ste) == "CMD_CFGI_STE");

  constexpr auto constant = [] {
    const auto v = cmd::make_cfgi_all();
    const auto b = v.bytes();
    return sm::command_name(*sm::find_command(0x04), b);
  }();
  STATIC_REQUIRE(constant == "CMD_CFGI_ALL");
}

TEST_CASE("commands: written into a queue slot in place and decoded by run-time description") {
  std::array<std::byte, 4 * 16> queue{};
  const auto slot = std::span<std::byte, 16>(queue.data() + 2 * 16, 16);
  vl::mutable_view<cmd::sync::layout> writer(slot);
  writer.set<cmd::Opcode>(cmd::opcode::sync).set<cmd::sync::CS>(cmd::cs::sig_sev);
  CHECK(queue[32] == std::byte{0x46});
  CHECK(queue[33] == std::byte{0x20});  // CS = 0b10 at bits [13:12]
  for (std::size_t i = 0; i < queue.size(); ++i) {
    if (i < 32 || i >= 48) CHECK(queue[i] == std::byte{0});
  }

  // What a tool does: look the opcode up, then read fields by name.
  const std::span<const std::byte, 16> entry(queue.data() + 32, 16);
  const auto* desc = sm::find_command(std::to_integer<std::uint8_t>(entry[0]));
  REQUIRE(desc != nullptr);
  CHECK(sm::command_name(*desc, entry) == "CMD_SYNC");
  const auto* cs = desc->layout.find("CS");
  REQUIRE(cs != nullptr);
  CHECK(vl::read_value(*cs, entry) == 2);
  CHECK(cs->is_enum);
  const auto* address = desc->layout.find("MSIAddress");
  REQUIRE(address != nullptr);
  CHECK(address->in_place);
  CHECK(address->value_shift() == 2);
}

TEST_CASE("commands: CERROR codes of §7.1") {
  STATIC_REQUIRE(static_cast<unsigned>(sm::cerror::none) == 0x00);
  STATIC_REQUIRE(static_cast<unsigned>(sm::cerror::ill) == 0x01);
  STATIC_REQUIRE(static_cast<unsigned>(sm::cerror::abt) == 0x02);
  STATIC_REQUIRE(static_cast<unsigned>(sm::cerror::atc_inv_sync) == 0x03);
  CHECK(sm::to_string(sm::cerror::none) == "CERROR_NONE");
  CHECK(sm::to_string(sm::cerror::ill) == "CERROR_ILL");
  CHECK(sm::to_string(sm::cerror::abt) == "CERROR_ABT");
  CHECK(sm::to_string(sm::cerror::atc_inv_sync) == "CERROR_ATC_INV_SYNC");
  CHECK(sm::to_string(static_cast<sm::cerror>(0x7f)).empty());
}

TEST_CASE("commands: shared fields are one type across commands") {
  STATIC_REQUIRE(std::is_same_v<cmd::cfgi_ste::StreamID, cmd::StreamID>);
  STATIC_REQUIRE(std::is_same_v<cmd::tlbi_nh_va::Address, cmd::tlbi_el2_va::Address>);
  // Only the commands whose parameter lists (§4.2-§4.7) have SSec declare it.
  STATIC_REQUIRE(cmd::resume::layout::has<cmd::SSec>);
  STATIC_REQUIRE(cmd::cfgi_vms_pidm::layout::has<cmd::SSec>);
  STATIC_REQUIRE_FALSE(cmd::atc_inv::layout::has<cmd::SSec>);
  STATIC_REQUIRE_FALSE(cmd::pri_resp::layout::has<cmd::SSec>);
  STATIC_REQUIRE_FALSE(cmd::tlbi_nh_va::layout::has<cmd::SSec>);
}
