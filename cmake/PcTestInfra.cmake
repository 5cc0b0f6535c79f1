# The real infrastructure the integration and e2e tiers run against, as CTest fixtures:
# a single-node Kafka broker (KRaft) and a PostgreSQL 15 server, each started once per
# `ctest` run on loopback ports of its own and stopped at the end. A fixture that cannot
# start fails, and every test that needs it then fails too: nothing is skipped.
set(PC_TEST_KAFKA_PORT 29092 CACHE STRING "Kafka client port used by the test tiers")
set(PC_TEST_KAFKA_CONTROLLER_PORT 29093 CACHE STRING "Kafka controller port used by the test tiers")
set(PC_TEST_PG_PORT 25432 CACHE STRING "PostgreSQL port used by the test tiers")
math(EXPR _pc_sasl_default "${PC_TEST_KAFKA_PORT} + 2")
set(PC_TEST_KAFKA_SASL_PORT ${_pc_sasl_default} CACHE STRING
    "Kafka SASL_SSL (SCRAM) port used by the test tiers")
set(PC_TEST_INFRA_DIR ${CMAKE_BINARY_DIR}/test-infra)

set(PC_TEST_ENVIRONMENT
  "PC_TEST_KAFKA_BROKERS=127.0.0.1:${PC_TEST_KAFKA_PORT}"
  "PC_TEST_KAFKA_CERTS_DIR=${PC_TEST_INFRA_DIR}/kafka/certs"
  "PC_TEST_KAFKA_SASL_BROKERS=127.0.0.1:${PC_TEST_KAFKA_SASL_PORT}"
  "PC_PCCTL=${CMAKE_BINARY_DIR}/tools/pcctl/pcctl"
  "PC_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:${PC_TEST_PG_PORT}/postgres"
  "PC_TEST_INFRA_DIR=${PC_TEST_INFRA_DIR}"
  "PC_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
  "PC_BINARY_DIR=${CMAKE_BINARY_DIR}")

# pc_infra_fixture(NAME SCRIPT START_TIMEOUT ENV...): the CTest fixture NAME, made of the tests
# infra.NAME.start and infra.NAME.stop, which run `SCRIPT start` / `SCRIPT stop` with ENV.
function(pc_infra_fixture name script start_timeout)
  add_test(NAME infra.${name}.start COMMAND ${script} start)
  add_test(NAME infra.${name}.stop COMMAND ${script} stop)
  set_tests_properties(infra.${name}.start PROPERTIES FIXTURES_SETUP ${name} LABELS infra
                       ENVIRONMENT "${ARGN}" TIMEOUT ${start_timeout})
  set_tests_properties(infra.${name}.stop PROPERTIES FIXTURES_CLEANUP ${name} LABELS infra
                       ENVIRONMENT "${ARGN}" TIMEOUT 120)
endfunction()

pc_infra_fixture(kafka ${CMAKE_SOURCE_DIR}/deploy/local/kafka/kafka.sh 300
  "PC_KAFKA_DIR=${PC_TEST_INFRA_DIR}/kafka"
  "PC_KAFKA_PORT=${PC_TEST_KAFKA_PORT}"
  "PC_KAFKA_CONTROLLER_PORT=${PC_TEST_KAFKA_CONTROLLER_PORT}"
  "PC_KAFKA_SASL_PORT=${PC_TEST_KAFKA_SASL_PORT}"
  "PC_PCCTL=${CMAKE_BINARY_DIR}/tools/pcctl/pcctl")
pc_infra_fixture(postgres ${CMAKE_SOURCE_DIR}/deploy/local/postgres/pg.sh 120
  "PC_PG_DIR=${PC_TEST_INFRA_DIR}/postgres" "PC_PG_PORT=${PC_TEST_PG_PORT}")
