#!/usr/bin/env bash
# Builds the benchmark programs (Release, build-bench/) and runs every
# performance measurement of docs/performance.md in one go, then prints a
# table. The machine may be shared and loaded: each C++ figure is the median
# of several whole runs of mst-bench, and ratios are computed inside each run
# before taking their median. See docs/performance.md.
#
#   bench/run-benchmarks.sh [--runs N] [--min-time S] [--no-java] [--seed N]
#
# Environment: MST_BENCH_BUILD_DIR (default <repo>/build-bench), MST_BENCH_JOBS
# (default 2), MST_BENCH_JAVA_OPTS (default -Xms1g -Xmx2g).
# Output: bench/data/ (gitignored): record.json, raw results, summary.json.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MST_BENCH_BUILD_DIR:-$repo/build-bench}
jobs=${MST_BENCH_JOBS:-2}
data=$repo/bench/data
runs=5
min_time=1
java=1
seed=1
java_warmup=20
java_rounds=15

while (($#)); do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --min-time) min_time=$2; shift 2 ;;
    --no-java) java=0; shift ;;
    --seed) seed=$2; shift 2 ;;
    --java-rounds) java_warmup=$2; java_rounds=$3; shift 3 ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run-benchmarks: unknown option $1" >&2; exit 2 ;;
  esac
done

note() { echo "run-benchmarks: $*" >&2; }
mkdir -p "$data"
rm -f "$data"/bench-*.json "$data"/memory-*.txt "$data"/memory-*.time "$data"/hapi.json

note "building (Release, $build, -j$jobs)"
# No -Werror here: GCC 12 at -O3 reports false -Wrestrict positives in
# std::string code (GCC bug 105329); the unit-test build keeps the policy.
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMST_BUILD_BENCH=ON \
  -DMST_WERROR=OFF >"$data/cmake.log" 2>&1 || { cat "$data/cmake.log" >&2; exit 1; }
cmake --build "$build" -j"$jobs" --target mst-bench mst-bench-memory mst-generate-record \
  >"$data/build.log" 2>&1 || { tail -40 "$data/build.log" >&2; exit 1; }

record=$data/record.json
"$build/bench/mst-generate-record" --seed "$seed" --out "$record"

# The machine, as the figures must be read against it.
{
  echo "nproc=$(nproc)"
  echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
  echo "mem_total=$(sed -n 's/^MemTotal:[[:space:]]*//p' /proc/meminfo)"
  echo "kernel=$(uname -r)"
  echo "compiler=$(c++ --version | head -n1)"
  echo "java=$(java -version 2>&1 | head -n1)"
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit=$(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- . ':!bench/data' || echo -dirty)"
  echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$data/machine.txt"

run_cpp() {  # run_cpp INDEX
  MST_BENCH_RECORD=$record "$build/bench/mst-bench" --benchmark_min_time="$min_time" \
    --benchmark_format=json --benchmark_out="$data/bench-run-$1.json" >/dev/null
}

note "mst-bench: $runs runs of every benchmark (min time ${min_time}s each)"
half=$(((runs + 1) / 2))
for ((i = 1; i <= half; i++)); do run_cpp "$i"; done

if ((java)); then
  note "HAPI FHIR parse (Java peer): $java_warmup warm-up + $java_rounds timed rounds"
  (cd "$repo/bench/java" &&
    { mvn -B -q -o -Dstyle.color=never compile dependency:build-classpath \
        -Dmdep.outputFile=target/classpath.txt >"$data/mvn.log" 2>&1 ||
      mvn -B -q -Dstyle.color=never compile dependency:build-classpath \
        -Dmdep.outputFile=target/classpath.txt >"$data/mvn.log" 2>&1; }) ||
    { tail -20 "$data/mvn.log" >&2; exit 1; }
  read -r -a java_opts <<<"${MST_BENCH_JAVA_OPTS:--Xms1g -Xmx2g}"
  java "${java_opts[@]}" -cp "$repo/bench/java/target/classes:$(cat "$repo/bench/java/target/classpath.txt")" \
    org.mstadapter.bench.HapiParseBench "$record" "$java_warmup" "$java_rounds" \
    2>"$data/hapi.log" | grep '^{' >"$data/hapi.json"
fi

# The rest of the C++ runs after the Java one, so both see similar load.
for ((i = half + 1; i <= runs; i++)); do run_cpp "$i"; done

# A typical patient too: the largest fixture, where fixed costs dominate.
note "mst-bench on a fixture-sized patient (tests/fixtures/patients/mst-p11.json)"
MST_BENCH_RECORD=$repo/tests/fixtures/patients/mst-p11.json "$build/bench/mst-bench" \
  --benchmark_min_time="$min_time" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_format=json --benchmark_out="$data/bench-small.json" >/dev/null

note "peak memory: read, parse, pipeline (3 runs each)"
for mode in read parse pipeline; do
  for r in 1 2 3; do
    /usr/bin/time -v "$build/bench/mst-bench-memory" --mode "$mode" --input "$record" \
      >"$data/memory-$mode-$r.txt" 2>"$data/memory-$mode-$r.time"
  done
done
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$data/machine.txt"

python3 "$repo/bench/summarize.py" "$data"
