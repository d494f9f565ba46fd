#!/usr/bin/env bash
# The layer check can fail: a tree with one forbidden include per rule must be
# rejected, each offending file named; the same tree without them passes.
# Usage: check_layers_test.sh <path to scripts/check-layers>
set -euo pipefail
checker=$1
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT

put() {  # put <file> <include path>
  mkdir -p "$tree/$(dirname "$1")"
  printf '#include "%s"\n' "$2" >>"$tree/$1"
}
put fhir/client/include/mst/fhir/client.h mst/fhir/json.h
put fhir/model/include/mst/fhir/json.h mst/fhir/errors.h
put adapter/src/goals/ok.cc mst/adapter/goals/goal_plan.h
put adapter/src/careplan/ok.cc mst/adapter/goals/assessment.h
put adapter/src/sync/ok.cc mst/adapter/pipeline/search_terms.h
put adapter/src/cli/ok.cc mst/adapter/sync/sync_engine.h

if ! "$checker" "$tree" >/dev/null 2>&1; then
  echo "FAIL: a tree without forbidden includes was rejected" >&2
  "$checker" "$tree" || true
  exit 1
fi

bad=(
  "fhir/model/src/bad.cc mst/fhir/client.h"
  "fhir/client/src/bad.cc mst/mappings/extract.h"
  "mappings/src/bad.cc mst/fhir/client.h"
  "adapter/src/goals/bad.cc mst/adapter/pipeline/pipeline.h"
  "adapter/include/mst/adapter/careplan/bad.h mst/adapter/config.h"
  "adapter/src/careplan/bad2.cc mst/fhir/client.h"
  "adapter/src/pipeline/bad.cc mst/adapter/cli/app.h"
  "adapter/src/careplan/bad3.cc ../goals/assessment.h"
  "tests/unit/bad_test.cc ../fhir/client_test_support.h"
)
for b in "${bad[@]}"; do put ${b% *} ${b#* }; done

status=0
out=$("$checker" "$tree" 2>&1) || status=$?
if ((status == 0)); then
  echo "FAIL: forbidden includes were accepted" >&2
  exit 1
fi
for b in "${bad[@]}"; do
  file=${b% *}
  if ! grep -q "^$file:1: " <<<"$out"; then
    echo "FAIL: $file (includes \"${b#* }\") was not reported" >&2
    echo "$out" >&2
    exit 1
  fi
done
echo "check_layers_test: each forbidden include reported"
