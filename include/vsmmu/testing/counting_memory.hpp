// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

// A read-only memory adapter over another that counts its reads, so that tests can bound the
// reads of a walk and benchmarks can report them. A read64 or a read_bytes call is one read,
// whatever its length; the wrapped adapter's optional read_dwords is not offered, so that a
// block fetch counts as the one read_bytes it falls back to.
namespace vsmmu::testing {

template <memory::readable_memory M>
struct counting_memory {
  const M* mem;
  mutable std::uint64_t reads = 0;

  memory::read_result read64(std::uint64_t pa) const noexcept {
    ++reads;
    return mem->read64(pa);
  }
  memory::access_status read_bytes(std::uint64_t pa, std::span<std::byte> out) const noexcept {
    ++reads;
    return mem->read_bytes(pa, out);
  }
};

}  // namespace vsmmu::testing
