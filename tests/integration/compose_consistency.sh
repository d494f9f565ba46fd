#!/usr/bin/env bash
# Checks that the two ways of running HAPI give the same server:
#   - docker-compose.yml (+ config/hapi/application.yaml), for users with Docker
#   - tests/hapi-server (pom.xml + application.properties), run by scripts/hapi
# Fails if the image's HAPI version differs from the launcher's hapi.version, or
# if a behaviour switch the tests rely on differs. Also checks the `serve`
# service (issue #14) against the adapter: same image, the port it listens on
# published, its mounted configuration readable with issuers and their JWKS,
# and, given the mst-adapter binary as $1, every flag the compose commands use
# known to that command's --help. Needs no server, no Docker; bash, sed, awk
# and grep only (and the binary, when given).
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

# ---- the serve service --------------------------------------------------------
adapter_bin=${1:-}
# The lines of one service's block (indent 4 and deeper under "  <name>:").
service_block() {
  awk -v name="$1" '
    $0 ~ "^  " name ":[[:space:]]*$" { inside = 1; next }
    inside && /^  [^[:space:]#]/ { exit }
    inside && /^[^[:space:]#]/ { exit }
    inside { print }' "$compose"
}
# The words of a block's one-line flow-sequence command: ["a", "b"].
command_words() {
  grep -E '^[[:space:]]+command:[[:space:]]*\[' <<<"$1" | head -n1 | sed -e 's/^[^[]*\[//' -e 's/\][[:space:]]*$//' |
    tr ',' '\n' | unquote
}
image_of() { grep -E '^[[:space:]]+image:' <<<"$1" | head -n1 | cut -d: -f2- | unquote; }

serve_block=$(service_block serve)
adapter_block=$(service_block adapter)
if [[ -z $serve_block ]]; then
  not_ok "docker-compose.yml has no serve service"
else
  if [[ $(image_of "$serve_block") == "$(image_of "$adapter_block")" && -n $(image_of "$serve_block") ]]; then
    ok "serve runs the adapter's image ($(image_of "$serve_block"))"
  else
    not_ok "serve image '$(image_of "$serve_block")' is not the adapter's '$(image_of "$adapter_block")'"
  fi
  mapfile -t words < <(command_words "$serve_block")
  arg() { local i; for ((i = 0; i < ${#words[@]} - 1; i++)); do [[ ${words[i]} == "$1" ]] && echo "${words[i + 1]}"; done; }
  listen=$(arg --listen)
  port=${listen##*:}
  if [[ ${words[0]:-} == serve && $listen == 0.0.0.0:* && $port =~ ^[0-9]+$ ]]; then
    ok "serve command: serve --listen $listen"
  else
    not_ok "serve command must be 'serve --listen 0.0.0.0:<port> ...', is '${words[*]:-}'"
  fi
  if grep -qE "^[[:space:]]+- \"?([0-9.]+:)?[0-9]+:${port}\"?[[:space:]]*$" <<<"$serve_block"; then
    ok "serve's port $port is published"
  else
    not_ok "serve listens on $port but no ports: entry publishes it"
  fi
  if grep -qE '^[[:space:]]+hapi:' <<<"$serve_block"; then
    ok "serve depends on hapi"
  else
    not_ok "serve does not depend on hapi"
  fi
  # --config's file, through the volume that mounts its directory.
  config=$(arg --config)
  host_of() { # container path -> host path, by the block's ./dir:/path[:ro] volumes
    local line src dst
    while read -r line; do
      src=$(sed -n 's|^[[:space:]]*-[[:space:]]*"\{0,1\}\(\./[^:]*\):\([^:"]*\).*|\1|p' <<<"$line")
      dst=$(sed -n 's|^[[:space:]]*-[[:space:]]*"\{0,1\}\(\./[^:]*\):\([^:"]*\).*|\2|p' <<<"$line")
      [[ -n $src && ( $1 == "$dst" || $1 == "$dst"/* ) ]] && { echo "$repo/${src#./}${1#"$dst"}"; return; }
    done <<<"$serve_block"
  }
  host_config=$(host_of "$config")
  if [[ -z $config || -z $host_config || ! -f $host_config ]]; then
    not_ok "serve's --config '$config' is not a file of a mounted ./ directory"
  else
    ok "serve's --config $config is ${host_config#"$repo"/}"
    # serve.issuers is required off loopback: "<iss> <jwks>" strings.
    issuers=$(tr -d '\n' <"$host_config" | sed -n 's/.*"issuers"[[:space:]]*:[[:space:]]*\[\([^]]*\)\].*/\1/p')
    if grep -q '"public_url"' "$host_config" && [[ -n $issuers ]]; then
      ok "serve.public_url and serve.issuers are set"
    else
      not_ok "${host_config#"$repo"/} needs serve.public_url and serve.issuers (non-loopback --listen)"
    fi
    while read -r jwks; do
      [[ -z $jwks || $jwks == https://* ]] && continue
      host_jwks=$(host_of "$jwks")
      if [[ -n $host_jwks && -f $host_jwks ]] && grep -q '"keys"' "$host_jwks" && grep -q '"kid"' "$host_jwks"; then
        ok "issuer JWKS $jwks is ${host_jwks#"$repo"/}"
      else
        not_ok "issuer JWKS '$jwks' is not a JWKS file of a mounted directory"
      fi
    done < <(grep -o '"[^"]*"' <<<"$issuers" | unquote | awk '{ print $2 }')
  fi
fi

# ---- the compose commands against the CLI -------------------------------------
if [[ -n $adapter_bin ]]; then
  for svc in adapter serve; do
    mapfile -t words < <(command_words "$(service_block "$svc")")
    [[ ${#words[@]} -gt 0 ]] || continue
    help=$("$adapter_bin" "${words[0]}" --help 2>&1)
    for w in "${words[@]:1}"; do
      [[ $w == --* ]] || continue
      if grep -qE -- "^[[:space:]]+${w}( |$)" <<<"$help"; then
        ok "$svc: mst-adapter ${words[0]} takes $w"
      else
        not_ok "$svc: mst-adapter ${words[0]} --help does not list $w"
      fi
    done
  done
fi

echo "$passed passed, $failed failed"
((failed == 0))
