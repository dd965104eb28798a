// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/value.hpp>
#include <vsmmu/smmuv3/commands.hpp>

#include <cstdint>
#include <limits>
#include <optional>

// Decoding the address fields of CMD_TLBI_* (Address/IPA, TG, TTL, TTL128, NUM, SCALE, Leaf)
// into the span of input addresses to invalidate, IHI 0070 §4.4.1.1.
namespace vsmmu::tlb {

// Inclusive bounds, so that a range reaching the top of the address space needs no 65th bit.
struct address_range {
  std::uint64_t first = 0;
  std::uint64_t last = 0;

  [[nodiscard]] static constexpr address_range single(std::uint64_t a) noexcept { return {a, a}; }
  [[nodiscard]] static constexpr address_range everything() noexcept {
    return {0, std::numeric_limits<std::uint64_t>::max()};
  }
  [[nodiscard]] constexpr bool overlaps(std::uint64_t lo, std::uint64_t hi) const noexcept {
    return lo <= last && first <= hi;
  }
  friend constexpr bool operator==(const address_range&, const address_range&) = default;
};

// The SMMU features that change how the fields read.
struct range_features {
  bool ril = true;  // SMMU_IDR3.RIL: range invalidation and TTL hint (mandatory from SMMUv3.2)
  bool ds = false;  // SMMU_IDR5.DS: 6-bit SCALE, TTL = 0b01 valid with 16KB granule
};

// The address fields of one TLBI command as decoded from the queue.
struct tlbi_address_fields {
  std::uint64_t address = 0;  // Address[63:12] or IPA[55:12], low bits zero
  smmuv3::cmd::tlbi_tg tg = smmuv3::cmd::tlbi_tg::any;
  std::uint8_t ttl = 0;
  bool ttl128 = false;
  std::uint8_t num = 0;
  std::uint8_t scale = 0;
  bool leaf = false;
};

// What the invalidation must cover. The hints narrow the required scope (an entry of another
// granule or level need not go); a cache may ignore them and over-invalidate (§4.4).
struct tlbi_range {
  address_range range{};
  std::optional<std::uint8_t> granule_shift;  // TG != 0: entries inserted with this granule
  std::optional<std::uint8_t> level;          // TTL != 0 (after the DS rule): leaf level
  bool ttl128 = false;                        // the level hint is for 128-bit descriptors
  bool leaf = false;                          // only last-level entries need to go
  friend constexpr bool operator==(const tlbi_range&, const tlbi_range&) = default;
};

// The decoded range, or CERROR_ILL for the combinations §4.4.1.1 reserves.
struct tlbi_range_result {
  smmuv3::cerror error = smmuv3::cerror::none;
  tlbi_range value{};
  [[nodiscard]] constexpr bool ok() const noexcept { return error == smmuv3::cerror::none; }
};

[[nodiscard]] constexpr std::uint8_t tlbi_granule_shift(smmuv3::cmd::tlbi_tg tg) noexcept {
  switch (tg) {
    case smmuv3::cmd::tlbi_tg::size_4k:
      return 12;
    case smmuv3::cmd::tlbi_tg::size_16k:
      return 14;
    case smmuv3::cmd::tlbi_tg::size_64k:
      return 16;
    case smmuv3::cmd::tlbi_tg::any:
      break;
  }
  return 0;
}

[[nodiscard]] constexpr tlbi_range_result decode_tlbi_range(const tlbi_address_fields& f,
                                                            range_features features) noexcept {
  using smmuv3::cmd::tlbi_tg;
  tlbi_range_result out;
  out.value.leaf = f.leaf;
  out.value.range = address_range::single(f.address);
  // Without RIL the fields are RES0; §4.1.5 lets an implementation ignore Reserved fields.
  if (!features.ril || f.tg == tlbi_tg::any) return out;

  const std::uint8_t g = tlbi_granule_shift(f.tg);
  std::uint8_t ttl = f.ttl & 3U;
  // 16KB granule, TTL = 0b01 is Reserved without DS and treated as 0b00 (§4.4.1.1 TTL table).
  if (f.tg == tlbi_tg::size_16k && ttl == 1 && !features.ds) ttl = 0;
  // Granule without a range or a level says nothing: Reserved, CERROR_ILL (§4.4.1.1).
  if (f.num == 0 && f.scale == 0 && ttl == 0) {
    out.error = smmuv3::cerror::ill;
    return out;
  }
  std::uint8_t scale = f.scale;
  if (!features.ds) {
    scale &= 0x1fU;  // 5-bit SCALE, bit 25 RES0
  } else if (scale > 39) {
    scale = 39;  // "treated as 39"
  }
  const std::uint8_t num = f.num & 0x1fU;
  // Range = (NUM + 1) * 2^SCALE * granule: at most 32 * 2^39 * 64KB = 2^60, no overflow.
  const std::uint64_t bytes = (std::uint64_t{num} + 1) << (scale + g);
  const std::uint64_t room = std::numeric_limits<std::uint64_t>::max() - f.address;
  // The address does not wrap (§4.4.1.1): stop at the top of the address space.
  out.value.range.last =
      bytes - 1 > room ? std::numeric_limits<std::uint64_t>::max() : f.address + (bytes - 1);
  out.value.granule_shift = g;
  if (ttl != 0) {
    out.value.level = ttl;
    out.value.ttl128 = f.ttl128;
  }
  return out;
}

// The fields of a TLBI command value: Address for VA commands, IPA for CMD_TLBI_S2_IPA.
template <class L>
[[nodiscard]] constexpr tlbi_address_fields tlbi_fields(const layout::value<L>& v) noexcept {
  namespace c = smmuv3::cmd;
  tlbi_address_fields f;
  if constexpr (L::template has<c::Address>) {
    f.address = v.template get<c::Address>();
  } else {
    f.address = v.template get<c::IPA>();
  }
  f.tg = v.template get<c::TG>();
  f.ttl = v.template get<c::TTL>();
  f.ttl128 = v.template get<c::TTL128>();
  f.num = v.template get<c::NUM>();
  f.scale = v.template get<c::SCALE>();
  f.leaf = v.template get<c::Leaf>();
  return f;
}

template <class L>
[[nodiscard]] constexpr tlbi_range_result decode_tlbi_range(const layout::value<L>& v,
                                                            range_features features) noexcept {
  return decode_tlbi_range(tlbi_fields(v), features);
}

}  // namespace vsmmu::tlb
