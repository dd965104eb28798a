#!/usr/bin/env bash
# README command 1: install the dependencies, build, and run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset gcc >/dev/null
cmake --build --preset gcc -j2 --target vsmmu_cli >/dev/null
exec scripts/inspector-demo.sh build/gcc/examples/cli/vsmmu
