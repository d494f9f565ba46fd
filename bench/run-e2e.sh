#!/usr/bin/env bash
# End-to-end throughput: `mst-adapter sync` against a HAPI FHIR server of its
# own (started here, stopped at the end) holding N fixture patients, at
# concurrency 1, 4 and 16; then the same server's capacity for the adapter's
# recorded request mix, replayed by wrk. See docs/performance.md.
#
#   bench/run-e2e.sh [--patients N] [--replay-seconds S]
#
# Environment: as bench/lib.sh (the build, MST_BENCH_ADAPTER, the HAPI server's
# state dir and JVM options).
# Output: bench/data/e2e/ (gitignored) and a table on stdout.
set -euo pipefail

bench_name=run-e2e
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
repo=$bench_repo
out=$repo/bench/data/e2e
patients=200
replay_s=20

while (($#)); do
  case $1 in
    --patients) patients=$2; shift 2 ;;
    --replay-seconds) replay_s=$2; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "run-e2e: unknown option $1" >&2; exit 2 ;;
  esac
done

command -v wrk >/dev/null || { note "wrk not found (scripts/install-deps installs it)"; exit 1; }
rm -rf "$out"
mkdir -p "$out"

adapter=$(bench_adapter "$out")

proxy_pid=
cleanup() {
  [[ -n $proxy_pid ]] && kill "$proxy_pid" 2>/dev/null || true
  bench_hapi_stop
}
trap cleanup EXIT

bench_hapi_start
base=$hapi_base

note "loading $patients patients"
SECONDS=0
python3 "$repo/bench/e2e/load_patients.py" "$base" "$patients" e2e >"$out/patients.txt"
echo "load_s=$SECONDS" >"$out/load.txt"
echo "load_before=$(bench_loadavg)" >>"$out/load.txt"

hapi_cpu() { bench_cpu_s "$hapi_pid"; }

sync_once() {  # sync_once NAME CONCURRENCY AS_OF [SERVER]
  local name=$1 c=$2 as_of=$3 server=${4:-$base}
  local h0 h1
  h0=$(hapi_cpu)
  local rc=0
  /usr/bin/time -v -o "$out/$name.time" "$adapter" sync --once --server "$server" \
    --state "$out/$name.db" --as-of "$as_of" --concurrency "$c" --log-format json \
    >"$out/$name.out" 2>"$out/$name.log" || rc=$?
  # 5: some patients failed (counted in the summary); anything else is fatal.
  if ((rc != 0 && rc != 5)); then
    note "sync $name exited $rc:"
    tail -5 "$out/$name.log" >&2
    exit 1
  fi
  h1=$(hapi_cpu)
  echo "{\"name\":\"$name\",\"concurrency\":$c,\"as_of\":\"$as_of\",\"hapi_cpu_s\":$(awk -v a="$h0" -v b="$h1" 'BEGIN{print b - a}')}" \
    >"$out/$name.json"
}

# A first sync creates every plan; each later one revises the plans it
# changes (a new as-of day moves the plan's dates), so every sync below does
# the same work.
note "first sync (creates the plans, not timed)"
sync_once first 4 2026-11-19

note "recording the request mix of one revising sync through a proxy (not timed)"
python3 "$repo/bench/e2e/record_proxy.py" "$base" "$out/requests.jsonl" "$out/proxy.port" &
proxy_pid=$!
bench_wait_port_file "$out/proxy.port"
sync_once recorded 4 2026-11-20 "http://127.0.0.1:$(cat "$out/proxy.port")/fhir"
kill "$proxy_pid"
proxy_pid=
python3 "$repo/bench/e2e/make_replay.py" "$out/requests.jsonl" "$out/replay.lua" 2026-11-20

# Each timed sync is followed at once by wrk at the same concurrency, so the
# two see the server in the same state (JIT, database size, load).
day=21
for c in 1 4 16; do
  note "timed sync, concurrency $c"
  sync_once "sync-c$c" "$c" "2026-11-$day"
  if ((c == 16)); then
    # Before wrk rewrites plans with other days' content (and fingerprints).
    note "re-run with unchanged inputs (writes nothing)"
    sync_once rerun-c4 4 "2026-11-$day"
  fi
  day=$((day + 1))
  note "server capacity for the recorded mix: wrk, $c connection(s), ${replay_s}s"
  h0=$(hapi_cpu)
  wrk -t"$((c < 2 ? 1 : 2))" -c"$c" -d"${replay_s}s" --timeout 60s -s "$out/replay.lua" "$base" \
    >"$out/wrk-c$c.txt" 2>&1
  h1=$(hapi_cpu)
  grep '^{' "$out/wrk-c$c.txt" | sed "s/}\$/,\"connections\":$c,\"hapi_cpu_s\":$(awk -v a="$h0" -v b="$h1" 'BEGIN{print b - a}')}/" \
    >"$out/wrk-c$c.json"
done
echo "load_after=$(bench_loadavg)" >>"$out/load.txt"

python3 "$repo/bench/e2e/summarize_e2e.py" "$out"
