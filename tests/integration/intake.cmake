add_library(cm_svctest STATIC ${CMAKE_CURRENT_SOURCE_DIR}/svc.c)
cm_target_warnings(cm_svctest)
target_include_directories(cm_svctest PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(cm_svctest PUBLIC cm_common cm_testsupport)

add_executable(intake_test ${CMAKE_CURRENT_SOURCE_DIR}/intake_test.c)
cm_target_warnings(intake_test)
target_link_libraries(intake_test PRIVATE cm_svctest PkgConfig::CMOCKA)
target_compile_definitions(intake_test PRIVATE
  DONTHU_INTAKE_BIN="$<TARGET_FILE:donthu-intake>"
  DONTHU_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
add_dependencies(intake_test donthu-intake)
add_test(NAME intake_test COMMAND intake_test)
set_tests_properties(intake_test PROPERTIES LABELS integration TIMEOUT 600)

add_executable(intake_disk_test ${CMAKE_CURRENT_SOURCE_DIR}/intake_disk_test.c)
cm_target_warnings(intake_disk_test)
target_link_libraries(intake_disk_test PRIVATE cm_svctest)
target_compile_definitions(intake_disk_test PRIVATE
  DONTHU_INTAKE_BIN="$<TARGET_FILE:donthu-intake>"
  DONTHU_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
add_dependencies(intake_disk_test donthu-intake)
add_test(NAME intake_disk_test COMMAND intake_disk_test)
set_tests_properties(intake_disk_test PROPERTIES LABELS integration TIMEOUT 300 SKIP_RETURN_CODE 77)

add_executable(intake_curve_test ${CMAKE_CURRENT_SOURCE_DIR}/intake_curve_test.c)
cm_target_warnings(intake_curve_test)
target_link_libraries(intake_curve_test PRIVATE cm_svctest)
target_compile_definitions(intake_curve_test PRIVATE
  DONTHU_INTAKE_BIN="$<TARGET_FILE:donthu-intake>"
  DONTHU_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
add_dependencies(intake_curve_test donthu-intake)
add_test(NAME intake_curve_test COMMAND intake_curve_test)
set_tests_properties(intake_curve_test PROPERTIES LABELS integration TIMEOUT 120)
