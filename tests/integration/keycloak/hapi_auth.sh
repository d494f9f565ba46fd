#!/usr/bin/env bash
# Starts or stops the authenticating HAPI server of the SMART tests: the
# project's launcher (scripts/hapi) in its own state dir and port, trusting
# tokens of the Keycloak realm that scripts/keycloak started.
#   hapi_auth.sh start|stop
# Environment: MST_KEYCLOAK_STATE_DIR (Keycloak's state), MST_HAPI_STATE_DIR
# (this server's state; its url file is what tests read).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
case ${1:-} in
  start)
    issuer=$(cat "${MST_KEYCLOAK_STATE_DIR:?}/url") ||
      { echo "hapi_auth: Keycloak is not running (no $MST_KEYCLOAK_STATE_DIR/url)" >&2; exit 1; }
    MST_HAPI_AUTH_ISSUER=$issuer exec "$repo/scripts/hapi" start ;;
  stop) exec "$repo/scripts/hapi" stop ;;
  *) echo "usage: hapi_auth.sh start|stop" >&2; exit 2 ;;
esac
