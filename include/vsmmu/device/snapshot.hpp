// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/smmuv3/features.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

// The device's architectural state and its save/restore format: a versioned little-endian byte
// blob (for live migration and checkpoints), independent of the host's layout and padding.
//
//   offset  size  what
//   0       8     magic "vSMMUv3\0"
//   8       4     format version (snapshot_version)
//   12      4     number of 64-bit state words that follow the ID registers
//   16      28    SMMU_IDR0-5 and SMMU_AIDR of the saving device (must match to restore)
//   44      8*N   the register_state fields, in declaration order, each as 64 bits
namespace vsmmu::device {

// Every software-visible register that is state (ID registers come from the configuration),
// and the one piece of hidden state the architecture defines.
// GBPA never holds Update == 1: Updates complete at once.
struct register_state {
  std::uint32_t cr0 = 0;
  std::uint32_t cr0ack = 0;
  std::uint32_t cr1 = 0;
  std::uint32_t cr2 = 0;
  std::uint32_t gbpa = 0;
  std::uint32_t irq_ctrl = 0;
  std::uint32_t irq_ctrlack = 0;
  std::uint32_t gerror = 0;
  std::uint32_t gerrorn = 0;
  std::uint64_t gerror_irq_cfg0 = 0;
  std::uint32_t gerror_irq_cfg1 = 0;
  std::uint32_t gerror_irq_cfg2 = 0;
  std::uint64_t strtab_base = 0;
  std::uint32_t strtab_base_cfg = 0;
  std::uint64_t cmdq_base = 0;
  std::uint32_t cmdq_prod = 0;
  std::uint32_t cmdq_cons = 0;
  std::uint64_t eventq_base = 0;
  std::uint32_t eventq_prod = 0;
  std::uint32_t eventq_cons = 0;
  std::uint64_t eventq_irq_cfg0 = 0;
  std::uint32_t eventq_irq_cfg1 = 0;
  std::uint32_t eventq_irq_cfg2 = 0;
  // Not a register: 1 while a CMD_ATC_INV has failed since the last CMD_SYNC, which will then
  // fail with CERROR_ATC_INV_SYNC (§4.7.3). Part of the state a migration must carry.
  std::uint32_t atc_inv_failed = 0;

  friend constexpr bool operator==(const register_state&, const register_state&) = default;

  // Visits every field in the blob's order.
  template <class State, class F>
  static constexpr void for_each(State& s, F&& f) {
    f(s.cr0), f(s.cr0ack), f(s.cr1), f(s.cr2), f(s.gbpa), f(s.irq_ctrl), f(s.irq_ctrlack);
    f(s.gerror), f(s.gerrorn), f(s.gerror_irq_cfg0), f(s.gerror_irq_cfg1), f(s.gerror_irq_cfg2);
    f(s.strtab_base), f(s.strtab_base_cfg), f(s.cmdq_base), f(s.cmdq_prod), f(s.cmdq_cons);
    f(s.eventq_base), f(s.eventq_prod), f(s.eventq_cons), f(s.eventq_irq_cfg0);
    f(s.eventq_irq_cfg1), f(s.eventq_irq_cfg2), f(s.atc_inv_failed);
  }
};

inline constexpr std::uint32_t snapshot_version = 1;
inline constexpr std::size_t snapshot_state_words = 24;
inline constexpr std::size_t snapshot_header_bytes = 16 + 7 * 4;
inline constexpr std::size_t snapshot_size = snapshot_header_bytes + 8 * snapshot_state_words;
inline constexpr std::array<char, 8> snapshot_magic{'v', 'S', 'M', 'M', 'U', 'v', '3', '\0'};

using snapshot_bytes = std::array<std::byte, snapshot_size>;

enum class restore_status : std::uint8_t {
  ok,
  too_short,            // fewer bytes than the header says
  bad_magic,            // not a vsmmu device snapshot
  unsupported_version,  // a format this build does not read
  bad_state_size,       // the header's state-word count is not this version's
  feature_mismatch,     // saved by a device with other ID registers
  invalid_value,        // a value no register of this version can hold
};

namespace detail {
constexpr void put(std::span<std::byte> out, std::size_t at, std::uint64_t v, unsigned n) noexcept {
  for (unsigned i = 0; i < n; ++i) out[at + i] = std::byte(v >> (8 * i));
}
[[nodiscard]] constexpr std::uint64_t take(std::span<const std::byte> in, std::size_t at,
                                           unsigned n) noexcept {
  std::uint64_t v = 0;
  for (unsigned i = n; i-- > 0;) v = (v << 8) | std::to_integer<std::uint64_t>(in[at + i]);
  return v;
}
[[nodiscard]] constexpr std::array<std::uint32_t, 7> id_words(const smmuv3::id_registers& r) {
  return {r.idr0, r.idr1, r.idr2, r.idr3, r.idr4, r.idr5, r.aidr};
}
}  // namespace detail

[[nodiscard]] constexpr snapshot_bytes encode_snapshot(const smmuv3::id_registers& ids,
                                                       const register_state& s) noexcept {
  snapshot_bytes out{};
  for (std::size_t i = 0; i < snapshot_magic.size(); ++i) out[i] = std::byte(snapshot_magic[i]);
  detail::put(out, 8, snapshot_version, 4);
  detail::put(out, 12, snapshot_state_words, 4);
  std::size_t at = 16;
  for (std::uint32_t w : detail::id_words(ids)) {
    detail::put(out, at, w, 4);
    at += 4;
  }
  register_state::for_each(s, [&](const auto& field) {
    detail::put(out, at, field, 8);
    at += 8;
  });
  return out;
}

// Decodes a blob saved by a device with ID registers `ids`. `out` is written only on success.
[[nodiscard]] constexpr restore_status decode_snapshot(std::span<const std::byte> in,
                                                       const smmuv3::id_registers& ids,
                                                       register_state& out) noexcept {
  if (in.size() < snapshot_header_bytes) return restore_status::too_short;
  for (std::size_t i = 0; i < snapshot_magic.size(); ++i) {
    if (in[i] != std::byte(snapshot_magic[i])) return restore_status::bad_magic;
  }
  if (detail::take(in, 8, 4) != snapshot_version) return restore_status::unsupported_version;
  if (detail::take(in, 12, 4) != snapshot_state_words) return restore_status::bad_state_size;
  if (in.size() < snapshot_size) return restore_status::too_short;
  std::size_t at = 16;
  for (std::uint32_t w : detail::id_words(ids)) {
    if (detail::take(in, at, 4) != w) return restore_status::feature_mismatch;
    at += 4;
  }
  register_state s;
  bool fits = true;
  register_state::for_each(s, [&](auto& field) {
    const std::uint64_t v = detail::take(in, at, 8);
    at += 8;
    using T = std::remove_reference_t<decltype(field)>;
    if (v > static_cast<std::uint64_t>(static_cast<T>(~T{0}))) fits = false;
    field = static_cast<T>(v);
  });
  if (!fits) return restore_status::invalid_value;
  out = s;
  return restore_status::ok;
}

}  // namespace vsmmu::device
