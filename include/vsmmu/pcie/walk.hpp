// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/pcie/config_model.hpp>
#include <vsmmu/pcie/config_space.hpp>
#include <vsmmu/pcie/ext_cap.hpp>

#include <range/v3/iterator/default_sentinel.hpp>
#include <range/v3/range_fwd.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>

// The Extended Capability list (PCIe Base Spec r6.2 §7.6.3) as a view over a configuration
// space. The list is vendor data: the walk never trusts it, and every way it can go wrong ends
// the walk with a value that says why, within max_ext_caps steps.
namespace vsmmu::pcie {

// One header per DWORD of the extended region: no list that visits each header once is longer.
inline constexpr std::size_t max_ext_caps =
    (config_space_size - extended_config_start) / capability_alignment;
static_assert(max_ext_caps == 960);

struct ext_cap_entry {
  std::uint16_t offset = 0;
  ext_cap_id id = ext_cap_id::null;
  std::uint8_t version = 0;
  std::uint16_t next = 0;  // with its two reserved low bits cleared, as the walk follows it

  friend constexpr bool operator==(const ext_cap_entry&, const ext_cap_entry&) noexcept = default;
};

// Why a walk stopped. Only end_of_list and empty_list are a well-formed list.
enum class walk_end : std::uint8_t {
  end_of_list,          // a Next Capability Offset of 0
  empty_list,           // 00000000h at 100h: no Extended Capabilities (§7.6.1)
  no_extended_space,    // FFFFFFFFh at 100h: the Function has no extended space (or is absent)
  loop,                 // Next points at a header already visited
  next_below_extended,  // Next points into the PCI-compatible region (1h..FFh)
  all_ones_header,      // Next points at FFFFFFFFh
  zero_header,          // Next points at 00000000h, which is no capability
};

[[nodiscard]] constexpr bool well_formed(walk_end e) noexcept {
  return e == walk_end::end_of_list || e == walk_end::empty_list;
}

[[nodiscard]] constexpr std::string_view to_string(walk_end e) noexcept {
  switch (e) {
    case walk_end::end_of_list:
      return "end_of_list";
    case walk_end::empty_list:
      return "empty_list";
    case walk_end::no_extended_space:
      return "no_extended_space";
    case walk_end::loop:
      return "loop";
    case walk_end::next_below_extended:
      return "next_below_extended";
    case walk_end::all_ones_header:
      return "all_ones_header";
    case walk_end::zero_header:
      return "zero_header";
  }
  return "unknown";
}

// The walk's state machine, shared by the view and walk_ext_caps(). Follows Next with its low
// two bits masked, as Linux, QEMU and lspci do; reserved_next_bits() records that they were set
// (the warning a strict reader gives).
class ext_cap_walker {
 public:
  constexpr ext_cap_walker() noexcept = default;
  constexpr explicit ext_cap_walker(config_span config) noexcept
      : config_(config.data()), done_(false) {
    const std::uint32_t header = read(extended_config_start);
    if (header == 0xFFFF'FFFFu) {
      finish(walk_end::no_extended_space, extended_config_start);
    } else if (header == 0) {
      finish(walk_end::empty_list, extended_config_start);
    } else {
      visit(extended_config_start, header);
    }
  }

  [[nodiscard]] constexpr bool done() const noexcept { return done_; }
  // The capability the walk is on; meaningful while !done().
  [[nodiscard]] constexpr const ext_cap_entry& current() const noexcept { return current_; }
  // Why the walk ended and the offset it was looking at (the header, or the capability whose
  // Next was refused); meaningful once done().
  [[nodiscard]] constexpr walk_end end() const noexcept { return end_; }
  [[nodiscard]] constexpr std::uint16_t end_offset() const noexcept { return end_offset_; }
  // Capabilities yielded so far (at most max_ext_caps).
  [[nodiscard]] constexpr std::size_t steps() const noexcept { return steps_; }
  [[nodiscard]] constexpr bool reserved_next_bits() const noexcept { return reserved_next_bits_; }

  constexpr void advance() noexcept {
    if (done_) return;
    const std::uint16_t from = current_.offset;
    const std::uint16_t next = current_.next;
    if (next == 0) return finish(walk_end::end_of_list, from);
    if (next < extended_config_start) return finish(walk_end::next_below_extended, from);
    if (seen(next)) return finish(walk_end::loop, from);
    const std::uint32_t header = read(next);
    if (header == 0xFFFF'FFFFu) return finish(walk_end::all_ones_header, next);
    if (header == 0) return finish(walk_end::zero_header, next);
    visit(next, header);
  }

  friend constexpr bool operator==(const ext_cap_walker& a, const ext_cap_walker& b) noexcept {
    return a.done_ == b.done_ && a.steps_ == b.steps_;
  }

 private:
  static constexpr std::size_t slot(std::uint16_t offset) noexcept {
    return (offset - extended_config_start) / capability_alignment;
  }
  [[nodiscard]] constexpr bool seen(std::uint16_t offset) const noexcept {
    const std::size_t s = slot(offset);
    return ((visited_[s / 64] >> (s % 64)) & 1u) != 0;
  }
  [[nodiscard]] constexpr std::uint32_t read(std::size_t offset) const noexcept {
    return load32(config_span{config_, config_space_size}, offset);
  }
  constexpr void visit(std::uint16_t offset, std::uint32_t header) noexcept {
    const std::size_t s = slot(offset);
    visited_[s / 64] |= std::uint64_t{1} << (s % 64);
    const std::uint16_t raw_next = ext_cap::next_capability_offset(header);
    if ((raw_next & (capability_alignment - 1)) != 0) reserved_next_bits_ = true;
    current_ = {offset, ext_cap::capability_id(header), ext_cap::capability_version(header),
                static_cast<std::uint16_t>(raw_next & ~(capability_alignment - 1))};
    ++steps_;
  }
  constexpr void finish(walk_end e, std::size_t offset) noexcept {
    done_ = true;
    end_ = e;
    end_offset_ = static_cast<std::uint16_t>(offset);
  }

  const std::byte* config_ = nullptr;
  std::array<std::uint64_t, (max_ext_caps + 63) / 64> visited_{};
  ext_cap_entry current_{};
  std::size_t steps_ = 0;
  walk_end end_ = walk_end::end_of_list;
  std::uint16_t end_offset_ = 0;
  bool done_ = true;
  bool reserved_next_bits_ = false;
};

// The capabilities in list order: `for (const ext_cap_entry& c : ext_caps(config))`. The view
// refers to the bytes; they must outlive it. walk_ext_caps() says how the list ended.
// A range-v3 view (it derives from ranges::view_base and models forward_range) written by hand:
// ranges::view_facade would cost ~0.7 s of compile time in every TU that includes this header.
class ext_cap_view : public ranges::view_base {
 public:
  class iterator {
   public:
    using value_type = ext_cap_entry;
    using difference_type = std::ptrdiff_t;
    using reference = const ext_cap_entry&;
    using pointer = const ext_cap_entry*;
    using iterator_category = std::forward_iterator_tag;
    using iterator_concept = std::forward_iterator_tag;

    constexpr iterator() noexcept = default;
    constexpr explicit iterator(const ext_cap_walker& walker) noexcept : walker_(walker) {}

    [[nodiscard]] constexpr reference operator*() const noexcept { return walker_.current(); }
    [[nodiscard]] constexpr pointer operator->() const noexcept { return &walker_.current(); }
    constexpr iterator& operator++() noexcept {
      walker_.advance();
      return *this;
    }
    constexpr iterator operator++(int) noexcept {
      iterator before = *this;
      walker_.advance();
      return before;
    }
    [[nodiscard]] friend constexpr bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.walker_ == b.walker_;
    }
    [[nodiscard]] friend constexpr bool operator==(const iterator& a,
                                                   ranges::default_sentinel_t) noexcept {
      return a.walker_.done();
    }

   private:
    ext_cap_walker walker_{};
  };

  constexpr ext_cap_view() noexcept = default;
  constexpr explicit ext_cap_view(config_span config) noexcept : config_(config.data()) {}

  [[nodiscard]] constexpr iterator begin() const noexcept {
    if (config_ == nullptr) return {};
    return iterator{ext_cap_walker{config_span{config_, config_space_size}}};
  }
  [[nodiscard]] constexpr ranges::default_sentinel_t end() const noexcept { return {}; }

 private:
  const std::byte* config_ = nullptr;
};

[[nodiscard]] constexpr ext_cap_view ext_caps(config_span config) noexcept {
  return ext_cap_view{config};
}

// How a whole walk went.
struct walk_outcome {
  walk_end end = walk_end::end_of_list;
  std::uint16_t end_offset = 0;
  std::size_t count = 0;            // capabilities yielded
  bool reserved_next_bits = false;  // some Next had its reserved low bits set
  bool ascending = true;            // every Next that was followed points higher

  [[nodiscard]] constexpr bool ok() const noexcept { return well_formed(end); }
};

[[nodiscard]] constexpr walk_outcome walk_ext_caps(config_span config) noexcept {
  ext_cap_walker w{config};
  bool ascending = true;
  while (!w.done()) {
    const auto& c = w.current();
    if (c.next != 0 && c.next <= c.offset) ascending = false;
    w.advance();
  }
  return {w.end(), w.end_offset(), w.steps(), w.reserved_next_bits(), ascending};
}

// The first capability with `id` in list order, if the list reaches one.
[[nodiscard]] constexpr std::optional<ext_cap_entry> find_ext_cap(config_span config,
                                                                  ext_cap_id id) noexcept {
  for (ext_cap_walker w{config}; !w.done(); w.advance()) {
    if (w.current().id == id) return w.current();
  }
  return std::nullopt;
}

// PCI Local Bus / PCIe Base Spec r6.2 §7.5.1.1.9, §7.5.3: the legacy capability list starts at
// the pointer at 34h when Status bit 4 is set. Returns the offset of the first capability with
// `id`, or 0. At most 48 steps: there are 48 DWORDs in 40h..FFh.
inline constexpr std::size_t legacy_status_offset = 0x06;
inline constexpr std::uint16_t legacy_status_capabilities_list = 0x10;
inline constexpr std::size_t legacy_capabilities_pointer = 0x34;
inline constexpr std::uint8_t legacy_cap_id_pcie = 0x10;

[[nodiscard]] constexpr std::uint8_t find_legacy_cap(config_span config, std::uint8_t id) noexcept {
  if ((load16(config, legacy_status_offset) & legacy_status_capabilities_list) == 0) return 0;
  std::uint8_t pos = load8(config, legacy_capabilities_pointer) & 0xFC;
  for (int steps = 0; steps < 48 && pos >= 0x40; ++steps) {
    if (load8(config, pos) == id) return pos;
    pos = load8(config, pos + 1u) & 0xFC;
  }
  return 0;
}

}  // namespace vsmmu::pcie
