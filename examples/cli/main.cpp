// SPDX-License-Identifier: BSL-1.0
#include <iostream>
#include <string_view>
#include <vector>

#include "cli.hpp"

int main(int argc, char** argv) {
  std::vector<std::string_view> args;
  try {
    args.assign(argv + (argc > 0 ? 1 : 0), argv + argc);
  } catch (...) {
    return 1;  // out of memory before anything could run
  }
  return vsmmu::cli::run(args, std::cout, std::cerr);
}
