# A private PostgreSQL server for the tests of the shared sync state
# (tests/CMakeLists.txt include()s this file).
#
# * `postgres_server_start` (FIXTURES_SETUP postgres) runs `scripts/postgres
#   start` with its data directory and a free port under
#   <build dir>/postgres-state; `postgres_server_stop` (FIXTURES_CLEANUP)
#   stops it. `ctest -R <one test>` pulls both in.
# * A test reads the server's URL from "$MST_PG_STATE_DIR/url" at run time
#   (the port is chosen at start) and makes its own database on it.
# * mst_add_postgres_test(NAME n COMMAND cmd... [TIMEOUT s] [HAPI]) registers a
#   test labelled integration with MST_PG_STATE_DIR set; HAPI: it also needs
#   the hapi fixture.

set(MST_PG_STATE_DIR "${CMAKE_BINARY_DIR}/postgres-state")
find_package(Python3 COMPONENTS Interpreter)

function(mst_add_postgres_test)
  cmake_parse_arguments(ARG "HAPI" "NAME;TIMEOUT" "COMMAND" ${ARGN})
  if(NOT MST_INTEGRATION_TESTS)
    return()
  endif()
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_COMMAND})
  set(fixtures postgres)
  if(ARG_HAPI)
    list(APPEND fixtures hapi)
  endif()
  get_property(hapi_state GLOBAL PROPERTY MST_HAPI_STATE_DIR)
  set_tests_properties(${ARG_NAME} PROPERTIES
    FIXTURES_REQUIRED "${fixtures}"
    LABELS integration
    TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "MST_PG_STATE_DIR=${MST_PG_STATE_DIR};MST_HAPI_STATE_DIR=${hapi_state}")
endfunction()

if(MST_INTEGRATION_TESTS)
  add_test(NAME postgres_server_start COMMAND ${PROJECT_SOURCE_DIR}/scripts/postgres start)
  add_test(NAME postgres_server_stop COMMAND ${PROJECT_SOURCE_DIR}/scripts/postgres stop)
  set_tests_properties(postgres_server_start PROPERTIES
    FIXTURES_SETUP postgres LABELS integration TIMEOUT 120
    ENVIRONMENT "MST_PG_STATE_DIR=${MST_PG_STATE_DIR}")
  set_tests_properties(postgres_server_stop PROPERTIES
    FIXTURES_CLEANUP postgres LABELS integration TIMEOUT 120
    ENVIRONMENT "MST_PG_STATE_DIR=${MST_PG_STATE_DIR}")

  # The StateStore contract and the lease tests (state_store_contract_test.cc)
  # against the real server; in the unit run they are skipped, loudly.
  mst_add_postgres_test(NAME state_store_postgres TIMEOUT 300
    COMMAND sh -c "MST_PG_URL=$(cat \"$MST_PG_STATE_DIR/url\") exec \"$0\" --gtest_filter='StateStoreContract/Postgres.*:PostgresLeases.*:PostgresUrl.*'"
            $<TARGET_FILE:adapter_service_test>)

  # 3 sync workers on one PostgreSQL over HAPI through the fault proxy, one
  # SIGKILLed (docs/operations.md "State backends").
  if(Python3_Interpreter_FOUND)
    mst_add_postgres_test(NAME pg_workers_sync HAPI TIMEOUT 900
      COMMAND ${CMAKE_COMMAND} -E env MST_ADAPTER=$<TARGET_FILE:mst-adapter>
              MST_FAULT_PROXY=$<TARGET_FILE:mst-fault-proxy>
              ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/pg_workers_sync_test.py)
    set_tests_properties(pg_workers_sync PROPERTIES RUN_SERIAL TRUE)
  endif()
endif()
