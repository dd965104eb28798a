// SPDX-License-Identifier: BSL-1.0
// Command queue entries (IHI 0070 §4): 16 bytes a guest writes to its command queue, the opcode
// in bits [7:0] choosing the layout. Input: the command's bytes, then values to write.
#include <vsmmu/smmuv3/commands.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "layout_invariants.hpp"
#include "type_list.hpp"

namespace {

namespace s = vsmmu::smmuv3;
namespace c = vsmmu::smmuv3::cmd;

// Every command layout, in command_catalog order.
using commands = vsmmu::fuzz::type_list<
    c::prefetch_config::layout, c::prefetch_addr::layout, c::cfgi_ste::layout,
    c::cfgi_ste_range::layout, c::cfgi_cd::layout, c::cfgi_cd_all::layout, c::cfgi_vms_pidm::layout,
    c::tlbi_nh_all::layout, c::tlbi_nh_asid::layout, c::tlbi_nh_va::layout, c::tlbi_nh_vaa::layout,
    c::tlbi_el3_all::layout, c::tlbi_el3_va::layout, c::tlbi_el2_all::layout,
    c::tlbi_el2_asid::layout, c::tlbi_el2_va::layout, c::tlbi_el2_vaa::layout,
    c::tlbi_s12_vmall::layout, c::tlbi_s2_ipa::layout, c::tlbi_nsnh_all::layout, c::atc_inv::layout,
    c::pri_resp::layout, c::resume::layout, c::stall_term::layout, c::sync::layout,
    c::tlbi_s_el2_all::layout, c::tlbi_s_el2_asid::layout, c::tlbi_s_el2_va::layout,
    c::tlbi_s_el2_vaa::layout, c::tlbi_s_s12_vmall::layout, c::tlbi_s_s2_ipa::layout,
    c::tlbi_snh_all::layout, c::dpti_all::layout, c::dpti_pa::layout>;
static_assert(commands::size == s::command_catalog.size(),
              "fuzz/commands_fuzzer.cpp: a command was added to the catalogue, not here");

constexpr std::size_t command_bytes = 16;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vsmmu::fuzz::reader in(data, size);
  std::array<std::byte, command_bytes> bytes{};
  in.bytes(bytes);
  const std::span<const std::byte, command_bytes> command(bytes);
  const auto op = std::to_integer<std::uint8_t>(bytes[0]);

  const s::command_desc* desc = s::find_command(op);
  std::size_t matches = 0;
  std::size_t index = 0;
  commands::each([&]<class L>() {
    if (static_cast<std::uint8_t>(c::opcode_of<L>) != op) {
      ++index;
      return;
    }
    ++matches;
    VSMMU_FUZZ_CHECK(desc == &s::command_catalog[index],
                     "find_command does not return the catalogue entry of the opcode's layout");
    vsmmu::fuzz::check_same_info<L>(desc->layout);
    vsmmu::fuzz::check_layout<L>(command, in);

    const auto made = c::make<L>();
    VSMMU_FUZZ_CHECK(std::to_integer<std::uint8_t>(made.bytes()[0]) == op &&
                         made.template get<c::Opcode>() == c::opcode_of<L>,
                     "make<L>() does not carry the opcode in bits [7:0]");

    // IHI 0070 §4.3.6: CMD_CFGI_ALL is CMD_CFGI_STE_RANGE with Range == 31.
    const std::string_view name = s::command_name(*desc, command);
    if constexpr (std::is_same_v<L, c::cfgi_ste_range::layout>) {
      const bool all = vsmmu::layout::view<L>(command).template get<c::cfgi_ste_range::Range>() ==
                       c::cfgi_ste_range::all;
      VSMMU_FUZZ_CHECK(name == (all ? "CMD_CFGI_ALL" : desc->name), "wrong CMD_CFGI_ALL naming");
    } else {
      VSMMU_FUZZ_CHECK(name == desc->name, "command_name renamed a command");
    }
    ++index;
  });
  VSMMU_FUZZ_CHECK(matches <= 1, "two command layouts share an opcode");
  VSMMU_FUZZ_CHECK((desc != nullptr) == (matches == 1),
                   "find_command disagrees with the typed layouts on an opcode");
  if (desc != nullptr) {
    VSMMU_FUZZ_CHECK(desc->opcode == op, "find_command returned another opcode's entry");
    VSMMU_FUZZ_CHECK(!c::is_implementation_defined(op), "an IMPDEF opcode has a layout");
    const auto* opcode_field = desc->layout.find("Opcode");
    VSMMU_FUZZ_CHECK(opcode_field != nullptr && opcode_field->msb == 7 && opcode_field->lsb == 0,
                     "a command's Opcode is not bits [7:0]");
  }

  // CERROR codes come from a 7-bit field a host may fill with anything (§7.1).
  const auto code = static_cast<s::cerror>(in.integer<std::uint8_t>() & 0x7f);
  const std::string_view text = s::to_string(code);
  VSMMU_FUZZ_CHECK(text.empty() == (static_cast<unsigned>(code) > 3),
                   "to_string(cerror) names a code it should not, or not one it should");
  return 0;
}
