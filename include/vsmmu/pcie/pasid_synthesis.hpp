// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/pcie/config_model.hpp>
#include <vsmmu/pcie/config_space.hpp>
#include <vsmmu/pcie/gap.hpp>
#include <vsmmu/pcie/init.hpp>
#include <vsmmu/pcie/insert.hpp>
#include <vsmmu/pcie/pasid.hpp>
#include <vsmmu/pcie/walk.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>

// A PASID capability for a passed-through Function whose physical one the host hides (VFIO
// does not expose it), as the seed series does it (patch 36), with its gaps closed: the
// advertised width is clamped to the vSMMU's SSIDSIZE, the body is checked against known
// capabilities, and the gap finder can choose the place.
namespace vsmmu::pcie {

// The seed's default: the last 8 bytes of the extended region.
inline constexpr std::uint16_t default_pasid_offset =
    static_cast<std::uint16_t>(config_space_size - pasid::size_bytes);

struct pasid_synthesis_request {
  std::uint8_t ssidsize = 0;  // the vSMMU's SMMU_IDR1.SSIDSIZE: 0 means no PASID, at most 20
  pasid_params host{};        // the host IOMMU's view of the physical Function
  // Where to put it (vfio-pci's x-vpasid-cap-offset); by default default_pasid_offset, or on
  // an empty list 100h, the only place an empty list can take a capability.
  std::optional<std::uint16_t> offset;
  bool use_gap_finder = false;  // ignore `offset`; the highest free 8 bytes
  insert_mode mode = insert_mode::strict;
};

enum class pasid_synthesis_status : std::uint8_t {
  synthesized,
  viommu_without_pasid,  // SSIDSIZE is 0: the guest cannot use PASIDs
  host_without_pasid,    // the host reports a width of 0
  already_present,       // the physical list exposes a PASID capability
  invalid_ssidsize,      // SSIDSIZE above 20 (IHI 0070 §6.3.2: SubstreamIDs are 20 bits)
  placement_failed,      // see insert or gap: the device goes on without PASID
};

[[nodiscard]] constexpr std::string_view to_string(pasid_synthesis_status s) noexcept {
  switch (s) {
    case pasid_synthesis_status::synthesized:
      return "synthesized";
    case pasid_synthesis_status::viommu_without_pasid:
      return "viommu_without_pasid";
    case pasid_synthesis_status::host_without_pasid:
      return "host_without_pasid";
    case pasid_synthesis_status::already_present:
      return "already_present";
    case pasid_synthesis_status::invalid_ssidsize:
      return "invalid_ssidsize";
    case pasid_synthesis_status::placement_failed:
      return "placement_failed";
  }
  return "unknown";
}

struct pasid_synthesis_result {
  pasid_synthesis_status status = pasid_synthesis_status::synthesized;
  std::uint16_t offset = 0;         // where it is, or was to be placed
  std::uint8_t width = 0;           // the Max PASID Width advertised
  insert_result insert{};           // placement_failed: why the insertion was refused
  gap_error gap = gap_error::none;  // placement_failed with the gap finder: why none was found
  std::optional<ext_cap_entry> existing;  // already_present: the physical capability

  [[nodiscard]] constexpr bool ok() const noexcept {
    return status == pasid_synthesis_status::synthesized;
  }
};

// The width a guest is told. The vSMMU "cannot represent or be presented with SubstreamIDs
// greater than SSIDSIZE" (IHI 0070 §6.3.2): a guest that trusts a wider capability hands the
// device PASIDs the SMMU refuses (C_BAD_SUBSTREAMID, §7.3.9), and only a guest that takes the
// minimum itself is safe. The seed advertises the host's width and relies on that.
[[nodiscard]] constexpr std::uint8_t advertised_pasid_width(std::uint8_t host_width,
                                                            std::uint8_t ssidsize) noexcept {
  return std::min({host_width, ssidsize, pasid::max_pasid_width});
}

// Adds the PASID capability when the policy allows it. On any refusal the model is unchanged:
// the device goes on without PASID, as in the seed. On success all 8 bytes are emulated (the
// VMM answers guest reads and writes; nothing reaches the hardware, which has no such
// registers to the guest's knowledge).
[[nodiscard]] constexpr pasid_synthesis_result synthesize_pasid(
    config_model& m, const pasid_synthesis_request& req) noexcept {
  pasid_synthesis_result r;
  if (req.ssidsize > pasid::max_pasid_width) {
    r.status = pasid_synthesis_status::invalid_ssidsize;
    return r;
  }
  if (req.ssidsize == 0) {
    r.status = pasid_synthesis_status::viommu_without_pasid;
    return r;
  }
  if (req.host.width == 0) {
    r.status = pasid_synthesis_status::host_without_pasid;
    return r;
  }
  if (const auto existing = find_ext_cap(m.config, ext_cap_id::pasid)) {
    r.status = pasid_synthesis_status::already_present;
    r.existing = existing;
    r.offset = existing->offset;
    return r;
  }
  r.width = advertised_pasid_width(req.host.width, req.ssidsize);

  if (req.use_gap_finder) {
    gap_request where;
    where.size = pasid::size_bytes;
    where.placement = gap_placement::end;
    const gap_result g = find_gap(m.config, where);
    if (!g) {
      r.status = pasid_synthesis_status::placement_failed;
      r.gap = g.error;
      return r;
    }
    r.offset = g.offset;
  } else if (req.offset) {
    r.offset = *req.offset;
  } else {
    r.offset = walk_ext_caps(m.config).end == walk_end::empty_list
                   ? static_cast<std::uint16_t>(extended_config_start)
                   : default_pasid_offset;
  }

  config_model candidate = m;
  r.insert =
      insert_ext_cap(candidate, pasid::id, pasid::version, r.offset, pasid::size_bytes, req.mode);
  if (!r.insert) {
    r.status = pasid_synthesis_status::placement_failed;
    return r;
  }
  if (init_pasid(candidate, r.offset, {r.width, req.host.exec, req.host.priv}) !=
      init_error::none) {
    // Unreachable after a successful insert of a PASID header with a width <= 20.
    r.status = pasid_synthesis_status::placement_failed;
    return r;
  }
  fill(candidate.emulated, r.offset, pasid::size_bytes, std::byte{0xFF});
  m = candidate;
  return r;
}

}  // namespace vsmmu::pcie
