# Routing, deadline and report on a full disk and on a broken store
# (consumer_disk_test). It mounts tmpfs file systems, so it needs root and
# exits 77 (skipped) without it.
if(TARGET donthu-intake AND TARGET donthu-routing AND TARGET donthu-deadline AND TARGET donthu-report)
  add_executable(consumer_disk_test ${CMAKE_CURRENT_SOURCE_DIR}/consumer_disk_test.c)
  cm_target_warnings(consumer_disk_test)
  target_link_libraries(consumer_disk_test PRIVATE cm_svctest)
  target_compile_definitions(consumer_disk_test PRIVATE
    DONTHU_INTAKE_BIN="$<TARGET_FILE:donthu-intake>"
    DONTHU_ROUTING_BIN="$<TARGET_FILE:donthu-routing>"
    DONTHU_DEADLINE_BIN="$<TARGET_FILE:donthu-deadline>"
    DONTHU_REPORT_BIN="$<TARGET_FILE:donthu-report>"
    DONTHU_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
  add_dependencies(consumer_disk_test donthu-intake donthu-routing donthu-deadline donthu-report)
  add_test(NAME consumer_disk_test COMMAND consumer_disk_test)
  set_tests_properties(consumer_disk_test PROPERTIES LABELS integration TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
