#pragma once

// Configuration spaces shaped like real Functions, for the walk, insertion, gap and synthesis
// tests. Offsets and sizes are written out here by hand, independently of capability_size.hpp.

#include <vsmmu/pcie/config_model.hpp>
#include <vsmmu/pcie/ext_cap.hpp>

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace pcie_test {

namespace pcie = vsmmu::pcie;
using pcie::ext_cap_id;

struct cap_spec {
  std::uint16_t offset;
  ext_cap_id id;
  std::uint8_t version;
  // Bytes the capability occupies as the test knows it; 4 when its size is unknown.
  std::uint32_t size;
};

inline void put32(pcie::config_model& m, std::size_t offset, std::uint32_t v) {
  pcie::store32(m.config, offset, v);
}

// A PCIe endpoint: vendor 8086 device 1572, Status.Capabilities List, capability pointer 40h,
// a PCI Express capability (ID 10h, version 2, endpoint, x8 link) at 40h as the only legacy
// capability, then the extended capabilities linked in the order given.
inline pcie::config_model device_with(std::initializer_list<cap_spec> caps) {
  pcie::config_model m;
  put32(m, 0x00, 0x1572'8086);
  put32(m, 0x04, 0x0010'0000);  // Status bit 4: capability list
  put32(m, 0x08, 0x0200'0001);  // Ethernet controller, revision 1
  m.config[0x34] = std::byte{0x40};
  put32(m, 0x40, 0x0002'0010);             // PCIe capability v2, endpoint, next 0
  put32(m, 0x40 + 0x0C, (8u << 4) | 0x3);  // Link Capabilities: x8, 8 GT/s
  const cap_spec* prev = nullptr;
  for (const cap_spec& c : caps) {
    put32(m, c.offset, pcie::ext_cap::make_header(c.id, c.version, 0));
    if (prev != nullptr) {
      put32(m, prev->offset, pcie::ext_cap::make_header(prev->id, prev->version, c.offset));
    }
    prev = &c;
  }
  return m;
}

// An Intel-NIC-like list, ascending, capabilities back to back and at odd offsets.
inline const std::vector<cap_spec> nic_caps{
    {0x100, ext_cap_id::aer, 2, 0x38},  // no TLP Prefix Log
    {0x140, ext_cap_id::dsn, 1, 0x0C},
    {0x150, ext_cap_id::ari, 1, 0x08},
    {0x160, ext_cap_id::sriov, 1, 0x40},
    {0x1A0, ext_cap_id::tph, 1, 0x0C},
    {0x1B0, ext_cap_id::acs, 1, 0x08},
    {0x1C0, ext_cap_id::ats, 1, 0x08},
    {0x1D0, ext_cap_id::vsec, 1, 0x14},
    {0x1E4, ext_cap_id::ltr, 1, 0x08},
    {0x2A4, ext_cap_id::l1pm_substates, 1, 0x10},
    {0x300, ext_cap_id::ide, 1, 0x04},  // a size the library does not compute: header only
};

inline pcie::config_model nic() {
  pcie::config_model m =
      device_with({nic_caps[0], nic_caps[1], nic_caps[2], nic_caps[3], nic_caps[4], nic_caps[5],
                   nic_caps[6], nic_caps[7], nic_caps[8], nic_caps[9], nic_caps[10]});
  put32(m, 0x1D0 + 4, (0x014u << 20) | (1u << 16) | 0x0001);  // VSEC ID 1, rev 1, length 14h
  return m;
}

// A list that is not in ascending order, as some devices have (and as QEMU's vfio-pci rebuild
// can leave one): 100h -> 300h -> 150h -> 200h.
inline const std::vector<cap_spec> unordered_caps{
    {0x100, ext_cap_id::aer, 1, 0x38},
    {0x300, ext_cap_id::vsec, 1, 0x10},
    {0x150, ext_cap_id::dsn, 1, 0x0C},
    {0x200, ext_cap_id::ltr, 1, 0x08},
};

inline pcie::config_model unordered() {
  pcie::config_model m =
      device_with({unordered_caps[0], unordered_caps[1], unordered_caps[2], unordered_caps[3]});
  put32(m, 0x300 + 4, (0x010u << 20) | (1u << 16) | 0x0002);  // VSEC length 10h
  return m;
}

}  // namespace pcie_test
