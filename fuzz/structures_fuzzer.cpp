// SPDX-License-Identifier: BSL-1.0
// The in-memory structures a guest writes and the SMMU reads: STE, CD, L1STD, L1CD
// (IHI 0070 §5.1-5.4). Input: one selector byte, the structure's bytes, then values to write.
#include <vsmmu/smmuv3/cd.hpp>
#include <vsmmu/smmuv3/l1.hpp>
#include <vsmmu/smmuv3/ste.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "layout_invariants.hpp"
#include "type_list.hpp"

namespace {

namespace s = vsmmu::smmuv3;
using structures =
    vsmmu::fuzz::type_list<s::ste::layout, s::cd::layout, s::l1std::layout, s::l1cd::layout>;

// STE and CD leave IMPLEMENTATION DEFINED ranges undeclared: res0_bits_clear must skip exactly
// those, on a value and on a view alike.
template <class L, class Mask>
void check_res0(const vsmmu::layout::value<L>& v, const Mask& implementation_defined,
                bool value_says, bool view_says) {
  bool clear = true;
  for (std::size_t i = 0; i < L::word_count; ++i) {
    if ((v.words()[i] & ~(L::declared_mask[i] | implementation_defined[i])) != 0) clear = false;
  }
  VSMMU_FUZZ_CHECK(value_says == clear, "res0_bits_clear(value) is wrong");
  VSMMU_FUZZ_CHECK(view_says == clear, "res0_bits_clear(view) is wrong");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vsmmu::fuzz::reader in(data, size);
  const std::size_t which = in.integer<std::uint8_t>() % structures::size;
  structures::with(which, [&]<class L>() {
    std::array<std::byte, L::byte_count> bytes{};
    in.bytes(bytes);
    const std::span<const std::byte, L::byte_count> b(bytes);
    vsmmu::fuzz::check_layout<L>(b, in);
    const auto v = vsmmu::layout::value<L>::from_bytes(b);
    const vsmmu::layout::view<L> w(b);
    if constexpr (std::is_same_v<L, s::ste::layout>) {
      check_res0(v, s::ste::implementation_defined_mask, s::ste::res0_bits_clear(v),
                 s::ste::res0_bits_clear(w));
    } else if constexpr (std::is_same_v<L, s::cd::layout>) {
      check_res0(v, s::cd::implementation_defined_mask, s::cd::res0_bits_clear(v),
                 s::cd::res0_bits_clear(w));
    }
  });
  return 0;
}
