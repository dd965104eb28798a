// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/accel/iommufd/adapter.hpp>
#include <vsmmu/smmuv3/events.hpp>

#include <array>
#include <cstdint>
#include <optional>

// Host events for the guest's event queue. The kernel's vEVENTQ carries the physical SMMU's
// event records for the vIOMMU's devices with the StreamID already rewritten to the vSID, and
// only stage-1 configuration and translation events (the host keeps stage-2 faults). Each record
// has a sequence number; a gap, or a lost-events marker, means the guest's queue must show an
// overflow (SMMU_EVENTQ_PROD.OVFLG, IHI 0070 §7.4) since events it should have seen are gone.
namespace vsmmu::accel {

using event_record = std::array<std::uint64_t, 4>;

// Sequence numbers run 0..INT_MAX and wrap to 0.
inline constexpr std::uint32_t vevent_sequence_max = 0x7fff'ffffU;

class vevent_sequence {
 public:
  // Feeds one record's sequence number; true when events were lost before it.
  constexpr bool next(std::uint32_t seq) noexcept {
    const bool gap = last_ && seq != following(*last_);
    last_ = seq;
    return gap;
  }
  [[nodiscard]] constexpr std::optional<std::uint32_t> last() const noexcept { return last_; }

 private:
  [[nodiscard]] static constexpr std::uint32_t following(std::uint32_t s) noexcept {
    return s >= vevent_sequence_max ? 0 : s + 1;
  }
  std::optional<std::uint32_t> last_;
};

// The event types a vEVENTQ may carry for the guest: architected numbers (§7.3) and the
// IMPLEMENTATION DEFINED ones are passed on; a Reserved number is dropped, since the guest's
// driver could not decode it.
[[nodiscard]] constexpr bool guest_visible_event(const event_record& e) noexcept {
  const auto type = static_cast<std::uint8_t>(e[0] & 0xff);
  return smmuv3::find_event(type) != nullptr;
}

[[nodiscard]] constexpr std::uint32_t event_sid(const event_record& e) noexcept {
  return static_cast<std::uint32_t>(e[0] >> 32);
}

}  // namespace vsmmu::accel
