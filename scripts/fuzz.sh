#!/usr/bin/env bash
# Builds the fuzz harnesses (fuzz/) with clang 14, libFuzzer, ASan and UBSan, and runs each one
# for a bounded time, seeded from fuzz/corpus/<harness>/. docs/reliability.md explains the
# harnesses, their invariants and how to run a long campaign.
#
# Usage: scripts/fuzz.sh [--seconds N] [--runs N] [--jobs N] [--build-dir DIR] [HARNESS...]
#   --seconds N   time per harness (default 20: about 2.5 min for all thirteen on 2 cores, + build)
#   --runs N      stop a harness after N executions (default: no limit, --seconds decides)
#   --jobs N      harnesses run at once (default 2)
#   --build-dir   default build/fuzz; new corpus entries go to DIR/corpus/<harness>/,
#                 logs to DIR/logs/, failing inputs to DIR/findings/
#   HARNESS...    some of: structures commands events registers pcie_caps pcie_walk
#                 lspci_dump cli translate cmdq accel tlb engine (default: all)
# Exits non-zero when a harness finds something (crash, sanitizer report, broken invariant,
# timeout, out of memory) or does not build.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=20
runs=-1
jobs=2
build_dir=build/fuzz
harnesses=()
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
if ((${#harnesses[@]} == 0)); then
  harnesses=(structures commands events registers pcie_caps pcie_walk lspci_dump cli)
  # Harnesses that arrived later, each when its source and seed corpus exist.
  for h in translate cmdq accel tlb engine; do
    [[ -f fuzz/${h}_fuzzer.cpp && -d fuzz/corpus/$h ]] && harnesses+=("$h")
  done
fi
for h in "${harnesses[@]}"; do
  [[ -d fuzz/corpus/$h ]] || { echo "fuzz.sh: no harness \"$h\"" >&2; exit 2; }
done

# -O2: the harnesses are CPU-bound, and -O0 runs them 10-20 times slower.
cmake -S . -B "$build_dir" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVSMMU_WERROR=ON -DVSMMU_BUILD_FUZZERS=ON -DVSMMU_FUZZ_LIBFUZZER=ON \
  -DVSMMU_BUILD_TESTS=OFF -DVSMMU_BUILD_EXAMPLES=OFF -DVSMMU_INSTALL=OFF >/dev/null
cmake --build "$build_dir" -j2 --target "${harnesses[@]/#/fuzz_}"

mkdir -p "$build_dir/logs" "$build_dir/findings"
# Sanitizer reports abort, so that libFuzzer keeps the input and the run fails.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

run_one() {
  local h="$1" extra=()
  mkdir -p "$build_dir/corpus/$h"
  [[ -f fuzz/$h.dict ]] && extra+=("-dict=fuzz/$h.dict")
  # The first corpus directory receives new inputs; the seeds in the tree stay untouched.
  "$build_dir/fuzz/fuzz_$h" -max_total_time="$seconds" -runs="$runs" -timeout=25 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build_dir/findings/$h-" \
    "${extra[@]}" "$build_dir/corpus/$h" "fuzz/corpus/$h" >"$build_dir/logs/$h.log" 2>&1
}

touch "$build_dir/logs/.started"
limits="${seconds} s"
((runs < 0)) || limits+=", at most $runs runs"
for h in "${harnesses[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  echo "=== fuzz: $h ($limits)"
  rm -f "$build_dir/logs/$h.status"
  (
    status=0
    run_one "$h" || status=$?
    echo "$status" >"$build_dir/logs/$h.status"
  ) &
done
wait

stat_of() { sed -n "s/^stat::$2: *//p" "$build_dir/logs/$1.log" | tail -1; }
failed=0
printf '%-12s %14s %10s %8s  %s\n' harness executions exec/s corpus result
for h in "${harnesses[@]}"; do
  status=$(cat "$build_dir/logs/$h.status" 2>/dev/null || echo "?")
  corpus=$(find "$build_dir/corpus/$h" -type f | wc -l)
  if [[ $status == 0 ]]; then
    result=ok
  else
    result="FAILED (status $status, see $build_dir/logs/$h.log)"
    failed=1
  fi
  printf '%-12s %14s %10s %8s  %s\n' "$h" "$(stat_of "$h" number_of_executed_units)" \
    "$(stat_of "$h" average_exec_per_sec)" "$corpus" "$result"
done
if ((failed)); then
  echo "fuzz.sh: findings; the inputs this run saved:" >&2
  find "$build_dir/findings" -type f -newer "$build_dir/logs/.started" >&2
fi
exit "$failed"
