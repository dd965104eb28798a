#!/usr/bin/env bash
# Times compiling one translation unit that includes <vsmmu/vsmmu.hpp> and decodes an STE, and the
# same with only the foundation headers (layout/ and smmuv3/), with g++ and clang++ at -O2: best
# of N (default 5) of the user CPU time, which moves less than wall time on a shared machine,
# and the front end's allocation (g++ -ftime-report, GGC), which is exactly repeatable.
# Prints the figures docs/performance.md quotes, with the load average at the start.
#   scripts/measure-compile-time.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
decode='
std::uint64_t decode_ste(const vsmmu::smmuv3::ste::value& s) {
  auto d = vsmmu::layout::decode(s);
  return static_cast<std::uint64_t>(d.get<vsmmu::smmuv3::ste::Config>()) ^
         d.get<vsmmu::smmuv3::ste::S1ContextPtr>();
}'
printf '#include <vsmmu/vsmmu.hpp>\n%s\n' "$decode" > "$tmp/umbrella.cpp"
{
  for h in layout/decode layout/dynamic layout/for_each_field smmuv3/cd smmuv3/commands \
           smmuv3/conformance smmuv3/events smmuv3/l1 smmuv3/registers smmuv3/ste; do
    printf '#include <vsmmu/%s.hpp>\n' "$h"
  done
  printf '%s\n' "$decode"
} > "$tmp/foundation.cpp"
printf '#include <vsmmu/smmuv3/ste.hpp>\n#include <vsmmu/layout/decode.hpp>\n%s\n' "$decode" \
  > "$tmp/ste.cpp"
echo '#include <vector>' > "$tmp/baseline.cpp"

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for cxx in g++ clang++; do
  for tu in baseline ste foundation umbrella; do
    best=""
    for _ in $(seq "$runs"); do
      t=$( { /usr/bin/time -f %U "$cxx" -std=c++20 -O2 -Iinclude -c "$tmp/$tu.cpp" \
               -o "$tmp/$tu.o"; } 2>&1 | tail -n 1)
      if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
    done
    mem=""
    if [ "$cxx" = g++ ]; then
      mem=$(g++ -std=c++20 -O2 -Iinclude -c "$tmp/$tu.cpp" -o "$tmp/$tu.o" -ftime-report 2>&1 |
              awk '/TOTAL/ { print $NF }')
      mem="  (front end allocates $mem)"
    fi
    printf '%-8s %-10s %.2f s user%s\n' "$cxx" "$tu" "$best" "$mem"
  done
done
