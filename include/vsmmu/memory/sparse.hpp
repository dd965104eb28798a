// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/memory/adapter.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>

namespace vsmmu::memory {

// Guest physical memory as a map of 4KB pages: only mapped pages exist, anywhere in the 64-bit
// space; an access touching an unmapped page is an external abort (and writes nothing). For
// tests and examples that place tables at realistic, far-apart addresses.
//
// A class template only so that its members (and the std::map members they use) are instantiated
// where they are used, not in every TU including the umbrella header. Use sparse_memory.
template <class = void>
class basic_sparse_memory {
 public:
  static constexpr unsigned page_shift = 12;
  static constexpr std::uint64_t page_size = std::uint64_t{1} << page_shift;

  // Backs [pa, pa + size) with zeroed pages (pages already mapped keep their contents).
  void map(std::uint64_t pa, std::uint64_t size) {
    if (size == 0) return;
    const std::uint64_t first = pa >> page_shift;
    const std::uint64_t last = (pa + (size - 1)) >> page_shift;  // wraps only past 2^64: clamp
    const std::uint64_t end = last < first ? (~std::uint64_t{0} >> page_shift) : last;
    for (std::uint64_t p = first;; ++p) {
      (void)pages_[p];  // value-initialised: a new page reads as zeros
      if (p == end) break;
    }
  }
  // Removes the pages [pa, pa + size) touches: later accesses to them abort.
  void unmap(std::uint64_t pa, std::uint64_t size) {
    if (size == 0) return;
    const std::uint64_t first = pa >> page_shift;
    const std::uint64_t last = (pa + (size - 1)) >> page_shift;
    pages_.erase(pages_.lower_bound(first), last < first ? pages_.end() : pages_.upper_bound(last));
  }
  [[nodiscard]] bool mapped(std::uint64_t pa) const noexcept { return find(pa) != nullptr; }
  [[nodiscard]] std::size_t page_count() const noexcept { return pages_.size(); }

  [[nodiscard]] read_result read64(std::uint64_t pa) const noexcept {
    std::array<std::byte, 8> b{};
    if (read_bytes(pa, b) != access_status::ok) return {0, access_status::external_abort};
    std::uint64_t v = 0;
    for (unsigned i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<std::uint8_t>(b[i])} << (8 * i);
    return {v, access_status::ok};
  }

  access_status read_bytes(std::uint64_t pa, std::span<std::byte> out) const noexcept {
    if (!all_mapped(pa, out.size())) return access_status::external_abort;
    for (std::size_t i = 0; i < out.size();) {
      const std::uint64_t a = pa + i;
      const page* p = find(a);
      const std::size_t off = static_cast<std::size_t>(a & (page_size - 1));
      const std::size_t n = std::min<std::size_t>(out.size() - i, page_size - off);
      for (std::size_t k = 0; k < n; ++k) out[i + k] = (*p)[off + k];
      i += n;
    }
    return access_status::ok;
  }

  access_status write64(std::uint64_t pa, std::uint64_t v) noexcept {
    std::array<std::byte, 8> b{};
    for (unsigned i = 0; i < 8; ++i) b[i] = static_cast<std::byte>(v >> (8 * i));
    return write_bytes(pa, b);
  }

  access_status write_bytes(std::uint64_t pa, std::span<const std::byte> in) noexcept {
    if (!all_mapped(pa, in.size())) return access_status::external_abort;
    for (std::size_t i = 0; i < in.size();) {
      const std::uint64_t a = pa + i;
      page* p = find(a);
      const std::size_t off = static_cast<std::size_t>(a & (page_size - 1));
      const std::size_t n = std::min<std::size_t>(in.size() - i, page_size - off);
      for (std::size_t k = 0; k < n; ++k) (*p)[off + k] = in[i + k];
      i += n;
    }
    return access_status::ok;
  }

 private:
  using page = std::array<std::byte, page_size>;

  [[nodiscard]] const page* find(std::uint64_t pa) const noexcept {
    const auto it = pages_.find(pa >> page_shift);
    return it == pages_.end() ? nullptr : &it->second;
  }
  [[nodiscard]] page* find(std::uint64_t pa) noexcept {
    const auto it = pages_.find(pa >> page_shift);
    return it == pages_.end() ? nullptr : &it->second;
  }
  // Every page of [pa, pa + size) is mapped and the range does not wrap.
  [[nodiscard]] bool all_mapped(std::uint64_t pa, std::uint64_t size) const noexcept {
    if (size == 0) return true;
    if (pa + (size - 1) < pa) return false;
    for (std::uint64_t p = pa >> page_shift; p <= (pa + (size - 1)) >> page_shift; ++p) {
      if (pages_.find(p) == pages_.end()) return false;
    }
    return true;
  }

  // Map nodes keep their pages at stable addresses. (No std::unique_ptr: <memory> pulls
  // <ostream> into every TU including this header, ~0.5 s of compile time.)
  std::map<std::uint64_t, page> pages_;
};

using sparse_memory = basic_sparse_memory<>;

static_assert(guest_memory<sparse_memory>);

}  // namespace vsmmu::memory
