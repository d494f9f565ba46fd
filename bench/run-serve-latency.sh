#!/usr/bin/env bash
# Latency of `mst-adapter serve` (CDS Hooks patient-view), issue #14 item 5:
#   1. full prefetch from the fixture patients at concurrency 1, 8 and 32,
#      unauthenticated (loopback) and with an ES384 JWT on every call;
#   2. without prefetch: serve reads each record from an own HAPI server,
#      side by side with HAPI's own time for exactly the same searches.
# Prints a markdown table for docs/performance.md. See docs/performance.md.
#
#   bench/run-serve-latency.sh [--no-hapi | --fhir-url URL]
#
# --no-hapi skips part 2; --fhir-url uses a running FHIR server on loopback
# (the fixtures are PUT into it) instead of starting and stopping an own HAPI.
#
# Environment: MST_SERVE_BENCH_REQUESTS (calls per run at c=8 and c=32,
# default 4000; c=1 makes a quarter), MST_SERVE_BENCH_ROUNDS (no-prefetch
# rounds over all patients, default 5), and as bench/lib.sh (MST_BENCH_ADAPTER,
# the build, the HAPI server's state dir and JVM options).
# Output: bench/data/serve/ (gitignored).
set -euo pipefail

bench_name=run-serve-latency
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
repo=$bench_repo
requests=${MST_SERVE_BENCH_REQUESTS:-4000}
rounds=${MST_SERVE_BENCH_ROUNDS:-5}
out=$repo/bench/data/serve
hapi=1
fhir=
as_of=2026-11-20  # the fixtures' day (tests/fixtures/*/expected.json)
service=mst-spine-careplan

while (($#)); do
  case $1 in
    --no-hapi) hapi=0; shift ;;
    --fhir-url) fhir=$2; shift 2 ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "run-serve-latency: unknown option $1" >&2; exit 2 ;;
  esac
done

rm -rf "$out"
mkdir -p "$out"
d=$repo/bench/serve

adapter=$(bench_adapter "$out")

serve_pid= proxy_pid= hapi_started=0
stop_serve() {
  [[ -n $serve_pid ]] || return 0
  kill -TERM "$serve_pid" 2>/dev/null || true
  wait "$serve_pid" 2>/dev/null || true
  serve_pid=
}
cleanup() {
  stop_serve
  [[ -n $proxy_pid ]] && kill "$proxy_pid" 2>/dev/null || true
  if ((hapi_started)); then bench_hapi_stop; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_serve() {  # start_serve NAME PORT [serve args...]
  local name=$1 port=$2
  shift 2
  base=http://127.0.0.1:$port
  "$adapter" serve --listen "127.0.0.1:$port" --as-of "$as_of" "$@" 2>"$out/serve-$name.log" &
  serve_pid=$!
  for _ in $(seq 100); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$serve_pid" 2>/dev/null || { tail -5 "$out/serve-$name.log" >&2; exit 1; }
    sleep 0.1
  done
  note "serve did not start"
  exit 1
}

# CPU seconds (user+sys) serve has used so far: its CPU per call is what the
# load of a shared machine does not change much, unlike the percentiles.
serve_cpu() { bench_cpu_s "$serve_pid"; }

drive() {  # drive LABEL CONCURRENCY REQUESTS CALLS [driver args...]
  local label=$1 c=$2 n=$3 calls=$4 c0 c1 line
  shift 4
  c0=$(serve_cpu)
  line=$(python3 "$d/load_driver.py" --url "$base/cds-services/$service" --calls "$calls" \
    --concurrency "$c" --requests "$n" --label "$label" "$@")
  c1=$(serve_cpu)
  echo "${line%\}},\"serve_cpu_s\":$(awk -v a="$c0" -v b="$c1" 'BEGIN{print b - a}')}" >>"$out/results.jsonl"
}

load_runs() {  # load_runs KIND CALLS [driver args...]: warm-up, then c = 1, 8, 32
  local kind=$1 calls=$2
  shift 2
  python3 "$d/load_driver.py" --url "$base/cds-services/$service" --calls "$calls" \
    --concurrency 8 --requests "$((requests / 4 > 8 ? requests / 4 : 8))" --label warm-up "$@" >/dev/null
  drive "$kind c=1" 1 "$((requests / 4 > 1 ? requests / 4 : 1))" "$calls" "$@"
  drive "$kind c=8" 8 "$requests" "$calls" "$@"
  drive "$kind c=32" 32 "$requests" "$calls" "$@"
}

echo "load_before=$(bench_loadavg)" >"$out/machine.txt"

note "1. full prefetch, unauthenticated (loopback)"
start_serve open "$(free_port)"
python3 "$d/serve_calls.py" prefetch "$base" "$out/calls-prefetch.json"
load_runs "prefetch" "$out/calls-prefetch.json"
stop_serve

note "1b. full prefetch, every call with its own ES384 JWT"
python3 "$d/load_driver.py" make-key "$out/ehr-key.pem" "$out/ehr-jwks.json"
iss=https://ehr.bench.example
port=$(free_port)
cat >"$out/auth.json" <<EOF
{"serve": {"public_url": "http://127.0.0.1:$port", "issuers": ["$iss $out/ehr-jwks.json"]}}
EOF
# The tokens' aud is public_url's service URL: serve listens on that port.
start_serve auth "$port" --config "$out/auth.json"
load_runs "prefetch+ES384" "$out/calls-prefetch.json" --es384-key "$out/ehr-key.pem" --iss "$iss" \
  --aud "$base/cds-services/$service"
stop_serve

if ((hapi)); then
  if [[ -z $fhir ]]; then
    note "2. without prefetch"
    hapi_started=1
    bench_hapi_start
    fhir=$hapi_base
  fi
  note "server at $fhir; loading the fixture patients"
  python3 "$d/nofetch.py" load "$fhir"
  start_serve fhir "$(free_port)"
  python3 "$repo/bench/e2e/record_proxy.py" "$fhir" "$out/proxy.jsonl" "$out/proxy.port" &
  proxy_pid=$!
  bench_wait_port_file "$out/proxy.port"
  touch "$out/proxy.jsonl"
  proxy_base=http://127.0.0.1:$(cat "$out/proxy.port")/${fhir#http://*/}
  python3 "$d/serve_calls.py" fhir-server "$base" "$proxy_base" "$out/calls-proxy.json"
  python3 "$d/serve_calls.py" fhir-server "$base" "$fhir" "$out/calls-fhir.json"
  note "recording the searches serve makes per patient (through the proxy, not timed)"
  python3 "$d/nofetch.py" record "$base/cds-services/$service" "$out/calls-proxy.json" \
    "$out/proxy.jsonl" "$out/searches.json"
  kill "$proxy_pid"
  proxy_pid=
  note "warm-up round, then $rounds rounds: serve vs the same searches sent to HAPI"
  python3 "$d/nofetch.py" measure "$base/cds-services/$service" "$out/calls-fhir.json" \
    "$out/searches.json" "$fhir" 1 >/dev/null
  python3 "$d/nofetch.py" measure "$base/cds-services/$service" "$out/calls-fhir.json" \
    "$out/searches.json" "$fhir" "$rounds" >"$out/nofetch.json"
  drive "fhirServer c=8" 8 "$((requests / 4 > 8 ? requests / 4 : 8))" "$out/calls-fhir.json"
fi

echo "load_after=$(bench_loadavg)" >>"$out/machine.txt"
{
  echo "cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), nproc=$(nproc)"
  echo "commit=$(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet || echo +dirty)"
  echo "adapter=$adapter ($(grep -s '^CMAKE_BUILD_TYPE' "$(dirname "$(dirname "$adapter")")/CMakeCache.txt" | cut -d= -f2 || echo unknown))"
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "requests=$requests rounds=$rounds"
} >>"$out/machine.txt"
python3 "$d/summarize_serve.py" "$out"
