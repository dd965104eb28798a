// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "result.hpp"

// `vsmmu pcie ...` (docs/pcie.md): the Extended Capability list of a configuration space read
// from a file (lspci -xxxx text or raw bytes): show it, insert a capability, synthesize PASID.
namespace vsmmu::cli {

struct pcie_reply {
  std::string context;         // "pcie insert": what a failure message starts with
  result<std::string> output;  // stdout on success
};

// `args` are the words after "pcie". Never throws for bad input.
[[nodiscard]] pcie_reply run_pcie(std::span<const std::string_view> args);

}  // namespace vsmmu::cli
