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
add_test(NAME keycloak_server_start COMMAND ${_mst_kc_script} start)
set_tests_properties(keycloak_server_start PROPERTIES
  FIXTURES_SETUP keycloak LABELS integration TIMEOUT 900
  ENVIRONMENT "MST_KEYCLOAK_STATE_DIR=${_mst_kc_state}")
add_test(NAME keycloak_server_stop COMMAND ${_mst_kc_script} stop)
set_tests_properties(keycloak_server_stop PROPERTIES
  FIXTURES_CLEANUP keycloak LABELS integration TIMEOUT 120
  ENVIRONMENT "MST_KEYCLOAK_STATE_DIR=${_mst_kc_state}")

add_test(NAME hapi_auth_server_start COMMAND ${_mst_hapi_auth} start)
set_tests_properties(hapi_auth_server_start PROPERTIES
  FIXTURES_SETUP hapi_auth FIXTURES_REQUIRED keycloak LABELS integration TIMEOUT 900
  ENVIRONMENT "MST_KEYCLOAK_STATE_DIR=${_mst_kc_state};MST_HAPI_STATE_DIR=${_mst_hapi_auth_state}")
add_test(NAME hapi_auth_server_stop COMMAND ${_mst_hapi_auth} stop)
set_tests_properties(hapi_auth_server_stop PROPERTIES
  FIXTURES_CLEANUP hapi_auth LABELS integration TIMEOUT 120
  ENVIRONMENT "MST_HAPI_STATE_DIR=${_mst_hapi_auth_state}")

# check, run and sync with RS384 and ES384 client assertions; missing scopes; token renewal.
add_test(NAME smart_keycloak
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/smart_keycloak_test.py)
set_tests_properties(smart_keycloak PROPERTIES
  FIXTURES_REQUIRED "keycloak;hapi_auth" LABELS integration TIMEOUT 1200
  ENVIRONMENT "MST_ADAPTER=$<TARGET_FILE:mst-adapter>;MST_KEYCLOAK_STATE_DIR=${_mst_kc_state};MST_HAPI_STATE_DIR=${_mst_hapi_auth_state}")
