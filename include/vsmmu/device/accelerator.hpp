// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/queue/command.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>

// The device's optional accelerator: what smmu_device's fourth template parameter names when the
// SMMU is backed by the host's physical SMMU (accelerated, nested mode; docs/accel.md). The
// default, no_accelerator, compiles every hook away: the device is then exactly the emulated one.
//
// accel::accelerated_vsmmu<Adapter> is the accelerator vsmmu provides. The device needs no more
// of it than this concept lists, so device/ does not include accel/.
namespace vsmmu::device {

struct no_accelerator {};

// A guest STE, all eight dwords, as the device reads it from the Stream table.
using ste_lookup_result = std::optional<std::array<std::uint64_t, 8>>;

namespace detail {
// What the device's hooks pass as the accelerator's STE source.
struct ste_lookup_archetype {
  ste_lookup_result operator()(std::uint32_t) const noexcept { return std::nullopt; }
};
}  // namespace detail

// The events the device feeds in: a command after its local handling (offer, tagged with its
// queue position), the end of a batch (flush_batch, at CMD_SYNC and when consumption stops),
// CR0.SMMUEN edges, GBPA updates and reset. The results say whether the host failed (ok()) and,
// for commands, which one failed (at) with which CERROR (error).
template <class A>
concept accelerator = requires(A& a, const queue::command& c, std::size_t tag, bool on,
                               std::uint32_t gbpa, detail::ste_lookup_archetype& src) {
  { a.offer(c, tag, src).ok() } -> std::convertible_to<bool>;
  { a.offer(c, tag, src).at } -> std::convertible_to<std::size_t>;
  { a.offer(c, tag, src).error } -> std::convertible_to<smmuv3::cerror>;
  { a.flush_batch().ok() } -> std::convertible_to<bool>;
  { a.set_smmuen(on, src).ok() } -> std::convertible_to<bool>;
  { a.set_gbpa(gbpa, src).ok() } -> std::convertible_to<bool>;
  { a.reset().ok() } -> std::convertible_to<bool>;
};

template <class A>
concept accelerator_or_none = std::same_as<A, no_accelerator> || accelerator<A>;

template <class A>
inline constexpr bool is_accelerated = !std::same_as<A, no_accelerator>;

}  // namespace vsmmu::device
