// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>

// The embedder's guest physical memory, as the SMMU model sees it. Every structure the SMMU
// fetches (STEs, CDs, L1 descriptors, translation table descriptors) is read through an adapter;
// queues and hardware access-flag/dirty updates write through it.
//
// An access either completes or reports an external abort (IHI 0070 §3.4.3 and the fetch-abort
// events F_STE_FETCH, F_CD_FETCH, F_WALK_EABT): the abort is a value, never an exception, so the
// whole translation path stays usable in constant evaluation.
namespace vsmmu::memory {

// Outcome of one access.
enum class access_status : std::uint8_t {
  ok,
  external_abort,  // no memory at the address, or the embedder refused the access
};

// A 64-bit read: the little-endian value at the address when status == ok, 0 otherwise.
struct read_result {
  std::uint64_t value = 0;
  access_status status = access_status::ok;

  [[nodiscard]] constexpr bool ok() const noexcept { return status == access_status::ok; }
};

// Read side: what the translation walker needs.
//   read64(pa)            the little-endian 64-bit word at pa (any alignment)
//   read_bytes(pa, out)   out.size() bytes from pa; ok only if every byte is readable
template <class M>
concept readable_memory = requires(const M& m, std::uint64_t pa, std::span<std::byte> out) {
  { m.read64(pa) }
  noexcept->std::same_as<read_result>;
  { m.read_bytes(pa, out) }
  noexcept->std::same_as<access_status>;
};

// Read and write: what queues and HTTU need, and what a table builder writes through.
//   write64(pa, v)        stores v little-endian at pa
//   write_bytes(pa, in)   stores in.size() bytes at pa; on an abort nothing is written
template <class M>
concept guest_memory = readable_memory<M> &&
    requires(M& m, std::uint64_t pa, std::uint64_t v, std::span<const std::byte> in) {
  { m.write64(pa, v) }
  noexcept->std::same_as<access_status>;
  { m.write_bytes(pa, in) }
  noexcept->std::same_as<access_status>;
};

// Optional member, detected by the STE fetch (walk/stream_table.hpp):
//   read_dwords(pa, std::span<std::uint64_t> out) -> access_status
//       the out.size() little-endian words at pa, all or nothing: one bounds check for a whole
//       64-byte structure instead of eight. Without it the fetch makes eight read64 calls.
//
// Optional member, detected by the walker (walk/translate.hpp swap_descriptor):
//   compare_exchange64(pa, expected, desired) -> read_result
//       atomically: reads the little-endian word at pa and, when it equals `expected`, stores
//       `desired`; returns the value read (status external_abort, nothing stored, on an abort).
// Hardware Access flag and dirty state updates (HTTU, IHI 0070 §3.13) use it so that an update
// never overwrites a descriptor the guest changed meanwhile. Without it the walker reads,
// compares and writes, which is atomic only when nothing else writes guest memory between those
// steps (a single-threaded embedder). Provide it when the guest's CPUs run concurrently with
// translations (e.g. std::atomic_ref<std::uint64_t>::compare_exchange_strong on host memory).
template <class M>
concept atomic_guest_memory = guest_memory<M> && requires(M& m, std::uint64_t pa, std::uint64_t v) {
  { m.compare_exchange64(pa, v, v) } -> std::same_as<read_result>;
};

// Reads out.size() consecutive little-endian words at pa, all or nothing (the STE and CD
// fetches): through the adapter's read_dwords when it has one, else one read64 per word with the
// statuses combined once, no branch per word. False on any abort; `out` is then unspecified.
template <readable_memory M>
[[nodiscard]] constexpr bool read_words(const M& mem, std::uint64_t pa,
                                        std::span<std::uint64_t> out) noexcept {
  if constexpr (requires {
                  { mem.read_dwords(pa, out) } -> std::same_as<access_status>;
                }) {
    return mem.read_dwords(pa, out) == access_status::ok;
  } else {
    static_assert(static_cast<unsigned>(access_status::ok) == 0);
    unsigned bad = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const read_result r = mem.read64(pa + 8 * i);
      bad |= static_cast<unsigned>(r.status);
      out[i] = r.value;
    }
    return bad == 0;
  }
}

// [pa, pa + size) lies inside [base, base + extent) without wrapping the 64-bit space.
[[nodiscard]] constexpr bool range_within(std::uint64_t pa, std::uint64_t size, std::uint64_t base,
                                          std::uint64_t extent) noexcept {
  if (pa < base) return false;
  const std::uint64_t offset = pa - base;
  return offset <= extent && size <= extent - offset;
}

}  // namespace vsmmu::memory
