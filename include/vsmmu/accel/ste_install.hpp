// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/accel/iommufd/adapter.hpp>
#include <vsmmu/smmuv3/encodings.hpp>
#include <vsmmu/smmuv3/registers/control.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/walk/smmu_features.hpp>
#include <vsmmu/walk/ste_config.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

// What a guest STE becomes on the host: one of the vIOMMU's two proxy HWPTs (abort, bypass) or a
// nested HWPT built from the STE's stage-1 part (the seed's patches 12, 14, 15). A pure function
// of the vSMMU's state and the STE, so that every case can be tested without a kernel.
namespace vsmmu::accel {

// The eight dwords of a guest STE, as fetched (little-endian dwords in host order).
using ste_words = std::array<std::uint64_t, 8>;
// The payload of IOMMU_HWPT_DATA_ARM_SMMUV3 (STE dwords 0 and 1) is iommufd::nested_ste.
using iommufd::nested_ste;

// The fields the host kernel accepts in a nested STE (arm_smmu_validate_vste). Dword 0: V,
// Config, S1Fmt, S1ContextPtr[51:6], S1CDMax. Dword 1: S1DSS, S1CIR, S1COR, S1CSH, S1STALLD,
// EATS. Anything else is -EIO.
inline constexpr std::uint64_t nested_ste0_mask = 0xf80f'ffff'ffff'ffffULL;
inline constexpr std::uint64_t nested_ste1_mask = 0x0000'0000'3800'00ffULL;
// The seed's masks (patch 14): S1ContextPtr[55:6], which the kernel refuses above bit 51.
inline constexpr std::uint64_t seed_ste0_mask = 0xf8ff'ffff'ffff'ffffULL;
inline constexpr std::uint64_t seed_ste1_mask = 0x0000'0000'3800'00ffULL;

// The proxy HWPTs' STEs (patch 12): V with Config abort, V with Config bypass.
inline constexpr nested_ste abort_ste{{0x1, 0}};
inline constexpr nested_ste bypass_ste{{0x9, 0}};

enum class hwpt_kind : std::uint8_t { abort, bypass, nested };

[[nodiscard]] constexpr std::string_view to_string(hwpt_kind k) noexcept {
  switch (k) {
    case hwpt_kind::abort:
      return "abort";
    case hwpt_kind::bypass:
      return "bypass";
    case hwpt_kind::nested:
      return "translate";
  }
  return "unknown";
}

enum class install_reason : std::uint8_t {
  gbpa,        // SMMUEN == 0: GBPA.ABORT picks the proxy
  no_ste,      // SMMUEN == 1 and the STE could not be fetched (bad StreamID, fetch abort)
  not_valid,   // V == 0
  illegal,     // ILLEGAL for this vSMMU (C_BAD_STE when a transaction uses it): as V == 0
  ste_abort,   // Config 0b0xx
  ste_bypass,  // Config 0b100
  ste_stage1,  // Config 0b101
};

struct install_decision {
  hwpt_kind kind = hwpt_kind::abort;
  install_reason reason = install_reason::gbpa;
  walk::ste_error error = walk::ste_error::none;  // reason illegal: which rule
  nested_ste ste{};  // kind nested: the payload; otherwise the proxy's STE
  friend constexpr bool operator==(const install_decision&, const install_decision&) = default;
};

namespace detail {
[[nodiscard]] constexpr std::uint64_t bits_at(unsigned lo, unsigned width) noexcept {
  return ((std::uint64_t{1} << width) - 1) << lo;
}
}  // namespace detail

// The nested payload of a stage-1 STE that decode_ste accepted, from the fields the host may
// see, normalised where the architecture says a field is IGNORED or a reserved value behaves as
// another, so that the host (whose SSIDSIZE or ATS may differ from the vSMMU's) does what the
// vSMMU advertises:
//  - S1CDMax is IGNORED when SMMU_IDR1.SSIDSIZE == 0 (§5.2): sent as 0; with it 0, S1Fmt and
//    S1DSS are IGNORED: sent as 0; S1Fmt 0b11 behaves as 0b00, S1DSS 0b11 as 0b00;
//  - EATS is IGNORED without SMMU_IDR0.ATS (§5.2) or when the device has no ATS: sent as 0b00;
//    0b11 (DPT) is Reserved without IDR3.DPT and behaves as 0b00;
//  - S1ContextPtr is sent as [51:6], the kernel's limit; a vSMMU OAS of 44 or 48 bits makes a
//    pointer above that ILLEGAL before it gets here.
[[nodiscard]] constexpr nested_ste nested_payload(const ste_words& ste,
                                                  const walk::stream_config& c,
                                                  bool ats_enabled) noexcept {
  std::uint64_t d0 = ste[0] & nested_ste0_mask;
  std::uint64_t d1 = ste[1] & nested_ste1_mask;
  // Rebuild the normalised fields: S1Fmt [5:4], S1CDMax [63:59], S1DSS [1:0], EATS [29:28].
  d0 &= ~(detail::bits_at(4, 2) | detail::bits_at(59, 5));
  d1 &= ~(detail::bits_at(0, 2) | detail::bits_at(28, 2));
  if (c.s1cdmax != 0) {
    d0 |= std::uint64_t{static_cast<std::uint8_t>(c.s1fmt)} << 4;
    d0 |= std::uint64_t{c.s1cdmax} << 59;
    d1 |= std::uint64_t{static_cast<std::uint8_t>(c.s1dss)};
  }
  const unsigned eats = static_cast<unsigned>((ste[1] >> 28) & 3U);
  if (ats_enabled && eats == static_cast<unsigned>(smmuv3::eats::full))
    d1 |= std::uint64_t{1} << 28;
  return nested_ste{{d0, d1}};
}

// The HWPT a device gets. `ste` is nullopt when the STE could not be fetched. `features` are the
// vSMMU's (walk::features_from its ID registers); `ats_enabled` is the vSMMU's ATS and the
// device's together.
[[nodiscard]] constexpr install_decision decide_install(bool smmuen, std::uint32_t gbpa,
                                                        const std::optional<ste_words>& ste,
                                                        const walk::smmu_features& features,
                                                        bool ats_enabled) noexcept {
  namespace G = smmuv3::regs::gbpa;
  install_decision d;
  const auto proxy = [&](hwpt_kind k, install_reason r) {
    d.kind = k;
    d.reason = r;
    d.ste = k == hwpt_kind::bypass ? bypass_ste : abort_ste;
    return d;
  };
  if (!smmuen) {
    const bool abort = G::value{{gbpa}}.get<G::ABORT>();
    return proxy(abort ? hwpt_kind::abort : hwpt_kind::bypass, install_reason::gbpa);
  }
  // Architecturally a transaction whose STE cannot be found is terminated (C_BAD_STREAMID,
  // F_STE_FETCH): the abort proxy. The seed installs nothing and leaves the device where it was.
  if (!ste) return proxy(hwpt_kind::abort, install_reason::no_ste);
  const smmuv3::ste::value v{*ste};
  const walk::ste_decode dec = walk::decode_ste(v, features);
  if (dec.error == walk::ste_error::not_valid)
    return proxy(hwpt_kind::abort, install_reason::not_valid);
  if (dec.illegal()) {
    proxy(hwpt_kind::abort, install_reason::illegal);
    d.error = dec.error;
    return d;
  }
  switch (dec.config.mode) {
    case walk::stream_mode::abort:
      return proxy(hwpt_kind::abort, install_reason::ste_abort);
    case walk::stream_mode::bypass:
      return proxy(hwpt_kind::bypass, install_reason::ste_bypass);
    case walk::stream_mode::s1:
      d.kind = hwpt_kind::nested;
      d.reason = install_reason::ste_stage1;
      d.ste = nested_payload(*ste, dec.config, ats_enabled);
      return d;
    case walk::stream_mode::s2:
    case walk::stream_mode::nested:
      break;
  }
  // A vSMMU without stage 2 has already refused these as ILLEGAL; one that advertises S2P
  // cannot be accelerated (the host owns stage 2).
  proxy(hwpt_kind::abort, install_reason::illegal);
  d.error = walk::ste_error::s2_not_supported;
  return d;
}

}  // namespace vsmmu::accel
