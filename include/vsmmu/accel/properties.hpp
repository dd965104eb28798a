// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/smmuv3/encodings.hpp>
#include <vsmmu/smmuv3/features.hpp>

#include <cstdint>
#include <string_view>

// The accelerated vSMMU's user properties (the seed series' `ril`, `ats`, `oas`, `ssidsize`,
// patches 29-31 and 37) and the ID registers they produce. Each also accepts `auto`, which the
// reviewers asked for (patch 31 thread): resolved from the first cold-plugged device's host
// SMMU, then frozen, because the guest reads the ID registers from boot on.
namespace vsmmu::accel {

enum class on_off_auto : std::uint8_t { off, on, automatic };

// A numeric property that may be left to the host.
struct numeric_property {
  bool automatic = false;
  std::uint8_t value = 0;
  friend constexpr bool operator==(const numeric_property&, const numeric_property&) = default;
};

struct properties {
  on_off_auto ril = on_off_auto::on;    // SMMU_IDR3.RIL; default on (patch 29)
  on_off_auto ats = on_off_auto::off;   // SMMU_IDR0.ATS; default off (patch 30)
  numeric_property oas{false, 44};      // bits: 44 or 48 (patch 31)
  numeric_property ssidsize{false, 0};  // SubstreamID bits, 0 to 20 (patch 37)

  // Nothing left to the host: the vSMMU can boot with no device at all.
  [[nodiscard]] constexpr bool fully_specified() const noexcept {
    return ril != on_off_auto::automatic && ats != on_off_auto::automatic && !oas.automatic &&
           !ssidsize.automatic;
  }
  friend constexpr bool operator==(const properties&, const properties&) = default;
};

// Every property with a value.
struct resolved_properties {
  bool ril = true;
  bool ats = false;
  std::uint8_t oas_bits = 44;
  std::uint8_t ssidsize = 0;
  friend constexpr bool operator==(const resolved_properties&,
                                   const resolved_properties&) = default;
};

// IHI 0070 §6.3.2: SubstreamIDs are at most 20 bits.
inline constexpr std::uint8_t max_ssidsize = 20;

enum class property_error : std::uint8_t {
  none,
  ril_without_accel,       // ril=off (or auto) with accel=off
  ats_without_accel,       // ats=on (or auto) with accel=off
  oas_without_accel,       // oas != 44 (or auto) with accel=off
  ssidsize_without_accel,  // ssidsize != 0 (or auto) with accel=off
  oas_value,               // accel=on, oas not 44 or 48
  ssidsize_range,          // accel=on, ssidsize above 20
};

// The seed's messages (patches 29-31, 37), kept stable for tests and logs.
[[nodiscard]] constexpr std::string_view message(property_error e) noexcept {
  switch (e) {
    case property_error::none:
      return {};
    case property_error::ril_without_accel:
      return "ril can only be disabled if accel=on";
    case property_error::ats_without_accel:
      return "ats can only be enabled if accel=on";
    case property_error::oas_without_accel:
      return "OAS must be 44 bits when accel=off";
    case property_error::ssidsize_without_accel:
      return "ssidsize can only be set if accel=on";
    case property_error::oas_value:
      return "OAS can only be set to 44 or 48 bits";
    case property_error::ssidsize_range:
      return "ssidsize must be in the range 0 to 20";
  }
  return {};
}

// The seed's order: with accel off ril, ats, oas, ssidsize; with accel on oas, ssidsize. The
// first failure wins.
[[nodiscard]] constexpr property_error validate(bool accel, const properties& p) noexcept {
  if (!accel) {
    if (p.ril != on_off_auto::on) return property_error::ril_without_accel;
    if (p.ats != on_off_auto::off) return property_error::ats_without_accel;
    if (p.oas.automatic || p.oas.value != 44) return property_error::oas_without_accel;
    if (p.ssidsize.automatic || p.ssidsize.value != 0) {
      return property_error::ssidsize_without_accel;
    }
    return property_error::none;
  }
  if (!p.oas.automatic && p.oas.value != 44 && p.oas.value != 48) return property_error::oas_value;
  if (!p.ssidsize.automatic && p.ssidsize.value > max_ssidsize) {
    return property_error::ssidsize_range;
  }
  return property_error::none;
}

// What an `auto` resolves to when no device ever tells: the seed's defaults.
[[nodiscard]] constexpr resolved_properties resolve_without_host(const properties& p) noexcept {
  resolved_properties r;
  r.ril = p.ril != on_off_auto::off;
  r.ats = p.ats == on_off_auto::on;
  r.oas_bits = p.oas.automatic ? 44 : p.oas.value;
  r.ssidsize = p.ssidsize.automatic ? 0 : p.ssidsize.value;
  return r;
}

// The ID registers of the seed's accelerated vSMMU before the properties apply (patch 20):
// stage 1 only (the host owns stage 2), AArch64 tables, little-endian, 2-level stream tables,
// 16-bit StreamIDs, no stalls, 4KB/16KB/64KB granules, SMMUv3.1.
[[nodiscard]] constexpr smmuv3::id_registers seed_id_registers() noexcept {
  namespace R = smmuv3::regs;
  R::idr0::value idr0;
  idr0.init<R::idr0::ST_LEVEL>(R::st_level::two_level)
      .init<R::idr0::TERM_MODEL>(true)
      .init<R::idr0::STALL_MODEL>(R::stall_model::terminate_only)
      .init<R::idr0::TTENDIAN>(R::ttendian::little)
      .init<R::idr0::VMID16>(true)
      .init<R::idr0::ASID16>(true)
      .init<R::idr0::COHACC>(true)
      .init<R::idr0::TTF>(R::ttf::aarch64)
      .init<R::idr0::S1P>(true);
  R::idr1::value idr1;
  idr1.init<R::idr1::CMDQS>(19).init<R::idr1::EVENTQS>(19).init<R::idr1::SIDSIZE>(16);
  R::idr3::value idr3;
  idr3.init<R::idr3::BBML>(R::bbml::level2).init<R::idr3::RIL>(true).init<R::idr3::HAD>(true);
  R::idr5::value idr5;
  idr5.init<R::idr5::GRAN64K>(true)
      .init<R::idr5::GRAN16K>(true)
      .init<R::idr5::GRAN4K>(true)
      .init<R::idr5::OAS>(smmuv3::address_size::bits44);
  R::aidr::value aidr;
  aidr.init<R::aidr::ArchMinorRev>(R::arch_minor_rev::v3_1);
  return smmuv3::make_id_registers(idr0, idr1, R::idr2::value{}, idr3, R::idr4::value{}, idr5,
                                   aidr);
}

// The properties written into a set of ID registers (the seed's accel ID override hook).
[[nodiscard]] constexpr smmuv3::id_registers apply(const resolved_properties& p,
                                                   smmuv3::id_registers base) noexcept {
  namespace R = smmuv3::regs;
  return base.with<R::idr3::RIL>(p.ril)
      .with<R::idr0::ATS>(p.ats)
      .with<R::idr5::OAS>(p.oas_bits == 48 ? smmuv3::address_size::bits48
                                           : smmuv3::address_size::bits44)
      .with<R::idr1::SSIDSIZE>(p.ssidsize);
}

// The vIOMMU flags VFIO consults before it builds a device's stage 2 (patches 11, 37).
inline constexpr std::uint64_t viommu_flag_want_nesting_parent = 1U << 0;
inline constexpr std::uint64_t viommu_flag_pasid_supported = 1U << 1;

[[nodiscard]] constexpr std::uint64_t viommu_flags(const resolved_properties& p) noexcept {
  return viommu_flag_want_nesting_parent | (p.ssidsize > 0 ? viommu_flag_pasid_supported : 0);
}

}  // namespace vsmmu::accel
