// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/smmuv3/l1.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/walk/smmu_features.hpp>

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <tuple>
#include <type_traits>

// Stream table lookup, IHI 0070 §3.3.1, SMMU_STRTAB_BASE(_CFG) §6.3, L1STD §5.1.
namespace vsmmu::walk {

enum class ste_fetch_status : std::uint8_t {
  ok,
  bad_streamid,  // C_BAD_STREAMID: out of range, or no valid L1STD/level 2 entry
  fetch_abort,   // F_STE_FETCH: the L1STD or STE read aborted, or its PA is beyond the OAS
};

struct ste_fetch {
  ste_fetch_status status = ste_fetch_status::ok;
  smmuv3::ste::value ste{};
  std::uint64_t ste_addr = 0;  // where the STE is (ok)
  // The PA whose fetch aborted (fetch_abort), as F_STE_FETCH reports it: bits [55:OAS] zero.
  std::uint64_t fetch_addr = 0;
};

namespace detail {
[[nodiscard]] constexpr std::uint64_t low_bits(unsigned n) noexcept {
  return n >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
}
// STRTAB_BASE.ADDR and the structure pointers are address bits [55:6].
inline constexpr std::uint64_t addr_55_6 = low_bits(56) & ~low_bits(6);

// The FetchAddr F_STE_FETCH reports for an abort at `pa`. IHI 0070 §7.3.4: "FetchAddr bits
// [55:OAS] are RES0 if OAS is smaller than 56" (SMMUv3.1: "bits [51:OAS] are UNKNOWN"; zero
// satisfies both): an address beyond the OAS (§3.4.3 (5)) is reported truncated to it.
[[nodiscard]] constexpr std::uint64_t ste_fetch_addr(std::uint64_t pa, unsigned oas) noexcept {
  return pa & low_bits(oas);
}

[[nodiscard, gnu::cold]] constexpr ste_fetch fetch_aborted(std::uint64_t pa,
                                                           unsigned oas) noexcept {
  return {ste_fetch_status::fetch_abort, smmuv3::ste::value{}, 0, ste_fetch_addr(pa, oas)};
}

// SPLIT: 6, 8 and 10 are defined; other values are reserved and behave as 6 (§6.3 SPLIT).
[[nodiscard]] constexpr unsigned effective_split(unsigned split) noexcept {
  return split == 8 || split == 10 ? split : 6;
}

// Where the STE of a StreamID is, or why it cannot be fetched: `addr` is the STE's PA (ok) or
// the PA whose fetch aborted, as F_STE_FETCH reports it (fetch_abort).
struct ste_location {
  ste_fetch_status status = ste_fetch_status::ok;
  std::uint64_t addr = 0;
};

// An STE's eight dwords as read, with the word(i) the decoders read through: not zeroed
// before the read, and decoded where it was read (an smmuv3::ste::value in a returned
// ste_fetch was copied: 16-byte loads of 8-byte stores, store-forwarding stalls).
struct ste_words {
  smmuv3::ste::value::storage_type w;

  [[nodiscard]] constexpr std::uint64_t word(unsigned i) const noexcept { return w[i]; }
  [[nodiscard]] constexpr smmuv3::ste::value value() const noexcept {
    return smmuv3::ste::value(w);
  }
};

// Reads the STE at `pa` into `out`; false for F_STE_FETCH. §3.4.3 (5): an STE address beyond
// the OAS is reported as F_STE_FETCH (the alternative, truncation, would silently read another
// structure). The adapter's read_dwords called here rather than through memory::read_words:
// with that function shared by the STE and the CD fetch, g++ no longer inlined fetch_cd into a
// translation (40-75 instructions more per walk).
template <memory::readable_memory M>
[[nodiscard, gnu::always_inline]] constexpr bool read_ste_words(const M& mem, std::uint64_t pa,
                                                                unsigned oas,
                                                                ste_words& out) noexcept {
  if ((pa >> oas) != 0) return false;
  if constexpr (requires {
                  {
                    mem.read_dwords(pa, std::span<std::uint64_t>(out.w))
                    } -> std::same_as<memory::access_status>;
                }) {
    return mem.read_dwords(pa, out.w) == memory::access_status::ok;
  } else {
    return memory::read_words(mem, pa, out.w);
  }
}

// The 2-level table's lookup, out of line: the linear table's path stays small enough to
// inline. L1STD at StreamID[LOG2SIZE-1:SPLIT], STE at StreamID[SPLIT-1:0] of its span.
template <memory::readable_memory M>
[[nodiscard, gnu::noinline]] constexpr ste_location locate_ste_two_level(
    const M& mem, std::uint64_t addr, unsigned log2size, unsigned split_field, unsigned oas,
    std::uint32_t sid) noexcept {
  const unsigned split = effective_split(split_field);
  const unsigned l1_bits = log2size > split ? log2size - split : 0;
  const std::uint64_t l1_base = addr & ~low_bits(std::max(6U, l1_bits + 3));
  const std::uint64_t l1_addr = l1_base + (std::uint64_t{sid} >> split) * smmuv3::l1std::size_bytes;
  const auto l1 = (l1_addr >> oas) != 0
                      ? memory::read_result{0, memory::access_status::external_abort}
                      : mem.read64(l1_addr);
  if (!l1.ok()) return {ste_fetch_status::fetch_abort, ste_fetch_addr(l1_addr, oas)};
  const smmuv3::l1std::value desc({l1.value});
  const unsigned span = desc.get<smmuv3::l1std::Span>();
  const std::uint64_t index = sid & low_bits(split);
  // §5.1.1: Span 0, a reserved Span (12-31) and a Span beyond SPLIT + 1 make the StreamIDs
  // of the descriptor invalid, as does a StreamID beyond the level 2 array.
  if (span == 0 || span > 11 || span > split + 1 ||
      index >= smmuv3::l1std::ste_count(static_cast<std::uint8_t>(span))) {
    return {ste_fetch_status::bad_streamid, 0};
  }
  // L2Ptr[5 + Span - 1:0] are treated as 0: the array is aligned to its size.
  const std::uint64_t l2 = desc.get<smmuv3::l1std::L2Ptr>() & ~low_bits(5 + span);
  return {ste_fetch_status::ok, l2 + index * smmuv3::ste::size_bytes};
}

// Locates the STE of `sid`. The table base is aligned as §6.3 STRTAB_BASE.ADDR says (to the
// literal LOG2SIZE); the range check uses the effective LOG2SIZE, MIN(LOG2SIZE, SIDSIZE).
template <memory::readable_memory M>
[[nodiscard, gnu::always_inline]] constexpr ste_location locate_ste(const M& mem,
                                                                    const smmu_features& features,
                                                                    const stream_table_config& st,
                                                                    std::uint32_t sid) noexcept {
  const unsigned log2size = st.log2size & 0x3f;
  // A StreamID has 32 bits: beyond 32, SIDSIZE (and LOG2SIZE) limit nothing more.
  if ((std::uint64_t{sid} >> std::min(log2size, features.sidsize)) != 0) {
    return {ste_fetch_status::bad_streamid, 0};
  }
  if (st.two_level && features.two_level_stream_table) {
    return locate_ste_two_level(mem, st.base & addr_55_6, log2size, st.split, features.oas_bits(),
                                sid);
  }
  // ADDR[55:6] aligned to the table's size, 64 << LOG2SIZE (nothing left of it beyond 55 bits),
  // in units of an STE: two shifts rather than a mask that needs a compare for LOG2SIZE >= 58.
  const std::uint64_t base_ste = ((st.base >> 6) & low_bits(50)) >> log2size << log2size;
  return {ste_fetch_status::ok, (base_ste + sid) * smmuv3::ste::size_bytes};
}
}  // namespace detail

// Locates and reads the STE of `sid`.
template <memory::readable_memory M>
[[nodiscard]] constexpr ste_fetch fetch_ste(const M& mem, const smmu_features& features,
                                            const stream_table_config& st,
                                            std::uint32_t sid) noexcept {
  const detail::ste_location at = detail::locate_ste(mem, features, st, sid);
  const unsigned oas = features.oas_bits();
  // The result of each path is built where that path returns, not zeroed at the start and
  // overwritten: g++ zeroed the 88-byte result with `rep stos` (tens of cycles to start).
  if (at.status == ste_fetch_status::bad_streamid) {
    return {ste_fetch_status::bad_streamid, smmuv3::ste::value{}, 0, 0};
  }
  if (at.status == ste_fetch_status::fetch_abort) return detail::fetch_aborted(at.addr, oas);
  detail::ste_words words;  // written whole by read_ste_words before any use
  if (detail::read_ste_words(mem, at.addr, oas, words)) {
    return {ste_fetch_status::ok, words.value(), at.addr, 0};
  }
  return detail::fetch_aborted(at.addr, oas);
}

}  // namespace vsmmu::walk
