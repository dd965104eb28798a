// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/layout.hpp>
#include <vsmmu/layout/value.hpp>
#include <vsmmu/pcie/ats.hpp>
#include <vsmmu/pcie/config_model.hpp>
#include <vsmmu/pcie/config_space.hpp>
#include <vsmmu/pcie/ext_cap.hpp>
#include <vsmmu/pcie/pasid.hpp>
#include <vsmmu/pcie/pri.hpp>

#include <array>
#include <cstdint>
#include <string_view>

// Register initialisation of the PASID, ATS and PRI capabilities once their header is in the
// list (insert.hpp): the read-only values a device advertises, everything enabled off, and the
// write masks that let a guest change exactly the bits the PCIe Base Spec makes writable.
namespace vsmmu::pcie {

enum class init_error : std::uint8_t {
  none,
  out_of_range,      // the capability does not fit at that offset
  wrong_capability,  // the header at that offset has another ID
  bad_parameter,     // a value does not fit its field (e.g. a PASID width above 20)
};

[[nodiscard]] constexpr std::string_view to_string(init_error e) noexcept {
  switch (e) {
    case init_error::none:
      return "none";
    case init_error::out_of_range:
      return "out_of_range";
    case init_error::wrong_capability:
      return "wrong_capability";
    case init_error::bad_parameter:
      return "bad_parameter";
  }
  return "unknown";
}

// What a Function's PASID Capability register advertises (§7.8.9.2). The iommufd hw-info of
// the seed series gives the same three facts (max_pasid_log2, PASID_EXEC, PASID_PRIV).
struct pasid_params {
  std::uint8_t width = 0;  // Max PASID Width, 0 to 20
  bool exec = false;       // Execute Permission Supported
  bool priv = false;       // Privileged Mode Supported
};

// What a Function's ATS Capability register advertises (§10.5.1.2).
struct ats_params {
  std::uint8_t invalidate_queue_depth = 0;  // 0 to 31 (0: 32 requests)
  bool page_aligned_request = false;
  bool global_invalidate = false;
  bool relaxed_ordering = false;
};

// What a Function's Page Request capability advertises (§10.5.2).
struct pri_params {
  std::uint32_t outstanding_capacity = 0;
  bool prg_response_pasid_required = false;
};

namespace detail {

template <vsmmu::layout::layout_type L>
[[nodiscard]] constexpr init_error check_place(const config_model& m, std::uint32_t offset,
                                               ext_cap_id id) noexcept {
  if (offset % capability_alignment != 0 || offset < extended_config_start ||
      offset >= config_space_size || L::byte_count > config_space_size - offset) {
    return init_error::out_of_range;
  }
  if (ext_cap::capability_id(load32(m.config, offset)) != id) return init_error::wrong_capability;
  return init_error::none;
}

// Writes every register DWORD after the header, with its masks; the header is the list's.
template <vsmmu::layout::layout_type L>
constexpr void write_registers(
    config_model& m, std::uint32_t offset, const vsmmu::layout::value<L>& v,
    const std::array<config_write_masks, L::word_count>& masks) noexcept {
  for (unsigned i = 1; i < L::word_count; ++i) {
    const std::uint32_t at = offset + i * 4;
    store32(m.config, at, v.word(i));
    store32(m.wmask, at, masks[i].rw);
    store32(m.w1cmask, at, masks[i].w1c);
    store32(m.cmask, at, 0xFFFF'FFFFu);
  }
}

// The bits of a 1-bit field in its DWORD.
template <vsmmu::layout::layout_type L, class F>
[[nodiscard]] constexpr std::uint32_t bit_of(unsigned dword) noexcept {
  vsmmu::layout::value<L> v;
  v.template init<F>(true);
  return v.word(dword);
}

}  // namespace detail

// PASID: Capability register from `p`, Control all zero. PASID Enable is writable; Execute and
// Privileged Mode Enable only when supported, as the spec makes them RsvdP otherwise (§7.8.9.3).
// QEMU's pcie_pasid_common_init makes all three writable whatever is supported (write mask
// 0007h).
[[nodiscard]] constexpr init_error init_pasid(config_model& m, std::uint32_t offset,
                                              const pasid_params& p) noexcept {
  using L = pasid::layout;
  if (auto e = detail::check_place<L>(m, offset, pasid::id); e != init_error::none) return e;
  if (p.width > pasid::max_pasid_width) return init_error::bad_parameter;
  vsmmu::layout::value<L> v;
  v.init<pasid::MaxPASIDWidth>(p.width)
      .init<pasid::ExecutePermissionSupported>(p.exec)
      .init<pasid::PrivilegedModeSupported>(p.priv);
  auto masks = pasid::write_masks;
  if (!p.exec) masks[1].rw &= ~detail::bit_of<L, pasid::ExecutePermissionEnable>(1);
  if (!p.priv) masks[1].rw &= ~detail::bit_of<L, pasid::PrivilegedModeEnable>(1);
  // Translated Requests with PASID is not among the parameters: never supported here.
  masks[1].rw &= ~detail::bit_of<L, pasid::TranslatedRequestsWithPASIDEnable>(1);
  detail::write_registers(m, offset, v, masks);
  return init_error::none;
}

// ATS: Capability register from `p`, Control zero (disabled, STU 0). STU and Enable are
// writable; the memory-attribute controls are not (ATS Memory Attributes is not supported).
[[nodiscard]] constexpr init_error init_ats(config_model& m, std::uint32_t offset,
                                            const ats_params& p) noexcept {
  using L = ats::layout;
  if (auto e = detail::check_place<L>(m, offset, ats::id); e != init_error::none) return e;
  if (!ats::InvalidateQueueDepth::fits(p.invalidate_queue_depth)) {
    return init_error::bad_parameter;
  }
  vsmmu::layout::value<L> v;
  v.init<ats::InvalidateQueueDepth>(p.invalidate_queue_depth)
      .init<ats::PageAlignedRequest>(p.page_aligned_request)
      .init<ats::GlobalInvalidateSupported>(p.global_invalidate)
      .init<ats::RelaxedOrderingSupported>(p.relaxed_ordering);
  auto masks = ats::write_masks;
  masks[1].rw &= ~detail::bit_of<L, ats::ATSMemoryAttributesEnable>(1);
  vsmmu::layout::value<L> amad;
  amad.init<ats::ATSMemoryAttributesDefault>(0x7);
  masks[1].rw &= ~amad.word(1);
  detail::write_registers(m, offset, v, masks);
  return init_error::none;
}

// PRI: disabled and Stopped (as out of reset), capacity from `p`, allocation zero. Enable and
// the allocation are writable, the two error bits write-1-to-clear. Reset is write-only: it is
// left out of the masks (it reads 0), and the VMM acts on a write of 1 itself.
[[nodiscard]] constexpr init_error init_pri(config_model& m, std::uint32_t offset,
                                            const pri_params& p) noexcept {
  using L = pri::layout;
  if (auto e = detail::check_place<L>(m, offset, pri::id); e != init_error::none) return e;
  vsmmu::layout::value<L> v;
  v.init<pri::Stopped>(true)
      .init<pri::PRGResponsePASIDRequired>(p.prg_response_pasid_required)
      .init<pri::OutstandingPageRequestCapacity>(p.outstanding_capacity);
  detail::write_registers(m, offset, v, pri::write_masks);
  return init_error::none;
}

}  // namespace vsmmu::pcie
