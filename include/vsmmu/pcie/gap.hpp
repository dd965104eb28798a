// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/pcie/capability_size.hpp>
#include <vsmmu/pcie/config_model.hpp>
#include <vsmmu/pcie/config_space.hpp>
#include <vsmmu/pcie/insert.hpp>
#include <vsmmu/pcie/walk.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

// Where a new Extended Capability fits: a free range of the extended region, found from the
// list and the capabilities' sizes (the length table and gap search a reviewer asked for in
// the seed series, patch 34). A range it returns is one insert_ext_cap accepts in strict mode
// on an ascending list.
namespace vsmmu::pcie {

enum class gap_placement : std::uint8_t {
  end,    // the highest free range: away from the registers vendors add after their list
  start,  // the lowest free range
  near,   // the free range whose start is closest to gap_request::near (the lower on a tie)
};

struct gap_request {
  std::uint32_t size = 8;
  std::uint32_t alignment = capability_alignment;  // a power of two, at least 4
  gap_placement placement = gap_placement::end;
  std::uint32_t near = 0;
};

enum class gap_error : std::uint8_t {
  none,
  bad_request,        // size < 8 or > F00h, or alignment not a power of two >= 4
  no_extended_space,  // FFFFFFFFh at 100h
  broken_list,        // the walk ended with an error
  no_room,            // no free range of that size and alignment
};

[[nodiscard]] constexpr std::string_view to_string(gap_error e) noexcept {
  switch (e) {
    case gap_error::none:
      return "none";
    case gap_error::bad_request:
      return "bad_request";
    case gap_error::no_extended_space:
      return "no_extended_space";
    case gap_error::broken_list:
      return "broken_list";
    case gap_error::no_room:
      return "no_room";
  }
  return "unknown";
}

struct gap_result {
  gap_error error = gap_error::none;
  std::uint16_t offset = 0;  // set when error == none
  walk_end walk = walk_end::end_of_list;

  [[nodiscard]] constexpr bool ok() const noexcept { return error == gap_error::none; }
  explicit constexpr operator bool() const noexcept { return ok(); }
};

// Which DWORDs of the extended region a capability occupies. A capability of unknown size is
// taken to reach the next header above it (or the end of the space): nothing else is known
// about where its registers stop.
struct occupancy {
  std::array<bool, max_ext_caps> used{};

  [[nodiscard]] static constexpr std::size_t slot(std::uint32_t offset) noexcept {
    return (offset - extended_config_start) / capability_alignment;
  }
  constexpr void mark(std::uint32_t from, std::uint32_t to) noexcept {
    for (std::uint32_t o = from; o < to && o < config_space_size; o += capability_alignment) {
      used[slot(o)] = true;
    }
  }
};

[[nodiscard]] constexpr occupancy occupied_ranges(config_span c,
                                                  const ext_cap_list& list) noexcept {
  occupancy occ;
  for (const ext_cap_entry& e : list) {
    std::uint32_t end = config_space_size;
    if (const auto extent = ext_cap_extent(c, e)) {
      end = e.offset + *extent;
    } else {
      for (const ext_cap_entry& other : list) {
        if (other.offset > e.offset && other.offset < end) end = other.offset;
      }
    }
    occ.mark(e.offset, end);
  }
  return occ;
}

[[nodiscard]] constexpr gap_result gap_at(gap_error e, std::uint32_t offset = 0,
                                          walk_end walk = walk_end::end_of_list) noexcept {
  gap_result r;
  r.error = e;
  r.offset = static_cast<std::uint16_t>(offset);
  r.walk = walk;
  return r;
}

[[nodiscard]] constexpr gap_result find_gap(config_span c, const gap_request& req) noexcept {
  const std::uint32_t span = config_space_size - extended_config_start;
  if (req.size < 8 || req.size > span || req.alignment < capability_alignment ||
      req.alignment > config_space_size || (req.alignment & (req.alignment - 1)) != 0) {
    return gap_at(gap_error::bad_request);
  }
  const ext_cap_list list = collect_ext_caps(c);
  if (list.outcome.end == walk_end::no_extended_space) {
    return gap_at(gap_error::no_extended_space, 0, list.outcome.end);
  }
  const std::uint32_t first =
      (static_cast<std::uint32_t>(extended_config_start) + req.alignment - 1) &
      ~(req.alignment - 1);
  if (list.outcome.end == walk_end::empty_list) {
    // An empty list can only grow at its head.
    if (first != extended_config_start) return gap_at(gap_error::no_room, 0, list.outcome.end);
    return gap_at(gap_error::none, extended_config_start, list.outcome.end);
  }
  if (!list.outcome.ok()) return gap_at(gap_error::broken_list, 0, list.outcome.end);

  const occupancy occ = occupied_ranges(c, list);
  // used_before[i]: occupied DWORDs among the first i of the region.
  std::array<std::uint16_t, max_ext_caps + 1> used_before{};
  for (std::size_t i = 0; i < max_ext_caps; ++i) {
    used_before[i + 1] = static_cast<std::uint16_t>(used_before[i] + (occ.used[i] ? 1 : 0));
  }
  const auto free_at = [&](std::uint32_t offset) {
    const std::size_t first = occupancy::slot(offset);
    const std::size_t last = occupancy::slot(offset + req.size - 1) + 1;
    return used_before[last] == used_before[first];
  };

  std::optional<std::uint32_t> best;
  const auto distance = [&](std::uint32_t o) { return o > req.near ? o - req.near : req.near - o; };
  for (std::uint32_t o = first; o + req.size <= config_space_size; o += req.alignment) {
    if (!free_at(o)) continue;
    switch (req.placement) {
      case gap_placement::start:
        if (!best) best = o;
        break;
      case gap_placement::end:
        best = o;
        break;
      case gap_placement::near:
        if (!best || distance(o) < distance(*best)) best = o;
        break;
    }
  }
  if (!best) return gap_at(gap_error::no_room, 0, list.outcome.end);
  return gap_at(gap_error::none, *best, list.outcome.end);
}

}  // namespace vsmmu::pcie
