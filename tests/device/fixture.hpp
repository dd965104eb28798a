#pragma once

// Shared set-up for the device tests: sparse guest memory, a platform that records signals and
// diagnostics, and the device under test.

#include <vsmmu/device/smmu_device.hpp>
#include <vsmmu/memory/sparse.hpp>
#include <vsmmu/queue/recording_signals.hpp>
#include <vsmmu/smmuv3/registers.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace fx {

namespace vd = vsmmu::device;
namespace R = vsmmu::smmuv3::regs;
using vsmmu::memory::sparse_memory;

// Records signals, diagnostics and the engine's invalidation notifications.
struct test_platform : vsmmu::queue::recording_signals {
  std::vector<vd::diagnostic_record> diagnosed;
  std::vector<vsmmu::engine::iotlb_invalidation> iotlb;
  std::vector<vsmmu::engine::config_invalidation> config;
  void diagnose(const vd::diagnostic_record& d) { diagnosed.push_back(d); }
  void iotlb_invalidated(const vsmmu::engine::iotlb_invalidation& i) { iotlb.push_back(i); }
  void config_invalidated(const vsmmu::engine::config_invalidation& c) { config.push_back(c); }
};
static_assert(vd::diagnosing_platform<test_platform>);

template <class Config = vd::default_config>
struct bench {
  using device_type = vd::smmu_device<Config, sparse_memory, test_platform>;
  sparse_memory mem;
  test_platform platform;
  device_type dev{mem, platform};

  std::uint32_t read32(std::uint32_t off) { return static_cast<std::uint32_t>(dev.read(off, 4)); }
  void write32(std::uint32_t off, std::uint32_t v) { dev.write(off, 4, v); }
};

template <class Config = vd::default_config>
std::unique_ptr<bench<Config>> make_bench() {
  return std::make_unique<bench<Config>>();
}

inline constexpr std::uint32_t page1 = R::page_size;

}  // namespace fx
