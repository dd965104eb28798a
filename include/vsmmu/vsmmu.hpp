// SPDX-License-Identifier: BSL-1.0
// The umbrella header: everything vsmmu offers. Include the focused headers instead where
// compile time matters (each compiles on its own).
#pragma once

#include <vsmmu/version.hpp>

// The constexpr layout core.
#include <vsmmu/layout/decode.hpp>
#include <vsmmu/layout/dynamic.hpp>
#include <vsmmu/layout/field.hpp>
#include <vsmmu/layout/for_each_field.hpp>
#include <vsmmu/layout/layout.hpp>
#include <vsmmu/layout/value.hpp>

// The SMMUv3 architecture as data (IHI 0070).
#include <vsmmu/smmuv3/catalog.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/commands.hpp>
#include <vsmmu/smmuv3/conformance.hpp>
#include <vsmmu/smmuv3/encodings.hpp>
#include <vsmmu/smmuv3/events.hpp>
#include <vsmmu/smmuv3/features.hpp>
#include <vsmmu/smmuv3/l1.hpp>
#include <vsmmu/smmuv3/registers.hpp>
#include <vsmmu/smmuv3/ste.hpp>

// Guest memory, translation (stream table, STE/CD, stage-1/stage-2/nested walks, faults), the
// IOTLB, and the table builder for tests. <vsmmu/testing/guest_model.hpp>, a random guest for
// differential tests and fuzzers, is left out (a test tool): include it where you use it.
#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/memory/flat.hpp>
#include <vsmmu/memory/sparse.hpp>
#include <vsmmu/testing/commands.hpp>
#include <vsmmu/testing/counting_memory.hpp>
#include <vsmmu/testing/table_builder.hpp>
#include <vsmmu/tlb/iotlb.hpp>
#include <vsmmu/tlb/range_invalidation.hpp>
#include <vsmmu/walk/from_registers.hpp>
#include <vsmmu/walk/translate.hpp>

// Command and event queues (IHI 0070 §3.5, §4, §7).
#include <vsmmu/queue/command_queue.hpp>
#include <vsmmu/queue/event_queue.hpp>
#include <vsmmu/queue/recording_signals.hpp>

// The translation engine (configuration cache + IOTLB in front of the walk) and the embeddable
// device model around it.
#include <vsmmu/cache/config_cache.hpp>
#include <vsmmu/device/smmu_device.hpp>
#include <vsmmu/engine/micro_tlb.hpp>
#include <vsmmu/engine/notifications.hpp>
#include <vsmmu/engine/smmu_engine.hpp>

// The accelerated (nested) mode over Linux iommufd. <vsmmu/accel/iommufd/linux.hpp>, the real
// ioctl adapter, is left out: include it yourself on Linux.
#include <vsmmu/accel/iommufd/adapter.hpp>
#include <vsmmu/accel/iommufd/kernel_rules.hpp>
#include <vsmmu/accel/iommufd/simulated_kernel.hpp>
#include <vsmmu/accel/iommufd/uapi.hpp>
#include <vsmmu/accel/accelerated_vsmmu.hpp>
#include <vsmmu/accel/msi.hpp>

// PCIe extended capabilities: layouts, the config-space model, the hostile-proof walk,
// insertion, the gap finder and PASID synthesis.
#include <vsmmu/pcie/ats.hpp>
#include <vsmmu/pcie/capability_size.hpp>
#include <vsmmu/pcie/config_model.hpp>
#include <vsmmu/pcie/config_space.hpp>
#include <vsmmu/pcie/ext_cap.hpp>
#include <vsmmu/pcie/gap.hpp>
#include <vsmmu/pcie/init.hpp>
#include <vsmmu/pcie/insert.hpp>
#include <vsmmu/pcie/lspci_dump.hpp>
#include <vsmmu/pcie/pasid.hpp>
#include <vsmmu/pcie/pasid_synthesis.hpp>
#include <vsmmu/pcie/pri.hpp>
#include <vsmmu/pcie/walk.hpp>
