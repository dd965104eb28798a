// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <vsmmu/smmuv3/registers/id.hpp>

#include <cstdint>
#include <type_traits>

// The feature set an SMMU advertises: its ID registers, as one value that can be compared,
// stored, checked (conformance.hpp) and passed as a template argument.
namespace vsmmu::smmuv3 {

namespace detail {
template <class F>
inline constexpr bool not_an_id_register_field = false;  // false, but only once F is known
}  // namespace detail

// Raw SMMU_IDR0-IDR5 and SMMU_AIDR. A structural type, so a configuration can be a non-type
// template argument: `template <id_registers R> class smmu_model;`.
struct id_registers {
  std::uint32_t idr0 = 0;
  std::uint32_t idr1 = 0;
  std::uint32_t idr2 = 0;
  std::uint32_t idr3 = 0;
  std::uint32_t idr4 = 0;
  std::uint32_t idr5 = 0;
  std::uint32_t aidr = 0;

 private:
  // The member holding F, chosen by constant: get<F> and with<F> work on the raw word (every ID
  // register is one 32-bit word), with no typed value or lambda instantiated per field.
  template <class F>
  static constexpr std::uint32_t id_registers::*register_of() noexcept {
    if constexpr (regs::idr0::layout::has<F>) {
      return &id_registers::idr0;
    } else if constexpr (regs::idr1::layout::has<F>) {
      return &id_registers::idr1;
    } else if constexpr (regs::idr2::layout::has<F>) {
      return &id_registers::idr2;
    } else if constexpr (regs::idr3::layout::has<F>) {
      return &id_registers::idr3;
    } else if constexpr (regs::idr4::layout::has<F>) {
      return &id_registers::idr4;
    } else if constexpr (regs::idr5::layout::has<F>) {
      return &id_registers::idr5;
    } else if constexpr (regs::aidr::layout::has<F>) {
      return &id_registers::aidr;
    } else {
      static_assert(detail::not_an_id_register_field<F>,
                    "vsmmu: not a field of SMMU_IDR0-IDR5 or SMMU_AIDR");
      return nullptr;
    }
  }
  [[nodiscard]] constexpr id_registers copy_with(std::uint32_t id_registers::*reg,
                                                 std::uint32_t word) const noexcept {
    id_registers copy = *this;
    copy.*reg = word;
    return copy;
  }

 public:
  // Typed copies of each register.
  [[nodiscard]] constexpr regs::idr0::value idr0_value() const noexcept {
    return regs::idr0::value{{idr0}};
  }
  [[nodiscard]] constexpr regs::idr1::value idr1_value() const noexcept {
    return regs::idr1::value{{idr1}};
  }
  [[nodiscard]] constexpr regs::idr2::value idr2_value() const noexcept {
    return regs::idr2::value{{idr2}};
  }
  [[nodiscard]] constexpr regs::idr3::value idr3_value() const noexcept {
    return regs::idr3::value{{idr3}};
  }
  [[nodiscard]] constexpr regs::idr4::value idr4_value() const noexcept {
    return regs::idr4::value{{idr4}};
  }
  [[nodiscard]] constexpr regs::idr5::value idr5_value() const noexcept {
    return regs::idr5::value{{idr5}};
  }
  [[nodiscard]] constexpr regs::aidr::value aidr_value() const noexcept {
    return regs::aidr::value{{aidr}};
  }

  // One field of whichever ID register declares it: `r.get<regs::idr0::S1P>()`.
  template <class F>
  [[nodiscard]] constexpr typename F::value_type get() const noexcept {
    constexpr auto reg = register_of<F>();
    return F::from_raw(this->*reg >> F::lsb);
  }

  // A copy with one field replaced: `r.with<regs::idr0::Hyp>(true)`.
  template <class F>
  [[nodiscard]] constexpr id_registers with(typename F::value_type v) const noexcept {
    constexpr auto reg = register_of<F>();
    constexpr auto mask = static_cast<std::uint32_t>(F::raw_mask << F::lsb);
    const auto bits =
        static_cast<std::uint32_t>(((F::to_raw(v) >> F::value_shift) << F::lsb) & mask);
    return copy_with(reg, static_cast<std::uint32_t>((this->*reg & ~mask) | bits));
  }

  // A copy with one whole register replaced.
  [[nodiscard]] constexpr id_registers with(const regs::idr0::value& v) const noexcept {
    return copy_with(&id_registers::idr0, v.word(0));
  }
  [[nodiscard]] constexpr id_registers with(const regs::idr1::value& v) const noexcept {
    return copy_with(&id_registers::idr1, v.word(0));
  }
  [[nodiscard]] constexpr id_registers with(const regs::idr2::value& v) const noexcept {
    return copy_with(&id_registers::idr2, v.word(0));
  }
  [[nodiscard]] constexpr id_registers with(const regs::idr3::value& v) const noexcept {
    return copy_with(&id_registers::idr3, v.word(0));
  }
  [[nodiscard]] constexpr id_registers with(const regs::idr4::value& v) const noexcept {
    return copy_with(&id_registers::idr4, v.word(0));
  }
  [[nodiscard]] constexpr id_registers with(const regs::idr5::value& v) const noexcept {
    return copy_with(&id_registers::idr5, v.word(0));
  }
  [[nodiscard]] constexpr id_registers with(const regs::aidr::value& v) const noexcept {
    return copy_with(&id_registers::aidr, v.word(0));
  }

  // The architecture revision as SMMU_AIDR.ArchMinorRev encodes it.
  [[nodiscard]] constexpr regs::arch_minor_rev revision() const noexcept {
    return get<regs::aidr::ArchMinorRev>();
  }

  friend constexpr bool operator==(const id_registers&, const id_registers&) = default;
};

static_assert(std::is_trivially_copyable_v<id_registers>);

// The feature set from typed register values.
[[nodiscard]] constexpr id_registers make_id_registers(
    const regs::idr0::value& idr0, const regs::idr1::value& idr1, const regs::idr2::value& idr2,
    const regs::idr3::value& idr3, const regs::idr4::value& idr4, const regs::idr5::value& idr5,
    const regs::aidr::value& aidr) noexcept {
  return {idr0.word(0), idr1.word(0), idr2.word(0), idr3.word(0),
          idr4.word(0), idr5.word(0), aidr.word(0)};
}

// vsmmu's default feature set: the ID registers' reset values (see registers/id.hpp).
inline constexpr id_registers default_id_registers{
    static_cast<std::uint32_t>(regs::idr0::reset_value),
    static_cast<std::uint32_t>(regs::idr1::reset_value),
    static_cast<std::uint32_t>(regs::idr2::reset_value),
    static_cast<std::uint32_t>(regs::idr3::reset_value),
    static_cast<std::uint32_t>(regs::idr4::reset_value),
    static_cast<std::uint32_t>(regs::idr5::reset_value),
    static_cast<std::uint32_t>(regs::aidr::reset_value),
};

}  // namespace vsmmu::smmuv3
