// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/layout/layout.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace vsmmu::layout {

namespace detail {
template <class F, auto V>
constexpr void require_fits() {
  if constexpr (!F::fits(static_cast<typename F::value_type>(V))) {
    static_assert(sizeof(error::constant_does_not_fit_field<F, V>) > 0,
                  "vsmmu: a constant does not fit its field");
  }
}
}  // namespace detail

// Field access shared by the owning value and the views. Derived provides word(i) (and, for
// writable storage, store_bits(lsb, msb, raw)).
//
// Each accessor is one small function per field, and the bit work is shared per storage type
// (detail::extract_bits/insert_bits, always inlined): a TU pays per field it touches for one
// instantiation, not for a chain of them.
template <class Derived, layout_type L>
class accessors {
 public:
  using layout_type = L;

  template <field_of<L> F>
  [[nodiscard]] constexpr typename F::value_type get() const noexcept {
    return detail::value_from_raw<typename F::value_type>(raw_bits(F::lsb, F::msb), F::value_shift);
  }

  // The field's bits as stored, not shifted into place.
  template <field_of<L> F>
  [[nodiscard]] constexpr std::uint64_t raw() const noexcept {
    return raw_bits(F::lsb, F::msb);
  }

  // Software write of a writable field (RW, WO, W1C). Bits of v outside the field are dropped,
  // as a register drops them; check F::fits(v) first where that matters.
  template <field_of<L> F>
  constexpr Derived& set(typename F::value_type v) noexcept {
    if constexpr (!software_writable(F::access_mode)) {
      static_assert(sizeof(error::write_to_read_only_field<F>) > 0,
                    "vsmmu: set<F> on a field software cannot write (use init<F>)");
    }
    self().store_bits(F::lsb, F::msb, detail::raw_from_value(v) >> F::value_shift);
    return self();
  }

  // Compile-time constant write: refuses a constant that does not fit.
  template <field_of<L> F, auto V>
  constexpr Derived& set() noexcept {
    detail::require_fits<F, V>();
    return set<F>(static_cast<typename F::value_type>(V));
  }

  // Write whatever the field's access: for the model building its ID registers and for
  // encoders of in-memory structures.
  template <field_of<L> F>
  constexpr Derived& init(typename F::value_type v) noexcept {
    self().store_bits(F::lsb, F::msb, detail::raw_from_value(v) >> F::value_shift);
    return self();
  }

  template <field_of<L> F, auto V>
  constexpr Derived& init() noexcept {
    detail::require_fits<F, V>();
    return init<F>(static_cast<typename F::value_type>(V));
  }

 private:
  [[nodiscard]] constexpr std::uint64_t raw_bits(unsigned lsb, unsigned msb) const noexcept {
    return detail::extract_bits<typename L::word_type>(
        [this](unsigned i) { return self().word(i); }, lsb, msb);
  }
  [[nodiscard]] constexpr const Derived& self() const noexcept {
    return static_cast<const Derived&>(*this);
  }
  [[nodiscard]] constexpr Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

// An owning copy of a layout: words in host order holding the little-endian structure's
// words (word 0 = bytes 0..7 of an STE).
template <layout_type L>
class value : public accessors<value<L>, L> {
 public:
  using word_type = typename L::word_type;
  using storage_type = std::array<word_type, L::word_count>;

  constexpr value() noexcept = default;
  constexpr explicit value(const storage_type& w) noexcept : words_(w) {}

  [[nodiscard]] static constexpr value from_bytes(
      std::span<const std::byte, L::byte_count> bytes) noexcept {
    value v;
    for (std::size_t i = 0; i < L::word_count; ++i) {
      v.words_[i] = detail::load_le<word_type>(bytes.data() + i * sizeof(word_type));
    }
    return v;
  }
  constexpr void to_bytes(std::span<std::byte, L::byte_count> out) const noexcept {
    for (std::size_t i = 0; i < L::word_count; ++i) {
      detail::store_le(out.data() + i * sizeof(word_type), words_[i]);
    }
  }
  [[nodiscard]] constexpr std::array<std::byte, L::byte_count> bytes() const noexcept {
    std::array<std::byte, L::byte_count> out{};
    to_bytes(out);
    return out;
  }

  // A copy with one field changed (RW fields; `init`-style for any field via with_init).
  template <field_of<L> F>
  [[nodiscard]] constexpr value with(typename F::value_type v) const noexcept {
    value copy = *this;
    copy.template set<F>(v);
    return copy;
  }
  template <field_of<L> F, auto V>
  [[nodiscard]] constexpr value with() const noexcept {
    value copy = *this;
    copy.template set<F, V>();
    return copy;
  }

  [[nodiscard]] constexpr const storage_type& words() const noexcept { return words_; }
  [[nodiscard]] constexpr storage_type& words() noexcept { return words_; }
  [[nodiscard]] constexpr word_type word(unsigned i) const noexcept { return words_[i]; }
  template <class F>
  constexpr void store(std::uint64_t raw) noexcept {
    store_bits(F::lsb, F::msb, raw);
  }
  // Writes raw bits into [msb:lsb] (the accessors' write path).
  constexpr void store_bits(unsigned lsb, unsigned msb, std::uint64_t raw) noexcept {
    detail::insert_bits<word_type>([this](unsigned i) -> word_type& { return words_[i]; }, lsb, msb,
                                   raw);
  }

  // Bits set outside every declared field (undeclared space is RES0 in the spec).
  [[nodiscard]] constexpr bool undeclared_bits_clear() const noexcept;

  friend constexpr bool operator==(const value& a, const value& b) noexcept {
    return a.words_ == b.words_;
  }

 private:
  storage_type words_{};
};

// A read-only view over the structure's little-endian bytes in place (guest memory, a DMA
// buffer, a captured dump).
template <layout_type L>
class view : public accessors<view<L>, L> {
 public:
  using word_type = typename L::word_type;
  constexpr explicit view(std::span<const std::byte, L::byte_count> bytes) noexcept
      : bytes_(bytes.data()) {}
  [[nodiscard]] constexpr word_type word(unsigned i) const noexcept {
    return detail::load_le<word_type>(bytes_ + i * sizeof(word_type));
  }
  [[nodiscard]] constexpr value<L> copy() const noexcept {
    return value<L>::from_bytes(std::span<const std::byte, L::byte_count>(bytes_, L::byte_count));
  }

 private:
  const std::byte* bytes_;
};

// A writable view over little-endian bytes: set() updates the bytes in place.
template <layout_type L>
class mutable_view : public accessors<mutable_view<L>, L> {
 public:
  using word_type = typename L::word_type;
  constexpr explicit mutable_view(std::span<std::byte, L::byte_count> bytes) noexcept
      : bytes_(bytes.data()) {}
  [[nodiscard]] constexpr word_type word(unsigned i) const noexcept {
    return detail::load_le<word_type>(bytes_ + i * sizeof(word_type));
  }
  template <class F>
  constexpr void store(std::uint64_t raw) noexcept {
    store_bits(F::lsb, F::msb, raw);
  }
  // Read-modify-write of just the words [msb:lsb] touches (at most 64 / word bits + 1).
  constexpr void store_bits(unsigned lsb, unsigned msb, std::uint64_t raw) noexcept {
    const unsigned first = lsb / L::word_bits;
    const unsigned last = msb / L::word_bits;
    std::array<word_type, 64 / L::word_bits + 1> touched{};
    for (unsigned i = first; i <= last; ++i) touched[i - first] = word(i);
    detail::insert_bits<word_type>([&](unsigned i) -> word_type& { return touched[i - first]; },
                                   lsb, msb, raw);
    for (unsigned i = first; i <= last; ++i) {
      detail::store_le(bytes_ + i * sizeof(word_type), touched[i - first]);
    }
  }

 private:
  std::byte* bytes_;
};

// A per-word bit mask over a layout's storage.
template <layout_type L>
using word_mask = std::array<typename L::word_type, L::word_count>;

// True when `mask` shares no bit with a declared field: for ranges a structure deliberately
// leaves undeclared, such as IMPLEMENTATION DEFINED ones.
template <layout_type L>
[[nodiscard]] constexpr bool outside_declared_fields(const word_mask<L>& mask) noexcept {
  for (std::size_t i = 0; i < L::word_count; ++i) {
    if ((mask[i] & L::declared_mask[i]) != 0) return false;
  }
  return true;
}

// True when no bit is set outside the declared fields and `also_allowed` (a value or a view).
template <class X>
[[nodiscard]] constexpr bool undeclared_bits_clear(
    const X& x, const word_mask<typename X::layout_type>& also_allowed = {}) noexcept {
  using L = typename X::layout_type;
  for (unsigned i = 0; i < L::word_count; ++i) {
    const auto allowed = static_cast<typename L::word_type>(L::declared_mask[i] | also_allowed[i]);
    if ((x.word(i) & static_cast<typename L::word_type>(~allowed)) != 0) return false;
  }
  return true;
}

template <layout_type L>
constexpr bool value<L>::undeclared_bits_clear() const noexcept {
  return vsmmu::layout::undeclared_bits_clear(*this);
}

// Free-function spellings, convenient in generic code (no `.template`).
template <field_type F, class X>
[[nodiscard]] constexpr typename F::value_type get(const X& x) noexcept {
  return x.template get<F>();
}
template <field_type F, class X>
constexpr X& set(X& x, typename F::value_type v) noexcept {
  x.template set<F>(v);
  return x;
}

}  // namespace vsmmu::layout
