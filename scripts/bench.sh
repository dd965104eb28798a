#!/usr/bin/env bash
# Builds the benchmarks of the release preset and runs them with JSON output into a directory;
# with --instructions, also runs each benchmark once under callgrind for instructions per
# operation (stable on a noisy machine). Benchmarks report; this script never fails because a
# figure is bad, only when nothing could be built or run.
#
#   scripts/bench.sh [--instructions | --instructions-only] [--filter REGEX] [--min-time S]
#                    [--repetitions N] [--build-dir DIR] [OUTDIR]
#
# OUTDIR (default bench-results/<UTC date-time>) receives:
#   <exe>.json                 Google Benchmark JSON (median/mean/stddev of N repetitions)
#   callgrind/<exe>.tsv        benchmark name, instructions collected, file of the run's JSON
#   callgrind/<exe>/<k>.json   the JSON of that benchmark's run under callgrind (iterations)
#   machine.txt                CPU, load averages before and after, commit
# then scripts/bench-report.py OUTDIR turns it into tables and a PNG.
#
# Instructions: each benchmark runs alone under valgrind --tool=callgrind with a profile dump
# after benchmark::State::StartKeepRunning and before FinishKeepRunning, so the last dump holds
# exactly the measured loop of the reported run: its instruction total divided by that run's
# iterations is instructions per iteration, set-up excluded. A warm-up run first lets valgrind
# translate the code, or the first 1-iteration trial could already exceed the minimum time and
# leave a run whose fixed cost (~1000 instructions) swamps the operation. Works for any Google
# Benchmark executable without changing it.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
instructions=0
timing=1
filter=""
min_time=""
repetitions=3
build_dir="$here/build/release"
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --instructions) instructions=1 ;;
    --instructions-only) instructions=1 timing=0 ;;
    --filter) filter=$2; shift ;;
    --min-time) min_time=$2; shift ;;
    --repetitions) repetitions=$2; shift ;;
    --build-dir) build_dir=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    -*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
    *) out=$1 ;;
  esac
  shift
done
out=${out:-$here/bench-results/$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# ---- build (the release preset: g++ -O2 -g, benchmarks on); each executable on its own, so a
# benchmark that does not build (yet) costs only its own figures.
cmake --preset release -B "$build_dir" >"$out/configure.log" 2>&1 || {
  echo "bench.sh: configure failed, see $out/configure.log" >&2
  exit 1
}
build_dir=$(cd "$build_dir" && pwd)
# Makefiles list "... bench_x", Ninja "bench_x: phony".
mapfile -t targets < <(cmake --build "$build_dir" --target help 2>/dev/null |
                         sed -n -e 's/^\.\.\. \(bench_[a-z0-9_]*\).*/\1/p' \
                                -e 's/^\(bench_[a-z0-9_]*\): .*/\1/p' | sort -u)
built=()
for t in "${targets[@]}"; do
  if cmake --build "$build_dir" -j2 --target "$t" >"$out/build-$t.log" 2>&1; then
    built+=("$t")
  else
    echo "bench.sh: $t did not build (see $out/build-$t.log); skipped" >&2
  fi
done
if [ ${#built[@]} -eq 0 ]; then
  echo "bench.sh: no benchmark built" >&2
  exit 1
fi

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) x $(nproc)"
  echo "compiler: $(g++ --version | head -1)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out/machine.txt"

exe_path() { echo "$build_dir/benchmarks/$1"; }
gb_filter=()
[ -n "$filter" ] && gb_filter=(--benchmark_filter="$filter")

# ---- timing
if [ $timing -eq 1 ]; then
  for t in "${built[@]}"; do
    args=("${gb_filter[@]}" --benchmark_repetitions="$repetitions"
          --benchmark_report_aggregates_only=true
          --benchmark_out="$out/$t.json" --benchmark_out_format=json)
    [ -n "$min_time" ] && args+=(--benchmark_min_time="$min_time")
    echo "bench.sh: timing $t"
    "$(exe_path "$t")" "${args[@]}" >"$out/$t.txt" 2>&1 ||
      echo "bench.sh: $t exited with $? (figures so far kept)" >&2
  done
fi
echo "load after timing: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"

# ---- instructions per iteration under callgrind
if [ $instructions -eq 1 ]; then
  if ! command -v valgrind >/dev/null; then
    echo "bench.sh: valgrind is not installed (scripts/install-deps.sh); no instruction counts" >&2
  else
    mkdir -p "$out/callgrind"
    for t in "${built[@]}"; do
      exe=$(exe_path "$t")
      mapfile -t names < <("$exe" "${gb_filter[@]}" --benchmark_list_tests 2>/dev/null)
      echo "bench.sh: instructions of $t (${#names[@]} benchmarks)"
      mkdir -p "$out/callgrind/$t"
      : >"$out/callgrind/$t.tsv"
      k=0
      for name in "${names[@]}"; do
        k=$((k + 1))
        work=$(mktemp -d)
        # The name as an anchored regex: escape what std::regex would read as syntax.
        re="^$(printf '%s' "$name" | sed 's/[][(){}.*+?^$|\\]/\\&/g')\$"
        (cd "$work" && valgrind --tool=callgrind --dump-instr=no \
            --dump-after='benchmark::State::StartKeepRunning*' \
            --dump-before='benchmark::State::FinishKeepRunning*' \
            "$exe" --benchmark_filter="$re" --benchmark_min_time="${CALLGRIND_MIN_TIME:-0.1}" \
            --benchmark_min_warmup_time=0.02 --benchmark_format=json >"$out/callgrind/$t/$k.json" 2>"$work/valgrind.log") || true
        last=$(grep -l 'Trigger: --dump-before=benchmark::State::FinishKeepRunning' \
                 "$work"/callgrind.out.* 2>/dev/null | awk -F. '{print $NF, $0}' |
               sort -n | tail -1 | cut -d' ' -f2-) || true
        if [ -n "$last" ]; then
          ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$last")
          printf '%s\t%s\t%s\n' "$name" "$ir" "$t/$k.json" >>"$out/callgrind/$t.tsv"
        else
          echo "bench.sh: no callgrind dump for $t $name" >&2
        fi
        rm -rf "$work"
      done
    done
  fi
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"
echo "bench.sh: results in $out"
echo "bench.sh: tables and plot: scripts/bench-report.py $out [--update-docs]"
