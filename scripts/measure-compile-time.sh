#!/usr/bin/env bash
# Times compiling one translation unit that includes <vsmmu/vsmmu.hpp> and decodes an STE
# (g++ -O2 and clang++ -O2; best of 5). Prints the figures docs/performance.md quotes.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/tu.cpp" <<'CPP'
#include <vsmmu/vsmmu.hpp>
std::uint64_t decode_ste(const vsmmu::smmuv3::ste::value& s) {
  auto d = vsmmu::layout::decode(s);
  return static_cast<std::uint64_t>(d.get<vsmmu::smmuv3::ste::Config>()) ^
         d.get<vsmmu::smmuv3::ste::S1ContextPtr>();
}
CPP
echo '#include <vector>' > "$tmp/baseline.cpp"
for cxx in g++ clang++; do
  for tu in baseline tu; do
    best=""
    for _ in 1 2 3 4 5; do
      s=$(date +%s.%N)
      $cxx -std=c++20 -O2 -Iinclude -c "$tmp/$tu.cpp" -o "$tmp/$tu.o"
      e=$(date +%s.%N)
      t=$(awk -v a="$s" -v b="$e" 'BEGIN { print b - a }')
      if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
    done
    printf '%-8s %-9s %.2f s\n' "$cxx" "$tu" "$best"
  done
done
