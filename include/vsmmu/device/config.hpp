// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/smmuv3/conformance.hpp>
#include <vsmmu/smmuv3/features.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>

// What an embedded SMMU advertises: a feature set, turned into the ID registers the guest reads
// (IHI 0070 §6.3.1-§6.3.8) and checked against the architecture's rules at compile time.
//
//   using my_config = vsmmu::device::config<vsmmu::device::features{.ats = true, .sidsize = 8}>;
//   vsmmu::device::smmu_device<my_config, my_memory, my_platform> smmu{memory, platform};
namespace vsmmu::device {

// A structural type, so that a feature set is a template argument. The defaults describe a
// plain SMMUv3.0 that Linux drives with every feature it uses at probe: both stages and Hyp,
// 2-level stream and CD tables, 16-bit ASIDs/VMIDs, MSIs, 4KB and 64KB granules, 48-bit OAS.
struct features {
  bool stage1 = true;  // IDR0.S1P
  bool stage2 = true;  // IDR0.S2P
  bool hyp = true;     // IDR0.Hyp (needs both stages): EL2 StreamWorlds, TLBI_EL2_*
  smmuv3::address_size oas = smmuv3::address_size::bits48;  // IDR5.OAS
  bool gran4k = true;                                       // IDR5.GRAN4K
  bool gran16k = false;                                     // IDR5.GRAN16K
  bool gran64k = true;                                      // IDR5.GRAN64K
  std::uint8_t sidsize = 16;                                // IDR1.SIDSIZE, StreamID bits
  std::uint8_t ssidsize = 16;                               // IDR1.SSIDSIZE, SubstreamID bits
  bool two_level_stream_table = true;                       // IDR0.ST_LEVEL == 0b01
  bool two_level_cd = true;                                 // IDR0.CD2L
  bool asid16 = true;                                       // IDR0.ASID16
  bool vmid16 = true;                                       // IDR0.VMID16
  bool ril = false;                                         // IDR3.RIL: range invalidation
  bool ats = false;                                         // IDR0.ATS
  bool msi = true;                                          // IDR0.MSI
  // IDR0.HTTU. Advertised as configured; the walker does not yet write back AF/dirty bits.
  smmuv3::regs::httu httu = smmuv3::regs::httu::none;
  std::uint8_t cmdqs = 8;    // IDR1.CMDQS: log2 of the largest Command queue (<= 19)
  std::uint8_t eventqs = 7;  // IDR1.EVENTQS: log2 of the largest Event queue (<= 19)
  smmuv3::regs::arch_minor_rev revision = smmuv3::regs::arch_minor_rev::v3_0;  // AIDR

  friend constexpr bool operator==(const features&, const features&) = default;
};

// The ID registers a feature set is advertised with. Fields no feature names take the values
// vsmmu's walker implements: AArch64 tables, little-endian walks, coherent accesses, no stalls
// (PCIe cannot stall), no PRI, no ECMDQ, no presets.
[[nodiscard]] constexpr smmuv3::id_registers id_registers_of(const features& f) noexcept {
  namespace R = smmuv3::regs;
  R::idr0::value idr0;
  idr0.init<R::idr0::ST_LEVEL>(f.two_level_stream_table ? R::st_level::two_level
                                                        : R::st_level::linear)
      .init<R::idr0::STALL_MODEL>(R::stall_model::terminate_only)
      .init<R::idr0::TTENDIAN>(R::ttendian::little)
      .init<R::idr0::CD2L>(f.two_level_cd)
      .init<R::idr0::VMID16>(f.vmid16)
      .init<R::idr0::MSI>(f.msi)
      .init<R::idr0::ASID16>(f.asid16)
      .init<R::idr0::ATS>(f.ats)
      .init<R::idr0::Hyp>(f.hyp)
      .init<R::idr0::HTTU>(f.httu)
      .init<R::idr0::COHACC>(true)
      .init<R::idr0::TTF>(R::ttf::aarch64)
      .init<R::idr0::S1P>(f.stage1)
      .init<R::idr0::S2P>(f.stage2);
  R::idr1::value idr1;
  idr1.init<R::idr1::CMDQS>(f.cmdqs)
      .init<R::idr1::EVENTQS>(f.eventqs)
      .init<R::idr1::SSIDSIZE>(f.ssidsize)
      .init<R::idr1::SIDSIZE>(f.sidsize);
  R::idr3::value idr3;
  idr3.init<R::idr3::RIL>(f.ril);
  R::idr5::value idr5;
  idr5.init<R::idr5::GRAN64K>(f.gran64k)
      .init<R::idr5::GRAN16K>(f.gran16k)
      .init<R::idr5::GRAN4K>(f.gran4k)
      .init<R::idr5::OAS>(f.oas);
  R::aidr::value aidr;
  aidr.init<R::aidr::ArchMinorRev>(f.revision);
  return smmuv3::make_id_registers(idr0, idr1, R::idr2::value{}, idr3, R::idr4::value{}, idr5,
                                   aidr);
}

// A device configuration: a type with `static constexpr smmuv3::id_registers id_registers`.
// smmu_device checks it with smmuv3::conforms at compile time (a broken rule is named in the
// error), so a configuration can also be written as raw ID registers.
template <class C>
concept device_config = requires {
  { C::id_registers } -> std::convertible_to<smmuv3::id_registers>;
};

// The configuration for a feature set.
template <features F = features{}>
struct config {
  static constexpr device::features feature_set = F;
  static constexpr smmuv3::id_registers id_registers = id_registers_of(F);
};

// A configuration from ID registers written by hand (or read from real hardware).
template <smmuv3::id_registers R>
struct raw_config {
  static constexpr smmuv3::id_registers id_registers = R;
};

using default_config = config<>;

namespace detail {
// IOTLB entries of the device's engine: Config::iotlb_capacity when given, else 4096.
template <class C>
[[nodiscard]] consteval std::size_t iotlb_capacity() noexcept {
  if constexpr (requires { C::iotlb_capacity; }) {
    return C::iotlb_capacity;
  } else {
    return 4096;
  }
}
}  // namespace detail

}  // namespace vsmmu::device
