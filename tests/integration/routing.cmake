# The real donthu-intake and donthu-routing binaries, driven over ipc://.
if(TARGET donthu-routing AND TARGET donthu-intake)
  add_executable(routing_test ${CMAKE_CURRENT_SOURCE_DIR}/routing_test.c)
  cm_target_warnings(routing_test)
  target_link_libraries(routing_test PRIVATE cm_svctest PkgConfig::CMOCKA)
  target_compile_definitions(routing_test PRIVATE
    DONTHU_INTAKE_BIN="$<TARGET_FILE:donthu-intake>"
    DONTHU_ROUTING_BIN="$<TARGET_FILE:donthu-routing>"
    DONTHU_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
  add_dependencies(routing_test donthu-intake donthu-routing)
  add_test(NAME routing_test COMMAND routing_test)
  set_tests_properties(routing_test PROPERTIES LABELS integration TIMEOUT 600)
endif()
