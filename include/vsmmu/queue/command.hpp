// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/smmuv3/commands.hpp>

#include <array>
#include <concepts>
#include <cstdint>

// The seam between the command queue consumer (queue/command_queue.hpp), which fetches,
// validates and sequences commands, and whatever applies them (the engine's caches, the
// accelerated mode's forwarding, an embedder's own model).
namespace vsmmu::queue {

// One command queue entry as fetched: two little-endian 64-bit dwords (IHI 0070 §4.1).
struct command {
  std::array<std::uint64_t, 2> words{};

  [[nodiscard]] constexpr smmuv3::cmd::opcode opcode() const noexcept {
    return static_cast<smmuv3::cmd::opcode>(words[0] & 0xff);
  }
  // The entry in the layout of its command, for typed field access.
  template <vsmmu::layout::layout_type L>
  [[nodiscard]] constexpr vsmmu::layout::value<L> as() const noexcept {
    return vsmmu::layout::value<L>{words};
  }
  friend constexpr bool operator==(const command&, const command&) = default;
};

// What applying one command came to.
enum class command_status : std::uint8_t {
  ok,
  illegal,         // the handler refuses it: CERROR_ILL at this entry (IHI 0070 §4.5)
  atc_incomplete,  // CMD_ATC_INV that did not complete: CERROR_ATC_INV_SYNC at the next CMD_SYNC
};

// Applies validated commands. The consumer has already refused unknown and Reserved opcodes,
// commands the advertised features do not allow, and non-zero Reserved fields; CMD_SYNC is the
// consumer's own business and never reaches a handler.
template <class H>
concept command_handler = requires(H& h, const command& c) {
  { h.execute(c) } -> std::same_as<command_status>;
};

// A handler that also wants to hear about each CMD_SYNC before it completes: to wait for the
// ATS invalidation completions it started, or to flush commands it batches (the accelerated
// mode). ok lets the CMD_SYNC complete; atc_incomplete fails it with CERROR_ATC_INV_SYNC;
// illegal fails it with CERROR_ILL. The consumer calls synchronize() only for a CMD_SYNC that
// passed validation, and never execute() with one.
template <class H>
concept synchronizing_handler = command_handler<H> && requires(H& h) {
  { h.synchronize() } -> std::same_as<command_status>;
};

}  // namespace vsmmu::queue
