# The report service against the real intake service: exactly-once consuming
# across SIGKILL and restart (report_test).
if(TARGET donthu-report AND TARGET donthu-intake)
  add_executable(report_test ${CMAKE_CURRENT_SOURCE_DIR}/report_test.c)
  cm_target_warnings(report_test)
  target_link_libraries(report_test PRIVATE cm_svctest PkgConfig::CMOCKA)
  target_compile_definitions(report_test PRIVATE
    DONTHU_INTAKE_BIN="$<TARGET_FILE:donthu-intake>"
    DONTHU_REPORT_BIN="$<TARGET_FILE:donthu-report>"
    DONTHU_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
  add_dependencies(report_test donthu-intake donthu-report)
  add_test(NAME report_test COMMAND report_test)
  set_tests_properties(report_test PROPERTIES LABELS integration TIMEOUT 600)
endif()
