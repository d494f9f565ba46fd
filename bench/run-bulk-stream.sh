#!/usr/bin/env bash
# Peak RSS of reading a full Bulk Data export as the sync does (streamed
# NDJSON, records spilled to disk), served by bench/bulk_export_server.py:
# more patients (12,500 and 50,000, ~4.8 KB each), then the same 12,500
# patients with four times the text per resource (a file as large as the
# 50,000 patients'). The figure must not grow with the file; only the
# patient id sets the scan returns grow, with the patients.
# See docs/performance.md §6 ("Streamed NDJSON downloads").
#
#   bench/run-bulk-stream.sh [--build DIR] [--runs "12500:300 50000:300 12500:1500"]
#   (each run is patients:note_bytes)
#
# Needs the mst-bench-bulk-stream target built in DIR (default <repo>/build).
# Output: bench/data/bulk-stream/ (gitignored) and a table on stdout.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$repo/build
runs="12500:300 50000:300 12500:1500"
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "run-bulk-stream: unknown option $1" >&2; exit 2 ;;
  esac
done
program=$build/bench/mst-bench-bulk-stream
[[ -x $program ]] || { echo "run-bulk-stream: build $program first" >&2; exit 1; }
out=$repo/bench/data/bulk-stream
rm -rf "$out"
mkdir -p "$out"

server_pid=
cleanup() { [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT

printf '%-9s %-10s %-12s %-10s %s\n' patients export_MB peak_RSS_MB seconds result
for run in $runs; do
  n=${run%%:*}
  dir=$out/${run/:/-}
  mkdir -p "$dir"
  python3 "$repo/bench/bulk_export_server.py" --patients "$n" --note-bytes "${run#*:}" \
    --out-dir "$dir" --port-file "$dir/port" &
  server_pid=$!
  for _ in $(seq 600); do [[ -s $dir/port ]] && break; sleep 0.2; done
  read -r port bytes <"$dir/port"
  /usr/bin/time -v "$program" "http://127.0.0.1:$port/fhir" "$dir/records.export" \
    >"$dir/result.txt" 2>"$dir/time.txt"
  rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$dir/time.txt")
  secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$dir/result.txt")
  printf '%-9s %-10s %-12s %-10s %s\n' "$n" $((bytes / 1000000)) $((rss_kb / 1024)) "$secs" \
    "$(cut -d' ' -f1-2 "$dir/result.txt")"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  rm -f "$dir"/*.ndjson
done
