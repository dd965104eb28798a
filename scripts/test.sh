#!/usr/bin/env bash
# README command 2: install the dependencies, build everything and run every test.
# Usage: scripts/test.sh [preset]   (gcc by default; clang, asan)
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-gcc}"
scripts/install-deps.sh
cmake --preset "$preset"
cmake --build --preset "$preset" -j2
ctest --preset "$preset"
