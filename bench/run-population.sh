#!/usr/bin/env bash
# Population sync with PostgreSQL workers (issue #15 item 5): a HAPI server of
# its own holding a generated population (scripts/population generate), then
# for W = 1, 2 and 4 workers sharing one PostgreSQL state, W `mst-adapter sync
# --once` processes started together: a full sync on a fresh state database
# (the first-run search; every plan, made by an untimed sync before, revised
# for a new as-of day), then an incremental one on the same database (only what
# changed since its checkpoint: a new pain score for --findings-share, default
# 0.2, of the planned patients, posted just before). After each,
# wrk replays the adapter's recorded request mix at the same total
# concurrency (W x --concurrency) for the server's capacity, as run-e2e.sh
# does. See docs/performance.md ("Population sync with PostgreSQL workers").
#
#   bench/run-population.sh DIR [--workers "1 2 4"] [--concurrency N]
#                              [--replay-seconds S] [--as-of YYYY-MM-DD]
#                              [--findings-share F] [--load "ARGS"]...
#
# Each --load is one `scripts/population load` of DIR with ARGS (default one:
# --jobs 2), in order: a second --load "--copies 9 --thin" grows the server's
# population past DIR's. The server keeps H2 on disk in its state dir,
# MST_BENCH_POP_STATE (default bench/data/population-state/<basename DIR>); a
# state dir that already holds DIR (same manifest) and the first loads asked
# for loads only the rest; one that holds anything else starts again.
# MST_BENCH_RUNS (default 1) repeats
# every configuration. MST_SERVER_READ_MODE (default batch) is the workers'
# server.read_mode. MST_HAPI_JAVA_OPTS sizes the heap (default -Xmx4g);
# the rest as bench/lib.sh. PostgreSQL: scripts/postgres, data in the state dir.
# Output: bench/data/population/ (gitignored): population.json and population.md,
# one markdown row per sync on stdout.
set -euo pipefail

bench_name=run-population
pop_state_default=
if [[ $# -gt 0 && -d $1 ]]; then
  pop_state_default=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/bench/data/population-state/$(basename "$1")
fi
state=${MST_BENCH_POP_STATE:-$pop_state_default}
# Before lib.sh: its defaults must not win. H2 on disk: a population does not
# fit in the heap (docs/population.md), and a loaded one survives a restart.
export MST_HAPI_STATE_DIR=$state/hapi
export MST_HAPI_JAVA_OPTS="${MST_HAPI_JAVA_OPTS:--Xms1g -Xmx4g -XX:+UseParallelGC -XX:+ExitOnOutOfMemoryError} \
-Dspring.datasource.url=jdbc:h2:file:$state/h2/hapi;DB_CLOSE_ON_EXIT=FALSE"
# HAPI answers batch reads though its CapabilityStatement does not declare
# them, so `auto` would read with one request per search (docs/fhir-client.md).
export MST_SERVER_READ_MODE=${MST_SERVER_READ_MODE:-batch}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
repo=$bench_repo
out=$repo/bench/data/population

usage() { sed -n '2,28p' "$0"; }
[[ ${1:-} == -h || ${1:-} == --help ]] && { usage; exit 0; }
[[ $# -gt 0 && -d $1 && -f $1/manifest.json ]] ||
  { usage >&2; note "DIR must be a population directory (with manifest.json)"; exit 2; }
pop=$(cd "$1" && pwd)
shift
workers_list="1 2 4"
concurrency=4
replay_s=20
findings_share=0.2
as_of=2026-11-20
runs=${MST_BENCH_RUNS:-1}
loads=()
while (($#)); do
  case $1 in
    --load) loads+=("$2"); shift 2 ;;
    --workers) workers_list=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --replay-seconds) replay_s=$2; shift 2 ;;
    --findings-share) findings_share=$2; shift 2 ;;
    --as-of) as_of=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) note "unknown option $1"; exit 2 ;;
  esac
done
((${#loads[@]})) || loads=("--jobs 2")
[[ $runs =~ ^[1-9][0-9]*$ && $concurrency =~ ^[1-9][0-9]*$ ]] ||
  { note "MST_BENCH_RUNS and --concurrency must be positive integers"; exit 2; }
command -v wrk >/dev/null || { note "wrk not found (scripts/install-deps installs it)"; exit 1; }
command -v psql >/dev/null || { note "psql not found (scripts/install-deps installs postgresql)"; exit 1; }

rm -rf "$out"
mkdir -p "$out" "$state"
adapter=$(bench_adapter "$out")
export MST_PG_STATE_DIR=$state/postgres

proxy_pid=
worker_pids=()
cleanup() {
  local p
  for p in "${worker_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n $proxy_pid ]] && kill "$proxy_pid" 2>/dev/null || true
  bench_hapi_stop
  "$repo/scripts/postgres" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Sets day to the next day after the base as-of day (not in a subshell: the
# count must advance): every sync below revises the plans it finds (a new day
# moves their dates), so every sync does the same work.
day_n=0
day=
next_day() {
  day_n=$((day_n + 1))
  day=$(date -u -d "$as_of + $day_n day" +%F)
}

# $state/loaded: the manifest's checksum, then one line per load done. What
# it holds must begin what is asked for, or the server starts empty.
want=("$(sha256sum "$pop/manifest.json" | cut -d' ' -f1)" "${loads[@]}")
have=()
[[ -f $state/loaded ]] && mapfile -t have <"$state/loaded"
prefix=$(( ${#have[@]} > 0 && ${#have[@]} <= ${#want[@]} ))
for ((i = 0; prefix && i < ${#have[@]}; i++)); do [[ ${have[i]} == "${want[i]}" ]] || prefix=0; done
if ((!prefix)); then
  ((${#have[@]} == 0)) || note "the server's state holds another population or other loads: starting empty"
  rm -rf "$state/h2" "$state/loaded" "$state"/load*.json
  printf '%s\n' "${want[0]}" >"$state/loaded"
  have=("${want[0]}")
fi

bench_hapi_start
base=$hapi_base
hapi_cpu() { bench_cpu_s "$hapi_pid"; }

for ((i = ${#have[@]}; i < ${#want[@]}; i++)); do
  note "loading $pop with '${want[i]}' (long for a large population; recorded in $state/load-$i.json)"
  t0=$(date +%s.%N)
  h0=$(hapi_cpu)
  # shellcheck disable=SC2086  # the load's arguments, split as given
  "$repo/scripts/population" load --server "$base" ${want[i]} "$pop" >"$out/load-$i.log" 2>&1 ||
    { tail -5 "$out/load-$i.log" >&2; note "loading failed"; exit 1; }
  jq -c --arg args "${want[i]}" --argjson s "$(bench_diff "$t0" "$(date +%s.%N)")" \
    --argjson cpu "$(bench_diff "$h0" "$(hapi_cpu)")" --arg la "$(bench_loadavg)" \
    '{args: $args, load_s: $s, hapi_cpu_s: $cpu, patients, bundles: (.loaded | length),
      loadavg: $la, date: (now | todate)}' "$pop/load-report.json" >"$state/load-$i.json"
  echo "${want[i]}" >>"$state/loaded"
done
# Every load so far, and their sums: the population the server now holds.
jq -s --arg pop "$pop" '{population: $pop, loads: ., patients: (map(.patients) | add),
  load_s: (map(.load_s) | add), loadavg: (last | .loadavg)}' \
  $(for ((i = 1; i < ${#want[@]}; i++)); do echo "$state/load-$i.json"; done) >"$out/load.json"

note "starting PostgreSQL (state: $MST_PG_STATE_DIR)"
pg_url=$("$repo/scripts/postgres" start)
pg_base=${pg_url%/*}

fresh_db() {  # fresh_db NAME: an empty database; prints its URL
  PGOPTIONS=--client-min-messages=warning psql -q -v ON_ERROR_STOP=1 "$pg_url" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >&2
  echo "$pg_base/$1"
}

# workers NAME W STATE AS_OF [SERVER]: W sync processes started together on one
# state; out/NAME.json records the wall time (first start to last exit) and
# the server's CPU over it; out/NAME-wI.{time,log} each worker's.
workers() {
  local name=$1 w=$2 st=$3 as_of_day=$4 server=${5:-$base} i rc failed=0 t0 t1 h0
  h0=$(hapi_cpu)
  t0=$(date +%s.%N)
  worker_pids=()
  for ((i = 1; i <= w; i++)); do
    MST_SYNC_WORKER_ID="bench-w$i" /usr/bin/time -v -o "$out/$name-w$i.time" \
      "$adapter" sync --once --server "$server" --state "$st" --as-of "$as_of_day" \
      --concurrency "$concurrency" --log-format json >"$out/$name-w$i.out" 2>"$out/$name-w$i.log" &
    worker_pids+=($!)
  done
  for ((i = 1; i <= w; i++)); do
    rc=0
    wait "${worker_pids[i - 1]}" || rc=$?
    # 5: some patients failed (counted in the summary); anything else is fatal.
    if ((rc != 0 && rc != 5)); then
      note "sync $name worker $i exited $rc:"
      tail -5 "$out/$name-w$i.log" >&2
      failed=1
    fi
  done
  worker_pids=()
  t1=$(date +%s.%N)
  ((failed == 0)) || exit 1
  echo "{\"name\":\"$name\",\"workers\":$w,\"concurrency\":$concurrency,\"as_of\":\"$as_of_day\",\
\"wall_s\":$(bench_diff "$t0" "$t1"),\"hapi_cpu_s\":$(bench_diff "$h0" "$(hapi_cpu)"),\
\"loadavg\":\"$(bench_loadavg)\"}" >"$out/$name.json"
}

note "first sync (creates or revises every plan; warms the server up, not timed)"
next_day
workers warm-up 1 "$out/warm-up.db" "$day"

note "recording the request mix of one revising sync through a proxy (not timed)"
python3 "$repo/bench/e2e/record_proxy.py" "$base" "$out/requests.jsonl" "$out/proxy.port" &
proxy_pid=$!
bench_wait_port_file "$out/proxy.port"
next_day
recorded_day=$day
workers recorded 1 "$out/recorded.db" "$recorded_day" "http://127.0.0.1:$(cat "$out/proxy.port")/fhir"
kill "$proxy_pid"
proxy_pid=
python3 "$repo/bench/e2e/make_replay.py" "$out/requests.jsonl" "$out/replay.lua" "$recorded_day"

# wrk right after each sync, at its total concurrency, so the two see the
# server in the same state (JIT, database size, machine load).
capacity() {  # capacity NAME CONNECTIONS
  local c=$2 h0
  h0=$(hapi_cpu)
  wrk -t"$((c < 2 ? 1 : 2))" -c"$c" -d"${replay_s}s" --timeout 60s -s "$out/replay.lua" "$base" \
    >"$out/$1-wrk.txt" 2>&1
  grep '^{' "$out/$1-wrk.txt" |
    sed "s/}\$/,\"connections\":$c,\"hapi_cpu_s\":$(bench_diff "$h0" "$(hapi_cpu)")}/" >"$out/$1-wrk.json"
}

for ((run = 1; run <= runs; run++)); do
  for w in $workers_list; do
    db=pop_w${w}_r$run
    url=$(fresh_db "$db")
    note "run $run, $w worker(s) x concurrency $concurrency: full sync on a fresh state"
    next_day
    workers "full-w$w-r$run" "$w" "$url" "$day"
    capacity "full-w$w-r$run" "$((w * concurrency))"
    next_day
    # New findings for a share of the planned patients: the incremental sync
    # revises their plans, as a scheduled sync does when the EHR changes.
    changed=$(python3 "$repo/bench/e2e/add_findings.py" "$base" "$findings_share" "$day")
    note "run $run, $w worker(s): incremental sync (next as-of day, same state; $changed patients with a new pain score)"
    workers "incremental-w$w-r$run" "$w" "$url" "$day"
    capacity "incremental-w$w-r$run" "$((w * concurrency))"
  done
done

python3 "$repo/bench/e2e/summarize_population.py" "$out" "$pop"
