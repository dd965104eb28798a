#!/usr/bin/env bash
# README command 1: install the dependencies, build, and run the demos: the inspector, then the
# embeddable device model driven by a small guest driver (examples/demo, docs/device.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset gcc >/dev/null
cmake --build --preset gcc -j2 --target vsmmu_cli vsmmu-demo >/dev/null
scripts/inspector-demo.sh build/gcc/examples/cli/vsmmu
printf '\n'
exec build/gcc/examples/demo/vsmmu-demo
