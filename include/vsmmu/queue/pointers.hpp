// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstdint>

// Circular queue index arithmetic, IHI 0070 §3.5.1: a queue of 2^QS entries is addressed by a
// PROD/CONS value holding the index in bits [QS-1:0] and a wrap flag in bit [QS]. Adding one to
// that (QS+1)-bit counter moves the index and toggles the wrap flag when the index passes the
// top, so every operation here is plain modular arithmetic on index+wrap.
//
// QS is the *effective* size: CMDQ/EVENTQ_BASE.LOG2SIZE capped at SMMU_IDR1.CMDQS/EVENTQS
// (§6.3.26: "any use of the value of this field is capped at the maximum"). Bits of a
// register above the wrap flag are RES0 and have no effect (§6.3.27, §6.3.96): every function
// here ignores them, and the values the SMMU produces have them clear (RAZ, §6.3.28, §6.3.95).
namespace vsmmu::queue {

// The largest index the architecture allows: 19 bits plus the wrap flag fill WR/RD [19:0].
inline constexpr unsigned max_log2size = 19;

// The size a queue is used with: the register's LOG2SIZE capped at the ID register's maximum
// (and at the architectural 19, whatever a hostile or buggy ID register says).
[[nodiscard]] constexpr unsigned effective_log2size(unsigned base_log2size,
                                                    unsigned idr_max_log2size) noexcept {
  unsigned qs = base_log2size < idr_max_log2size ? base_log2size : idr_max_log2size;
  return qs < max_log2size ? qs : max_log2size;
}

// A queue's geometry: 2^log2size entries.
class ring {
 public:
  constexpr ring() noexcept = default;
  constexpr explicit ring(unsigned log2size) noexcept
      : log2size_(log2size < max_log2size ? log2size : max_log2size) {}

  [[nodiscard]] constexpr unsigned log2size() const noexcept { return log2size_; }
  [[nodiscard]] constexpr std::uint32_t size() const noexcept {
    return std::uint32_t{1} << log2size_;
  }
  // Index and wrap flag: bits [QS:0].
  [[nodiscard]] constexpr std::uint32_t pointer_mask() const noexcept {
    return (std::uint32_t{2} << log2size_) - 1;
  }
  // A register value reduced to its index and wrap flag.
  [[nodiscard]] constexpr std::uint32_t pointer(std::uint32_t reg) const noexcept {
    return reg & pointer_mask();
  }
  [[nodiscard]] constexpr std::uint32_t index(std::uint32_t reg) const noexcept {
    return reg & (size() - 1);
  }
  [[nodiscard]] constexpr bool wrap(std::uint32_t reg) const noexcept {
    return ((reg >> log2size_) & 1U) != 0;
  }
  // The pointer n entries on, wrapping (and toggling the wrap flag) past the top.
  [[nodiscard]] constexpr std::uint32_t advance(std::uint32_t reg,
                                                std::uint32_t n = 1) const noexcept {
    return (reg + n) & pointer_mask();
  }

  // Entries between CONS and PROD. In the consistent states of §3.5.1 this is 0..size(); a
  // larger value means the indexes are inconsistent (PROD.WR > CONS.RD with different wrap
  // flags, or PROD.WR < CONS.RD with equal ones).
  [[nodiscard]] constexpr std::uint32_t distance(std::uint32_t prod,
                                                 std::uint32_t cons) const noexcept {
    return (prod - cons) & pointer_mask();
  }
  [[nodiscard]] constexpr bool empty(std::uint32_t prod, std::uint32_t cons) const noexcept {
    return pointer(prod) == pointer(cons);
  }
  // Same index, different wrap flags.
  [[nodiscard]] constexpr bool full(std::uint32_t prod, std::uint32_t cons) const noexcept {
    return distance(prod, cons) == size();
  }
  [[nodiscard]] constexpr bool consistent(std::uint32_t prod, std::uint32_t cons) const noexcept {
    return distance(prod, cons) <= size();
  }

  // The address of entry `index(reg)` in a queue of `entry_bytes`-byte entries at `base`.
  [[nodiscard]] constexpr std::uint64_t entry_address(std::uint64_t base, std::uint32_t reg,
                                                      unsigned entry_bytes) const noexcept {
    return base + std::uint64_t{index(reg)} * entry_bytes;
  }
  // The base a queue is used from: ADDR aligned to the larger of the queue's size in bytes and
  // 32 bytes (§6.3.26: "ignoring the least-significant bits of ADDR as required").
  [[nodiscard]] constexpr std::uint64_t aligned_base(std::uint64_t addr,
                                                     unsigned entry_bytes) const noexcept {
    const std::uint64_t bytes = std::uint64_t{size()} * entry_bytes;
    const std::uint64_t align = bytes > 32 ? bytes : 32;
    return addr & ~(align - 1);
  }

  friend constexpr bool operator==(const ring&, const ring&) = default;

 private:
  unsigned log2size_ = 0;
};

// Register layouts beyond the index (§6.3.28, §6.3.95, §6.3.96).
namespace reg {
// SMMU_CMDQ_CONS.ERR, bits [30:24]: the CERROR code while GERROR.CMDQ_ERR is active.
inline constexpr unsigned cons_err_shift = 24;
inline constexpr std::uint32_t cons_err_mask = std::uint32_t{0x7f} << cons_err_shift;
// SMMU_EVENTQ_PROD.OVFLG and SMMU_EVENTQ_CONS.OVACKFLG, bit [31].
inline constexpr std::uint32_t ovflg = std::uint32_t{1} << 31;
inline constexpr std::uint32_t ovackflg = std::uint32_t{1} << 31;

[[nodiscard]] constexpr std::uint8_t cons_err(std::uint32_t cons) noexcept {
  return static_cast<std::uint8_t>((cons & cons_err_mask) >> cons_err_shift);
}
[[nodiscard]] constexpr std::uint32_t with_cons_err(std::uint32_t cons, std::uint8_t err) noexcept {
  return (cons & ~cons_err_mask) | ((std::uint32_t{err} << cons_err_shift) & cons_err_mask);
}
}  // namespace reg

}  // namespace vsmmu::queue
