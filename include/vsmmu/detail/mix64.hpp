// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstdint>

namespace vsmmu::detail {

// murmur3's 64-bit finaliser: every input bit reaches every output bit. The caches' keys
// (StreamIDs, SubstreamIDs, VMIDs, ASIDs) are dense small numbers, so their high bits alone
// would leave most slots of an open-addressing index unused.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace vsmmu::detail
