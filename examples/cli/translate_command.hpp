// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "result.hpp"

// `vsmmu translate ...` (docs/cli.md): one transaction through the translation engine, over guest
// memory loaded from files and registers given on the command line; the outcome as JSON.
namespace vsmmu::cli {

// `args` are the words after "translate". Returns the JSON line (with its newline) or the
// failure. Never throws for bad input.
[[nodiscard]] result<std::string> run_translate(std::span<const std::string_view> args);

}  // namespace vsmmu::cli
