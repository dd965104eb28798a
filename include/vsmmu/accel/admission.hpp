// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstdint>
#include <string_view>

// Which devices an accelerated vSMMU takes (the seed's patch 10). Only a passed-through Function
// can use the host's nested translation; an emulated endpoint behind it would need every
// SID-less invalidation (CMD_TLBI_NH_ASID, ...) applied both to a software IOTLB and to the
// host, so it is refused. Non-endpoints (bridges, ports, the host bridge's own Function) are
// taken and keep the emulated address space. The embedder names the kind of the actual
// requesting device, not of whatever sits at an aliased requester ID (the seed's aliasing gap).
namespace vsmmu::accel {

enum class device_kind : std::uint8_t {
  pci_bridge,         // any PCI-PCI bridge, including PCIe-to-PCI
  root_port,          // PCIe root port
  switch_port,        // PCIe switch upstream or downstream port
  expander_bridge,    // pxb-pcie
  host_bridge_root,   // the host bridge's own Function (gpex-root)
  vfio_iommufd,       // vfio-pci bound through the iommufd cdev
  vfio_legacy,        // vfio-pci on a legacy VFIO container
  emulated_endpoint,  // anything else
};

[[nodiscard]] constexpr std::string_view to_string(device_kind k) noexcept {
  switch (k) {
    case device_kind::pci_bridge:
      return "pci_bridge";
    case device_kind::root_port:
      return "root_port";
    case device_kind::switch_port:
      return "switch_port";
    case device_kind::expander_bridge:
      return "expander_bridge";
    case device_kind::host_bridge_root:
      return "host_bridge_root";
    case device_kind::vfio_iommufd:
      return "vfio_iommufd";
    case device_kind::vfio_legacy:
      return "vfio_legacy";
    case device_kind::emulated_endpoint:
      return "emulated_endpoint";
  }
  return "unknown";
}

enum class admission : std::uint8_t {
  accelerated,            // bound to the host: the VM-wide system address space, nested HWPTs
  emulated_non_endpoint,  // taken; keeps the vSMMU's emulated address space
  refused_legacy_vfio,
  refused_emulated,
};

[[nodiscard]] constexpr admission admit(device_kind k) noexcept {
  switch (k) {
    case device_kind::pci_bridge:
    case device_kind::root_port:
    case device_kind::switch_port:
    case device_kind::expander_bridge:
    case device_kind::host_bridge_root:
      return admission::emulated_non_endpoint;
    case device_kind::vfio_iommufd:
      return admission::accelerated;
    case device_kind::vfio_legacy:
      return admission::refused_legacy_vfio;
    case device_kind::emulated_endpoint:
      return admission::refused_emulated;
  }
  return admission::refused_emulated;
}

[[nodiscard]] constexpr bool admitted(admission a) noexcept {
  return a == admission::accelerated || a == admission::emulated_non_endpoint;
}

// The seed's messages, verbatim (its device is "arm-smmuv3,accel=on").
[[nodiscard]] constexpr std::string_view message(admission a) noexcept {
  switch (a) {
    case admission::accelerated:
    case admission::emulated_non_endpoint:
      return {};
    case admission::refused_legacy_vfio:
      return "vfio-pci endpoint devices without an iommufd backend not allowed when using "
             "arm-smmuv3,accel=on";
    case admission::refused_emulated:
      return "Emulated endpoint devices are not allowed when using arm-smmuv3,accel=on";
  }
  return {};
}

}  // namespace vsmmu::accel
