# The donthu CLI against the real intake and a fake deadline/report service
# (cli_fake.c); with every service built, also end to end (cli_e2e.sh).
if(NOT TARGET donthu OR NOT TARGET donthu-intake)
  return()
endif()
add_executable(cli_fake ${CMAKE_CURRENT_SOURCE_DIR}/cli_fake.c)
cm_target_warnings(cli_fake)
target_link_libraries(cli_fake PRIVATE cm_common)

add_test(NAME cli_test COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli_test.sh
  $<TARGET_FILE:donthu> $<TARGET_FILE:donthu-intake> $<TARGET_FILE:cli_fake>
  ${PROJECT_SOURCE_DIR}/data)
set_tests_properties(cli_test PROPERTIES LABELS integration TIMEOUT 300)

if(TARGET donthu-routing AND TARGET donthu-deadline AND TARGET donthu-report)
  add_test(NAME cli_e2e COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli_e2e.sh
    $<TARGET_FILE:donthu> $<TARGET_FILE:donthu-intake> $<TARGET_FILE:donthu-routing>
    $<TARGET_FILE:donthu-deadline> $<TARGET_FILE:donthu-report> ${PROJECT_SOURCE_DIR})
  set_tests_properties(cli_e2e PROPERTIES LABELS integration TIMEOUT 300)
endif()
