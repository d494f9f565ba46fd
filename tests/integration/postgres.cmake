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
#   the hapi_pg fixture, a HAPI server of its own (below).
# * `hapi_pg_server_start`/`_stop` (FIXTURES hapi_pg) run a HAPI server for
#   the workers' test alone, state under <build dir>/hapi-pg-state: a sync
#   on the _lastUpdated feed processes every patient changed on its server,
#   so on the shared one it would have to run alone (RUN_SERIAL) and would
#   add its 500 patients to the shared heap. On its own server it runs
#   beside the other tests. The launcher's JVM options with a 1.5 GiB
#   heap for 500 patients and their plans (full C2 JIT was tried: loading
#   cost the same HAPI CPU per patient, and startup more), and pages of 200
#   by default (the change feed asks for 200 itself; the test's own plan
#   searches page at the server's default).

set(MST_PG_STATE_DIR "${CMAKE_BINARY_DIR}/postgres-state")
set(MST_PG_HAPI_STATE_DIR "${CMAKE_BINARY_DIR}/hapi-pg-state")
find_package(Python3 COMPONENTS Interpreter)

function(mst_add_postgres_test)
  cmake_parse_arguments(ARG "HAPI" "NAME;TIMEOUT" "COMMAND" ${ARGN})
  if(NOT MST_INTEGRATION_TESTS)
    return()
  endif()
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_COMMAND})
  set(fixtures postgres)
  if(ARG_HAPI)
    list(APPEND fixtures hapi_pg)
  endif()
  set_tests_properties(${ARG_NAME} PROPERTIES
    FIXTURES_REQUIRED "${fixtures}"
    LABELS integration
    TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "MST_PG_STATE_DIR=${MST_PG_STATE_DIR};MST_HAPI_STATE_DIR=${MST_PG_HAPI_STATE_DIR}")
endfunction()

if(MST_INTEGRATION_TESTS)
  mst_add_server_fixture(FIXTURE postgres PREFIX postgres SCRIPT ${PROJECT_SOURCE_DIR}/scripts/postgres
    START_TIMEOUT 120
    START_ENV "MST_PG_STATE_DIR=${MST_PG_STATE_DIR}" STOP_ENV "MST_PG_STATE_DIR=${MST_PG_STATE_DIR}")
  mst_add_server_fixture(FIXTURE hapi_pg PREFIX hapi_pg SCRIPT ${PROJECT_SOURCE_DIR}/scripts/hapi
    START_ENV "MST_HAPI_STATE_DIR=${MST_PG_HAPI_STATE_DIR}" HAPI_FHIR_DEFAULT_PAGE_SIZE=200
              "MST_HAPI_JAVA_OPTS=-Xms256m -Xmx1536m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError"
    STOP_ENV "MST_HAPI_STATE_DIR=${MST_PG_HAPI_STATE_DIR}")

  # The StateStore contract and the lease tests (state_store_contract_test.cc)
  # against the real server; in the unit run they are skipped, loudly.
  mst_add_postgres_test(NAME state_store_postgres TIMEOUT 300
    COMMAND sh -c "MST_PG_URL=$(cat \"$MST_PG_STATE_DIR/url\") exec \"$0\" --gtest_filter='StateStoreContract/Postgres.*:PostgresLeases.*:PostgresUrl.*'"
            $<TARGET_FILE:adapter_service_test>)

  # 3 sync workers on one PostgreSQL over HAPI (its own, hapi_pg: no
  # RUN_SERIAL) through the fault proxy, one SIGKILLed (docs/operations.md
  # "State backends").
  if(Python3_Interpreter_FOUND)
    mst_add_postgres_test(NAME pg_workers_sync HAPI TIMEOUT 1500
      COMMAND ${CMAKE_COMMAND} -E env MST_ADAPTER=$<TARGET_FILE:mst-adapter>
              MST_FAULT_PROXY=$<TARGET_FILE:mst-fault-proxy>
              ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/pg_workers_sync_test.py)
  endif()
endif()
