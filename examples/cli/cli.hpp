// SPDX-License-Identifier: BSL-1.0
#pragma once

#include <iosfwd>
#include <span>
#include <string_view>

// The vsmmu command line (docs/cli.md): decode and encode SMMUv3 structures, commands, events
// and registers.
namespace vsmmu::cli {

// Runs one command line. `args` excludes the program name. Writes the result to `out`, or one
// line "vsmmu: ...: what went wrong" to `err`; returns the exit status (0 ok, 1 bad data,
// 2 bad usage). Never throws.
int run(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) noexcept;

// The help text `vsmmu --help` prints.
[[nodiscard]] std::string_view usage() noexcept;

// The library version `vsmmu --version` prints, e.g. "0.1.0".
[[nodiscard]] std::string_view version() noexcept;

}  // namespace vsmmu::cli
