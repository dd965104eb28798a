// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/detail/mix64.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

// An open-addressing index from a 64-bit key to a 32-bit node id, for the configuration cache:
// linear probing, backward-shift deletion (no tombstones), load at most 1/2. The keys themselves
// live in the nodes; a slot keeps the key's hash so that probing rarely touches a node.
namespace vsmmu::cache::detail {

inline constexpr std::uint32_t npos = 0xffffffffU;

using vsmmu::detail::mix64;

// A class template only so that its member functions (and the std::vector<slot> members they use)
// are instantiated where they are used. Use key_index.
template <class = void>
class basic_key_index {
 public:
  explicit basic_key_index(std::size_t entries)
      : mask_(std::bit_ceil(entries < 2 ? std::size_t{4} : entries * 2) - 1), slots_(mask_ + 1) {}

  // The id whose key is `key` (keys(id) gives a node's key), or npos.
  template <class KeyOf>
  [[nodiscard]] std::uint32_t find(std::uint64_t key, KeyOf&& key_of) const noexcept {
    const std::uint64_t h = mix64(key);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (s.id == npos) return npos;
      if (s.hash == h && key_of(s.id) == key) return s.id;
    }
  }

  // The key must not be present.
  void insert(std::uint64_t key, std::uint32_t id) noexcept {
    const std::uint64_t h = mix64(key);
    std::size_t i = h & mask_;
    while (slots_[i].id != npos) i = (i + 1) & mask_;
    slots_[i] = slot{h, id};
  }

  // The id must be present under key.
  void erase(std::uint64_t key, std::uint32_t id) noexcept {
    std::size_t i = mix64(key) & mask_;
    while (slots_[i].id != id) i = (i + 1) & mask_;
    for (std::size_t j = (i + 1) & mask_; slots_[j].id != npos; j = (j + 1) & mask_) {
      const std::size_t home = slots_[j].hash & mask_;
      // Move j into the hole when its home is not in (i, j] (cyclically).
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = slot{};
  }

  void clear() noexcept {
    for (slot& s : slots_) s = slot{};
  }

 private:
  struct slot {
    std::uint64_t hash = 0;
    std::uint32_t id = npos;
  };
  std::size_t mask_;
  std::vector<slot> slots_;
};

using key_index = basic_key_index<>;

}  // namespace vsmmu::cache::detail
