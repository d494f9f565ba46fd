#!/usr/bin/env bash
# Checks that the two ways of running HAPI give the same server:
#   - docker-compose.yml (+ config/hapi/application.yaml), for users with Docker
#   - tests/hapi-server (pom.xml + application.properties), run by scripts/hapi
# Fails if the image's HAPI version differs from the launcher's hapi.version, or
# if a behaviour switch the tests rely on differs. Needs no server, no Docker;
# bash, sed, awk and grep only.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pom=$repo/tests/hapi-server/pom.xml
props=$repo/tests/hapi-server/src/main/resources/application.properties
java_src=$repo/tests/hapi-server/src/main/java
compose=$repo/docker-compose.yml
yaml=$repo/config/hapi/application.yaml

# The behaviour switches (launcher property names). All but the last are also
# set as environment variables in docker-compose.yml.
switches=(
  hapi.fhir.client_id_strategy
  hapi.fhir.reuse_cached_search_results_millis
  hapi.fhir.enforce_referential_integrity_on_write
  hapi.fhir.allow_external_references
  hapi.fhir.validation.requests_enabled
  hapi.fhir.bulk_export_enabled
  spring.jpa.properties.hibernate.search.enabled
)
file_only=spring.jpa.properties.hibernate.search.enabled

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }

for f in "$pom" "$props" "$compose" "$yaml"; do
  [[ -f $f ]] || { echo "not ok - missing $f"; echo "0 passed, 1 failed"; exit 1; }
done

unquote() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'$/\1/"; }

# key=value of a .properties file (no continuation lines used there).
prop() { grep -E "^[[:space:]]*${1//./\\.}[[:space:]]*=" "$props" | tail -n1 | cut -d= -f2- | unquote; }

# Flattens block-style YAML maps to dotted.key=value lines (enough for our file:
# nested maps, scalars, comments; list items are skipped).
flatten_yaml() {
  awk '
    /^[[:space:]]*(#|$)/ { next }
    /^[[:space:]]*- / { next }
    {
      match($0, /^ */); indent = RLENGTH
      line = substr($0, indent + 1)
      colon = index(line, ":"); if (colon == 0) next
      key = substr(line, 1, colon - 1); val = substr(line, colon + 1)
      sub(/[[:space:]]+#.*$/, "", val); gsub(/^[[:space:]]+|[[:space:]]+$/, "", val)
      while (depth > 0 && indents[depth] >= indent) depth--
      path = ""; for (i = 1; i <= depth; i++) path = path keys[i] "."
      if (val == "") { depth++; keys[depth] = key; indents[depth] = indent }
      else print path key "=" val
    }' "$1"
}
yaml_flat=$(flatten_yaml "$yaml")
yaml_get() { grep -F "$1=" <<<"$yaml_flat" | grep -E "^${1//./\\.}=" | tail -n1 | cut -d= -f2- | unquote; }

# VALUE of "  NAME: VALUE" anywhere in docker-compose.yml (env names are unique there).
compose_env() { grep -E "^[[:space:]]+$1:" "$compose" | head -n1 | cut -d: -f2- | sed 's/[[:space:]]#.*$//' | unquote; }

# ---- HAPI version -------------------------------------------------------------
pom_version=$(sed -n 's:.*<hapi\.version>\(.*\)</hapi\.version>.*:\1:p' "$pom" | head -n1)
image=$(sed -n 's/^[[:space:]]*image:[[:space:]]*\(hapiproject\/hapi:[^[:space:]#]*\).*/\1/p' "$compose" | head -n1 | unquote)
tag=${image#hapiproject/hapi:}
# Image tags are v<HAPI version>-<image build>[-tomcat], e.g. v8.8.0-1-tomcat.
image_version=$(sed -n 's/^v\([0-9][0-9.]*\)-[0-9][0-9]*\(-tomcat\)\{0,1\}$/\1/p' <<<"$tag")
if [[ -z $pom_version ]]; then
  not_ok "no <hapi.version> in $pom"
elif [[ -z $image ]]; then
  not_ok "no hapiproject/hapi image in docker-compose.yml"
elif [[ -z $image_version ]]; then
  not_ok "image tag '$tag' is not of the form v<version>-<build>[-tomcat]"
elif [[ $image_version != "$pom_version" ]]; then
  not_ok "HAPI version: docker-compose.yml runs $image_version ($image), launcher pom has $pom_version"
else
  ok "HAPI version $pom_version in both ($image)"
fi
if [[ $tag == *-tomcat ]]; then
  ok "image is the -tomcat variant (its healthcheck needs curl)"
else
  not_ok "image '$image' is not a -tomcat variant: the curl healthcheck will not run in it"
fi

# ---- behaviour switches -------------------------------------------------------
for key in "${switches[@]}"; do
  want=$(prop "$key")
  if [[ -z $want ]]; then
    not_ok "$key is not set in the launcher's application.properties"
    continue
  fi
  if [[ $key == hapi.fhir.* ]] && ! grep -rqF "\"$key\"" "$java_src"; then
    not_ok "$key is in application.properties but the launcher's Java code never reads it"
  fi
  in_yaml=$(yaml_get "$key")
  if [[ $in_yaml == "$want" ]]; then
    ok "$key=$want in config/hapi/application.yaml"
  else
    not_ok "$key: launcher has '$want', config/hapi/application.yaml has '${in_yaml:-<unset>}'"
  fi
  [[ $key == "$file_only" ]] && continue
  env_name=$(tr 'a-z.' 'A-Z_' <<<"$key")
  in_env=$(compose_env "$env_name")
  if [[ $in_env == "$want" ]]; then
    ok "$env_name=$want in docker-compose.yml"
  else
    not_ok "$env_name: launcher has '$want', docker-compose.yml has '${in_env:-<unset>}'"
  fi
done

# ---- the settings file is actually used by the container ----------------------
mount_target=$(sed -n 's|^[[:space:]]*-[[:space:]]*"\{0,1\}\./config/hapi/application\.yaml:\([^:"]*\).*|\1|p' "$compose" | head -n1)
location=$(compose_env SPRING_CONFIG_ADDITIONAL_LOCATION)
if [[ -n $mount_target && $location == "file:$mount_target" ]]; then
  ok "config/hapi/application.yaml is mounted at $mount_target and loaded"
else
  not_ok "config/hapi/application.yaml must be mounted and named by SPRING_CONFIG_ADDITIONAL_LOCATION (mount '$mount_target', location '$location')"
fi

echo "$passed passed, $failed failed"
((failed == 0))
