// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/pcie/capability_size.hpp>
#include <vsmmu/pcie/config_model.hpp>
#include <vsmmu/pcie/config_space.hpp>
#include <vsmmu/pcie/ext_cap.hpp>
#include <vsmmu/pcie/walk.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

// Adding an Extended Capability to a configuration space: append at the tail, or insert at a
// fixed offset keeping the list's order (the QEMU helper the seed series adds, patch 34). The
// new range becomes read-only and checked; its registers are the caller's to initialise
// (init.hpp). A refused addition returns why and leaves the model unchanged, byte for byte.
namespace vsmmu::pcie {

enum class insert_mode : std::uint8_t {
  // The seed's rules: 4-byte aligned, size >= 8, inside [100h, 1000h), not over an existing
  // header, an empty list only at 100h. Every header of the list is checked, not only those
  // the seed's walk reaches, so that no list can be turned into a cycle.
  seed,
  // Also refuses a range that covers a header or the body of a capability of known size, and
  // lists that are not in ascending order (where "between" has no meaning).
  strict,
};

enum class insert_error : std::uint8_t {
  none,
  misaligned,              // offset not a multiple of 4
  too_small,               // size < 8: a header and at least one register
  out_of_range,            // offset < 100h, offset >= 1000h, or offset + size > 1000h
  bad_version,             // the version does not fit its 4 bits
  no_extended_space,       // FFFFFFFFh at 100h
  empty_list_not_at_head,  // the list is empty and the offset is not 100h
  broken_list,             // the walk ended with an error (loop, bad Next, ...): see walk
  overlaps_header,         // over an existing header: see conflict
  overlaps_body,           // strict: over the body of a capability of known size: see conflict
  not_ascending,           // strict: the list, or the list after an append, is not ascending
  null_header,             // ID 0 version 0: its header could read 00000000h, "no capability"
};

[[nodiscard]] constexpr std::string_view to_string(insert_error e) noexcept {
  switch (e) {
    case insert_error::none:
      return "none";
    case insert_error::misaligned:
      return "misaligned";
    case insert_error::too_small:
      return "too_small";
    case insert_error::out_of_range:
      return "out_of_range";
    case insert_error::bad_version:
      return "bad_version";
    case insert_error::no_extended_space:
      return "no_extended_space";
    case insert_error::empty_list_not_at_head:
      return "empty_list_not_at_head";
    case insert_error::broken_list:
      return "broken_list";
    case insert_error::overlaps_header:
      return "overlaps_header";
    case insert_error::overlaps_body:
      return "overlaps_body";
    case insert_error::not_ascending:
      return "not_ascending";
    case insert_error::null_header:
      return "null_header";
  }
  return "unknown";
}

struct insert_result {
  insert_error error = insert_error::none;
  // The capability in the way (overlaps_*), or the one whose Next goes down (not_ascending).
  std::optional<ext_cap_entry> conflict;
  // How the walk of the existing list ended (broken_list, no_extended_space).
  walk_end walk = walk_end::end_of_list;
  // Where the new capability's Next points, and the capability now pointing at it (none when
  // it became the head). Set on success.
  std::uint16_t next = 0;
  std::optional<std::uint16_t> previous;

  [[nodiscard]] constexpr bool ok() const noexcept { return error == insert_error::none; }
  explicit constexpr operator bool() const noexcept { return ok(); }
};

// The list as a walk sees it, kept in a fixed array: no allocation for guest data.
struct ext_cap_list {
  std::array<ext_cap_entry, max_ext_caps> entries{};
  std::size_t count = 0;
  walk_outcome outcome{};

  [[nodiscard]] constexpr const ext_cap_entry* begin() const noexcept { return entries.data(); }
  [[nodiscard]] constexpr const ext_cap_entry* end() const noexcept {
    return entries.data() + count;
  }
};

[[nodiscard]] constexpr ext_cap_list collect_ext_caps(config_span c) noexcept {
  ext_cap_list list;
  ext_cap_walker w{c};
  bool ascending = true;
  for (; !w.done(); w.advance()) {
    const ext_cap_entry& e = w.current();
    if (e.next != 0 && e.next <= e.offset) ascending = false;
    list.entries[list.count++] = e;
  }
  list.outcome = {w.end(), w.end_offset(), w.steps(), w.reserved_next_bits(), ascending};
  return list;
}

namespace detail {

[[nodiscard]] constexpr insert_result refused(insert_error e,
                                              std::optional<ext_cap_entry> conflict = std::nullopt,
                                              walk_end walk = walk_end::end_of_list) noexcept {
  insert_result r;
  r.error = e;
  r.conflict = conflict;
  r.walk = walk;
  return r;
}

// QEMU's pcie_ext_cap_set_next: only the 12 Next bits change.
constexpr void set_next(config_model& m, std::uint16_t at, std::uint16_t next) noexcept {
  constexpr std::uint32_t next_mask = 0xFFF0'0000u;
  const std::uint32_t header = load32(m.config, at);
  store32(m.config, at, (header & ~next_mask) | (std::uint32_t{next} << 20));
  // The VMM now serves this pointer: it no longer matches the hardware's.
  store32(m.emulated, at, load32(m.emulated, at) | next_mask);
}

[[nodiscard]] constexpr bool overlaps(std::uint32_t a, std::uint32_t a_size, std::uint32_t b,
                                      std::uint32_t b_size) noexcept {
  return a < b + b_size && b < a + a_size;
}

// Rules shared by insert and append, before anything is written.
[[nodiscard]] constexpr insert_result check_range(ext_cap_id id, std::uint8_t version,
                                                  std::uint32_t offset,
                                                  std::uint32_t size) noexcept {
  if (version > 0xF) return refused(insert_error::bad_version);
  // A Null capability of version 0 has header 00000000h whenever its Next is 0: at 100h that
  // reads as an empty list, elsewhere it ends the walk as a broken list (found by fuzzing).
  if (id == ext_cap_id::null && version == 0) return refused(insert_error::null_header);
  if (offset % capability_alignment != 0) return refused(insert_error::misaligned);
  if (size < 8) return refused(insert_error::too_small);
  if (offset < extended_config_start || offset >= config_space_size ||
      size > config_space_size - offset) {
    return refused(insert_error::out_of_range);
  }
  return {};
}

// The existing capabilities the range [offset, offset + size) may not touch.
[[nodiscard]] constexpr insert_result check_overlaps(config_span c, const ext_cap_list& list,
                                                     std::uint32_t offset, std::uint32_t size,
                                                     insert_mode mode) noexcept {
  for (const ext_cap_entry& e : list) {
    // A header covering the new header: the seed's rule, and what would make a cycle.
    if (overlaps(offset, ext_cap_header_size, e.offset, ext_cap_header_size)) {
      return refused(insert_error::overlaps_header, e);
    }
  }
  if (mode == insert_mode::seed) return {};
  for (const ext_cap_entry& e : list) {
    if (overlaps(offset, size, e.offset, ext_cap_header_size)) {
      return refused(insert_error::overlaps_header, e);
    }
  }
  for (const ext_cap_entry& e : list) {
    const auto extent = ext_cap_extent(c, e);
    if (extent && overlaps(offset, size, e.offset, *extent)) {
      return refused(insert_error::overlaps_body, e);
    }
  }
  return {};
}

// New range: read-only (a guest write changes nothing until init.hpp makes registers
// writable) and checked, as QEMU's pcie_add_capability leaves it.
constexpr void write_new(config_model& m, ext_cap_id id, std::uint8_t version, std::uint16_t offset,
                         std::uint16_t size, std::uint16_t next) noexcept {
  store32(m.config, offset, ext_cap::make_header(id, version, next));
  fill(m.wmask, offset, size, std::byte{0});
  fill(m.w1cmask, offset, size, std::byte{0});
  fill(m.cmask, offset, size, std::byte{0xFF});
}

[[nodiscard]] constexpr insert_result check_list(const ext_cap_list& list) noexcept {
  if (list.outcome.end == walk_end::no_extended_space) {
    return refused(insert_error::no_extended_space, std::nullopt, list.outcome.end);
  }
  if (!list.outcome.ok()) return refused(insert_error::broken_list, std::nullopt, list.outcome.end);
  return {};
}

[[nodiscard]] constexpr std::optional<ext_cap_entry> first_descent(
    const ext_cap_list& list) noexcept {
  for (const ext_cap_entry& e : list) {
    if (e.next != 0 && e.next <= e.offset) return e;
  }
  return std::nullopt;
}

}  // namespace detail

// Inserts a capability at `offset`, linking previous -> new -> next where previous is the last
// capability (in list order) at or below `offset` and next what it pointed at (QEMU's walk
// order: it stops at the first capability above `offset`).
[[nodiscard]] constexpr insert_result insert_ext_cap(
    config_model& m, ext_cap_id id, std::uint8_t version, std::uint32_t offset, std::uint32_t size,
    insert_mode mode = insert_mode::strict) noexcept {
  if (auto r = detail::check_range(id, version, offset, size); !r) return r;
  const ext_cap_list list = collect_ext_caps(m.config);
  const auto off = static_cast<std::uint16_t>(offset);
  const auto sz = static_cast<std::uint16_t>(size);
  if (list.outcome.end == walk_end::empty_list) {
    if (offset != extended_config_start)
      return detail::refused(insert_error::empty_list_not_at_head);
    detail::write_new(m, id, version, off, sz, 0);
    return {};
  }
  if (auto r = detail::check_list(list); !r) return r;
  if (mode == insert_mode::strict) {
    if (const auto d = detail::first_descent(list))
      return detail::refused(insert_error::not_ascending, d);
  }
  if (auto r = detail::check_overlaps(m.config, list, offset, size, mode); !r) return r;

  std::optional<std::uint16_t> previous;
  std::uint16_t next = 0;
  for (const ext_cap_entry& e : list) {
    if (e.offset > offset) {
      next = e.offset;
      break;
    }
    previous = e.offset;
  }
  if (!previous) {
    // Only reachable with a non-empty list when offset < 100h, which check_range refuses.
    return detail::refused(insert_error::out_of_range);
  }
  detail::write_new(m, id, version, off, sz, next);
  detail::set_next(m, *previous, off);
  insert_result r;
  r.next = next;
  r.previous = previous;
  return r;
}

// Appends a capability at `offset`: the last capability of the list points at it and its Next
// is 0 (QEMU's pcie_add_capability, with errors returned instead of asserted). On an empty list
// the offset must be 100h. Strict mode keeps the list ascending: the offset must lie above
// every existing header.
[[nodiscard]] constexpr insert_result append_ext_cap(
    config_model& m, ext_cap_id id, std::uint8_t version, std::uint32_t offset, std::uint32_t size,
    insert_mode mode = insert_mode::strict) noexcept {
  if (auto r = detail::check_range(id, version, offset, size); !r) return r;
  const ext_cap_list list = collect_ext_caps(m.config);
  const auto off = static_cast<std::uint16_t>(offset);
  const auto sz = static_cast<std::uint16_t>(size);
  if (list.outcome.end == walk_end::empty_list) {
    if (offset != extended_config_start)
      return detail::refused(insert_error::empty_list_not_at_head);
    detail::write_new(m, id, version, off, sz, 0);
    return {};
  }
  if (auto r = detail::check_list(list); !r) return r;
  if (auto r = detail::check_overlaps(m.config, list, offset, size, mode); !r) return r;
  const ext_cap_entry& tail = list.entries[list.count - 1];
  if (mode == insert_mode::strict) {
    if (const auto d = detail::first_descent(list))
      return detail::refused(insert_error::not_ascending, d);
    if (offset < tail.offset) return detail::refused(insert_error::not_ascending, tail);
  }
  detail::write_new(m, id, version, off, sz, 0);
  detail::set_next(m, tail.offset, off);
  insert_result r;
  r.previous = tail.offset;
  return r;
}

}  // namespace vsmmu::pcie
