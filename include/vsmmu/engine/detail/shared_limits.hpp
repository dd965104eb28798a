// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/walk/smmu_features.hpp>

#include <atomic>
#include <cstdint>
#include <new>
#include <utility>

namespace vsmmu::engine::detail {

// An immutable walk::decode_limits shared by the engine and the walks that decode outside its
// mutex, freed by its last holder. A reference count of its own rather than std::shared_ptr:
// <memory> alone added ~10% to the umbrella header's front-end allocation.
class shared_limits {
 public:
  shared_limits() noexcept = default;

  // None when the allocation fails: the decoders then read the features rule by rule.
  [[nodiscard]] static shared_limits make(const walk::smmu_features& f) noexcept {
    shared_limits s;
    s.p_ = new (std::nothrow) block{walk::decode_limits(f)};
    return s;
  }

  shared_limits(const shared_limits& o) noexcept : p_(o.p_) {
    if (p_ != nullptr) p_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  shared_limits(shared_limits&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  shared_limits& operator=(shared_limits o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~shared_limits() {
    // acq_rel: every holder's reads of the limits happen before the delete.
    if (p_ != nullptr && p_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p_;
  }

  [[nodiscard]] const walk::decode_limits* get() const noexcept {
    return p_ != nullptr ? &p_->limits : nullptr;
  }
  explicit operator bool() const noexcept { return p_ != nullptr; }

 private:
  struct block {
    walk::decode_limits limits;
    std::atomic<std::uint32_t> refs{1};
  };
  block* p_ = nullptr;
};

}  // namespace vsmmu::engine::detail
