// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

namespace vsmmu::memory {

// One contiguous region of guest physical memory [base, base + Bytes), zero-initialised; every
// access outside it is an external abort. Usable in constant evaluation: a whole translation can
// run inside a static_assert over a constexpr flat_memory.
//
// Stored as little-endian 64-bit words so that the aligned reads a walker makes cost one load
// (and one constant-evaluation step) each.
template <std::size_t Bytes>
class flat_memory {
  static_assert(Bytes > 0 && Bytes % 8 == 0, "vsmmu: flat_memory holds whole 64-bit words");

 public:
  static constexpr std::size_t size_bytes = Bytes;

  constexpr flat_memory() noexcept = default;
  constexpr explicit flat_memory(std::uint64_t base) noexcept : base_(base) {}

  [[nodiscard]] constexpr std::uint64_t base() const noexcept { return base_; }
  [[nodiscard]] constexpr bool contains(std::uint64_t pa, std::uint64_t size) const noexcept {
    return range_within(pa, size, base_, Bytes);
  }

  [[nodiscard]] constexpr read_result read64(std::uint64_t pa) const noexcept {
    const std::uint64_t offset = pa - base_;  // wraps below base_: then >= Bytes
    // The aligned case a walker makes: rotated right by 3, an aligned offset is its word index
    // and an unaligned one is at least 2^61, so that one unsigned compare against a constant
    // bounds the read (an aligned offset below Bytes leaves room for all 8 bytes).
    const std::uint64_t word = std::rotr(offset, 3);
    if (word < Bytes / 8) {
      if (std::is_constant_evaluated()) return {words_[word], access_status::ok};
      // Loaded at the byte offset itself: the rotate only bounds the read, and stays off the
      // address a walk's next access waits for (one cycle less per level of a walk).
      std::uint64_t v;
      std::memcpy(&v, reinterpret_cast<const unsigned char*>(words_.data()) + offset, sizeof v);
      return {v, access_status::ok};
    }
    if (!contains(pa, 8)) return {0, access_status::external_abort};
    std::uint64_t v = 0;
    for (unsigned i = 0; i < 8; ++i) v |= std::uint64_t{byte_at(offset + i)} << (8 * i);
    return {v, access_status::ok};
  }

  // out.size() consecutive little-endian dwords from pa, all or nothing: what the walker's
  // STE fetch detects (walk/stream_table.hpp) so that a 64-byte structure costs one bounds check
  // instead of eight.
  constexpr access_status read_dwords(std::uint64_t pa,
                                      std::span<std::uint64_t> out) const noexcept {
    const std::uint64_t word = std::rotr(pa - base_, 3);
    if (word < Bytes / 8 && out.size() <= Bytes / 8 - word) {
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = words_[word + i];
      return access_status::ok;
    }
    for (std::size_t i = 0; i < out.size(); ++i) {  // unaligned, or (partly) outside
      const read_result r = read64(pa + 8 * i);
      if (!r.ok()) return access_status::external_abort;
      out[i] = r.value;
    }
    return access_status::ok;
  }

  constexpr access_status read_bytes(std::uint64_t pa, std::span<std::byte> out) const noexcept {
    if (!contains(pa, out.size())) return access_status::external_abort;
    const std::uint64_t offset = pa - base_;
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::byte{byte_at(offset + i)};
    return access_status::ok;
  }

  constexpr access_status write64(std::uint64_t pa, std::uint64_t v) noexcept {
    if (!contains(pa, 8)) return access_status::external_abort;
    const std::uint64_t offset = pa - base_;
    if (offset % 8 == 0) {
      words_[offset / 8] = v;
    } else {
      for (unsigned i = 0; i < 8; ++i)
        set_byte(offset + i, static_cast<std::uint8_t>(v >> (8 * i)));
    }
    return access_status::ok;
  }

  constexpr access_status write_bytes(std::uint64_t pa, std::span<const std::byte> in) noexcept {
    if (!contains(pa, in.size())) return access_status::external_abort;
    const std::uint64_t offset = pa - base_;
    for (std::size_t i = 0; i < in.size(); ++i) {
      set_byte(offset + i, static_cast<std::uint8_t>(in[i]));
    }
    return access_status::ok;
  }

 private:
  [[nodiscard]] constexpr std::uint8_t byte_at(std::uint64_t offset) const noexcept {
    return static_cast<std::uint8_t>(words_[offset / 8] >> (8 * (offset % 8)));
  }
  constexpr void set_byte(std::uint64_t offset, std::uint8_t b) noexcept {
    const unsigned shift = static_cast<unsigned>(8 * (offset % 8));
    std::uint64_t& w = words_[offset / 8];
    w = (w & ~(std::uint64_t{0xff} << shift)) | (std::uint64_t{b} << shift);
  }

  std::uint64_t base_ = 0;
  std::array<std::uint64_t, Bytes / 8> words_{};
};

}  // namespace vsmmu::memory

namespace vsmmu::memory {
static_assert(guest_memory<flat_memory<8>>);
}  // namespace vsmmu::memory
