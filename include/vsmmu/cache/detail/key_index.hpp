// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

// An open-addressing index from a 64-bit key to a 32-bit node id, for the configuration cache:
// linear probing, backward-shift deletion (no tombstones), load at most 1/2. The keys themselves
// live in the nodes; a slot keeps the key's hash, a multiply by an odd constant: a bijection, so
// equal hashes are equal keys and a probe never reads a node. The home slot is the product's top
// bits, which every key bit reaches (the keys, StreamIDs and (StreamID, SubstreamID) pairs, are
// dense small numbers: low bits alone would leave most slots unused). murmur3's finaliser, used
// before, took eleven instructions more per lookup, and the key compare a node load.
namespace vsmmu::cache::detail {

inline constexpr std::uint32_t npos = 0xffffffffU;

// A class template only so that its member functions (and the std::vector<slot> members they use)
// are instantiated where they are used. Use key_index.
template <class = void>
class basic_key_index {
 public:
  explicit basic_key_index(std::size_t entries)
      : mask_(std::bit_ceil(entries < 2 ? std::size_t{4} : entries * 2) - 1),
        shift_(64 - static_cast<unsigned>(std::countr_one(mask_))),
        slots_(mask_ + 1) {}

  // The id whose key is `key`, or npos.
  [[nodiscard]] std::uint32_t find(std::uint64_t key) const noexcept {
    const std::uint64_t h = hash(key);
    for (std::size_t i = home(h);; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (s.id == npos) return npos;
      if (s.hash == h) return s.id;
    }
  }

  // The key must not be present.
  void insert(std::uint64_t key, std::uint32_t id) noexcept {
    const std::uint64_t h = hash(key);
    std::size_t i = home(h);
    while (slots_[i].id != npos) i = (i + 1) & mask_;
    slots_[i] = slot{h, id};
  }

  // The id must be present under key.
  void erase(std::uint64_t key, std::uint32_t id) noexcept {
    std::size_t i = home(hash(key));
    while (slots_[i].id != id) i = (i + 1) & mask_;
    for (std::size_t j = (i + 1) & mask_; slots_[j].id != npos; j = (j + 1) & mask_) {
      const std::size_t home_j = home(slots_[j].hash);
      // Move j into the hole when its home is not in (i, j] (cyclically).
      if (((j - home_j) & mask_) >= ((j - i) & mask_)) {
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
  [[nodiscard]] static constexpr std::uint64_t hash(std::uint64_t key) noexcept {
    return key * 0x9e3779b97f4a7c15ULL;
  }
  [[nodiscard]] std::size_t home(std::uint64_t h) const noexcept {
    return static_cast<std::size_t>(h >> shift_);
  }
  std::size_t mask_;
  unsigned shift_;
  std::vector<slot> slots_;
};

using key_index = basic_key_index<>;

}  // namespace vsmmu::cache::detail
