# mst_add_server_fixture(FIXTURE f PREFIX p SCRIPT s [START_ARGS a...]
#                        [START_TIMEOUT s] [REQUIRES fixtures...]
#                        [START_ENV V=x...] [STOP_ENV V=x...])
# registers `p_server_start` (`s start a...`, FIXTURES_SETUP f) and
# `p_server_stop` (`s stop`, FIXTURES_CLEANUP f), labelled integration: a
# server a ctest run starts once for the tests that require f. The start
# waits START_TIMEOUT (default 900) seconds, the stop 120.
function(mst_add_server_fixture)
  cmake_parse_arguments(ARG "" "FIXTURE;PREFIX;SCRIPT;START_TIMEOUT"
                        "START_ARGS;REQUIRES;START_ENV;STOP_ENV" ${ARGN})
  if(NOT ARG_START_TIMEOUT)
    set(ARG_START_TIMEOUT 900)
  endif()
  add_test(NAME ${ARG_PREFIX}_server_start COMMAND ${ARG_SCRIPT} start ${ARG_START_ARGS})
  set_tests_properties(${ARG_PREFIX}_server_start PROPERTIES
    FIXTURES_SETUP ${ARG_FIXTURE} LABELS integration TIMEOUT ${ARG_START_TIMEOUT}
    ENVIRONMENT "${ARG_START_ENV}")
  if(ARG_REQUIRES)
    set_tests_properties(${ARG_PREFIX}_server_start PROPERTIES FIXTURES_REQUIRED "${ARG_REQUIRES}")
  endif()
  add_test(NAME ${ARG_PREFIX}_server_stop COMMAND ${ARG_SCRIPT} stop)
  set_tests_properties(${ARG_PREFIX}_server_stop PROPERTIES
    FIXTURES_CLEANUP ${ARG_FIXTURE} LABELS integration TIMEOUT 120
    ENVIRONMENT "${ARG_STOP_ENV}")
endfunction()
