# The donthu CLI against the real services: intake alone, then all four for
# watch, case and report (cli_test.sh); and end to end (cli_e2e.sh).
if(NOT TARGET donthu OR NOT TARGET donthu-intake OR NOT TARGET donthu-routing
   OR NOT TARGET donthu-deadline OR NOT TARGET donthu-report)
  return()
endif()

add_test(NAME cli_test COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli_test.sh
  $<TARGET_FILE:donthu> $<TARGET_FILE:donthu-intake> $<TARGET_FILE:donthu-routing>
  $<TARGET_FILE:donthu-deadline> $<TARGET_FILE:donthu-report> ${PROJECT_SOURCE_DIR})
set_tests_properties(cli_test PROPERTIES LABELS integration TIMEOUT 300 SKIP_RETURN_CODE 77)

add_test(NAME cli_e2e COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli_e2e.sh
  $<TARGET_FILE:donthu> $<TARGET_FILE:donthu-intake> $<TARGET_FILE:donthu-routing>
  $<TARGET_FILE:donthu-deadline> $<TARGET_FILE:donthu-report> ${PROJECT_SOURCE_DIR})
set_tests_properties(cli_e2e PROPERTIES LABELS integration TIMEOUT 300)
