// SPDX-License-Identifier: BSL-1.0
// Event queue records (IHI 0070 §7.3): 32 bytes, the type in bits [7:0] choosing the layout.
// The SMMU writes them and the guest reads them, but a VMM also decodes records it gets from the
// host's event queue, which it does not control. Input: the record's bytes, then values to write.
#include <vsmmu/smmuv3/events.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "layout_invariants.hpp"
#include "type_list.hpp"

namespace {

namespace s = vsmmu::smmuv3;
namespace e = vsmmu::smmuv3::evt;

// Every architected record layout, in event_catalog order; IMPDEF_EVENT0-15 follow them there.
using events = vsmmu::fuzz::type_list<
    e::f_uut::layout, e::c_bad_streamid::layout, e::f_ste_fetch::layout, e::c_bad_ste::layout,
    e::f_bad_ats_treq::layout, e::f_stream_disabled::layout, e::f_transl_forbidden::layout,
    e::c_bad_substreamid::layout, e::f_cd_fetch::layout, e::c_bad_cd::layout,
    e::f_walk_eabt::layout, e::f_translation::layout, e::f_addr_size::layout, e::f_access::layout,
    e::f_permission::layout, e::f_tlb_conflict::layout, e::f_cfg_conflict::layout,
    e::e_page_request::layout, e::f_vms_fetch::layout>;
constexpr std::size_t impdef_count = 16;
static_assert(events::size + impdef_count == s::event_catalog.size(),
              "fuzz/events_fuzzer.cpp: an event was added to the catalogue, not here");

constexpr std::size_t record_bytes = 32;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vsmmu::fuzz::reader in(data, size);
  std::array<std::byte, record_bytes> bytes{};
  in.bytes(bytes);
  const std::span<const std::byte, record_bytes> record(bytes);
  const auto t = std::to_integer<std::uint8_t>(bytes[0]);

  const s::event_desc* desc = s::find_event(t);
  std::size_t matches = 0;
  std::size_t index = 0;
  events::each([&]<class L>() {
    if (static_cast<std::uint8_t>(e::type_of<L>) == t) {
      ++matches;
      VSMMU_FUZZ_CHECK(desc == &s::event_catalog[index],
                       "find_event does not return the catalogue entry of the type's layout");
      vsmmu::fuzz::check_same_info<L>(desc->layout);
      vsmmu::fuzz::check_layout<L>(record, in);
      VSMMU_FUZZ_CHECK(vsmmu::layout::view<L>(record).template get<e::Type>() == e::type_of<L>,
                       "a record's Type field does not read its bits [7:0]");
    }
    ++index;
  });

  if (e::is_implementation_defined(t)) {
    ++matches;
    const std::size_t n = t - static_cast<std::size_t>(e::type::impdef_first);
    VSMMU_FUZZ_CHECK(desc == &s::event_catalog[events::size + n],
                     "find_event does not return IMPDEF_EVENTn for type 0xE0 + n");
    vsmmu::fuzz::check_same_info<e::impdef_event::layout>(desc->layout);
    vsmmu::fuzz::check_layout<e::impdef_event::layout>(record, in);
  }

  VSMMU_FUZZ_CHECK(matches <= 1, "two event layouts share a type");
  VSMMU_FUZZ_CHECK((desc != nullptr) == (matches == 1),
                   "find_event disagrees with the typed layouts on a type");
  if (desc != nullptr) {
    VSMMU_FUZZ_CHECK(desc->type == t, "find_event returned another type's entry");
    const auto* type_field = desc->layout.find("Type");
    VSMMU_FUZZ_CHECK(type_field != nullptr && type_field->msb == 7 && type_field->lsb == 0,
                     "a record's Type is not bits [7:0]");
  }
  return 0;
}
