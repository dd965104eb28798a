// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/l1.hpp>
#include <vsmmu/smmuv3/ste.hpp>
#include <vsmmu/walk/smmu_features.hpp>
#include <vsmmu/walk/vmsa.hpp>

#include <array>
#include <cstdint>

// Writes Stream tables, STEs, CDs and VMSAv8-64 translation tables into a memory adapter from a
// short description ("map IOVA X -> PA Y, 4KB granule, read-only"). For tests and embedders;
// constexpr over the flat adapter. Table memory comes from a bump allocator over a window the
// caller gives; an adapter with map(pa, size) (the sparse one) gets the pages it needs mapped.
namespace vsmmu::testing {

// The shape of one set of translation tables: stage 1 (from CD.TxSZ/TGx) or stage 2 (from
// STE.S2T0SZ/S2TG/S2SL0).
struct tt_format {
  unsigned granule_shift = 12;
  unsigned ia_bits = 48;
  int start_level = 0;
  bool stage2 = false;
  unsigned oa_bits = 48;  // 52 puts OA[51:48] in descriptor bits [15:12] (64KB granule)
  bool ds = false;        // FEAT_LPA2 (CD.DS), 4KB/16KB: OA[51:50] in bits [9:8], no SH there

  [[nodiscard]] constexpr std::uint64_t start_table_bytes() const noexcept {
    return std::uint64_t{1} << walk::vmsa::start_table_shift(granule_shift, ia_bits, start_level,
                                                             oa_bits >= 52);
  }
};

// Stage 1 format for a CD with TxSZ = 64 - ia_bits (and CD.DS = ds).
[[nodiscard]] constexpr tt_format s1_format(unsigned granule_shift, unsigned ia_bits,
                                            unsigned oa_bits = 48, bool ds = false) noexcept {
  return {granule_shift, ia_bits, walk::vmsa::start_level_for(granule_shift, ia_bits),
          false,         oa_bits, ds && granule_shift != 16};
}
// Stage 2 format with an explicit start level (concatenated tables when ia_bits needs them).
[[nodiscard]] constexpr tt_format s2_format(unsigned granule_shift, unsigned ia_bits,
                                            int start_level, unsigned oa_bits = 48) noexcept {
  return {granule_shift, ia_bits, start_level, true, oa_bits};
}

// Permissions and attributes of a leaf.
struct leaf_attrs {
  bool read = true;  // stage 2 S2AP[0]; stage 1 reads are always allowed
  bool write = true;
  bool exec = true;
  bool user = true;  // stage 1 AP[1]: unprivileged access (devices are mostly unprivileged)
  bool af = true;
  bool global = true;
  bool contiguous = false;
  std::uint8_t attr = 0;  // stage 1 AttrIndx, or stage 2 MemAttr (0 means 0xF: Normal WB)
  std::uint8_t sh = 3;
};

// The descriptor bits of a leaf, without the output address (DDI 0487 D8.3).
[[nodiscard]] constexpr std::uint64_t leaf_bits(const tt_format& fmt, const leaf_attrs& a,
                                                int level) noexcept {
  std::uint64_t d = walk::vmsa::desc_valid | (level == 3 ? walk::vmsa::desc_table : 0);
  if (fmt.stage2) {
    d |= std::uint64_t{a.attr == 0 ? 0xfU : a.attr & 0xfU} << 2;
    d |= std::uint64_t{a.read} << 6 | std::uint64_t{a.write} << 7;
    if (!a.exec) d |= std::uint64_t{1} << 54;
  } else {
    d |= std::uint64_t{a.attr & 7U} << 2;
    d |= std::uint64_t{a.user} << 6 | std::uint64_t{!a.write} << 7;
    if (!a.global) d |= std::uint64_t{1} << 11;
    if (!a.exec) d |= std::uint64_t{3} << 53;  // PXN and UXN
  }
  if (!fmt.ds) d |= std::uint64_t{a.sh & 3U} << 8;  // under DS bits [9:8] are OA[51:50]
  if (a.af) d |= walk::vmsa::desc_af;
  if (a.contiguous) d |= std::uint64_t{1} << walk::vmsa::desc_contiguous_bit;
  return d;
}

// An output address in descriptor form (OA[51:48] in bits [15:12] for 52-bit 64KB tables).
[[nodiscard]] constexpr std::uint64_t encode_oa(const tt_format& fmt, std::uint64_t oa) noexcept {
  if (fmt.ds) return (oa & walk::vmsa::mask_below(50)) | (((oa >> 50) & 3) << 8);
  std::uint64_t d = oa & walk::vmsa::mask_below(48);
  if (fmt.granule_shift == 16 && fmt.oa_bits >= 52) d |= ((oa >> 48) & 0xf) << 12;
  return d;
}

template <memory::guest_memory M>
class table_builder {
 public:
  // Tables are allocated from [pool, pool + pool_size).
  constexpr table_builder(M& mem, std::uint64_t pool, std::uint64_t pool_size) noexcept
      : mem_(mem), next_(pool), end_(pool + pool_size) {}

  // Zeroed, aligned memory from the pool; 0 when the pool is exhausted (a test bug).
  constexpr std::uint64_t alloc(std::uint64_t size, std::uint64_t align) {
    const std::uint64_t a = (next_ + align - 1) & ~(align - 1);
    if (a + size > end_ || a + size < a) return 0;
    next_ = a + size;
    if constexpr (requires { mem_.map(a, size); }) mem_.map(a, size);
    for (std::uint64_t o = 0; o < size; o += 8) (void)mem_.write64(a + o, 0);
    return a;
  }

  // A start-level table for `fmt`, aligned to its size.
  constexpr std::uint64_t new_root(const tt_format& fmt) {
    const std::uint64_t bytes = fmt.start_table_bytes();
    return alloc(bytes, bytes);
  }

  // Maps [ia, ia + 2^lsb(level)) to oa with a block (level < 3) or page (level 3), creating
  // table descriptors on the way. Returns the leaf descriptor's address.
  constexpr std::uint64_t map(const tt_format& fmt, std::uint64_t root, std::uint64_t ia,
                              std::uint64_t oa, int level, const leaf_attrs& a = {}) {
    const std::uint64_t at = descriptor_address(fmt, root, ia, level, true);
    (void)mem_.write64(at, leaf_bits(fmt, a, level) |
                               encode_oa(fmt, oa & ~walk::vmsa::mask_below(walk::vmsa::level_lsb(
                                                       fmt.granule_shift, level))));
    return at;
  }

  // The address of the descriptor that translates `ia` at `level`, following (and with
  // `create`, making) table descriptors from the start level. 0 when a table is missing.
  constexpr std::uint64_t descriptor_address(const tt_format& fmt, std::uint64_t root,
                                             std::uint64_t ia, int level, bool create = false) {
    const unsigned g = fmt.granule_shift;
    std::uint64_t table = root;
    for (int l = fmt.start_level;; ++l) {
      const unsigned lsb = walk::vmsa::level_lsb(g, l);
      const unsigned msb = l == fmt.start_level ? fmt.ia_bits - 1 : lsb + walk::vmsa::stride(g) - 1;
      const std::uint64_t at = table + (((ia >> lsb) & walk::vmsa::mask_below(msb - lsb + 1)) << 3);
      if (l == level) return at;
      const auto cur = mem_.read64(at);
      if (cur.ok() && (cur.value & 3) == 3) {
        table = walk::vmsa::output_address(cur.value, g, g, fmt.oa_bits, fmt.ds);
        continue;
      }
      if (!create) return 0;
      const std::uint64_t next = alloc(std::uint64_t{1} << g, std::uint64_t{1} << g);
      (void)mem_.write64(at, encode_oa(fmt, next) | 3);
      table = next;
    }
  }

  // Stream table: writes `ste` for `sid`, allocating a full level 2 array (Span = SPLIT + 1)
  // under an invalid L1STD of a 2-level table.
  constexpr std::uint64_t install_ste(const walk::stream_table_config& st, std::uint32_t sid,
                                      const smmuv3::ste::value& ste) {
    std::uint64_t at = 0;
    if (!st.two_level) {
      at = st.base + std::uint64_t{sid} * smmuv3::ste::size_bytes;
    } else {
      const std::uint64_t l1 = st.base + (std::uint64_t{sid} >> st.split) * 8;
      auto d = smmuv3::l1std::value({mem_.read64(l1).value});
      if (d.get<smmuv3::l1std::Span>() == 0) {
        const std::uint64_t bytes = (std::uint64_t{1} << st.split) * smmuv3::ste::size_bytes;
        d.set<smmuv3::l1std::L2Ptr>(alloc(bytes, bytes));
        d.set<smmuv3::l1std::Span>(static_cast<std::uint8_t>(st.split + 1));
        (void)mem_.write64(l1, d.words()[0]);
      }
      at = d.get<smmuv3::l1std::L2Ptr>() +
           (sid & walk::vmsa::mask_below(st.split)) * smmuv3::ste::size_bytes;
    }
    write_words(at, ste.words());
    return at;
  }

  // CD table: writes `cd` for `ssid` under an STE's S1ContextPtr/S1Fmt/S1CDMax, allocating the
  // level 2 table under an invalid L1CD.
  constexpr std::uint64_t install_cd(std::uint64_t context_ptr, smmuv3::s1_fmt fmt,
                                     unsigned s1cdmax, std::uint32_t ssid,
                                     const smmuv3::cd::value& cd) {
    std::uint64_t at = context_ptr;
    if (s1cdmax != 0 && fmt == smmuv3::s1_fmt::linear) {
      at += std::uint64_t{ssid} * smmuv3::cd::size_bytes;
    } else if (s1cdmax != 0) {
      const unsigned split = fmt == smmuv3::s1_fmt::two_level_4k ? 6 : 10;
      const std::uint64_t l1 = context_ptr + (std::uint64_t{ssid} >> split) * 8;
      auto d = smmuv3::l1cd::value({mem_.read64(l1).value});
      if (!d.get<smmuv3::l1cd::V>()) {
        const std::uint64_t bytes = (std::uint64_t{1} << split) * smmuv3::cd::size_bytes;
        d.set<smmuv3::l1cd::L2Ptr>(alloc(bytes, bytes));
        d.set<smmuv3::l1cd::V>(true);
        (void)mem_.write64(l1, d.words()[0]);
      }
      at = d.get<smmuv3::l1cd::L2Ptr>() +
           (ssid & walk::vmsa::mask_below(split)) * smmuv3::cd::size_bytes;
    }
    write_words(at, cd.words());
    return at;
  }

  constexpr void write64(std::uint64_t pa, std::uint64_t v) { (void)mem_.write64(pa, v); }
  [[nodiscard]] constexpr std::uint64_t read64(std::uint64_t pa) const {
    return mem_.read64(pa).value;
  }

 private:
  template <std::size_t N>
  constexpr void write_words(std::uint64_t at, const std::array<std::uint64_t, N>& w) {
    for (std::size_t i = 0; i < N; ++i) (void)mem_.write64(at + 8 * i, w[i]);
  }

  M& mem_;
  std::uint64_t next_;
  std::uint64_t end_;
};

}  // namespace vsmmu::testing
