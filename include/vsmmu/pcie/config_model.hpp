// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/pcie/config_space.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

// A Function's configuration space as a VMM keeps it: the bytes guests read, and per-byte masks
// that say how a guest write lands (QEMU's config/wmask/w1cmask/cmask, vfio-pci's emulated
// bits). Every accessor is bounds-checked: offsets come from guest or vendor data.
namespace vsmmu::pcie {

using config_bytes = std::array<std::byte, config_space_size>;
using config_span = std::span<const std::byte, config_space_size>;
using mutable_config_span = std::span<std::byte, config_space_size>;

struct config_model {
  config_bytes config{};    // what reads return
  config_bytes wmask{};     // bits a guest write stores
  config_bytes w1cmask{};   // bits a guest write of 1 clears
  config_bytes cmask{};     // bits compared when checking a device against a saved state
  config_bytes emulated{};  // bits the VMM serves itself; clear bits pass through to hardware

  friend constexpr bool operator==(const config_model&, const config_model&) noexcept = default;
};

// Little-endian loads and stores of 1, 2 or 4 bytes. A read that does not fit inside the space
// returns all ones (what a read of absent configuration space returns); a store that does not
// fit does nothing.
[[nodiscard]] constexpr std::uint32_t load_le(config_span c, std::size_t offset,
                                              std::size_t width = 4) noexcept {
  if (width == 0 || width > 4 || offset > config_space_size || config_space_size - offset < width) {
    return 0xFFFF'FFFFu;
  }
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < width; ++i) {
    v |= static_cast<std::uint32_t>(std::to_integer<std::uint8_t>(c[offset + i])) << (8 * i);
  }
  return v;
}

[[nodiscard]] constexpr std::uint32_t load32(config_span c, std::size_t offset) noexcept {
  return load_le(c, offset, 4);
}
[[nodiscard]] constexpr std::uint16_t load16(config_span c, std::size_t offset) noexcept {
  return static_cast<std::uint16_t>(load_le(c, offset, 2));
}
[[nodiscard]] constexpr std::uint8_t load8(config_span c, std::size_t offset) noexcept {
  return static_cast<std::uint8_t>(load_le(c, offset, 1));
}

constexpr void store_le(mutable_config_span c, std::size_t offset, std::uint32_t value,
                        std::size_t width = 4) noexcept {
  if (width == 0 || width > 4 || offset > config_space_size || config_space_size - offset < width) {
    return;
  }
  for (std::size_t i = 0; i < width; ++i) {
    c[offset + i] = static_cast<std::byte>((value >> (8 * i)) & 0xFFu);
  }
}

constexpr void store32(mutable_config_span c, std::size_t offset, std::uint32_t value) noexcept {
  store_le(c, offset, value, 4);
}

// Sets `count` bytes from `offset` to `value`, clipped to the space.
constexpr void fill(mutable_config_span c, std::size_t offset, std::size_t count,
                    std::byte value) noexcept {
  for (std::size_t i = offset; i < config_space_size && i - offset < count; ++i) c[i] = value;
}

// A guest write of `width` bytes (1, 2 or 4) at `offset`, as QEMU's default config write
// applies it: writable bits take the new value, then write-1-to-clear bits written as 1 clear.
// Returns false, changing nothing, for a write that does not fit.
constexpr bool guest_write(config_model& m, std::size_t offset, std::uint32_t value,
                           std::size_t width) noexcept {
  if (width == 0 || width > 4 || offset > config_space_size || config_space_size - offset < width) {
    return false;
  }
  for (std::size_t i = 0; i < width; ++i) {
    const auto byte = static_cast<std::uint8_t>(value >> (8 * i));
    const auto w = std::to_integer<std::uint8_t>(m.wmask[offset + i]);
    const auto w1c = std::to_integer<std::uint8_t>(m.w1cmask[offset + i]);
    auto cur = std::to_integer<std::uint8_t>(m.config[offset + i]);
    cur = static_cast<std::uint8_t>((cur & ~w) | (byte & w));
    cur = static_cast<std::uint8_t>(cur & ~(byte & w1c));
    m.config[offset + i] = static_cast<std::byte>(cur);
  }
  return true;
}

}  // namespace vsmmu::pcie
