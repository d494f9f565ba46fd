# Integration tests against a real HAPI FHIR R4 server (tests/CMakeLists.txt
# include()s this file).
#
# Contract for integration tests
# ------------------------------
# * Register a test with
#       mst_add_integration_test(NAME <name> COMMAND <cmd> [args...]
#                                [WORKING_DIRECTORY <dir>] [TIMEOUT <s>]
#                                [ENVIRONMENT <VAR=value>...] [RUN_SERIAL])
#   RUN_SERIAL: for a test that processes every patient on the server (a
#   first sync), which would race the other tests' own plans.
#   It gets FIXTURES_REQUIRED hapi, LABELS integration, and the environment
#   variable MST_HAPI_STATE_DIR (<build dir>/hapi-state).
# * The fixture test `hapi_server_start` (FIXTURES_SETUP hapi) runs
#   `scripts/hapi start` before the first such test; `hapi_server_stop`
#   (FIXTURES_CLEANUP hapi) runs `scripts/hapi stop` after the last one.
#   `ctest -R <one test>` and `ctest -L integration` pull both in automatically.
# * A test finds the server's FHIR base URL, e.g. http://127.0.0.1:41234/fhir
#   (no trailing slash), as the single line in the file
#   "$MST_HAPI_STATE_DIR/url". Read it at run time, never at configure time:
#   the port is chosen when the server starts.
# * The server is shared by all integration tests of one ctest run and keeps
#   its data for the whole run (in-memory H2, reset when it stops). Tests run
#   in parallel (ctest -j): use unique ids/identifiers per test and per run,
#   and never assume an empty server or exact global counts.
# * HAPI behaviour to expect (409 on If-Match conflict, ids need a letter,
#   percent-encode '|' in query strings, ...): docs/hapi-server.md.
# * -DMST_INTEGRATION_TESTS=OFF registers none of them (no Java needed).
#
# Also here: `compose_consistency` (LABELS unit, no server) checks that
# docker-compose.yml runs the same HAPI version and behaviour settings as the
# launcher in tests/hapi-server.

option(MST_INTEGRATION_TESTS "Register the integration tests that run against a local HAPI FHIR server" ON)

get_filename_component(_mst_repo_root "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
set_property(GLOBAL PROPERTY MST_HAPI_SCRIPT "${_mst_repo_root}/scripts/hapi")
set_property(GLOBAL PROPERTY MST_HAPI_STATE_DIR "${CMAKE_BINARY_DIR}/hapi-state")

# mst_add_integration_test(NAME name COMMAND cmd args... [WORKING_DIRECTORY d] [TIMEOUT s] [ENVIRONMENT V=x...] [RUN_SERIAL])
function(mst_add_integration_test)
  cmake_parse_arguments(ARG "RUN_SERIAL" "NAME;WORKING_DIRECTORY;TIMEOUT" "COMMAND;ENVIRONMENT" ${ARGN})
  if(NOT ARG_NAME OR NOT ARG_COMMAND)
    message(FATAL_ERROR "mst_add_integration_test: NAME and COMMAND are required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "mst_add_integration_test(${ARG_NAME}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT MST_INTEGRATION_TESTS)
    return()
  endif()
  get_property(state_dir GLOBAL PROPERTY MST_HAPI_STATE_DIR)
  if(ARG_WORKING_DIRECTORY)
    add_test(NAME ${ARG_NAME} COMMAND ${ARG_COMMAND} WORKING_DIRECTORY ${ARG_WORKING_DIRECTORY})
  else()
    add_test(NAME ${ARG_NAME} COMMAND ${ARG_COMMAND})
  endif()
  set(env "MST_HAPI_STATE_DIR=${state_dir}" ${ARG_ENVIRONMENT})
  set_tests_properties(${ARG_NAME} PROPERTIES
    FIXTURES_REQUIRED hapi
    LABELS integration
    ENVIRONMENT "${env}")
  if(ARG_TIMEOUT)
    set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT ${ARG_TIMEOUT})
  endif()
  if(ARG_RUN_SERIAL)
    set_tests_properties(${ARG_NAME} PROPERTIES RUN_SERIAL TRUE)
  endif()
endfunction()

if(MST_INTEGRATION_TESTS)
  get_property(_mst_hapi_script GLOBAL PROPERTY MST_HAPI_SCRIPT)
  get_property(_mst_hapi_state GLOBAL PROPERTY MST_HAPI_STATE_DIR)

  # Setup builds the launcher if needed (first time: Maven downloads HAPI into
  # ~/.m2) and waits up to MST_HAPI_TIMEOUT (300 s) for /fhir/metadata.
  # --conformance loads the package (docs/conformance.md) before any test
  # validates: once HAPI has found a code system unknown it keeps saying so
  # for a while after the CodeSystem is loaded (tried on 8.8.0).
  mst_add_server_fixture(FIXTURE hapi PREFIX hapi SCRIPT ${_mst_hapi_script} START_ARGS --conformance
    START_ENV "MST_HAPI_STATE_DIR=${_mst_hapi_state}" STOP_ENV "MST_HAPI_STATE_DIR=${_mst_hapi_state}")

  # The harness proves itself: transaction, read/ETag, conditional create,
  # _include, If-Match conflict, $validate, with bash + curl only.
  mst_add_integration_test(NAME hapi_smoke COMMAND ${CMAKE_CURRENT_LIST_DIR}/hapi_smoke.sh TIMEOUT 300)
endif()

# docker-compose.yml and the launcher agree on HAPI version and behaviour (no server needed).
add_test(NAME compose_consistency COMMAND ${CMAKE_CURRENT_LIST_DIR}/compose_consistency.sh $<TARGET_FILE:mst-adapter>)
set_tests_properties(compose_consistency PROPERTIES LABELS unit)
