// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

// MSIs of passed-through devices in accelerated mode (the seed's patches 16-18, 25). The guest's
// stage 1 lives in the host SMMU, so the VMM must never walk it: an MSI route gets the doorbell's
// guest-physical address directly, and the guest keeps an identity stage-1 mapping over the host
// driver's MSI window because firmware describes it with an IORT RMR node.
namespace vsmmu::accel {

enum class msi_controller_kind : std::uint8_t { none, its, gicv2m };

struct msi_controller {
  msi_controller_kind kind = msi_controller_kind::none;
  std::uint64_t base = 0;  // the ITS or GICv2m frame's guest-physical base
};

// GITS_TRANSLATER is at 0x0040 of the ITS translation frame, the second 64KB page (GICv3/v4
// architecture); MSI_SETSPI_NS is at 0x040 of a GICv2m frame.
inline constexpr std::uint64_t its_translater_offset = 0x1'0040;
inline constexpr std::uint64_t gicv2m_setspi_ns_offset = 0x40;

enum class msi_error : std::uint8_t {
  none,
  no_msi_controller,  // the seed leaves msi-gpa 0 and asserts later; here an error
  base_overflow,      // base + offset wraps
};

[[nodiscard]] constexpr std::string_view message(msi_error e) noexcept {
  switch (e) {
    case msi_error::none:
      return {};
    case msi_error::no_msi_controller:
      return "accelerated SMMUv3 needs an ITS or a GICv2m for MSI doorbells";
    case msi_error::base_overflow:
      return "MSI controller base too high for its doorbell";
  }
  return {};
}

struct msi_doorbell {
  msi_error error = msi_error::none;
  std::uint64_t gpa = 0;
  [[nodiscard]] constexpr explicit operator bool() const noexcept {
    return error == msi_error::none;
  }
};

[[nodiscard]] constexpr msi_doorbell msi_doorbell_gpa(const msi_controller& c) noexcept {
  std::uint64_t offset = 0;
  switch (c.kind) {
    case msi_controller_kind::its:
      offset = its_translater_offset;
      break;
    case msi_controller_kind::gicv2m:
      offset = gicv2m_setspi_ns_offset;
      break;
    case msi_controller_kind::none:
      return {msi_error::no_msi_controller, 0};
  }
  if (c.base > ~std::uint64_t{0} - offset) return {msi_error::base_overflow, 0};
  return {msi_error::none, c.base + offset};
}

// An MSI route's address from the direct doorbell (patch 16): the guest-programmed address (a
// guest IOVA) is ignored; the route takes the doorbell's low and high words.
struct msi_route_address {
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
};
[[nodiscard]] constexpr msi_route_address split_msi_address(std::uint64_t gpa) noexcept {
  return {static_cast<std::uint32_t>(gpa), static_cast<std::uint32_t>(gpa >> 32)};
}

// The host arm-smmu-v3 driver's software MSI window (MSI_IOVA_BASE, MSI_IOVA_LENGTH).
inline constexpr std::uint64_t host_msi_iova_base = 0x0800'0000;
inline constexpr std::uint64_t host_msi_iova_length = 0x0010'0000;

// IORT (ARM DEN 0049E.d) Reserved Memory Range node, revision 3, with one ID mapping and one
// memory range descriptor: 68 bytes. The table carrying it must be IORT revision 5 or later.
namespace iort {
inline constexpr std::uint8_t table_revision = 5;
inline constexpr std::uint8_t rmr_node_type = 6;
inline constexpr std::uint8_t rmr_node_revision = 3;
inline constexpr std::size_t rmr_header_size = 28;  // node header + RMR fields
inline constexpr std::size_t id_mapping_size = 20;
inline constexpr std::size_t mem_range_size = 20;
inline constexpr std::size_t rmr_node_size = rmr_header_size + id_mapping_size + mem_range_size;
static_assert(rmr_node_size == 68);
inline constexpr std::uint32_t id_mapping_single = 1;  // ID mapping flags bit 0

struct rmr_node_params {
  std::uint32_t identifier = 0;        // the table's running node identifier
  std::uint32_t input_base = 0;        // the SMMU's first RC ID mapping's input base
  std::uint32_t id_count = 0;          // that mapping's number of IDs (the node stores count-1)
  std::uint32_t smmu_node_offset = 0;  // output reference: the SMMUv3 node's offset in IORT
  std::uint64_t range_base = host_msi_iova_base;
  std::uint64_t range_length = host_msi_iova_length;
  std::uint32_t flags = 0;  // RMR flags: remapping not permitted, unprivileged, Device-nGnRnE
};

namespace detail {
template <std::size_t N>
constexpr void put(std::array<std::byte, rmr_node_size>& b, std::size_t at,
                   std::uint64_t v) noexcept {
  for (std::size_t i = 0; i < N; ++i) b[at + i] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
}
}  // namespace detail

// The node's bytes, little-endian, as the seed lays it out (patch 25). The seed marks the ID
// mapping "single" although it covers the whole bus range; kept bit-exact.
[[nodiscard]] constexpr std::array<std::byte, rmr_node_size> encode_rmr_node(
    const rmr_node_params& p) noexcept {
  std::array<std::byte, rmr_node_size> b{};
  detail::put<1>(b, 0, rmr_node_type);
  detail::put<2>(b, 1, rmr_node_size);
  detail::put<1>(b, 3, rmr_node_revision);
  detail::put<4>(b, 4, p.identifier);
  detail::put<4>(b, 8, 1);                 // number of ID mappings
  detail::put<4>(b, 12, rmr_header_size);  // reference to the ID array
  detail::put<4>(b, 16, p.flags);
  detail::put<4>(b, 20, 1);  // number of memory range descriptors
  detail::put<4>(b, 24, rmr_header_size + id_mapping_size);
  // ID mapping: input base, number of IDs - 1, output base, output reference, flags.
  detail::put<4>(b, 28, p.input_base);
  detail::put<4>(b, 32, p.id_count == 0 ? 0 : p.id_count - 1);
  detail::put<4>(b, 36, p.input_base);
  detail::put<4>(b, 40, p.smmu_node_offset);
  detail::put<4>(b, 44, id_mapping_single);
  // Memory range descriptor: base, length, reserved.
  detail::put<8>(b, 48, p.range_base);
  detail::put<8>(b, 56, p.range_length);
  detail::put<4>(b, 64, 0);
  return b;
}
}  // namespace iort

}  // namespace vsmmu::accel
