// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/queue/command.hpp>
#include <vsmmu/walk/result.hpp>
#include <vsmmu/walk/smmu_features.hpp>
#include <vsmmu/walk/translate.hpp>

// The device's translation path without caches: every transaction walks the stream table, CD
// and page tables afresh, so every invalidation command trivially holds (there is nothing to
// invalidate). The device uses engine::smmu_engine when it is available; this is the
// architecturally equivalent minimal path it falls back to.
namespace vsmmu::device::detail {

template <memory::readable_memory M>
class uncached_engine {
 public:
  constexpr explicit uncached_engine(const M& memory) noexcept : memory_(&memory) {}

  [[nodiscard]] constexpr walk::result translate(const walk::transaction& t) const noexcept {
    return walk::translate(*memory_, state_, t);
  }
  // Nothing is cached, so every valid command is complete as soon as it is consumed.
  constexpr queue::command_status execute(const queue::command&) noexcept {
    return queue::command_status::ok;
  }
  constexpr void set_state(const walk::smmu_state& s) noexcept { state_ = s; }
  [[nodiscard]] constexpr const walk::smmu_state& state() const noexcept { return state_; }
  constexpr void invalidate_all() noexcept {}

 private:
  const M* memory_;
  walk::smmu_state state_{};
};

}  // namespace vsmmu::device::detail
