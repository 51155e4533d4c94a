# Operations: the plain-process runner, the Python examples against the real
# services, and the docker-compose lint (no docker daemon needed).
find_program(CM_SYS_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT CM_SYS_PYTHON3)
  return()
endif()

add_test(NAME compose_lint
  COMMAND ${CM_SYS_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/compose_lint.py)
set_tests_properties(compose_lint PROPERTIES LABELS integration TIMEOUT 120
  SKIP_RETURN_CODE 77)

set(_ex_args $<TARGET_FILE:donthu-intake>)
set(_ex_deps donthu-intake)
if(TARGET donthu-routing AND TARGET donthu-deadline)
  list(APPEND _ex_args $<TARGET_FILE:donthu-routing> $<TARGET_FILE:donthu-deadline>)
endif()
add_test(NAME examples_test
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/examples_test.sh ${_ex_args})
set_tests_properties(examples_test PROPERTIES LABELS integration TIMEOUT 300
  SKIP_RETURN_CODE 77)

# donthuctl finds binaries under <build>/services/<svc>/.
add_test(NAME donthuctl_test
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/donthuctl_test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(donthuctl_test PROPERTIES LABELS integration TIMEOUT 300
  SKIP_RETURN_CODE 77)

# Keys read by services/*/main.c == keys documented in docs/OPERATIONS.md §4,
# and deploy/*.conf and donthuctl's files set only keys the services read.
add_test(NAME config_keys_test
  COMMAND ${CM_SYS_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/config_keys_test.py)
set_tests_properties(config_keys_test PROPERTIES LABELS integration TIMEOUT 120)
