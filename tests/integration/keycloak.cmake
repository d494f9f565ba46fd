# SMART Backend Services against a real authorization server (tests/CMakeLists.txt
# include()s this file after hapi.cmake; needs Python3 and the mst-adapter target).
#
# Fixtures, each started once per ctest run:
# * keycloak: Keycloak 26 in dev mode with the realm of keycloak/mst-realm.json
#   (scripts/keycloak; state, keys and the issuer URL in <build>/keycloak-state).
# * hapi_auth: a second HAPI server of our launcher, on its own port and state
#   dir (<build>/hapi-auth-state), that wants Keycloak's tokens and enforces
#   SMART scopes. The open server of the other tests (fixture hapi) is untouched.
# -DMST_INTEGRATION_TESTS=OFF registers none of them.

if(NOT MST_INTEGRATION_TESTS OR NOT Python3_Interpreter_FOUND)
  return()
endif()

set(_mst_kc_state "${CMAKE_BINARY_DIR}/keycloak-state")
set(_mst_hapi_auth_state "${CMAKE_BINARY_DIR}/hapi-auth-state")
set(_mst_kc_script "${PROJECT_SOURCE_DIR}/scripts/keycloak")
set(_mst_hapi_auth "${CMAKE_CURRENT_LIST_DIR}/keycloak/hapi_auth.sh")

# First run: Maven downloads the distribution (~140 MB) and Keycloak builds itself.
mst_add_server_fixture(FIXTURE keycloak PREFIX keycloak SCRIPT ${_mst_kc_script}
  START_ENV "MST_KEYCLOAK_STATE_DIR=${_mst_kc_state}" STOP_ENV "MST_KEYCLOAK_STATE_DIR=${_mst_kc_state}")
mst_add_server_fixture(FIXTURE hapi_auth PREFIX hapi_auth SCRIPT ${_mst_hapi_auth} REQUIRES keycloak
  START_ENV "MST_KEYCLOAK_STATE_DIR=${_mst_kc_state}" "MST_HAPI_STATE_DIR=${_mst_hapi_auth_state}"
  STOP_ENV "MST_HAPI_STATE_DIR=${_mst_hapi_auth_state}")

# check, run and sync with RS384 and ES384 client assertions; missing scopes; token renewal.
add_test(NAME smart_keycloak
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/smart_keycloak_test.py)
set_tests_properties(smart_keycloak PROPERTIES
  FIXTURES_REQUIRED "keycloak;hapi_auth" LABELS integration TIMEOUT 1200
  ENVIRONMENT "MST_ADAPTER=$<TARGET_FILE:mst-adapter>;MST_KEYCLOAK_STATE_DIR=${_mst_kc_state};MST_HAPI_STATE_DIR=${_mst_hapi_auth_state}")
