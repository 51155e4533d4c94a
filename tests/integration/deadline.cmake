# The real donthu-intake and donthu-deadline binaries (and donthu-routing when
# it is built), driven over ipc:// on simulated clocks.
if(TARGET donthu-deadline AND TARGET donthu-intake)
  # svc.c is compiled in rather than linked as cm_svctest: fragments are
  # included in name order and this one comes before the one defining it.
  add_executable(deadline_test ${CMAKE_CURRENT_SOURCE_DIR}/deadline_test.c
    ${CMAKE_CURRENT_SOURCE_DIR}/svc.c)
  cm_target_warnings(deadline_test)
  target_include_directories(deadline_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(deadline_test PRIVATE cm_common cm_testsupport PkgConfig::CMOCKA)
  target_compile_definitions(deadline_test PRIVATE
    DONTHU_INTAKE_BIN="$<TARGET_FILE:donthu-intake>"
    DONTHU_DEADLINE_BIN="$<TARGET_FILE:donthu-deadline>"
    DONTHU_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
  add_dependencies(deadline_test donthu-intake donthu-deadline)
  if(TARGET donthu-routing)
    target_compile_definitions(deadline_test PRIVATE
      DONTHU_ROUTING_BIN="$<TARGET_FILE:donthu-routing>")
    add_dependencies(deadline_test donthu-routing)
  endif()
  add_test(NAME deadline_test COMMAND deadline_test)
  set_tests_properties(deadline_test PROPERTIES LABELS integration TIMEOUT 600)
endif()
