// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <cstdint>
#include <string_view>

#include <vsmmu/layout/dynamic.hpp>

// Run-time catalogues of the architecture's structures: what tools (the vsmmu CLI, dumps,
// loggers) iterate to find a register by name, a command by opcode or an event by type.
namespace vsmmu::smmuv3 {

// How the spec gives a register's value out of reset (IHI 0070 §6.2).
enum class reset_kind : std::uint8_t {
  known,                    // `reset_value` is the architected value
  unknown,                  // architecturally UNKNOWN; `reset_value` is the model's choice
  implementation_defined,   // IMPLEMENTATION DEFINED (ID registers); `reset_value` is ours
};

struct register_desc {
  std::string_view name;       // as the spec writes it, without "SMMU_": "IDR0", "CMDQ_BASE"
  std::uint32_t offset;        // from the start of the page it lives in
  unsigned page;               // 0, or 1 for EVENTQ_PROD/CONS and PRIQ_PROD/CONS
  unsigned width;              // 32 or 64
  reset_kind reset;
  std::uint64_t reset_value;
  layout::layout_info layout;
};

struct command_desc {
  std::uint8_t opcode;
  std::string_view name;       // "CMD_CFGI_STE"
  layout::layout_info layout;  // 128 bits
};

struct event_desc {
  std::uint8_t type;
  std::string_view name;       // "F_TRANSLATION"
  layout::layout_info layout;  // 256 bits
};

}  // namespace vsmmu::smmuv3
