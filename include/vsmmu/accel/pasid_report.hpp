// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/accel/host_compat.hpp>
#include <vsmmu/pcie/init.hpp>
#include <vsmmu/pcie/pasid_synthesis.hpp>

#include <cstdint>
#include <optional>

// What a passed-through Function's PASID capability synthesis (pcie/pasid_synthesis.hpp) needs
// from the accelerated mode (the seed's patches 32, 33, 36, 37): the host's PASID width and
// Execute/Privileged support for that device, and the vSMMU's SSIDSIZE.
namespace vsmmu::accel {

// get_pasid_info: none when the host reports a width of 0 (and then EXEC/PRIV mean nothing).
[[nodiscard]] constexpr std::optional<pcie::pasid_params> host_pasid(
    const iommufd::hw_info& host) noexcept {
  if (host.max_pasid_log2 == 0) return std::nullopt;
  pcie::pasid_params p;
  p.width = host.max_pasid_log2;
  p.exec = host.pasid_exec();
  p.priv = host.pasid_priv();
  return p;
}

struct pasid_report {
  std::optional<pcie::pasid_params> host;  // nullopt: no host PASID (or no host device)
  std::uint8_t ssidsize = 0;               // the vSMMU's SMMU_IDR1.SSIDSIZE

  // The request for pcie::synthesize_pasid; placement is the embedder's (its defaults are the
  // seed's: 0xFF8, or the vfio-pci x-vpasid-cap-offset).
  [[nodiscard]] constexpr pcie::pasid_synthesis_request request() const noexcept {
    pcie::pasid_synthesis_request r;
    r.ssidsize = ssidsize;
    if (host) r.host = *host;  // a width of 0 makes synthesis report host_without_pasid
    return r;
  }
};

}  // namespace vsmmu::accel
