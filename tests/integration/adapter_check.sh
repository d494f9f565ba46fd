#!/usr/bin/env bash
# `mst-adapter check` must accept the local HAPI server: it is FHIR 4.0.x and
# declares every interaction the adapter uses. Usage: adapter_check.sh ADAPTER
set -euo pipefail
adapter=$1
base=$(cat "${MST_HAPI_STATE_DIR:?}/url")
out=$("$adapter" check --server "$base")
echo "$out"
grep -q "^fhir:     4.0" <<<"$out"
grep -q "result: the server supports everything the adapter needs" <<<"$out"
# The package's requirements statement (docs/conformance.md) asks no more of
# HAPI than the adapter's own list.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$("$adapter" check --server "$base" --requirements "$repo/conformance/capability/mst-adapter-requirements.json")
grep -q "result: the server supports everything the adapter needs" <<<"$out"
