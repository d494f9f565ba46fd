# Shared by the end-to-end bench scripts (run-e2e.sh, run-bulk.sh,
# run-serve-latency.sh, run-population.sh); sourced, not run. Each script sets
# bench_name before sourcing it. See docs/performance.md ("How to reproduce").
#
# Environment read here: MST_BENCH_BUILD_DIR (default <repo>/build-bench),
# MST_BENCH_JOBS (default 2), MST_BENCH_ADAPTER or MST_ADAPTER (a built
# mst-adapter: no build), MST_HAPI_STATE_DIR (default <repo>/.hapi-own),
# MST_HAPI_JAVA_OPTS (default below: full JIT and the parallel GC, for a
# server measured for throughput rather than started quickly for tests).

bench_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export MST_HAPI_STATE_DIR=${MST_HAPI_STATE_DIR:-$bench_repo/.hapi-own}
export MST_HAPI_JAVA_OPTS=${MST_HAPI_JAVA_OPTS:--Xms1g -Xmx2g -XX:+UseParallelGC -XX:+ExitOnOutOfMemoryError}

note() { echo "${bench_name:-bench}: $*" >&2; }

# bench_adapter LOG_DIR: prints the path of a Release mst-adapter, building it
# (logs in LOG_DIR) unless MST_BENCH_ADAPTER or MST_ADAPTER names one.
bench_adapter() {
  local logs=$1 build=${MST_BENCH_BUILD_DIR:-$bench_repo/build-bench} jobs=${MST_BENCH_JOBS:-2}
  local given=${MST_BENCH_ADAPTER:-${MST_ADAPTER:-}}
  if [[ -n $given ]]; then
    [[ -x $given ]] || { note "$given is not an executable"; return 1; }
    echo "$given"
    return 0
  fi
  note "building mst-adapter (Release, $build, -j$jobs)"
  cmake -S "$bench_repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMST_WERROR=OFF \
    >"$logs/cmake.log" 2>&1 || { cat "$logs/cmake.log" >&2; return 1; }
  cmake --build "$build" -j"$jobs" --target mst-adapter >"$logs/build.log" 2>&1 ||
    { tail -40 "$logs/build.log" >&2; return 1; }
  echo "$build/adapter/mst-adapter"
}

# bench_hapi_start: (re)starts the HAPI server of MST_HAPI_STATE_DIR with
# MST_HAPI_JAVA_OPTS; sets hapi_base (the FHIR base URL) and hapi_pid.
bench_hapi_start() {
  note "starting an own HAPI server (state: $MST_HAPI_STATE_DIR)"
  "$bench_repo/scripts/hapi" stop >/dev/null 2>&1 || true
  hapi_base=$("$bench_repo/scripts/hapi" start) || return 1
  hapi_pid=$(cat "$MST_HAPI_STATE_DIR/pid")
  note "server at $hapi_base (pid $hapi_pid)"
}

# bench_hapi_stop: stops it; idempotent, for an EXIT trap.
bench_hapi_stop() { "$bench_repo/scripts/hapi" stop >/dev/null 2>&1 || true; }

# bench_cpu_s PID: CPU seconds (user + sys) the process has used so far. The
# command name (field 2) holds no space for the processes measured here.
bench_cpu_s() { awk -v t="$(getconf CLK_TCK)" '{print ($14 + $15) / t}' "/proc/$1/stat"; }

# bench_peak_rss_kib TIME_FILE: the peak RSS a `/usr/bin/time -v -o FILE` run reported.
bench_peak_rss_kib() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }

# bench_diff A B: B - A, for the CPU and wall readings above.
bench_diff() { awk -v a="$1" -v b="$2" 'BEGIN{print b - a}'; }

# bench_loadavg: the 1, 5 and 15 minute load averages, for the record.
bench_loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# bench_wait_port_file FILE: waits up to 10 s for a helper to write its port.
bench_wait_port_file() {
  local _
  for _ in $(seq 50); do [[ -s $1 ]] && return 0; sleep 0.2; done
  note "no port in $1"
  return 1
}
