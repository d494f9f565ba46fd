#!/usr/bin/env bash
# A first-run sync fed by a Bulk Data $export against per-patient pulls, on
# one own HAPI server (started here, stopped at the end) holding N fixture
# patients: wall time, HTTP requests, the server's CPU and the adapter's
# peak RSS for each of
#   pulls    sync.changes=last-updated: the first-run Condition search, then
#            ~17 searches per patient;
#   ids      sync.changes=bulk-export, sync.bulk_data=ids: Patient/$export
#            names the patients, who are then pulled;
#   records  sync.changes=bulk-export, sync.bulk_data=records: the export's
#            resources are the records; no per-patient pull.
# Each mode syncs from a fresh state file on another as-of day, so each
# revises every plan (the same write work). Requests are counted in a second,
# untimed run of each mode through bench/e2e/record_proxy.py (the NDJSON file
# downloads go to the server directly, one per file, and are not counted).
# See docs/performance.md ("Bulk export as the data source").
#
#   bench/run-bulk.sh [--patients N]
#
# Environment: as bench/lib.sh (MST_ADAPTER or MST_BENCH_ADAPTER, a built binary,
# skips the build; the HAPI server's state dir and JVM options).
# Output: bench/data/bulk/ (gitignored) and a table on stdout.
set -euo pipefail

bench_name=run-bulk
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
repo=$bench_repo
out=$repo/bench/data/bulk
patients=200
# HAPI asks for 120 s between status polls whatever the progress.
export MST_SYNC_BULK_MAX_POLL_S=2

while (($#)); do
  case $1 in
    --patients) patients=$2; shift 2 ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "run-bulk: unknown option $1" >&2; exit 2 ;;
  esac
done

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
python3 "$repo/bench/e2e/load_patients.py" "$base" "$patients" bulk >"$out/patients.txt"
echo "load_before=$(bench_loadavg)" >"$out/load.txt"

hapi_cpu() { bench_cpu_s "$hapi_pid"; }

mode_args() {  # the sync options of a mode
  case $1 in
    pulls) echo "--changes last-updated" ;;
    ids) echo "--changes bulk-export --bulk-data ids" ;;
    records) echo "--changes bulk-export --bulk-data records" ;;
  esac
}

sync_once() {  # sync_once NAME MODE AS_OF [SERVER]
  local name=$1 mode=$2 as_of=$3 server=${4:-$base} rc=0 h0 h1 t0 t1
  h0=$(hapi_cpu)
  t0=$(date +%s.%N)
  # shellcheck disable=SC2046
  /usr/bin/time -v -o "$out/$name.time" "$adapter" sync --once --server "$server" \
    --state "$out/$name.db" --as-of "$as_of" --concurrency 4 --log-format json \
    $(mode_args "$mode") >"$out/$name.out" 2>"$out/$name.log" || rc=$?
  t1=$(date +%s.%N)
  h1=$(hapi_cpu)
  if ((rc != 0 && rc != 5)); then
    note "sync $name exited $rc:"
    tail -5 "$out/$name.log" >&2
    exit 1
  fi
  local rss written
  rss=$(bench_peak_rss_kib "$out/$name.time")
  written=$(grep -c '"event":"patient.done"' "$out/$name.log" || true)
  echo "$name $mode $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}') \
$(awk -v a="$h0" -v b="$h1" 'BEGIN{printf "%.1f", b - a}') $rss $written" >>"$out/results.txt"
}

note "first sync (creates the plans, not timed)"
sync_once first pulls 2026-11-19

day=20
for mode in pulls ids records; do
  note "timed sync: $mode"
  sync_once "timed-$mode" "$mode" "2026-11-$day"
  day=$((day + 1))
  note "request count: $mode, through the recording proxy (not timed)"
  rm -f "$out/proxy.port"
  python3 "$repo/bench/e2e/record_proxy.py" "$base" "$out/requests-$mode.jsonl" "$out/proxy.port" &
  proxy_pid=$!
  bench_wait_port_file "$out/proxy.port"
  sync_once "counted-$mode" "$mode" "2026-11-$day" "http://127.0.0.1:$(cat "$out/proxy.port")/fhir"
  kill "$proxy_pid"
  proxy_pid=
  day=$((day + 1))
done
echo "load_after=$(bench_loadavg)" >>"$out/load.txt"

echo "patients=$patients $(tr '\n' ' ' <"$out/load.txt")"
printf '%-8s %8s %8s %10s %12s %10s\n' mode wall_s requests hapi_cpu_s adapter_rss_kb patients
while read -r name mode wall cpu rss done; do
  [[ $name == timed-* ]] || continue
  requests=$(wc -l <"$out/requests-$mode.jsonl")
  printf '%-8s %8s %8s %10s %12s %10s\n' "$mode" "$wall" "$requests" "$cpu" "$rss" "$done"
done <"$out/results.txt"
