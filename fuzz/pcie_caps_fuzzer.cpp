// SPDX-License-Identifier: BSL-1.0
// PCIe Extended Capabilities a guest reads and writes in config space: the header, PASID, ATS
// and PRI (PCIe Base Spec r6.2 §7.6.3, §7.8.9, §10.5.1, §10.5.2). Input: a selector byte, the
// capability's bytes, then the guest's write, then values to write through the layout API.
#include <vsmmu/pcie/ats.hpp>
#include <vsmmu/pcie/ext_cap.hpp>
#include <vsmmu/pcie/pasid.hpp>
#include <vsmmu/pcie/pri.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "layout_invariants.hpp"
#include "type_list.hpp"

namespace {

namespace p = vsmmu::pcie;
namespace vl = vsmmu::layout;
using vsmmu::fuzz::reader;

using capabilities =
    vsmmu::fuzz::type_list<p::ext_cap::header, p::pasid::layout, p::ats::layout, p::pri::layout>;

// The highest Extended Capability ID the PCI-SIG has assigned (captured_data).
constexpr unsigned last_assigned_id = 0x3a;

// A guest's config write of `written` over `stored`, field by field: RW fields take the new
// value, W1C fields clear where 1 is written, WO fields read back zero, and everything else
// (RO, reserved, undeclared) keeps what was stored.
template <class L>
void check_write(const std::array<p::config_write_masks, L::word_count>& masks,
                 const vl::value<L>& stored, reader& in) {
  std::array<std::uint32_t, L::word_count> after_words{};
  vl::value<L> written;
  for (std::size_t i = 0; i < L::word_count; ++i) {
    written.words()[i] = in.integer<std::uint32_t>();
    after_words[i] = masks[i].apply(stored.words()[i], written.words()[i]);
    VSMMU_FUZZ_CHECK(masks[i].apply(after_words[i], after_words[i] & masks[i].rw) == after_words[i],
                     "writing back what was read changed a DWORD");
    const std::uint32_t untouched = ~(masks[i].rw | masks[i].w1c | masks[i].wo);
    VSMMU_FUZZ_CHECK(((after_words[i] ^ stored.words()[i]) & untouched) == 0,
                     "a config write changed a read-only, reserved or undeclared bit");
    VSMMU_FUZZ_CHECK((masks[i].rw & masks[i].w1c) == 0 && (masks[i].rw & masks[i].wo) == 0 &&
                         (masks[i].w1c & masks[i].wo) == 0,
                     "a bit has two write behaviours");
  }
  const vl::value<L> after(after_words);
  L::visit_fields([&]<class F>() {
    const std::uint64_t before = stored.template raw<F>();
    const std::uint64_t value = written.template raw<F>();
    const std::uint64_t now = after.template raw<F>();
    std::uint64_t expected = before;
    switch (F::access_mode) {
      case vl::access::rw:
        expected = value;
        break;
      case vl::access::w1c:
        expected = before & ~value;
        break;
      case vl::access::wo:
        expected = 0;
        break;
      case vl::access::ro:
      case vl::access::res0:
      case vl::access::res1:
        break;
    }
    if constexpr (!F::alias) {
      VSMMU_FUZZ_CHECK(now == expected, "config_write_masks::apply mistreats a field");
    }
  });
}

template <class L>
void check_capability(reader& in) {
  std::array<std::byte, L::byte_count> bytes{};
  in.bytes(bytes);
  const std::span<const std::byte, L::byte_count> cap(bytes);
  const auto stored = vl::value<L>::from_bytes(cap);

  // Every capability starts with the header, read with the same field types.
  const std::uint32_t header = stored.words()[0];
  const auto id = stored.template get<p::ext_cap::CapabilityID>();
  VSMMU_FUZZ_CHECK(p::ext_cap::capability_id(header) == id &&
                       p::ext_cap::capability_version(header) ==
                           stored.template get<p::ext_cap::CapabilityVersion>() &&
                       p::ext_cap::next_capability_offset(header) ==
                           stored.template get<p::ext_cap::NextCapabilityOffset>(),
                   "the header decoders differ from the layout");
  VSMMU_FUZZ_CHECK(p::ext_cap::make_header(p::ext_cap::capability_id(header),
                                           p::ext_cap::capability_version(header),
                                           p::ext_cap::next_capability_offset(header)) == header,
                   "make_header(decoded header) is not the header");
  const std::string_view name = p::name(id);
  VSMMU_FUZZ_CHECK(name.empty() == (static_cast<unsigned>(id) > last_assigned_id),
                   "name() of an Extended Capability ID is wrong about it being assigned");

  vsmmu::fuzz::check_layout<L>(cap, in);
  check_write<L>(p::config_write_masks_of<L>(), stored, in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader in(data, size);
  const std::size_t which = in.integer<std::uint8_t>() % capabilities::size;
  capabilities::with(which, [&]<class L>() { check_capability<L>(in); });
  return 0;
}
