// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/queue/command.hpp>
#include <vsmmu/smmuv3/commands.hpp>

#include <cstdint>

// Command-queue entries for tests, fuzzers and embedders' own test suites: one short call per
// CFGI / TLBI / ATC_INV command a guest driver issues, with the fields it sets (IHI 0070 §4).
// They build well-formed entries; hostile ones come from raw words (queue::command{words}).
namespace vsmmu::testing::commands {

template <class L>
[[nodiscard]] constexpr queue::command as_command(const layout::value<L>& v) noexcept {
  return queue::command{v.words()};
}

// The range fields of NH_VA / NH_VAA / S2_IPA (§4.4.1.1): TG = any is a single address.
struct range_fields {
  smmuv3::cmd::tlbi_tg tg = smmuv3::cmd::tlbi_tg::any;
  std::uint8_t num = 0;
  std::uint8_t scale = 0;
  std::uint8_t ttl = 0;
  bool leaf = false;
};
template <class L, class AddressField>
[[nodiscard]] constexpr layout::value<L> ranged(std::uint64_t address, const range_fields& r) {
  namespace cmd = smmuv3::cmd;
  return cmd::make<L>()
      .template with<AddressField>(address)
      .template with<cmd::TG>(r.tg)
      .template with<cmd::NUM>(r.num)
      .template with<cmd::SCALE>(r.scale)
      .template with<cmd::TTL>(r.ttl)
      .template with<cmd::Leaf>(r.leaf);
}

[[nodiscard]] constexpr queue::command cfgi_ste(std::uint32_t sid) {
  namespace cmd = smmuv3::cmd;
  return as_command(cmd::make<cmd::cfgi_ste::layout>().with<cmd::StreamID>(sid));
}
[[nodiscard]] constexpr queue::command cfgi_ste_range(std::uint32_t sid, std::uint8_t range) {
  namespace cmd = smmuv3::cmd;
  return as_command(cmd::make<cmd::cfgi_ste_range::layout>()
                        .with<cmd::StreamID>(sid)
                        .with<cmd::cfgi_ste_range::Range>(range));
}
[[nodiscard]] constexpr queue::command cfgi_cd(std::uint32_t sid, std::uint32_t ssid) {
  namespace cmd = smmuv3::cmd;
  return as_command(
      cmd::make<cmd::cfgi_cd::layout>().with<cmd::StreamID>(sid).with<cmd::SubstreamID>(ssid));
}
[[nodiscard]] constexpr queue::command cfgi_cd_all(std::uint32_t sid) {
  namespace cmd = smmuv3::cmd;
  return as_command(cmd::make<cmd::cfgi_cd_all::layout>().with<cmd::StreamID>(sid));
}
[[nodiscard]] constexpr queue::command nh_all(std::uint16_t vmid) {
  namespace cmd = smmuv3::cmd;
  return as_command(cmd::make<cmd::tlbi_nh_all::layout>().with<cmd::VMID>(vmid));
}
[[nodiscard]] constexpr queue::command nh_asid(std::uint16_t vmid, std::uint16_t asid) {
  namespace cmd = smmuv3::cmd;
  return as_command(
      cmd::make<cmd::tlbi_nh_asid::layout>().with<cmd::VMID>(vmid).with<cmd::ASID>(asid));
}
[[nodiscard]] constexpr queue::command nh_va(std::uint16_t vmid, std::uint16_t asid,
                                             std::uint64_t va, const range_fields& r = {}) {
  namespace cmd = smmuv3::cmd;
  return as_command(
      ranged<cmd::tlbi_nh_va::layout, cmd::Address>(va, r).with<cmd::VMID>(vmid).with<cmd::ASID>(
          asid));
}
[[nodiscard]] constexpr queue::command nh_vaa(std::uint16_t vmid, std::uint64_t va,
                                              const range_fields& r = {}) {
  namespace cmd = smmuv3::cmd;
  return as_command(ranged<cmd::tlbi_nh_vaa::layout, cmd::Address>(va, r).with<cmd::VMID>(vmid));
}
[[nodiscard]] constexpr queue::command s2_ipa(std::uint16_t vmid, std::uint64_t ipa,
                                              const range_fields& r = {}) {
  namespace cmd = smmuv3::cmd;
  return as_command(ranged<cmd::tlbi_s2_ipa::layout, cmd::IPA>(ipa, r).with<cmd::VMID>(vmid));
}
[[nodiscard]] constexpr queue::command s12_vmall(std::uint16_t vmid) {
  namespace cmd = smmuv3::cmd;
  return as_command(cmd::make<cmd::tlbi_s12_vmall::layout>().with<cmd::VMID>(vmid));
}
[[nodiscard]] constexpr queue::command nsnh_all() {
  namespace cmd = smmuv3::cmd;
  return as_command(cmd::make<cmd::tlbi_nsnh_all::layout>());
}
[[nodiscard]] constexpr queue::command atc_inv(std::uint32_t sid, std::uint64_t address,
                                               std::uint8_t size, bool ssv = false,
                                               std::uint32_t ssid = 0, bool global = false) {
  namespace cmd = smmuv3::cmd;
  return as_command(cmd::make<cmd::atc_inv::layout>()
                        .with<cmd::StreamID>(sid)
                        .with<cmd::SSV>(ssv)
                        .with<cmd::SubstreamID>(ssid)
                        .with<cmd::atc_inv::Global>(global)
                        .with<cmd::atc_inv::Size>(size)
                        .with<cmd::Address>(address));
}

}  // namespace vsmmu::testing::commands
