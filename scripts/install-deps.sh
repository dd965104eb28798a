#!/usr/bin/env bash
# Installs what vsmmu needs to build, test and benchmark, from Debian 12 packages only.
set -euo pipefail

packages=(
  g++ clang-14 libclang-rt-14-dev cmake make pkg-config binutils pciutils
  catch2 librange-v3-dev libboost-dev libbenchmark-dev libglib2.0-dev
  valgrind python3-matplotlib  # scripts/bench.sh --instructions, scripts/bench-report.py's plot
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
