// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstdint>

#include "check.hpp"

// Choices for the harnesses that run a sequence of operations (tlb, engine): each value comes
// from the input, or, during a burst, from splitmix64 seeded by the input, so that a short input
// can run thousands of operations and stay reproducible.
namespace vsmmu::fuzz {

class choices {
 public:
  explicit choices(reader& in) noexcept : in_(in) {}

  [[nodiscard]] std::uint64_t u64() noexcept {
    if (burst_ == 0) return in_.integer<std::uint64_t>();
    state_ += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  [[nodiscard]] std::uint8_t u8() noexcept {
    return burst_ != 0 ? static_cast<std::uint8_t>(u64()) : in_.integer<std::uint8_t>();
  }
  [[nodiscard]] std::uint16_t u16() noexcept {
    return burst_ != 0 ? static_cast<std::uint16_t>(u64()) : in_.integer<std::uint16_t>();
  }
  [[nodiscard]] std::uint32_t u32() noexcept {
    return burst_ != 0 ? static_cast<std::uint32_t>(u64()) : in_.integer<std::uint32_t>();
  }
  // A value below n (n <= 2^32; not exactly uniform, which does not matter here).
  [[nodiscard]] std::uint64_t pick(std::uint64_t n) noexcept {
    return (n <= 256 ? u8() : n <= 65536 ? u16() : u32()) % n;
  }
  // True with probability percent/100 (about).
  [[nodiscard]] bool chance(unsigned percent) noexcept { return u8() % 100U < percent; }

  // Whether another operation runs: within a burst, or while the input lasts.
  [[nodiscard]] bool next_op() noexcept {
    if (burst_ != 0 && --burst_ != 0) return true;
    return in_.remaining() != 0;
  }
  // The next `count` operations draw from the generator seeded with `seed`.
  void start_burst(std::uint64_t seed, unsigned count) noexcept {
    state_ = seed;
    burst_ = count + 1;
  }
  [[nodiscard]] bool in_burst() const noexcept { return burst_ != 0; }
  // Back to the input.
  void end_burst() noexcept { burst_ = 0; }

 private:
  reader& in_;
  std::uint64_t state_ = 0;
  unsigned burst_ = 0;
};

}  // namespace vsmmu::fuzz
