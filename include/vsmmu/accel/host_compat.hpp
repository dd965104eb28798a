// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/accel/iommufd/adapter.hpp>
#include <vsmmu/accel/properties.hpp>
#include <vsmmu/smmuv3/encodings.hpp>
#include <vsmmu/smmuv3/features.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Host compatibility (the seed's patches 21, 29, 31, 37): the vSMMU's ID registers are
// guest-visible from boot, so every device attached later, cold or hot, must sit behind a host
// SMMU that can honour them. Checked at every attach; a mismatch refuses that device only.
namespace vsmmu::accel {

// IOMMU_GET_HW_INFO's answer for one device (iommufd::hw_info), as ID registers.
[[nodiscard]] constexpr smmuv3::id_registers host_id_registers(
    const iommufd::hw_info& host) noexcept {
  return {host.idr[0], host.idr[1], host.idr[2], host.idr[3], host.idr[4], host.idr[5], host.aidr};
}

// Proposed in the seed's patch 31 thread (the per-device ATS report): set when the host driver
// will not let the device use ATS; old kernels never set it.
inline constexpr std::uint64_t hw_cap_pci_ats_not_supported = 1U << 3;

// In the seed's check order (only the first failure is reported).
enum class compat_field : std::uint8_t {
  data_type,
  st_level,  // IDR0.ST_LEVEL: equal
  ttendian,  // IDR0.TTENDIAN: host <= vSMMU
  ttf,       // IDR0.TTF: host >= vSMMU
  sidsize,   // IDR1.SIDSIZE: host >= vSMMU
  ssidsize,  // IDR1.SSIDSIZE: host >= vSMMU
  ril,       // IDR3.RIL: host >= vSMMU
  oas,       // IDR5.OAS: host >= vSMMU (outside the uAPI's list, see below)
  gran4k,    // IDR5.GRAN4K: equal
  gran16k,   // IDR5.GRAN16K: equal
  gran64k,   // IDR5.GRAN64K: equal
  // Strict mode only: fields the uAPI lists as meaningful that the seed leaves out.
  asid16,       // IDR0.ASID16: host >= vSMMU (16-bit guest ASIDs would alias)
  bbml,         // IDR3.BBML: host >= vSMMU
  stall_model,  // IDR0.STALL_MODEL: the host must allow what the vSMMU lets a guest program
  term_model,   // IDR0.TERM_MODEL: host <= vSMMU (CD.A = 0 needs TERM_MODEL 0)
  cd2l,         // IDR0.CD2L: host >= vSMMU
};

[[nodiscard]] constexpr std::string_view to_string(compat_field f) noexcept {
  switch (f) {
    case compat_field::data_type:
      return "data_type";
    case compat_field::st_level:
      return "STLEVEL";
    case compat_field::ttendian:
      return "TTENDIAN";
    case compat_field::ttf:
      return "TTF";
    case compat_field::sidsize:
      return "SIDSIZE";
    case compat_field::ssidsize:
      return "SSIDSIZE";
    case compat_field::ril:
      return "RIL";
    case compat_field::oas:
      return "OAS";
    case compat_field::gran4k:
      return "GRAN4K";
    case compat_field::gran16k:
      return "GRAN16K";
    case compat_field::gran64k:
      return "GRAN64K";
    case compat_field::asid16:
      return "ASID16";
    case compat_field::bbml:
      return "BBML";
    case compat_field::stall_model:
      return "STALL_MODEL";
    case compat_field::term_model:
      return "TERM_MODEL";
    case compat_field::cd2l:
      return "CD2L";
  }
  return "unknown";
}

// struct iommu_hw_info_arm_smmuv3 lists the fields a VMM may read: IDR0 ST_LEVEL, TERM_MODEL,
// STALL_MODEL, TTENDIAN, CD2L, ASID16, TTF; IDR1 SIDSIZE, SSIDSIZE; IDR3 BBML, RIL; IDR5 VAX,
// GRAN64K, GRAN16K, GRAN4K. The seed's OAS check reads IDR5.OAS, which is not in that list: kept
// as the seed does it, and labelled.
[[nodiscard]] constexpr bool outside_uapi(compat_field f) noexcept {
  return f == compat_field::oas;
}

struct compat_error {
  compat_field field = compat_field::data_type;
  std::uint32_t host = 0;   // the host's value of the field (the data type for data_type)
  std::uint32_t vsmmu = 0;  // the vSMMU's

  // Names the field and both values; the wording follows the seed's messages.
  [[nodiscard]] std::string message() const {
    const std::string values = " (host " + std::string(to_string(field)) + "=" +
                               std::to_string(host) + ", vSMMU " + std::string(to_string(field)) +
                               "=" + std::to_string(vsmmu) + ")";
    switch (field) {
      case compat_field::data_type:
        return "Wrong data type (" + std::to_string(host) + ") for Host SMMUv3 device info" +
               " (expected " + std::to_string(vsmmu) + ")";
      case compat_field::st_level:
        return "Host SMMUv3 Stream Table format mismatch" + values;
      case compat_field::ttendian:
        return "Host SMMUv3 doesn't support Little-endian translation table" + values;
      case compat_field::ttf:
        return "Host SMMUv3 doesn't support AArch64 translation table format" + values;
      case compat_field::sidsize:
        return "Host SMMUv3 SIDSIZE not compatible" + values;
      case compat_field::ssidsize:
        return "Host SMMUv3 SSIDSIZE not compatible" + values;
      case compat_field::ril:
        return "Host SMMUv3 doesn't support Range Invalidation" + values;
      case compat_field::oas:
        return "Host SMMUv3 supports only " +
               std::to_string(smmuv3::address_bits(static_cast<smmuv3::address_size>(host & 7))) +
               "-bit IPA, but the vSMMU OAS implies " +
               std::to_string(smmuv3::address_bits(static_cast<smmuv3::address_size>(vsmmu & 7))) +
               "-bit IPA" + values + " [IDR5.OAS is outside the iommufd uAPI's field list]";
      case compat_field::gran4k:
        return "Host SMMUv3 doesn't support 4K translation granule" + values;
      case compat_field::gran16k:
        return "Host SMMUv3 doesn't support 16K translation granule" + values;
      case compat_field::gran64k:
        return "Host SMMUv3 doesn't support 64K translation granule" + values;
      case compat_field::asid16:
      case compat_field::bbml:
      case compat_field::stall_model:
      case compat_field::term_model:
      case compat_field::cd2l:
        return "Host SMMUv3 " + std::string(to_string(field)) + " not compatible" + values +
               " [strict check]";
    }
    return "Host SMMUv3 not compatible" + values;
  }
  friend constexpr bool operator==(const compat_error&, const compat_error&) = default;
};

// Not compared, as in the seed: AIDR and IIDR (hardware mixes features whatever its revision
// says), ATS (a per-device property: see device_ats). With `strict`, the fields the uAPI lists
// as meaningful that the seed leaves out are checked too, after the seed's.
[[nodiscard]] constexpr std::optional<compat_error> check_host_compat(
    const smmuv3::id_registers& vsmmu, const iommufd::hw_info& host, bool strict = false) noexcept {
  namespace R = smmuv3::regs;
  if (host.type != iommufd::hw_info_type::arm_smmuv3) {
    return compat_error{compat_field::data_type, static_cast<std::uint32_t>(host.type),
                        static_cast<std::uint32_t>(iommufd::hw_info_type::arm_smmuv3)};
  }
  const smmuv3::id_registers h = host_id_registers(host);
  const auto u = [](auto v) { return static_cast<std::uint32_t>(v); };
  const auto fail = [](compat_field f, std::uint32_t hv, std::uint32_t gv) {
    return std::optional<compat_error>{compat_error{f, hv, gv}};
  };
  if (u(h.get<R::idr0::ST_LEVEL>()) != u(vsmmu.get<R::idr0::ST_LEVEL>())) {
    return fail(compat_field::st_level, u(h.get<R::idr0::ST_LEVEL>()),
                u(vsmmu.get<R::idr0::ST_LEVEL>()));
  }
  if (u(h.get<R::idr0::TTENDIAN>()) > u(vsmmu.get<R::idr0::TTENDIAN>())) {
    return fail(compat_field::ttendian, u(h.get<R::idr0::TTENDIAN>()),
                u(vsmmu.get<R::idr0::TTENDIAN>()));
  }
  if (u(h.get<R::idr0::TTF>()) < u(vsmmu.get<R::idr0::TTF>())) {
    return fail(compat_field::ttf, u(h.get<R::idr0::TTF>()), u(vsmmu.get<R::idr0::TTF>()));
  }
  if (h.get<R::idr1::SIDSIZE>() < vsmmu.get<R::idr1::SIDSIZE>()) {
    return fail(compat_field::sidsize, h.get<R::idr1::SIDSIZE>(), vsmmu.get<R::idr1::SIDSIZE>());
  }
  if (h.get<R::idr1::SSIDSIZE>() < vsmmu.get<R::idr1::SSIDSIZE>()) {
    return fail(compat_field::ssidsize, h.get<R::idr1::SSIDSIZE>(), vsmmu.get<R::idr1::SSIDSIZE>());
  }
  if (u(h.get<R::idr3::RIL>()) < u(vsmmu.get<R::idr3::RIL>())) {
    return fail(compat_field::ril, u(h.get<R::idr3::RIL>()), u(vsmmu.get<R::idr3::RIL>()));
  }
  if (u(h.get<R::idr5::OAS>()) < u(vsmmu.get<R::idr5::OAS>())) {
    return fail(compat_field::oas, u(h.get<R::idr5::OAS>()), u(vsmmu.get<R::idr5::OAS>()));
  }
  if (h.get<R::idr5::GRAN4K>() != vsmmu.get<R::idr5::GRAN4K>()) {
    return fail(compat_field::gran4k, u(h.get<R::idr5::GRAN4K>()), u(vsmmu.get<R::idr5::GRAN4K>()));
  }
  if (h.get<R::idr5::GRAN16K>() != vsmmu.get<R::idr5::GRAN16K>()) {
    return fail(compat_field::gran16k, u(h.get<R::idr5::GRAN16K>()),
                u(vsmmu.get<R::idr5::GRAN16K>()));
  }
  if (h.get<R::idr5::GRAN64K>() != vsmmu.get<R::idr5::GRAN64K>()) {
    return fail(compat_field::gran64k, u(h.get<R::idr5::GRAN64K>()),
                u(vsmmu.get<R::idr5::GRAN64K>()));
  }
  if (!strict) return std::nullopt;
  if (u(h.get<R::idr0::ASID16>()) < u(vsmmu.get<R::idr0::ASID16>())) {
    return fail(compat_field::asid16, u(h.get<R::idr0::ASID16>()), u(vsmmu.get<R::idr0::ASID16>()));
  }
  if (u(h.get<R::idr3::BBML>()) < u(vsmmu.get<R::idr3::BBML>())) {
    return fail(compat_field::bbml, u(h.get<R::idr3::BBML>()), u(vsmmu.get<R::idr3::BBML>()));
  }
  // STALL_MODEL 0b00 lets software choose, 0b01 forbids stalls, 0b10 forces them: the host must
  // accept every CD.S / STE.S1STALLD the vSMMU's model allows a guest to write.
  const unsigned hs = u(h.get<R::idr0::STALL_MODEL>());
  const unsigned gs = u(vsmmu.get<R::idr0::STALL_MODEL>());
  if (hs != gs && hs != 0b00) return fail(compat_field::stall_model, hs, gs);
  if (u(h.get<R::idr0::TERM_MODEL>()) > u(vsmmu.get<R::idr0::TERM_MODEL>())) {
    return fail(compat_field::term_model, u(h.get<R::idr0::TERM_MODEL>()),
                u(vsmmu.get<R::idr0::TERM_MODEL>()));
  }
  if (u(h.get<R::idr0::CD2L>()) < u(vsmmu.get<R::idr0::CD2L>())) {
    return fail(compat_field::cd2l, u(h.get<R::idr0::CD2L>()), u(vsmmu.get<R::idr0::CD2L>()));
  }
  return std::nullopt;
}

// Per-device ATS (the patch 31 thread: the host driver decides, rolling up firmware overrides
// and the PCIe capability). `on` with a host that refuses is an error; `auto` follows the host,
// falling back, on kernels that never report, to whether the Function has an ATS capability.
struct device_ats_result {
  bool enabled = false;
  bool refused = false;  // policy on, host says no
};

[[nodiscard]] constexpr device_ats_result device_ats(on_off_auto policy,
                                                     const iommufd::hw_info& host,
                                                     bool has_ats_capability) noexcept {
  const bool host_refuses = (host.capabilities & hw_cap_pci_ats_not_supported) != 0;
  switch (policy) {
    case on_off_auto::off:
      return {false, false};
    case on_off_auto::on:
      return {!host_refuses, host_refuses};
    case on_off_auto::automatic:
      return {!host_refuses && has_ats_capability, false};
  }
  return {};
}

// `auto` properties from the first cold-plugged device's host SMMU. RIL and SSIDSIZE are fields
// the uAPI lists; OAS is not (labelled as above), so auto OAS reads it the way the seed's check
// does. OAS is 44 or 48 only: a host below 48 gives 44 (and a host below 44 then fails the
// check, as it would with oas=44). ATS follows the device (device_ats with `auto`).
[[nodiscard]] constexpr resolved_properties resolve_from_host(const properties& p,
                                                              const iommufd::hw_info& host,
                                                              bool has_ats_capability) noexcept {
  namespace R = smmuv3::regs;
  resolved_properties r = resolve_without_host(p);
  const smmuv3::id_registers h = host_id_registers(host);
  if (p.ril == on_off_auto::automatic) r.ril = h.get<R::idr3::RIL>();
  if (p.ats == on_off_auto::automatic) {
    r.ats = device_ats(on_off_auto::automatic, host, has_ats_capability).enabled;
  }
  if (p.oas.automatic) {
    r.oas_bits = static_cast<unsigned>(h.get<R::idr5::OAS>()) >=
                         static_cast<unsigned>(smmuv3::address_size::bits48)
                     ? 48
                     : 44;
  }
  if (p.ssidsize.automatic) {
    const std::uint8_t hs = h.get<R::idr1::SSIDSIZE>();
    r.ssidsize = hs > max_ssidsize ? max_ssidsize : hs;
  }
  return r;
}

}  // namespace vsmmu::accel
