// SPDX-License-Identifier: BSL-1.0
// The Extended Capability list of a configuration space a device (or a guest) controls, and
// what a VMM does to it: walk, size, insert, append, find a gap, synthesize PASID, apply guest
// writes (docs/pcie.md). Input: a fill byte, then records (offset, DWORD) stored into the
// space, then up to eight operations, each followed by the walk's invariants.
#include <vsmmu/layout/value.hpp>
#include <vsmmu/pcie/capability_size.hpp>
#include <vsmmu/pcie/config_model.hpp>
#include <vsmmu/pcie/gap.hpp>
#include <vsmmu/pcie/insert.hpp>
#include <vsmmu/pcie/pasid.hpp>
#include <vsmmu/pcie/pasid_synthesis.hpp>
#include <vsmmu/pcie/walk.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>

#include "check.hpp"

// Findings reported and not yet fixed in the library are skipped, so that a campaign explores
// past them; build with -DVSMMU_FUZZ_KNOWN_FINDINGS=1 to reproduce them (docs/reliability.md).
#ifndef VSMMU_FUZZ_KNOWN_FINDINGS
#define VSMMU_FUZZ_KNOWN_FINDINGS 0
#endif

namespace {

namespace p = vsmmu::pcie;
using vsmmu::fuzz::reader;

constexpr std::size_t max_records = 48;
constexpr std::size_t max_operations = 8;
constexpr std::uint32_t space = p::config_space_size;

struct walked {
  p::walk_outcome outcome;
  std::array<p::ext_cap_entry, p::max_ext_caps> entries{};
  std::size_t count = 0;
};

// The view yields each header once, each where the previous one's Next points, each read as
// the bytes say; it agrees with walk_ext_caps and find_ext_cap; it stops within max_ext_caps
// steps; sizes stay inside the space.
walked check_walk(p::config_span c) {
  walked w;
  w.outcome = p::walk_ext_caps(c);
  std::array<bool, space / 4> seen{};
  bool ascending = true;
  for (const p::ext_cap_entry& e : p::ext_caps(c)) {
    VSMMU_FUZZ_CHECK(w.count < p::max_ext_caps, "the walk took more than max_ext_caps steps");
    VSMMU_FUZZ_CHECK(
        e.offset >= p::extended_config_start && e.offset <= space - 4 && e.offset % 4 == 0,
        "the walk yielded a header outside the extended region or misaligned");
    VSMMU_FUZZ_CHECK(!seen[e.offset / 4], "the walk visited a header twice");
    seen[e.offset / 4] = true;
    const std::uint32_t h = p::load32(c, e.offset);
    VSMMU_FUZZ_CHECK(e.id == p::ext_cap::capability_id(h) &&
                         e.version == p::ext_cap::capability_version(h) &&
                         e.next == (p::ext_cap::next_capability_offset(h) & ~3U),
                     "an entry differs from its header");
    if (w.count > 0) {
      VSMMU_FUZZ_CHECK(w.entries[w.count - 1].next == e.offset, "the walk did not follow Next");
    }
    if (e.next != 0 && e.next <= e.offset) ascending = false;
    if (const auto extent = p::ext_cap_extent(c, e)) {
      VSMMU_FUZZ_CHECK(*extent >= p::ext_cap_header_size && e.offset + *extent <= space,
                       "a capability's extent leaves the space");
    }
    w.entries[w.count++] = e;
  }
  const p::walk_outcome& o = w.outcome;
  VSMMU_FUZZ_CHECK(o.count == w.count, "walk_ext_caps and the view count differently");
  VSMMU_FUZZ_CHECK(o.ascending == ascending, "walk_outcome::ascending is wrong");
  VSMMU_FUZZ_CHECK(o.ok() == p::well_formed(o.end) && p::to_string(o.end) != "unknown",
                   "a walk_end without a name");
  if (o.end == p::walk_end::end_of_list) {
    VSMMU_FUZZ_CHECK(w.count > 0 && w.entries[w.count - 1].next == 0,
                     "end_of_list without a last Next of 0");
  }
  if (o.end == p::walk_end::empty_list || o.end == p::walk_end::no_extended_space) {
    VSMMU_FUZZ_CHECK(w.count == 0, "an empty list yielded capabilities");
  }
  if (o.end == p::walk_end::loop) {
    VSMMU_FUZZ_CHECK(w.count > 0 && seen[w.entries[w.count - 1].next / 4],
                     "a loop reported where Next points at an unvisited header");
  }
  // find_ext_cap is the first entry with the ID, for IDs present and absent.
  for (const auto id :
       {w.count > 0 ? w.entries[w.count - 1].id : p::ext_cap_id::null, p::ext_cap_id::pasid}) {
    std::optional<p::ext_cap_entry> first;
    for (std::size_t i = 0; i < w.count && !first; ++i) {
      if (w.entries[i].id == id) first = w.entries[i];
    }
    VSMMU_FUZZ_CHECK(p::find_ext_cap(c, id) == first, "find_ext_cap is not the first match");
  }
  return w;
}

// Bytes in [from, from + n) are exempt from "unchanged".
struct exempt {
  std::uint32_t from = 0;
  std::uint32_t n = 0;
};

// x and y agree outside a and b, compared with memcmp piece by piece: a byte loop over five
// 4 KiB arrays, its compares traced for the fuzzer, would cost more than the operation checked.
[[nodiscard]] bool same_outside(const p::config_bytes& x, const p::config_bytes& y, exempt a,
                                exempt b) {
  if (b.from < a.from) std::swap(a, b);
  const auto end = [](exempt e) { return std::min<std::uint32_t>(e.from + e.n, space); };
  const auto same = [&](std::uint32_t from, std::uint32_t to) {
    return from >= to || std::memcmp(x.data() + from, y.data() + from, to - from) == 0;
  };
  const std::uint32_t a_end = std::min(end(a), space);
  return same(0, std::min(a.from, space)) && same(a_end, std::min(b.from, space)) &&
         same(std::max(a_end, end(b)), space);
}

// config_model's operator== compares byte by byte, each compare traced: memcmp instead.
[[nodiscard]] bool same_model(const p::config_model& a, const p::config_model& b) {
  const auto same = [](const p::config_bytes& x, const p::config_bytes& y) {
    return std::memcmp(x.data(), y.data(), x.size()) == 0;
  };
  return same(a.config, b.config) && same(a.wmask, b.wmask) && same(a.w1cmask, b.w1cmask) &&
         same(a.cmask, b.cmask) && same(a.emulated, b.emulated);
}

void check_unchanged_except(const p::config_model& before, const p::config_model& after, exempt a,
                            exempt b) {
  VSMMU_FUZZ_CHECK(same_outside(before.config, after.config, a, b) &&
                       same_outside(before.wmask, after.wmask, a, b) &&
                       same_outside(before.w1cmask, after.w1cmask, a, b) &&
                       same_outside(before.cmask, after.cmask, a, b) &&
                       same_outside(before.emulated, after.emulated, a, b),
                   "an insertion changed bytes outside the new capability and the previous Next");
}

// A successful insertion or append: the list is well formed, holds the new capability, has one
// more entry, and nothing changed but the new range and the previous header's Next bits.
// `registers_written`: the caller also wrote the registers after the header, which in seed
// mode may overwrite a header the range covers (docs/pcie.md: strict rule 6 refuses that).
void check_inserted(const p::config_model& before, const walked& old, const p::config_model& m,
                    const p::insert_result& r, p::ext_cap_id id, std::uint8_t version,
                    std::uint32_t offset, std::uint32_t size, p::insert_mode mode,
                    bool registers_written = false) {
  const walked now = check_walk(m.config);
  VSMMU_FUZZ_CHECK(now.outcome.ok(), "an accepted insertion broke the list");
  if (mode == p::insert_mode::strict || !registers_written) {
    VSMMU_FUZZ_CHECK(now.count == old.count + 1, "an insertion did not add exactly one capability");
  }
  bool found = false;
  for (std::size_t i = 0; i < now.count; ++i) {
    const auto& e = now.entries[i];
    if (e.offset == offset) found = e.id == id && e.version == version;
  }
  VSMMU_FUZZ_CHECK(found, "the inserted capability is not in the list as inserted");
  if (mode == p::insert_mode::strict) {
    VSMMU_FUZZ_CHECK(now.outcome.ascending, "a strict insertion made the list descend");
  }
  // Next is bits [31:20] of the previous header: its bytes 2 and 3.
  const exempt previous_next = r.previous ? exempt{*r.previous + 2U, 2} : exempt{};
  check_unchanged_except(before, m, exempt{offset, size}, previous_next);
}

void insert_or_append(p::config_model& m, reader& in, bool append) {
  const auto mode =
      (in.integer<std::uint8_t>() & 1U) != 0 ? p::insert_mode::seed : p::insert_mode::strict;
  const auto id = static_cast<p::ext_cap_id>(in.integer<std::uint16_t>());
  const auto version = in.integer<std::uint8_t>();
  const std::uint32_t offset = in.integer<std::uint16_t>();
  const std::uint32_t size = in.integer<std::uint16_t>();
  const p::config_model before = m;
  const walked old = check_walk(m.config);
  const p::insert_result r = append ? p::append_ext_cap(m, id, version, offset, size, mode)
                                    : p::insert_ext_cap(m, id, version, offset, size, mode);
  VSMMU_FUZZ_CHECK(p::to_string(r.error) != "unknown", "an insert_error without a name");
  if (!r) {
    VSMMU_FUZZ_CHECK(same_model(m, before), "a refused insertion changed the model");
    return;
  }
  check_inserted(before, old, m, r, id, version, offset, size, mode);
}

void gap(const p::config_model& m, reader& in) {
  p::gap_request req;
  req.size = in.integer<std::uint16_t>();
  req.alignment = 1U << (in.integer<std::uint8_t>() % 14);
  req.placement = static_cast<p::gap_placement>(in.integer<std::uint8_t>() % 3);
  req.near = in.integer<std::uint16_t>();
  const p::gap_result g = p::find_gap(m.config, req);
  VSMMU_FUZZ_CHECK(p::to_string(g.error) != "unknown", "a gap_error without a name");
  if (!g) return;
  VSMMU_FUZZ_CHECK(g.offset % req.alignment == 0 && g.offset >= p::extended_config_start &&
                       g.offset + req.size <= space,
                   "find_gap returned a misaligned range or one outside the extended region");
  // docs/pcie.md: on an ascending list, strict insertion accepts every range find_gap returns.
  const walked w = check_walk(m.config);
  if (w.outcome.ascending) {
    p::config_model copy = m;
    const auto r = p::insert_ext_cap(copy, p::ext_cap_id::vsec, 1, g.offset, req.size);
    VSMMU_FUZZ_CHECK(r.ok(), "strict insertion refused a range find_gap returned");
    check_inserted(m, w, copy, r, p::ext_cap_id::vsec, 1, g.offset, req.size,
                   p::insert_mode::strict);
  }
}

void synthesize(p::config_model& m, reader& in) {
  p::pasid_synthesis_request req;
  req.ssidsize = in.integer<std::uint8_t>() % 24;
  req.host.width = in.integer<std::uint8_t>() % 24;
  const auto flags = in.integer<std::uint8_t>();
  req.host.exec = (flags & 1U) != 0;
  req.host.priv = (flags & 2U) != 0;
  req.use_gap_finder = (flags & 4U) != 0;
  req.mode = (flags & 8U) != 0 ? p::insert_mode::seed : p::insert_mode::strict;
  const auto offset = in.integer<std::uint16_t>();
  if ((flags & 16U) != 0) req.offset = offset;
  const p::config_model before = m;
  const walked old = check_walk(m.config);
  const p::pasid_synthesis_result r = p::synthesize_pasid(m, req);
  VSMMU_FUZZ_CHECK(p::to_string(r.status) != "unknown", "a synthesis status without a name");
  if (!r.ok()) {
    VSMMU_FUZZ_CHECK(same_model(m, before), "a refused synthesis changed the model");
    return;
  }
  check_inserted(before, old, m, r.insert, p::pasid::id, p::pasid::version, r.offset,
                 p::pasid::size_bytes, req.mode, true);
  VSMMU_FUZZ_CHECK(r.width == p::advertised_pasid_width(req.host.width, req.ssidsize) &&
                       r.width <= req.ssidsize && r.width <= p::pasid::max_pasid_width,
                   "the advertised PASID width exceeds what the vSMMU or host supports");
  const auto cap = vsmmu::layout::value<p::pasid::layout>::from_bytes(
      std::span<const std::byte, p::pasid::size_bytes>(m.config.data() + r.offset,
                                                       p::pasid::size_bytes));
  VSMMU_FUZZ_CHECK(cap.get<p::pasid::MaxPASIDWidth>() == r.width,
                   "the synthesized capability advertises another width");
  for (std::uint32_t i = 0; i < p::pasid::size_bytes; ++i) {
    VSMMU_FUZZ_CHECK(m.emulated[r.offset + i] == std::byte{0xFF},
                     "a synthesized PASID byte reaches the hardware");
  }
}

void write(p::config_model& m, reader& in) {
  const std::size_t offset = in.integer<std::uint16_t>();
  const auto value = in.integer<std::uint32_t>();
  const std::size_t width = in.integer<std::uint8_t>() % 6;
  const p::config_model before = m;
  if (!p::guest_write(m, offset, value, width)) {
    VSMMU_FUZZ_CHECK(same_model(m, before), "a refused guest write changed the model");
    return;
  }
  // Only the bytes written may change, and in them only the bits a mask lets change.
  VSMMU_FUZZ_CHECK(
      same_outside(before.config, m.config,
                   exempt{static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(width)},
                   exempt{}),
      "a guest write changed bytes it does not cover");
  for (std::size_t i = offset; i < offset + width; ++i) {
    const auto fixed = ~(m.wmask[i] | m.w1cmask[i]);
    VSMMU_FUZZ_CHECK(((m.config[i] ^ before.config[i]) & fixed) == std::byte{0},
                     "a guest write changed a bit no mask lets it change");
  }
  p::config_model masks_only = m;
  masks_only.config = before.config;
  VSMMU_FUZZ_CHECK(same_model(masks_only, before), "a guest write changed a mask");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader in(data, size);
  p::config_model m;
  const auto fill = in.integer<std::uint8_t>();
  p::fill(m.config, 0, space, std::byte{static_cast<std::uint8_t>((fill & 1U) != 0 ? 0xFF : 0)});
  p::fill(m.wmask, 0, space, std::byte{static_cast<std::uint8_t>((fill & 2U) != 0 ? 0xFF : 0)});
  p::fill(m.w1cmask, 0, space, std::byte{static_cast<std::uint8_t>((fill & 4U) != 0 ? 0x0F : 0)});
  const std::size_t records = in.integer<std::uint8_t>() % max_records;
  for (std::size_t i = 0; i < records; ++i) {
    const std::size_t offset = in.integer<std::uint16_t>() & 0xFFCU;
    p::store32(m.config, offset, in.integer<std::uint32_t>());
  }
  (void)check_walk(m.config);
  for (std::size_t op = 0; op < max_operations && in.remaining() > 0; ++op) {
    switch (in.integer<std::uint8_t>() % 5) {
      case 0:
        insert_or_append(m, in, false);
        break;
      case 1:
        insert_or_append(m, in, true);
        break;
      case 2:
        gap(m, in);
        break;
      case 3:
        synthesize(m, in);
        break;
      default:
        write(m, in);
        break;
    }
    (void)check_walk(m.config);
  }
  return 0;
}
